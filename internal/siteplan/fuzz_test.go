package siteplan

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"shequ/internal/errs"
	"shequ/internal/store"
)

// fuzzNames is a community with two sites, three buildings (two of them
// named alike), a gate and a grid.
var fuzzNames = Names{
	CommunityID: "c1",
	Buildings: []store.Place{{ID: "b1", Name: "1号楼", ParentID: "s1"}, {ID: "b2", Name: "2号楼", ParentID: "s1"},
		{ID: "b3", Name: "2号楼", ParentID: "s2"}},
	Sites: []store.Place{{ID: "s1", Name: "丰乐小区"}, {ID: "s2", Name: "西村"}},
	Gates: []store.GatePin{{ID: "g1", Code: "G1"}},
	Grids: []store.GridOutline{{ID: "n1", Code: "610402011002001", Name: "第一网格"}},
}

// storedRing checks a ring as it is written to the database: it reads
// back, is a valid ring (the same check the input passed), runs
// counter-clockwise and lies inside box.
func storedRing(t *testing.T, what, polygon string, box store.Box) Ring {
	t.Helper()
	r := decodeRing(polygon)
	if pr := ringProblem(r); pr != "" {
		t.Fatalf("%s stored as %s, which is not a valid ring: %s", what, polygon, pr)
	}
	if r.Area() <= 0 {
		t.Fatalf("%s stored clockwise: %s", what, polygon)
	}
	for _, p := range r {
		if p.X < box.MinX || p.X > box.MaxX || p.Y < box.MinY || p.Y > box.MaxY {
			t.Fatalf("%s: corner %v outside its box %+v", what, p, box)
		}
	}
	return r
}

func refusedWithKey(t *testing.T, err error) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Code != errs.Invalid || e.Key == "" || e.Field == "" {
		t.Fatalf("refusal %v: want an invalid-input error with a key and a field", err)
	}
}

const square = `[[[0,0],[10,0],[10,10],[0,10],[0,0]]]`

func FuzzParseGeoJSON(f *testing.F) {
	feature := func(props, geomType, coords string) string {
		return `{"type":"Feature","properties":` + props + `,"geometry":{"type":"` + geomType + `","coordinates":` + coords + `}}`
	}
	collection := func(fs ...string) string {
		return `{"type":"FeatureCollection","features":[` + strings.Join(fs, ",") + `]}`
	}
	for _, s := range []string{
		collection(feature(`{"place_id":"b1","label":[5,5]}`, "Polygon", square)),
		collection(feature(`{"building":"2","site":"西村"}`, "Polygon", `[[[0,0],[0,10],[10,10],[10,0],[0,0]]]`),
			feature(`{"gate":"g1"}`, "Point", `[1.234,5.678,9]`),
			feature(`{"grid":"第一网格"}`, "Polygon", `[[[-50,-50],[50,-50],[50,50],[-50,50],[-50,-50]]]`),
			feature(`{"kind":"green","name":"中心绿地"}`, "Polygon", `[[[0,0],[1,0],[1,1],[0,1],[0,0]]]`)),
		collection(feature(`{"building":"2号楼"}`, "Polygon", square)),
		collection(feature(`{"place_id":"b1"}`, "Polygon", square), feature(`{"building":"1"}`, "Polygon", square)),
		collection(feature(`{"kind":"road"}`, "Polygon", `[[[0,0],[10,10],[10,0],[0,10],[0,0]]]`)),
		collection(feature(`{"kind":"site"}`, "Polygon", `[[[0,0],[0.001,0],[0.001,0.001],[0,0.001],[0,0]]]`)),
		collection(feature(`{"kind":"plaza"}`, "Polygon", `[[[0,0],[100000.004,0],[100000.004,10],[0,10],[0,0]]]`)),
		collection(feature(`{"kind":"water"}`, "Polygon", `[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[1,1],[2,1],[2,2],[1,1]]]`)),
		collection(feature(`{"place_id":1e400}`, "Polygon", square)),
		collection(feature(`{"kind":"green"}`, "Polygon", `[[[0,0],[10,0],[10,0.004],[5,0.006],[0,0.004],[0,0]]]`)),
		`{"type":"FeatureCollection","features":[]}`,
		`{"type":"Feature"}`,
		`[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseGeoJSON(strings.NewReader(string(data)), fuzzNames)
		if err != nil {
			refusedWithKey(t, err)
			if len(d.Footprints)+len(d.Gates)+len(d.Grids)+len(d.Shapes) != 0 {
				t.Fatalf("refused file left a draft: %+v", d)
			}
			return
		}
		if len(d.Footprints)+len(d.Gates)+len(d.Grids)+len(d.Shapes) == 0 {
			t.Fatal("accepted a file that places nothing")
		}
		seen := map[string]bool{}
		once := func(id string) {
			if seen[id] {
				t.Fatalf("%s placed twice", id)
			}
			seen[id] = true
		}
		for _, fp := range d.Footprints {
			once(fp.PlaceID)
			if fp.PlaceID != "b1" && fp.PlaceID != "b2" && fp.PlaceID != "b3" || fp.CommunityID != "c1" {
				t.Fatalf("footprint of %q in %q", fp.PlaceID, fp.CommunityID)
			}
			r := storedRing(t, "footprint "+fp.PlaceID, fp.Polygon, fp.Box)
			if !r.Contains(Pt{fp.LabelX, fp.LabelY}) {
				t.Fatalf("label (%v,%v) outside the stored footprint %s", fp.LabelX, fp.LabelY, fp.Polygon)
			}
		}
		for _, g := range d.Gates {
			once(g.GateID)
			if g.GateID != "g1" || math.Abs(g.X) > MaxCoord || math.Abs(g.Y) > MaxCoord || g.X != round2(g.X) || g.Y != round2(g.Y) {
				t.Fatalf("gate %+v", g)
			}
		}
		for _, g := range d.Grids {
			once(g.GridID)
			if g.GridID != "n1" {
				t.Fatalf("grid %+v", g)
			}
			storedRing(t, "grid", g.Polygon, g.Box)
		}
		for _, s := range d.Shapes {
			if !validKind(s.Kind) || utf8.RuneCountInString(s.Name) > 60 {
				t.Fatalf("shape %+v", s)
			}
			storedRing(t, "shape "+s.Kind, s.Polygon, s.Box)
		}
	})
}

// FuzzDrawnRing: corners typed or drawn in the UI are checked and stored;
// the stored ring, exported as GeoJSON and imported again, is the same
// ring.
func FuzzDrawnRing(f *testing.F) {
	for _, s := range []string{
		"0,0\n10,0\n10,10\n0,10", "0，0;10,0;10,10;0,10;0,0", "0,0\n10,10\n10,0\n0,10", "1e5,0\n-1e5,0\n0,1e5",
		"0,0\n0.004,0\n0.004,1000\n0.008,1000\n0.008,0\n0.012,0\n0.012,2000\n0,2000",
		"0,0\n10,0\n10,0.004\n5,0.006\n0,0.004", "NaN,1\n2,3\n4,5", "Inf,0\n1,1\n0,1", "x", "\r\n;;", "0,0\n3,0\n3,0.3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		corners, err := ParsePoints(s)
		if err != nil {
			refusedWithKey(t, err)
			return
		}
		r, err := CheckRing(corners)
		if err != nil {
			refusedWithKey(t, err)
			return
		}
		// As SaveFootprint stores it.
		polygon, label := encodeRing(r), r.labelAt(r.LabelPoint())
		stored := storedRing(t, "drawn ring", polygon, r.Box())
		if !stored.Contains(label) {
			t.Fatalf("label %v outside the stored ring %s", label, polygon)
		}
		// Exported as a GeoJSON Polygon (closed) and imported again.
		coords := make([][2]float64, 0, len(stored)+1)
		for _, p := range append(stored, stored[0]) {
			coords = append(coords, [2]float64{p.X, p.Y})
		}
		fc := map[string]any{"type": "FeatureCollection", "features": []any{map[string]any{"type": "Feature",
			"properties": map[string]any{"place_id": "b1"}, "geometry": map[string]any{"type": "Polygon", "coordinates": [][][2]float64{coords}}}}}
		b, _ := json.Marshal(fc)
		d, err := ParseGeoJSON(strings.NewReader(string(b)), fuzzNames)
		if err != nil {
			t.Fatalf("the stored ring %s does not import: %v", polygon, err)
		}
		if len(d.Footprints) != 1 || d.Footprints[0].Polygon != polygon {
			t.Fatalf("drawn %s, imported %+v", polygon, d.Footprints)
		}
	})
}
