package web_test

import (
	"context"
	"flag"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/auth"
	"shequ/internal/store"
)

// update rewrites the permission matrix in docs/security.md from what the
// server does: go test ./internal/web/ -run TestPermissionMatrix -update
var update = flag.Bool("update", false, "rewrite the permission matrix in docs/security.md")

const securityDoc = "../../docs/security.md"

// callers are the columns of the permission matrix: nobody logged in,
// every staff role of the demo, a resident, a gate device and a partner
// department's API token.
var callers = []string{"anonymous", "admin", "official", "staff", "grid", "property", "owners", "resident", "device", "partner"}

// linkRE finds links and form targets in pages and JSON.
var linkRE = regexp.MustCompile(`(?:href|action|src)="(/[^"#?]*)|"(/(?:ledger|events|leads|me|grid|api|gates|people|org|users|sharing|webhooks|report|rumours|exchange|portal)/[^"#?]*)"`)

// crawl follows the links of a logged-in client from the start pages and
// returns every same-site path it saw in a link or a form (any method).
func crawl(t *testing.T, e *apptest.Env, c *http.Client, limit int) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for _, l := range crawlInOrder(t, e, c, limit) {
		seen[l] = true
	}
	return seen
}

// crawlInOrder is crawl in the order the links were found: the same from
// run to run, since the demo and the clock are (identifiers are not, so
// sorting them would pick different records each time).
func crawlInOrder(t *testing.T, e *apptest.Env, c *http.Client, limit int) []string {
	t.Helper()
	var order []string
	seen := map[string]bool{}
	fetched := map[string]bool{}
	queue := []string{"/", "/ledger", "/ledger/persons", "/ledger/contracts", "/ledger/duplicates", "/ledger/import", "/events", "/leads", "/leads/codes",
		"/gates", "/gates/manage", "/gates/alarms", "/gates/passes", "/gates/policies", "/org", "/users", "/people", "/people/assessment",
		"/people/training", "/people/volunteers", "/sharing", "/webhooks", "/grid/manage", "/portal", "/portal/manage", "/rumours", "/exchange",
		"/overview", "/me/reports", "/siteplan", "/api/grid/v1/bundle"}
	for len(queue) > 0 && len(fetched) < limit {
		p := queue[0]
		queue = queue[1:]
		if fetched[p] {
			continue
		}
		fetched[p] = true
		st, body, _ := apptest.Do(t, c, "GET", e.Server.URL+p, nil, nil)
		if st != 200 {
			continue
		}
		for _, m := range linkRE.FindAllStringSubmatch(body, -1) {
			l := html.UnescapeString(m[1] + m[2])
			if l == "" || strings.HasPrefix(l, "//") || strings.HasPrefix(l, "/static/") {
				continue
			}
			if !seen[l] {
				seen[l] = true
				order = append(order, l)
				if !strings.HasSuffix(l, ".xlsx") && !strings.HasSuffix(l, ".png") && !strings.Contains(l, "/stream") {
					queue = append(queue, l)
				}
			}
		}
	}
	return order
}

// patternRE turns a ServeMux pattern's path into a regexp.
func patternRE(path string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	rest := path
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(regexp.QuoteMeta(rest))
			break
		}
		b.WriteString(regexp.QuoteMeta(rest[:i]))
		j := strings.IndexByte(rest, '}')
		switch name := rest[i+1 : j]; {
		case name == "$":
			b.WriteString("$")
		case strings.HasSuffix(name, "..."):
			b.WriteString(".*")
		default:
			b.WriteString("[^/]+")
		}
		rest = rest[j+1:]
	}
	if !strings.HasSuffix(path, "/") && !strings.HasSuffix(path, "{$}") {
		b.WriteString("$")
	}
	return regexp.MustCompile(b.String())
}

// fixedSamples are requests for routes the crawl cannot find a link to.
var fixedSamples = map[string]string{
	"GET /static/":                    "/static/favicon.svg",
	"GET /kiosk/":                     "/kiosk/",
	"/":                               "/no-such-page",
	"GET /open311/v2/services/{code}": "/open311/v2/services/noise.json",
	"GET /exchange/template/{kind}":   "/exchange/template/health",
	"POST /ledger/persons/{id}/health/{kind}": "",
}

// samplePath finds a request path for a route: a link the crawl saw,
// else the pattern with made-up identifiers (then only the login check
// means anything; the matrix marks the route).
func samplePath(pattern string, links []string) (string, bool) {
	return samplePathIn(pattern, links, nil)
}

// resolver answers which route a request reaches.
func resolver(routes []string) *http.ServeMux {
	mux := http.NewServeMux()
	for _, p := range routes {
		mux.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	return mux
}

// samplePathIn is samplePath taking only links that reach the route itself
// (not a more specific one: /ledger/import/template.xlsx is not an import).
func samplePathIn(pattern string, links []string, mux *http.ServeMux) (string, bool) {
	if p, ok := fixedSamples[pattern]; ok && p != "" {
		return p, true
	}
	_, path, _ := strings.Cut(pattern, " ")
	if pattern == "/" {
		path = "/"
	}
	if !strings.Contains(path, "{") || path == "/{$}" || strings.HasSuffix(path, "/{$}") && strings.Count(path, "{") == 1 {
		return strings.TrimSuffix(path, "{$}"), true
	}
	re := patternRE(path)
	method, _, _ := strings.Cut(pattern, " ")
	for _, l := range links {
		if !re.MatchString(l) {
			continue
		}
		if mux != nil {
			req, _ := http.NewRequest(method, "http://x"+l, nil)
			if _, got := mux.Handler(req); got != pattern {
				continue
			}
		}
		return l, true
	}
	return regexp.MustCompile(`\{[^}]*\}`).ReplaceAllString(path, "00000000000000000000000000"), false
}

// answer is a matrix cell: "✓" for a caller who got through (2xx, or
// a redirect elsewhere than the login page), "login" for a page that sent
// the caller to log in, "form" for a form sent back with an error about
// its input, "403" also for a form sent back because the caller may not
// use it, else the status (400: the request itself was refused; 401, 403:
// the caller was; 404: no such record for them).
func answer(method string, status int, header http.Header, forbidden string) string {
	loc := header.Get("Location")
	switch {
	case status < 300:
		return "✓"
	case status < 400 && strings.HasPrefix(loc, "/login") && method == "GET":
		return "login"
	case status < 400:
		if u, err := url.Parse(loc); err == nil && u.Query().Has("error") {
			if u.Query().Get("error") == forbidden {
				return "403"
			}
			return "form"
		}
		return "✓"
	}
	return fmt.Sprint(status)
}

// denied says whether an answer refuses the caller: not logged in, not
// allowed, or (for a record that exists) not shown.
func denied(status int, header http.Header) bool {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	case http.StatusSeeOther, http.StatusFound:
		return strings.HasPrefix(header.Get("Location"), "/login")
	}
	return false
}

type matrixEnv struct {
	e       *apptest.Env
	clients map[string]*http.Client
	headers map[string]map[string]string
	// spare sessions for POST /logout, made before the matrix's empty
	// login forms use up the address's login failures.
	spare map[string]*http.Client
}

func newMatrixEnv(t *testing.T) *matrixEnv {
	e := apptest.Start(t, "sqlite")
	m := &matrixEnv{e: e, clients: map[string]*http.Client{}, headers: map[string]map[string]string{}, spare: map[string]*http.Client{}}
	m.clients["anonymous"] = e.Client()
	for _, r := range []access.Role{access.Admin, access.Official, access.Staff, access.Grid, access.Property, access.Owners} {
		m.clients[string(r)] = e.Login(t, r)
		m.spare[string(r)] = e.Login(t, r)
	}
	m.clients["resident"] = residentClient(t, e)
	m.spare["resident"] = residentClient(t, e)
	m.clients["device"] = e.Client()
	m.headers["device"] = map[string]string{"Authorization": "Bearer " + e.Demo.Devices[0].Token}
	m.clients["partner"] = e.Client()
	m.headers["partner"] = map[string]string{"Authorization": "Bearer " + e.Demo.PartnerToken}
	return m
}

// do sends one request as caller; POST /logout gets a fresh session of
// its own, so the matrix does not log its callers out.
func (m *matrixEnv) do(t *testing.T, caller, method, path string) (int, http.Header) {
	t.Helper()
	c := m.clients[caller]
	if path == "/logout" && m.spare[caller] != nil {
		c = m.spare[caller]
	}
	var form url.Values
	if method == "POST" {
		form = url.Values{}
	}
	if strings.HasSuffix(path, "/stream") && method == "GET" {
		return headOnly(t, c, m.e.Server.URL+path, m.headers[caller])
	}
	st, _, h := apptest.Do(t, c, method, m.e.Server.URL+path, form, m.headers[caller])
	return st, h
}

// headOnly reads the status and headers of a stream that never ends.
func headOnly(t *testing.T, c *http.Client, u string, header map[string]string) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// TestPermissionMatrix sends every route of the server as every kind of
// caller and compares who gets through with the matrix in
// docs/security.md. A route without a row there (a new route), a row
// without a route, or a different answer fails. Run with -update to
// rewrite the matrix, then read the diff: it is the access review.
func TestPermissionMatrix(t *testing.T) {
	m := newMatrixEnv(t)
	e := m.e
	// Record samples are found by following links as the village's staff
	// and the street's official (who sees both communities).
	// The narrowest scope first: a grid worker's record is also the
	// village staff's, the street official's and the admin's.
	var sorted []string
	for _, who := range []string{"grid", "staff", "admin", "resident"} {
		sorted = append(sorted, crawlInOrder(t, e, m.clients[who], 400)...)
	}

	routes := e.App.Web.Routes()
	mux := resolver(routes)
	forbidden := e.App.Web.Cat.Printer("zh").T("err.forbidden")
	type row struct {
		pattern, path string
		sampled       bool
		answers       []string
	}
	var rows []row
	// GETs first, then POSTs (which may change what later GETs see), the
	// destructive account changes last.
	order := func(p string) int {
		switch {
		case strings.HasPrefix(p, "GET ") || !strings.Contains(p, " "):
			return 0
		case strings.Contains(p, "/users/") || strings.Contains(p, "/disable") || strings.Contains(p, "/revoke") || strings.Contains(p, "/move"):
			return 2
		}
		return 1
	}
	sort.SliceStable(routes, func(i, j int) bool { return order(routes[i]) < order(routes[j]) })
	for _, pattern := range routes {
		method := "GET"
		if mth, _, ok := strings.Cut(pattern, " "); ok {
			method = mth
		}
		path, sampled := samplePathIn(pattern, sorted, mux)
		r := row{pattern: pattern, path: path, sampled: sampled}
		for _, caller := range callers {
			st, h := m.do(t, caller, method, path)
			if st >= 500 {
				t.Errorf("%s %s as %s: status %d", method, path, caller, st)
			}
			r.answers = append(r.answers, answer(method, st, h, forbidden))
		}
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].pattern < rows[j].pattern })

	var b strings.Builder
	b.WriteString("| route | " + strings.Join(callers, " | ") + " |\n|---|" + strings.Repeat("---|", len(callers)) + "\n")
	for _, r := range rows {
		name := "`" + r.pattern + "`"
		if !r.sampled {
			name += " ¹"
		}
		fmt.Fprintf(&b, "| %s | %s |\n", name, strings.Join(r.answers, " | "))
	}
	got := b.String()
	doc, err := os.ReadFile(securityDoc)
	if err != nil && !*update {
		t.Fatal(err)
	}
	const begin, end = "<!-- matrix:begin -->\n", "<!-- matrix:end -->"
	text := string(doc)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if *update {
		if i < 0 || j < i {
			t.Fatalf("%s has no %q … %q markers", securityDoc, begin, end)
		}
		text = text[:i+len(begin)] + got + text[j:]
		if err := os.WriteFile(securityDoc, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if i < 0 || j < i {
		t.Fatalf("%s has no permission matrix between %q and %q", securityDoc, begin, end)
	}
	want := text[i+len(begin) : j]
	if got != want {
		wantRows, gotRows := rowsOf(want), rowsOf(got)
		for k, v := range gotRows {
			if w, ok := wantRows[k]; !ok {
				t.Errorf("route %s is not in the matrix of docs/security.md (a new route? add it: go test ./internal/web/ -run TestPermissionMatrix -update, and review)", k)
			} else if w != v {
				t.Errorf("route %s: docs/security.md says %q, the server lets through %q", k, w, v)
			}
		}
		for k := range wantRows {
			if _, ok := gotRows[k]; !ok {
				t.Errorf("docs/security.md lists %s, which is not a route", k)
			}
		}
	}
}

func rowsOf(table string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(table, "\n") {
		parts := strings.Split(l, "|")
		if len(parts) < 3 || !strings.HasPrefix(strings.TrimSpace(parts[1]), "`") {
			continue
		}
		out[strings.Trim(strings.TrimSuffix(strings.TrimSpace(parts[1]), " ¹"), "`")] = strings.Join(parts[2:], "|")
	}
	return out
}

// unscoped routes show records that are not one community's. A lead
// batch comes from above and spans communities: each community's staff
// open it and see (and export) their own part only: the board and
// Leads.Report check the node asked for against the caller's scope.
var unscoped = map[string]bool{
	"GET /leads/batches/{id}":             true,
	"GET /leads/batches/{id}/report.xlsx": true,
}

// TestScopeAcrossCommunities: the staff of one community cannot read the
// other community's records through any route with an identifier in its
// path. Each side's records are found by following links as that side's
// staff; the other side asks for every one of them.
func TestScopeAcrossCommunities(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ctx := context.Background()
	compound, village := e.Demo.Communities[0], e.Demo.Communities[1]
	if _, err := e.App.Auth.CreateUser(ctx, nil, auth.NewUser{Username: "staff-hy", DisplayName: "和园社区工作人员", Kind: store.KindStaff,
		Password: "Compound-staff-1", Role: access.Staff, NodeID: compound.ID}, ""); err != nil {
		t.Fatal(err)
	}
	hy := e.Client()
	if st, _, _ := apptest.Do(t, hy, "POST", e.Server.URL+"/login", url.Values{"username": {"staff-hy"}, "password": {"Compound-staff-1"}}, nil); st != 303 {
		t.Fatalf("login as the compound's staff: %d", st)
	}
	fl := e.Login(t, access.Staff) // 丰乐社区 (the village)
	sides := []struct {
		name   string
		c      *http.Client
		node   string
		others string
	}{{"丰乐社区 staff", fl, village.Name, compound.Name}, {"和园社区 staff", hy, compound.Name, village.Name}}
	own := []map[string]bool{crawl(t, e, fl, 400), crawl(t, e, hy, 400)}

	routes := e.App.Web.Routes()
	checked := map[string]int{}
	for k, side := range sides {
		theirs, mine := own[1-k], own[k]
		for _, pattern := range routes {
			method, path, _ := strings.Cut(pattern, " ")
			if method != "GET" || !strings.Contains(path, "{") || unscoped[pattern] {
				continue
			}
			re := patternRE(path)
			n := 0
			var urls []string
			for l := range theirs {
				if re.MatchString(l) && !mine[l] {
					urls = append(urls, l)
				}
			}
			sort.Strings(urls)
			for _, u := range urls {
				if n == 3 {
					break
				}
				n++
				st, body, h := apptest.Do(t, side.c, "GET", e.Server.URL+u, nil, nil)
				if !denied(st, h) {
					t.Errorf("%s reads %s (the other community's record, route %s): status %d\n%s", side.name, u, pattern, st, snippet(body))
				}
				checked[pattern]++
			}
		}
	}
	var names []string
	for p := range checked {
		names = append(names, p)
	}
	sort.Strings(names)
	t.Logf("scope checked on %d routes: %s", len(names), strings.Join(names, ", "))
	// The check must have reached the ledger, events and leads, or it
	// proves nothing.
	for _, must := range []string{"GET /ledger/persons/{id}", "GET /ledger/rooms/{id}", "GET /ledger/buildings/{id}", "GET /events/{ref}"} {
		if checked[must] == 0 {
			t.Errorf("no record of the other community found for %s: the scope check did not run there", must)
		}
	}
}
