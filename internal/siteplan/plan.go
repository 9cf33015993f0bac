// Package siteplan is the community's digital twin: its site plan in local
// metres (building footprints, gates, grid boundaries, roads and green
// space), imported as GeoJSON, drawn in the UI or generated for the demo,
// with buildings coloured by a measure counted from the ledger and drawn as
// server-side SVG.
package siteplan

import (
	"context"
	"fmt"
	"sort"

	"shequ/internal/errs"
	"shequ/internal/store"
)

// The measures a plan colours its buildings by.
const (
	Coverage   = "coverage"   // rooms surveyed / rooms, percent
	Tenants    = "tenants"    // people in rental households
	Monitoring = "monitoring" // people under health monitoring or quarantine now
	Events     = "events"     // events not yet closed about the building or its rooms
)

// Measures lists the measures in the order the switcher offers them.
var Measures = []string{Coverage, Tenants, Monitoring, Events}

// ValidMeasure reports whether m is a measure; "" is not.
func ValidMeasure(m string) bool {
	for _, x := range Measures {
		if x == m {
			return true
		}
	}
	return false
}

// Translate is a printer's T: a message key and its arguments.
type Translate func(key string, args ...any) string

// Building is a building or house on the plan with its figures.
type Building struct {
	ID, Name, Kind, GridID string
	Ring                   Ring
	Label                  Pt
	Figures                store.BuildingFigures
	// The figure shown: Num of Den for coverage (surveyed of rooms), else
	// the count Num. HasValue is false when there is nothing to measure
	// (coverage of a building without rooms).
	Num, Den int
	HasValue bool
	Bin      int // index into Plan.Scale; -1 without a value
}

// Gate is a gate with its status: "online" (a device heard from and not
// offline), "offline" (its devices are marked offline) or "unknown".
type Gate struct {
	store.GatePin
	Status string
}

// Grid is a grid with its boundary (nil when not drawn) and its colour.
type Grid struct {
	ID, Code, Name string
	Ring           Ring
	Colour         string
}

// Shape is a site outline, road, green space, water or square.
type Shape struct {
	Kind, Name string
	Ring       Ring
}

// Bin is one step of the colour scale: values From to To (inclusive).
type Bin struct {
	From, To int
	Colour   string
	Label    string // "20–39%", "1–3", "≥8"
}

// Plan is a community's site plan coloured by one measure.
type Plan struct {
	CommunityID, CommunityName string
	Measure                    string
	Today                      string
	Extent                     store.Box
	HasPlan                    bool          // anything is drawn
	Buildings                  []Building    // with footprints
	Unplaced                   []store.Place // buildings and houses without one
	Gates                      []Gate        // every gate; Placed says which are drawn
	Grids                      []Grid
	Shapes                     []Shape
	Scale                      []Bin
}

// NoDataColour fills a building without a value.
const NoDataColour = "#d4d4d4"

var palettes = map[string][5]string{
	Coverage:   {"#d73027", "#fc8d59", "#fee08b", "#91cf60", "#1a9850"},
	Tenants:    {"#eef1f5", "#c6dbef", "#6baed6", "#2b7bba", "#08306b"},
	Monitoring: {"#eef1f5", "#fdd49e", "#fc8d59", "#d7301f", "#7f0000"},
	Events:     {"#eef1f5", "#dadaeb", "#9e9ac8", "#6a51a3", "#3f007d"},
}

var gridColours = []string{"#1f78b4", "#e66101", "#33a02c", "#6a3d9a", "#b15928", "#e7298a", "#01665e", "#8c510a"}

// Load reads a community's plan and colours its buildings by measure
// (Coverage when measure is not one of Measures).
func Load(ctx context.Context, st *store.Store, communityID, measure string) (Plan, error) {
	if !ValidMeasure(measure) {
		measure = Coverage
	}
	comm, err := st.OrgNode(ctx, communityID)
	if err != nil {
		return Plan{}, err
	}
	if comm.Level != store.LevelCommunity {
		return Plan{}, errs.E(errs.NotFound, "err.not_found")
	}
	p := Plan{CommunityID: comm.ID, CommunityName: comm.Name, Measure: measure, Today: st.Today()}
	ext, ok, err := st.PlanExtent(ctx, comm.ID)
	if err != nil {
		return p, err
	}
	p.Extent, p.HasPlan = ext, ok
	figs, err := st.BuildingMeasures(ctx, comm.ID, p.Today)
	if err != nil {
		return p, err
	}
	fps, err := st.SitePlanFootprints(ctx, comm.ID)
	if err != nil {
		return p, err
	}
	placed := map[string]bool{}
	for _, f := range fps {
		r := decodeRing(f.Polygon)
		if len(r) < 3 {
			continue
		}
		placed[f.PlaceID] = true
		b := Building{ID: f.PlaceID, Name: f.Name, Kind: f.Kind, GridID: f.GridID, Ring: r, Label: Pt{f.LabelX, f.LabelY}, Figures: figs[f.PlaceID]}
		p.Buildings = append(p.Buildings, b)
	}
	all, err := st.PlanBuildings(ctx, comm.ID)
	if err != nil {
		return p, err
	}
	for _, b := range all {
		if !placed[b.ID] {
			p.Unplaced = append(p.Unplaced, b)
		}
	}
	pins, err := st.SitePlanGates(ctx, comm.ID)
	if err != nil {
		return p, err
	}
	for _, g := range pins {
		status := "unknown"
		switch {
		case g.Online > 0:
			status = "online"
		case g.Offline > 0:
			status = "offline"
		}
		p.Gates = append(p.Gates, Gate{GatePin: g, Status: status})
	}
	grids, err := st.SitePlanGrids(ctx, comm.ID)
	if err != nil {
		return p, err
	}
	for i, g := range grids {
		p.Grids = append(p.Grids, Grid{ID: g.ID, Code: g.Code, Name: g.Name, Ring: decodeRing(g.Polygon), Colour: gridColours[i%len(gridColours)]})
	}
	shapes, err := st.SitePlanShapes(ctx, comm.ID)
	if err != nil {
		return p, err
	}
	for _, sh := range shapes {
		if r := decodeRing(sh.Polygon); len(r) >= 3 {
			p.Shapes = append(p.Shapes, Shape{Kind: sh.Kind, Name: sh.Name, Ring: r})
		}
	}
	p.colour()
	return p, nil
}

// figure sets a building's figure for the plan's measure.
func (p *Plan) figure(b *Building) {
	f := b.Figures
	switch p.Measure {
	case Coverage:
		b.Num, b.Den, b.HasValue = f.Surveyed, f.Rooms, f.Rooms > 0
	case Tenants:
		b.Num, b.HasValue = f.Tenants, true
	case Monitoring:
		b.Num, b.HasValue = f.Monitored, true
	case Events:
		b.Num, b.HasValue = f.OpenEvents, true
	}
}

// Percent is the coverage figure, whole percent rounded down.
func (b Building) Percent() int {
	if b.Den == 0 {
		return 0
	}
	return b.Num * 100 / b.Den
}

// value is what the scale places: the percent for coverage, else the count.
func (b Building) value(measure string) int {
	if measure == Coverage {
		return b.Percent()
	}
	return b.Num
}

// colour builds the scale and puts every building in its bin.
func (p *Plan) colour() {
	pal := palettes[p.Measure]
	maxN := 0
	for i := range p.Buildings {
		p.figure(&p.Buildings[i])
		maxN = max(maxN, p.Buildings[i].Num)
	}
	if p.Measure == Coverage {
		p.Scale = []Bin{{0, 19, pal[0], "<20%"}, {20, 39, pal[1], "20–39%"}, {40, 59, pal[2], "40–59%"}, {60, 79, pal[3], "60–79%"}, {80, 100, pal[4], "≥80%"}}
	} else {
		step := 1
		if maxN > 4 {
			step = (maxN + 3) / 4
		}
		p.Scale = []Bin{{0, 0, pal[0], "0"}}
		for i := 0; i < 4; i++ {
			from, to := 1+i*step, (i+1)*step
			label := fmt.Sprintf("%d–%d", from, to)
			switch {
			case i == 3:
				label, to = fmt.Sprintf("≥%d", from), 1<<30
			case from == to:
				label = fmt.Sprint(from)
			}
			p.Scale = append(p.Scale, Bin{from, to, pal[i+1], label})
		}
	}
	for i := range p.Buildings {
		b := &p.Buildings[i]
		b.Bin = -1
		if !b.HasValue {
			continue
		}
		v := b.value(p.Measure)
		for j, bin := range p.Scale {
			if v >= bin.From && v <= bin.To {
				b.Bin = j
			}
		}
	}
}

// Colour is a building's fill.
func (p Plan) Colour(b Building) string {
	if b.Bin < 0 || b.Bin >= len(p.Scale) {
		return NoDataColour
	}
	return p.Scale[b.Bin].Colour
}

// Figure is the short figure shown on a building ("85%", "12人").
func (p Plan) Figure(b Building, t Translate) string {
	if !b.HasValue {
		return "—"
	}
	switch p.Measure {
	case Coverage:
		return fmt.Sprintf("%d%%", b.Percent())
	case Events:
		return t("siteplan.n_events", b.Num)
	}
	return t("siteplan.n_people", b.Num)
}

// Detail is the tooltip line under a building's name.
func (p Plan) Detail(b Building, t Translate) string {
	f := b.Figures
	switch p.Measure {
	case Coverage:
		if !b.HasValue {
			return t("siteplan.detail_no_rooms")
		}
		return t("siteplan.detail_coverage", b.Percent(), f.Surveyed, f.Rooms)
	case Tenants:
		return t("siteplan.detail_tenants", f.Tenants, f.People, f.RentedRooms, f.Rooms)
	case Monitoring:
		return t("siteplan.detail_monitoring", f.Monitored, f.People)
	}
	return t("siteplan.detail_events", f.OpenEvents)
}

// Attention lists up to n buildings most in need of a look: the lowest
// coverage, or the highest count (ties by name order on the plan).
func (p Plan) Attention(n int) []Building {
	var out []Building
	for _, b := range p.Buildings {
		if !b.HasValue || (p.Measure != Coverage && b.Num == 0) || (p.Measure == Coverage && b.Percent() >= 100) {
			continue
		}
		out = append(out, b)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if p.Measure == Coverage {
			return out[i].Percent() < out[j].Percent()
		}
		return out[i].Num > out[j].Num
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}
