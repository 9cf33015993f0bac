package web

import (
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/config"
	"shequ/internal/errs"
	"shequ/internal/ratelimit"
)

func perMinute(n int) ratelimit.Limit { return ratelimit.PerMinute(n) }

// router registers routes on the ServeMux and remembers each pattern, so
// the route table can be listed (the permission matrix test and
// docs/security.md check that every route has an entry), and runs every
// handler under the rate limiter.
type router struct {
	mux      *http.ServeMux
	s        *Server
	patterns []string
}

// Handle registers h for pattern ("METHOD /path").
func (rt *router) Handle(pattern string, h http.Handler) {
	rt.patterns = append(rt.patterns, pattern)
	rt.mux.Handle(pattern, rt.s.limited(pattern, h))
}

// HandleFunc registers h for pattern.
func (rt *router) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	rt.Handle(pattern, http.HandlerFunc(h))
}

// Routes lists the pattern of every route, sorted.
func (s *Server) Routes() []string {
	rt := &router{mux: http.NewServeMux(), s: s}
	s.routes(rt)
	out := append([]string(nil), rt.patterns...)
	sort.Strings(out)
	return out
}

// loginRoutes take a password or send or check a one-time code: on top of
// the caller's own budget they share the stricter per-address login budget.
var loginRoutes = map[string]bool{
	"POST /login":               true,
	"POST /login/resident":      true,
	"POST /login/resident/code": true,
	"POST /r/{token}/code":      true,
}

// errRateLimited is a 429 with the seconds to wait.
func errRateLimited(secs int) error { return errs.E(errs.TooMany, "err.rate_limited", secs) }

// SetRateLimits changes the request budgets of a running server and gives
// every client a full budget again (tests).
func (s *Server) SetRateLimits(l config.RateLimits) {
	s.limits.Store(&l)
	s.limiter.Reset()
}

func (s *Server) rateLimits() config.RateLimits {
	if l := s.limits.Load(); l != nil {
		return *l
	}
	return s.Cfg.RateLimits
}

// budget says whose budget a request spends and how big it is: a device
// per device token, a partner or other API client per token, a resident
// per account, anyone else per address. Staff who logged in have none.
// Static files have a budget of their own, ten times the public one, so
// that the pages of a busy office behind one address load whole.
func budget(rq *req, path string, l config.RateLimits) (string, int) {
	p := rq.p
	switch {
	case p == nil || p.Anonymous():
		if strings.HasPrefix(path, "/static/") || strings.HasPrefix(path, "/kiosk/lib/") || path == "/favicon.ico" {
			return "static:" + rq.ip, 10 * l.Public
		}
		return "ip:" + rq.ip, l.Public
	case p.HasRole(access.Device):
		return "device:" + p.UserID, l.Device
	case p.Kind == "api":
		return "api:" + p.UserID, l.API
	case p.Kind == "resident":
		return "resident:" + p.UserID, l.Resident
	}
	return "", 0
}

// limited runs h only while the caller has budget left.
func (s *Server) limited(pattern string, h http.Handler) http.Handler {
	login := loginRoutes[pattern]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq, l, now := reqOf(r), s.rateLimits(), s.Store.Now()
		if login && l.Login > 0 {
			if ok, wait := s.limiter.Allow("login:"+rq.ip, perMinute(l.Login), now); !ok {
				s.tooMany(w, r, "login", wait)
				return
			}
		}
		if key, n := budget(rq, r.URL.Path, l); key != "" && n > 0 {
			if ok, wait := s.limiter.Allow(key, perMinute(n), now); !ok {
				class, _, _ := strings.Cut(key, ":")
				s.tooMany(w, r, class, wait)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// tooMany answers 429 with Retry-After and the translated message.
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, class string, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.Log.Warn("rate limited", "class", class, "route", r.Pattern, "retry_after_s", secs)
	s.fail(w, r, errRateLimited(secs))
}

// logPath is a request path as the log may hold it: never the query
// string, and any run of eleven or more digits (an ID number or a phone
// typed into a URL) masked. Record identifiers mix letters and digits and
// stay readable.
func logPath(p string) string {
	run, long := 0, false
	for i := 0; i < len(p) && !long; i++ {
		if c := p[i]; c >= '0' && c <= '9' {
			run++
			long = run >= 11
		} else {
			run = 0
		}
	}
	if !long {
		return p
	}
	b := []byte(p)
	start := -1
	flush := func(end int) {
		if start >= 0 && end-start >= 11 {
			for j := start + 3; j < end-2; j++ {
				b[j] = '*'
			}
		}
		start = -1
	}
	for i := 0; i < len(b); i++ {
		if c := b[i]; c >= '0' && c <= '9' || (c == 'X' || c == 'x') && start >= 0 {
			if start < 0 {
				start = i
			}
		} else {
			flush(i)
		}
	}
	flush(len(b))
	return string(b)
}
