package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"shequ/internal/access"
	"shequ/internal/apptest"
)

// Staff see the community's staffing, workload, ranking and trends and
// export the assessment; a grid worker sees only their own, explains or
// appeals it, and the staff's answer (with its points) reaches the final
// score. Bad settings are refused on the field and change nothing.
func TestPeopleAndAssessment(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	worker := e.Login(t, access.Grid)
	base := e.Server.URL

	st, body, _ := apptest.Do(t, staff, "GET", base+"/people", nil, nil)
	if st != 200 || !strings.Contains(body, "网格包片记录") || !strings.Contains(body, "第一网格") || !strings.Contains(body, `id="unstaffed">0<`) {
		t.Fatalf("staffing page: %d", st)
	}
	for _, path := range []string{"/people/workload", "/people/assessment", "/people/trends", "/people/assessment?month=2026-10", "/people/workload?from=2026-11-01&to=2026-11-28"} {
		if st, body, _ := apptest.Do(t, staff, "GET", base+path, nil, nil); st != 200 || strings.Contains(body, "assess.") || strings.Contains(body, "work.") {
			t.Errorf("%s: %d or an untranslated key", path, st)
		}
	}
	st, body, h := apptest.Do(t, staff, "GET", base+"/people/assessment.xlsx?month=2026-11", nil, nil)
	if st != 200 || !strings.Contains(h.Get("Content-Disposition"), ".xlsx") {
		t.Fatalf("export: %d %v", st, h)
	}
	x, err := excelize.OpenReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows("网格员")
	if len(rows) < 2 || rows[0][0] != "名次" || rows[0][1] != "网格员" {
		t.Fatalf("export sheet: %v", rows)
	}

	// The worker is taken to their own assessment and cannot see others'.
	st, _, h = apptest.Do(t, worker, "GET", base+"/people", nil, nil)
	if st != 303 || h.Get("Location") != "/people/me" {
		t.Fatalf("worker at /people: %d %s", st, h.Get("Location"))
	}
	if st, _, _ := apptest.Do(t, worker, "GET", base+"/people/assessment", nil, nil); st != 403 {
		t.Errorf("worker at the community's ranking: %d", st)
	}
	st, body, _ = apptest.Do(t, worker, "GET", base+"/people/me", nil, nil)
	if st != 200 || !strings.Contains(body, "入户走访覆盖") || !strings.Contains(body, "计算：") {
		t.Fatalf("my assessment: %d %s", st, body)
	}
	comm := between(body, `name="community" value="`, `"`)
	from, to := between(body, `name="from" value="`, `"`), between(body, `name="to" value="`, `"`)
	st, _, h = apptest.Do(t, worker, "POST", base+"/people/me/notes", url.Values{"community": {comm}, "from": {from}, "to": {to}, "kind": {"appeal"}, "body": {"11月有一周住院，走访未完成"}}, nil)
	if st != 303 || strings.Contains(h.Get("Location"), "error=") {
		t.Fatalf("appeal: %d %s", st, h.Get("Location"))
	}

	// Staff see the open appeal on the worker's page and uphold it with +2.5.
	_, body, _ = apptest.Do(t, staff, "GET", base+"/people/assessment?community="+comm+"&from="+from+"&to="+to, nil, nil)
	if !strings.Contains(body, "有待处理申诉") {
		t.Fatal("the ranking does not show the open appeal")
	}
	row := body[:strings.Index(body, "有待处理申诉")]
	workerLink := between(row[strings.LastIndex(row, `<a href="/people/assessment/`):], `<a href="/people/assessment/`, `?`)
	_, body, _ = apptest.Do(t, staff, "GET", base+"/people/assessment/"+workerLink+"?community="+comm+"&from="+from+"&to="+to, nil, nil)
	if !strings.Contains(body, "11月有一周住院") {
		t.Fatalf("the appeal is not on the worker's page")
	}
	var noteID string
	if i := strings.Index(body, `action="/people/appeals/`); i >= 0 {
		noteID = between(body[i:], `action="/people/appeals/`, `"`)
	}
	if noteID == "" {
		t.Fatalf("no appeal form on the worker's page")
	}
	before := between(body, `<b class="big">`, `</b>`)
	form := url.Values{"community": {comm}, "user": {workerLink}, "from": {from}, "to": {to}, "status": {"upheld"}, "reply": {"情况属实"}, "adjust": {"+2.5"}}
	if st, _, h := apptest.Do(t, worker, "POST", base+"/people/appeals/"+noteID, form, nil); st != 403 {
		t.Errorf("the worker decided their own appeal: %d %s", st, h.Get("Location"))
	}
	st, _, h = apptest.Do(t, staff, "POST", base+"/people/appeals/"+noteID, form, nil)
	if st != 303 || strings.Contains(h.Get("Location"), "error=") {
		t.Fatalf("decide: %d %s", st, h.Get("Location"))
	}
	_, body, _ = apptest.Do(t, worker, "GET", base+"/people/me?from="+from+"&to="+to, nil, nil)
	if !strings.Contains(body, "申诉成立") || !strings.Contains(body, "情况属实") || !strings.Contains(body, "&#43;2.5") {
		t.Fatalf("the worker does not see the answer")
	}
	if after := between(body, `<b class="big">`, `</b>`); after == before && before != "100.0" {
		t.Errorf("final score unchanged by the upheld appeal: %s", after)
	}

	// A weight of 101 is refused on its field; nothing changes.
	st, _, h = apptest.Do(t, staff, "POST", base+"/people/settings", url.Values{"community": {comm}, "w_visits": {"101"}, "w_leads": {"25"}, "w_events": {"20"},
		"w_patrols": {"15"}, "w_rating": {"10"}, "patrols_per_week": {"1"}, "load_limit": {"300"}, "visit_cycle_days": {"90"}}, nil)
	if st != 303 || !strings.Contains(h.Get("Location"), "error=") {
		t.Fatalf("bad weight: %d %s", st, h.Get("Location"))
	}
	if _, body, _ := apptest.Do(t, staff, "GET", base+h.Get("Location"), nil, nil); !strings.Contains(body, "0 到 100 之间的整数") || !strings.Contains(body, `name="w_visits" min="0" max="100" value="30"`) {
		t.Errorf("the refusal is not shown or the weight changed")
	}
}

// between returns the text after the first a and before the next b.
func between(s, a, b string) string {
	i := strings.Index(s, a)
	if i < 0 {
		return ""
	}
	s = s[i+len(a):]
	if j := strings.Index(s, b); j >= 0 {
		return s[:j]
	}
	return ""
}
