package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/demo"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

// nodeIDs finds the demo's nodes by code.
func nodeID(t *testing.T, e *apptest.Env, code string) string {
	t.Helper()
	n, err := e.App.Store.OrgNodeByCode(context.Background(), code)
	if err != nil {
		t.Fatalf("node %s: %v", code, err)
	}
	return n.ID
}

type scenario struct {
	name    string
	role    access.Role // "" = not logged in
	method  string
	path    string // {village} {compound} {villageGrid} {compoundGrid} {street} are replaced
	form    url.Values
	header  map[string]string
	status  int
	want    []string
	notWant []string
}

func (sc scenario) run(t *testing.T, e *apptest.Env, ids map[string]string, clients map[access.Role]*http.Client) (int, string) {
	t.Helper()
	c := e.Client()
	if sc.role != "" {
		if clients[sc.role] == nil {
			clients[sc.role] = e.Login(t, sc.role)
		}
		c = clients[sc.role]
	}
	path := sc.path
	for k, v := range ids {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	method := sc.method
	if method == "" {
		method = http.MethodGet
	}
	status, body, _ := apptest.Do(t, c, method, e.Server.URL+path, sc.form, sc.header)
	if status != sc.status {
		t.Errorf("%s: %s %s as %q: status %d, want %d\n%s", sc.name, method, path, sc.role, status, sc.status, snippet(body))
	}
	for _, w := range sc.want {
		if !strings.Contains(body, w) {
			t.Errorf("%s: body lacks %q\n%s", sc.name, w, snippet(body))
		}
	}
	for _, w := range sc.notWant {
		if strings.Contains(body, w) {
			t.Errorf("%s: body must not contain %q", sc.name, w)
		}
	}
	return status, body
}

func snippet(s string) string {
	if i := strings.Index(s, `<main class="page">`); i >= 0 {
		s = s[i:]
	}
	if len(s) > 1500 {
		s = s[:1500]
	}
	return s
}

func ids(t *testing.T, e *apptest.Env) map[string]string {
	return map[string]string{
		"village":      nodeID(t, e, demo.VillageCode),
		"compound":     nodeID(t, e, demo.CompoundCode),
		"villageGrid":  nodeID(t, e, demo.VillageCode+"001"),
		"villageGrid2": nodeID(t, e, demo.VillageCode+"002"),
		"compoundGrid": nodeID(t, e, demo.CompoundCode+"001"),
		"street":       nodeID(t, e, demo.StreetCode),
	}
}

func TestScenarios(t *testing.T) {
	for _, engine := range testutil.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := apptest.Start(t, engine)
			ids := ids(t, e)
			scenarios := []scenario{
				{name: "health", path: "/healthz", status: 200, want: []string{"ok"}},
				{name: "ready", path: "/readyz", status: 200, want: []string{"ok"}},
				{name: "metrics has Go runtime metrics", path: "/metrics", status: 200, want: []string{"go_goroutines", "go_memstats_alloc_bytes", "process_"}},
				{name: "home needs login", path: "/", status: 303},
				{name: "login page is Chinese by default", path: "/login", status: 200, want: []string{`<html lang="zh-CN">`, "工作人员登录", `name="username"`}},
				{name: "login page in English by Accept-Language", path: "/login", header: map[string]string{"Accept-Language": "en-US,en;q=0.9"}, status: 200, want: []string{`<html lang="en">`, "Staff login"}},
				{name: "wrong password: one generic message", method: "POST", path: "/login", form: url.Values{"username": {"staff"}, "password": {"wrong-password"}}, status: 200, want: []string{"用户名或密码错误"}},
				{name: "unknown user: the same message", method: "POST", path: "/login", form: url.Values{"username": {"nobody"}, "password": {"whatever-pass"}}, status: 200, want: []string{"用户名或密码错误"}},
				{name: "staff home shows their community", role: access.Staff, path: "/", status: 200, want: []string{demo.VillageName, `id="scope"`, `id="whoami"`}},
				{name: "staff org tree: own community only", role: access.Staff, path: "/org", status: 200, want: []string{demo.VillageName, "第一网格"}, notWant: []string{demo.CompoundName}},
				{name: "official sees both communities", role: access.Official, path: "/org", status: 200, want: []string{demo.VillageName, demo.CompoundName}},
				{name: "staff opens own community", role: access.Staff, path: "/org/{village}", status: 200, want: []string{demo.VillageName}},
				{name: "staff may not open the other community", role: access.Staff, path: "/org/{compound}", status: 403, notWant: []string{demo.CompoundCode}},
				{name: "grid worker may not open a sibling grid", role: access.Grid, path: "/org/{villageGrid2}", status: 403},
				{name: "grid worker opens own grid", role: access.Grid, path: "/org/{villageGrid}", status: 200, want: []string{"第一网格"}},
				{name: "property staff may not read the audit log", role: access.Property, path: "/audit", status: 403},
				{name: "staff reads the audit log", role: access.Staff, path: "/audit", status: 200, want: []string{"login"}},
				{name: "owners may not list accounts", role: access.Owners, path: "/users", status: 403},
				{name: "staff lists accounts of their community", role: access.Staff, path: "/users", status: 200, want: []string{"grid"}, notWant: []string{">property<", ">owners<"}},
				{name: "json errors for API clients", role: access.Staff, path: "/org/{compound}", header: map[string]string{"Accept": "application/json"}, status: 403, want: []string{`"code": "forbidden"`}},
				{name: "cross-origin POST refused", role: access.Staff, method: "POST", path: "/org/{village}/children", form: url.Values{"name": {"x"}, "code": {demo.VillageCode + "099"}}, header: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403},
				{name: "cross-origin POST by Origin refused", role: access.Staff, method: "POST", path: "/logout", header: map[string]string{"Origin": "https://evil.example"}, status: 403},
				{name: "staff adds a grid", role: access.Staff, method: "POST", path: "/org/{village}/children", form: url.Values{"name": {"第七网格"}, "code": {demo.VillageCode + "007"}}, status: 303},
				{name: "bad grid code: translated error", role: access.Staff, method: "POST", path: "/org/{village}/children", form: url.Values{"name": {"第八网格"}, "code": {"123"}}, status: 400, want: []string{"不是有效的区划或网格编码"}},
				{name: "grid code outside the community", role: access.Staff, method: "POST", path: "/org/{village}/children", form: url.Values{"name": {"第八网格"}, "code": {demo.CompoundCode + "008"}}, status: 400, want: []string{"不在上级"}},
				{name: "grid worker may not change the tree", role: access.Grid, method: "POST", path: "/org/{villageGrid}", form: url.Values{"name": {"改名"}}, status: 403},
				{name: "security headers", path: "/login", status: 200},
				{name: "unknown page", role: access.Staff, path: "/no/such/page", status: 404, want: []string{"找不到"}},
				{name: "language switch", path: "/lang?to=en&back=/login", status: 303},
				{name: "no open redirect after login", method: "POST", path: "/login", form: url.Values{"username": {"x"}, "password": {"y"}, "next": {"//evil.example"}}, status: 200},
			}
			clients := map[access.Role]*http.Client{}
			for _, sc := range scenarios {
				sc.run(t, e, ids, clients)
			}
		})
	}
}

func TestSecurityHeadersAndCookies(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	c := e.Client()
	l := e.Demo.Logins[2]
	req, _ := http.NewRequest("POST", e.Server.URL+"/login", strings.NewReader(url.Values{"username": {l.Username}, "password": {l.Password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "shequ_session" {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", session)
	}
	// Behind TLS the cookie is Secure.
	e.App.Web.Cfg.SecureCookies = true
	resp2, _ := e.Client().PostForm(e.Server.URL+"/login", url.Values{"username": {l.Username}, "password": {l.Password}})
	resp2.Body.Close()
	for _, ck := range resp2.Cookies() {
		if ck.Name == "shequ_session" && !ck.Secure {
			t.Error("session cookie not Secure with secure cookies on")
		}
	}
	// The session token is stored only as a hash.
	var n int
	store.RawForTest(e.App.Store).QueryRow(`SELECT count(*) FROM sessions WHERE token_hash = $1`, session.Value).Scan(&n)
	if n != 0 {
		t.Error("session token stored in the clear")
	}
}

func TestLoginThrottledAfterFiveFailures(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	c := e.Client()
	l := e.Demo.Logins[2]
	for i := 0; i < 5; i++ {
		status, body, _ := apptest.Do(t, c, "POST", e.Server.URL+"/login", url.Values{"username": {l.Username}, "password": {"wrong"}}, nil)
		if status != 200 || !strings.Contains(body, "用户名或密码错误") {
			t.Fatalf("failure %d: %d", i+1, status)
		}
	}
	// Now even the right password is refused for a minute.
	status, body, _ := apptest.Do(t, c, "POST", e.Server.URL+"/login", url.Values{"username": {l.Username}, "password": {l.Password}}, nil)
	if status != 200 || !strings.Contains(body, "尝试次数过多") {
		t.Fatalf("6th try: status %d, want the throttle message", status)
	}
	e.Clock.Advance(61 * time.Second)
	status, _, _ = apptest.Do(t, c, "POST", e.Server.URL+"/login", url.Values{"username": {l.Username}, "password": {l.Password}}, nil)
	if status != http.StatusSeeOther {
		t.Fatalf("after a minute: status %d, want 303", status)
	}
	// Failures and the throttle are in the audit log.
	entries, _ := e.App.Store.AuditEntries(context.Background(), store.AuditFilter{Action: "login", Limit: 50})
	var failed, denied, ok int
	for _, en := range entries {
		switch en.Outcome {
		case "failed":
			failed++
		case "denied":
			denied++
		case "ok":
			ok++
		}
	}
	if failed != 5 || denied != 1 || ok < 1 {
		t.Fatalf("audit: failed=%d denied=%d ok=%d", failed, denied, ok)
	}
}

func TestDeniedAccessIsAudited(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ids := ids(t, e)
	c := e.Login(t, access.Staff)
	status, _, _ := apptest.Do(t, c, "GET", e.Server.URL+"/org/"+ids["compound"], nil, nil)
	if status != 403 {
		t.Fatalf("status %d", status)
	}
	entries, _ := e.App.Store.AuditEntries(context.Background(), store.AuditFilter{Outcome: "denied", Limit: 10})
	if len(entries) != 1 || entries[0].TargetID != ids["compound"] || entries[0].ActorName == "" {
		t.Fatalf("denial not audited: %+v", entries)
	}
	if _, err := e.App.Audit.Verify(context.Background(), e.App.Store); err != nil {
		t.Fatal(err)
	}
}

func TestLanguageChoiceSticksToTheAccount(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	c := e.Login(t, access.Staff)
	apptest.Do(t, c, "GET", e.Server.URL+"/lang?to=en&back=/", nil, nil)
	// A new browser (no cookie) of the same account gets English.
	c2 := e.Login(t, access.Staff)
	_, body, _ := apptest.Do(t, c2, "GET", e.Server.URL+"/", nil, nil)
	if !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "Log out") {
		t.Fatalf("account language not applied:\n%s", snippet(body))
	}
}

func TestLogoutEndsTheSession(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	c := e.Login(t, access.Staff)
	if status, _, _ := apptest.Do(t, c, "POST", e.Server.URL+"/logout", url.Values{}, nil); status != 303 {
		t.Fatalf("logout status %d", status)
	}
	if status, _, _ := apptest.Do(t, c, "GET", e.Server.URL+"/", nil, nil); status != 303 {
		t.Fatalf("after logout / answered %d, want a redirect to login", status)
	}
}

func TestGridMoveKeepsHistory(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ids := ids(t, e)
	c := e.Login(t, access.Official)
	// Officials may view but not manage; the admin moves the grid.
	status, _, _ := apptest.Do(t, c, "POST", e.Server.URL+"/org/"+ids["compoundGrid"]+"/move", url.Values{"community": {ids["village"]}}, nil)
	if status != 403 {
		t.Fatalf("official moved a grid: %d", status)
	}
	admin := e.Login(t, access.Admin)
	status, body, _ := apptest.Do(t, admin, "POST", e.Server.URL+"/org/"+ids["compoundGrid"]+"/move", url.Values{"community": {ids["village"]}}, nil)
	if status != 303 {
		t.Fatalf("move: %d\n%s", status, snippet(body))
	}
	g, _ := e.App.Store.OrgNode(context.Background(), ids["compoundGrid"])
	if g.ParentID != ids["village"] || !strings.HasPrefix(g.Code, demo.VillageCode) {
		t.Fatalf("grid after move: %+v", g)
	}
	_, body, _ = apptest.Do(t, admin, "GET", e.Server.URL+"/org/"+g.ID, nil, nil)
	if !strings.Contains(body, demo.CompoundCode+"001 → "+g.Code) {
		t.Fatalf("history lacks the move:\n%s", snippet(body))
	}
	// The staff of the village now sees the moved grid.
	_, body, _ = apptest.Do(t, e.Login(t, access.Staff), "GET", e.Server.URL+"/org/"+g.ID, nil, nil)
	if !strings.Contains(body, g.Code) {
		t.Fatal("village staff cannot see the grid moved into their community")
	}
}
