package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestAdminPagesRender logs in as the administrator and opens the account
// list, an account, and a community's page, checking what a user would
// look for and keeping screenshots (desktop and phone) to look at.
func TestAdminPagesRender(t *testing.T) {
	d := startDemo(t)
	ctx := newBrowser(t)
	open(t, ctx, d.URL+"/login")
	fillLogin(t, ctx, d.Logins["admin"])
	do(t, ctx, "log in", chromedp.Click(chromedp.CSS("form#login button[type=submit]")))
	waitFor(t, ctx, `location.pathname === "/"`, "the home page after logging in as admin")

	if st := open(t, ctx, d.URL+"/users"); st != http.StatusOK {
		errorPage(t, ctx, "/users: status %d", st)
	}
	body := bodyText(t, ctx)
	for _, want := range []string{"staff", "grid", "property", "新建账号"} {
		if !strings.Contains(body, want) {
			errorPage(t, ctx, "/users lacks %q", want)
		}
	}
	shot(t, ctx, "01-users")

	open(t, ctx, d.URL+"/org")
	do(t, ctx, "open 丰乐社区", chromedp.Click(chromedp.CSS(`a[href^="/org/"]:not([href="/org"])`)))
	waitFor(t, ctx, `location.pathname.startsWith("/org/")`, "a node page")
	shot(t, ctx, "02-org-node")

	do(t, ctx, "emulate a 375x812 phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	open(t, ctx, d.URL+"/")
	shot(t, ctx, "03-home-phone")
	open(t, ctx, d.URL+"/audit")
	shot(t, ctx, "04-audit-phone")
}
