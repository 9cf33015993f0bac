package face

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

const testModel = "face-api-1.7.15/resnet128"

// randUnit returns a random unit vector (the Go and Node benchmarks use
// the same idea: normal components, normalised).
func randUnit(r *rand.Rand) []float32 {
	d := make([]float32, Dim)
	var n float64
	for i := range d {
		v := r.NormFloat64()
		d[i] = float32(v)
		n += v * v
	}
	n = math.Sqrt(n)
	for i := range d {
		d[i] = float32(float64(d[i]) / n)
	}
	return d
}

// atDistance returns a descriptor exactly dist (within float32 rounding)
// away from base, in a random direction.
func atDistance(r *rand.Rand, base []float32, dist float64) []float32 {
	dir := randUnit(r)
	out := make([]float32, Dim)
	for i := range out {
		out[i] = base[i] + float32(dist*float64(dir[i]))
	}
	return out
}

func TestValidate(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	good := randUnit(r)
	if err := Validate(good); err != nil {
		t.Fatal(err)
	}
	nan := append([]float32(nil), good...)
	nan[5] = float32(math.NaN())
	inf := append([]float32(nil), good...)
	inf[127] = float32(math.Inf(-1))
	for name, c := range map[string]struct {
		d    []float32
		want error
	}{
		"nil":   {nil, ErrLength},
		"short": {good[:127], ErrLength},
		"long":  {append(append([]float32(nil), good...), 0), ErrLength},
		"nan":   {nan, ErrFinite},
		"inf":   {inf, ErrFinite},
		"zero":  {make([]float32, Dim), ErrZero},
	} {
		if err := Validate(c.d); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", name, err, c.want)
		}
	}
}

func TestPutRejects(t *testing.T) {
	x := NewIndex()
	r := rand.New(rand.NewPCG(1, 2))
	good := randUnit(r)
	nan := append([]float32(nil), good...)
	nan[0] = float32(math.NaN())
	inf := append([]float32(nil), good...)
	inf[1] = float32(math.Inf(1))
	cases := []struct {
		g, p, f, m string
		d          []float32
		want       error
	}{
		{"", "p", "f", testModel, good, ErrEmptyID},
		{"g", "", "f", testModel, good, ErrEmptyID},
		{"g", "p", "", testModel, good, ErrEmptyID},
		{"g", "p", "f", "", good, ErrEmptyID},
		{"g", "p", "f", testModel, good[:100], ErrLength},
		{"g", "p", "f", testModel, append(append([]float32(nil), good...), 1), ErrLength},
		{"g", "p", "f", testModel, nan, ErrFinite},
		{"g", "p", "f", testModel, inf, ErrFinite},
		{"g", "p", "f", testModel, make([]float32, Dim), ErrZero},
	}
	for i, c := range cases {
		if err := x.Put(c.g, c.p, c.f, c.d, c.m); !errors.Is(err, c.want) {
			t.Errorf("case %d: got %v, want %v", i, err, c.want)
		}
	}
	if n := x.Len("g"); n != 0 {
		t.Fatalf("Len = %d after rejected puts", n)
	}
	// An invalid query never matches.
	if err := x.Put("g", "p", "f", good, testModel); err != nil {
		t.Fatal(err)
	}
	if m := x.Match("g", nan, testModel); m != (Match{}) {
		t.Fatalf("NaN query matched: %+v", m)
	}
	if m := x.Match("g", good[:64], testModel); m.Found {
		t.Fatalf("short query matched: %+v", m)
	}
}

// bruteForce is the reference: float64 distances over a plain list.
type entry struct {
	gallery, person, face, model string
	d                            []float32
}

func bruteForce(es []entry, gallery string, q []float32, model string) (string, float64) {
	best, bd := "", math.Inf(1)
	for _, e := range es {
		if e.gallery != gallery || e.model != model {
			continue
		}
		if d := Distance(e.d, q); d < bd {
			best, bd = e.face, d
		}
	}
	if best == "" {
		return "", 0 // Match's "no candidate"
	}
	return best, bd
}

func TestMatchExactAgainstBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	x := NewIndex()
	var es []entry
	galleries := []string{"c1", "c2", "c3"}
	models := []string{testModel, "other/model"}
	for i := range 3000 {
		e := entry{
			gallery: galleries[r.IntN(len(galleries))],
			person:  fmt.Sprintf("p%d", r.IntN(800)),
			face:    fmt.Sprintf("f%d", i),
			model:   models[r.IntN(5)/4], // 1 in 5 of the other model
			d:       randUnit(r),
		}
		if err := x.Put(e.gallery, e.person, e.face, e.d, e.model); err != nil {
			t.Fatal(err)
		}
		es = append(es, e)
	}
	for q := range 300 {
		g := galleries[q%len(galleries)]
		model := models[q%7/6]
		var query []float32
		if q%2 == 0 {
			query = randUnit(r)
		} else { // near an enrolled face, so near and far cases are both covered
			query = atDistance(r, es[r.IntN(len(es))].d, 0.1+0.6*r.Float64())
		}
		wantFace, wantD := bruteForce(es, g, query, model)
		m := x.Match(g, query, model)
		if m.FaceID != wantFace {
			// Ties within float32 rounding are acceptable.
			if math.Abs(m.Distance-wantD) > 1e-5 {
				t.Fatalf("query %d: got %s at %.6f, want %s at %.6f", q, m.FaceID, m.Distance, wantFace, wantD)
			}
		}
		if math.Abs(m.Distance-wantD) > 1e-5 {
			t.Fatalf("query %d: distance %.7f, want %.7f", q, m.Distance, wantD)
		}
		if m.Found != (m.Distance < Threshold) {
			t.Fatalf("query %d: Found=%v at %.4f", q, m.Found, m.Distance)
		}
		if m.FaceID != "" {
			for _, e := range es {
				if e.face == m.FaceID && e.person != m.PersonID {
					t.Fatalf("query %d: person %s, want %s", q, m.PersonID, e.person)
				}
			}
		}
	}
}

func TestThreshold(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		x := NewIndex()
		base := randUnit(r)
		if err := x.Put("g", "alice", "a1", base, testModel); err != nil {
			t.Fatal(err)
		}
		near := x.Match("g", atDistance(r, base, 0.49), testModel)
		if !near.Found || near.PersonID != "alice" || near.FaceID != "a1" || math.Abs(near.Distance-0.49) > 1e-4 {
			t.Fatalf("0.49: %+v", near)
		}
		far := x.Match("g", atDistance(r, base, 0.51), testModel)
		if far.Found || math.Abs(far.Distance-0.51) > 1e-4 {
			t.Fatalf("0.51: %+v", far)
		}
		// The nearest is still reported, even when not found.
		if far.FaceID != "a1" || far.PersonID != "alice" {
			t.Fatalf("0.51 nearest: %+v", far)
		}
	}
}

func TestModelMismatchNeverMatches(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	x := NewIndex()
	d := randUnit(r)
	if err := x.Put("g", "alice", "a1", d, "face-api-1.7.15/resnet128"); err != nil {
		t.Fatal(err)
	}
	for _, model := range []string{"face-api-1.7.14/resnet128", "other", ""} {
		if m := x.Match("g", d, model); m != (Match{}) {
			t.Fatalf("model %q matched: %+v", model, m)
		}
	}
	// A known second model with rows of its own only sees its rows.
	e := randUnit(r)
	if err := x.Put("g", "bob", "b1", e, "other"); err != nil {
		t.Fatal(err)
	}
	if m := x.Match("g", d, "other"); m.FaceID != "b1" || m.Found {
		t.Fatalf("other model: %+v", m)
	}
	if m := x.Match("g", d, "face-api-1.7.15/resnet128"); m.FaceID != "a1" || !m.Found || m.Distance != 0 {
		t.Fatalf("same model: %+v", m)
	}
}

// A miss must stay encodable: the gate puts Distance into its JSON answer.
func TestNoCandidateIsJSONSafe(t *testing.T) {
	x := NewIndex()
	r := rand.New(rand.NewPCG(21, 22))
	m := x.Match("empty", randUnit(r), testModel)
	if m != (Match{}) {
		t.Fatalf("empty gallery: %+v", m)
	}
	if _, err := json.Marshal(m); err != nil {
		t.Fatal(err)
	}
}

func TestGalleriesAreSeparate(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	x := NewIndex()
	d := randUnit(r)
	if err := x.Put("c1", "alice", "a1", d, testModel); err != nil {
		t.Fatal(err)
	}
	if m := x.Match("c2", d, testModel); m != (Match{}) {
		t.Fatalf("other community matched: %+v", m)
	}
	if x.Len("c1") != 1 || x.Len("c2") != 0 {
		t.Fatalf("Len c1=%d c2=%d", x.Len("c1"), x.Len("c2"))
	}
}

func TestPutReplaces(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	x := NewIndex()
	old, repl := randUnit(r), randUnit(r)
	if err := x.Put("g", "alice", "f1", old, testModel); err != nil {
		t.Fatal(err)
	}
	if err := x.Put("g", "bob", "f2", randUnit(r), testModel); err != nil {
		t.Fatal(err)
	}
	if err := x.Put("g", "carol", "f1", repl, testModel); err != nil {
		t.Fatal(err)
	}
	if n := x.Len("g"); n != 2 {
		t.Fatalf("Len = %d, want 2", n)
	}
	if m := x.Match("g", repl, testModel); m.FaceID != "f1" || m.PersonID != "carol" || m.Distance != 0 {
		t.Fatalf("replacement: %+v", m)
	}
	if m := x.Match("g", old, testModel); m.Found {
		t.Fatalf("old descriptor still matches: %+v", m)
	}
	// Put copies: changing the caller's slice changes nothing.
	repl[0] += 1
	if m := x.Match("g", repl, testModel); m.Distance == 0 {
		t.Fatal("index aliases the caller's slice")
	}
}

func TestRemove(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	x := NewIndex()
	ds := map[string][]float32{}
	for i := range 10 {
		id := fmt.Sprintf("f%d", i)
		ds[id] = randUnit(r)
		if err := x.Put("g", fmt.Sprintf("p%d", i%3), id, ds[id], testModel); err != nil {
			t.Fatal(err)
		}
	}
	x.Forget("f0") // first row: the last row moves into its place
	x.Forget("f9") // now-last row... or wherever it went
	x.Forget("nope")
	if n := x.Len("g"); n != 8 {
		t.Fatalf("Len = %d, want 8", n)
	}
	for id, d := range ds {
		m := x.Match("g", d, testModel)
		gone := id == "f0" || id == "f9"
		if gone && m.FaceID == id {
			t.Fatalf("%s still there", id)
		}
		if !gone && (m.FaceID != id || m.Distance != 0) {
			t.Fatalf("%s: %+v", id, m)
		}
	}
	// p1 had f1, f4, f7.
	for _, id := range []string{"f1", "f4", "f7"} {
		x.Forget(id)
	}
	if n := x.Len("g"); n != 5 {
		t.Fatalf("Len = %d after forgetting p1's faces, want 5", n)
	}
	for id, d := range ds {
		m := x.Match("g", d, testModel)
		if m.PersonID == "p1" {
			t.Fatalf("p1 still matches via %s", id)
		}
		gone := id == "f0" || id == "f9" || id == "f1" || id == "f4" || id == "f7"
		if !gone && (m.FaceID != id || m.Distance != 0) {
			t.Fatalf("%s: %+v", id, m)
		}
	}
	for _, id := range []string{"f2", "f3", "f5", "f6", "f8"} {
		x.Forget(id)
	}
	if n := x.Len("g"); n != 0 {
		t.Fatalf("Len = %d, want 0", n)
	}
	if m := x.Match("g", ds["f2"], testModel); m != (Match{}) {
		t.Fatalf("empty gallery matched: %+v", m)
	}
	// The gallery can be used again.
	if err := x.Put("g", "p0", "f0", ds["f0"], testModel); err != nil {
		t.Fatal(err)
	}
	if m := x.Match("g", ds["f0"], testModel); m.FaceID != "f0" {
		t.Fatalf("after re-put: %+v", m)
	}
}

func TestConcurrentPutMatch(t *testing.T) {
	x := NewIndex()
	r := rand.New(rand.NewPCG(15, 16))
	fixed := randUnit(r)
	if err := x.Put("g", "alice", "fixed", fixed, testModel); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 4 { // writers
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 99))
			for i := range 300 {
				id := fmt.Sprintf("w%d-%d", w, i%50)
				if err := x.Put("g", fmt.Sprintf("p%d", w), id, randUnit(r), testModel); err != nil {
					t.Error(err)
					return
				}
				switch i % 7 {
				case 3:
					x.Forget(id)
				case 6:
					x.Forget(fmt.Sprintf("w%d-%d", w, (i+25)%50))
				}
			}
		})
	}
	for range 8 { // readers
		wg.Go(func() {
			for range 500 {
				m := x.Match("g", fixed, testModel)
				if m.FaceID != "fixed" || !m.Found {
					t.Errorf("lost the fixed face: %+v", m)
					return
				}
				_ = x.Len("g")
			}
		})
	}
	wg.Wait()
}
