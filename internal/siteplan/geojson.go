package siteplan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"

	"shequ/internal/errs"
	"shequ/internal/locale"
	"shequ/internal/store"
)

// Draft is a plan (or part of one) checked and ready to be written.
type Draft struct {
	Footprints []store.Footprint
	Gates      []GatePos
	Grids      []store.GridBoundary
	Shapes     []store.PlanShape
}

// GatePos is where a gate stands.
type GatePos struct {
	GateID string
	X, Y   float64
}

// ShapeKinds are the kinds of shape a plan may hold besides buildings,
// gates and grids, in drawing order.
var ShapeKinds = []string{"site", "green", "water", "plaza", "road"}

// Names is what a community's features are named by: its buildings and
// houses, gates and grids (read before the write).
type Names struct {
	CommunityID string
	Buildings   []store.Place // buildings and houses
	Sites       []store.Place // compounds and villages
	Gates       []store.GatePin
	Grids       []store.GridOutline
}

type geoFeature struct {
	Type     string `json:"type"`
	Geometry *struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	} `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

// featureErr is a refusal that names the feature (1-based for people, and
// its 0-based index in the file) and the property at fault.
func featureErr(i int, field, key string, args ...any) error {
	return errs.E(errs.Invalid, key, append([]any{i + 1, i}, args...)...).OnField(fmt.Sprintf("features[%d].%s", i, field))
}

func prop(p map[string]any, k string) (string, bool) {
	v, ok := p[k]
	if !ok || v == nil {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x), true
	case json.Number:
		return x.String(), true
	}
	return strings.TrimSpace(fmt.Sprint(v)), true
}

// ParseGeoJSON reads a FeatureCollection in local metres (x east, y north)
// and checks every feature against the community's names. It returns the
// first problem, naming the feature and property, and then no draft at
// all; nothing is written.
func ParseGeoJSON(r io.Reader, names Names) (Draft, error) {
	d, err := parseGeoJSON(r, names)
	if err != nil {
		return Draft{}, err
	}
	return d, nil
}

func parseGeoJSON(r io.Reader, names Names) (Draft, error) {
	var d Draft
	body, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return d, errs.Wrap(err, errs.Invalid, "err.siteplan.read")
	}
	if len(body) > MaxFileSize {
		return d, errs.E(errs.Invalid, "err.siteplan.too_large").OnField("file")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := dec.Decode(&fc); err != nil {
		return d, errs.Wrap(err, errs.Invalid, "err.siteplan.json", err.Error()).OnField("file")
	}
	switch {
	case fc.Type != "FeatureCollection":
		return d, errs.E(errs.Invalid, "err.siteplan.not_collection").OnField("type")
	case len(fc.Features) == 0:
		return d, errs.E(errs.Invalid, "err.siteplan.empty").OnField("features")
	case len(fc.Features) > MaxFeatures:
		return d, errs.E(errs.Invalid, "err.siteplan.too_many_features", MaxFeatures).OnField("features")
	}

	byID := map[string]store.Place{}
	byName := map[string][]store.Place{}
	for _, b := range names.Buildings {
		byID[b.ID] = b
		byName[b.Name] = append(byName[b.Name], b)
	}
	siteName := map[string]string{}
	for _, s := range names.Sites {
		siteName[s.ID] = s.Name
	}
	gates := map[string]store.GatePin{}
	for _, g := range names.Gates {
		gates[strings.ToUpper(g.Code)] = g
	}
	grids := map[string]store.GridOutline{}
	for _, g := range names.Grids {
		grids[g.Code] = g
		if _, taken := grids[g.Name]; !taken {
			grids[g.Name] = g
		}
	}
	seen := map[string]int{} // "b:id", "g:id", "n:id" → feature index

	for i, raw := range fc.Features {
		var f geoFeature
		fdec := json.NewDecoder(bytes.NewReader(raw))
		fdec.UseNumber()
		if err := fdec.Decode(&f); err != nil || f.Type != "Feature" {
			return d, featureErr(i, "type", "err.siteplan.feature")
		}
		if f.Geometry == nil {
			return d, featureErr(i, "geometry", "err.siteplan.geometry", "Polygon")
		}
		p := f.Properties
		if p == nil {
			p = map[string]any{}
		}
		once := func(key, label string) error {
			if j, dup := seen[key]; dup {
				return featureErr(i, "properties", "err.siteplan.duplicate", label, j+1)
			}
			seen[key] = i
			return nil
		}
		// A gate: a Point, named by its code.
		if code, ok := prop(p, "gate"); ok {
			g, found := gates[strings.ToUpper(code)]
			if !found {
				return d, featureErr(i, "properties.gate", "err.siteplan.unknown_gate", code)
			}
			if f.Geometry.Type != "Point" {
				return d, featureErr(i, "geometry.type", "err.siteplan.geometry", "Point")
			}
			pt, ok := point(f.Geometry.Coordinates)
			if !ok {
				return d, featureErr(i, "geometry.coordinates", "err.siteplan.coordinates")
			}
			if math.Abs(pt.X) > MaxCoord || math.Abs(pt.Y) > MaxCoord {
				return d, featureErr(i, "geometry.coordinates", "err.siteplan.at_feature", locale.Key("err.siteplan.ring_range"))
			}
			if err := once("g:"+g.ID, g.Code); err != nil {
				return d, err
			}
			d.Gates = append(d.Gates, GatePos{GateID: g.ID, X: round2(pt.X), Y: round2(pt.Y)})
			continue
		}
		// Everything else is a Polygon of one ring.
		if f.Geometry.Type != "Polygon" {
			return d, featureErr(i, "geometry.type", "err.siteplan.geometry", "Polygon")
		}
		ring, err := polygon(i, f.Geometry.Coordinates)
		if err != nil {
			return d, err
		}
		box := ring.Box()
		switch {
		case has(p, "place_id") || has(p, "building"):
			var b store.Place
			if id, ok := prop(p, "place_id"); ok && id != "" {
				var found bool
				if b, found = byID[id]; !found {
					return d, featureErr(i, "properties.place_id", "err.siteplan.unknown_building", id)
				}
			} else {
				name, _ := prop(p, "building")
				site, _ := prop(p, "site")
				cands := matchBuilding(byName, name)
				if site != "" {
					kept := cands[:0:0]
					for _, c := range cands {
						if siteName[c.ParentID] == site {
							kept = append(kept, c)
						}
					}
					cands = kept
				}
				switch len(cands) {
				case 0:
					return d, featureErr(i, "properties.building", "err.siteplan.unknown_building", name)
				case 1:
					b = cands[0]
				default:
					return d, featureErr(i, "properties.building", "err.siteplan.ambiguous_building", name)
				}
			}
			if err := once("b:"+b.ID, b.Name); err != nil {
				return d, err
			}
			label := ring.LabelPoint()
			if lv, ok := p["label"]; ok {
				raw, _ := json.Marshal(lv)
				lp, ok := point(raw)
				if !ok || !ring.Contains(lp) {
					return d, featureErr(i, "properties.label", "err.siteplan.label")
				}
				label = lp
			}
			label = ring.labelAt(label)
			d.Footprints = append(d.Footprints, store.Footprint{PlaceID: b.ID, CommunityID: names.CommunityID, Polygon: encodeRing(ring),
				LabelX: label.X, LabelY: label.Y, Box: box})
		case has(p, "grid"):
			code, _ := prop(p, "grid")
			g, found := grids[code]
			if !found {
				return d, featureErr(i, "properties.grid", "err.siteplan.unknown_grid", code)
			}
			if err := once("n:"+g.ID, g.Name); err != nil {
				return d, err
			}
			d.Grids = append(d.Grids, store.GridBoundary{GridID: g.ID, CommunityID: names.CommunityID, Polygon: encodeRing(ring), Box: box})
		case has(p, "kind"):
			kind, _ := prop(p, "kind")
			if !validKind(kind) {
				return d, featureErr(i, "properties.kind", "err.siteplan.unknown_kind", kind)
			}
			name, _ := prop(p, "name")
			if len([]rune(name)) > 60 {
				name = string([]rune(name)[:60])
			}
			d.Shapes = append(d.Shapes, store.PlanShape{CommunityID: names.CommunityID, Kind: kind, Name: name, Polygon: encodeRing(ring), Box: box})
		default:
			return d, featureErr(i, "properties", "err.siteplan.no_target")
		}
	}
	return d, nil
}

func has(p map[string]any, k string) bool { _, ok := prop(p, k); return ok }

func validKind(k string) bool {
	for _, x := range ShapeKinds {
		if x == k {
			return true
		}
	}
	return false
}

// matchBuilding finds buildings by name ("3号楼"), or by number alone
// ("3" matches 3号楼, 3号, 3栋, 3幢).
func matchBuilding(byName map[string][]store.Place, name string) []store.Place {
	if bs := byName[name]; len(bs) > 0 {
		return bs
	}
	if name == "" || strings.Trim(name, "0123456789") != "" {
		return nil
	}
	var out []store.Place
	for _, suffix := range []string{"号楼", "号", "栋", "幢"} {
		out = append(out, byName[name+suffix]...)
	}
	return out
}

// point reads [x, y] (a third number, a height, is ignored).
func point(raw json.RawMessage) (Pt, bool) {
	var xs []json.Number
	if err := json.Unmarshal(raw, &xs); err != nil || len(xs) < 2 || len(xs) > 3 {
		return Pt{}, false
	}
	x, err1 := xs[0].Float64()
	y, err2 := xs[1].Float64()
	if err1 != nil || err2 != nil || math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
		return Pt{}, false
	}
	return Pt{x, y}, true
}

// polygon reads a GeoJSON Polygon's coordinates: one closed ring.
func polygon(i int, raw json.RawMessage) (Ring, error) {
	var rings [][]json.RawMessage
	if err := json.Unmarshal(raw, &rings); err != nil || len(rings) == 0 {
		return nil, featureErr(i, "geometry.coordinates", "err.siteplan.coordinates")
	}
	if len(rings) > 1 {
		return nil, featureErr(i, "geometry.coordinates", "err.siteplan.at_feature", locale.Key("err.siteplan.ring_holes"))
	}
	if len(rings[0]) > MaxPoints+1 {
		return nil, featureErr(i, "geometry.coordinates", "err.siteplan.at_feature", locale.Key("err.siteplan.ring_many_points"))
	}
	var r Ring
	for _, c := range rings[0] {
		p, ok := point(c)
		if !ok {
			return nil, featureErr(i, "geometry.coordinates", "err.siteplan.coordinates")
		}
		r = append(r, p)
	}
	if len(r) < 4 || r[0] != r[len(r)-1] {
		if len(r) < 4 {
			return nil, featureErr(i, "geometry.coordinates", "err.siteplan.at_feature", locale.Key("err.siteplan.ring_few_points"))
		}
		return nil, featureErr(i, "geometry.coordinates", "err.siteplan.at_feature", locale.Key("err.siteplan.ring_not_closed"))
	}
	r = dedupe(r.rounded())
	if pr := ringProblem(r); pr != "" {
		return nil, featureErr(i, "geometry.coordinates", "err.siteplan.at_feature", locale.Key("err.siteplan.ring_"+pr))
	}
	return r.CCW(), nil
}

// CheckRing checks a ring drawn in the UI (not closed: the last corner
// joins the first).
func CheckRing(r Ring) (Ring, error) {
	r = dedupe(r.rounded())
	if pr := ringProblem(r); pr != "" {
		return nil, errs.E(errs.Invalid, "err.siteplan.drawn", locale.Key("err.siteplan.ring_"+pr)).OnField("points")
	}
	return r.CCW(), nil
}

// ParsePoints reads corners typed or drawn in the UI: "x,y" pairs
// separated by new lines or semicolons.
func ParsePoints(s string) (Ring, error) {
	var r Ring
	for _, line := range strings.FieldsFunc(s, func(c rune) bool { return c == '\n' || c == ';' || c == '\r' }) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		x, y, ok := strings.Cut(strings.ReplaceAll(line, "，", ","), ",")
		var px, py float64
		_, err1 := fmt.Sscan(strings.TrimSpace(x), &px)
		_, err2 := fmt.Sscan(strings.TrimSpace(y), &py)
		if !ok || err1 != nil || err2 != nil || math.IsNaN(px) || math.IsNaN(py) {
			return nil, errs.E(errs.Invalid, "err.siteplan.points").OnField("points")
		}
		r = append(r, Pt{px, py})
	}
	if len(r) > 1 && r[0] == r[len(r)-1] {
		r = r[:len(r)-1]
	}
	return r, nil
}
