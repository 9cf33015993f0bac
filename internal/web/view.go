package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/assess"
	"shequ/internal/ledgerio"
	"shequ/internal/locale"
	"shequ/internal/pii"
	"shequ/internal/policy"
	"shequ/internal/sharing"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// shanghai is where times are shown.
var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}()

type views struct {
	pages map[string]*template.Template
}

// funcs are placeholders at parse time; render binds them per request.
func baseFuncs() template.FuncMap {
	return template.FuncMap{
		"t":               func(key string, args ...any) string { return key },
		"can":             func(a string) bool { return false },
		"lang":            func() string { return "zh" },
		"time":            fmtTime,
		"date":            func(t time.Time) string { return fmtDate(t) },
		"add":             func(a, b int) int { return a + b },
		"peopleTabs":      func() []peopleTab { return peopleTabs },
		"formula":         assess.Formula,
		"grants":          sharing.ParseGrants,
		"writable":        func() []string { return sharing.Writable },
		"agreementStatus": sharing.Status,
		"index0":          func(g sharing.Grants, d string) sharing.Grant { return g[d] },
		"inList":          func(list []string, v string) bool { return slices.Contains(list, v) },
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"avg":     func(sum, n int) float64 { return float64(sum) / float64(max(n, 1)) },
		"tenthsF": func(n int) float64 { return float64(n) / 10 },
		"msDate":  func(ms int64) string { return fmtDate(time.UnixMilli(ms)) },
		"msTime": func(ms int64) string {
			if ms == 0 {
				return "—"
			}
			return fmtTime(time.UnixMilli(ms))
		},
		"query":   func(kv ...any) template.URL { return "" },
		"static":  func(name string) string { return "/static/" + name },
		"join":    strings.Join,
		"default": func(d, v string) string { return orDefault(v, d) },
		"pct":     func(f float64) string { return strconv.FormatFloat(f, 'f', 0, 64) + "%" },
		"pctv":    func(f float64) int { return int(f + 0.5) },
		"pad": func(want, have int) []struct{} {
			if want <= have {
				return nil
			}
			return make([]struct{}, want-have)
		},
		"mask":  pii.MaskName,
		"has":   func(m map[string]bool, k string) bool { return m[k] },
		"split": strings.Split,
		"left":  timeLeft,
		"pctOf": func(part, whole int) int {
			if whole == 0 {
				return 0
			}
			return part * 100 / whole
		},
		"progress":  progressBar,
		"changes":   changeList,
		"fv":        func(f url.Values, k string) string { return f.Get(k) },
		"ethnicity": ledgerio.EthnicityName,
		"list":      func(v ...any) []any { return v },
		"hours":     func(d policy.Duration) string { return strconv.FormatFloat(time.Duration(d).Hours(), 'f', -1, 64) },
	}
}

func mustParseViews() *views {
	v := &views{pages: map[string]*template.Template{}}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" {
			continue
		}
		t := template.Must(template.New(base).Funcs(baseFuncs()).ParseFS(templateFS, "templates/layout.html", n))
		v.pages[base] = t
	}
	return v
}

// navItem is one entry of the main navigation; it shows only to those
// who may use it.
type navItem struct {
	Path, Key string
	Need      access.Action
}

var nav = []navItem{
	{"/", "nav.home", ""},
	{"/portal", "nav.portal", access.SelfService},
	{"/me/pass", "me.pass", access.SelfService},
	{"/me/reports", "me.reports", access.SelfService},
	{"/ledger", "nav.ledger", access.PersonView},
	{"/gates", "nav.gates", access.GateView},
	{"/gates/checkpoint", "nav.checkpoint", access.GateOperate},
	{"/grid/", "nav.grid", access.GridWork},
	{"/grid/manage", "nav.grid_manage", access.OrgManage},
	{"/people", "nav.people", access.AssessView},
	{"/brain", "nav.brain", access.BrainView},
	{"/overview", "nav.overview", access.BrainView},
	{"/sharing", "nav.sharing", access.ShareManage},
	{"/events", "nav.events", access.EventView},
	{"/portal/manage", "nav.portal_manage", access.EventManage},
	{"/leads", "nav.leads", access.LeadView},
	{"/leads/codes", "nav.reports", access.LeadManage},
	{"/exchange", "nav.exchange", access.DataImport},
	{"/org", "nav.org", access.OrgView},
	{"/users", "nav.users", access.UserView},
	{"/audit", "nav.audit", access.AuditView},
}

type navLink struct {
	Path, Label string
	Active      bool
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, page string, data map[string]any) {
	t, err := s.page(r, page)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	rq := reqOf(r)
	pr := rq.pr
	if pr == nil {
		pr = s.Cat.Printer(locale.Pick("", r))
	}
	if data == nil {
		data = map[string]any{}
	}
	var links []navLink
	if rq.p != nil {
		best := -1 // the longest matching entry is the active one
		for _, n := range nav {
			if n.Need == "" || rq.p.CanAnywhere(n.Need) {
				links = append(links, navLink{Path: n.Path, Label: pr.T(n.Key)})
				if (r.URL.Path == n.Path || n.Path != "/" && strings.HasPrefix(r.URL.Path, n.Path+"/")) &&
					(best < 0 || len(n.Path) > len(links[best].Path)) {
					best = len(links) - 1
				}
			}
		}
		if best >= 0 {
			links[best].Active = true
		}
	}
	data["Nav"] = links
	data["User"] = rq.p
	data["HTMLLang"] = pr.HTMLLang()
	data["Lang"] = pr.Lang
	data["Path"] = r.URL.RequestURI()
	data["Version"] = s.Version
	if c, err := r.Cookie(elderCookie); err == nil && c.Value == "1" {
		data["Elder"] = true
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.Log.Error("render", "page", page, "err", err.Error())
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(shanghai).Format("2006-01-02 15:04:05")
}

func fmtDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(shanghai).Format("2006-01-02")
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// safeNext keeps post-login redirects on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// change is one field of a change-history entry, for display.
type change struct {
	Field, Old, New string
}

// changeList decodes a change_log "changes" JSON: {"field": ["old","new"]}
// or {"key": value}.
func changeList(js string) []change {
	var m map[string]any
	if json.Unmarshal([]byte(js), &m) != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]change, 0, len(m))
	for _, k := range keys {
		switch v := m[k].(type) {
		case []any:
			c := change{Field: k}
			if len(v) == 2 {
				c.Old, c.New = fmt.Sprint(v[0]), fmt.Sprint(v[1])
			}
			out = append(out, c)
		default:
			out = append(out, change{Field: k, New: fmt.Sprint(v)})
		}
	}
	return out
}

// page is a page's template with the request's translation and
// permission functions bound (for a whole page or one of its fragments).
func (s *Server) page(r *http.Request, page string) (*template.Template, error) {
	t, ok := s.views.pages[page]
	if !ok {
		return nil, fmt.Errorf("no template %s", page)
	}
	rq := reqOf(r)
	pr := rq.pr
	if pr == nil {
		pr = s.Cat.Printer(locale.Pick("", r))
	}
	t, err := t.Clone()
	if err != nil {
		return nil, err
	}
	t.Funcs(template.FuncMap{
		"t":    pr.T,
		"can":  func(a string) bool { return rq.p.CanAnywhere(access.Action(a)) },
		"lang": func() string { return pr.Lang },
		"query": func(kv ...any) template.URL {
			q := r.URL.Query()
			for i := 0; i+1 < len(kv); i += 2 {
				q.Set(fmt.Sprint(kv[i]), fmt.Sprint(kv[i+1]))
			}
			return template.URL("?" + q.Encode())
		},
	})
	return t, nil
}

// fragment renders one named template of a page (a live panel).
func (s *Server) fragment(r *http.Request, page, name string, data any) (string, error) {
	t, err := s.page(r, page)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	err = t.ExecuteTemplate(&buf, name, data)
	return buf.String(), err
}

// progressBar draws a bar filled to pct percent. It is an SVG rectangle,
// not a width in a style attribute: the pages' Content-Security-Policy
// (style-src 'self') ignores style attributes, which left such bars empty.
func progressBar(pct int) template.HTML {
	pct = max(0, min(pct, 100))
	return template.HTML(`<svg viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden="true"><rect width="` + strconv.Itoa(pct) + `" height="1"/></svg>`)
}
