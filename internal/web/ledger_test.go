package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// firstResident finds a registered resident of the village (the staff's
// community) and their room through the search page.
func firstResident(t *testing.T, e *apptest.Env, staff *http.Client) (personID, roomID string) {
	t.Helper()
	_, body, _ := apptest.Do(t, staff, "GET", e.Server.URL+"/ledger/persons?residency=registered", nil, nil)
	m := regexp.MustCompile(`href="/ledger/persons/([0-9a-z]{26})"`).FindStringSubmatch(body)
	r := regexp.MustCompile(`href="/ledger/rooms/([0-9a-z]{26})"`).FindStringSubmatch(body)
	if m == nil || r == nil {
		t.Fatalf("no resident in the search page:\n%s", snippet(body))
	}
	return m[1], r[1]
}

func TestLedgerPagesAreScoped(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	clients := map[access.Role]*http.Client{access.Staff: e.Login(t, access.Staff)}
	personID, roomID := firstResident(t, e, clients[access.Staff])
	room, _, _ := e.App.Store.Place(context.Background(), roomID)
	for _, sc := range []scenario{
		{name: "ledger overview", role: access.Staff, path: "/ledger", status: 200, want: []string{"丰乐西村", "摸排覆盖率"}, notWant: []string{"和园小区"}},
		{name: "building table", role: access.Staff, path: "/ledger/buildings/" + room.ParentID, status: 200, want: []string{`id="building-table"`, "/ledger/rooms/" + roomID}},
		{name: "room", role: access.Staff, path: "/ledger/rooms/" + roomID, status: 200, want: []string{"/ledger/persons/" + personID, "**********"}},
		{name: "person masked", role: access.Staff, path: "/ledger/persons/" + personID, status: 200, want: []string{"**********", `id="reveal"`}},
		{name: "compound property staff cannot see the village", role: access.Property, path: "/ledger/persons/" + personID, status: 403},
		{name: "owners' committee has no ledger", role: access.Owners, path: "/ledger", status: 403},
		{name: "official sees both communities", role: access.Official, path: "/ledger", status: 200, want: []string{"丰乐西村", "和园小区"}},
		{name: "official may not reveal", role: access.Official, method: "POST", path: "/ledger/persons/" + personID + "/reveal", form: url.Values{"field": {"id_number"}, "reason": {"看看"}}, status: 403},
		{name: "reveal needs a reason", role: access.Staff, method: "POST", path: "/ledger/persons/" + personID + "/reveal", form: url.Values{"field": {"id_number"}}, status: 400, want: []string{"请填写查看原因"}},
		{name: "search by pinyin initials", role: access.Staff, path: "/ledger/persons?q=zh", status: 200, want: []string{"/ledger/persons/"}},
		{name: "contracts", role: access.Staff, path: "/ledger/contracts", status: 200, want: []string{"7 天内到期的合同", "出租屋未登记住户"}},
		{name: "duplicates", role: access.Staff, path: "/ledger/duplicates", status: 200},
		{name: "grid worker may not import", role: access.Grid, path: "/ledger/import", status: 403},
	} {
		sc.run(t, e, nil, clients)
	}
	// A reveal shows a valid ID number and is audited with its reason.
	_, body, _ := apptest.Do(t, clients[access.Staff], "POST", e.Server.URL+"/ledger/persons/"+personID+"/reveal",
		url.Values{"field": {"id_number"}, "reason": {"核对户籍"}}, nil)
	m := regexp.MustCompile(`<mark>([0-9X]{18})</mark>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no revealed number:\n%s", snippet(body))
	}
	if _, err := pii.ParseID(pii.DocResidentID, m[1], time.Now()); err != nil {
		t.Fatalf("revealed %s is not a valid ID: %v", m[1], err)
	}
	entries, _ := e.App.Store.AuditEntries(context.Background(), store.AuditFilter{Action: "pii.reveal", Outcome: "ok"})
	if len(entries) != 1 || entries[0].TargetID != personID || !strings.Contains(entries[0].Detail, "核对户籍") {
		t.Fatalf("reveal not audited: %+v", entries)
	}
}

// readXLSX returns every cell text of the first sheet.
func readXLSX(t *testing.T, b []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not an xlsx: %v", err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestExportIsMaskedUnlessAllowedAndAudited(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	_, roomID := firstResident(t, e, staff)
	room, _, _ := e.App.Store.Place(context.Background(), roomID)
	status, body, hdr := apptest.Do(t, staff, "GET", e.Server.URL+"/ledger/export?place="+room.ParentID, nil, nil)
	if status != 200 || !strings.Contains(hdr.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("export: %d %s", status, hdr.Get("Content-Type"))
	}
	rows := readXLSX(t, []byte(body))
	all := fmt.Sprint(rows)
	if !strings.Contains(all, "**********") || !strings.Contains(all, "导出人") || !strings.Contains(all, "已脱敏") {
		t.Fatalf("masked export lacks masks or the exporter line: %v", rows)
	}
	if regexp.MustCompile(`\d{17}[\dX]`).MatchString(all) {
		t.Fatal("masked export holds a full ID number")
	}
	// Officials may export masked lists, not full ones.
	if status, _, _ := apptest.Do(t, e.Login(t, access.Official), "GET", e.Server.URL+"/ledger/export?plain=1&place="+room.ParentID, nil, nil); status != 403 {
		t.Fatalf("official plain export: %d", status)
	}
	status, body, _ = apptest.Do(t, staff, "GET", e.Server.URL+"/ledger/export?plain=1&place="+room.ParentID, nil, nil)
	if status != 200 || !regexp.MustCompile(`\d{17}[\dX]`).MatchString(fmt.Sprint(readXLSX(t, []byte(body)))) {
		t.Fatalf("plain export: %d", status)
	}
	entries, _ := e.App.Store.AuditEntries(context.Background(), store.AuditFilter{Action: "export.people"})
	if len(entries) != 2 || !strings.Contains(entries[0].Detail, `"unmasked":true`) || !strings.Contains(entries[1].Detail, `"unmasked":false`) {
		t.Fatalf("exports not audited: %+v", entries)
	}
}

// idFor makes a valid resident ID for tests.
func idFor(seq int) string {
	first := fmt.Sprintf("610402199%d%02d%02d%03d", seq%10, 1+seq%12, 1+seq%28, 100+seq%800)
	return first + string(pii.IDCheckChar(first))
}

func TestImportPreviewFixCommit(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			e := apptest.Start(t, engine)
			staff := e.Login(t, access.Staff)
			status, tmpl, _ := apptest.Do(t, staff, "GET", e.Server.URL+"/ledger/import/template.xlsx", nil, nil)
			if status != 200 {
				t.Fatalf("template: %d", status)
			}
			f, err := excelize.OpenReader(bytes.NewReader([]byte(tmpl)))
			if err != nil {
				t.Fatal(err)
			}
			sheet := f.GetSheetName(0)
			header, _ := f.GetRows(sheet)
			col := map[string]int{}
			for i, h := range header[0] {
				col[strings.TrimSuffix(strings.TrimSpace(h), "*")] = i
			}
			set := func(row int, name, v string) {
				i, ok := col[name]
				if !ok {
					t.Fatalf("template has no column %s: %v", name, header[0])
				}
				cell, _ := excelize.CoordinatesToCellName(i+1, row)
				f.SetCellStr(sheet, cell, v)
			}
			for i := 0; i < 20; i++ {
				row := i + 2
				id := idFor(i)
				if i == 5 {
					id = id[:17] + "0" // wrong check digit
					if id == idFor(5) {
						id = id[:17] + "1"
					}
				}
				set(row, "姓名", fmt.Sprintf("导入%02d", i))
				set(row, "证件号码", id)
				set(row, "人员类别", "流动")
				set(row, "楼栋或门牌", "新建9号楼")
				set(row, "单元", "1单元")
				set(row, "房号", fmt.Sprintf("%d01", 1+i/2))
				rel := "户主"
				if i%2 == 1 {
					rel = "非亲属"
				}
				set(row, "与户主关系", rel)
				if i == 7 {
					set(row, "手机号码", "12345")
				}
			}
			var buf bytes.Buffer
			f.Write(&buf)
			// A village community id for the form.
			comm, _ := e.App.Store.OrgNodeByCode(context.Background(), "610402011002")
			status, body := uploadForm(t, staff, e.Server.URL+"/ledger/import", map[string]string{"community": comm.ID}, "file", "filled.xlsx", buf.Bytes())
			if status != 303 && status != 200 {
				t.Fatalf("upload: %d\n%s", status, snippet(body))
			}
			loc := body
			_, body, _ = apptest.Do(t, staff, "GET", e.Server.URL+loc, nil, nil)
			for _, want := range []string{`id="problem-count">2<`, "<td>7</td>", "<td>9</td>", "校验位", "电话号码不正确", `id="valid-rows">18<`} {
				if !strings.Contains(body, want) {
					t.Errorf("preview lacks %q\n%s", want, snippet(body))
				}
			}
			// All-or-nothing is refused while problems remain; nothing written.
			status, body, _ = apptest.Do(t, staff, "POST", e.Server.URL+loc+"/commit", url.Values{"mode": {"all"}}, nil)
			if status != 400 || !strings.Contains(body, "还有 2 处问题") {
				t.Fatalf("commit all with problems: %d", status)
			}
			if n := countPersons(t, e, "导入"); n != 0 {
				t.Fatalf("%d rows written by a refused import", n)
			}
			// The error report lists both problems.
			_, rep, _ := apptest.Do(t, staff, "GET", e.Server.URL+loc+"/errors.xlsx", nil, nil)
			if r := readXLSX(t, []byte(rep)); len(r) < 3 {
				t.Fatalf("error report: %v", r)
			}
			// Valid rows only: 18 people in 10 rooms.
			if status, _, _ := apptest.Do(t, staff, "POST", e.Server.URL+loc+"/commit", url.Values{"mode": {"valid"}}, nil); status != 303 {
				t.Fatalf("commit valid: %d", status)
			}
			deadline := time.Now().Add(30 * time.Second)
			for {
				_, js, _ := apptest.Do(t, staff, "GET", e.Server.URL+loc+"/status", nil, nil)
				var st struct{ Status string }
				json.Unmarshal([]byte(js), &st)
				if st.Status == "done" {
					break
				}
				if st.Status == "failed" || time.Now().After(deadline) {
					t.Fatalf("import status %s", js)
				}
				time.Sleep(50 * time.Millisecond)
			}
			_, body, _ = apptest.Do(t, staff, "GET", e.Server.URL+loc, nil, nil)
			if !strings.Contains(body, "导入完成：18 人，10 户") {
				t.Fatalf("result:\n%s", snippet(body))
			}
			if n := countPersons(t, e, "导入"); n != 18 {
				t.Fatalf("%d imported people, want 18", n)
			}
			// Found by ID, in the new building's table.
			_, body, _ = apptest.Do(t, staff, "GET", e.Server.URL+"/ledger/persons?q="+idFor(3), nil, nil)
			if !strings.Contains(body, "新建9号楼1单元201室") {
				t.Fatalf("imported person not found by ID:\n%s", snippet(body))
			}
			// Importing the same file again: every row is already in the ledger.
			status, body = uploadForm(t, staff, e.Server.URL+"/ledger/import", map[string]string{"community": comm.ID}, "file", "filled.xlsx", buf.Bytes())
			_, body, _ = apptest.Do(t, staff, "GET", e.Server.URL+body, nil, nil)
			if !strings.Contains(body, "此人已在台账中") {
				t.Fatalf("re-import not flagged as duplicates:\n%s", snippet(body))
			}
		})
	}
}

func countPersons(t *testing.T, e *apptest.Env, prefix string) int {
	var n int
	store.RawForTest(e.App.Store).QueryRow(`SELECT count(*) FROM persons WHERE name LIKE $1`, prefix+"%").Scan(&n)
	return n
}

// uploadForm posts a multipart form and returns the status and, for a
// redirect, the Location (else the body).
func uploadForm(t *testing.T, c *http.Client, u string, fields map[string]string, field, name string, content []byte) (int, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile(field, name)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest("POST", u, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, loc
	}
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func TestAddBuildingAndOwner(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	ctx := context.Background()
	comm, _ := e.App.Store.OrgNodeByCode(ctx, "610402011002")
	sites, _ := e.App.Store.PlaceSites(ctx, comm.ID)
	form := url.Values{"name": {"新建楼A"}, "units": {"2"}, "floors": {"3"}, "rooms": {"2"}}
	status, _, hdr := apptest.Do(t, staff, "POST", e.Server.URL+"/ledger/sites/"+sites[0].ID+"/buildings", form, nil)
	if status != 303 {
		t.Fatalf("add building: %d", status)
	}
	_, body, _ := apptest.Do(t, staff, "GET", e.Server.URL+hdr.Get("Location"), nil, nil)
	if n := strings.Count(body, `class="room st-pending"`); n != 12 {
		t.Fatalf("new building has %d unsurveyed rooms, want 12", n)
	}
	if status, _, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/ledger/sites/"+sites[0].ID+"/buildings", form, nil); status != 409 {
		t.Fatalf("same name twice: %d", status)
	}
	form.Set("name", "新建楼B")
	form.Set("floors", "0")
	if status, body, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/ledger/sites/"+sites[0].ID+"/buildings", form, nil); status != 400 || !strings.Contains(body, "层数应为") {
		t.Fatalf("zero floors: %d", status)
	}
	if status, _, _ := apptest.Do(t, e.Login(t, access.Property), "POST", e.Server.URL+"/ledger/sites/"+sites[0].ID+"/buildings",
		url.Values{"name": {"X"}, "units": {"1"}, "floors": {"1"}, "rooms": {"1"}}, nil); status != 403 {
		t.Fatalf("property staff added a building to the village: %d", status)
	}
	// Register an owner for one of the new rooms.
	_, body, _ = apptest.Do(t, staff, "GET", e.Server.URL+hdr.Get("Location"), nil, nil)
	room := regexp.MustCompile(`href="/ledger/rooms/([0-9a-z]{26})"`).FindStringSubmatch(body)
	status, _, _ = apptest.Do(t, staff, "POST", e.Server.URL+"/ledger/rooms/"+room[1]+"/owners",
		url.Values{"name": {"业主甲"}, "id_number": {idFor(77)}}, nil)
	if status != 303 {
		t.Fatalf("add owner: %d", status)
	}
	_, body, _ = apptest.Do(t, staff, "GET", e.Server.URL+"/ledger/rooms/"+room[1], nil, nil)
	if !strings.Contains(body, "业*甲") {
		t.Fatalf("owner not shown:\n%s", snippet(body))
	}
}
