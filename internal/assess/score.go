// Package assess measures grid work from what the system recorded: who
// staffs which grid, the work in hand, and a score per worker and per grid
// for any period, computed from visits, leads, events, patrols and
// residents' ratings with weights each community sets. The formula is in
// docs/assessment.md; every input is kept next to the result so a page or
// a spreadsheet can show the working.
package assess

import (
	"fmt"
	"math/big"
	"slices"
	"time"

	"shequ/internal/errs"
	"shequ/internal/store"
)

// Parts of a score, in the order pages and exports show them.
const (
	Visits  = "visits"  // visit coverage
	Leads   = "leads"   // leads verified on time
	Events  = "events"  // events handled within the SLA
	Patrols = "patrols" // patrol completion
	Rating  = "rating"  // residents' average rating
)

// PartNames lists the parts.
var PartNames = []string{Visits, Leads, Events, Patrols, Rating}

// Defaults are the settings of a community that has not chosen its own.
var Defaults = store.AssessSettings{Visits: 30, Leads: 25, Events: 20, Patrols: 15, Rating: 10,
	PatrolsPerWeek: 1, LoadLimit: 300, VisitCycleDays: 90}

func weightOf(s store.AssessSettings, part string) int {
	switch part {
	case Visits:
		return s.Visits
	case Leads:
		return s.Leads
	case Events:
		return s.Events
	case Patrols:
		return s.Patrols
	}
	return s.Rating
}

var china = time.FixedZone("CST", 8*3600)

// Period is a span of whole days, From to To inclusive, in China time.
type Period struct{ From, To string }

// Month is the calendar month of ym ("2026-11").
func Month(ym string) (Period, error) {
	t, err := time.ParseInLocation("2006-01", ym, china)
	if err != nil {
		return Period{}, errs.E(errs.Invalid, "err.assess.period").OnField("month")
	}
	return Period{t.Format("2006-01-02"), t.AddDate(0, 1, -1).Format("2006-01-02")}, nil
}

// MonthOf is the month a moment falls in.
func MonthOf(t time.Time) Period {
	p, _ := Month(t.In(china).Format("2006-01"))
	return p
}

// Span is the period from one date to another, both included.
func Span(from, to string) (Period, error) {
	a, err1 := time.ParseInLocation("2006-01-02", from, china)
	b, err2 := time.ParseInLocation("2006-01-02", to, china)
	switch {
	case err1 != nil:
		return Period{}, errs.E(errs.Invalid, "err.assess.period").OnField("from")
	case err2 != nil, b.Before(a), b.Sub(a) > 366*24*time.Hour:
		return Period{}, errs.E(errs.Invalid, "err.assess.period").OnField("to")
	}
	return Period{from, to}, nil
}

// Key names the period in notes and file names.
func (p Period) Key() string { return p.From + ".." + p.To }

// Bounds are the period's first and after-last instants, in Unix ms.
func (p Period) Bounds() (int64, int64) {
	a, _ := time.ParseInLocation("2006-01-02", p.From, china)
	b, _ := time.ParseInLocation("2006-01-02", p.To, china)
	return a.UnixMilli(), b.AddDate(0, 0, 1).UnixMilli()
}

// Days is the period's length in days.
func (p Period) Days() int {
	a, b := p.Bounds()
	return int((b - a) / (24 * 3600 * 1000))
}

// Weeks is the number of weeks patrols are expected in: started weeks count.
func (p Period) Weeks() int { return (p.Days() + 6) / 7 }

// Part is one input of a score: Num out of Den, as a percentage (for the
// rating, Num is the sum of ratings and Den how many, each out of 5).
type Part struct {
	Name     string
	Weight   int
	Num, Den int
	Extra    map[string]int // the counts behind Den: late, pending, points, expected per point …
}

// HasData tells whether the part counts towards the score.
func (p Part) HasData() bool { return p.Den > 0 }

func (p Part) rate() *big.Rat {
	if p.Den == 0 {
		return new(big.Rat)
	}
	r := big.NewRat(int64(p.Num)*100, int64(p.Den))
	if p.Name == Rating {
		r.Quo(r, big.NewRat(5, 1))
	}
	return r
}

// Rate is the part as a percentage, to one decimal.
func (p Part) Rate() float64 { return round1(p.rate()) }

// Score is one worker's or grid's assessment for a period.
type Score struct {
	ID, Name string   // the worker (or the grid)
	Grids    []string // names
	GridIDs  []string
	Parts    []Part
	Weighted int     // the weights of the parts with data
	Score    float64 // the weighted mean of the parts with data, to one decimal
	Adjust   float64 // upheld appeals, in points
	Final    float64 // Score + Adjust, within 0 and 100
	Rank     int     // 0: not ranked (no data)
	Notes    []store.AssessNote
}

// Part returns the named part.
func (s Score) Part(name string) Part {
	for _, p := range s.Parts {
		if p.Name == name {
			return p
		}
	}
	return Part{Name: name}
}

// total computes the weighted mean: Σ weight × rate ÷ Σ weight, over the
// parts that have data. It is exact (rationals) and rounded half up to
// one decimal only at the end, so the figures match a hand calculation.
func total(parts []Part) (float64, int) {
	sum, weights := new(big.Rat), 0
	for _, p := range parts {
		if !p.HasData() || p.Weight == 0 {
			continue
		}
		sum.Add(sum, new(big.Rat).Mul(p.rate(), big.NewRat(int64(p.Weight), 1)))
		weights += p.Weight
	}
	if weights == 0 {
		return 0, 0
	}
	return round1(sum.Quo(sum, big.NewRat(int64(weights), 1))), weights
}

// round1 rounds half up to one decimal.
func round1(r *big.Rat) float64 {
	x := new(big.Rat).Mul(r, big.NewRat(10, 1))
	n := new(big.Int).Quo(new(big.Int).Add(new(big.Int).Mul(x.Num(), big.NewInt(2)), x.Denom()), new(big.Int).Mul(x.Denom(), big.NewInt(2)))
	f, _ := new(big.Rat).SetFrac(n, big.NewInt(10)).Float64()
	return f
}

// finish sets the score, the adjustment and the final figure.
func (s *Score) finish() {
	s.Score, s.Weighted = total(s.Parts)
	for _, n := range s.Notes {
		if n.Status == "upheld" {
			s.Adjust += float64(n.Adjust) / 10
		}
	}
	s.Final = min(max(s.Score+s.Adjust, 0), 100)
	s.Final = float64(int64(s.Final*10+0.5)) / 10
}

// rank orders scores best first and numbers them; ties share a rank and
// those without data come last, unranked.
func rank(ss []Score) {
	slices.SortStableFunc(ss, func(a, b Score) int {
		switch {
		case (a.Weighted == 0) != (b.Weighted == 0):
			if a.Weighted == 0 {
				return 1
			}
			return -1
		case a.Final != b.Final:
			if a.Final > b.Final {
				return -1
			}
			return 1
		}
		return 0
	})
	for i := range ss {
		switch {
		case ss[i].Weighted == 0:
			ss[i].Rank = 0
		case i > 0 && ss[i-1].Weighted > 0 && ss[i-1].Final == ss[i].Final:
			ss[i].Rank = ss[i-1].Rank
		default:
			ss[i].Rank = i + 1
		}
	}
}

// Formula writes the calculation of a score in words and numbers, e.g.
// "(30×80.0 + 25×100.0) ÷ 55 = 89.1".
func Formula(s Score) string {
	out, sep := "(", ""
	for _, p := range s.Parts {
		if p.HasData() && p.Weight > 0 {
			out += fmt.Sprintf("%s%d×%.1f", sep, p.Weight, p.Rate())
			sep = " + "
		}
	}
	if sep == "" {
		return "—"
	}
	return fmt.Sprintf("%s) ÷ %d = %.1f", out, s.Weighted, s.Score)
}
