package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"shequ/internal/store"
)

// setOffline switches the browser's network off or on: the page, its
// navigator.onLine, and the service worker's own fetches.
func setOffline(t *testing.T, ctx context.Context, off bool) {
	t.Helper()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		EmulateOfflineServiceWorker: &off,
		MatchedNetworkConditions:    []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		t.Fatal(err)
	}
}

// TestGridWorkOffline: a grid worker opens the phone app, loses the
// network, records three household visits, a patrol and a lead's
// verification (and reloads the page, still offline), gets the network
// back, and all five arrive once. A
// visit that meets someone else's change of the same household comes back
// as a conflict, shown side by side, and the worker's choice is sent.
func TestGridWorkOffline(t *testing.T) {
	d := startDemo(t)
	ctx := newBrowser(t)
	login(t, ctx, d, "grid")
	do(t, ctx, "phone size", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	open(t, ctx, d.URL+"/grid/")
	waitFor(t, ctx, `document.querySelector("#grid-app").dataset.state === "ready"`, "the grid app")
	waitFor(t, ctx, `navigator.serviceWorker.controller !== null`, "the service worker taking over")
	shot(t, ctx, "01-grid-home")
	// Three rooms to visit, and a fourth with people for the conflict.
	rooms, err := eval[[]string](ctx, `(() => { const all = [...document.querySelectorAll("#rooms li")];
		const id = (li) => li.querySelector("a").getAttribute("href").slice(6);
		const lived = all.filter((li) => !li.querySelector("span.muted").textContent.trim().startsWith("0 "));
		return [...all.slice(0, 3).map(id), id(lived.find((li) => !all.slice(0, 3).includes(li)))]; })()`)
	if err != nil || len(rooms) < 4 {
		t.Fatalf("rooms on the home page: %v %v", rooms, err)
	}
	s, err := store.Open(context.Background(), d.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	count := func(q string, args ...any) (n int) {
		if err := store.RawForTest(s).QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	visitsBefore := count(`SELECT count(*) FROM visits`)

	setOffline(t, ctx, true)
	waitFor(t, ctx, `document.querySelector("#grid-app").dataset.online === "0"`, "the app noticing it is offline")
	for i, room := range rooms[:3] {
		goHash(t, ctx, "visit/"+room)
		waitFor(t, ctx, `!!document.querySelector("#visit")`, "the visit form")
		do(t, ctx, "fill the visit",
			chromedp.SendKeys(chromedp.CSS(`#visit input[name=met]`), "户主"),
			chromedp.SendKeys(chromedp.CSS(`#visit textarea[name=notes]`), "离线走访 "+string(rune('A'+i))),
			chromedp.Click(chromedp.CSS(`#visit button[type=submit]`)))
		waitFor(t, ctx, `document.querySelector("#grid-app").dataset.queued === "`+string(rune('1'+i))+`"`, "the visit queued on the phone")
	}
	open(t, ctx, d.URL+"/grid/")
	waitFor(t, ctx, `!!document.querySelector("#points a")`, "the patrol points, offline")
	do(t, ctx, "open a patrol point", chromedp.Click(chromedp.CSS(`#points a`)))
	waitFor(t, ctx, `!!document.querySelector("#patrol")`, "the patrol form")
	do(t, ctx, "report a problem",
		chromedp.Click(chromedp.CSS(`#patrol input[value=problem]`)),
		chromedp.SendKeys(chromedp.CSS(`#patrol textarea[name=problem]`), "消防通道堆放杂物"),
		chromedp.Click(chromedp.CSS(`#patrol button[type=submit]`)))
	waitFor(t, ctx, `document.querySelector("#grid-app").dataset.queued === "4"`, "four records queued")
	// A lead verified by phone, offline: it will be sent first.
	goHash(t, ctx, "")
	waitFor(t, ctx, `!!document.querySelector("#leads a")`, "the worker's leads")
	lead, _ := eval[string](ctx, `document.querySelector("#leads a").getAttribute("href").slice(6)`)
	goHash(t, ctx, "lead/"+lead)
	waitFor(t, ctx, `!!document.querySelector("#verify")`, "the verification form")
	do(t, ctx, "verify by phone",
		chromedp.Click(chromedp.CSS(`#verify input[value=phone]`)),
		chromedp.SendKeys(chromedp.CSS(`#verify textarea[name=note]`), "电话联系本人，在家"),
		chromedp.SendKeys(chromedp.CSS(`#verify input[name=call_record]`), "11月29日 通话2分钟"),
		chromedp.Click(chromedp.CSS(`#verify button[type=submit]`)))
	waitFor(t, ctx, `document.querySelector("#grid-app").dataset.queued === "5"`, "five records queued")
	shot(t, ctx, "02-grid-offline-queued")
	if n := count(`SELECT count(*) FROM visits`); n != visitsBefore {
		t.Fatalf("%d visits reached the server while offline", n-visitsBefore)
	}
	// Reloading with no network keeps both the app and the queue.
	do(t, ctx, "reload offline", chromedp.Reload())
	waitFor(t, ctx, `document.querySelector("#grid-app").dataset.state === "ready" && document.querySelector("#grid-app").dataset.queued === "5"`, "the app and its queue after an offline reload")

	setOffline(t, ctx, false)
	waitFor(t, ctx, `document.querySelector("#grid-app").dataset.queued === "0"`, "the queue sent once the network is back")
	if n := count(`SELECT count(*) FROM visits WHERE notes LIKE '离线走访 %'`); n != 3 {
		t.Fatalf("%d offline visits stored, want 3", n)
	}
	if n := count(`SELECT count(*) FROM patrols WHERE problem = '消防通道堆放杂物' AND status = 'problem'`); n != 1 {
		t.Fatalf("%d patrols stored, want 1", n)
	}
	if n := count(`SELECT count(*) FROM leads WHERE id = $1 AND status = 'verified' AND outcome_note LIKE '%在家%'`, lead); n != 1 {
		t.Fatal("the lead verified offline is not verified")
	}
	shot(t, ctx, "03-grid-synced")

	// A conflict: offline, the worker records that someone moved out of the
	// fourth room, while at the office staff change that household.
	room := rooms[3]
	setOffline(t, ctx, true)
	goHash(t, ctx, "visit/"+room)
	waitFor(t, ctx, `!!document.querySelector("#visit select[name=change]")`, "a member to change")
	person, _ := eval[string](ctx, `document.querySelector("#visit select[name=change]").dataset.person`)
	do(t, ctx, "record a move-out",
		chromedp.SetValue(chromedp.CSS(`#visit select[name=change]`), "moved_out"),
		chromedp.SendKeys(chromedp.CSS(`#visit textarea[name=notes]`), "冲突测试"),
		chromedp.Click(chromedp.CSS(`#visit button[type=submit]`)))
	waitFor(t, ctx, `document.querySelector("#grid-app").dataset.queued === "1"`, "the visit queued")
	raw := store.RawForTest(s)
	yesterday := time.Now().Add(8*time.Hour - 24*time.Hour).UTC().Format("2006-01-02")
	if _, err := raw.Exec(`UPDATE household_members SET until = $1 WHERE person_id = $2`, yesterday, person); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE places SET updated_at = updated_at + 1 WHERE id = $1`, room); err != nil {
		t.Fatal(err)
	}
	setOffline(t, ctx, false)
	waitFor(t, ctx, `!!document.querySelector("#netbar.bad")`, "the conflict flagged")
	goHash(t, ctx, "queue")
	waitFor(t, ctx, `!!document.querySelector(".qitem.conflict .sidebyside")`, "the conflict side by side")
	shot(t, ctx, "04-grid-conflict")
	if txt := bodyText(t, ctx); !strings.Contains(txt, "我的记录") || !strings.Contains(txt, "系统里现在") {
		errorPage(t, ctx, "the conflict should show both sides")
	}
	do(t, ctx, "keep the worker's record", chromedp.Click(chromedp.CSS(`.qitem.conflict button[data-act=force]`)))
	waitFor(t, ctx, `document.querySelector("#grid-app").dataset.queued === "0"`, "the resolved visit sent")
	if n := count(`SELECT count(*) FROM visits WHERE notes = '冲突测试'`); n != 1 {
		t.Fatalf("the resolved visit is stored %d times", n)
	}
}

// goHash moves the single-page app to another screen.
func goHash(t *testing.T, ctx context.Context, h string) {
	t.Helper()
	if _, err := eval[string](ctx, `location.hash = `+jsString(h)); err != nil {
		t.Fatal(err)
	}
}
