package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"shequ/internal/pii"
	"shequ/internal/store"
)

// quarantined finds, in the demo's database, the ID number of a village
// resident under home quarantine today (the demo makes a few).
func quarantined(t *testing.T, d *demo) string {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, d.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	keys, err := pii.LoadKeyFile(d.Key)
	if err != nil {
		t.Fatal(err)
	}
	var enc []byte
	err = store.RawForTest(s).QueryRow(`SELECT p.id_enc FROM monitoring m JOIN persons p ON p.id = m.person_id
		WHERE m.kind = 'home_quarantine' AND m.start_date <= $1 AND m.end_date >= $1 AND m.lifted_on IS NULL LIMIT 1`, s.Today()).Scan(&enc)
	if err != nil {
		t.Fatalf("the demo has nobody under home quarantine: %v", err)
	}
	id, err := keys.DecryptString(enc, "persons.id_number")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestCheckpointAndLiveAlarm: at the village's staffed checkpoint, a
// resident under home quarantine is refused with the reason; a fever at a
// turnstile appears on the open alarm page without a reload.
func TestCheckpointAndLiveAlarm(t *testing.T) {
	d := startDemo(t)
	ctx := newBrowser(t)
	login(t, ctx, d, "staff")
	do(t, ctx, "phone size", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	open(t, ctx, d.URL+"/gates/checkpoint")
	do(t, ctx, "check the quarantined resident",
		chromedp.SendKeys(chromedp.CSS(`#check input[name=input]`), quarantined(t, d)),
		chromedp.Click(chromedp.CSS(`#check button[type=submit]`)))
	waitFor(t, ctx, `!!document.querySelector("#verdict")`, "the verdict")
	v, err := eval[map[string]string](ctx, `({outcome: document.querySelector("#verdict").dataset.outcome, reason: document.querySelector("#verdict").dataset.reason})`)
	if err != nil || v["outcome"] != "deny" || v["reason"] != "monitoring" {
		errorPage(t, ctx, "verdict %v, want deny for monitoring", v)
	}
	if !strings.Contains(bodyText(t, ctx), "禁止通行") {
		errorPage(t, ctx, "the verdict should say 禁止通行")
	}
	shot(t, ctx, "01-checkpoint-quarantine")

	do(t, ctx, "desktop size", chromedp.EmulateViewport(1280, 900))
	open(t, ctx, d.URL+"/gates/alarms")
	waitFor(t, ctx, `document.body.dataset.live === "yes"`, "the live alarm stream to connect")
	// A feverish stranger at the village turnstile.
	req, _ := http.NewRequest("POST", d.URL+"/api/device/v1/decide", strings.NewReader(`{"credential":{"kind":"card","value":"UNKNOWN1"},"temperature":38.6}`))
	req.Header.Set("Authorization", "Bearer "+d.Devices["FL-S-TURNSTILE"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("device decide: %v %v", err, resp)
	}
	resp.Body.Close()
	waitFor(t, ctx, `!!document.body.dataset.lastAlarm`, "the new alarm on the open page")
	if !strings.Contains(bodyText(t, ctx), "体温异常") {
		errorPage(t, ctx, "the live alarm should read 体温异常")
	}
	shot(t, ctx, "02-alarms-live")
	open(t, ctx, d.URL+"/gates")
	shot(t, ctx, "03-gates")
}
