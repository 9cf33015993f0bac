package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/demo"
	"shequ/internal/store"
)

func TestStaffManagesAccountsInTheirCommunity(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ids := ids(t, e)
	staff := e.Login(t, access.Staff)
	form := url.Values{"username": {"zhao.li"}, "display_name": {"赵丽"}, "kind": {"staff"}, "password": {"a-long-password"},
		"role": {"grid"}, "node": {ids["villageGrid2"]}}
	status, body, hdr := apptest.Do(t, staff, "POST", e.Server.URL+"/users", form, nil)
	if status != 303 {
		t.Fatalf("create: %d\n%s", status, snippet(body))
	}
	userURL := e.Server.URL + hdr.Get("Location")
	// The new grid worker logs in and sees their grid.
	c := e.Client()
	status, _, _ = apptest.Do(t, c, "POST", e.Server.URL+"/login", url.Values{"username": {"zhao.li"}, "password": {"a-long-password"}}, nil)
	if status != 303 {
		t.Fatalf("new account login: %d", status)
	}
	_, body, _ = apptest.Do(t, c, "GET", e.Server.URL+"/", nil, nil)
	if !strings.Contains(body, "第二网格") {
		t.Fatalf("new grid worker's home lacks their grid:\n%s", snippet(body))
	}
	// Staff may not make accounts outside their community, nor officials.
	form.Set("username", "outside")
	form.Set("node", ids["compound"])
	if status, _, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/users", form, nil); status != 403 {
		t.Fatalf("out-of-scope account: %d", status)
	}
	form.Set("node", ids["village"])
	form.Set("role", "official")
	if status, _, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/users", form, nil); status != 403 {
		t.Fatalf("staff made an official: %d", status)
	}
	// Bad input is reported on the form, nothing is made.
	form.Set("role", "grid")
	form.Set("username", "x y")
	status, body, _ = apptest.Do(t, staff, "POST", e.Server.URL+"/users", form, nil)
	if status != 400 || !strings.Contains(body, "用户名只能包含") {
		t.Fatalf("bad username: %d", status)
	}
	// Disable: the account can no longer log in.
	apptest.Do(t, staff, "POST", userURL+"/disable", url.Values{}, nil)
	status, body, _ = apptest.Do(t, e.Client(), "POST", e.Server.URL+"/login", url.Values{"username": {"zhao.li"}, "password": {"a-long-password"}}, nil)
	if status != 200 || !strings.Contains(body, "用户名或密码错误") {
		t.Fatalf("disabled account logged in: %d", status)
	}
	// The old session of the disabled account is gone too.
	if status, _, _ := apptest.Do(t, c, "GET", e.Server.URL+"/", nil, nil); status != 303 {
		t.Fatalf("disabled account's session still works: %d", status)
	}
	// The other community's property account is invisible to this staff.
	var propID string
	for _, l := range e.Demo.Logins {
		if l.Role == access.Property {
			u, _ := e.App.Store.UserByUsername(context.Background(), l.Username)
			propID = u.ID
		}
	}
	if status, _, _ := apptest.Do(t, staff, "GET", e.Server.URL+"/users/"+propID, nil, nil); status != 403 {
		t.Fatalf("staff opened an account of another community: %d", status)
	}
}

func TestAPITokenLifecycle(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ids := ids(t, e)
	admin := e.Login(t, access.Admin)
	status, _, hdr := apptest.Do(t, admin, "POST", e.Server.URL+"/users", url.Values{"username": {"health-commission"},
		"display_name": {"卫健委"}, "kind": {"api"}, "role": {"partner"}, "node": {ids["street"]}}, nil)
	if status != 303 {
		t.Fatalf("create api account: %d", status)
	}
	userURL := e.Server.URL + hdr.Get("Location")
	status, body, _ := apptest.Do(t, admin, "POST", userURL+"/tokens", url.Values{"name": {"数据对接"}}, nil)
	tok := regexp.MustCompile(`id="new-token" class="mono">(sq_[A-Za-z0-9_-]+)<`).FindStringSubmatch(body)
	if status != 200 || tok == nil {
		t.Fatalf("issue token: %d\n%s", status, snippet(body))
	}
	bearer := map[string]string{"Authorization": "Bearer " + tok[1]}
	status, body, _ = apptest.Do(t, e.Client(), "GET", e.Server.URL+"/api/v1/whoami", nil, bearer)
	if status != 200 || !strings.Contains(body, `"role": "partner"`) {
		t.Fatalf("whoami: %d %s", status, body)
	}
	// Shown once: the page afterwards does not carry it.
	_, body, _ = apptest.Do(t, admin, "GET", userURL, nil, nil)
	if strings.Contains(body, tok[1]) {
		t.Fatal("token shown again")
	}
	tid := regexp.MustCompile(`/tokens/([0-9a-z]{26})/revoke`).FindStringSubmatch(body)
	if tid == nil {
		t.Fatal("no revoke button")
	}
	apptest.Do(t, admin, "POST", userURL+"/tokens/"+tid[1]+"/revoke", url.Values{}, nil)
	status, body, _ = apptest.Do(t, e.Client(), "GET", e.Server.URL+"/api/v1/whoami", nil, bearer)
	if status != 401 || !strings.Contains(body, `"code": "unauthorized"`) {
		t.Fatalf("revoked token: %d %s", status, body)
	}
	if status, _, _ := apptest.Do(t, e.Client(), "GET", e.Server.URL+"/api/v1/whoami", nil, map[string]string{"Authorization": "Bearer sq_forged"}); status != 401 {
		t.Fatalf("forged token: %d", status)
	}
}

func upload(t *testing.T, c *http.Client, u, field, name string, content []byte) (int, string) {
	t.Helper()
	return uploadForm(t, c, u, nil, field, name, content)
}

func TestDivisionImportReportsEveryBadRowAndWritesNothing(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	admin := e.Login(t, access.Admin)
	before, _ := e.App.Store.CountOrgNodes(context.Background(), "")
	bad := "code,name\n" +
		"610403000000,杨陵区\n" + // fine
		"61040300000,短了\n" + // row 3: code
		"610403001000,\n" + // row 4: name
		"610403000000,重复\n" + // row 5: duplicate
		"620100000000,兰州市\n" // row 6: no parent (Gansu not loaded)
	status, body := upload(t, admin, e.Server.URL+"/org/import", "file", "div.csv", []byte(bad))
	if status != 400 {
		t.Fatalf("status %d\n%s", status, snippet(body))
	}
	for _, want := range []string{"<td>3</td>", "<td>4</td>", "<td>5</td>", "不是有效的区划", "请填写名称", "与第 2 行重复"} {
		if !strings.Contains(body, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	after, _ := e.App.Store.CountOrgNodes(context.Background(), "")
	if after[store.LevelDistrict] != before[store.LevelDistrict] {
		t.Fatal("rows were written although the file had errors")
	}
	// Only the parent problem left: still nothing written, row 6 reported.
	status, body = upload(t, admin, e.Server.URL+"/org/import", "file", "div.csv", []byte("code,name\n610403000000,杨陵区\n620100000000,兰州市\n"))
	if status != 400 || !strings.Contains(body, "<td>3</td>") || !strings.Contains(body, "找不到编码") {
		t.Fatalf("missing parent: %d\n%s", status, snippet(body))
	}
	// A good file goes in.
	status, body = upload(t, admin, e.Server.URL+"/org/import", "file", "div.csv", []byte("code,name,level\n610403000000,杨陵区,district\n610403100000,五泉镇,street\n"))
	if status != 200 || !strings.Contains(body, "导入完成") {
		t.Fatalf("good file: %d\n%s", status, snippet(body))
	}
	if _, err := e.App.Store.OrgNodeByCode(context.Background(), "610403100000"); err != nil {
		t.Fatal(err)
	}
	// Staff may not import.
	if status, _ := upload(t, e.Login(t, access.Staff), e.Server.URL+"/org/import", "file", "d.csv", []byte("code,name\n")); status != 403 {
		t.Fatalf("staff import: %d", status)
	}
	_ = demo.StreetCode
}
