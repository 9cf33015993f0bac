package brain_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"shequ/internal/brain"
	"shequ/internal/store"
)

// The district of the target: SHEQU_BENCH_PEOPLE people (default
// 1,000,000) in 10 streets × 10 communities × 5 grids, three to a room,
// and SHEQU_BENCH_PASSES pass events (default 10,000,000) at 2,000 gates
// (20 per community) over the last 30 days. SHEQU_BENCH_DIR keeps the
// SQLite file between runs.

const (
	benchStreets = 10
	benchComms   = 10 // per street
	benchGrids   = 5  // per community
	benchGates   = 20 // per community
	benchDays    = 30
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

type district struct {
	s        *store.Store
	district store.OrgNode
	comm     store.OrgNode // the first community
	build    time.Duration
	refresh  time.Duration
	file     string
}

func buildDistrict(b *testing.B, people, passes int) district {
	b.Helper()
	dir := os.Getenv("SHEQU_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("brain-%d-%d.db", people, passes))
	_, statErr := os.Stat(path)
	ctx := context.Background()
	s, err := store.Open(ctx, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	d := district{s: s, file: path}
	if statErr == nil {
		if d.district, err = s.OrgNodeByCode(ctx, "610399000000"); err != nil {
			b.Fatal(err)
		}
		if d.comm, err = s.OrgNodeByCode(ctx, "610399001001"); err != nil {
			b.Fatal(err)
		}
		return d
	}
	began := time.Now()
	now := s.Now()
	today := s.Today()
	var grids []store.Place // a house per grid; its rooms follow
	var gates []store.Gate
	devices := map[string]string{}
	must(b, s.Write(ctx, func(tx *store.Tx) error {
		d.district = store.OrgNode{Code: "610399000000", Name: "基准区", Level: store.LevelDistrict}
		must(b, tx.CreateOrgNode(ctx, &d.district, ""))
		for si := 1; si <= benchStreets; si++ {
			st := store.OrgNode{ParentID: d.district.ID, Code: fmt.Sprintf("610399%03d000", si), Name: fmt.Sprintf("第%d街道", si), Level: store.LevelStreet}
			must(b, tx.CreateOrgNode(ctx, &st, ""))
			for ci := 1; ci <= benchComms; ci++ {
				c := store.OrgNode{ParentID: st.ID, Code: fmt.Sprintf("610399%03d%03d", si, ci), Name: fmt.Sprintf("%d-%d社区", si, ci), Level: store.LevelCommunity}
				must(b, tx.CreateOrgNode(ctx, &c, ""))
				if si == 1 && ci == 1 {
					d.comm = c
				}
				for gi := 1; gi <= benchGrids; gi++ {
					g := store.OrgNode{ParentID: c.ID, Code: fmt.Sprintf("%s%03d", c.Code, gi), Name: fmt.Sprintf("第%d网格", gi), Level: store.LevelGrid}
					must(b, tx.CreateOrgNode(ctx, &g, ""))
					h := store.Place{CommunityID: c.ID, GridID: g.ID, Kind: store.PlaceHouse, Name: g.Code, Address: g.Code}
					must(b, tx.CreatePlace(ctx, &h))
					grids = append(grids, h)
				}
				for k := 1; k <= benchGates; k++ {
					g := store.Gate{CommunityID: c.ID, Code: fmt.Sprintf("%s-%02d", c.Code, k), Name: fmt.Sprintf("%d号门", k), Kind: "turnstile"}
					must(b, tx.CreateGate(ctx, &g))
					u := store.User{Username: "dev-" + g.Code, DisplayName: g.Name, Kind: "api"}
					must(b, tx.CreateUser(ctx, &u))
					dv := store.Device{GateID: g.ID, UserID: u.ID, Name: g.Name}
					must(b, tx.CreateDevice(ctx, &dv))
					gates = append(gates, g)
					devices[g.ID] = dv.ID
				}
			}
		}
		return nil
	}))

	// People, three to a room, in 20,000-person transactions through the
	// store's own write methods (as the ledger benches do), with doses,
	// recent tests and some monitoring.
	const perTx = 20000
	rooms := (people + 2) / 3
	var room store.Place
	var hh store.Household
	for startI := 0; startI < people; startI += perTx {
		must(b, s.Write(ctx, func(tx *store.Tx) error {
			for i := startI; i < min(people, startI+perTx); i++ {
				if i%3 == 0 {
					r := i / 3
					house := grids[r*len(grids)/rooms]
					room = store.Place{CommunityID: house.CommunityID, GridID: house.GridID, ParentID: house.ID, Kind: store.PlaceRoom,
						Name: strconv.Itoa(r), Address: house.Address + "-" + strconv.Itoa(r), Survey: []string{"pending", "surveyed", "surveyed", "flagged"}[r%4]}
					must(b, tx.CreatePlace(ctx, &room))
					hh = store.Household{RoomID: room.ID, Kind: []string{"family", "family", "rental"}[r%3]}
					must(b, tx.CreateHousehold(ctx, &hh))
				}
				p := store.Person{Name: "测试" + strconv.Itoa(i), Residency: []string{"registered", "registered", "permanent", "floating"}[i%4],
					BirthDate: fmt.Sprintf("%04d-%02d-%02d", 1930+i%95, 1+i%12, 1+i%28)}
				must(b, tx.CreatePerson(ctx, &p))
				must(b, tx.AddMember(ctx, store.Member{HouseholdID: hh.ID, PersonID: p.ID, Relation: "02"}))
				if i%10 < 7 {
					must(b, tx.AddVaccination(ctx, &store.Vaccination{PersonID: p.ID, Vaccine: "v", Dose: 1, GivenOn: "2026-01-05", Source: "bench"}))
				}
				if i%5 == 0 {
					must(b, tx.AddTest(ctx, &store.HealthTest{PersonID: p.ID, Kind: "nucleic", SampledAt: now.Add(-time.Duration(i%9) * 24 * time.Hour),
						Result: "negative", Source: "bench"}))
				}
				if i%200 == 0 {
					must(b, tx.AddMonitoring(ctx, &store.Monitoring{PersonID: p.ID, Kind: "home_quarantine", StartDate: today, EndDate: today, Source: "bench"}))
				}
			}
			return nil
		}))
	}

	// Pass events through the live insert path (tx.InsertPass, which also
	// fills pass_hourly), 5,000 a transaction as the gate committer
	// gathers them, in the order they happened.
	from := now.Add(-benchDays * 24 * time.Hour)
	step := time.Duration(int64(benchDays*24*time.Hour) / int64(max(passes, 1)))
	const passTx = 5000
	for startI := 0; startI < passes; startI += passTx {
		must(b, s.Write(ctx, func(tx *store.Tx) error {
			for i := startI; i < min(passes, startI+passTx); i++ {
				g := gates[(i*7919)%len(gates)]
				at := from.Add(time.Duration(i) * step)
				p := store.PassRecord{DeviceID: devices[g.ID], GateID: g.ID, EventID: strconv.Itoa(i), Credential: "card",
					Outcome:   []string{"allow", "allow", "allow", "allow", "allow", "allow", "allow", "allow", "allow", "deny"}[i%10],
					Direction: []string{"in", "out"}[i%2], DeviceTime: at, ReceivedAt: at}
				if _, err := tx.InsertPass(ctx, &p); err != nil {
					return err
				}
			}
			return nil
		}))
	}

	// Live things: leads, open events, open alarms.
	db := store.RawForTest(s)
	if _, err := db.Exec(`INSERT INTO lead_batches (id, node_id, name, source, deadline, created_at) VALUES ('lb', $1, 'b', 'import', $2, 0)`, d.district.ID, today); err != nil {
		b.Fatal(err)
	}
	ltx, _ := db.Begin()
	for i := range 50000 {
		g := grids[i%len(grids)]
		status, verified := []string{"open", "assigned", "verified", "verified"}[i%4], any(nil)
		if status == "verified" {
			verified = now.Add(-time.Duration(i%10) * 24 * time.Hour).UnixMilli()
		}
		if _, err := ltx.Exec(`INSERT INTO leads (id, batch_id, deadline, node_id, status, verified_at, created_at, updated_at) VALUES ($1, 'lb', $2, $3, $4, $5, 0, 0)`,
			fmt.Sprint("l", i), today, g.GridID, status, verified); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 10000 {
		g := grids[i%len(grids)]
		if _, err := ltx.Exec(`INSERT INTO events (id, ref, community_id, grid_id, category_id, title, source, status, due_at, created_at, updated_at)
			VALUES ($1, $1, $2, $3, $4, 't', 'staff', $5, $6, 0, 0)`, fmt.Sprint("e", i), g.CommunityID, g.GridID,
			[]string{"cat-fever", "cat-arrival", "cat-monitoring"}[i%3], []string{"reported", "accepted", "dispatched", "in_progress", "resolved"}[i%5],
			now.Add(time.Duration(i%100-20)*time.Hour).UnixMilli()); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 300 {
		if _, err := ltx.Exec(`INSERT INTO alarms (id, gate_id, kind, at, status) VALUES ($1, $2, 'fever', $3, 'open')`, fmt.Sprint("a", i),
			gates[(i*37)%len(gates)].ID, now.UnixMilli()); err != nil {
			b.Fatal(err)
		}
	}
	must(b, ltx.Commit())
	d.build = time.Since(began)

	// The first refresh computes every grid (what a new day does too).
	began = time.Now()
	if _, err := brain.Refresh(ctx, s); err != nil {
		b.Fatal(err)
	}
	d.refresh = time.Since(began)
	b.Logf("built %d people, %d passes in %s; full refresh of %d grids in %s", people, passes, d.build.Round(time.Second), len(grids),
		d.refresh.Round(time.Millisecond))
	return d
}

// BenchmarkDashboard measures brain.Figures for the district and for one
// community, next to the limit: a bare read of the rollup rows the board
// sums (today's pass_hourly rows and the grid_stats rows), in the same
// run.
func BenchmarkDashboard(b *testing.B) {
	people := envInt("SHEQU_BENCH_PEOPLE", 1_000_000)
	passes := envInt("SHEQU_BENCH_PASSES", 10_000_000)
	runs := envInt("SHEQU_BENCH_RUNS", 100)
	d := buildDistrict(b, people, passes)
	ctx := context.Background()
	if _, err := brain.Refresh(ctx, d.s); err != nil { // a reopened file may be of another day
		b.Fatal(err)
	}
	db := store.RawForTest(d.s)
	dayStart, _ := time.ParseInLocation("2006-01-02", d.s.Today(), time.FixedZone("CST", 8*3600))
	// The limit reads the rollup rows of the scope bare: today's
	// pass_hourly rows of its gates and the grid_stats rows of its nodes,
	// by id (found before timing); for a scope that holds every gate and
	// node (the district), the same rows without an id list.
	ids := func(q, like string) []any {
		rows, err := db.Query(q, like)
		must(b, err)
		defer rows.Close()
		var out []any
		for rows.Next() {
			var id string
			must(b, rows.Scan(&id))
			out = append(out, id)
		}
		return out
	}
	in := func(col string, first int, vals []any) string {
		p := make([]string, len(vals))
		for i := range vals {
			p[i] = "$" + strconv.Itoa(first+i)
		}
		return " AND " + col + " IN (" + strings.Join(p, ",") + ")"
	}
	limitOf := func(path string) func() {
		const gateQ = `SELECT g.id FROM gates g JOIN org_nodes n ON n.id = g.community_id WHERE n.path LIKE $1`
		const nodeQ = `SELECT id FROM org_nodes WHERE path LIKE $1`
		gates, nodes := ids(gateQ, path+"%"), ids(nodeQ, path+"%")
		passQ, passArgs := `SELECT count(*), COALESCE(sum(total), 0) FROM pass_hourly WHERE hour >= $1 AND hour < $2`,
			[]any{dayStart.UnixMilli(), dayStart.Add(24 * time.Hour).UnixMilli()}
		if len(gates) < len(ids(gateQ, "%")) {
			passQ += in("gate_id", 3, gates)
			passArgs = append(passArgs, gates...)
		}
		statQ, statArgs := `SELECT count(*), COALESCE(sum(registered + permanent + floating), 0) FROM grid_stats WHERE 1 = 1`, []any(nil)
		if len(nodes) < len(ids(nodeQ, "%")) {
			statQ += in("node_id", 1, nodes)
			statArgs = nodes
		}
		return func() {
			var n, sum int
			if err := db.QueryRow(passQ, passArgs...).Scan(&n, &sum); err != nil {
				b.Fatal(err)
			}
			if err := db.QueryRow(statQ, statArgs...).Scan(&n, &sum); err != nil {
				b.Fatal(err)
			}
		}
	}
	measure := func(fn func()) (p50, p95 time.Duration, allocs, bytes uint64) {
		fn() // warm
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		ts := make([]time.Duration, runs)
		for i := range ts {
			t0 := time.Now()
			fn()
			ts[i] = time.Since(t0)
		}
		runtime.ReadMemStats(&ms1)
		slices.Sort(ts)
		return ts[len(ts)/2], ts[(len(ts)*95+99)/100-1], (ms1.Mallocs - ms0.Mallocs) / uint64(runs), (ms1.TotalAlloc - ms0.TotalAlloc) / uint64(runs)
	}
	for _, sc := range []struct {
		name string
		node store.OrgNode
	}{{"district", d.district}, {"community", d.comm}} {
		b.Run(sc.name, func(b *testing.B) {
			var board brain.Board
			limit := limitOf(sc.node.Path)
			for b.Loop() {
				lp50, lp95, _, _ := measure(limit)
				p50, p95, allocs, bytes := measure(func() {
					var err error
					if board, err = brain.Figures(ctx, d.s, sc.node.Path); err != nil {
						b.Fatal(err)
					}
				})
				b.ReportMetric(float64(p50.Microseconds())/1000, "p50_ms")
				b.ReportMetric(float64(p95.Microseconds())/1000, "p95_ms")
				b.ReportMetric(float64(lp50.Microseconds())/1000, "limit_p50_ms")
				b.ReportMetric(float64(p95)/float64(lp95), "p95_x_limit")
				b.ReportMetric(float64(p95)/float64(300*time.Millisecond), "p95_x_300ms")
				b.ReportMetric(float64(allocs), "allocs/figures")
				b.ReportMetric(float64(bytes), "B/figures")
			}
			b.Logf("%s: population %d, passes today %d, gates %d, children %d, open events %d, leads %d", sc.name, board.Totals.Population.N,
				board.Totals.PassesToday.Total, len(board.PassesByGate), len(board.Children), board.Events.Open, board.Leads.Total)
		})
	}
	// What a new day costs: every grid recomputed from the ledger.
	b.Run("full_refresh", func(b *testing.B) {
		for b.Loop() {
			if _, err := db.Exec(`DELETE FROM grid_stats`); err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			n, err := brain.Refresh(ctx, d.s)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(time.Since(t0).Seconds(), "s/refresh")
			b.ReportMetric(float64(n), "nodes")
		}
	})
	if fi, err := os.Stat(d.file); err == nil {
		b.Logf("database file %.1f GB", float64(fi.Size())/1e9)
	}
}
