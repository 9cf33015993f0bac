package synth

import "math/rand/v2"

// The helpers in this file turn one 64-bit draw of the caller's generator
// into the small random values the package needs. Every draw goes through
// r.Uint64, so a seed reproduces the same output regardless of how the
// convenience methods of rand.Rand may evolve.

// index returns a value in [0, n) for 0 < n < 2^32 (multiply-shift on the
// high 32 bits; the bias is below 2^-32·n and irrelevant for synthetic data).
func index(r *rand.Rand, n int) int {
	return int(((r.Uint64() >> 32) * uint64(n)) >> 32)
}

// unit returns a float64 in [0, 1).
func unit(r *rand.Rand) float64 {
	return float64(r.Uint64()>>11) * (1.0 / (1 << 53))
}

// alias is a Walker/Vose alias table: O(1) weighted sampling with a single
// 64-bit draw per sample.
type alias struct {
	n      uint64
	thresh []uint64 // acceptance threshold scaled to 2^32
	other  []int32
}

// newAlias builds an alias table for the given non-negative weights. It
// panics on an empty or all-zero weight list: the tables are package data.
func newAlias(w []float64) alias {
	n := len(w)
	if n == 0 {
		panic("synth: empty weight table")
	}
	sum := 0.0
	for _, x := range w {
		if x < 0 {
			panic("synth: negative weight")
		}
		sum += x
	}
	if sum <= 0 {
		panic("synth: zero total weight")
	}
	p := make([]float64, n)
	small := make([]int, 0, n)
	large := make([]int, 0, n)
	for i, x := range w {
		p[i] = x * float64(n) / sum
		if p[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	a := alias{n: uint64(n), thresh: make([]uint64, n), other: make([]int32, n)}
	for len(small) > 0 && len(large) > 0 {
		s := small[len(small)-1]
		small = small[:len(small)-1]
		l := large[len(large)-1]
		a.thresh[s] = uint64(p[s] * (1 << 32))
		a.other[s] = int32(l)
		p[l] -= 1 - p[s]
		if p[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	// Leftovers are (up to rounding) exactly 1: always accept.
	for _, i := range large {
		a.thresh[i] = 1 << 32
		a.other[i] = int32(i)
	}
	for _, i := range small {
		a.thresh[i] = 1 << 32
		a.other[i] = int32(i)
	}
	return a
}

// draw returns an index with probability proportional to its weight.
func (a *alias) draw(r *rand.Rand) int {
	u := r.Uint64()
	i := ((u >> 32) * a.n) >> 32
	if u&0xffffffff < a.thresh[i] {
		return int(i)
	}
	return int(a.other[i])
}

// rankWeights returns n Zipf-like weights 1/(i+k): earlier entries of a
// list ordered by commonness are drawn more often.
func rankWeights(n int, k float64) []float64 {
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / (float64(i) + k)
	}
	return w
}
