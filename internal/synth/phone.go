package synth

import "math/rand/v2"

// mobilePrefixes are mainland mobile number segments in real use by the
// three carriers (China Mobile, China Unicom, China Telecom) and the
// 170/171 virtual operators, with rough weights for how many subscribers
// hold them (the old 13x/15x/18x segments dominate).
var mobilePrefixes = []struct {
	p string
	w float64
}{
	{"130", 4}, {"131", 4}, {"132", 4}, {"133", 4}, {"134", 4},
	{"135", 6}, {"136", 6}, {"137", 6}, {"138", 6}, {"139", 6},
	{"147", 1},
	{"150", 4}, {"151", 4}, {"152", 4}, {"153", 3},
	{"155", 3}, {"156", 3}, {"157", 3}, {"158", 4}, {"159", 4},
	{"166", 1.5},
	{"170", 0.5}, {"171", 0.5}, {"173", 1.5}, {"175", 1}, {"176", 1.5},
	{"177", 1.5}, {"178", 1.5},
	{"180", 3}, {"181", 3}, {"182", 3}, {"183", 3}, {"184", 1},
	{"185", 3}, {"186", 3}, {"187", 3}, {"188", 3}, {"189", 3},
	{"191", 1}, {"198", 1.5}, {"199", 1.5},
}

var (
	phonePrefixBytes [][3]byte
	phonePrefixTable alias
)

func init() {
	w := make([]float64, len(mobilePrefixes))
	phonePrefixBytes = make([][3]byte, len(mobilePrefixes))
	for i, e := range mobilePrefixes {
		w[i] = e.w
		copy(phonePrefixBytes[i][:], e.p)
	}
	phonePrefixTable = newAlias(w)
}

// Phone returns an 11-digit mainland mobile number: a real carrier segment
// followed by eight random digits.
func Phone(r *rand.Rand) string {
	var b [11]byte
	fillPhone(r, &b)
	return string(b[:])
}

func fillPhone(r *rand.Rand, b *[11]byte) {
	copy(b[:3], phonePrefixBytes[phonePrefixTable.draw(r)][:])
	n := r.Uint64() % 100000000
	for i := 10; i >= 3; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
}
