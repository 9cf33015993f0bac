package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"shequ/internal/store"
)

// TestSitePlan: staff open the village's site plan (every house and gate
// drawn, as many as the database holds), switch the measure, see a gate
// flash when a fever alarm is raised there, and click a house to land on
// its building table.
func TestSitePlan(t *testing.T) {
	d := startDemo(t)
	// What the database holds for the village.
	s, err := store.Open(context.Background(), d.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	var houses, gates int
	db := store.RawForTest(s)
	if err := db.QueryRow(`SELECT count(*) FROM places p JOIN org_nodes n ON n.id = p.community_id WHERE n.name = '丰乐社区' AND p.kind = 'house'`).Scan(&houses); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM gates g JOIN org_nodes n ON n.id = g.community_id WHERE n.name = '丰乐社区'`).Scan(&gates); err != nil {
		t.Fatal(err)
	}
	s.Close()

	ctx := newBrowser(t)
	do(t, ctx, "desktop size", chromedp.EmulateViewport(1440, 1000))
	login(t, ctx, d, "staff")
	if st := open(t, ctx, d.URL+"/siteplan"); st != http.StatusOK {
		fatalPage(t, ctx, "/siteplan: status %d", st)
	}
	n, err := eval[[]int](ctx, `[document.querySelectorAll("#plan a.sp-bld").length, document.querySelectorAll("#plan g.sp-gate[data-gate]").length]`)
	if err != nil || n[0] != houses || n[1] != gates {
		errorPage(t, ctx, "the plan draws %v houses and gates, the database has %d and %d (%v)", n, houses, gates, err)
	}
	if txt := bodyText(t, ctx); !strings.Contains(txt, "需要关注") || !strings.Contains(txt, "出入口与闸机") {
		errorPage(t, ctx, "the page lacks its panels")
	}
	waitFor(t, ctx, `document.body.dataset.live === "yes"`, "the live alarm stream to connect")
	shot(t, ctx, "01-siteplan-coverage")
	// Zoomed in, the houses' names and figures are legible.
	for i := 0; i < 3; i++ {
		do(t, ctx, "zoom in", chromedp.Click(chromedp.CSS(`#siteplan [data-zoom="in"]`)))
	}
	waitFor(t, ctx, `document.querySelector("#siteplan").dataset.zoom === "3.38"`, "the plan to zoom in")
	shot(t, ctx, "02-siteplan-zoomed")
	do(t, ctx, "whole plan", chromedp.Click(chromedp.CSS(`#siteplan [data-zoom="reset"]`)))

	do(t, ctx, "colour by tenants", chromedp.Click(chromedp.CSS(`#measures a[data-measure="tenants"]`)))
	waitFor(t, ctx, `document.querySelector("svg#plan").dataset.measure === "tenants"`, "the tenants plan")
	waitFor(t, ctx, `document.body.dataset.live === "yes"`, "the live alarm stream to connect again")

	// A feverish stranger at the village's south turnstile.
	req, _ := http.NewRequest("POST", d.URL+"/api/device/v1/decide", strings.NewReader(`{"credential":{"kind":"card","value":"UNKNOWN9"},"temperature":38.9}`))
	req.Header.Set("Authorization", "Bearer "+d.Devices["FL-S-TURNSTILE"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("device decide: %v %v", err, resp)
	}
	resp.Body.Close()
	waitFor(t, ctx, `!!document.querySelector('#plan g.sp-gate.sp-flash.sp-gate-alarm[data-gate-code="FL-S-TURNSTILE"]')`, "the south turnstile to flash")
	if other, _ := eval[int](ctx, `document.querySelectorAll("#plan g.sp-gate.sp-flash").length`); other != 1 {
		errorPage(t, ctx, "%d gates flash, want only the one with the alarm", other)
	}
	if path, _ := eval[string](ctx, `location.pathname + location.search`); !strings.Contains(path, "measure=tenants") {
		t.Errorf("the page reloaded: %s", path)
	}
	shot(t, ctx, "03-siteplan-tenants-alarm")
	// Zoomed in on the flashing gate (the wheel zooms round the pointer).
	if _, err := eval[bool](ctx, `(function () {
		var svg = document.querySelector("svg#plan"), r = document.querySelector('#plan g.sp-gate[data-gate-code="FL-S-TURNSTILE"] .sp-halo').getBoundingClientRect();
		for (var i = 0; i < 8; i++) svg.dispatchEvent(new WheelEvent("wheel", {clientX: r.x + r.width / 2, clientY: r.y + r.height / 2, deltaY: -100, bubbles: true, cancelable: true}));
		return true; })()`); err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "04-gate-flash-zoomed")
	do(t, ctx, "whole plan", chromedp.Click(chromedp.CSS(`#siteplan [data-zoom="reset"]`)))

	// Click a house: its building table opens.
	name, err := eval[string](ctx, `document.querySelector("#plan a.sp-bld").dataset.name`)
	if err != nil || name == "" {
		fatalPage(t, ctx, "no house to click (%v)", err)
	}
	do(t, ctx, "click the first house", chromedp.Click(chromedp.CSS(`#plan a.sp-bld polygon`)))
	waitFor(t, ctx, `location.pathname.startsWith("/ledger/buildings/") && !!document.querySelector("#building-table")`, "the building table")
	if h1, _ := eval[string](ctx, `document.querySelector("h1").textContent`); !strings.Contains(h1, name) {
		errorPage(t, ctx, "clicked %s, landed on %q", name, h1)
	}
	shot(t, ctx, "05-building-table")
}
