// Package synth generates deterministic synthetic residents for the demo
// community and for load tests: realistic Chinese names, valid GB 11643
// identity numbers, mainland mobile numbers, GB 3304 ethnicity codes and
// Shaanxi registered-residence codes, plus invented workplace and shop
// names.
//
// Every function draws only from the caller's *rand.Rand, so the same seed
// reproduces the same people. The package holds no mutable state; its
// tables are built once at start-up, and NewPerson allocates only the three
// strings it returns (name, ID number, phone).
//
// The people are synthetic: the identity numbers are well-formed (real
// division code, real date, correct check character) but are produced at
// random and may coincide with a real person's number. Use them only in
// demo and test databases.
package synth

import (
	"math/rand/v2"
	"time"

	"shequ/internal/pii"
)

// Person is one synthetic resident.
type Person struct {
	Name      string    // surname + 1–2 character given name
	Sex       int       // GB/T 2261.1: 1 male, 2 female
	Birth     time.Time // UTC midnight
	IDNumber  string    // 18-character GB 11643 number
	Phone     string    // 11-digit mainland mobile number
	Ethnicity string    // GB 3304 two-digit code, "01" = 汉族
	Region    string    // 6-digit county code of the registered residence; equals IDNumber[:6]
}

// Profile shapes the people NewPerson draws.
type Profile struct {
	// HomeRegions are 6-digit county codes for local residents (e.g. the
	// community's own district); malformed entries are treated as
	// non-local draws.
	HomeRegions []string
	// LocalShare is the share of people registered in HomeRegions. The
	// rest are registered elsewhere in Shaanxi (ShaanxiCounties) or, for
	// about 30 % of them, in another province.
	LocalShare float64
	// MinAge and MaxAge bound the age in completed years on Now, inclusive.
	MinAge, MaxAge int
	// Now is the reference date; its calendar date in its own location is
	// used. The zero value means 2025-01-01 (never the wall clock, so that
	// output stays reproducible).
	Now time.Time
}

// DefaultNow is the reference date used when Profile.Now is zero.
var DefaultNow = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// nonLocalOtherProvince is the share of non-local residents registered
// outside Shaanxi.
const nonLocalOtherProvince = 0.30

// maleShare of newly drawn people (China's sex ratio is slightly above 1).
const maleShare = 0.51

// ethnicities: GB 3304 codes with rough weights for a Shaanxi city
// population (per ten thousand): Han ~99 %, then Hui, Manchu, Mongol,
// Tujia, Tibetan and others.
var ethnicities = []struct {
	code string
	w    float64
}{
	{"01", 9900},
	{"03", 40}, // 回族
	{"11", 15}, // 满族
	{"02", 10}, // 蒙古族
	{"15", 8},  // 土家族
	{"04", 6},  // 藏族
	{"06", 5},  // 苗族
	{"08", 5},  // 壮族
	{"05", 3},  // 维吾尔族
	{"07", 3},  // 彝族
	{"10", 3},  // 朝鲜族
	{"14", 2},  // 白族
}

var ethnicityTable alias

func init() {
	w := make([]float64, len(ethnicities))
	for i, e := range ethnicities {
		w[i] = e.w
	}
	ethnicityTable = newAlias(w)
}

// NewPerson draws one person: sex, a birth date with an age in
// [MinAge, MaxAge] on Now (uniform over days), a surname by frequency, a
// given name typical of the birth decade, and a registered residence per
// the profile.
func NewPerson(r *rand.Rand, p Profile) Person {
	sex := 2
	if unit(r) < maleShare {
		sex = 1
	}
	lo, hi := birthRange(p)
	day := lo + int64(index(r, int(hi-lo+1)))
	return build(r, p, FamilyName(r), sex, day)
}

// RelatedPerson draws a person with the given surname (e.g. a child of a
// household) and sex (1 or 2; anything else is drawn), born between
// birthFrom and birthTo inclusive (calendar dates in UTC; the bounds may
// be given in either order). The profile's age bounds are ignored; its
// region rules apply. To register the person where the parent is, pass a
// profile with HomeRegions set to the parent's region and LocalShare 1. An
// empty surname is drawn by frequency.
func RelatedPerson(r *rand.Rand, p Profile, surname string, sex int, birthFrom, birthTo time.Time) Person {
	sex = normSex(r, sex)
	if surname == "" {
		surname = FamilyName(r)
	}
	lo := dayNumber(birthFrom.UTC())
	hi := dayNumber(birthTo.UTC())
	if hi < lo {
		lo, hi = hi, lo
	}
	day := lo + int64(index(r, int(hi-lo+1)))
	return build(r, p, surname, sex, day)
}

func build(r *rand.Rand, p Profile, surname string, sex int, day int64) Person {
	y, m, d := civilFromDays(day)
	region := pickRegion(r, p)
	g1, g2 := givenParts(r, sex, eraOf(y))

	var id [18]byte
	copy(id[:6], region)
	put4(id[6:10], y)
	put2(id[10:12], m)
	put2(id[12:14], d)
	var seq int
	if sex == 1 {
		seq = 2*index(r, 500) + 1 // 001..999, odd
	} else {
		seq = 2 * (index(r, 499) + 1) // 002..998, even
	}
	id[14] = byte('0' + seq/100)
	id[15] = byte('0' + seq/10%10)
	id[16] = byte('0' + seq%10)
	id[17] = pii.IDCheckChar(string(id[:17]))

	var ph [11]byte
	fillPhone(r, &ph)

	return Person{
		Name:      surname + g1 + g2,
		Sex:       sex,
		Birth:     time.Unix(day*86400, 0).UTC(),
		IDNumber:  string(id[:]),
		Phone:     string(ph[:]),
		Ethnicity: ethnicities[ethnicityTable.draw(r)].code,
		Region:    region,
	}
}

// pickRegion returns a 6-digit county code per the profile's local share.
func pickRegion(r *rand.Rand, p Profile) string {
	u := unit(r)
	if len(p.HomeRegions) > 0 && u < p.LocalShare {
		if c := p.HomeRegions[index(r, len(p.HomeRegions))]; isCode6(c) {
			return c
		}
	}
	if len(ShaanxiCounties) == 0 || unit(r) < nonLocalOtherProvince {
		return otherProvinceCounties[index(r, len(otherProvinceCounties))]
	}
	return ShaanxiCounties[index(r, len(ShaanxiCounties))]
}

// birthRange returns the first and last day number (days since 1970-01-01)
// of birth dates whose age in completed years on p.Now lies in
// [MinAge, MaxAge], age being the difference in years, less one if the
// month and day of birth come after those of Now. Dates that do not exist
// in the target year (29 February) clamp to the month's last day.
func birthRange(p Profile) (lo, hi int64) {
	now := p.Now
	if now.IsZero() {
		now = DefaultNow
	}
	minAge, maxAge := p.MinAge, p.MaxAge
	if minAge < 0 {
		minAge = 0
	}
	if maxAge < minAge {
		maxAge = minAge
	}
	y, mo, d := now.Date()
	m := int(mo)
	// Latest birth: MinAge-th birthday falls on or before today.
	hi = clampedDay(y-minAge, m, d)
	// Earliest birth: the day after the last date whose (MaxAge+1)-th
	// birthday has already been reached.
	lo = clampedDay(y-maxAge-1, m, d) + 1
	return lo, hi
}

// isCode6 reports whether s is six ASCII digits.
func isCode6(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func clampedDay(y, m, d int) int64 {
	if n := daysIn(y, m); d > n {
		d = n
	}
	return daysFromCivil(y, m, d)
}

func dayNumber(t time.Time) int64 {
	y, m, d := t.Date()
	return daysFromCivil(y, int(m), d)
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil and civilFromDays convert between proleptic Gregorian dates
// and days since 1970-01-01 (H. Hinnant's algorithms).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := int(z - era*146097)
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + int(era)*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func put4(b []byte, v int) {
	b[0] = byte('0' + v/1000%10)
	b[1] = byte('0' + v/100%10)
	b[2] = byte('0' + v/10%10)
	b[3] = byte('0' + v%10)
}

func put2(b []byte, v int) {
	b[0] = byte('0' + v/10%10)
	b[1] = byte('0' + v%10)
}
