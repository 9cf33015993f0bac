package loadgen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"shequ/internal/apptest"
	"shequ/internal/loadgen"
	"shequ/internal/store"
)

func TestPercentileIsNearestRank(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		if got := loadgen.Percentile(d, c.q); got != c.want {
			t.Errorf("p%v of 1..100 ms = %v, want %v", c.q*100, got, c.want)
		}
	}
	three := []time.Duration{1, 2, 30}
	if got := loadgen.Percentile(three, 0.5); got != 2 {
		t.Errorf("median of 1, 2, 30 = %v", got)
	}
	if got := loadgen.Percentile(three, 0.99); got != 30 {
		t.Errorf("p99 of three samples = %v, want the largest", got)
	}
	if got := loadgen.Percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
}

func TestSplitSharesClientsByWeight(t *testing.T) {
	got, err := loadgen.Split("all", 20)
	if err != nil {
		t.Fatal(err)
	}
	// One each, then 16 by 0.55/0.20/0.15/0.10 (8.8, 3.2, 2.4, 1.6) with
	// the two left over to the largest remainders (gate .8, dashboards .6).
	want := map[loadgen.Scenario]int{loadgen.Gate: 10, loadgen.SelfReport: 4, loadgen.GridSync: 3, loadgen.Dashboards: 3}
	for s, n := range want {
		if got[s] != n {
			t.Errorf("all of 20: %s got %d clients, want %d (%v)", s, got[s], n, got)
		}
	}
	for _, n := range []int{4, 5, 7, 13, 64, 1000} {
		got, err := loadgen.Split("all", n)
		if err != nil {
			t.Fatal(err)
		}
		sum := 0
		for _, v := range got {
			if v < 1 {
				t.Errorf("all of %d: a kind without clients: %v", n, got)
			}
			sum += v
		}
		if sum != n {
			t.Errorf("all of %d shared out %d clients", n, sum)
		}
		if got[loadgen.Gate] < got[loadgen.Dashboards] {
			t.Errorf("all of %d: gates (%d) fewer than screens (%d)", n, got[loadgen.Gate], got[loadgen.Dashboards])
		}
	}
	if got, _ := loadgen.Split("gate-peak", 5); got[loadgen.Gate] != 5 || len(got) != 1 {
		t.Errorf("gate-peak of 5 = %v", got)
	}
	if _, err := loadgen.Split("all", 3); err == nil || !strings.Contains(err.Error(), "at least 4") {
		t.Errorf("all with 3 clients: %v", err)
	}
	if _, err := loadgen.Split("lunch", 8); err == nil || !strings.Contains(err.Error(), "gate-peak") {
		t.Errorf("an unknown mix should list the mixes: %v", err)
	}
}

func TestParseDemoReadsWhatTheDemoPrints(t *testing.T) {
	out := `url: http://127.0.0.1:40123
login: admin admin pw1
login: staff staff pw:with:colons
login: grid grid pw3
device: HY-N-TURNSTILE sq_aaa
device: FL-S-TURNSTILE sq_bbb
open311: o311_x
partner: 秦都区卫生健康局 sq_p
selfreport: http://127.0.0.1:40123/r/TOKEN123
# resident: log in at /login/resident with 13800000000; the one-time code appears in the log
# demo database /tmp/x/demo.db (key /tmp/x/demo.key), seed 1, built in 3.0s; Ctrl-C stops it
url: http://ignored
`
	tg, err := loadgen.ParseDemo(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if tg.URL != "http://127.0.0.1:40123" || tg.SelfReport != "TOKEN123" || len(tg.Devices) != 2 || tg.Devices[1] != "sq_bbb" {
		t.Errorf("parsed %+v", tg)
	}
	if len(tg.Logins) != 3 || tg.Logins[1] != (loadgen.Login{Role: "staff", Username: "staff", Password: "pw:with:colons"}) {
		t.Errorf("logins %+v", tg.Logins)
	}
	if _, err := loadgen.ParseDemo(strings.NewReader("url: http://x\nlogin: a b c\n")); err == nil {
		t.Error("a demo that ended before serving was taken for a running one")
	}
}

// TestLoadAgainstARealServer runs every mix at once for a moment against a
// whole running instance (demo community, SQLite): every kind of request
// is sent, none fails, and what the tool counts as acknowledged is what
// the database holds afterwards. No figure is checked: speed is measured
// by running the tool (docs/performance.md), never by a test.
func TestLoadAgainstARealServer(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	e.App.Web.Cfg.TrustProxy = true
	ctx := context.Background()
	target := loadgen.Target{URL: e.Server.URL, SelfReport: e.Demo.SelfReportToken, Forwarded: true}
	for _, d := range e.Demo.Devices {
		target.Devices = append(target.Devices, d.Token)
	}
	for _, l := range e.Demo.Logins {
		target.Logins = append(target.Logins, loadgen.Login{Role: string(l.Role), Username: l.Username, Password: l.Password})
	}
	w, err := loadgen.Prepare(ctx, target)
	if err != nil {
		t.Fatal(err)
	}
	raw := store.RawForTest(e.App.Store)
	count := func(q string) int {
		var n int
		if err := raw.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	reportsBefore := count(`SELECT count(*) FROM self_reports`)
	rep, err := loadgen.Run(ctx, w, loadgen.Options{Mix: "all", Concurrency: 10, Duration: 1500 * time.Millisecond, Seed: 3, Limit: true})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]loadgen.KindStats{}
	for _, k := range rep.Server.Kinds {
		kinds[k.Kind] = k
		if k.Errors != 0 {
			t.Errorf("%s: %d errors %v", k.Kind, k.Errors, k.ErrorsBy)
		}
	}
	for _, k := range []string{"gate-decide", "report-form", "report-rooms", "report-submit", "grid-visit", "brain-stream", "brain-page"} {
		if kinds[k].Count == 0 {
			t.Errorf("no %s request was sent: %+v", k, rep.Server.Kinds)
		}
	}
	if rep.Server.Streams != rep.Clients[loadgen.Dashboards] {
		t.Errorf("%d big screens, %d streams held open", rep.Clients[loadgen.Dashboards], rep.Server.Streams)
	}
	if got, want := count(`SELECT count(*) FROM self_reports`)-reportsBefore, kinds["report-submit"].Count; got != want {
		t.Errorf("%d self-reports acknowledged, %d stored", want, got)
	}
	if got, want := count(`SELECT count(*) FROM visits WHERE client_id LIKE 'load-%'`), kinds["grid-visit"].Count; got != want {
		t.Errorf("%d visits acknowledged, %d stored", want, got)
	}
	if got, want := count(`SELECT count(*) FROM pass_events WHERE event_id LIKE 'load-%'`), kinds["gate-events"].Count*20; got != want {
		t.Errorf("%d pass events acknowledged, %d stored", want, got)
	}
	// The limit: the same kinds against the no-op handler, and the ratio.
	if rep.Limit == nil || rep.Limit.Total.Count == 0 || rep.Limit.Total.Errors != 0 {
		t.Fatalf("no clean limit run: %+v", rep.Limit)
	}
	if d := kinds["gate-decide"]; d.LimitPerSec == 0 || d.RatioPerSec == 0 || d.RatioP50 == 0 {
		t.Errorf("gate decisions without a ratio to the limit: %+v", d)
	}
	var text, js bytes.Buffer
	rep.WriteText(&text)
	for _, want := range []string{"gate-decide", "report-submit", "grid-visit", "brain-page", "ratio/s", "no-op"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, text.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back loadgen.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Server.Total.Count != rep.Server.Total.Count || back.Limit == nil {
		t.Errorf("the JSON report does not read back: %v", err)
	}
}

// TestRefusalsAreCountedByStatus: residents all coming from one address to
// a server that does not trust X-Forwarded-For hit its per-address limit;
// the report counts the refusals by status rather than hiding them.
func TestRefusalsAreCountedByStatus(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	w, err := loadgen.Prepare(context.Background(), loadgen.Target{URL: e.Server.URL, SelfReport: e.Demo.SelfReportToken})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := loadgen.Run(context.Background(), w, loadgen.Options{Mix: "selfreport-flood", Concurrency: 4, Duration: time.Second, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var submit loadgen.KindStats
	for _, k := range rep.Server.Kinds {
		if k.Kind == "report-submit" {
			submit = k
		}
	}
	if submit.Count <= 30 {
		t.Skipf("only %d reports sent: the per-address limit (30 a minute) was not reached", submit.Count)
	}
	if submit.ErrorsBy["HTTP 429"] == 0 || submit.Errors != submit.ErrorsBy["HTTP 429"] {
		t.Errorf("%d reports from one address: errors %v, want HTTP 429 refusals", submit.Count, submit.ErrorsBy)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	if !strings.Contains(text.String(), "report-submit HTTP 429") {
		t.Errorf("the table does not name the refusals:\n%s", text.String())
	}
}
