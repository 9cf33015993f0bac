package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// login logs the browser in as role and waits for the home page.
func login(t *testing.T, ctx context.Context, d *demo, role string) {
	t.Helper()
	open(t, ctx, d.URL+"/login")
	fillLogin(t, ctx, d.Logins[role])
	do(t, ctx, "log in as "+role, chromedp.Click(chromedp.CSS("form#login button[type=submit]")))
	waitFor(t, ctx, `location.pathname === "/"`, "the home page after logging in as "+role)
}

// TestLedgerBuildingRoomPersonReveal walks staff from the ledger overview
// into a building table, a room and a person, and reveals the person's ID
// number with a reason.
func TestLedgerBuildingRoomPersonReveal(t *testing.T) {
	d := startDemo(t)
	ctx := newBrowser(t)
	login(t, ctx, d, "staff")
	open(t, ctx, d.URL+"/ledger")
	if b := bodyText(t, ctx); !strings.Contains(b, "丰乐西村") || strings.Contains(b, "和园小区") {
		errorPage(t, ctx, "/ledger should show the staff's village and not the other community's compound")
	}
	shot(t, ctx, "01-ledger")
	do(t, ctx, "open the first house", chromedp.Click(chromedp.CSS("a.bldg")))
	waitFor(t, ctx, `!!document.querySelector("#building-table")`, "the building table")
	shot(t, ctx, "02-building-table")
	do(t, ctx, "open a lived-in room", chromedp.Click(chromedp.CSS("td.room.st-owner a, td.room.st-rented a, td.room.st-monitoring a")))
	waitFor(t, ctx, `location.pathname.startsWith("/ledger/rooms/")`, "a room page")
	shot(t, ctx, "03-room")
	do(t, ctx, "open a resident", chromedp.Click(chromedp.CSS("section.household a[href^='/ledger/persons/']")))
	waitFor(t, ctx, `!!document.querySelector("#reveal")`, "a person page with the reveal form")
	masked := strings.TrimSpace(mustFind(t, ctx, "#id-number").Text)
	if !strings.Contains(masked, "**********") {
		errorPage(t, ctx, "the ID number should be masked, got %q", masked)
	}
	do(t, ctx, "reveal the ID number",
		chromedp.SendKeys(chromedp.CSS("#reveal input[name=reason]"), "核对户籍信息"),
		chromedp.Click(chromedp.CSS("#reveal button[type=submit]")))
	waitFor(t, ctx, `!!document.querySelector("#id-number mark")`, "the revealed ID number")
	plain := strings.TrimSpace(mustFind(t, ctx, "#id-number").Text)
	if len(plain) != 18 || strings.Contains(plain, "*") || plain[:4] != masked[:4] {
		errorPage(t, ctx, "revealed %q for masked %q", plain, masked)
	}
	shot(t, ctx, "04-person-revealed")
	open(t, ctx, d.URL+"/audit?action=pii.reveal")
	if !strings.Contains(bodyText(t, ctx), "核对户籍信息") {
		errorPage(t, ctx, "the reveal and its reason should be in the audit log")
	}
	do(t, ctx, "phone size", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	open(t, ctx, d.URL+"/ledger/contracts")
	shot(t, ctx, "05-contracts-phone")
}
