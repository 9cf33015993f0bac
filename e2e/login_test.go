package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

const (
	staffCommunity = "丰乐社区" // the demo staff member's community
	otherCommunity = "和园社区" // the other demo community, outside their scope
)

// TestStaffLoginLanguageScopeLogout walks a community staff member through
// the Chinese login page, the home page in both languages, the organisation
// tree (own community only), the audit log and logout.
func TestStaffLoginLanguageScopeLogout(t *testing.T) {
	d := startDemo(t)
	staff := d.Logins["staff"]
	ctx := newBrowser(t)

	// Login page, in Chinese.
	if st := open(t, ctx, d.URL+"/login"); st != http.StatusOK {
		errorPage(t, ctx, "GET /login: status %d, want 200", st)
	}
	mustFind(t, ctx, "form#login")
	if lang := pageLang(t, ctx); lang != "zh-CN" {
		errorPage(t, ctx, `/login: <html lang=%q>, want "zh-CN"`, lang)
	}
	if b := mustFind(t, ctx, "form#login button[type=submit]"); strings.TrimSpace(b.Text) != "登录" {
		errorPage(t, ctx, "/login: submit button text %q, want %q", b.Text, "登录")
	}
	shot(t, ctx, "01-login-zh")

	// Log in as staff: the home page shows who and where.
	fillLogin(t, ctx, staff)
	do(t, ctx, "click the login button", chromedp.Click(chromedp.CSS("form#login button[type=submit]")))
	waitFor(t, ctx, `location.pathname === "/" && document.querySelector("#whoami")`,
		"the home page (/ with #whoami) after logging in as staff "+staff.Username)
	who := mustFind(t, ctx, "#whoami")
	if strings.TrimSpace(who.Text) == "" {
		errorPage(t, ctx, "home: #whoami is empty, want the display name of %s", staff.Username)
	}
	t.Logf("home: #whoami = %q", strings.TrimSpace(who.Text))
	if sc := mustFind(t, ctx, "#scope"); !strings.Contains(sc.Text, staffCommunity) {
		errorPage(t, ctx, "home: #scope = %q, want it to contain %q", sc.Text, staffCommunity)
	}
	if lang := pageLang(t, ctx); lang != "zh-CN" {
		errorPage(t, ctx, `home: <html lang=%q>, want "zh-CN"`, lang)
	}
	shot(t, ctx, "02-home-zh")

	// Switch to English and back.
	mustFind(t, ctx, "a#lang-en")
	do(t, ctx, "click a#lang-en", chromedp.Click(chromedp.CSS("a#lang-en")))
	waitFor(t, ctx, `document.documentElement.lang === "en"`, `<html lang="en"> after clicking a#lang-en`)
	if b := mustFind(t, ctx, "form#logout button"); strings.TrimSpace(b.Text) != "Log out" || b.Type != "submit" {
		errorPage(t, ctx, "home (en): logout button text %q type %q, want %q type submit", b.Text, b.Type, "Log out")
	}
	shot(t, ctx, "03-home-en")

	mustFind(t, ctx, "a#lang-zh")
	do(t, ctx, "click a#lang-zh", chromedp.Click(chromedp.CSS("a#lang-zh")))
	waitFor(t, ctx, `document.documentElement.lang === "zh-CN"`, `<html lang="zh-CN"> after clicking a#lang-zh`)

	// The organisation tree shows the staff member's community only.
	if st := open(t, ctx, d.URL+"/org"); st != http.StatusOK {
		errorPage(t, ctx, "GET /org as staff: status %d, want 200", st)
	}
	if p := location(t, ctx); p != "/org" {
		errorPage(t, ctx, "GET /org as staff ended at %s", p)
	}
	if text := bodyText(t, ctx); !strings.Contains(text, staffCommunity) {
		errorPage(t, ctx, "/org as staff: page does not show %q", staffCommunity)
	}
	if html := pageHTML(t, ctx); strings.Contains(html, otherCommunity) {
		i := strings.Index(html, otherCommunity)
		errorPage(t, ctx, "/org as staff of %s: page contains %q, which is outside the scope (at …%s…)",
			staffCommunity, otherCommunity, clip(html, i-200, i+200))
	}
	shot(t, ctx, "04-org")

	// The audit log of the community shows the login.
	if st := open(t, ctx, d.URL+"/audit"); st != http.StatusOK {
		errorPage(t, ctx, "GET /audit as staff: status %d, want 200", st)
	}
	if p := location(t, ctx); p != "/audit" {
		errorPage(t, ctx, "GET /audit as staff ended at %s", p)
	}
	if text := bodyText(t, ctx); !strings.Contains(text, "login") && !strings.Contains(text, "登录") {
		errorPage(t, ctx, "/audit as staff: no login entry (text %q or %q)", "login", "登录")
	}
	shot(t, ctx, "05-audit")

	// Log out; afterwards / sends the browser to /login.
	if b := mustFind(t, ctx, "form#logout button"); b.Type != "submit" {
		fatalPage(t, ctx, "form#logout button has type %q, want submit", b.Type)
	}
	do(t, ctx, "click the logout button", chromedp.Click(chromedp.CSS("form#logout button")))
	waitFor(t, ctx, `!document.querySelector("form#logout")`, "a page without form#logout after logging out")
	open(t, ctx, d.URL+"/")
	if p := location(t, ctx); !strings.HasPrefix(p, "/login") {
		errorPage(t, ctx, "after logout GET / ended at %s, want /login", p)
	}
	mustFind(t, ctx, "form#login")

	// The login page on a phone.
	do(t, ctx, "emulate a 375x812 phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	open(t, ctx, d.URL+"/login")
	mustFind(t, ctx, "form#login")
	if w, err := eval[int](ctx, `document.documentElement.scrollWidth`); err == nil && w > 375 {
		t.Logf("note: the login page is %d px wide on a 375 px phone (scrolls sideways)", w)
	}
	shot(t, ctx, "06-login-phone")
}

// TestWrongPasswordShowsGenericError checks that a wrong password keeps the
// user on the login form with a message that does not tell whether the user
// name exists.
func TestWrongPasswordShowsGenericError(t *testing.T) {
	d := startDemo(t)
	staff := d.Logins["staff"]
	ctx := newBrowser(t)

	const want = "用户名或密码错误"
	var messages []string
	for _, a := range []account{
		{Username: staff.Username, Password: staff.Password + "-wrong"},
		{Username: "no-such-user-e2e", Password: staff.Password},
	} {
		open(t, ctx, d.URL+"/login")
		fillLogin(t, ctx, a)
		sctx, cancel := context.WithTimeout(ctx, stepTimeout)
		resp, err := chromedp.RunResponse(sctx, chromedp.Click(chromedp.CSS("form#login button[type=submit]")))
		cancel()
		if err != nil {
			fatalPage(t, ctx, "submit the login form as %q: %v", a.Username, err)
		}
		if resp.Status != http.StatusOK {
			errorPage(t, ctx, "login as %q with a wrong password: status %d, want 200", a.Username, resp.Status)
		}
		waitFor(t, ctx, `document.querySelector("form#login")`, "the login form after a failed login as "+a.Username)
		if p := location(t, ctx); !strings.HasPrefix(p, "/login") {
			errorPage(t, ctx, "failed login as %q ended at %s, want /login", a.Username, p)
		}
		e := mustFind(t, ctx, ".error")
		if !strings.Contains(e.Text, want) {
			errorPage(t, ctx, "failed login as %q: .error = %q, want it to contain %q", a.Username, e.Text, want)
		}
		messages = append(messages, strings.TrimSpace(e.Text))
	}
	if messages[0] != messages[1] {
		t.Errorf("the error for a wrong password (%q) differs from the one for an unknown user (%q): it tells which user names exist",
			messages[0], messages[1])
	}
	shot(t, ctx, "login-error")
}
