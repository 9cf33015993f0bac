package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("48h", "1h30m"). Unmarshalling also accepts a number of seconds
// (259200, 1.5, or the string "259200").
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.String without trailing zero units:
// "72h", "1h30m", "90s", "0s".
func (d Duration) String() string {
	s := time.Duration(d).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON reads a duration string or a number of seconds. null leaves
// d unchanged.
func (d *Duration) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if v, err := time.ParseDuration(s); err == nil {
			*d = Duration(v)
			return nil
		}
		v, err := secondsToDuration(s)
		if err != nil {
			return errors.New("policy: invalid duration " + strconv.Quote(s) + ` (want e.g. "48h" or a number of seconds)`)
		}
		*d = v
		return nil
	}
	v, err := secondsToDuration(string(b))
	if err != nil {
		return errors.New("policy: invalid duration " + string(b) + ` (want e.g. "48h" or a number of seconds)`)
	}
	*d = v
	return nil
}

func secondsToDuration(s string) (Duration, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	ns := f * float64(time.Second)
	// float64(math.MaxInt64) is 2^63, one past the largest int64: a value
	// that rounds to it must be refused too, or it converts to MinInt64.
	if math.IsNaN(ns) || ns >= math.MaxInt64 || ns < math.MinInt64 {
		return 0, errors.New("out of range")
	}
	return Duration(math.Round(ns)), nil
}

// parseClock parses "H:MM" or "HH:MM" (00:00–24:00) into seconds since
// midnight. It does not allocate.
func parseClock(s string) (int64, bool) {
	var h, m int64
	switch {
	case len(s) == 5 && s[2] == ':':
		if !isDigit(s[0]) || !isDigit(s[1]) {
			return 0, false
		}
		h = int64(s[0]-'0')*10 + int64(s[1]-'0')
		s = s[3:]
	case len(s) == 4 && s[1] == ':':
		if !isDigit(s[0]) {
			return 0, false
		}
		h = int64(s[0] - '0')
		s = s[2:]
	default:
		return 0, false
	}
	if !isDigit(s[0]) || !isDigit(s[1]) {
		return 0, false
	}
	m = int64(s[0]-'0')*10 + int64(s[1]-'0')
	if m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*3600 + m*60, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// contains reports whether the window contains the local second of day sec.
// A malformed or empty window contains nothing.
func (w Window) contains(sec int64) bool {
	from, ok1 := parseClock(w.From)
	to, ok2 := parseClock(w.To)
	if !ok1 || !ok2 || from == to || from >= 24*3600 {
		return false
	}
	if from < to {
		return sec >= from && sec < to
	}
	return sec >= from || sec < to // wraps midnight
}

// localSecond is the second of day of t in Asia/Shanghai.
func localSecond(t time.Time) int64 {
	return floorMod(t.Unix()+8*3600, 86400)
}

// localDay numbers calendar days in Asia/Shanghai (0 = 1970-01-01).
func localDay(t time.Time) int64 {
	return floorDiv(t.Unix()+8*3600, 86400)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 {
	return a - floorDiv(a, b)*b
}

// parseDate parses "YYYY-MM-DD" (anything after the first 10 bytes, such as
// a time, is ignored) into yyyymmdd. It does not allocate.
func parseDate(s string) (int, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	n := 0
	for i := 0; i < 10; i++ {
		if i == 4 || i == 7 {
			continue
		}
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	m, d := n/100%100, n%100
	if m < 1 || m > 12 || d < 1 || d > 31 {
		return 0, false
	}
	return n, true
}

// localDate is t's Asia/Shanghai date as yyyymmdd.
func localDate(t time.Time) int {
	y, m, d := t.In(cst).Date()
	return y*10000 + int(m)*100 + d
}
