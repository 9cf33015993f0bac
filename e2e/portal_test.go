package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestResidentReportsOnThePhone: the demo resident logs in with a one-time
// code on a phone, reads the portal (the entry policy in plain words),
// switches on the elder mode, and reports a problem with the form; the
// report page shows it waiting to be accepted.
func TestResidentReportsOnThePhone(t *testing.T) {
	d := startDemo(t)
	phone := regexp.MustCompile(`/login/resident with (\d{11})`).FindStringSubmatch(d.Output())
	if phone == nil {
		t.Fatalf("the demo did not print the resident's phone:\n%s", tail(d.Output(), 20))
	}
	ctx := newBrowser(t)
	do(t, ctx, "phone size", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	open(t, ctx, d.URL+"/login/resident?next=/portal")
	do(t, ctx, "ask for a code", chromedp.SendKeys(chromedp.CSS(`input[name=phone]`), phone[1]), chromedp.Click(chromedp.CSS(`form[action="/login/resident/code"] button`)))
	waitFor(t, ctx, `!!document.querySelector("#otp")`, "the code form")
	var code []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && code == nil; time.Sleep(100 * time.Millisecond) {
		all := regexp.MustCompile(`"code":"(\d{6})"`).FindAllStringSubmatch(d.Output(), -1)
		if len(all) > 0 {
			code = all[len(all)-1]
		}
	}
	if code == nil {
		t.Fatal("no one-time code in the demo's log")
	}
	do(t, ctx, "log in", chromedp.SendKeys(chromedp.CSS(`#otp input[name=code]`), code[1]), chromedp.Click(chromedp.CSS(`#otp button`)))
	waitFor(t, ctx, `location.pathname === "/portal" && !!document.querySelector("#policy li")`, "the portal")
	if txt := bodyText(t, ctx); !strings.Contains(txt, "37.3") {
		errorPage(t, ctx, "the portal should state the temperature limit")
	}
	shot(t, ctx, "01-portal")
	do(t, ctx, "elder mode", chromedp.Click(chromedp.CSS(`#elder-on`)))
	waitFor(t, ctx, `document.body.classList.contains("elder")`, "the elder mode")
	shot(t, ctx, "02-portal-elder")
	open(t, ctx, d.URL+"/me/reports")
	do(t, ctx, "report", chromedp.SendKeys(chromedp.CSS(`#new-report textarea[name=description]`), "楼道灯坏了，晚上很黑"),
		chromedp.Click(chromedp.CSS(`#new-report button[type=submit]`)))
	waitFor(t, ctx, `document.querySelector("#report") && document.querySelector("#report").dataset.status === "reported"`, "the report waiting to be accepted")
	shot(t, ctx, "03-report")
}
