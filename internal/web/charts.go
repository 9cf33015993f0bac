package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"

	"shequ/internal/assess"
)

// Charts are SVG drawn on the server: no chart library, no script, colours
// in SVG attributes (the CSP forbids inline styles), Chinese labels in the
// page's font. Each draws into a viewBox and scales to its container.

// chartColors tell the series of a chart apart.
var chartColors = []string{"#1f6feb", "#d1242f", "#1a7f37", "#bf8700", "#8250df", "#0a7f8f", "#cf4ab8", "#57606a", "#953800", "#116329"}

func esc(s string) string { return template.HTMLEscapeString(s) }

// lineChart draws series of scores (0–100, -1 for a month without data)
// as an SVG line chart with a legend.
func lineChart(labels []string, series []assess.Series) template.HTML {
	const w, h, left, right, top, bottom = 640, 240, 36, 28, 12, 28
	plotW, plotH := float64(w-left-right), float64(h-top-bottom)
	x := func(i int) float64 {
		if len(labels) < 2 {
			return float64(left) + plotW/2
		}
		return float64(left) + plotW*float64(i)/float64(len(labels)-1)
	}
	y := func(v float64) float64 { return float64(top) + plotH*(1-v/100) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" xmlns="http://www.w3.org/2000/svg">`, w, h)
	for _, v := range []float64{0, 25, 50, 75, 100} {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#dde3ea"/><text x="%d" y="%.1f" font-size="10" text-anchor="end" fill="#5f6b7a">%.0f</text>`,
			left, w-right, y(v), y(v), left-4, y(v)+3, v)
	}
	for i, l := range labels {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="10" text-anchor="middle" fill="#5f6b7a">%s</text>`, x(i), h-10, esc(l))
	}
	for si, s := range series {
		c := chartColors[si%len(chartColors)]
		var pts []string
		flush := func() {
			if len(pts) > 1 {
				fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, c, strings.Join(pts, " "))
			}
			pts = nil
		}
		for i, v := range s.Values {
			if v < 0 {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s %s: %.1f</title></circle>`, x(i), y(v), c, esc(s.Name), esc(labels[i]), v)
		}
		flush()
	}
	b.WriteString(`</svg>`)
	b.WriteString(legend(series))
	return template.HTML(b.String())
}

func legend(series []assess.Series) string {
	var b strings.Builder
	b.WriteString(`<ul class="legend">`)
	for si, s := range series {
		fmt.Fprintf(&b, `<li><svg width="14" height="14" aria-hidden="true"><rect width="14" height="14" rx="3" fill="%s"/></svg>%s</li>`, chartColors[si%len(chartColors)], esc(s.Name))
	}
	b.WriteString(`</ul>`)
	return b.String()
}

// Bar is one bar of a bar chart: its label, value and the list behind it.
type Bar struct {
	Label string
	Value float64
	Link  string
	Color string // "" for the palette's first colour
}

// theme is the colours of a chart on a light page or on the big screen.
type theme struct{ text, grid, muted string }

var (
	lightTheme = theme{"#1d2733", "#dde3ea", "#5f6b7a"}
	darkTheme  = theme{"#e6edf3", "#2b3645", "#9fb0c3"}
)

// columnChart draws vertical bars (e.g. passes per hour), labelling every
// step-th bar; each bar links to its list.
func columnChart(bars []Bar, step int, th theme) template.HTML {
	const w, h, left, right, top, bottom = 640, 220, 40, 8, 14, 24
	plotW, plotH := float64(w-left-right), float64(h-top-bottom)
	maxV := 0.0
	for _, b := range bars {
		maxV = math.Max(maxV, b.Value)
	}
	top1 := niceMax(maxV)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" xmlns="http://www.w3.org/2000/svg">`, w, h)
	for i := 0; i <= 4; i++ {
		v := top1 * float64(i) / 4
		y := float64(top) + plotH*(1-float64(i)/4)
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/><text x="%d" y="%.1f" font-size="14" text-anchor="end" fill="%s">%s</text>`,
			left, w-right, y, y, th.grid, left-4, y+5, th.muted, shortNum(v))
	}
	n := max(len(bars), 1)
	slot := plotW / float64(n)
	for i, bar := range bars {
		bh := 0.0
		if top1 > 0 {
			bh = plotH * bar.Value / top1
		}
		x := float64(left) + slot*float64(i) + slot*0.15
		c := bar.Color
		if c == "" {
			c = chartColors[0]
		}
		open, closeA := "", ""
		if bar.Link != "" {
			open, closeA = `<a href="`+esc(bar.Link)+`">`, `</a>`
		}
		fmt.Fprintf(&b, `%s<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="2" fill="%s"><title>%s: %s</title></rect>%s`,
			open, x, float64(top)+plotH-bh, slot*0.7, bh, c, esc(bar.Label), shortNum(bar.Value), closeA)
		if step > 0 && i%step == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="14" text-anchor="middle" fill="%s">%s</text>`, x+slot*0.35, h-6, th.muted, esc(bar.Label))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// barList draws horizontal bars with their labels and values (e.g. open
// events by category), each a link to its list.
func barList(bars []Bar, th theme) template.HTML {
	const w, rowH, valueW = 640, 30, 80
	// The label column fits the longest label (Chinese runes are about a
	// font size wide), within reason.
	labelW := 120
	for _, b := range bars {
		labelW = max(labelW, min(17*len([]rune(b.Label))+16, 320))
	}
	h := max(len(bars), 1) * rowH
	maxV := 0.0
	for _, b := range bars {
		maxV = math.Max(maxV, b.Value)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" xmlns="http://www.w3.org/2000/svg">`, w, h)
	for i, bar := range bars {
		y := i * rowH
		bw := 0.0
		if maxV > 0 {
			bw = float64(w-labelW-valueW) * bar.Value / maxV
		}
		c := bar.Color
		if c == "" {
			c = chartColors[i%len(chartColors)]
		}
		open, closeA := "", ""
		if bar.Link != "" {
			open, closeA = `<a href="`+esc(bar.Link)+`">`, `</a>`
		}
		fmt.Fprintf(&b, `%s<text x="%d" y="%d" font-size="17" text-anchor="end" fill="%s">%s</text><rect x="%d" y="%d" width="%.1f" height="%d" rx="3" fill="%s"/><text x="%.1f" y="%d" font-size="17" fill="%s">%s</text>%s`,
			open, labelW-8, y+21, th.text, esc(bar.Label), labelW, y+5, math.Max(bw, 1), rowH-10, c, float64(labelW)+math.Max(bw, 1)+6, y+21, th.text, shortNum(bar.Value), closeA)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// donut draws a share (part of whole) as a ring with the percentage in
// the middle and a caption below.
func donut(part, whole float64, caption, link, color string, th theme) template.HTML {
	frac := 0.0
	if whole > 0 {
		frac = math.Min(part/whole, 1)
	}
	const r, cx, cy = 42.0, 60.0, 56.0
	circ := 2 * math.Pi * r
	var b strings.Builder
	b.WriteString(`<svg class="donut" viewBox="0 0 120 130" role="img" xmlns="http://www.w3.org/2000/svg">`)
	if link != "" {
		fmt.Fprintf(&b, `<a href="%s">`, esc(link))
	}
	fmt.Fprintf(&b, `<circle cx="%.0f" cy="%.0f" r="%.0f" fill="none" stroke="%s" stroke-width="12"/>`, cx, cy, r, th.grid)
	fmt.Fprintf(&b, `<circle cx="%.0f" cy="%.0f" r="%.0f" fill="none" stroke="%s" stroke-width="12" stroke-dasharray="%.2f %.2f" transform="rotate(-90 %.0f %.0f)"/>`,
		cx, cy, r, color, circ*frac, circ, cx, cy)
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" font-size="20" font-weight="700" text-anchor="middle" fill="%s">%.0f%%</text>`, cx, cy+7, th.text, frac*100)
	fmt.Fprintf(&b, `<text x="%.0f" y="126" font-size="13" text-anchor="middle" fill="%s">%s</text>`, cx, th.muted, esc(caption))
	if link != "" {
		b.WriteString(`</a>`)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceMax rounds a maximum up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// shortNum writes a count briefly for axes and bars: 950, 12k, 3.4M.
func shortNum(v float64) string {
	switch {
	case v >= 1e6:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v/1e6), ".0") + "M"
	case v >= 1e4:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v/1e3), ".0") + "k"
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
