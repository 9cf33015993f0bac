package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/config"
)

// tripped checks that an answer is the rate limit's: 429, a Retry-After
// in whole seconds, and the message in the caller's language.
func tripped(t *testing.T, what string, st int, body string, h http.Header, msg string) {
	t.Helper()
	if st != http.StatusTooManyRequests {
		t.Errorf("%s: status %d after the budget was spent, want 429\n%s", what, st, snippet(body))
		return
	}
	if s, err := strconv.Atoi(h.Get("Retry-After")); err != nil || s < 1 || s > 60 {
		t.Errorf("%s: Retry-After %q", what, h.Get("Retry-After"))
	}
	if !strings.Contains(body, msg) {
		t.Errorf("%s: the answer lacks %q\n%s", what, msg, snippet(body))
	}
}

// TestEveryRouteIsRateLimited: with a budget of three requests a minute, the
// fourth request of a visitor without an account is refused on every
// route of the server, with 429, Retry-After and a translated message.
func TestEveryRouteIsRateLimited(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	c := e.Client()
	for _, pattern := range e.App.Web.Routes() {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			method, path = "GET", "/"
		}
		path, _ = samplePath(pattern, nil)
		e.App.Web.SetRateLimits(config.RateLimits{Login: 100, Public: 3})
		var form url.Values
		if method == "POST" {
			form = url.Values{}
		}
		if strings.HasSuffix(path, "/stream") {
			continue // needs a login: the limit is tried on the other routes
		}
		budget := 3
		if strings.HasPrefix(path, "/static/") || path == "/favicon.ico" {
			budget = 30 // static files: ten times the public budget
		}
		for i := 0; i < budget; i++ {
			if st, body, _ := apptest.Do(t, c, method, e.Server.URL+path, form, nil); st == http.StatusTooManyRequests && !strings.Contains(body, "频繁") {
				// The handler's own limit (the self-report form's) may
				// answer 429 earlier; the shared one must not.
				continue
			} else if st == http.StatusTooManyRequests {
				t.Errorf("%s: refused within the budget (request %d)", pattern, i+1)
			}
		}
		st, body, h := apptest.Do(t, c, method, e.Server.URL+path, form, map[string]string{"Accept-Language": "en"})
		msg := "Too many requests. Please try again in 20 seconds."
		if budget == 30 {
			msg = "Too many requests. Please try again in 2 seconds."
		}
		tripped(t, pattern, st, body, h, msg)
	}
}

// TestRateLimitsPerClient: each kind of caller without a staff login has
// its own budget (a device per token, not per address; a partner per
// token; a resident per account; logins per address), guessing tokens is
// limited per address, and logged-in staff are never limited.
func TestRateLimitsPerClient(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	u := e.Server.URL
	staff := e.Login(t, access.Staff)
	resident := residentClient(t, e)
	e.App.Web.SetRateLimits(config.RateLimits{Login: 2, Public: 50, Resident: 3, Device: 3, API: 3, AuthFail: 3})

	// Logins: two tries a minute per address, then the message in Chinese.
	anon := e.Client()
	for i := 0; i < 2; i++ {
		apptest.Do(t, anon, "POST", u+"/login", url.Values{"username": {"staff"}, "password": {"wrong"}}, nil)
	}
	st, body, h := apptest.Do(t, anon, "POST", u+"/login", url.Values{"username": {"staff"}, "password": {"wrong"}}, nil)
	tripped(t, "password login", st, body, h, "请求太频繁，请 30 秒后再试。")
	st, body, h = apptest.Do(t, anon, "POST", u+"/login/resident/code", url.Values{"phone": {"13800000000"}}, nil)
	tripped(t, "resident code", st, body, h, "请求太频繁")

	// Devices: per token. One gate's budget spent leaves the next gate's.
	dev := func(tok string) (int, string, http.Header) {
		return apptest.Do(t, e.Client(), "POST", u+"/api/device/v1/heartbeat", nil, map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
	}
	d0, d1 := e.Demo.Devices[0].Token, e.Demo.Devices[1].Token
	for i := 0; i < 3; i++ {
		if st, body, _ := dev(d0); st == http.StatusTooManyRequests {
			t.Fatalf("device refused within its budget: %s", body)
		}
	}
	st, body, h = dev(d0)
	tripped(t, "device", st, body, h, "请求太频繁")
	if st, body, _ := dev(d1); st == http.StatusTooManyRequests {
		t.Fatalf("another device from the same address is refused: %s", body)
	}

	// Partners: per token, JSON with the message.
	partner := func() (int, string, http.Header) {
		return apptest.Do(t, e.Client(), "GET", u+"/api/v1/persons?limit=1", nil, map[string]string{"Authorization": "Bearer " + e.Demo.PartnerToken, "Accept-Language": "en"})
	}
	for i := 0; i < 3; i++ {
		if st, _, _ := partner(); st != 200 {
			t.Fatalf("partner read %d: status %d", i+1, st)
		}
	}
	st, body, h = partner()
	tripped(t, "partner API", st, body, h, `"too_many"`)
	if !strings.Contains(body, "Too many requests") {
		t.Errorf("partner API: message not translated: %s", body)
	}
	// FHIR is the partner API too: the same budget is spent.
	st, body, h = apptest.Do(t, e.Client(), "GET", u+"/api/v1/fhir/Patient/x", nil, map[string]string{"Authorization": "Bearer " + e.Demo.PartnerToken})
	tripped(t, "FHIR", st, body, h, "too_many")

	// Guessing tokens: three failures an address, then 429 even for a
	// good token from there.
	for i := 0; i < 3; i++ {
		if st, _, _ := dev("sq_not-a-token"); st != http.StatusUnauthorized {
			t.Fatalf("bad token %d: status %d", i+1, st)
		}
	}
	st, body, h = dev("sq_not-a-token")
	tripped(t, "token guessing", st, body, h, "请求太频繁")
	st, body, h = dev(d1)
	tripped(t, "a good token from the guessing address", st, body, h, "请求太频繁")

	// Residents: per account.
	for i := 0; i < 3; i++ {
		apptest.Do(t, resident, "GET", u+"/portal", nil, nil)
	}
	st, body, h = apptest.Do(t, resident, "GET", u+"/portal", nil, nil)
	tripped(t, "resident portal", st, body, h, "请求太频繁")

	// Staff who logged in: no budget at all.
	for i := 0; i < 60; i++ {
		if st, _, _ := apptest.Do(t, staff, "GET", u+"/ledger", nil, nil); st != 200 {
			t.Fatalf("staff request %d: status %d", i+1, st)
		}
	}

	// A minute later every budget is full again.
	e.Clock.Advance(61 * 1e9)
	if st, _, _ := partner(); st != 200 {
		t.Fatalf("partner a minute later: status %d", st)
	}
	if st, body, _ := dev(d0); st == http.StatusTooManyRequests {
		t.Fatalf("device a minute later: %s", body)
	}
}

// TestDefaultLimitsLetAMorningPeakThrough: with the default budgets, one
// turnstile's morning peak (a decision and an event a second for ten
// minutes, all within the first minute here: the clock is frozen) is not
// refused.
func TestDefaultLimitsLetAMorningPeakThrough(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	e.App.Web.SetRateLimits(config.DefaultRateLimits())
	tok, c := e.Demo.Devices[0].Token, e.Client()
	for i := 0; i < 1200; i++ {
		st, body, _ := apptest.Do(t, c, "POST", e.Server.URL+"/api/device/v1/heartbeat", nil, map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
		if st == http.StatusTooManyRequests {
			t.Fatalf("request %d of a gate's peak refused: %s", i+1, body)
		}
	}
}
