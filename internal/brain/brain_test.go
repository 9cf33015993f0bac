package brain_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"shequ/internal/brain"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

var cst = time.FixedZone("CST", 8*3600)

// start is 10:30 in China on 10 December 2026.
var start = time.Date(2026, 12, 10, 10, 30, 0, 0, cst)

// world is a district with two streets: 渭滨 with communities A (grids
// A1, A2) and B (grid B1, and rooms outside any grid), 金陵 with
// community C (grid C1).
type world struct {
	s                    *store.Store
	clock                *testutil.Clock
	district, s1, s2     store.OrgNode
	a, b, c              store.OrgNode
	a1, a2, b1, c1       store.OrgNode
	rooms                []store.Place
	gates                []store.Gate
	devices              map[string]string // gate → device
	people               []string
	households           map[string]string // person → household
	rng                  *rand.Rand
	eventSeq, passEvents int
}

func newWorld(t *testing.T, s *store.Store, clock *testutil.Clock) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{s: s, clock: clock, devices: map[string]string{}, households: map[string]string{}, rng: rand.New(rand.NewPCG(1, 2))}
	must(t, s.Write(ctx, func(tx *store.Tx) error {
		node := func(n *store.OrgNode, parent *store.OrgNode, code, name string, level store.Level) {
			if parent != nil {
				n.ParentID = parent.ID
			}
			n.Code, n.Name, n.Level = code, name, level
			must(t, tx.CreateOrgNode(ctx, n, ""))
		}
		node(&w.district, nil, "610302000000", "渭滨区", store.LevelDistrict)
		node(&w.s1, &w.district, "610302001000", "渭滨街道", store.LevelStreet)
		node(&w.s2, &w.district, "610302002000", "金陵街道", store.LevelStreet)
		node(&w.a, &w.s1, "610302001001", "A社区", store.LevelCommunity)
		node(&w.b, &w.s1, "610302001002", "B社区", store.LevelCommunity)
		node(&w.c, &w.s2, "610302002001", "C社区", store.LevelCommunity)
		node(&w.a1, &w.a, "610302001001001", "A1", store.LevelGrid)
		node(&w.a2, &w.a, "610302001001002", "A2", store.LevelGrid)
		node(&w.b1, &w.b, "610302001002001", "B1", store.LevelGrid)
		node(&w.c1, &w.c, "610302002001001", "C1", store.LevelGrid)
		for _, g := range []struct {
			comm, grid store.OrgNode
			n          int
		}{{w.a, w.a1, 4}, {w.a, w.a2, 3}, {w.b, w.b1, 3}, {w.b, store.OrgNode{}, 2}, {w.c, w.c1, 3}} {
			site := store.Place{CommunityID: g.comm.ID, GridID: g.grid.ID, Kind: store.PlaceHouse, Name: g.comm.Name + g.grid.Name, Address: g.comm.Name + g.grid.Name}
			must(t, tx.CreatePlace(ctx, &site))
			for i := range g.n {
				survey := []string{"pending", "surveyed", "flagged", "surveyed"}[i%4]
				r := store.Place{CommunityID: g.comm.ID, GridID: g.grid.ID, ParentID: site.ID, Kind: store.PlaceRoom, Name: fmt.Sprint(101 + i),
					Address: fmt.Sprintf("%s%d室", site.Address, 101+i), Survey: survey}
				must(t, tx.CreatePlace(ctx, &r))
				w.rooms = append(w.rooms, r)
			}
		}
		for i, comm := range []store.OrgNode{w.a, w.a, w.b, w.c} {
			g := store.Gate{CommunityID: comm.ID, Code: fmt.Sprintf("G%d", i), Name: fmt.Sprintf("%s%d号门", comm.Name, i), Kind: "turnstile"}
			must(t, tx.CreateGate(ctx, &g))
			u := store.User{Username: "dev" + g.Code, DisplayName: g.Name, Kind: "api"}
			must(t, tx.CreateUser(ctx, &u))
			d := store.Device{GateID: g.ID, UserID: u.ID, Name: g.Name}
			must(t, tx.CreateDevice(ctx, &d))
			g.CommunityPath = comm.Path
			w.gates = append(w.gates, g)
			w.devices[g.ID] = d.ID
		}
		return nil
	}))
	for _, n := range []*store.OrgNode{&w.district, &w.s1, &w.s2, &w.a, &w.b, &w.c, &w.a1, &w.a2, &w.b1, &w.c1} {
		got, err := s.OrgNode(ctx, n.ID)
		must(t, err)
		*n = got
	}
	return w
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// settle moves people in, gives doses, tests and monitoring: n people at
// random.
func (w *world) settle(t *testing.T, n int) {
	ctx := context.Background()
	today := start.Format("2006-01-02")
	must(t, w.s.Write(ctx, func(tx *store.Tx) error {
		for range n {
			birth := ""
			if w.rng.IntN(10) > 0 {
				birth = time.Date(1935+w.rng.IntN(90), time.Month(1+w.rng.IntN(12)), 1+w.rng.IntN(28), 0, 0, 0, 0, cst).Format("2006-01-02")
			}
			if w.rng.IntN(8) == 0 { // born on a band edge: 18 and 60 today
				birth = start.AddDate(-[]int{18, 60, 80}[w.rng.IntN(3)], 0, 0).Format("2006-01-02")
			}
			p := store.Person{Name: fmt.Sprintf("人%d", len(w.people)), Residency: []string{"registered", "permanent", "floating"}[w.rng.IntN(3)], BirthDate: birth}
			must(t, tx.CreatePerson(ctx, &p))
			w.people = append(w.people, p.ID)
			room := w.rooms[w.rng.IntN(len(w.rooms))]
			h := store.Household{RoomID: room.ID, HeadID: p.ID, Kind: []string{"family", "family", "rental"}[w.rng.IntN(3)]}
			must(t, tx.CreateHousehold(ctx, &h))
			must(t, tx.AddMember(ctx, store.Member{HouseholdID: h.ID, PersonID: p.ID, Relation: "02"}))
			w.households[p.ID] = h.ID
			if w.rng.IntN(2) == 0 {
				must(t, tx.AddVaccination(ctx, &store.Vaccination{PersonID: p.ID, Vaccine: "v", Dose: 1, GivenOn: "2026-01-05", Source: "test"}))
			}
			if w.rng.IntN(4) == 0 { // a dose recorded for a later date does not count yet
				must(t, tx.AddVaccination(ctx, &store.Vaccination{PersonID: p.ID, Vaccine: "v", Dose: 2, GivenOn: "2026-12-20", Source: "test"}))
			}
			if k := w.rng.IntN(3); k > 0 {
				days := []int{0, 3, 6, 7, 10}[w.rng.IntN(5)]
				must(t, tx.AddTest(ctx, &store.HealthTest{PersonID: p.ID, Kind: "nucleic", SampledAt: start.AddDate(0, 0, -days).Add(-2 * time.Hour),
					Result: "negative", Source: "test"}))
			}
			if w.rng.IntN(5) == 0 {
				from, to := []string{"2026-12-01", "2026-12-10", "2026-11-20"}[w.rng.IntN(3)], []string{"2026-12-09", today, "2026-12-14"}[w.rng.IntN(3)]
				must(t, tx.AddMonitoring(ctx, &store.Monitoring{PersonID: p.ID, Kind: "home_quarantine", StartDate: from, EndDate: to, Source: "test"}))
			}
		}
		return nil
	}))
}

// recount counts the figures of every grid and community straight from the
// raw tables, in Go, as of the clock's date.
func recount(t *testing.T, s *store.Store, now time.Time) map[string]store.GridStats {
	t.Helper()
	db := store.RawForTest(s)
	today := now.In(cst).Format("2006-01-02")
	out := map[string]store.GridStats{}
	rows := func(q string, fn func(r *sql.Rows)) {
		rs, err := db.Query(q)
		must(t, err)
		defer rs.Close()
		for rs.Next() {
			fn(rs)
		}
		must(t, rs.Err())
	}
	rows(`SELECT id FROM org_nodes WHERE level IN ('community', 'grid')`, func(r *sql.Rows) {
		var id string
		must(t, r.Scan(&id))
		out[id] = store.GridStats{NodeID: id, AsOf: today}
	})
	nodeOf := map[string]string{}
	rows(`SELECT id, community_id, COALESCE(grid_id, ''), kind, survey FROM places`, func(r *sql.Rows) {
		var id, comm, grid, kind, survey string
		must(t, r.Scan(&id, &comm, &grid, &kind, &survey))
		node := grid
		if node == "" {
			node = comm
		}
		nodeOf[id] = node
		if kind != "room" {
			return
		}
		g := out[node]
		g.Rooms++
		switch survey {
		case "surveyed":
			g.RoomsSurveyed++
		case "flagged":
			g.RoomsFlagged++
		}
		out[node] = g
	})
	type hh struct{ room, kind string }
	households := map[string]hh{}
	rows(`SELECT id, room_id, kind FROM households WHERE ended_at IS NULL`, func(r *sql.Rows) {
		var id string
		var h hh
		must(t, r.Scan(&id, &h.room, &h.kind))
		households[id] = h
		g := out[nodeOf[h.room]]
		g.Households++
		out[nodeOf[h.room]] = g
	})
	type person struct{ residency, birth string }
	people := map[string]person{}
	rows(`SELECT id, residency, COALESCE(birth_date, '') FROM persons WHERE merged_into IS NULL`, func(r *sql.Rows) {
		var id string
		var p person
		must(t, r.Scan(&id, &p.residency, &p.birth))
		people[id] = p
	})
	vacc, tested, monitored := map[string]bool{}, map[string]bool{}, map[string]bool{}
	rows(`SELECT person_id, given_on FROM vaccinations`, func(r *sql.Rows) {
		var id, on string
		must(t, r.Scan(&id, &on))
		if on <= today {
			vacc[id] = true
		}
	})
	day, _ := time.ParseInLocation("2006-01-02", today, cst)
	rows(`SELECT person_id, sampled_at FROM health_tests`, func(r *sql.Rows) {
		var id string
		var at int64
		must(t, r.Scan(&id, &at))
		if !time.UnixMilli(at).Before(day.AddDate(0, 0, -6)) {
			tested[id] = true
		}
	})
	rows(`SELECT person_id, start_date, end_date, COALESCE(lifted_on, '') FROM monitoring`, func(r *sql.Rows) {
		var id, from, to, lifted string
		must(t, r.Scan(&id, &from, &to, &lifted))
		if lifted == "" && from <= today && today <= to {
			monitored[id] = true
		}
	})
	type key struct{ node, person string }
	living := map[key]bool{} // → rental
	rows(`SELECT household_id, person_id, COALESCE(until, '') FROM household_members`, func(r *sql.Rows) {
		var hid, pid, until string
		must(t, r.Scan(&hid, &pid, &until))
		h, ok := households[hid]
		if _, alive := people[pid]; !ok || !alive || (until != "" && until < today) {
			return
		}
		k := key{nodeOf[h.room], pid}
		living[k] = living[k] || h.kind == "rental"
	})
	for k, rental := range living {
		g := out[k.node]
		p := people[k.person]
		switch p.residency {
		case "registered":
			g.Registered++
		case "permanent":
			g.Permanent++
		default:
			g.Floating++
		}
		band := store.BandUnknown
		if p.birth != "" {
			b, _ := time.Parse("2006-01-02", p.birth)
			age := day.Year() - b.Year()
			if day.Month() < b.Month() || (day.Month() == b.Month() && day.Day() < b.Day()) {
				age--
			}
			switch {
			case age < 18:
				band = store.Band0to17
			case age < 60:
				band = store.Band18to59
			case age < 80:
				band = store.Band60to79
			default:
				band = store.Band80Plus
			}
		}
		g.People[band]++
		if vacc[k.person] {
			g.Vaccinated[band]++
		}
		if rental {
			g.Tenants++
		}
		if tested[k.person] {
			g.Tested7d++
		}
		if monitored[k.person] {
			g.Monitored++
		}
		out[k.node] = g
	}
	return out
}

// checkStats compares grid_stats with a recount.
func checkStats(t *testing.T, s *store.Store, now time.Time, phase string) map[string]store.GridStats {
	t.Helper()
	want := recount(t, s, now)
	got, err := s.GridStatsBelow(context.Background(), "/")
	must(t, err)
	if len(got) != len(want) {
		t.Fatalf("%s: %d grid_stats rows, want %d", phase, len(got), len(want))
	}
	for _, g := range got {
		w := want[g.NodeID]
		g.RefreshedAt, g.Path = time.Time{}, ""
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: node %s\n got %+v\nwant %+v", phase, g.NodeID, g, w)
		}
	}
	return want
}

func dirty(t *testing.T, s *store.Store) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	rs, err := store.RawForTest(s).Query(`SELECT node_id FROM dirty_grids`)
	must(t, err)
	defer rs.Close()
	for rs.Next() {
		var id string
		must(t, rs.Scan(&id))
		out[id] = true
	}
	return out
}

func TestGridStatsFollowTheLedger(t *testing.T) {
	clock := testutil.NewClock(start)
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		clock.Set(start)
		ctx := context.Background()
		w := newWorld(t, s, clock)
		w.settle(t, 80)
		n, err := brain.Refresh(ctx, s)
		must(t, err)
		if n != 10-3 { // every grid and community (not the district or streets)
			t.Errorf("first refresh: %d nodes", n)
		}
		checkStats(t, s, clock.Now(), "first")
		if d := dirty(t, s); len(d) != 0 {
			t.Fatalf("dirty after refresh: %v", d)
		}
		if n, err := brain.Refresh(ctx, s); err != nil || n != 0 {
			t.Fatalf("second refresh: %d, %v", n, err)
		}

		// One change of each kind marks exactly the grids it touches.
		p0, p1, p2, p3 := w.people[0], w.people[1], w.people[2], w.people[3]
		var room0, room3 string
		store.RawForTest(s).QueryRow(`SELECT room_id FROM households WHERE id = $1`, w.households[p0]).Scan(&room0)
		store.RawForTest(s).QueryRow(`SELECT room_id FROM households WHERE id = $1`, w.households[p3]).Scan(&room3)
		must(t, s.Write(ctx, func(tx *store.Tx) error {
			if err := tx.EndMembership(ctx, w.households[p0], p0, "2026-12-09"); err != nil { // moved out yesterday
				return err
			}
			if err := tx.AddTest(ctx, &store.HealthTest{PersonID: p1, Kind: "antigen", SampledAt: start, Result: "negative", Source: "test"}); err != nil {
				return err
			}
			if err := tx.AddVaccination(ctx, &store.Vaccination{PersonID: p2, Vaccine: "v", Dose: 3, GivenOn: "2026-12-10", Source: "test"}); err != nil {
				return err
			}
			p, err := tx.Person(ctx, p3)
			if err != nil {
				return err
			}
			p.Residency = "floating"
			p.BirthDate = "2015-06-01"
			return tx.UpdatePerson(ctx, &p)
		}))
		want := map[string]bool{}
		for _, p := range []string{p0, p1, p2, p3} {
			var node string
			must(t, store.RawForTest(s).QueryRow(`SELECT COALESCE(r.grid_id, r.community_id) FROM households h JOIN places r ON r.id = h.room_id WHERE h.id = $1`,
				w.households[p]).Scan(&node))
			want[node] = true
		}
		if got := dirty(t, s); !reflect.DeepEqual(got, want) {
			t.Fatalf("dirty %v, want %v", got, want)
		}
		_, err = brain.Refresh(ctx, s)
		must(t, err)
		checkStats(t, s, clock.Now(), "after moves")

		// Rooms: surveyed, a building moved to another grid, monitoring
		// lifted, two people merged, more people.
		var mid, mperson string
		store.RawForTest(s).QueryRow(`SELECT id, person_id FROM monitoring WHERE lifted_on IS NULL AND end_date >= '2026-12-10' AND start_date <= '2026-12-10'`).
			Scan(&mid, &mperson)
		if mid == "" {
			t.Fatal("nobody under monitoring")
		}
		must(t, s.Write(ctx, func(tx *store.Tx) error {
			if err := tx.UpdateRoom(ctx, room3, "rented", "surveyed"); err != nil {
				return err
			}
			if err := tx.TouchVisit(ctx, w.rooms[0].ID, start); err != nil {
				return err
			}
			if err := tx.MoveToGrid(ctx, w.rooms[len(w.rooms)-1].ParentID, w.a2.ID); err != nil { // C1's house into A2
				return err
			}
			if err := tx.LiftMonitoring(ctx, mperson, mid, "2026-12-10"); err != nil {
				return err
			}
			return tx.MergePersons(ctx, w.people[5], w.people[6])
		}))
		w.settle(t, 20)
		_, err = brain.Refresh(ctx, s)
		must(t, err)
		checkStats(t, s, clock.Now(), "after rooms and merge")

		// A new day: ages, tests and monitoring move on without any write.
		clock.Set(start.AddDate(0, 0, 4))
		n, err = brain.Refresh(ctx, s)
		must(t, err)
		if n != 10-3 { // every grid and community, not the district or streets
			t.Errorf("new day refreshed %d nodes", n)
		}
		checkStats(t, s, clock.Now(), "four days later")

		// A write that rolls back marks nothing.
		errNo := errors.New("no")
		err = s.Write(ctx, func(tx *store.Tx) error {
			if err := tx.AddTest(ctx, &store.HealthTest{PersonID: p1, Kind: "antigen", SampledAt: clock.Now(), Result: "negative", Source: "test"}); err != nil {
				return err
			}
			return errNo
		})
		if !errors.Is(err, errNo) {
			t.Fatal(err)
		}
		if d := dirty(t, s); len(d) != 0 {
			t.Fatalf("dirty after a rollback: %v", d)
		}
	})
}

// passes writes n pass events at random gates and times in [from, to),
// in transactions of batch, resending some.
func (w *world) passes(t *testing.T, n, batch int, from, to time.Time) {
	ctx := context.Background()
	for done := 0; done < n; {
		k := min(batch, n-done)
		must(t, w.s.Write(ctx, func(tx *store.Tx) error {
			for range k {
				g := w.gates[w.rng.IntN(len(w.gates))]
				at := from.Add(time.Duration(w.rng.Int64N(int64(to.Sub(from)))))
				w.passEvents++
				ev := fmt.Sprintf("e%d", w.passEvents)
				if w.passEvents > 10 && w.rng.IntN(10) == 0 { // a resend of an earlier event: stored once
					ev = fmt.Sprintf("e%d", w.rng.IntN(w.passEvents-1)+1)
				}
				p := store.PassRecord{DeviceID: w.devices[g.ID], GateID: g.ID, EventID: ev, Credential: "card",
					Outcome: []string{"allow", "allow", "allow", "deny", "review"}[w.rng.IntN(5)], Direction: []string{"in", "out"}[w.rng.IntN(2)],
					DeviceTime: at, ReceivedAt: at}
				if _, err := tx.InsertPass(ctx, &p); err != nil {
					return err
				}
			}
			return nil
		}))
		done += k
	}
}

func passHourly(t *testing.T, s *store.Store, q string) map[string][4]int {
	t.Helper()
	out := map[string][4]int{}
	rs, err := store.RawForTest(s).Query(q)
	must(t, err)
	defer rs.Close()
	for rs.Next() {
		var gate string
		var hour int64
		var c [4]int
		must(t, rs.Scan(&gate, &hour, &c[0], &c[1], &c[2], &c[3]))
		out[fmt.Sprint(gate, "@", hour)] = c
	}
	must(t, rs.Err())
	return out
}

func checkPassHourly(t *testing.T, s *store.Store) {
	t.Helper()
	got := passHourly(t, s, `SELECT gate_id, hour, total, passes_in, passes_out, denied FROM pass_hourly`)
	want := passHourly(t, s, `SELECT gate_id, (received_at / 3600000) * 3600000, count(*),
		sum(CASE WHEN outcome = 'allow' AND direction = 'in' THEN 1 ELSE 0 END), sum(CASE WHEN outcome = 'allow' AND direction = 'out' THEN 1 ELSE 0 END),
		sum(CASE WHEN outcome = 'deny' THEN 1 ELSE 0 END) FROM pass_events GROUP BY 1, 2`)
	if len(got) != len(want) {
		t.Fatalf("pass_hourly has %d gate-hours, pass_events %d", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Fatalf("pass_hourly %s: %v, pass_events %v", k, got[k], w)
		}
	}
}

func TestPassHourlyFollowsPassEvents(t *testing.T) {
	clock := testutil.NewClock(start)
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorld(t, s, clock)
		w.passes(t, 1500, 1, start.Add(-50*time.Hour), start)  // one at a time, like the demo
		w.passes(t, 3000, 500, start.Add(-5*time.Hour), start) // batches, like the committer
		checkPassHourly(t, s)
		var before int
		must(t, store.RawForTest(s).QueryRow(`SELECT sum(total) FROM pass_hourly`).Scan(&before))

		// A batch that rolls back leaves no count behind.
		errNo := errors.New("no")
		err := s.Write(ctx, func(tx *store.Tx) error {
			for i := range 50 {
				g := w.gates[i%len(w.gates)]
				if _, err := tx.InsertPass(ctx, &store.PassRecord{DeviceID: w.devices[g.ID], GateID: g.ID, EventID: fmt.Sprintf("lost%d", i),
					Credential: "card", Outcome: "allow", Direction: "in", DeviceTime: start, ReceivedAt: start}); err != nil {
					return err
				}
			}
			return errNo
		})
		if !errors.Is(err, errNo) {
			t.Fatal(err)
		}
		var after int
		must(t, store.RawForTest(s).QueryRow(`SELECT sum(total) FROM pass_hourly`).Scan(&after))
		if after != before {
			t.Fatalf("rolled-back batch left %d counts", after-before)
		}
		checkPassHourly(t, s)
	})
}

func TestBoardEqualsHandCounts(t *testing.T) {
	clock := testutil.NewClock(start)
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		clock.Set(start)
		ctx := context.Background()
		w := newWorld(t, s, clock)
		w.settle(t, 60)
		dayStart := time.Date(2026, 12, 10, 0, 0, 0, 0, cst)
		w.passes(t, 800, 200, dayStart.Add(-3*time.Hour), start) // yesterday evening and this morning
		_, err := brain.Refresh(ctx, s)
		must(t, err)
		stats := recount(t, s, clock.Now())
		db := store.RawForTest(s)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Exec(q, args...); err != nil {
				t.Fatal(err)
			}
		}
		// Alarms: two open and one acknowledged in A, one open in C, one handled in A.
		must(t, s.Write(ctx, func(tx *store.Tx) error {
			for i, a := range []struct{ gate int }{{0}, {1}, {0}, {3}, {1}} {
				al := store.Alarm{GateID: w.gates[a.gate].ID, Kind: []string{"fever", "stranger"}[i%2]}
				if err := tx.CreateAlarm(ctx, &al); err != nil {
					return err
				}
				switch i {
				case 2:
					if err := tx.UpdateAlarm(ctx, al.ID, "acknowledged", "u", ""); err != nil {
						return err
					}
				case 4:
					if err := tx.UpdateAlarm(ctx, al.ID, "handled", "u", ""); err != nil {
						return err
					}
				}
			}
			return nil
		}))
		// Leads: at the street 1 open; in A1 2 assigned, 3 verified (one today,
		// two three days ago, one of them ten days ago); in C 1 open.
		exec(`INSERT INTO lead_batches (id, node_id, name, source, deadline, created_at) VALUES ('lb', $1, 'b', 'import', '2026-12-20', 0)`, w.district.ID)
		lead := func(id string, node store.OrgNode, status string, verified time.Time) {
			var at any
			if !verified.IsZero() {
				at = verified.UnixMilli()
			}
			exec(`INSERT INTO leads (id, batch_id, deadline, node_id, status, verified_at, created_at, updated_at) VALUES ($1, 'lb', '2026-12-20', $2, $3, $4, 0, 0)`,
				id, node.ID, status, at)
		}
		lead("l1", w.s1, "open", time.Time{})
		lead("l2", w.a1, "assigned", time.Time{})
		lead("l3", w.a1, "assigned", time.Time{})
		lead("l4", w.a1, "verified", start.Add(-time.Hour))
		lead("l5", w.a1, "verified", start.AddDate(0, 0, -3))
		lead("l6", w.a1, "verified", start.AddDate(0, 0, -10))
		lead("l7", w.c, "open", time.Time{})
		// Events in A: reported; in progress overdue, due in an hour, due
		// tomorrow; resolved; closed. In B (grid B1): one overdue.
		event := func(comm store.OrgNode, grid, cat, status string, due time.Time) {
			w.eventSeq++
			var d any
			if !due.IsZero() {
				d = due.UnixMilli()
			}
			exec(`INSERT INTO events (id, ref, community_id, grid_id, category_id, title, source, status, due_at, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, 't', 'staff', $6, $7, 0, 0)`, fmt.Sprint("ev", w.eventSeq), fmt.Sprint("R", w.eventSeq), comm.ID,
				sql.NullString{String: grid, Valid: grid != ""}, cat, status, d)
		}
		event(w.a, "", "cat-fever", "reported", time.Time{})
		event(w.a, w.a1.ID, "cat-fever", "in_progress", start.Add(-time.Hour))
		event(w.a, w.a2.ID, "cat-arrival", "dispatched", start.Add(time.Hour))
		event(w.a, "", "cat-arrival", "accepted", start.Add(24*time.Hour))
		event(w.a, "", "cat-fever", "resolved", start.Add(-time.Hour))
		event(w.a, "", "cat-fever", "closed", start.Add(-time.Hour))
		event(w.b, w.b1.ID, "cat-arrival", "returned", start.Add(-time.Minute))
		// Staffing: A1 has two workers and a leader, A2 none, B1 one of the
		// same workers.
		must(t, s.Write(ctx, func(tx *store.Tx) error {
			var us []store.User
			for i := range 2 {
				u := store.User{Username: fmt.Sprint("grid", i), DisplayName: "网格员", Kind: "staff"}
				if err := tx.CreateUser(ctx, &u); err != nil {
					return err
				}
				us = append(us, u)
			}
			for _, a := range []struct{ u, node string }{{us[0].ID, w.a1.ID}, {us[1].ID, w.a1.ID}, {us[1].ID, w.b1.ID}} {
				if _, err := tx.Assign(ctx, a.u, "grid", a.node, ""); err != nil {
					return err
				}
			}
			return nil
		}))
		exec(`INSERT INTO grid_leaders (grid_id, user_id, since) VALUES ($1, (SELECT id FROM users WHERE username = 'grid0'), 0)`, w.a1.ID)

		// Passes of today, by hand.
		type pc struct{ total, in, out, denied int }
		byHour, byGate := map[int]pc{}, map[string]pc{}
		rs, err := db.Query(`SELECT gate_id, received_at, outcome, direction FROM pass_events WHERE received_at >= $1`, dayStart.UnixMilli())
		must(t, err)
		for rs.Next() {
			var gate, outcome, dir string
			var at int64
			must(t, rs.Scan(&gate, &at, &outcome, &dir))
			h := time.UnixMilli(at).In(cst).Hour()
			add := func(c pc) pc {
				c.total++
				switch {
				case outcome == "allow" && dir == "in":
					c.in++
				case outcome == "allow":
					c.out++
				case outcome == "deny":
					c.denied++
				}
				return c
			}
			byHour[h] = add(byHour[h])
			byGate[gate] = add(byGate[gate])
		}
		must(t, rs.Err())
		rs.Close()

		sum := func(nodes ...store.OrgNode) (t brain.Totals) {
			for id, g := range stats {
				in := false
				for _, n := range nodes {
					var path string
					db.QueryRow(`SELECT path FROM org_nodes WHERE id = $1`, id).Scan(&path)
					in = in || strings.HasPrefix(path, n.Path)
				}
				if !in {
					continue
				}
				t.Registered.N += g.Registered
				t.Floating.N += g.Floating
				t.Population.N += g.Population()
				t.Tenants.N += g.Tenants
				t.Households.N += g.Households
				t.Survey.Done += g.RoomsSurveyed
				t.Survey.Of += g.Rooms
				for i := range g.People {
					t.Vaccinated.Done += g.Vaccinated[i]
					t.Vaccinated.Of += g.People[i]
				}
				t.Tested7d.Done += g.Tested7d
				t.Monitored.N += g.Monitored
			}
			return t
		}
		gatePasses := func(comms ...store.OrgNode) (p brain.Passes) {
			for _, g := range w.gates {
				for _, c := range comms {
					if g.CommunityID == c.ID {
						x := byGate[g.ID]
						p.Total += x.total
						p.In += x.in
						p.Out += x.out
						p.Denied += x.denied
					}
				}
			}
			return p
		}
		same := func(what string, got, want any) {
			t.Helper()
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: got %+v, want %+v", what, got, want)
			}
		}
		headline := func(what string, got brain.Totals, want brain.Totals) {
			t.Helper()
			same(what+" population", got.Population.N, want.Population.N)
			same(what+" registered", got.Registered.N, want.Registered.N)
			same(what+" floating", got.Floating.N, want.Floating.N)
			same(what+" tenants", got.Tenants.N, want.Tenants.N)
			same(what+" households", got.Households.N, want.Households.N)
			same(what+" survey", [2]int{got.Survey.Done, got.Survey.Of}, [2]int{want.Survey.Done, want.Survey.Of})
			same(what+" vaccinated", [2]int{got.Vaccinated.Done, got.Vaccinated.Of}, [2]int{want.Vaccinated.Done, want.Vaccinated.Of})
			same(what+" tested", got.Tested7d.Done, want.Tested7d.Done)
			same(what+" monitored", got.Monitored.N, want.Monitored.N)
		}

		// The community A.
		b, err := brain.Figures(ctx, s, w.a.Path)
		must(t, err)
		headline("A", b.Totals, sum(w.a))
		same("A passes", b.Totals.PassesToday, gatePasses(w.a))
		same("A alarms", [2]int{b.Alarms.Open, b.Alarms.Acknowledged}, [2]int{2, 1})
		same("A alarms by kind", b.Alarms.ByKind, map[string]int{"fever": 2, "stranger": 1})
		same("A leads", [4]int{b.Leads.Open, b.Leads.Assigned, b.Leads.Verified, b.Leads.Total}, [4]int{0, 2, 3, 5})
		var cleared []int
		for _, d := range b.Leads.ClearedPerDay {
			cleared = append(cleared, d.N)
		}
		same("A cleared per day", cleared, []int{0, 0, 0, 1, 0, 0, 1})
		same("A events", b.Events.BySLA, map[string]int{store.SLAWaiting: 1, store.SLAOverdue: 1, store.SLADueSoon: 1, store.SLAOnTime: 1, store.SLAResolved: 1})
		same("A events open", b.Events.Open, 5)
		same("A categories", len(b.Events.ByCategory), 2)
		same("A fever", b.Events.ByCategory[0].BySLA, map[string]int{store.SLAWaiting: 1, store.SLAOverdue: 1, store.SLAResolved: 1})
		same("A staffing", b.Staffing, brain.Staffing{Grids: 2, Staffed: 1, Unstaffed: 1, WithLeader: 1, Workers: 2,
			HouseholdsPerWorker: (stats[w.a1.ID].Households + stats[w.a2.ID].Households + 1) / 2, Link: "/people?community=" + w.a.ID})
		same("A children", len(b.Children), 2)
		headline("A1", b.Children[0].Totals, sum(w.a1))
		same("A1 events", [2]int{b.Children[0].Totals.OpenEvents, b.Children[0].Totals.Overdue}, [2]int{1, 1})
		same("A1 leads", b.Children[0].Totals.OpenLeads, 2)
		same("A link", b.Totals.Floating.Link, "/ledger/persons?node="+w.a.ID+"&residency=floating")

		// The street 渭滨 (A and B), and the district.
		b, err = brain.Figures(ctx, s, w.s1.Path)
		must(t, err)
		headline("street", b.Totals, sum(w.s1))
		same("street passes", b.Totals.PassesToday, gatePasses(w.a, w.b))
		same("street leads", [4]int{b.Leads.Open, b.Leads.Assigned, b.Leads.Verified, b.Leads.Total}, [4]int{1, 2, 3, 6})
		same("street events", [2]int{b.Events.Open, b.Events.BySLA[store.SLAOverdue]}, [2]int{6, 2})
		same("street staffing", [4]int{b.Staffing.Grids, b.Staffing.Staffed, b.Staffing.Workers, b.Staffing.WithLeader}, [4]int{3, 2, 2, 1})
		same("street children", len(b.Children), 2)
		for _, c := range b.Children {
			headline("street child "+c.Node.Name, c.Totals, sum(c.Node))
			same("street child passes "+c.Node.Name, c.Totals.PassesToday, gatePasses(c.Node))
		}
		same("street child A", [3]int{b.Children[0].Totals.OpenAlarms, b.Children[0].Totals.OpenEvents, b.Children[0].Totals.OpenLeads}, [3]int{3, 5, 2})
		same("street child B", [3]int{b.Children[1].Totals.OpenAlarms, b.Children[1].Totals.OpenEvents, b.Children[1].Totals.Overdue}, [3]int{0, 1, 1})
		same("street gates", len(b.PassesByGate), 3)
		var hours [24]brain.Passes
		for h, c := range byHour {
			hours[h] = brain.Passes{Total: c.total, In: c.in, Out: c.out, Denied: c.denied}
		}
		b, err = brain.Figures(ctx, s, w.district.Path)
		must(t, err)
		headline("district", b.Totals, sum(w.district))
		same("district by hour", b.PassesByHour, hours)
		same("district children", len(b.Children), 2)
		headline("district 金陵", b.Children[1].Totals, sum(w.s2))
		same("district 金陵 alarms", b.Children[1].Totals.OpenAlarms, 1)
		same("district gates", len(b.PassesByGate), 4)
		for _, g := range b.PassesByGate {
			x := byGate[g.GateID]
			same("gate "+g.Code, g.Passes, brain.Passes{Total: x.total, In: x.in, Out: x.out, Denied: x.denied})
			same("gate link "+g.Code, g.Link, "/gates/passes?gate="+g.GateID+"&from=2026-12-10&to=2026-12-10")
		}
	})
}
