package face

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

const benchN = 50_000

// benchIndex builds the 50,000-face gallery used by the benchmarks
// (seeded PCG, normal components normalised to unit length).
func benchIndex(b testing.TB) (*Index, *rand.Rand) {
	b.Helper()
	r := rand.New(rand.NewPCG(2026, 11))
	x := NewIndex()
	for i := range benchN {
		if err := x.Put("g", fmt.Sprintf("p%d", i/2), fmt.Sprintf("f%d", i), randUnit(r), testModel); err != nil {
			b.Fatal(err)
		}
	}
	return x, r
}

// BenchmarkMatch50k: one random query (nearest is far: the worst case
// for any early exit) against 50,000 faces.
func BenchmarkMatch50k(b *testing.B) {
	x, r := benchIndex(b)
	q := randUnit(r)
	b.SetBytes(benchN * Dim * 4)
	b.ResetTimer()
	var m Match
	for b.Loop() {
		m = x.Match("g", q, testModel)
	}
	if m.FaceID == "" {
		b.Fatal("no match")
	}
}

// BenchmarkMatch50kResident: the query is 0.35 from an enrolled face
// (a resident at the gate), the usual real case.
func BenchmarkMatch50kResident(b *testing.B) {
	x, r := benchIndex(b)
	g := x.g["g"]
	row := benchN / 2
	q := atDistance(r, g.slab[row*Dim:(row+1)*Dim], 0.35)
	b.SetBytes(benchN * Dim * 4)
	b.ResetTimer()
	var m Match
	for b.Loop() {
		m = x.Match("g", q, testModel)
	}
	if !m.Found || m.FaceID != g.face[row] {
		b.Fatalf("got %+v", m)
	}
}

// BenchmarkMemoryScan50k is the limit: a plain loop summing the same
// slab (the same bytes read as one Match50k).
func BenchmarkMemoryScan50k(b *testing.B) {
	x, _ := benchIndex(b)
	slab := x.g["g"].slab
	b.SetBytes(int64(len(slab)) * 4)
	b.ResetTimer()
	var s float32
	for b.Loop() {
		s += sumSlab(slab)
	}
	if math.IsNaN(float64(s)) {
		b.Fatal("NaN")
	}
}

// sumSlab sums with four accumulators, like sqDist, so the add latency
// does not hide the memory bandwidth.
func sumSlab(s []float32) float32 {
	var s0, s1, s2, s3 float32
	for i := 0; i+3 < len(s); i += 4 {
		s0 += s[i]
		s1 += s[i+1]
		s2 += s[i+2]
		s3 += s[i+3]
	}
	return (s0 + s1) + (s2 + s3)
}

// TestWriteBenchGallery writes the benchmark's gallery and query as JSON
// for bench/face/matcher.mjs, so Node times the very same data:
//
//	FACE_BENCH_GALLERY=/tmp/gallery50k.json go test -run WriteBenchGallery ./internal/face
//	node bench/face/matcher.mjs /tmp/gallery50k.json
func TestWriteBenchGallery(t *testing.T) {
	path := os.Getenv("FACE_BENCH_GALLERY")
	if path == "" {
		t.Skip("set FACE_BENCH_GALLERY=file.json to write the benchmark gallery")
	}
	x, r := benchIndex(t)
	q := randUnit(r)
	g := x.g["g"]
	type face struct {
		Face   string    `json:"face"`
		Person string    `json:"person"`
		D      []float32 `json:"d"`
	}
	out := struct {
		Generator string    `json:"generator"`
		Model     string    `json:"model"`
		Query     []float32 `json:"query"`
		Expect    Match     `json:"expect"`
		Faces     []face    `json:"faces"`
	}{
		Generator: "Go math/rand/v2 PCG(2026, 11): NormFloat64 components, normalised; the query is the next vector",
		Model:     testModel,
		Query:     q,
		Expect:    x.Match("g", q, testModel),
	}
	for i := range g.face {
		out.Faces = append(out.Faces, face{g.face[i], g.person[i], g.slab[i*Dim : (i+1)*Dim]})
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewEncoder(f).Encode(out); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d faces to %s; nearest %s at %.6f", len(out.Faces), path, out.Expect.FaceID, out.Expect.Distance)
}
