// Package web is shequ's HTML interface: server-rendered pages in Simplified
// Chinese and English, a phone and a desktop layout, sessions in cookies,
// cross-origin protection on every state-changing request.
package web

import (
	"context"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"shequ/internal/memo"
	"strings"
	"sync/atomic"
	"time"

	"shequ/internal/access"
	"shequ/internal/assess"
	"shequ/internal/audit"
	"shequ/internal/auth"
	"shequ/internal/config"
	"shequ/internal/errs"
	"shequ/internal/events"
	"shequ/internal/gate"
	"shequ/internal/gridwork"
	"shequ/internal/leads"
	"shequ/internal/ledger"
	"shequ/internal/locale"
	"shequ/internal/pii"
	"shequ/internal/ratelimit"
	"shequ/internal/sharing"
	"shequ/internal/store"
)

// Server holds what the handlers need. It is built once by app.
type Server struct {
	Store   *store.Store
	Auth    *auth.Service
	Audit   *audit.Log
	Keys    *pii.Keyring
	Ledger  *ledger.Service
	Imports *ledger.Imports
	Gates   *gate.Service
	Grid    *gridwork.Service
	Leads   *leads.Service
	Events  *events.Service
	Assess  *assess.Service
	Sharing *sharing.Service
	Cat     *locale.Catalog
	Cfg     config.Config
	Log     *slog.Logger
	Version string
	Metrics *Metrics

	views *views
	// sitePlans holds the big screen's drawn site plans (brainSite).
	sitePlans *memo.Memo[template.HTML]
	// limiter holds every client's request budget; limits, when set,
	// replaces Cfg.RateLimits (SetRateLimits).
	limiter ratelimit.Limiter
	limits  atomic.Pointer[config.RateLimits]
}

// Handler returns the whole HTTP handler.
func (s *Server) Handler() http.Handler {
	if s.views == nil {
		s.views = mustParseViews()
	}
	if s.Metrics == nil {
		s.Metrics = NewMetrics()
	}
	if s.sitePlans == nil {
		s.sitePlans = memo.New[template.HTML](s.Store, sitePlanMaxAge, sitePlanTables...)
	}
	mux := http.NewServeMux()
	s.routes(&router{mux: mux, s: s})
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errCrossOrigin)
	}))
	var h http.Handler = mux
	h = s.withSession(h)
	h = cop.Handler(h)
	h = s.securityHeaders(h)
	h = s.observe(h)
	return h
}

type ctxKey int

const reqKey ctxKey = 0

// req is what the middleware learns about a request.
type req struct {
	p     *access.Principal // nil when nobody is logged in
	user  store.User
	token string
	pr    *locale.Printer
	ip    string
}

func reqOf(r *http.Request) *req {
	if v, ok := r.Context().Value(reqKey).(*req); ok {
		return v
	}
	return &req{}
}

const sessionCookie = "shequ_session"

func (s *Server) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := &req{ip: s.clientIP(r)}
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && strings.HasPrefix(r.URL.Path, "/api/") {
			// API clients (partner departments, devices) use tokens.
			rq.pr = s.Cat.Printer(locale.Pick("", r))
			// Guessing tokens costs an address its budget of failures.
			failures := ratelimit.PerMinute(s.rateLimits().AuthFail)
			if spent, wait := s.limiter.Spent("authfail:"+rq.ip, failures, s.Store.Now()); spent {
				s.tooMany(w, r.WithContext(context.WithValue(r.Context(), reqKey, rq)), "authfail", wait)
				return
			}
			p, err := s.Auth.ResolveToken(r.Context(), strings.TrimSpace(tok))
			if err != nil {
				if errs.CodeOf(err) == errs.Unauthorized {
					s.limiter.Allow("authfail:"+rq.ip, failures, s.Store.Now())
				}
				s.fail(w, r.WithContext(context.WithValue(r.Context(), reqKey, rq)), err)
				return
			}
			rq.p = p
		} else if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" && !isStatic(r.URL.Path) {
			p, u, err := s.Auth.Resolve(r.Context(), c.Value)
			switch {
			case err == nil:
				rq.p, rq.user, rq.token = p, u, c.Value
			case errs.CodeOf(store.Classify(err)) == errs.Unavailable:
				// The database is down or full: say so, and keep the
				// session (an outage must not log everyone out).
				rq.pr = s.Cat.Printer(locale.Pick("", r))
				s.fail(w, r.WithContext(context.WithValue(r.Context(), reqKey, rq)), err)
				return
			default:
				http.SetCookie(w, s.cookie(sessionCookie, "", -1))
			}
		}
		rq.pr = s.Cat.Printer(locale.Pick(rq.user.Lang, r))
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), reqKey, rq)))
	})
}

func isStatic(path string) bool {
	return strings.HasPrefix(path, "/static/") || path == "/healthz" || path == "/readyz" || path == "/metrics"
}

func (s *Server) clientIP(r *http.Request) string {
	if s.Cfg.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			return strings.TrimSpace(first)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) secure(r *http.Request) bool {
	if s.Cfg.SecureCookies || r.TLS != nil {
		return true
	}
	return s.Cfg.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https"
}

// cookie makes an HttpOnly, SameSite=Lax cookie; maxAge < 0 deletes it.
func (s *Server) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.Cfg.SecureCookies}
}

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, c *http.Cookie) {
	c.Secure = s.secure(r)
	http.SetCookie(w, c)
}

// pageCSP is the policy of every page: everything from this server, no
// inline script or style, no plugins, never in a frame. The kiosk's files
// get kioskCSP instead (its face library compiles WebAssembly).
const pageCSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// permissionsFor is the Permissions-Policy of a path: the camera for the
// gate kiosk and its enrolment page (staff photograph a resident who
// consented) only, the location for the grid worker's app only.
func permissionsFor(path string) string {
	camera, geo := "()", "()"
	if strings.HasPrefix(path, "/kiosk/") || strings.HasPrefix(path, "/ledger/persons/") && strings.HasSuffix(path, "/face") {
		camera = "(self)"
	}
	if strings.HasPrefix(path, "/grid/") {
		geo = "(self)"
	}
	return "camera=" + camera + ", geolocation=" + geo + ", microphone=(), payment=(), usb=()"
}

// overTLS reports whether the browser reached us over HTTPS: directly, or
// through a trusted proxy that says so.
func (s *Server) overTLS(r *http.Request) bool {
	return r.TLS != nil || s.Cfg.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https"
}

// securityHeaders sets the headers every answer carries. Cache-Control
// starts as no-store, since most answers hold personal data; only
// handlers of public, impersonal content (static files, the kiosk's
// libraries, the API description) replace it.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		h.Set("Permissions-Policy", permissionsFor(r.URL.Path))
		h.Set("Cache-Control", "no-store")
		if s.overTLS(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe logs each request as JSON (path only: query strings may carry
// personal data) and feeds the Prometheus metrics. It also turns a panic
// into a 500 page.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				s.Log.Error("panic", "path", logPath(r.URL.Path), "panic", p)
				if sw.status == 0 {
					http.Error(sw, "internal error", http.StatusInternalServerError)
				}
			}
			d := time.Since(start)
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			s.Metrics.observe(route, r.Method, sw.status, d)
			if !isStatic(r.URL.Path) {
				s.Log.Info("request", "method", r.Method, "path", logPath(r.URL.Path), "status", sw.status,
					"ms", float64(d.Microseconds())/1000)
			}
		}()
		next.ServeHTTP(sw, r)
	})
}
