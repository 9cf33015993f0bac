package events

import (
	"time"

	"shequ/internal/store"
)

// The working-time calendar of everyday events: Monday to Friday, 8:30 to
// 12:00 and 13:30 to 17:30, China Standard Time. Outbreak events run on
// the clock.
var (
	cst          = time.FixedZone("CST", 8*3600)
	workPeriods  = [][2]int{{8*60 + 30, 12 * 60}, {13*60 + 30, 17*60 + 30}} // minutes of the day
	minuteOfWork = time.Minute
)

// dueAt is when a category's SLA runs out for an event accepted at t.
func dueAt(t time.Time, c store.EventCategory) time.Time {
	if c.Kind == "outbreak" {
		return t.Add(time.Duration(c.SLAHours) * time.Hour)
	}
	return addWorkingTime(t, time.Duration(c.SLAHours)*time.Hour)
}

// addWorkingTime counts d forward from t in working time only.
func addWorkingTime(t time.Time, d time.Duration) time.Time {
	local := t.In(cst)
	left := d
	for day := 0; day < 400 && left > 0; day++ {
		date := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, cst).AddDate(0, 0, day)
		if wd := date.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for _, p := range workPeriods {
			start, end := date.Add(time.Duration(p[0])*minuteOfWork), date.Add(time.Duration(p[1])*minuteOfWork)
			if day == 0 && local.After(start) {
				start = local
			}
			if !end.After(start) {
				continue
			}
			if span := end.Sub(start); span >= left {
				return start.Add(left).UTC()
			} else {
				left -= span
			}
		}
	}
	return t.Add(d)
}
