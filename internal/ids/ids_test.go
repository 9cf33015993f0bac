package ids

import (
	"testing"
	"time"
)

func TestSortableAndValid(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	a, b := At(t0), At(t0.Add(time.Millisecond))
	if !(a < b) {
		t.Fatalf("ids not time-ordered: %s !< %s", a, b)
	}
	if !Valid(a) || !Valid(New()) {
		t.Fatalf("generated id %q not valid", a)
	}
	seen := map[string]bool{}
	for i := 0; i < 10000; i++ {
		id := At(t0)
		if seen[id] {
			t.Fatal("duplicate id within one millisecond")
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "x", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "8zzzzzzzzzzzzzzzzzzzzzzzzz", "0123456789abcdefghijklmnop"} {
		if Valid(bad) {
			t.Errorf("Valid(%q) = true", bad)
		}
	}
}
