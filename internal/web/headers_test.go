package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/config"
)

// TestSecurityHeaders checks the headers on a sample of every kind of
// answer: staff pages, public pages, the phone app, JSON for partners and
// devices, a stream, static files, the kiosk, errors, redirects and the
// rate limit's 429.
func TestSecurityHeaders(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	u := e.Server.URL
	staff := e.Login(t, access.Staff)
	grid := e.Login(t, access.Grid)
	resident := residentClient(t, e)
	personID, _ := firstResident(t, e, staff)
	partner := map[string]string{"Authorization": "Bearer " + e.Demo.PartnerToken}
	device := map[string]string{"Authorization": "Bearer " + e.Demo.Devices[0].Token}

	type sample struct {
		name, path string
		c          *http.Client
		header     map[string]string
		personal   bool   // must not be stored by any cache
		camera     string // the Permissions-Policy's camera part
	}
	samples := []sample{
		{"staff page", "/ledger/persons/" + personID, staff, nil, true, "camera=()"},
		{"staff list", "/ledger/persons", staff, nil, true, "camera=()"},
		{"the home page", "/", staff, nil, true, "camera=()"},
		{"grid worker's app", "/grid/", grid, nil, true, "camera=()"},
		{"grid worker's bundle", "/api/grid/v1/bundle", grid, nil, true, "camera=()"},
		{"resident portal", "/portal", resident, nil, true, "camera=()"},
		{"public self-report form", "/r/" + e.Demo.SelfReportToken, e.Client(), nil, true, "camera=()"},
		{"login page", "/login", e.Client(), nil, true, "camera=()"},
		{"partner API", "/api/v1/persons?limit=1", e.Client(), partner, true, "camera=()"},
		{"device API", "/api/device/v1/sync", e.Client(), device, true, "camera=()"},
		{"Open311", "/open311/v2/services.json?jurisdiction_id=x", e.Client(), nil, true, "camera=()"},
		{"error page", "/no-such-page", staff, nil, true, "camera=()"},
		{"redirect to the login", "/ledger", e.Client(), nil, true, "camera=()"},
		{"static file", "/static/favicon.svg", e.Client(), nil, false, "camera=()"},
		{"health", "/healthz", e.Client(), nil, true, "camera=()"},
		{"kiosk", "/kiosk/", e.Client(), nil, false, "camera=(self)"},
		{"face enrolment", "/ledger/persons/" + personID + "/face", staff, nil, true, "camera=(self)"},
	}
	check := func(s sample, h http.Header) {
		t.Helper()
		csp := h.Get("Content-Security-Policy")
		for _, must := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, must) {
				t.Errorf("%s: CSP %q lacks %q", s.name, csp, must)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "'unsafe-eval'") || strings.Contains(csp, "*") {
			t.Errorf("%s: CSP %q is not strict", s.name, csp)
		}
		for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"} {
			if h.Get(k) != v {
				t.Errorf("%s: %s %q, want %q", s.name, k, h.Get(k), v)
			}
		}
		pp := h.Get("Permissions-Policy")
		if !strings.Contains(pp, s.camera) || !strings.Contains(pp, "microphone=()") {
			t.Errorf("%s: Permissions-Policy %q, want %s", s.name, pp, s.camera)
		}
		if geo := strings.HasPrefix(s.path, "/grid/"); geo != strings.Contains(pp, "geolocation=(self)") {
			t.Errorf("%s: Permissions-Policy %q: location only for the grid worker's app", s.name, pp)
		}
		if cc := h.Get("Cache-Control"); s.personal && !strings.Contains(cc, "no-store") {
			t.Errorf("%s: Cache-Control %q, want no-store", s.name, cc)
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", s.name)
		}
	}
	for _, s := range samples {
		_, _, h := apptest.Do(t, s.c, "GET", u+s.path, nil, s.header)
		check(s, h)
	}
	// A stream: the headers come before the first event.
	_, h := headOnly(t, staff, u+"/gates/alarms/stream", nil)
	check(sample{name: "alarm stream", path: "/gates/alarms/stream", personal: true, camera: "camera=()"}, h)
	// A proxy's word is not taken unless the server is told to trust it.
	_, _, h = apptest.Do(t, e.Client(), "GET", u+"/login", nil, map[string]string{"X-Forwarded-Proto": "https"})
	if h.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS set on the word of an untrusted X-Forwarded-Proto")
	}
	// The 429 of the rate limit carries them too.
	e.App.Web.SetRateLimits(config.RateLimits{Public: 1})
	c := e.Client()
	apptest.Do(t, c, "GET", u+"/login", nil, nil)
	st, _, h := apptest.Do(t, c, "GET", u+"/login", nil, nil)
	if st != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", st)
	}
	check(sample{name: "429", path: "/login", personal: true, camera: "camera=()"}, h)
	e.App.Web.SetRateLimits(config.RateLimits{})

	// Over TLS: Strict-Transport-Security.
	ts := httptest.NewTLSServer(e.App.Web.Handler())
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=31536000") {
		t.Errorf("over TLS: Strict-Transport-Security %q", hsts)
	}
}
