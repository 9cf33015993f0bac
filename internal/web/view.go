package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/locale"
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
		"t":       func(key string, args ...any) string { return key },
		"can":     func(a string) bool { return false },
		"lang":    func() string { return "zh" },
		"time":    fmtTime,
		"date":    func(t time.Time) string { return fmtDate(t) },
		"add":     func(a, b int) int { return a + b },
		"query":   func(kv ...any) template.URL { return "" },
		"static":  func(name string) string { return "/static/" + name },
		"join":    strings.Join,
		"default": func(d, v string) string { return orDefault(v, d) },
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
	{"/org", "nav.org", access.OrgView},
	{"/users", "nav.users", access.UserView},
	{"/audit", "nav.audit", access.AuditView},
}

type navLink struct {
	Path, Label string
	Active      bool
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, page string, data map[string]any) {
	t, ok := s.views.pages[page]
	if !ok {
		http.Error(w, "no template "+page, http.StatusInternalServerError)
		return
	}
	rq := reqOf(r)
	pr := rq.pr
	if pr == nil {
		pr = s.Cat.Printer(locale.Pick("", r))
	}
	t, err := t.Clone()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
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
	if data == nil {
		data = map[string]any{}
	}
	var links []navLink
	if rq.p != nil {
		for _, n := range nav {
			if n.Need == "" || rq.p.CanAnywhere(n.Need) {
				active := r.URL.Path == n.Path || n.Path != "/" && strings.HasPrefix(r.URL.Path, n.Path+"/")
				links = append(links, navLink{Path: n.Path, Label: pr.T(n.Key), Active: active})
			}
		}
	}
	data["Nav"] = links
	data["User"] = rq.p
	data["HTMLLang"] = pr.HTMLLang()
	data["Lang"] = pr.Lang
	data["Path"] = r.URL.RequestURI()
	data["Version"] = s.Version
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
