package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"shequ/internal/store"
)

// TestSelfReportOnAPhone: a returnee opens the demo's self-report code on
// a phone without logging in, picks their flat building by building, agrees
// to the notice and gets a receipt with a reference number; the report is
// in the ledger's leads with the grid worker of that flat.
func TestSelfReportOnAPhone(t *testing.T) {
	d := startDemo(t)
	ctx := newBrowser(t)
	do(t, ctx, "phone size", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	open(t, ctx, d.SelfReport)
	waitFor(t, ctx, `!!document.querySelector("#report select[name=building] option[value]:not([value=''])")`, "the form with its buildings")
	shot(t, ctx, "01-form")
	do(t, ctx, "fill in",
		chromedp.SendKeys(chromedp.CSS(`#report input[name=name]`), "返乡测试"),
		chromedp.SendKeys(chromedp.CSS(`#report input[name=id_number]`), "11010519491231002X"),
		chromedp.SendKeys(chromedp.CSS(`#report input[name=phone]`), "13912345678"),
		chromedp.SendKeys(chromedp.CSS(`#report input[name=from_place]`), "西安市雁塔区"))
	building, _ := eval[string](ctx, `document.querySelector("#report select[name=building] option[value]:not([value=''])").value`)
	do(t, ctx, "choose the building", chromedp.SetValue(chromedp.CSS(`#building`), building))
	if _, err := eval[bool](ctx, `document.getElementById("building").dispatchEvent(new Event("change")), true`); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `document.querySelectorAll("#unit option").length > 1 || document.querySelectorAll("#room option").length > 1`, "units or rooms")
	if units, _ := eval[bool](ctx, `!document.getElementById("unit-row").hidden`); units {
		unit, _ := eval[string](ctx, `document.querySelectorAll("#unit option")[1].value`)
		do(t, ctx, "choose the unit", chromedp.SetValue(chromedp.CSS(`#unit`), unit))
		eval[bool](ctx, `document.getElementById("unit").dispatchEvent(new Event("change")), true`)
		waitFor(t, ctx, `document.querySelectorAll("#room option").length > 1`, "rooms")
	}
	room, _ := eval[string](ctx, `document.querySelectorAll("#room option")[1].value`)
	do(t, ctx, "choose the room and agree",
		chromedp.SetValue(chromedp.CSS(`#room`), room),
		chromedp.Click(chromedp.CSS(`#report input[name=consent]`)))
	shot(t, ctx, "02-filled")
	do(t, ctx, "submit", chromedp.Click(chromedp.CSS(`#report button[type=submit]`)))
	waitFor(t, ctx, `!!document.querySelector("#ref")`, "the receipt")
	shot(t, ctx, "03-receipt")
	ref, _ := eval[string](ctx, `document.querySelector("#ref").textContent.trim()`)
	if len(ref) != 9 || !strings.Contains(bodyText(t, ctx), "报备成功") {
		errorPage(t, ctx, "the receipt should show a reference number, got %q", ref)
	}
	s, err := store.Open(context.Background(), d.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	store.RawForTest(s).QueryRow(`SELECT count(*) FROM self_reports r JOIN leads l ON l.id = r.lead_id JOIN places p ON p.id = r.room_id
		JOIN role_assignments a ON a.node_id = p.grid_id AND a.user_id = l.assignee_id WHERE r.ref = $1 AND r.room_id = $2`, ref, room).Scan(&n)
	if n != 1 {
		t.Fatalf("the report %s is not a lead with the flat's grid worker", ref)
	}
}
