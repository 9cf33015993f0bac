package siteplan

import (
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"shequ/internal/store"
)

// GenSite is one compound or village to lay out, with its buildings or
// houses (each carrying its grid and floors).
type GenSite struct {
	Kind      string // store.PlaceCompound or store.PlaceVillage
	Buildings []store.Place
}

// GenInput is what the generator lays out for one community.
type GenInput struct {
	CommunityID string
	Sites       []GenSite
	Gates       []store.GatePin // placed by the direction in their code: -N-, -S-, -E-, -W-
	Grids       []store.GridOutline
	Seed        uint64
}

// Generate makes a plausible plan: a compound is blocks of tower slabs in
// rows, one block per grid, with a ring road, cross roads and lawns
// between the rows; a village is an irregular cluster of houses along
// east–west lanes off two main streets. Gates stand at the entrances their
// codes name, and each grid's boundary encloses its buildings. Sites of
// one community stand side by side. The same input gives the same plan.
func Generate(in GenInput) Draft {
	rng := rand.New(rand.NewPCG(in.Seed, in.Seed^0x9e3779b97f4a7c15))
	var d Draft
	gridRings := map[string][]Ring{}
	x0 := 0.0
	for si, site := range in.Sites {
		var g generated
		if site.Kind == store.PlaceVillage {
			g = village(rng, site.Buildings, x0)
		} else {
			g = compound(rng, site.Buildings, x0)
		}
		for id, r := range g.rings {
			l := r.LabelPoint()
			d.Footprints = append(d.Footprints, store.Footprint{PlaceID: id, CommunityID: in.CommunityID, Polygon: encodeRing(r),
				LabelX: round2(l.X), LabelY: round2(l.Y), Box: r.Box()})
		}
		for _, b := range site.Buildings {
			if r, ok := g.rings[b.ID]; ok && b.GridID != "" {
				gridRings[b.GridID] = append(gridRings[b.GridID], r)
			}
		}
		// The site's outline encloses everything drawn.
		var corners []Pt
		for _, r := range g.rings {
			corners = append(corners, r...)
		}
		for _, sh := range g.shapes {
			corners = append(corners, sh.Ring...)
		}
		var siteRing Ring
		if site.Kind == store.PlaceVillage {
			siteRing = enclose([]Ring{corners}, 6)
		} else {
			b := Ring(corners).Box()
			siteRing = rect(Pt{(b.MinX + b.MaxX) / 2, (b.MinY + b.MaxY) / 2}, b.MaxX-b.MinX+12, b.MaxY-b.MinY+12, 0)
		}
		box := siteRing.Box()
		// Gates stand on the outline where their entrance road leaves it;
		// the first site takes them all (the demo has one site a community).
		var outline []Pt
		if si == 0 {
			byDir := map[string][]store.GatePin{}
			for _, gt := range in.Gates {
				byDir[gateDirection(gt.Code)] = append(byDir[gateDirection(gt.Code)], gt)
			}
			for _, dir := range []string{"N", "S", "E", "W"} {
				gs := byDir[dir]
				if len(gs) == 0 {
					continue
				}
				inward := g.entrances[dir]
				at := map[string]Pt{"N": {inward.X, box.MaxY}, "S": {inward.X, box.MinY}, "E": {box.MaxX, inward.Y}, "W": {box.MinX, inward.Y}}[dir]
				d.Shapes = append(d.Shapes, store.PlanShape{Kind: "road", Polygon: encodeRing(roadBetween(at, inward, 9))})
				sort.Slice(gs, func(i, j int) bool { return gs[i].Code < gs[j].Code })
				for k, gt := range gs {
					off := (float64(k) - float64(len(gs)-1)/2) * 7
					p := at
					if dir == "N" || dir == "S" {
						p.X += off
					} else {
						p.Y += off
					}
					d.Gates = append(d.Gates, GatePos{GateID: gt.ID, X: round2(p.X), Y: round2(p.Y)})
					outline = append(outline, p)
				}
			}
		}
		if len(outline) > 0 && site.Kind == store.PlaceVillage {
			siteRing = hull(append(append([]Pt(nil), siteRing...), outline...))
		}
		shapes := []store.PlanShape{{Kind: "site", Polygon: encodeRing(siteRing)}}
		for _, sh := range g.shapes {
			shapes = append(shapes, store.PlanShape{Kind: sh.Kind, Name: sh.Name, Polygon: encodeRing(sh.Ring)})
		}
		d.Shapes = append(shapes, d.Shapes...)
		x0 = siteRing.Box().MaxX + 60
	}
	for i := range d.Shapes {
		d.Shapes[i].CommunityID = in.CommunityID
		d.Shapes[i].Box = decodeRing(d.Shapes[i].Polygon).Box()
	}
	for _, gr := range in.Grids {
		if rs := gridRings[gr.ID]; len(rs) > 0 {
			r := enclose(rs, 4)
			d.Grids = append(d.Grids, store.GridBoundary{GridID: gr.ID, CommunityID: in.CommunityID, Polygon: encodeRing(r), Box: r.Box()})
		}
	}
	sort.Slice(d.Footprints, func(i, j int) bool { return d.Footprints[i].PlaceID < d.Footprints[j].PlaceID })
	return d
}

// gateDirection reads N, S, E or W from a gate code (HY-N-TURNSTILE); S
// when it names none.
func gateDirection(code string) string {
	for _, part := range strings.Split(strings.ToUpper(code), "-") {
		switch part {
		case "N", "S", "E", "W":
			return part
		}
	}
	return "S"
}

// roadBetween is a straight road of width w from a to b (axis-aligned).
func roadBetween(a, b Pt, w float64) Ring {
	c := Pt{(a.X + b.X) / 2, (a.Y + b.Y) / 2}
	if math.Abs(a.X-b.X) < math.Abs(a.Y-b.Y) {
		return rect(c, w, math.Abs(a.Y-b.Y)+w/2, 0)
	}
	return rect(c, math.Abs(a.X-b.X)+w/2, w, 0)
}

type generated struct {
	rings     map[string]Ring
	shapes    []Shape
	entrances map[string]Pt // direction → where an entrance road meets the roads inside
}

// groups splits buildings by grid, in the order grids first appear.
func groups(bs []store.Place) [][]store.Place {
	var order []string
	by := map[string][]store.Place{}
	for _, b := range bs {
		if _, ok := by[b.GridID]; !ok {
			order = append(order, b.GridID)
		}
		by[b.GridID] = append(by[b.GridID], b)
	}
	out := make([][]store.Place, 0, len(order))
	for _, g := range order {
		out = append(out, by[g])
	}
	return out
}

// compound lays out blocks of slabs, one block a grid, two or three
// blocks a row, from the north-west.
func compound(rng *rand.Rand, bs []store.Place, x0 float64) generated {
	const (
		slabW, slabD   = 38.0, 14.0 // a two-unit slab
		towerW, towerD = 26.0, 20.0 // a point tower (26 floors and up)
		colGap, rowGap = 14.0, 32.0 // between slabs; between rows (sunlight)
		blockGap       = 26.0       // between blocks: a road and lawns
		ring           = 8.0        // ring road width
	)
	gs := groups(bs)
	cols := int(math.Ceil(math.Sqrt(float64(len(gs)))))
	type block struct {
		perRow, rows int
		w, h         float64
	}
	blocks := make([]block, len(gs))
	nrows := (len(gs) + cols - 1) / cols
	// Columns as wide as their widest block, rows as tall as their
	// tallest, so the cross roads run straight.
	colW, rowH := make([]float64, cols), make([]float64, nrows)
	for i, g := range gs {
		per := 2
		if len(g) > 4 {
			per = 3
		}
		rows := (len(g) + per - 1) / per
		blocks[i] = block{per, rows, float64(per)*slabW + float64(per-1)*colGap, float64(rows)*slabD + float64(rows-1)*rowGap}
		colW[i%cols], rowH[i/cols] = math.Max(colW[i%cols], blocks[i].w), math.Max(rowH[i/cols], blocks[i].h)
	}
	colX, rowY := make([]float64, cols+1), make([]float64, nrows+1) // left edges; top edges (from the top down)
	left := x0 + ring + 12
	colX[0] = left
	for c := 0; c < cols; c++ {
		colX[c+1] = colX[c] + colW[c] + blockGap
	}
	var top float64
	for _, h := range rowH {
		top += h + blockGap
	}
	top -= blockGap
	rowY[0] = top
	for r := 0; r < nrows; r++ {
		rowY[r+1] = rowY[r] - rowH[r] - blockGap
	}
	out := generated{rings: map[string]Ring{}}
	for i, g := range gs {
		c, r := i%cols, i/cols
		bx := colX[c] + (colW[c]-blocks[i].w)/2
		by := rowY[r] - (rowH[r]-blocks[i].h)/2
		for k, b := range g {
			rr, cc := k/blocks[i].perRow, k%blocks[i].perRow
			cx := bx + float64(cc)*(slabW+colGap) + slabW/2
			cy := by - float64(rr)*(slabD+rowGap) - slabD/2
			w, h := slabW, slabD
			if b.Floors >= 26 {
				w, h = towerW, towerD
			}
			out.rings[b.ID] = rect(Pt{cx + (rng.Float64()-0.5)*2, cy}, w, h, 0)
			// Lawns between the rows.
			if cc == 0 && rr+1 < blocks[i].rows {
				out.shapes = append(out.shapes, Shape{Kind: "green", Ring: rect(Pt{bx + blocks[i].w/2, cy - slabD/2 - rowGap/2}, blocks[i].w, rowGap-12, 0)})
			}
		}
	}
	width := colX[cols] - blockGap - left
	midX := left + width/2
	midY := top / 2
	// Ring road round the blocks and cross roads between them.
	minX, maxX, minY, maxY := left-12-ring/2, left+width+12+ring/2, -12-ring/2, top+12+ring/2
	roads := []Ring{
		rect(Pt{midX, maxY}, maxX-minX+ring, ring, 0), rect(Pt{midX, minY}, maxX-minX+ring, ring, 0),
		rect(Pt{minX, midY}, ring, maxY-minY+ring, 0), rect(Pt{maxX, midY}, ring, maxY-minY+ring, 0),
	}
	for c := 1; c < cols; c++ {
		x := colX[c] - blockGap/2
		roads = append(roads, rect(Pt{x, midY}, ring, maxY-minY, 0))
		if c == cols/2 {
			midX = x
		}
	}
	for r := 1; r < nrows; r++ {
		y := rowY[r] + blockGap/2
		roads = append(roads, rect(Pt{(minX + maxX) / 2, y}, maxX-minX, ring, 0))
		if r == nrows/2 {
			midY = y
		}
	}
	for _, r := range roads {
		out.shapes = append(out.shapes, Shape{Kind: "road", Ring: r})
	}
	// A square by the north entrance.
	out.shapes = append(out.shapes, Shape{Kind: "plaza", Ring: rect(Pt{midX, maxY + 10}, 36, 12, 0)})
	out.entrances = map[string]Pt{"N": {midX, maxY}, "S": {midX, minY}, "E": {maxX, midY}, "W": {minX, midY}}
	return out
}

// village lays out houses along lanes, one block a grid, three blocks a
// row, with two main streets between the blocks.
func village(rng *rand.Rand, bs []store.Place, x0 float64) generated {
	const (
		lane, street = 4.0, 10.0
		backGap      = 1.2
	)
	gs := groups(bs)
	cols := min(3, len(gs))
	if cols == 0 {
		cols = 1
	}
	nrows := (len(gs) + cols - 1) / cols
	out := generated{rings: map[string]Ring{}}
	type placed struct {
		id string
		r  Ring
	}
	// Lay each block out at the origin first, then move it into place.
	blocks := make([][]placed, len(gs))
	blockW := make([]float64, len(gs))
	blockH := make([]float64, len(gs))
	blockLanes := make([][]float64, len(gs))
	for i, g := range gs {
		perRow := int(math.Ceil(math.Sqrt(float64(len(g)) * 1.1)))
		y := 0.0
		k := 0
		for row := 0; k < len(g); row++ {
			depth := 9 + rng.Float64()*3
			x := rng.Float64() * 5
			n := perRow - 1 + rng.IntN(3)
			for j := 0; j < n && k < len(g); j++ {
				w := 8.5 + rng.Float64()*3
				h := depth - rng.Float64()*1.5
				cy := y - depth/2
				if row%2 == 0 { // faces the lane to the south: flush with it
					cy = y - depth + h/2
				} else { // faces the lane to the north
					cy = y - h/2
				}
				blocks[i] = append(blocks[i], placed{g[k].ID, rect(Pt{x + w/2, cy + (rng.Float64()-0.5)*0.8}, w, h, (rng.Float64()-0.5)*5)})
				k++
				x += w + 0.6 + rng.Float64()*1.4
				if rng.IntN(9) == 0 {
					x += 3 + rng.Float64()*4 // a gap: a yard, an alley
				}
			}
			blockW[i] = math.Max(blockW[i], x)
			y -= depth
			if row%2 == 0 && k < len(g) {
				blockLanes[i] = append(blockLanes[i], y-lane/2)
				y -= lane
			} else {
				y -= backGap
			}
		}
		blockH[i] = -y
	}
	var cellW, cellH float64
	for i := range gs {
		cellW, cellH = math.Max(cellW, blockW[i]), math.Max(cellH, blockH[i])
	}
	top := float64(nrows)*cellH + float64(nrows-1)*street
	var minX, maxX float64 = math.Inf(1), math.Inf(-1)
	for i := range gs {
		c, r := i%cols, i/cols
		dx := x0 + float64(c)*(cellW+street) + (cellW-blockW[i])/2 + (rng.Float64()-0.5)*4
		dy := top - float64(r)*(cellH+street)
		for _, p := range blocks[i] {
			moved := make(Ring, len(p.r))
			for j, q := range p.r {
				moved[j] = Pt{round2(q.X + dx), round2(q.Y + dy)}
			}
			out.rings[p.id] = moved
		}
		for _, ly := range blockLanes[i] {
			out.shapes = append(out.shapes, Shape{Kind: "road", Ring: rect(Pt{dx + blockW[i]/2, ly + dy}, blockW[i]+6, lane, 0)})
		}
		minX, maxX = math.Min(minX, dx), math.Max(maxX, dx+blockW[i])
	}
	// Main streets between the blocks, a square where they cross.
	midX := x0 + cellW + street/2 // the first main street
	if cols == 1 {
		midX = x0 + cellW/2
	}
	midY := top / 2
	for c := 1; c < cols; c++ {
		x := x0 + float64(c)*(cellW+street) - street/2
		out.shapes = append(out.shapes, Shape{Kind: "road", Ring: rect(Pt{x, top / 2}, street, top+16, 0)})
	}
	for r := 1; r < nrows; r++ {
		y := top - float64(r)*(cellH+street) + street/2
		out.shapes = append(out.shapes, Shape{Kind: "road", Ring: rect(Pt{(minX + maxX) / 2, y}, maxX-minX+16, street, 0)})
		if r == (nrows+1)/2 {
			midY = y
		}
	}
	if cols > 1 {
		out.shapes = append(out.shapes, Shape{Kind: "plaza", Name: "", Ring: rect(Pt{midX, midY}, 26, 22, 0)})
	}
	// A pond and a grove by the village's west side.
	out.shapes = append(out.shapes, Shape{Kind: "water", Ring: octagon(Pt{minX - 22, top * 0.7}, 12, 8)},
		Shape{Kind: "green", Ring: rect(Pt{minX - 22, top * 0.35}, 24, top*0.35, 0)})
	out.entrances = map[string]Pt{"N": {midX, top}, "S": {midX, 0}, "E": {maxX, midY}, "W": {minX, midY}}
	return out
}

// octagon is an eight-cornered blob rx × ry around c.
func octagon(c Pt, rx, ry float64) Ring {
	var r Ring
	for i := 0; i < 8; i++ {
		a := float64(i) * math.Pi / 4
		r = append(r, Pt{round2(c.X + rx*math.Cos(a)), round2(c.Y + ry*math.Sin(a))})
	}
	return r
}
