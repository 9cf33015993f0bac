package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestStaffReadsTheAssessment: community staff read the staffing, the
// ranking with every input and the six-month trend charts; the grid
// worker, on a phone, reads their own assessment and explains it.
func TestStaffReadsTheAssessment(t *testing.T) {
	d := startDemo(t)
	ctx := newBrowser(t)
	open(t, ctx, d.URL+"/login")
	fillLogin(t, ctx, d.Logins["staff"])
	do(t, ctx, "log in", chromedp.Click(chromedp.CSS("form#login button[type=submit]")))
	waitFor(t, ctx, `location.pathname === "/"`, "the home page")

	if st := open(t, ctx, d.URL+"/people"); st != http.StatusOK {
		errorPage(t, ctx, "/people: status %d", st)
	}
	if txt := bodyText(t, ctx); !strings.Contains(txt, "网格包片记录") || !strings.Contains(txt, "人均户数") {
		errorPage(t, ctx, "the staffing page lacks its history or load")
	}
	shot(t, ctx, "01-staffing")

	open(t, ctx, d.URL+"/people/assessment")
	rows, err := eval[int](ctx, `document.querySelectorAll("#workers tbody tr a[href^='/people/assessment/']").length`)
	if err != nil || rows == 0 {
		errorPage(t, ctx, "no worker in the ranking (%v)", err)
	}
	shot(t, ctx, "02-ranking")
	do(t, ctx, "open the first worker", chromedp.Click(chromedp.CSS(`#workers tbody tr a[href^='/people/assessment/']`)))
	waitFor(t, ctx, `!!document.querySelector("#calculation .formula")`, "the calculation")
	if txt := bodyText(t, ctx); !strings.Contains(txt, "计算：") || !strings.Contains(txt, "入户走访覆盖") {
		errorPage(t, ctx, "the worker's page does not show the calculation")
	}
	shot(t, ctx, "03-worker")

	open(t, ctx, d.URL+"/people/trends")
	lines, err := eval[int](ctx, `document.querySelectorAll("#grid-trend svg polyline").length`)
	if err != nil || lines == 0 {
		errorPage(t, ctx, "the grid trend chart has no lines (%v)", err)
	}
	shot(t, ctx, "04-trends")

	for i, page := range []struct{ path, want string }{{"/people/training", "缺训"}, {"/people/volunteers", "志愿"}} {
		if st := open(t, ctx, d.URL+page.path); st != http.StatusOK {
			errorPage(t, ctx, "%s: status %d", page.path, st)
		}
		if !strings.Contains(bodyText(t, ctx), page.want) {
			errorPage(t, ctx, "%s lacks %q", page.path, page.want)
		}
		shot(t, ctx, []string{"06-training", "07-volunteers"}[i])
	}

	phone := newBrowser(t)
	do(t, phone, "phone size", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile, chromedp.EmulatePortrait))
	open(t, phone, d.URL+"/login")
	fillLogin(t, phone, d.Logins["grid"])
	do(t, phone, "log in", chromedp.Click(chromedp.CSS("form#login button[type=submit]")))
	waitFor(t, phone, `location.pathname !== "/login"`, "logged in")
	open(t, phone, d.URL+"/people")
	waitFor(t, phone, `location.pathname === "/people/me" && !!document.querySelector(".formula")`, "my assessment")
	do(t, phone, "explain", chromedp.SendKeys(chromedp.CSS(`#notes textarea[name=body]`), "本月有三天参加培训"),
		chromedp.Click(chromedp.CSS(`#notes button[type=submit]`)))
	waitFor(t, phone, `document.body.innerText.includes("本月有三天参加培训")`, "the explanation on the page")
	if wide, err := eval[bool](phone, `document.documentElement.scrollWidth > window.innerWidth + 1`); err != nil || wide {
		errorPage(t, phone, "my assessment is wider than the phone (%v)", err)
	}
	shot(t, phone, "05-mine-phone")
}
