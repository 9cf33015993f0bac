package siteplan_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"shequ/internal/audit"
	"shequ/internal/auth"
	"shequ/internal/demo"
	"shequ/internal/errs"
	"shequ/internal/face"
	"shequ/internal/gate"
	"shequ/internal/locale"
	"shequ/internal/pii"
	"shequ/internal/siteplan"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

// world is a small demo street (with gates and the generated plan).
type world struct {
	s        *store.Store
	res      *demo.Result
	compound store.OrgNode
	village  store.OrgNode
	alog     *audit.Log
}

func build(t *testing.T, engine string) world {
	t.Helper()
	ctx := context.Background()
	clock := testutil.NewClock(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	s, err := store.Open(ctx, testutil.DSN(t, engine), clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	keys := pii.NewKeyring(bytes.Repeat([]byte{7}, 32))
	alog := audit.New(func(b []byte) []byte { return keys.MAC(b, "audit") })
	a := &auth.Service{Store: s, Keys: keys, Audit: alog, TTL: time.Hour, Argon2: auth.Argon2{Time: 1, MemoryKiB: 1024, Threads: 1}}
	g := &gate.Service{Store: s, Keys: keys, Faces: face.NewIndex(), Hub: gate.NewHub(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		IDIndex: func(t pii.DocType, n string) string { return keys.BlindIndex(string(t)+":"+n, "persons.id") }}
	res, err := demo.Build(ctx, demo.Env{Store: s, Auth: a, Keys: keys, Gates: g}, demo.Options{Seed: 3, People: 600})
	if err != nil {
		t.Fatal(err)
	}
	return world{s: s, res: res, compound: res.Communities[0], village: res.Communities[1], alog: alog}
}

func printer() siteplan.Translate { return locale.MustLoad().Printer("zh").T }

func count(t *testing.T, s *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := store.RawForTest(s).QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestSitePlan(t *testing.T) {
	for _, engine := range testutil.Engines() {
		t.Run(engine, func(t *testing.T) {
			w := build(t, engine)
			t.Run("demo plan", func(t *testing.T) { testDemoPlan(t, w) })
			t.Run("measures equal the ledger", func(t *testing.T) { testMeasures(t, w) })
			t.Run("import", func(t *testing.T) { testImport(t, w) })
			t.Run("draw", func(t *testing.T) { testDraw(t, w) })
		})
	}
}

// The demo plan puts every building and gate of both communities on the
// plan, grids round their buildings, and the SVG draws one link per
// building and one element per gate.
func testDemoPlan(t *testing.T, w world) {
	ctx := context.Background()
	for _, comm := range []store.OrgNode{w.compound, w.village} {
		p, err := siteplan.Load(ctx, w.s, comm.ID, "coverage")
		if err != nil {
			t.Fatal(err)
		}
		buildings := count(t, w.s, `SELECT count(*) FROM places WHERE community_id = $1 AND kind IN ('building','house')`, comm.ID)
		gates := count(t, w.s, `SELECT count(*) FROM gates WHERE community_id = $1`, comm.ID)
		if !p.HasPlan || len(p.Buildings) != buildings || len(p.Unplaced) != 0 || buildings == 0 {
			t.Fatalf("%s: %d buildings drawn, %d not, of %d", comm.Name, len(p.Buildings), len(p.Unplaced), buildings)
		}
		placed := 0
		for _, g := range p.Gates {
			if g.Placed {
				placed++
			}
		}
		if gates == 0 || placed != gates {
			t.Fatalf("%s: %d of %d gates placed", comm.Name, placed, gates)
		}
		// No two footprints overlap (a corner of one inside another).
		for i, a := range p.Buildings {
			for _, b := range p.Buildings[i+1:] {
				for _, c := range a.Ring {
					if b.Ring.Contains(c) {
						t.Fatalf("%s: %s overlaps %s", comm.Name, a.Name, b.Name)
					}
				}
			}
		}
		// Each grid's boundary encloses its buildings.
		grids := map[string]siteplan.Grid{}
		for _, g := range p.Grids {
			grids[g.ID] = g
		}
		for _, b := range p.Buildings {
			g, ok := grids[b.GridID]
			if !ok || len(g.Ring) < 3 || !g.Ring.Contains(b.Label) {
				t.Fatalf("%s: %s is outside its grid's boundary", comm.Name, b.Name)
			}
		}
		svg := string(siteplan.SVG(p, printer()))
		if n := strings.Count(svg, `<a href="/ledger/buildings/`); n != buildings {
			t.Errorf("%s: %d building links, want %d", comm.Name, n, buildings)
		}
		if n := strings.Count(svg, `data-gate="`); n != gates {
			t.Errorf("%s: %d gate elements, want %d", comm.Name, n, gates)
		}
		if !strings.Contains(svg, "调查覆盖率") || !strings.Contains(svg, "≥80%") {
			t.Errorf("%s: no legend", comm.Name)
		}
		if dir := os.Getenv("SHEQU_SITEPLAN_SVG"); dir != "" {
			for _, m := range siteplan.Measures {
				p, _ := siteplan.Load(ctx, w.s, comm.ID, m)
				page := `<!doctype html><meta charset="utf-8"><body style="margin:0">` + string(siteplan.SVG(p, printer()))
				os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%s-%s.html", engine(w), comm.Code, m)), []byte(page), 0o644)
			}
		}
	}
}

func engine(w world) string { return string(w.s.Dialect) }

var figureAttr = regexp.MustCompile(`data-place="([^"]+)" data-name="[^"]*" data-num="(\d+)" data-den="(\d+)" data-bin="(-?\d+)" data-figure="([^"]*)"`)

// The figures on the plan equal what plain SQL counts in the ledger.
func testMeasures(t *testing.T, w world) {
	ctx := context.Background()
	today := w.s.Today()
	for _, comm := range []store.OrgNode{w.compound, w.village} {
		// Expected, by building, straight from the tables: rooms are
		// children of the building or of its units.
		inBuilding := `(r.parent_id = $1 OR r.parent_id IN (SELECT id FROM places WHERE parent_id = $1 AND kind = 'unit'))`
		want := map[string]map[string][2]int{} // measure → building → num, den
		for _, m := range siteplan.Measures {
			want[m] = map[string][2]int{}
		}
		rows, err := store.RawForTest(w.s).Query(`SELECT id FROM places WHERE community_id = $1 AND kind IN ('building','house')`, comm.ID)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		totals := map[string]int{}
		for _, id := range ids {
			rooms := count(t, w.s, `SELECT count(*) FROM places r WHERE r.kind = 'room' AND `+inBuilding, id)
			surveyed := count(t, w.s, `SELECT count(*) FROM places r WHERE r.kind = 'room' AND r.survey = 'surveyed' AND `+inBuilding, id)
			tenants := count(t, w.s, `SELECT count(DISTINCT m.person_id) FROM household_members m JOIN households h ON h.id = m.household_id
				JOIN places r ON r.id = h.room_id WHERE h.kind = 'rental' AND h.ended_at IS NULL AND (m.until IS NULL OR m.until >= $2) AND `+inBuilding, id, today)
			monitored := count(t, w.s, `SELECT count(DISTINCT mo.person_id) FROM monitoring mo JOIN household_members m ON m.person_id = mo.person_id
				JOIN households h ON h.id = m.household_id JOIN places r ON r.id = h.room_id
				WHERE h.ended_at IS NULL AND (m.until IS NULL OR m.until >= $2) AND mo.lifted_on IS NULL AND mo.start_date <= $2 AND mo.end_date >= $2 AND `+inBuilding, id, today)
			events := count(t, w.s, `SELECT count(*) FROM events e WHERE e.status NOT IN ('closed','rejected','evaluated') AND (e.place_id = $1
				OR e.place_id IN (SELECT id FROM places WHERE parent_id = $1) OR e.place_id IN (SELECT r.id FROM places r WHERE `+inBuilding+`))`, id)
			want[siteplan.Coverage][id] = [2]int{surveyed, rooms}
			want[siteplan.Tenants][id] = [2]int{tenants, 0}
			want[siteplan.Monitoring][id] = [2]int{monitored, 0}
			want[siteplan.Events][id] = [2]int{events, 0}
			totals["tenants"] += tenants
			totals["monitored"] += monitored
			totals["events"] += events
		}
		if comm.ID == w.village.ID && (totals["tenants"] == 0 || totals["events"] == 0) {
			t.Fatalf("the village should have tenants and open events on its houses: %v", totals)
		}
		for _, m := range siteplan.Measures {
			p, err := siteplan.Load(ctx, w.s, comm.ID, m)
			if err != nil {
				t.Fatal(err)
			}
			svg := string(siteplan.SVG(p, printer()))
			got := figureAttr.FindAllStringSubmatch(svg, -1)
			if len(got) != len(ids) {
				t.Fatalf("%s %s: %d buildings in the SVG, want %d", comm.Name, m, len(got), len(ids))
			}
			for _, g := range got {
				num, _ := strconv.Atoi(g[2])
				den, _ := strconv.Atoi(g[3])
				if w := want[m][g[1]]; w != [2]int{num, den} {
					t.Errorf("%s %s: building %s shows %d/%d, the ledger says %d/%d", comm.Name, m, g[1], num, den, w[0], w[1])
				}
				// The figure shown is the same number.
				fig := g[5]
				var expect string
				switch {
				case m == siteplan.Coverage && den == 0:
					expect = "—"
				case m == siteplan.Coverage:
					expect = fmt.Sprintf("%d%%", num*100/den)
				case m == siteplan.Events:
					expect = fmt.Sprintf("%d件", num)
				default:
					expect = fmt.Sprintf("%d人", num)
				}
				if fig != expect {
					t.Errorf("%s %s: building %s shows %q, want %q", comm.Name, m, g[1], fig, expect)
				}
				// Its colour is the legend's bin for that number.
				bin, _ := strconv.Atoi(g[4])
				v := num
				if m == siteplan.Coverage && den > 0 {
					v = num * 100 / den
				}
				if den == 0 && m == siteplan.Coverage {
					if bin != -1 {
						t.Errorf("a building without rooms is in bin %d", bin)
					}
				} else if bin < 0 || v < p.Scale[bin].From || v > p.Scale[bin].To {
					t.Errorf("%s %s: value %d in bin %d (%+v)", comm.Name, m, v, bin, p.Scale)
				}
			}
		}
	}
}

type planRows struct{ footprints, gates, grids, shapes, extents int }

func rowsOf(t *testing.T, s *store.Store, comm string) planRows {
	return planRows{
		count(t, s, `SELECT count(*) FROM siteplan_footprints WHERE community_id = $1`, comm),
		count(t, s, `SELECT count(*) FROM siteplan_gates WHERE community_id = $1`, comm),
		count(t, s, `SELECT count(*) FROM siteplan_grids WHERE community_id = $1`, comm),
		count(t, s, `SELECT count(*) FROM siteplan_shapes WHERE community_id = $1`, comm),
		count(t, s, `SELECT count(*) FROM siteplan_extents WHERE community_id = $1`, comm),
	}
}

func square(x, y, w float64) string {
	return fmt.Sprintf(`[[[%g,%g],[%g,%g],[%g,%g],[%g,%g],[%g,%g]]]`, x, y, x+w, y, x+w, y+w, x, y+w, x, y)
}

// A good file is applied (merged, or replacing the plan); a bad one is
// refused naming the feature and property, and writes nothing.
func testImport(t *testing.T, w world) {
	ctx := context.Background()
	comm := w.compound
	actor := siteplan.Actor{UserID: "", Name: "test", Log: w.alog}
	before := rowsOf(t, w.s, comm.ID)
	var grid string
	for _, g := range w.res.Grids {
		if g.ParentID == comm.ID {
			grid = g.Code
			break
		}
	}
	good := `{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"building":"1号楼"},"geometry":{"type":"Polygon","coordinates":` + square(1000, 1000, 30) + `}},
		{"type":"Feature","properties":{"building":"2"},"geometry":{"type":"Polygon","coordinates":` + square(1040, 1000, 30) + `}},
		{"type":"Feature","properties":{"gate":"hy-e-vehicle"},"geometry":{"type":"Point","coordinates":[1100,1010]}},
		{"type":"Feature","properties":{"grid":"` + grid + `"},"geometry":{"type":"Polygon","coordinates":` + square(990, 990, 100) + `}},
		{"type":"Feature","properties":{"kind":"green","name":"中心花园"},"geometry":{"type":"Polygon","coordinates":` + square(1000, 1050, 20) + `}}]}`

	bad := []struct {
		name, feature, field, want string
	}{
		{"unknown building", `{"type":"Feature","properties":{"building":"99号楼"},"geometry":{"type":"Polygon","coordinates":` + square(0, 0, 10) + `}}`,
			"features[1].properties.building", "第 2 个要素（features[1]）：本社区没有楼栋或自建房“99号楼”"},
		{"ring not closed", `{"type":"Feature","properties":{"building":"1号楼"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10]]]}}`,
			"features[1].geometry.coordinates", "第 2 个要素（features[1]）：多边形没有闭合"},
		{"self-crossing", `{"type":"Feature","properties":{"building":"1号楼"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[10,10],[10,0],[0,10],[0,0]]]}}`,
			"features[1].geometry.coordinates", "第 2 个要素（features[1]）：多边形的边相互交叉"},
		{"too many points", `{"type":"Feature","properties":{"building":"1号楼"},"geometry":{"type":"Polygon","coordinates":[` + circle(260) + `]}}`,
			"features[1].geometry.coordinates", "第 2 个要素（features[1]）：多边形的角点太多"},
		{"unknown gate", `{"type":"Feature","properties":{"gate":"NOPE"},"geometry":{"type":"Point","coordinates":[1,1]}}`,
			"features[1].properties.gate", "没有编号为“NOPE”的闸机"},
		{"village gate", `{"type":"Feature","properties":{"gate":"FL-S-BOOTH"},"geometry":{"type":"Point","coordinates":[1,1]}}`,
			"features[1].properties.gate", "没有编号为“FL-S-BOOTH”的闸机"},
		{"nothing named", `{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":` + square(0, 0, 10) + `}}`,
			"features[1].properties", "properties 中应写明"},
		{"duplicate", `{"type":"Feature","properties":{"place_id":"` + placeID(t, w, comm.ID, "2号楼") + `"},"geometry":{"type":"Polygon","coordinates":` + square(0, 0, 10) + `}}`,
			"features[1].properties", "出现了两次"},
	}
	pr := locale.MustLoad().Printer("zh")
	for _, b := range bad {
		file := `{"type":"FeatureCollection","features":[
			{"type":"Feature","properties":{"building":"2号楼"},"geometry":{"type":"Polygon","coordinates":` + square(500, 500, 12) + `}},` + b.feature + `]}`
		_, err := siteplan.Import(ctx, w.s, actor, comm.ID, strings.NewReader(file), true)
		e, ok := errs.As(err)
		if !ok || e.Code != errs.Invalid || e.Field != b.field {
			t.Fatalf("%s: got %v, want invalid on %s", b.name, err, b.field)
		}
		if msg := pr.T(e.Key, e.Args...); !strings.Contains(msg, b.want) {
			t.Errorf("%s: message %q lacks %q", b.name, msg, b.want)
		}
		if got := rowsOf(t, w.s, comm.ID); got != before {
			t.Fatalf("%s: the refused file changed the plan: %+v, was %+v", b.name, got, before)
		}
	}
	if _, err := siteplan.Import(ctx, w.s, actor, comm.ID, strings.NewReader(`{"type":"Feature"}`), false); err == nil {
		t.Error("a lone Feature was accepted")
	}

	// Merged: the two buildings, the gate and the grid move; the shapes
	// are the file's; the rest of the plan stays.
	sum, err := siteplan.Import(ctx, w.s, actor, comm.ID, strings.NewReader(good), false)
	if err != nil {
		t.Fatal(err)
	}
	if sum != (siteplan.Summary{Footprints: 2, Gates: 1, Grids: 1, Shapes: 1}) {
		t.Fatalf("summary %+v", sum)
	}
	after := rowsOf(t, w.s, comm.ID)
	if after.footprints != before.footprints || after.gates != before.gates || after.grids != before.grids || after.shapes != 1 {
		t.Fatalf("merge: %+v, was %+v", after, before)
	}
	p, _ := siteplan.Load(ctx, w.s, comm.ID, "coverage")
	if p.Extent.MaxX < 1100 || p.Extent.MaxY < 1090 {
		t.Errorf("the extent %+v does not reach the imported features", p.Extent)
	}
	var moved bool
	for _, b := range p.Buildings {
		if b.Name == "2号楼" && b.Ring.Box() == (store.Box{MinX: 1040, MinY: 1000, MaxX: 1070, MaxY: 1030}) {
			moved = true
		}
	}
	if !moved {
		t.Error("2号楼 (named by its number) did not move")
	}
	if n := count(t, w.s, `SELECT count(*) FROM audit_log WHERE action = 'siteplan.import'`); n != 1 {
		t.Errorf("%d audit entries for the import", n)
	}
	// Replaced: only what the file holds.
	if _, err := siteplan.Import(ctx, w.s, actor, comm.ID, strings.NewReader(good), true); err != nil {
		t.Fatal(err)
	}
	if got := rowsOf(t, w.s, comm.ID); got != (planRows{2, 1, 1, 1, 1}) {
		t.Fatalf("replace: %+v", got)
	}
	p, _ = siteplan.Load(ctx, w.s, comm.ID, "coverage")
	if p.Extent != (store.Box{MinX: 990, MinY: 990, MaxX: 1100, MaxY: 1090}) {
		t.Errorf("extent after replace %+v", p.Extent)
	}
}

func circle(n int) string {
	var pts []string
	for i := 0; i <= n; i++ {
		j := i % n
		pts = append(pts, fmt.Sprintf("[%d,%d]", 100+j, j*j%97))
	}
	return "[" + strings.Join(pts, ",") + "]"
}

func placeID(t *testing.T, w world, comm, name string) string {
	var id string
	if err := store.RawForTest(w.s).QueryRow(`SELECT id FROM places WHERE community_id = $1 AND name = $2`, comm, name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// Drawing in the UI: a rectangle's corners are saved, a crossing outline
// is refused, a gate moves.
func testDraw(t *testing.T, w world) {
	ctx := context.Background()
	comm := w.village
	actor := siteplan.Actor{Name: "test", Log: w.alog}
	house := placeID(t, w, comm.ID, "1号")
	r, err := siteplan.ParsePoints("0,0\n20,0\n20,12\n0,12\n0,0")
	if err != nil || len(r) != 4 {
		t.Fatalf("points %v %v", r, err)
	}
	if err := siteplan.SaveFootprint(ctx, w.s, actor, comm.ID, house, r); err != nil {
		t.Fatal(err)
	}
	crossing, _ := siteplan.ParsePoints("0,0;20,12;20,0;0,12")
	err = siteplan.SaveFootprint(ctx, w.s, actor, comm.ID, house, crossing)
	if e, ok := errs.As(err); !ok || e.Field != "points" {
		t.Fatalf("crossing outline: %v", err)
	}
	if err := siteplan.SaveFootprint(ctx, w.s, actor, comm.ID, placeID(t, w, w.compound.ID, "1号楼"), r); err == nil {
		t.Fatal("a building of another community was drawn")
	}
	p, _ := siteplan.Load(ctx, w.s, comm.ID, "tenants")
	for _, b := range p.Buildings {
		if b.ID == house && b.Ring.Box() != (store.Box{MinX: 0, MinY: 0, MaxX: 20, MaxY: 12}) {
			t.Errorf("drawn house at %+v", b.Ring.Box())
		}
	}
	var gateID string
	for _, g := range p.Gates {
		gateID = g.ID
	}
	if err := siteplan.PlaceGate(ctx, w.s, actor, comm.ID, gateID, -50, -60); err != nil {
		t.Fatal(err)
	}
	p, _ = siteplan.Load(ctx, w.s, comm.ID, "tenants")
	if p.Extent.MinX != -50 || p.Extent.MinY != -60 {
		t.Errorf("extent %+v after moving a gate", p.Extent)
	}
	if err := siteplan.RemoveFootprint(ctx, w.s, actor, comm.ID, house); err != nil {
		t.Fatal(err)
	}
	p, _ = siteplan.Load(ctx, w.s, comm.ID, "tenants")
	if len(p.Unplaced) != 1 || p.Unplaced[0].ID != house {
		t.Errorf("unplaced %v", p.Unplaced)
	}
}
