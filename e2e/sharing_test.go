package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestStreetSeesBothCommunities: the street official's overview shows
// both demo communities side by side; staff read the agreements and the
// data standard; the printed partner token reads masked residents.
func TestStreetSeesBothCommunities(t *testing.T) {
	d := startDemo(t)

	req, _ := http.NewRequest("GET", d.URL+"/api/v1/persons?limit=2", nil)
	req.Header.Set("Authorization", "Bearer "+d.PartnerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Records []map[string]any `json:"records"`
	}
	json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(page.Records) != 2 || !strings.Contains(page.Records[0]["id_number"].(string), "*") {
		t.Fatalf("the demo partner %s: %d %v", d.Partner, resp.StatusCode, page.Records)
	}

	ctx := newBrowser(t)
	open(t, ctx, d.URL+"/login")
	fillLogin(t, ctx, d.Logins["official"])
	do(t, ctx, "log in", chromedp.Click(chromedp.CSS("form#login button[type=submit]")))
	waitFor(t, ctx, `location.pathname === "/"`, "the home page")
	if st := open(t, ctx, d.URL+"/overview"); st != http.StatusOK {
		errorPage(t, ctx, "/overview: status %d", st)
	}
	txt := bodyText(t, ctx)
	for _, want := range []string{"和园社区", "丰乐社区", "合计"} {
		if !strings.Contains(txt, want) {
			errorPage(t, ctx, "the overview lacks %q", want)
		}
	}
	shot(t, ctx, "01-overview")

	admin := newBrowser(t)
	open(t, admin, d.URL+"/login")
	fillLogin(t, admin, d.Logins["admin"])
	do(t, admin, "log in", chromedp.Click(chromedp.CSS("form#login button[type=submit]")))
	waitFor(t, admin, `location.pathname === "/"`, "the home page")
	open(t, admin, d.URL+"/sharing")
	do(t, admin, "open the agreement", chromedp.Click(chromedp.CSS(`#agreements a[href^="/sharing/"]`)))
	waitFor(t, admin, `!!document.querySelector("#access-log")`, "the agreement")
	if !strings.Contains(bodyText(t, admin), "疫情防控数据共享协议") {
		errorPage(t, admin, "the demo agreement is not shown")
	}
	shot(t, admin, "02-agreement")
	open(t, admin, d.URL+"/standard")
	if !strings.Contains(bodyText(t, admin), "GB/T 2261.1-2003") {
		errorPage(t, admin, "the data standard lacks its code tables")
	}
	shot(t, admin, "03-standard")
	for i, page := range []struct{ path, want string }{{"/exchange", "模板"}, {"/webhooks", "qindu-health"}} {
		if st := open(t, admin, d.URL+page.path); st != http.StatusOK {
			errorPage(t, admin, "%s: status %d", page.path, st)
		}
		if !strings.Contains(bodyText(t, admin)+pageHTML(t, admin), page.want) {
			errorPage(t, admin, "%s lacks %q", page.path, page.want)
		}
		shot(t, admin, []string{"04-exchange", "05-webhooks"}[i])
	}
}
