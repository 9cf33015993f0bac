package synth

import (
	"bytes"
	"encoding/csv"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

var testNow = time.Date(2024, 2, 29, 15, 30, 0, 0, time.UTC)

func testProfile() Profile {
	return Profile{
		HomeRegions: []string{"610402", "610404"},
		LocalShare:  0.6,
		MinAge:      0,
		MaxAge:      100,
		Now:         testNow,
	}
}

// checkChar recomputes the ISO 7064 MOD 11-2 check character independently
// of internal/pii.
func checkChar(first17 string) byte {
	w := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	s := 0
	for i := 0; i < 17; i++ {
		s += int(first17[i]-'0') * w[i]
	}
	return "10X98765432"[s%11]
}

func ageOn(birth, now time.Time) int {
	ny, nm, nd := now.Date()
	by, bm, bd := birth.Date()
	a := ny - by
	if nm < bm || (nm == bm && nd < bd) {
		a--
	}
	return a
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func checkPerson(t *testing.T, p Person) {
	t.Helper()
	id := p.IDNumber
	if len(id) != 18 || !allDigits(id[:17]) {
		t.Fatalf("bad ID %q", id)
	}
	if id[17] != checkChar(id[:17]) {
		t.Fatalf("ID %q: check char %c, want %c", id, id[17], checkChar(id[:17]))
	}
	if id[:6] != p.Region {
		t.Fatalf("ID %q region %q != Region %q", id, id[:6], p.Region)
	}
	if got := p.Birth.Format("20060102"); id[6:14] != got {
		t.Fatalf("ID %q birth %s != Birth %s", id, id[6:14], got)
	}
	if p.Birth.Location() != time.UTC || p.Birth.Hour() != 0 || p.Birth.Minute() != 0 || p.Birth.Second() != 0 || p.Birth.Nanosecond() != 0 {
		t.Fatalf("Birth %v is not UTC midnight", p.Birth)
	}
	seq := int(id[16] - '0')
	if p.Sex != 1 && p.Sex != 2 {
		t.Fatalf("sex %d", p.Sex)
	}
	if (seq%2 == 1) != (p.Sex == 1) {
		t.Fatalf("ID %q sequence parity does not match sex %d", id, p.Sex)
	}
	if id[14:17] == "000" {
		t.Fatalf("ID %q has sequence 000", id)
	}
	n := utf8.RuneCountInString(p.Name)
	if n < 2 || n > 4 {
		t.Fatalf("name %q has %d runes", p.Name, n)
	}
	for _, c := range p.Name {
		if !unicode.Is(unicode.Han, c) {
			t.Fatalf("name %q has non-Han rune %q", p.Name, c)
		}
	}
	checkPhone(t, p.Phone)
	if p.Ethnicity == "" || len(p.Ethnicity) != 2 || !allDigits(p.Ethnicity) {
		t.Fatalf("ethnicity %q", p.Ethnicity)
	}
}

var allowedPrefix = func() map[string]bool {
	m := map[string]bool{"147": true, "166": true, "191": true, "198": true, "199": true}
	for _, rng := range [][2]int{{130, 139}, {150, 153}, {155, 159}, {170, 178}, {180, 189}} {
		for p := rng[0]; p <= rng[1]; p++ {
			m[string([]byte{byte('0' + p/100), byte('0' + p/10%10), byte('0' + p%10)})] = true
		}
	}
	return m
}()

func checkPhone(t *testing.T, ph string) {
	t.Helper()
	if len(ph) != 11 || !allDigits(ph) || !allowedPrefix[ph[:3]] {
		t.Fatalf("bad phone %q", ph)
	}
}

func TestNewPersonValid(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, prof := range []Profile{
		testProfile(),
		{MinAge: 18, MaxAge: 18, Now: testNow},
		{MinAge: 0, MaxAge: 0, Now: time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC)},
		{HomeRegions: []string{"610112"}, LocalShare: 1, MinAge: 60, MaxAge: 90,
			Now: time.Date(2022, 12, 31, 23, 0, 0, 0, time.UTC)},
		{MinAge: 30, MaxAge: 40}, // zero Now -> DefaultNow
	} {
		now := prof.Now
		if now.IsZero() {
			now = DefaultNow
		}
		for i := 0; i < 20000; i++ {
			p := NewPerson(r, prof)
			checkPerson(t, p)
			if a := ageOn(p.Birth, now); a < prof.MinAge || a > prof.MaxAge {
				t.Fatalf("profile %+v: age %d (born %s)", prof, a, p.Birth.Format(time.DateOnly))
			}
		}
	}
}

func TestAgeBoundsReached(t *testing.T) {
	// With a narrow range both the youngest and the oldest edge day must
	// be possible: sample many and check the extremes of the day range.
	prof := Profile{MinAge: 18, MaxAge: 18, Now: testNow}
	lo, hi := birthRange(prof)
	if got := time.Unix(hi*86400, 0).UTC().Format(time.DateOnly); got != "2006-02-28" {
		t.Errorf("latest birth %s, want 2006-02-28", got)
	}
	if got := time.Unix(lo*86400, 0).UTC().Format(time.DateOnly); got != "2005-03-01" {
		t.Errorf("earliest birth %s, want 2005-03-01", got)
	}
}

func TestLocalShareAndRegions(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	prof := testProfile()
	home := map[string]bool{"610402": true, "610404": true}
	shaanxi := map[string]bool{}
	for _, c := range ShaanxiCounties {
		shaanxi[c] = true
	}
	const n = 100000
	local, inShaanxi, other := 0, 0, 0
	for i := 0; i < n; i++ {
		p := NewPerson(r, prof)
		switch {
		case home[p.Region]:
			local++
		case shaanxi[p.Region]:
			inShaanxi++
		default:
			other++
			if strings.HasPrefix(p.Region, "61") {
				t.Fatalf("unknown Shaanxi region %s", p.Region)
			}
		}
	}
	// Local share 0.6, plus the home counties' share of non-local draws.
	if f := float64(local) / n; f < 0.59 || f > 0.62 {
		t.Errorf("local share %.3f", f)
	}
	if f := float64(other) / float64(n-local); f < 0.26 || f > 0.32 {
		t.Errorf("other-province share of non-locals %.3f", f)
	}
	if inShaanxi == 0 {
		t.Error("no non-local Shaanxi residents")
	}
	for _, c := range otherProvinceCounties {
		if !isCode6(c) || strings.HasPrefix(c, "61") {
			t.Errorf("bad other-province code %q", c)
		}
	}
}

func TestDeterminism(t *testing.T) {
	gen := func(s1, s2 uint64) []Person {
		r := rand.New(rand.NewPCG(s1, s2))
		out := make([]Person, 0, 200)
		for i := 0; i < 100; i++ {
			p := NewPerson(r, testProfile())
			out = append(out, p)
			out = append(out, RelatedPerson(r, testProfile(), FamilyName(r), 0,
				p.Birth.AddDate(20, 0, 0), p.Birth.AddDate(35, 0, 0)))
		}
		return out
	}
	a, b, c := gen(7, 8), gen(7, 8), gen(7, 9)
	same := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed differs at %d: %+v vs %+v", i, a[i], b[i])
		}
		if a[i] == c[i] {
			same++
		}
	}
	if same > 2 {
		t.Errorf("different seeds gave %d identical people", same)
	}
	r1, r2 := rand.New(rand.NewPCG(5, 5)), rand.New(rand.NewPCG(5, 5))
	if CompanyName(r1) != CompanyName(r2) || ShopName(r1, "clinic") != ShopName(r2, "clinic") {
		t.Error("company/shop names not deterministic")
	}
}

func TestRelatedPerson(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	from := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2012, 12, 31, 0, 0, 0, 0, time.UTC)
	prof := Profile{HomeRegions: []string{"610303"}, LocalShare: 1}
	for i := 0; i < 10000; i++ {
		sex := 1 + i%2
		p := RelatedPerson(r, prof, "欧阳", sex, to, from) // reversed bounds
		checkPerson(t, p)
		if !strings.HasPrefix(p.Name, "欧阳") || p.Sex != sex || p.Region != "610303" {
			t.Fatalf("related person %+v", p)
		}
		if p.Birth.Before(from) || p.Birth.After(to) {
			t.Fatalf("birth %v out of range", p.Birth)
		}
	}
	p := RelatedPerson(r, prof, "", 9, from, from)
	checkPerson(t, p)
	if !p.Birth.Equal(from) {
		t.Errorf("birth %v, want %v", p.Birth, from)
	}
}

func TestSurnameDistribution(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const n = 100000
	count := map[string]int{}
	for i := 0; i < n; i++ {
		count[FamilyName(r)]++
	}
	for _, s := range []string{"王", "李", "张"} {
		if f := float64(count[s]) / n; f < 0.05 || f > 0.09 {
			t.Errorf("%s share %.4f, want 5%%..9%%", s, f)
		}
	}
	if count["刘"] <= count["杨"] || count["陈"] <= count["赵"] {
		t.Errorf("frequency order off: %v", count)
	}
	if len(count) < 100 {
		t.Errorf("only %d distinct surnames", len(count))
	}
	double := 0
	for s, c := range count {
		if utf8.RuneCountInString(s) == 2 {
			double += c
		}
	}
	if double == 0 || double > n/500 {
		t.Errorf("two-character surnames: %d of %d", double, n)
	}
}

func TestNameTables(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range surnameFreq {
		if seen[e.s] {
			t.Errorf("duplicate surname %s", e.s)
		}
		seen[e.s] = true
	}
	if len(surnameFreq) < 100 {
		t.Errorf("%d surnames", len(surnameFreq))
	}
	chars := map[string]bool{}
	for s := range nameStyles {
		for e := range nameStyles[s] {
			st := &nameStyles[s][e]
			for _, c := range st.charTab {
				chars[c] = true
			}
			for _, n := range st.classicTab {
				if k := utf8.RuneCountInString(n); k < 1 || k > 2 {
					t.Errorf("classic given name %q", n)
				}
			}
		}
	}
	if len(chars) < 150 {
		t.Errorf("only %d distinct given-name characters", len(chars))
	}
	r := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 10000; i++ {
		g := GivenName(r, 1+i%3)
		if k := utf8.RuneCountInString(g); k < 1 || k > 2 {
			t.Fatalf("given name %q", g)
		}
	}
}

func TestPhone(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	seen := map[string]bool{}
	for i := 0; i < 100000; i++ {
		ph := Phone(r)
		checkPhone(t, ph)
		seen[ph[:3]] = true
	}
	if len(seen) < 30 {
		t.Errorf("only %d prefixes used", len(seen))
	}
	for _, e := range mobilePrefixes {
		if !allowedPrefix[e.p] {
			t.Errorf("prefix %s not in the allowed list", e.p)
		}
	}
}

func TestEthnicity(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	const n = 200000
	han, hui := 0, 0
	for i := 0; i < n; i++ {
		switch NewPerson(r, testProfile()).Ethnicity {
		case "01":
			han++
		case "03":
			hui++
		}
	}
	if f := float64(han) / n; f < 0.985 || f > 0.995 {
		t.Errorf("Han share %.4f", f)
	}
	if hui == 0 {
		t.Error("no Hui residents")
	}
}

func TestCompanyAndShopNames(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	for i := 0; i < 2000; i++ {
		c := CompanyName(r)
		if !strings.HasSuffix(c, "公司") || utf8.RuneCountInString(c) < 6 {
			t.Fatalf("company %q", c)
		}
		checks := map[string][]string{
			"pharmacy":   {"药房", "医药"},
			"grocery":    {"便利店", "超市"},
			"clinic":     {"诊所"},
			"restaurant": nil,
			"":           {"商店", "商行"},
		}
		for kind, suffixes := range checks {
			s := ShopName(r, kind)
			if utf8.RuneCountInString(s) < 3 {
				t.Fatalf("%s shop %q", kind, s)
			}
			if suffixes == nil {
				continue
			}
			ok := false
			for _, suf := range suffixes {
				ok = ok || strings.HasSuffix(s, suf)
			}
			if !ok {
				t.Fatalf("%s shop %q", kind, s)
			}
		}
	}
}

func TestDivisionsCSV(t *testing.T) {
	rows, err := csv.NewReader(bytes.NewReader(ShaanxiDivisionsCSV())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if h := strings.Join(rows[0], ","); h != "code,name,level" {
		t.Fatalf("header %q", h)
	}
	level := map[string]string{}
	names := map[string]string{}
	for _, row := range rows[1:] {
		if len(row) != 3 {
			t.Fatalf("row %v", row)
		}
		code, name, lv := row[0], row[1], row[2]
		if len(code) != 12 || !allDigits(code) {
			t.Errorf("code %q not 12 digits", code)
			continue
		}
		if _, dup := level[code]; dup {
			t.Errorf("duplicate code %s", code)
		}
		level[code], names[code] = lv, name
		if !strings.HasPrefix(code, "61") || code[6:] != "000000" {
			t.Errorf("code %s", code)
		}
		switch lv {
		case "province":
			if code != "610000000000" || name != "陕西省" {
				t.Errorf("province row %v", row)
			}
		case "city":
			if code[4:6] != "00" || code[2:4] == "00" {
				t.Errorf("city code %s", code)
			}
		case "district":
			if code[4:6] == "00" {
				t.Errorf("district code %s", code)
			}
		default:
			t.Errorf("level %q", lv)
		}
	}
	for code, lv := range level {
		switch lv {
		case "city":
			if level[code[:2]+"0000000000"] != "province" {
				t.Errorf("city %s has no province", code)
			}
		case "district":
			if level[code[:4]+"00000000"] != "city" {
				t.Errorf("district %s has no parent city", code)
			}
		}
	}
	for _, c := range []string{"610100000000", "610300000000", "610400000000"} {
		if level[c] != "city" {
			t.Errorf("missing city %s", c)
		}
	}
	cities := 0
	for _, lv := range level {
		if lv == "city" {
			cities++
		}
	}
	if cities != 10 {
		t.Errorf("%d cities, want 10", cities)
	}
	if names["610402000000"] != "秦都区" || names["610302000000"] != "渭滨区" || names["610113000000"] != "雁塔区" {
		t.Error("spot-check names")
	}
	if len(ShaanxiCounties) < 100 {
		t.Errorf("%d counties", len(ShaanxiCounties))
	}
	for _, c := range ShaanxiCounties {
		if level[c+"000000"] != "district" {
			t.Errorf("county %s not a district in the CSV", c)
		}
	}
	// The accessor returns a copy.
	b := ShaanxiDivisionsCSV()
	b[0] = 'X'
	if ShaanxiDivisionsCSV()[0] != 'c' {
		t.Error("ShaanxiDivisionsCSV exposes the embedded bytes")
	}
}

func TestCivilDays(t *testing.T) {
	for d := int64(-60000); d < 60000; d += 7 {
		y, m, dd := civilFromDays(d)
		want := time.Unix(d*86400, 0).UTC()
		if y != want.Year() || m != int(want.Month()) || dd != want.Day() {
			t.Fatalf("day %d: %d-%d-%d, want %v", d, y, m, dd, want)
		}
		if daysFromCivil(y, m, dd) != d {
			t.Fatalf("round trip %d", d)
		}
	}
}

func TestAllocs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	prof := testProfile()
	n := testing.AllocsPerRun(1000, func() { _ = NewPerson(r, prof) })
	if n > 3 {
		t.Errorf("NewPerson allocates %.1f times, want ≤ 3", n)
	}
}

func BenchmarkNewPerson(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	prof := testProfile()
	b.ReportAllocs()
	for b.Loop() {
		_ = NewPerson(r, prof)
	}
}

func BenchmarkNewPersonMillion(b *testing.B) {
	prof := testProfile()
	for b.Loop() {
		r := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 1_000_000; i++ {
			_ = NewPerson(r, prof)
		}
	}
}
