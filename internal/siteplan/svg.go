package siteplan

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// Options shape the drawing.
type Options struct {
	Legend bool   // the scale, the gates' states and a scale bar under the plan
	Labels bool   // names and figures on buildings, names of grids
	Link   string // a building links to Link+ID; "" means /ledger/buildings/
	ID     string // the svg element's id ("" for none)
}

// SVG draws the plan with its legend and labels, buildings linking to
// their building tables.
func SVG(p Plan, t Translate) template.HTML {
	return SVGWith(p, t, Options{Legend: true, Labels: true})
}

var shapeStyle = map[string][2]string{ // fill, stroke
	"site":  {"#f7f4ec", "#bdb39b"},
	"green": {"#d5ebc8", "#a9d18e"},
	"water": {"#cde4f5", "#8fbfe0"},
	"plaza": {"#ece5d6", "#cfc4ab"},
	"road":  {"#ffffff", "#d9d2c2"},
}

// svgWriter keeps the frame: local metres to SVG user units (metres, y
// down, the frame's top-left at 0,0).
type svgWriter struct {
	b            strings.Builder
	ox, oy       float64 // user x = x - ox; user y = oy - y
	w, h, u      float64 // frame size; u: one nominal pixel at 1000 px wide
	planH, bandH float64
}

func (s *svgWriter) X(x float64) string { return f1(x - s.ox) }
func (s *svgWriter) Y(y float64) string { return f1(s.oy - y) }

func (s *svgWriter) points(r Ring) string {
	var b strings.Builder
	for i, p := range r {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s.X(p.X) + "," + s.Y(p.Y))
	}
	return b.String()
}

func (s *svgWriter) printf(format string, args ...any) { fmt.Fprintf(&s.b, format, args...) }

func f1(v float64) string { return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) }

func esc(s string) string { return template.HTMLEscapeString(s) }

// ems estimates a text's width in ems: CJK one, others about 0.6.
func ems(s string) float64 {
	var w float64
	for _, r := range s {
		if r >= 0x2E80 {
			w += 1
		} else {
			w += 0.6
		}
	}
	return w
}

// textColour picks dark or light text for a fill.
func textColour(fill string) string {
	if len(fill) != 7 || fill[0] != '#' {
		return "#1d1d1d"
	}
	v, err := strconv.ParseUint(fill[1:], 16, 32)
	if err != nil {
		return "#1d1d1d"
	}
	r, g, b := float64(v>>16&0xff)/255, float64(v>>8&0xff)/255, float64(v&0xff)/255
	if 0.2126*r+0.7152*g+0.0722*b < 0.5 {
		return "#ffffff"
	}
	return "#1d1d1d"
}

// SVGWith draws the plan as an inline <svg>.
func SVGWith(p Plan, t Translate, opt Options) template.HTML {
	if opt.Link == "" {
		opt.Link = "/ledger/buildings/"
	}
	ext := p.Extent
	if !p.HasPlan || ext.Empty() {
		ext.MinX, ext.MinY, ext.MaxX, ext.MaxY = 0, 0, 200, 120
	}
	planW, planH := ext.MaxX-ext.MinX, ext.MaxY-ext.MinY
	pad := math.Max(planW, planH)*0.03 + 4
	w := planW + 2*pad
	// The frame is never narrower than 4:3, so the legend has room and the
	// plan fills a landscape screen; the plan is centred in it.
	if minW := (planH + 2*pad) * 4 / 3; w < minW {
		pad += (minW - w) / 2
		w = minW
	}
	s := &svgWriter{w: w, u: w / 1000}
	padY := math.Max(planW, planH)*0.03 + 4
	s.planH = planH + 2*padY
	s.ox, s.oy = ext.MinX-pad, ext.MaxY+padY
	if opt.Legend {
		s.bandH = 58 * s.u
	}
	s.h = s.planH + s.bandH
	u := s.u

	idAttr := ""
	if opt.ID != "" {
		idAttr = ` id="` + esc(opt.ID) + `"`
	}
	s.printf(`<svg%s class="siteplan-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %s %s" preserveAspectRatio="xMidYMid meet" role="img" aria-label="%s" data-ox="%s" data-oy="%s" data-measure="%s" font-family="'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC',sans-serif">`,
		idAttr, f1(s.w), f1(s.h), esc(t("siteplan.svg_label", p.CommunityName, t("siteplan.measure_"+p.Measure))), f1(s.ox), f1(s.oy), esc(p.Measure))
	s.printf(`<rect class="sp-bg" x="0" y="0" width="%s" height="%s" fill="#efece4"/>`, f1(s.w), f1(s.planH))
	// The plan itself sits in a clipped viewport group, so a page can zoom
	// and pan it (a transform on .viewport) while the legend stays put.
	clip := "spclip-" + p.CommunityID + "-" + p.Measure + opt.ID
	s.printf(`<defs><clipPath id="%s"><rect x="0" y="0" width="%s" height="%s"/></clipPath></defs><g clip-path="url(#%s)"><g class="sp-viewport">`,
		esc(clip), f1(s.w), f1(s.planH), esc(clip))

	// Ground: the site, green, water, squares, then roads over them.
	for _, kind := range ShapeKinds {
		st := shapeStyle[kind]
		for _, sh := range p.Shapes {
			if sh.Kind != kind {
				continue
			}
			s.printf(`<polygon class="sp-shape-%s" points="%s" fill="%s" stroke="%s" stroke-width="1" vector-effect="non-scaling-stroke"`, kind, s.points(sh.Ring), st[0], st[1])
			if sh.Name != "" {
				s.printf(`><title>%s</title></polygon>`, esc(sh.Name))
			} else {
				s.printf(`/>`)
			}
		}
	}
	// Grid areas, faintly tinted under the buildings.
	for _, g := range p.Grids {
		if len(g.Ring) >= 3 {
			s.printf(`<polygon class="sp-grid-area" points="%s" fill="%s" fill-opacity="0.07" stroke="none"/>`, s.points(g.Ring), g.Colour)
		}
	}
	// Buildings.
	s.printf(`<g class="sp-buildings">`)
	for _, b := range p.Buildings {
		fill := p.Colour(b)
		fig := p.Figure(b, t)
		s.printf(`<a href="%s%s" class="sp-bld" data-place="%s" data-name="%s" data-num="%d" data-den="%d" data-bin="%d" data-figure="%s">`,
			esc(opt.Link), esc(b.ID), esc(b.ID), esc(b.Name), b.Num, b.Den, b.Bin, esc(fig))
		s.printf(`<title>%s · %s</title>`, esc(b.Name), esc(p.Detail(b, t)))
		s.printf(`<polygon points="%s" fill="%s" stroke="#5b5b5b" stroke-width="1" vector-effect="non-scaling-stroke"/>`, s.points(b.Ring), fill)
		if opt.Labels {
			s.buildingLabel(b, fig, textColour(fill))
		}
		s.printf(`</a>`)
	}
	s.printf(`</g>`)
	// Grid boundaries and names over the buildings.
	for _, g := range p.Grids {
		if len(g.Ring) < 3 {
			continue
		}
		s.printf(`<polygon class="sp-grid-line" data-grid="%s" points="%s" fill="none" stroke="%s" stroke-width="2" stroke-dasharray="7 4" vector-effect="non-scaling-stroke"><title>%s</title></polygon>`,
			esc(g.ID), s.points(g.Ring), g.Colour, esc(g.Name))
		if opt.Labels {
			bx := g.Ring.Box()
			fs := 13 * u
			s.printf(`<text class="sp-grid-name" x="%s" y="%s" font-size="%s" font-weight="700" fill="%s" stroke="#ffffff" stroke-width="%s" stroke-linejoin="round" paint-order="stroke">%s</text>`,
				s.X(bx.MinX+2*u), f1(s.oy-bx.MaxY-2*u), f1(fs), g.Colour, f1(3*u), esc(g.Name))
		}
	}
	// Gates.
	s.printf(`<g class="sp-gates">`)
	for _, g := range p.Gates {
		if !g.Placed {
			continue
		}
		cls := "sp-gate sp-gate-" + g.Status
		if g.OpenAlarms > 0 {
			cls += " sp-gate-alarm"
		}
		s.printf(`<g class="%s" data-gate="%s" data-gate-code="%s" data-gate-name="%s" data-status="%s" transform="translate(%s %s)">`,
			cls, esc(g.ID), esc(g.Code), esc(g.Name), g.Status, s.X(g.X), s.Y(g.Y))
		s.printf(`<title>%s · %s%s</title>`, esc(g.Name), esc(t("siteplan.gate_"+g.Status)), esc(alarmNote(g, t)))
		ring := "0" // shown by the page's CSS when an alarm arrives
		if g.OpenAlarms > 0 {
			ring = "1"
		}
		s.printf(`<circle class="sp-pulse" r="%s" fill="none" stroke="#e3001b" stroke-width="%s" stroke-opacity="%s"/>`, f1(15*u), f1(3.5*u), ring)
		s.printf(`<circle class="sp-halo" r="%s" fill="#ffffff" stroke="#333333" stroke-width="1" vector-effect="non-scaling-stroke"/>`, f1(9*u))
		s.printf(`<circle class="sp-dot" r="%s" fill="%s"/>`, f1(6.5*u), gateFill[g.Status])
		s.printf(`</g>`)
	}
	s.printf(`</g>`)
	if opt.Labels && !p.HasPlan {
		s.printf(`<text x="%s" y="%s" font-size="%s" text-anchor="middle" fill="#6b6b6b">%s</text>`, f1(s.w/2), f1(s.planH/2), f1(18*u), esc(t("siteplan.empty")))
	}
	s.printf(`</g></g>`)
	s.north(t)
	if opt.Legend {
		s.legend(p, t)
	}
	s.printf(`</svg>`)
	return template.HTML(s.b.String())
}

var gateFill = map[string]string{"online": "#1a9850", "offline": "#7a7a7a", "unknown": "#b9b9b9"}

func alarmNote(g Gate, t Translate) string {
	if g.OpenAlarms == 0 {
		return ""
	}
	return " · " + t("siteplan.gate_alarms", g.OpenAlarms)
}

// buildingLabel writes a building's name and figure when they fit.
func (s *svgWriter) buildingLabel(b Building, fig, colour string) {
	u := s.u
	bx := b.Ring.Box()
	bw, bh := bx.MaxX-bx.MinX, bx.MaxY-bx.MinY
	// Rotated footprints: the label has about the width of the shorter
	// side's run through the label point.
	area := math.Abs(b.Ring.Area())
	if bw*bh > 0 && area < 0.8*bw*bh {
		scale := math.Sqrt(area / (bw * bh))
		bw, bh = bw*scale, bh*scale
	}
	fs := math.Min(14*u, math.Min(bw*0.92/ems(b.Name), bh/2.5))
	// Small labels are still drawn: they are read zoomed in.
	if fs < 2*u {
		// Too small for two lines: the name alone if it fits.
		fs = math.Min(12*u, math.Min(bw*0.92/ems(b.Name), bh/1.3))
		if fs >= 1.5*u {
			s.printf(`<text x="%s" y="%s" font-size="%s" text-anchor="middle" dominant-baseline="central" fill="%s">%s</text>`,
				s.X(b.Label.X), s.Y(b.Label.Y), f1(fs), colour, esc(b.Name))
		}
		return
	}
	figFS := math.Min(fs*1.05, bw*0.92/math.Max(ems(fig), 1))
	s.printf(`<text x="%s" y="%s" font-size="%s" text-anchor="middle" fill="%s">%s</text>`,
		s.X(b.Label.X), f1(s.oy-b.Label.Y-fs*0.15), f1(fs), colour, esc(b.Name))
	s.printf(`<text class="sp-fig" x="%s" y="%s" font-size="%s" font-weight="700" text-anchor="middle" fill="%s">%s</text>`,
		s.X(b.Label.X), f1(s.oy-b.Label.Y+figFS*0.95), f1(figFS), colour, esc(fig))
}

// north draws a north arrow in the top right corner.
func (s *svgWriter) north(t Translate) {
	u := s.u
	x, y := s.w-24*u, 14*u
	s.printf(`<g class="sp-north"><polygon points="%s,%s %s,%s %s,%s %s,%s" fill="#3d3d3d"/><text x="%s" y="%s" font-size="%s" text-anchor="middle" fill="#3d3d3d">%s</text></g>`,
		f1(x), f1(y), f1(x+7*u), f1(y+20*u), f1(x), f1(y+15*u), f1(x-7*u), f1(y+20*u), f1(x), f1(y+34*u), f1(12*u), esc(t("siteplan.north")))
}

// legend draws the band under the plan: the measure's scale, no data, the
// gates' states and a scale bar.
func (s *svgWriter) legend(p Plan, t Translate) {
	u := s.u
	y0 := s.planH
	s.printf(`<g class="sp-legend"><rect x="0" y="%s" width="%s" height="%s" fill="#ffffff"/>`, f1(y0), f1(s.w), f1(s.bandH))
	s.printf(`<line x1="0" y1="%s" x2="%s" y2="%s" stroke="#d8d8d8" stroke-width="1" vector-effect="non-scaling-stroke"/>`, f1(y0), f1(s.w), f1(y0))
	fs := 13 * u
	title := t("siteplan.measure_"+p.Measure) + " · " + t("siteplan.unit_"+p.Measure)
	s.printf(`<text x="%s" y="%s" font-size="%s" font-weight="700" fill="#222">%s</text>`, f1(12*u), f1(y0+20*u), f1(fs), esc(title))
	x, ys := 12*u, y0+32*u
	sw, sh := 26*u, 16*u
	item := func(fill, stroke, label string) {
		s.printf(`<rect class="sp-swatch" x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="%s" stroke-width="1" vector-effect="non-scaling-stroke"/>`,
			f1(x), f1(ys), f1(sw), f1(sh), fill, stroke)
		s.printf(`<text x="%s" y="%s" font-size="%s" fill="#222">%s</text>`, f1(x+sw+5*u), f1(ys+sh*0.8), f1(fs), esc(label))
		x += sw + 5*u + ems(label)*fs + 14*u
	}
	for _, bin := range p.Scale {
		item(bin.Colour, "#5b5b5b", bin.Label)
	}
	if p.Measure == Coverage {
		item(NoDataColour, "#5b5b5b", t("siteplan.no_rooms"))
	}
	x += 10 * u
	for _, st := range []string{"online", "offline", "unknown"} {
		r := 6 * u
		s.printf(`<circle cx="%s" cy="%s" r="%s" fill="%s" stroke="#ffffff" stroke-width="%s"/>`, f1(x+r), f1(ys+sh/2), f1(r), gateFill[st], f1(1.5*u))
		label := t("siteplan.gate_" + st)
		s.printf(`<text x="%s" y="%s" font-size="%s" fill="#222">%s</text>`, f1(x+2*r+5*u), f1(ys+sh*0.8), f1(fs), esc(label))
		x += 2*r + 5*u + ems(label)*fs + 12*u
	}
	// A scale bar of a round length about 120 px wide.
	want := 120 * u
	length := 1.0
	for _, l := range []float64{1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000} {
		if l <= want {
			length = l
		}
	}
	bx := s.w - 14*u - length
	if bx > x {
		by := y0 + 40*u
		s.printf(`<g class="sp-scalebar"><path d="M%s %sv%sh%sv%s" fill="none" stroke="#222" stroke-width="1.5" vector-effect="non-scaling-stroke"/>`,
			f1(bx), f1(by-5*u), f1(5*u), f1(length), f1(-5*u))
		s.printf(`<text x="%s" y="%s" font-size="%s" text-anchor="middle" fill="#222" data-metres="%d" data-label="%s">%s</text></g>`,
			f1(bx+length/2), f1(by-9*u), f1(fs), int(length), esc(t("siteplan.metres", 0)), esc(t("siteplan.metres", int(length))))
	}
	s.printf(`</g>`)
}
