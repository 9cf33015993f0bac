package e2e

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBigScreenLive: the village's staff open the big screen at
// 1920×1080; the gate simulator plays a few seconds of traffic at the
// village turnstile, with strangers and fevers among it; the alarms appear
// on the open screen without a reload. The street official's screen shows
// both communities.
func TestBigScreenLive(t *testing.T) {
	d := startDemo(t)
	ctx := newBrowser(t)
	do(t, ctx, "big screen size", chromedp.EmulateViewport(1920, 1080))
	open(t, ctx, d.URL+"/login")
	fillLogin(t, ctx, d.Logins["staff"])
	do(t, ctx, "log in", chromedp.Click(chromedp.CSS("form#login button[type=submit]")))
	waitFor(t, ctx, `location.pathname === "/"`, "the home page")
	if st := open(t, ctx, d.URL+"/brain"); st != http.StatusOK {
		errorPage(t, ctx, "/brain: status %d", st)
	}
	waitFor(t, ctx, `document.getElementById("brain").dataset.live === "yes"`, "the live stream to connect")
	if txt := bodyText(t, ctx); !strings.Contains(txt, "丰乐社区") || !strings.Contains(txt, "实有人口") {
		errorPage(t, ctx, "the big screen lacks its community or population")
	}
	// The clock says China time, as the figures do, though this browser
	// runs in UTC.
	china := time.FixedZone("CST", 8*3600)
	clock, err := eval[string](ctx, `document.getElementById("brain-clock").textContent`)
	if err != nil {
		t.Fatal(err)
	}
	if before, after := time.Now().In(china).Add(-time.Minute), time.Now().In(china).Add(time.Minute); !strings.HasPrefix(clock, before.Format("2006-01-02 15:04")[:13]) &&
		!strings.HasPrefix(clock, after.Format("2006-01-02 15:04")[:13]) {
		errorPage(t, ctx, "the big screen's clock shows %q, not China time (%s)", clock, time.Now().In(china).Format("2006-01-02 15:04"))
	}
	// Made for a 1920×1080 wall: the whole board shows without scrolling.
	if h, err := eval[int](ctx, `document.documentElement.scrollHeight`); err != nil || h > 1080 {
		cols, _ := eval[string](ctx, `[...document.querySelectorAll('.brain-grid > *, .topbar, .brain-head, .bpanel')].map(e => (e.id||e.className)+':'+Math.round(e.getBoundingClientRect().height)).join(' ')`)
		errorPage(t, ctx, "the big screen is %d px high at 1920×1080 (%v): it scrolls; %s", h, err, cols)
	}
	shot(t, ctx, "01-brain")

	sim := exec.Command(shequBin, "gate-sim", "--url", d.URL, "--token", d.Devices["FL-S-TURNSTILE"], "--rate", "40", "--duration", "4s",
		"--workers", "4", "--db", d.DB, "--key-file", d.Key)
	if out, err := sim.CombinedOutput(); err != nil {
		t.Fatalf("gate-sim: %v\n%s", err, out)
	}
	// The panels are redrawn every 10 s (which keeps the alarm, in the list
	// the server draws): look for the pushed alarm by its id.
	waitFor(t, ctx, `!!document.body.dataset.lastAlarm && !!document.querySelector('#alarm-list li[data-id="' + document.body.dataset.lastAlarm + '"]')`, "an alarm on the open screen")
	waitFor(t, ctx, `!!document.body.dataset.gateFlash`, "the gate flashing on the site plan")
	shot(t, ctx, "02-brain-alarm")

	official := newBrowser(t)
	do(t, official, "big screen size", chromedp.EmulateViewport(1920, 1080))
	open(t, official, d.URL+"/login")
	fillLogin(t, official, d.Logins["official"])
	do(t, official, "log in", chromedp.Click(chromedp.CSS("form#login button[type=submit]")))
	waitFor(t, official, `location.pathname === "/"`, "the home page")
	open(t, official, d.URL+"/brain")
	if txt := bodyText(t, official); !strings.Contains(txt, "和园社区") || !strings.Contains(txt, "丰乐社区") {
		errorPage(t, official, "the street's big screen should compare both communities")
	}
	shot(t, official, "03-brain-street")
}
