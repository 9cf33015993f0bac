package siteplan

import (
	"math"
	"sort"
	"strconv"
	"strings"

	"shequ/internal/store"
)

// Pt is a point in local metres: x east, y north.
type Pt struct{ X, Y float64 }

// Ring is a polygon's outline, its first corner not repeated at the end.
type Ring []Pt

// Limits of what a plan may hold.
const (
	MaxPoints   = 200     // corners of one polygon
	MaxFeatures = 5000    // features of one GeoJSON file
	MaxCoord    = 100_000 // |x| and |y| in metres
	MaxFileSize = 8 << 20 // bytes of one GeoJSON file
)

// ringProblem names what is wrong with a ring, "" when nothing: the suffix
// of its message key (err.siteplan.ring_<problem>).
func ringProblem(r Ring) string {
	switch {
	case len(r) < 3:
		return "few_points"
	case len(r) > MaxPoints:
		return "many_points"
	}
	for _, p := range r {
		if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) || math.Abs(p.X) > MaxCoord || math.Abs(p.Y) > MaxCoord {
			return "range"
		}
	}
	if r.SelfCrossing() {
		return "crossing"
	}
	if math.Abs(r.Area()) < 0.5 {
		return "area"
	}
	return ""
}

// dedupe drops corners equal to the one before them (and a last corner
// equal to the first).
func dedupe(r Ring) Ring {
	out := make(Ring, 0, len(r))
	for _, p := range r {
		if len(out) > 0 && out[len(out)-1] == p {
			continue
		}
		out = append(out, p)
	}
	for len(out) > 1 && out[len(out)-1] == out[0] {
		out = out[:len(out)-1]
	}
	return out
}

// Area is the signed area (positive when counter-clockwise, y up).
func (r Ring) Area() float64 {
	var a float64
	for i := range r {
		j := (i + 1) % len(r)
		a += r[i].X*r[j].Y - r[j].X*r[i].Y
	}
	return a / 2
}

// CCW returns r counter-clockwise (y up).
func (r Ring) CCW() Ring {
	if r.Area() >= 0 {
		return r
	}
	out := make(Ring, len(r))
	for i, p := range r {
		out[len(r)-1-i] = p
	}
	return out
}

// Box is r's bounding box.
func (r Ring) Box() store.Box {
	b := store.Box{MinX: math.Inf(1), MinY: math.Inf(1), MaxX: math.Inf(-1), MaxY: math.Inf(-1)}
	for _, p := range r {
		b.MinX, b.MinY = math.Min(b.MinX, p.X), math.Min(b.MinY, p.Y)
		b.MaxX, b.MaxY = math.Max(b.MaxX, p.X), math.Max(b.MaxY, p.Y)
	}
	return b
}

func orient(a, b, c Pt) float64 { return (b.X-a.X)*(c.Y-a.Y) - (b.Y-a.Y)*(c.X-a.X) }

func sign(v float64) int {
	const eps = 1e-9
	switch {
	case v > eps:
		return 1
	case v < -eps:
		return -1
	}
	return 0
}

func onSegment(a, b, p Pt) bool {
	return math.Min(a.X, b.X)-1e-9 <= p.X && p.X <= math.Max(a.X, b.X)+1e-9 &&
		math.Min(a.Y, b.Y)-1e-9 <= p.Y && p.Y <= math.Max(a.Y, b.Y)+1e-9
}

// segmentsMeet reports whether segments ab and cd share any point.
func segmentsMeet(a, b, c, d Pt) bool {
	o1, o2 := sign(orient(a, b, c)), sign(orient(a, b, d))
	o3, o4 := sign(orient(c, d, a)), sign(orient(c, d, b))
	if o1 != o2 && o3 != o4 {
		return true
	}
	return (o1 == 0 && onSegment(a, b, c)) || (o2 == 0 && onSegment(a, b, d)) ||
		(o3 == 0 && onSegment(c, d, a)) || (o4 == 0 && onSegment(c, d, b))
}

// SelfCrossing reports whether two edges of r cross or touch anywhere
// other than the corner adjacent edges share, or an edge doubles back on
// the one before it.
func (r Ring) SelfCrossing() bool {
	n := len(r)
	for i := 0; i < n; i++ {
		a, b := r[i], r[(i+1)%n]
		for j := i + 1; j < n; j++ {
			c, d := r[j], r[(j+1)%n]
			adjacent := j == i+1 || (i == 0 && j == n-1)
			if adjacent {
				// Sharing the corner is right; lying along each other is not.
				var shared, other1, other2 Pt
				if j == i+1 {
					shared, other1, other2 = b, a, d
				} else {
					shared, other1, other2 = a, b, c
				}
				if sign(orient(other1, shared, other2)) == 0 {
					// Collinear: fine only when the edges go on in the same direction.
					if (other1.X-shared.X)*(other2.X-shared.X)+(other1.Y-shared.Y)*(other2.Y-shared.Y) > 0 {
						return true
					}
				}
				continue
			}
			if segmentsMeet(a, b, c, d) {
				return true
			}
		}
	}
	return false
}

// Contains reports whether p is inside r (even-odd rule).
func (r Ring) Contains(p Pt) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		a, b := r[i], r[j]
		if (a.Y > p.Y) != (b.Y > p.Y) && p.X < (b.X-a.X)*(p.Y-a.Y)/(b.Y-a.Y)+a.X {
			in = !in
		}
	}
	return in
}

// LabelPoint is where r's label goes: its centroid when that is inside,
// else the middle of the widest stretch of the horizontal line through
// the middle of its box.
func (r Ring) LabelPoint() Pt {
	a := r.Area()
	var cx, cy float64
	for i := range r {
		j := (i + 1) % len(r)
		f := r[i].X*r[j].Y - r[j].X*r[i].Y
		cx += (r[i].X + r[j].X) * f
		cy += (r[i].Y + r[j].Y) * f
	}
	if a != 0 {
		c := Pt{cx / (6 * a), cy / (6 * a)}
		if r.Contains(c) {
			return c
		}
	}
	b := r.Box()
	y := (b.MinY + b.MaxY) / 2
	var xs []float64
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		p, q := r[i], r[j]
		if (p.Y > y) != (q.Y > y) {
			xs = append(xs, p.X+(y-p.Y)*(q.X-p.X)/(q.Y-p.Y))
		}
	}
	sort.Float64s(xs)
	best, at := -1.0, Pt{(b.MinX + b.MaxX) / 2, y}
	for i := 0; i+1 < len(xs); i += 2 {
		if w := xs[i+1] - xs[i]; w > best {
			best, at = w, Pt{(xs[i] + xs[i+1]) / 2, y}
		}
	}
	return at
}

// hull is the convex hull of pts, counter-clockwise.
func hull(pts []Pt) Ring {
	ps := append([]Pt(nil), pts...)
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].X != ps[j].X {
			return ps[i].X < ps[j].X
		}
		return ps[i].Y < ps[j].Y
	})
	if len(ps) < 3 {
		return ps
	}
	var h []Pt
	for _, p := range ps {
		for len(h) >= 2 && orient(h[len(h)-2], h[len(h)-1], p) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p)
	}
	lower := len(h) + 1
	for i := len(ps) - 2; i >= 0; i-- {
		p := ps[i]
		for len(h) >= lower && orient(h[len(h)-2], h[len(h)-1], p) <= 0 {
			h = h[:len(h)-1]
		}
		h = append(h, p)
	}
	return Ring(h[:len(h)-1])
}

// rect is a rectangle w × h centred on c, turned deg degrees
// counter-clockwise.
func rect(c Pt, w, h, deg float64) Ring {
	s, co := math.Sincos(deg * math.Pi / 180)
	var r Ring
	for _, d := range [][2]float64{{-w / 2, -h / 2}, {w / 2, -h / 2}, {w / 2, h / 2}, {-w / 2, h / 2}} {
		r = append(r, Pt{round2(c.X + d[0]*co - d[1]*s), round2(c.Y + d[0]*s + d[1]*co)})
	}
	return r
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// labelAt is label p of r as stored: to the centimetre when that stays
// inside r, as is otherwise (the label of a sliver may be nearer than a
// centimetre to its edge).
func (r Ring) labelAt(p Pt) Pt {
	if q := (Pt{round2(p.X), round2(p.Y)}); r.Contains(q) {
		return q
	}
	return p
}

// rounded is r to the centimetre, as encodeRing stores it. Rings are
// checked after rounding, so that what passed the check is what is stored:
// corners a few millimetres apart would otherwise be stored on top of each
// other, or edges that did not cross would cross.
func (r Ring) rounded() Ring {
	out := make(Ring, len(r))
	for i, p := range r {
		out[i] = Pt{round2(p.X), round2(p.Y)}
	}
	return out
}

func num(v float64) string { return strconv.FormatFloat(round2(v), 'f', -1, 64) }

// encodeRing writes r as the stored JSON text: [[x,y],…] to the centimetre.
func encodeRing(r Ring) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, p := range r {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("[" + num(p.X) + "," + num(p.Y) + "]")
	}
	b.WriteByte(']')
	return b.String()
}

// decodeRing reads the stored JSON text; a broken value reads as no ring.
func decodeRing(s string) Ring {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '[' {
		return nil
	}
	var out Ring
	for _, part := range strings.Split(strings.Trim(s[1:len(s)-1], " "), "]") {
		part = strings.Trim(part, " ,[")
		if part == "" {
			continue
		}
		x, y, ok := strings.Cut(part, ",")
		if !ok {
			return nil
		}
		fx, err1 := strconv.ParseFloat(strings.TrimSpace(x), 64)
		fy, err2 := strconv.ParseFloat(strings.TrimSpace(y), 64)
		if err1 != nil || err2 != nil {
			return nil
		}
		out = append(out, Pt{fx, fy})
	}
	return out
}

// enclose is a polygon around rings with margin metres to spare: the
// convex hull of their corners pushed out by margin.
func enclose(rings []Ring, margin float64) Ring {
	var pts []Pt
	for _, r := range rings {
		for _, p := range r {
			for _, d := range [][2]float64{{-1, -1}, {1, -1}, {1, 1}, {-1, 1}} {
				pts = append(pts, Pt{p.X + d[0]*margin, p.Y + d[1]*margin})
			}
		}
	}
	h := hull(pts)
	for i := range h {
		h[i] = Pt{round2(h[i].X), round2(h[i].Y)}
	}
	return dedupe(h)
}
