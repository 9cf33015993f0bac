package ledgerio

import (
	"strings"
	"time"
)

// Excel serial dates count days from 1899-12-30 for serials from 61 on.
// Excel (copying Lotus 1-2-3) treats 1900 as a leap year: serial 60 is the
// non-existent 1900-02-29 and serials 1..59 are one day later than the
// 1899-12-30 epoch gives, i.e. they count from 1899-12-31.
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// maxSerial is 9999-12-31, the last date Excel can show.
const maxSerial = 2958465

// parseDate reads the date formats people type into the form: 2023-03-15,
// 2023/3/15, 2023.3.15, 2023年3月15日, 20230315 and Excel serial numbers
// (45000, also with a time fraction). A trailing time of day ("2023-03-15
// 10:00:00", as CSV exports write) is ignored. The result is UTC midnight.
func parseDate(s string) (time.Time, bool) { return parseDateIn(s, false) }

// date1904Offset is the number of days between the 1900 and 1904 date
// systems; workbooks made by old Mac Excel count serials from 1904-01-01.
const date1904Offset = 1462

// parseDateIn is parseDate for a workbook that may use the 1904 date
// system.
func parseDateIn(s string, date1904 bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if date, clock, ok := strings.Cut(s, " "); ok {
		if !isClock(clock) {
			return time.Time{}, false
		}
		s = date
	}
	if s == "" {
		return time.Time{}, false
	}
	if n, ok := digits(s); ok {
		if len(s) == 8 {
			return ymd(n/10000, n/100%100, n%100)
		}
		return serialDate(n, date1904)
	}
	// A serial with a time fraction, "45000.5".
	if whole, frac, ok := strings.Cut(s, "."); ok && whole != "" && frac != "" {
		w, okW := digits(whole)
		_, okF := digits(frac)
		if okW && okF && len(whole) <= 7 {
			return serialDate(w, date1904)
		}
	}
	// 2023年3月15日 (the 日 is often left off or written 号).
	if y, rest, ok := strings.Cut(s, "年"); ok {
		m, d, ok := strings.Cut(rest, "月")
		if !ok {
			return time.Time{}, false
		}
		d = strings.TrimSuffix(strings.TrimSuffix(d, "日"), "号")
		return ymdText(y, m, d)
	}
	for _, sep := range []string{"-", "/", "."} {
		if parts := strings.Split(s, sep); len(parts) == 3 {
			return ymdText(parts[0], parts[1], parts[2])
		}
	}
	return time.Time{}, false
}

// isClock accepts h:mm, hh:mm:ss and fractions of seconds.
func isClock(s string) bool {
	if s == "" || len(s) > 15 {
		return false
	}
	colons := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':':
			colons++
		case c == '.' || (c >= '0' && c <= '9'):
		default:
			return false
		}
	}
	return colons == 1 || colons == 2
}

// digits parses a run of at most 8 ASCII digits.
func digits(s string) (int, bool) {
	if s == "" || len(s) > 8 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func ymdText(y, m, d string) (time.Time, bool) {
	if len(y) != 4 || len(m) == 0 || len(m) > 2 || len(d) == 0 || len(d) > 2 {
		return time.Time{}, false
	}
	yy, ok1 := digits(y)
	mm, ok2 := digits(m)
	dd, ok3 := digits(d)
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	return ymd(yy, mm, dd)
}

// ymd rejects dates time.Date would roll over (2023-02-30) and years
// outside 1800..9999.
func ymd(y, m, d int) (time.Time, bool) {
	if y < 1800 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m {
		return time.Time{}, false
	}
	return t, true
}

// serialDate converts an Excel serial day number. Numbers that read as a
// bare year (1800..2100, i.e. dates in 1904-1905) are refused: someone who
// typed only "1990" meant a year, not 1905-06-12.
func serialDate(n int, date1904 bool) (time.Time, bool) {
	switch {
	case n >= 1800 && n <= 2100:
		return time.Time{}, false
	case date1904:
		if n > maxSerial-date1904Offset {
			return time.Time{}, false
		}
		return excelEpoch.AddDate(0, 0, n+date1904Offset), true
	case n < 1 || n > maxSerial || n == 60:
		return time.Time{}, false
	case n < 60:
		return excelEpoch.AddDate(0, 0, n+1), true
	default:
		return excelEpoch.AddDate(0, 0, n), true
	}
}

// today is now's calendar date as UTC midnight, comparable with parsed dates.
func today(now time.Time) time.Time {
	y, m, d := now.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
