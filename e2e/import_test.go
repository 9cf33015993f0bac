package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"shequ/internal/ledgerio"
	"shequ/internal/pii"
)

// testID makes the i-th valid identity number of the import file.
func testID(i int) string {
	first := fmt.Sprintf("610402%04d%02d%02d%03d", 1960+i%50, 1+i%12, 1+i%28, 100+i/28%800)
	return first + string(pii.IDCheckChar(first))
}

// filledForm writes the collection form with n people; the rows listed in
// bad get a wrong check digit.
func filledForm(t *testing.T, dir string, n int, bad map[int]bool) string {
	t.Helper()
	f := excelize.NewFile()
	sh := f.GetSheetName(0)
	col := map[string]int{}
	for i, c := range ledgerio.Columns {
		col[c.Key] = i + 1
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		f.SetCellStr(sh, cell, c.Header)
	}
	set := func(row int, key, v string) {
		cell, _ := excelize.CoordinatesToCellName(col[key], row)
		f.SetCellStr(sh, cell, v)
	}
	for i := 0; i < n; i++ {
		row := i + 2
		id := testID(i)
		if bad[i] {
			c := id[17]
			wrong := byte('0')
			if c == '0' {
				wrong = '1'
			}
			id = id[:17] + string(wrong)
		}
		set(row, "name", fmt.Sprintf("采集%04d", i))
		set(row, "id_number", id)
		set(row, "residency", []string{"户籍", "常住", "流动"}[i%3])
		set(row, "building", fmt.Sprintf("采集%d号楼", 1+i/200))
		set(row, "unit", fmt.Sprintf("%d单元", 1+(i/100)%2))
		set(row, "room", fmt.Sprintf("%d%02d", 1+(i/4)%25, 1+i%4/2))
		set(row, "relation", []string{"户主", "配偶"}[i%2])
		set(row, "phone", fmt.Sprintf("139%08d", 5000+i))
	}
	path := filepath.Join(dir, fmt.Sprintf("form-%d.xlsx", len(bad)))
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestImportFixFindRevealExport is the ledger's whole path in a browser:
// import a filled form of 1,000 rows, see the problems, fix them, commit,
// find a person by ID number, see them in the building table, reveal their
// ID (audited), and export the building masked.
func TestImportFixFindRevealExport(t *testing.T) {
	d := startDemo(t)
	ctx := newBrowser(t)
	login(t, ctx, d, "staff")
	dir := t.TempDir()
	bad := map[int]bool{10: true, 500: true, 998: true}

	open(t, ctx, d.URL+"/ledger/import")
	do(t, ctx, "upload a form with 3 bad rows",
		chromedp.SetUploadFiles(chromedp.CSS(`#upload input[type=file]`), []string{filledForm(t, dir, 1000, bad)}),
		chromedp.Click(chromedp.CSS(`#upload button[type=submit]`)))
	waitFor(t, ctx, `!!document.querySelector("#problem-count")`, "the import preview")
	if n := mustFind(t, ctx, "#problem-count").Text; strings.TrimSpace(n) != "3" {
		errorPage(t, ctx, "preview shows %s problems, want 3", n)
	}
	body := bodyText(t, ctx)
	for _, row := range []string{"12", "502", "1000"} { // spreadsheet rows of items 10, 500, 998
		if !regexp.MustCompile(`(?m)^` + row + `\s`).MatchString(body) {
			errorPage(t, ctx, "the problem list should name row %s", row)
		}
	}
	if query(t, ctx, "#commit-all").Found {
		errorPage(t, ctx, "a file with problems must not offer the all-or-nothing import")
	}
	shot(t, ctx, "01-preview-problems")

	// Fix the three rows and upload again: now it all goes in.
	open(t, ctx, d.URL+"/ledger/import")
	do(t, ctx, "upload the fixed form",
		chromedp.SetUploadFiles(chromedp.CSS(`#upload input[type=file]`), []string{filledForm(t, dir, 1000, nil)}),
		chromedp.Click(chromedp.CSS(`#upload button[type=submit]`)))
	waitFor(t, ctx, `!!document.querySelector("#commit-all")`, "the preview of the fixed file")
	do(t, ctx, "commit", chromedp.Click(chromedp.CSS("#commit-all")))
	waitFor(t, ctx, `!!document.querySelector("#import-result")`, "the import result")
	if r := mustFind(t, ctx, "#import-result").Text; !strings.Contains(r, "1000 人") {
		errorPage(t, ctx, "result %q, want 1000 people", r)
	}
	shot(t, ctx, "02-imported")

	// Find a person by ID number.
	target := testID(321)
	open(t, ctx, d.URL+"/ledger/persons")
	do(t, ctx, "search by ID", chromedp.SendKeys(chromedp.CSS(`#person-search input[name=q]`), target),
		chromedp.Click(chromedp.CSS(`#person-search button[type=submit]`)))
	waitFor(t, ctx, `document.querySelectorAll("table.people tbody a[href^='/ledger/persons/']").length === 1`, "exactly one search hit")
	shot(t, ctx, "03-found")
	do(t, ctx, "open the address", chromedp.Click(chromedp.CSS(`table.people tbody a[href^='/ledger/rooms/']`)))
	waitFor(t, ctx, `location.pathname.startsWith("/ledger/rooms/")`, "the room page")
	do(t, ctx, "open the building table", chromedp.Click(chromedp.CSS(`.crumbs a[href^='/ledger/buildings/']`)))
	waitFor(t, ctx, `!!document.querySelector("#building-table")`, "the building table")
	buildingURL := location(t, ctx)
	shot(t, ctx, "04-building-table")

	// Reveal the ID number of that person.
	open(t, ctx, d.URL+"/ledger/persons?q="+target)
	do(t, ctx, "open the person", chromedp.Click(chromedp.CSS(`table.people tbody a[href^='/ledger/persons/']`)))
	waitFor(t, ctx, `!!document.querySelector("#reveal")`, "the person page")
	do(t, ctx, "reveal", chromedp.SendKeys(chromedp.CSS("#reveal input[name=reason]"), "入户核查"),
		chromedp.Click(chromedp.CSS("#reveal button[type=submit]")))
	waitFor(t, ctx, `!!document.querySelector("#id-number mark")`, "the revealed number")
	if got := strings.TrimSpace(mustFind(t, ctx, "#id-number").Text); got != target {
		errorPage(t, ctx, "revealed %q, want %q", got, target)
	}
	open(t, ctx, d.URL+"/audit?action=pii.reveal")
	if !strings.Contains(bodyText(t, ctx), "入户核查") {
		errorPage(t, ctx, "the reveal is not in the audit log")
	}

	// Export the building, masked, with the browser's session.
	open(t, ctx, d.URL+buildingURL)
	href, err := eval[string](ctx, `document.querySelector("#export-building").href`)
	if err != nil {
		t.Fatal(err)
	}
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", href, nil)
	for _, c := range res.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("export is not an xlsx (status %d): %v", resp.StatusCode, err)
	}
	rows, _ := x.GetRows(x.GetSheetName(0))
	all := fmt.Sprint(rows)
	if len(rows) < 100 || !strings.Contains(all, "**********") || regexp.MustCompile(`\d{17}[\dX]`).MatchString(all) {
		t.Fatalf("masked export: %d rows, full IDs present: %v", len(rows), regexp.MustCompile(`\d{17}[\dX]`).MatchString(all))
	}
	os.WriteFile(filepath.Join(dir, "export.xlsx"), b, 0o600)
}
