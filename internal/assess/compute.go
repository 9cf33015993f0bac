package assess

import (
	"slices"
	"time"

	"shequ/internal/store"
)

// unit is whose work is measured: a worker over the grids they covered
// during the period, or one grid with everybody's work in it.
type unit struct {
	id, name string
	userID   string // "" for a grid
	grids    []string
}

func (u unit) in(grid string) bool { return slices.Contains(u.grids, grid) }

func (u unit) did(actor string) bool { return u.userID == "" || actor == u.userID }

// endOfDay is the first instant after a date, in Unix ms.
func endOfDay(date string) int64 {
	t, err := time.ParseInLocation("2006-01-02", date, china)
	if err != nil {
		return 0
	}
	return t.AddDate(0, 0, 1).UnixMilli()
}

// measure computes the parts of one unit's score from the facts.
func measure(u unit, f store.AssessFacts, set store.AssessSettings, p Period, today string) []Part {
	from, to := p.Bounds()
	var parts []Part
	add := func(name string, num, den int, extra map[string]int) {
		parts = append(parts, Part{Name: name, Weight: weightOf(set, name), Num: num, Den: den, Extra: extra})
	}

	// Visit coverage: rooms with a household during the period, visited.
	rooms, visited := 0, 0
	for _, g := range u.grids {
		rooms += f.Rooms[g]
		if u.userID == "" {
			visited += f.GridVisits[g]
		}
	}
	if u.userID != "" {
		for _, v := range f.Visited {
			if v.UserID == u.userID && u.in(v.GridID) {
				visited += v.Rooms
			}
		}
	}
	add(Visits, visited, rooms, nil)

	// Leads whose deadline falls in the period: verified by the end of the
	// deadline day. A lead still open before its deadline is not yet due.
	onTime, due, late, pending := 0, 0, 0, 0
	for _, l := range f.Leads {
		if u.userID != "" && l.AssigneeID != u.userID || u.userID == "" && !u.in(l.NodeID) {
			continue
		}
		switch {
		case l.VerifiedAt != 0 && l.VerifiedAt < endOfDay(l.Deadline):
			onTime++
			due++
		case l.VerifiedAt != 0 || l.Deadline < today:
			late++
			due++
		default:
			pending++
		}
	}
	add(Leads, onTime, due, map[string]int{"late": late, "pending": pending})

	// Events resolved in the period that the unit worked on, within the SLA;
	// ratings given in the period to such events.
	inTime, handled, ratings, rated := 0, 0, 0, 0
	for _, e := range f.Events {
		mine := u.userID == "" && u.in(e.GridID) || u.userID != "" && slices.Contains(e.Finishers, u.userID)
		if !mine {
			continue
		}
		if e.ResolvedAt >= from && e.ResolvedAt < to {
			handled++
			if e.DueAt == 0 || e.ResolvedAt <= e.DueAt {
				inTime++
			}
		}
		if e.Rating > 0 && e.EvaluatedAt >= from && e.EvaluatedAt < to {
			ratings += e.Rating
			rated++
		}
	}
	add(Events, inTime, handled, map[string]int{"late": handled - inTime})

	// Patrols: each point of the unit's grids is due PatrolsPerWeek check-ins
	// a week; check-ins beyond that at one point do not make up for another.
	per := set.PatrolsPerWeek * p.Weeks()
	counts := map[string]int{}
	for _, c := range f.Patrols {
		if u.did(c.UserID) {
			counts[c.PointID] += c.N
		}
	}
	points, done := 0, 0
	for _, pt := range f.Points {
		if u.in(pt.GridID) {
			points++
			done += min(counts[pt.ID], per)
		}
	}
	add(Patrols, done, points*per, map[string]int{"points": points, "per_point": per})

	add(Rating, ratings, rated, nil)
	return parts
}
