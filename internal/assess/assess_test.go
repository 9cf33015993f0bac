package assess_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"shequ/internal/access"
	"shequ/internal/assess"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

var cst = time.FixedZone("CST", 8*3600)

// at is a moment of November 2026 (or another month) in China time.
func at(month time.Month, day, hour, min int) int64 {
	return time.Date(2026, month, day, hour, min, 0, 0, cst).UnixMilli()
}

// fixture is a community of two grids whose November is worked out by
// hand in the comments below; every figure the tests expect comes from
// them.
type fixture struct {
	s                  *store.Store
	clock              *testutil.Clock
	svc                *assess.Service
	comm, g1, g2       string
	w1, w2, w3, staff  string
	staffP, w1P, w2P   *access.Principal
	novemberAssessment assess.Period
}

func newFixture(t *testing.T, s *store.Store, clock *testutil.Clock) *fixture {
	ctx := context.Background()
	db := store.RawForTest(s)
	f := &fixture{s: s, clock: clock, comm: "C", g1: "G1", g2: "G2", w1: "W1", w2: "W2", w3: "W3", staff: "S"}
	f.svc = &assess.Service{Store: s, Audit: audit.New(func(b []byte) []byte { m := hmac.New(sha256.New, []byte("k")); m.Write(b); return m.Sum(nil) })}
	f.novemberAssessment, _ = assess.Month("2026-11")
	n := 0
	exec := func(q string, args ...any) {
		t.Helper()
		n++
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("fixture statement %d: %v\n%s", n, err, q)
		}
	}
	t0 := at(1, 1, 9, 0)
	exec(`INSERT INTO org_nodes (id, level, code, name, path, created_at, updated_at) VALUES ('C', 'community', '610402011901', '测试社区', '/C/', $1, $1)`, t0)
	exec(`INSERT INTO org_nodes (id, parent_id, level, code, name, path, created_at, updated_at) VALUES ('G1', 'C', 'grid', '610402011901001', '第一网格', '/C/G1/', $1, $1)`, t0)
	exec(`INSERT INTO org_nodes (id, parent_id, level, code, name, path, created_at, updated_at) VALUES ('G2', 'C', 'grid', '610402011901002', '第二网格', '/C/G2/', $1, $1)`, t0)
	for _, u := range [][2]string{{"W1", "王一"}, {"W2", "李二"}, {"W3", "张三"}, {"S", "社区书记"}} {
		exec(`INSERT INTO users (id, username, display_name, kind, created_at, updated_at) VALUES ($1, $2, $3, 'staff', $4, $4)`, u[0], u[0], u[1], t0)
	}
	// Rooms. G1: R1..R10 lived in since 2025; R11 empty; R12's household
	// left in October. G2: R21..R24 lived in.
	room := func(id, grid string) {
		exec(`INSERT INTO places (id, community_id, grid_id, kind, name, address, created_at, updated_at) VALUES ($1, 'C', $2, 'room', $1, $1, $3, $3)`, id, grid, t0)
	}
	// Households were entered in the ledger in December, after the people
	// had moved in: the move-in dates count, not the records' dates.
	household := func(room string, ended any) {
		until := any(nil)
		if ended != nil {
			until = "2026-10-15"
		}
		entered := at(12, 1, 9, 0)
		exec(`INSERT INTO households (id, room_id, created_at, updated_at, ended_at) VALUES ($1, $2, $3, $3, $4)`, "H"+room, room, entered, ended)
		exec(`INSERT INTO persons (id, name, residency, created_at, updated_at) VALUES ($1, $1, 'registered', $2, $2)`, "P"+room, entered)
		exec(`INSERT INTO household_members (household_id, person_id, since, until) VALUES ($1, $2, '2025-03-01', $3)`, "H"+room, "P"+room, until)
	}
	for i := 1; i <= 12; i++ {
		room(fmt.Sprintf("R%d", i), "G1")
	}
	for i := 1; i <= 10; i++ {
		household(fmt.Sprintf("R%d", i), nil)
	}
	household("R12", at(10, 15, 12, 0))
	for i := 21; i <= 24; i++ {
		room(fmt.Sprintf("R%d", i), "G2")
		household(fmt.Sprintf("R%d", i), nil)
	}

	// Coverage, through the same writes the product uses: W1 on G1 and W2
	// on G2 since October; W3 on G2 from 1 to 20 October only.
	clock.Set(time.Date(2026, 10, 1, 9, 0, 0, 0, cst))
	var w3a string
	err := s.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Assign(ctx, "W1", "grid", "G1", "S"); err != nil {
			return err
		}
		if _, err := tx.Assign(ctx, "W2", "grid", "G2", "S"); err != nil {
			return err
		}
		var err error
		w3a, err = tx.Assign(ctx, "W3", "grid", "G2", "S")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	clock.Set(time.Date(2026, 10, 20, 9, 0, 0, 0, cst))
	if err := s.Write(ctx, func(tx *store.Tx) error { _, err := tx.Unassign(ctx, w3a); return err }); err != nil {
		t.Fatal(err)
	}

	// Visits. W1: R1..R8 in November (R3 twice), R9 on 31 October.
	// W2: R10 (a G1 room, not W2's grid) and R21..R23.
	v := 0
	visit := func(user, room string, when int64) {
		v++
		exec(`INSERT INTO visits (id, room_id, user_id, client_id, at, received_at) VALUES ($1, $2, $3, $1, $4, $4)`, fmt.Sprintf("V%d", v), room, user, when)
	}
	for i := 1; i <= 8; i++ {
		visit("W1", fmt.Sprintf("R%d", i), at(11, i+1, 10, 0))
	}
	visit("W1", "R3", at(11, 20, 8, 0))
	visit("W1", "R9", at(10, 31, 23, 0))
	visit("W2", "R10", at(11, 3, 10, 0))
	for i := 21; i <= 23; i++ {
		visit("W2", fmt.Sprintf("R%d", i), at(11, 4, 10, 0))
	}

	// Leads (today is 20 November). W1: L1 on time, L2 a day late, L3
	// overdue, L4 not yet due, L5 verified one minute before midnight.
	// W2: L6 early.
	exec(`INSERT INTO lead_batches (id, node_id, name, source, deadline, created_at) VALUES ('B', 'C', '协查', 'import', '2026-11-30', $1)`, at(11, 1, 8, 0))
	lead := func(id, grid, user, deadline string, verified any) {
		status := "assigned"
		if verified != nil {
			status = "verified"
		}
		exec(`INSERT INTO leads (id, batch_id, deadline, node_id, assignee_id, status, verified_at, created_at, updated_at) VALUES ($1, 'B', $2, $3, $4, $5, $6, $7, $7)`,
			id, deadline, grid, user, status, verified, at(11, 1, 8, 0))
	}
	lead("L1", "G1", "W1", "2026-11-05", at(11, 5, 15, 0))
	lead("L2", "G1", "W1", "2026-11-06", at(11, 7, 9, 0))
	lead("L3", "G1", "W1", "2026-11-10", nil)
	lead("L4", "G1", "W1", "2026-11-25", nil)
	lead("L5", "G1", "W1", "2026-11-08", at(11, 8, 23, 59))
	lead("L6", "G2", "W2", "2026-11-12", at(11, 11, 9, 0))
	lead("L7", "G2", "W2", "2026-10-30", at(11, 2, 9, 0)) // deadline in October: not November's

	// Events. E1 in time, rated 5; E2 late, rated 3; E3 resolved in
	// October, rated 4 in November; E4 (W2) in time, not rated.
	event := func(id, grid, finisher string, due, resolved int64, rating any, rated int64) {
		exec(`INSERT INTO events (id, ref, community_id, grid_id, category_id, title, source, status, due_at, rating, created_at, updated_at, resolved_at)
			VALUES ($1, $1, 'C', $2, 'cat-fever', $1, 'grid', 'closed', $3, $4, $5, $5, $6)`, id, grid, due, rating, resolved-3600_000, resolved)
		exec(`INSERT INTO event_steps (id, event_id, at, actor_id, action) VALUES ($1, $2, $3, $4, 'finish')`, id+"f", id, resolved, finisher)
		if rating != nil {
			exec(`INSERT INTO event_steps (id, event_id, at, actor_id, action) VALUES ($1, $2, $3, NULL, 'evaluate')`, id+"e", id, rated)
		}
	}
	event("E1", "G1", "W1", at(11, 10, 12, 0), at(11, 9, 12, 0), 5, at(11, 12, 9, 0))
	event("E2", "G1", "W1", at(11, 10, 12, 0), at(11, 11, 12, 0), 3, at(11, 15, 9, 0))
	event("E3", "G1", "W1", at(10, 29, 12, 0), at(10, 30, 12, 0), 4, at(11, 2, 9, 0))
	event("E4", "G2", "W2", at(11, 4, 12, 0), at(11, 3, 12, 0), nil, 0)

	// Patrols (one a week per point; November has 5 started weeks). W1: P1
	// seven times, P2 twice. W2: P3 five times.
	exec(`INSERT INTO patrol_points (id, community_id, grid_id, name, kind, token, created_at) VALUES ('P1', 'C', 'G1', '东门', 'entrance', 't1', $1), ('P2', 'C', 'G1', '商铺', 'shop', 't2', $1), ('P3', 'C', 'G2', '出租屋', 'rental', 't3', $1)`, t0)
	pn := 0
	patrol := func(user, point string, times int) {
		for i := range times {
			pn++
			exec(`INSERT INTO patrols (id, point_id, user_id, client_id, at, received_at) VALUES ($1, $2, $3, $1, $4, $4)`, fmt.Sprintf("T%d", pn), point, user, at(11, 1+i*3, 16, 0))
		}
	}
	patrol("W1", "P1", 7)
	patrol("W1", "P2", 2)
	patrol("W2", "P3", 5)

	clock.Set(time.Date(2026, 11, 20, 10, 0, 0, 0, cst))
	f.staffP = &access.Principal{UserID: "S", Name: "社区书记", Kind: "staff", Assignments: []access.Assignment{{Role: access.Staff, NodeID: "C", NodePath: "/C/"}}}
	f.w1P = &access.Principal{UserID: "W1", Name: "王一", Kind: "staff", Assignments: []access.Assignment{{Role: access.Grid, NodeID: "G1", NodePath: "/C/G1/"}}}
	f.w2P = &access.Principal{UserID: "W2", Name: "李二", Kind: "staff", Assignments: []access.Assignment{{Role: access.Grid, NodeID: "G2", NodePath: "/C/G2/"}}}
	return f
}

func part(t *testing.T, sc assess.Score, name string, num, den int, rate float64) {
	t.Helper()
	p := sc.Part(name)
	if p.Num != num || p.Den != den || p.Rate() != rate {
		t.Errorf("%s %s: %d/%d = %.1f, want %d/%d = %.1f", sc.Name, name, p.Num, p.Den, p.Rate(), num, den, rate)
	}
}

func TestNovemberByHand(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 11, 20, 10, 0, 0, 0, cst))
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, clock)
		r, err := f.svc.Assess(ctx, f.staffP, "C", f.novemberAssessment)
		if err != nil {
			t.Fatal(err)
		}
		// W3 left G2 in October: not assessed for November.
		if len(r.Workers) != 2 {
			t.Fatalf("workers assessed: %+v", r.Workers)
		}
		// Default weights 30/25/20/15/10.
		// W2: visits 3 of 4 = 75; leads 1 of 1 = 100; events 1 of 1 = 100;
		// patrols 5 of 5 = 100; no rating, so its weight is left out:
		// (30×75 + 25×100 + 20×100 + 15×100) ÷ 90 = 8250 ÷ 90 = 91.67 → 91.7.
		w2 := r.Workers[0]
		if w2.ID != "W2" || w2.Rank != 1 {
			t.Fatalf("first: %s rank %d", w2.Name, w2.Rank)
		}
		part(t, w2, assess.Visits, 3, 4, 75)
		part(t, w2, assess.Leads, 1, 1, 100)
		part(t, w2, assess.Events, 1, 1, 100)
		part(t, w2, assess.Patrols, 5, 5, 100)
		part(t, w2, assess.Rating, 0, 0, 0)
		if w2.Score != 91.7 || w2.Weighted != 90 {
			t.Errorf("W2 score %.1f over weights %d, want 91.7 over 90", w2.Score, w2.Weighted)
		}
		// W1: visits 8 of 10 = 80 (R3 twice counts once, R9 was October's,
		// R11 is empty, R12's household left); leads: L1 and L5 on time, L2
		// late, L3 overdue, L4 not due yet = 2 of 4 = 50; events: E1 in time,
		// E2 late = 1 of 2 = 50 (E3 was resolved in October); patrols
		// min(7,5) + 2 = 7 of 10 = 70; ratings 5, 3 and 4 given in November:
		// 12 of 3×5 = 80.
		// (30×80 + 25×50 + 20×50 + 15×70 + 10×80) ÷ 100 = 6500 ÷ 100 = 65.0.
		w1 := r.Workers[1]
		if w1.ID != "W1" || w1.Rank != 2 {
			t.Fatalf("second: %s rank %d", w1.Name, w1.Rank)
		}
		part(t, w1, assess.Visits, 8, 10, 80)
		part(t, w1, assess.Leads, 2, 4, 50)
		if p := w1.Part(assess.Leads); p.Extra["late"] != 2 || p.Extra["pending"] != 1 {
			t.Errorf("W1 leads late/pending: %v", p.Extra)
		}
		part(t, w1, assess.Events, 1, 2, 50)
		part(t, w1, assess.Patrols, 7, 10, 70)
		part(t, w1, assess.Rating, 12, 3, 80)
		if w1.Score != 65 || w1.Final != 65 {
			t.Errorf("W1 score %.1f final %.1f, want 65.0", w1.Score, w1.Final)
		}
		if got := assess.Formula(w1); got != "(30×80.0 + 25×50.0 + 20×50.0 + 15×70.0 + 10×80.0) ÷ 100 = 65.0" {
			t.Errorf("formula: %s", got)
		}
		// Grids count everybody's work. G1: 9 of 10 rooms visited (W2's R10
		// too) = 90; leads 50; events 50; patrols 70; rating 80:
		// (2700 + 1250 + 1000 + 1050 + 800) ÷ 100 = 68.0. G2 as W2: 91.7.
		if r.Grids[0].ID != "G2" || r.Grids[0].Score != 91.7 || r.Grids[1].ID != "G1" || r.Grids[1].Score != 68 {
			t.Errorf("grid ranking: %s %.1f, %s %.1f", r.Grids[0].Name, r.Grids[0].Score, r.Grids[1].Name, r.Grids[1].Score)
		}
		part(t, r.Grids[1], assess.Visits, 9, 10, 90)

		// A community that weighs visits and ratings most ranks W1 first:
		// W1 (60×80 + 10×70 + 30×80) ÷ 100 = 79.0;
		// W2 (60×75 + 10×100) ÷ 70 = 5500 ÷ 70 = 78.57 → 78.6.
		set := assess.Defaults
		set.Visits, set.Leads, set.Events, set.Patrols, set.Rating = 60, 0, 0, 10, 30
		if err := f.svc.SaveSettings(ctx, f.staffP, "C", set); err != nil {
			t.Fatal(err)
		}
		r, err = f.svc.Assess(ctx, f.staffP, "C", f.novemberAssessment)
		if err != nil {
			t.Fatal(err)
		}
		if r.Workers[0].ID != "W1" || r.Workers[0].Score != 79 || r.Workers[1].Score != 78.6 {
			t.Errorf("after the new weights: %s %.1f, %s %.1f", r.Workers[0].Name, r.Workers[0].Score, r.Workers[1].Name, r.Workers[1].Score)
		}

		// The export carries the same figures.
		var buf bytes.Buffer
		if err := assess.WriteXLSX(&buf, r, func(k string, _ ...any) string { return k }); err != nil {
			t.Fatal(err)
		}
		x, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.GetRows(x.GetSheetName(0))
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 3 {
			t.Fatalf("export rows: %v", rows)
		}
		header, first := rows[0], rows[1]
		cell := func(name string) string {
			for i, h := range header {
				if h == name && i < len(first) {
					return first[i]
				}
			}
			t.Fatalf("no column %s in %v", name, header)
			return ""
		}
		if cell("assess.col_worker") != "王一" || cell("assess.col_rank") != "1" || cell("assess.col_score") != "79" ||
			cell("assess.col_visits_rate") != "80" || cell("assess.col_visits_num") != "8" || cell("assess.col_visits_den") != "10" ||
			cell("assess.col_rating_rate") != "80" || cell("assess.col_final") != "79" {
			t.Errorf("export first row: %v / %v", header, first)
		}
	})
}

func TestAppealsAndSettings(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 11, 20, 10, 0, 0, 0, cst))
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s, clock)
		nov := f.novemberAssessment

		// A worker appeals; only staff decide; an upheld appeal adds its points.
		if err := f.svc.AddNote(ctx, f.w1P, "C", nov, "appeal", "L3 的人员已离开本市，系统无法核实"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.AddNote(ctx, f.w1P, "C", nov, "appeal", "  "); !errs.Is(err, errs.Invalid) {
			t.Errorf("empty appeal: %v", err)
		}
		mine, err := f.svc.Mine(ctx, f.w1P, nov)
		if err != nil || len(mine) != 1 || len(mine[0].Workers) != 1 || len(mine[0].Notes) != 1 {
			t.Fatalf("the worker's own view: %v %+v", err, mine)
		}
		note := mine[0].Notes[0]
		if err := f.svc.Decide(ctx, f.w2P, "C", note.ID, "upheld", "同意", 30); !errs.Is(err, errs.Forbidden) {
			t.Errorf("a worker decided an appeal: %v", err)
		}
		if err := f.svc.Decide(ctx, f.staffP, "C", note.ID, "upheld", "核实属实，L3 不计", 300); !errs.Is(err, errs.Invalid) {
			t.Errorf("30 points adjustment accepted: %v", err)
		}
		if err := f.svc.Decide(ctx, f.staffP, "C", note.ID, "upheld", "核实属实，L3 不计", 30); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Decide(ctx, f.staffP, "C", note.ID, "dismissed", "再议", 0); !errs.Is(err, errs.Conflict) {
			t.Errorf("decided twice: %v", err)
		}
		r, err := f.svc.Assess(ctx, f.staffP, "C", nov)
		if err != nil {
			t.Fatal(err)
		}
		w1, _ := r.Worker("W1")
		if w1.Score != 65 || w1.Adjust != 3 || w1.Final != 68 {
			t.Errorf("after the upheld appeal: score %.1f adjust %.1f final %.1f", w1.Score, w1.Adjust, w1.Final)
		}
		// W3 did not work in November and cannot appeal it.
		w3P := &access.Principal{UserID: "W3", Assignments: []access.Assignment{{Role: access.Grid, NodePath: "/C/G2/"}}}
		if err := f.svc.AddNote(ctx, w3P, "C", nov, "explanation", "…"); !errs.Is(err, errs.Forbidden) {
			t.Errorf("W3 explained November: %v", err)
		}

		// Settings are checked field by field and nothing is written on error.
		bad := assess.Defaults
		bad.Visits = 101
		if err := f.svc.SaveSettings(ctx, f.staffP, "C", bad); !errs.Is(err, errs.Invalid) || fieldOf(err) != "w_visits" {
			t.Errorf("weight 101: %v", err)
		}
		if err := f.svc.SaveSettings(ctx, f.w1P, "C", assess.Defaults); !errs.Is(err, errs.Forbidden) {
			t.Errorf("a worker changed the weights: %v", err)
		}
		if got, _ := f.svc.Settings(ctx, "C"); got != assess.Defaults {
			t.Errorf("settings changed by refused saves: %+v", got)
		}

		// Staffing: W1 carries G1's 10 households, W2 G2's 4; with a limit
		// of 5, W1 is over it. W3's month on G2 is in the history.
		set := assess.Defaults
		set.LoadLimit = 5
		if err := f.svc.SaveSettings(ctx, f.staffP, "C", set); err != nil {
			t.Fatal(err)
		}
		st, err := f.svc.Staffing(ctx, f.staffP, "C")
		if err != nil {
			t.Fatal(err)
		}
		if st.Unstaffed != 0 || st.Over != 1 || len(st.Workers) != 2 || st.Workers[0].Name != "王一" || st.Workers[0].Households != 10 || !st.Workers[0].Over || st.Workers[1].Households != 4 {
			t.Errorf("staffing: %+v", st)
		}
		found := false
		for _, h := range st.History {
			if h.UserID == "W3" && h.Until == at(10, 20, 9, 0) && h.From == at(10, 1, 9, 0) {
				found = true
			}
		}
		if !found {
			t.Errorf("W3's October on G2 missing from the history: %+v", st.History)
		}
	})
}

func fieldOf(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Field
	}
	return ""
}
