package ratelimit

import (
	"testing"
	"time"
)

func TestBudgetRefillsEvenly(t *testing.T) {
	var r Limiter
	now := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	l := PerMinute(6) // one every 10 s, six at once
	for i := 0; i < 6; i++ {
		if ok, _ := r.Allow("a", l, now); !ok {
			t.Fatalf("request %d of a fresh budget refused", i+1)
		}
	}
	ok, wait := r.Allow("a", l, now)
	if ok || wait != 10*time.Second {
		t.Fatalf("7th request: ok=%v wait=%v, want refused for 10s", ok, wait)
	}
	if spent, _ := r.Spent("a", l, now); !spent {
		t.Fatal("Spent does not see the empty budget")
	}
	if ok, _ := r.Allow("b", l, now); !ok {
		t.Fatal("another key is affected")
	}
	if ok, _ := r.Allow("a", l, now.Add(9*time.Second)); ok {
		t.Fatal("allowed before a request's worth refilled")
	}
	if ok, _ := r.Allow("a", l, now.Add(10*time.Second)); !ok {
		t.Fatal("refused after a request's worth refilled")
	}
	if ok, _ := r.Allow("a", l, now.Add(10*time.Second)); ok {
		t.Fatal("allowed twice for one refill")
	}
	later := now.Add(time.Hour)
	for i := 0; i < 6; i++ {
		if ok, _ := r.Allow("a", l, later); !ok {
			t.Fatalf("an hour later, request %d refused: the budget did not fill again", i+1)
		}
	}
}

func TestOffLetsEverythingThrough(t *testing.T) {
	var r Limiter
	now := time.Now()
	for i := 0; i < 1000; i++ {
		if ok, _ := r.Allow("a", Limit{}, now); !ok {
			t.Fatal("a zero limit refused a request")
		}
	}
	if spent, _ := r.Spent("a", Limit{}, now); spent {
		t.Fatal("a zero limit is spent")
	}
}

func TestSweepBoundsMemory(t *testing.T) {
	var r Limiter
	now := time.Now()
	l := PerMinute(10)
	for i := 0; i < maxKeys+10; i++ {
		r.Allow(string(rune(i)), l, now)
	}
	if len(r.tat) > maxKeys {
		t.Fatalf("%d keys kept, bound %d", len(r.tat), maxKeys)
	}
}
