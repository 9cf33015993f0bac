// Package apptest starts a whole shequ (store, services, HTTP) with the demo
// community on a fresh database, for HTTP scenario tests on both engines.
package apptest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/app"
	"shequ/internal/auth"
	"shequ/internal/config"
	"shequ/internal/demo"
	"shequ/internal/testutil"
)

// Env is a running test instance.
type Env struct {
	App    *app.App
	Demo   *demo.Result
	Server *httptest.Server
	Clock  *testutil.Clock
	logs   *lockedWriter
}

// LogText is everything the instance logged so far.
func (e *Env) LogText() string {
	e.logs.mu.Lock()
	defer e.logs.mu.Unlock()
	return e.logs.w.String()
}

// Start opens a fresh database of engine, builds the demo and serves it.
func Start(t testing.TB, engine string) *Env {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.DB = testutil.DSN(t, engine)
	cfg.KeyFile = filepath.Join(t.TempDir(), "test.key")
	cfg.Addr = "127.0.0.1:0"
	// No request budgets: these tests (and the benchmarks and fuzz targets)
	// send many requests under a frozen clock. The rate-limit tests turn
	// them on with App.Web.SetRateLimits.
	cfg.RateLimits = config.RateLimits{}
	clock := testutil.NewClock(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	logs := &lockedWriter{w: &strings.Builder{}}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	a, err := app.Open(ctx, cfg, log, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	// Cheap password hashing: these tests are about behaviour, not cost.
	a.Auth.Argon2 = auth.Argon2{Time: 1, MemoryKiB: 1024, Threads: 1}
	res, err := demo.Build(ctx, demo.Env{Store: a.Store, Auth: a.Auth, Keys: a.Keys, Gates: a.Gates}, demo.Options{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Web.Handler())
	t.Cleanup(srv.Close)
	return &Env{App: a, Demo: res, Server: srv, Clock: clock, logs: logs}
}

// Client is a browser-like client with its own cookies that does not
// follow redirects (so tests see 303s).
func (e *Env) Client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Login returns a client logged in as the demo account of role.
func (e *Env) Login(t testing.TB, role access.Role) *http.Client {
	t.Helper()
	for _, l := range e.Demo.Logins {
		if l.Role == role {
			c := e.Client()
			resp, err := c.PostForm(e.Server.URL+"/login", url.Values{"username": {l.Username}, "password": {l.Password}})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("login as %s: status %d", role, resp.StatusCode)
			}
			return c
		}
	}
	t.Fatalf("no demo login for role %s", role)
	return nil
}

// Do sends a request and returns status and body.
func Do(t testing.TB, c *http.Client, method, u string, form url.Values, header map[string]string) (int, string, http.Header) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}
