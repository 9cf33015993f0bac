// Package ratelimit is shequ's one request limiter: a budget of N requests
// per period for each key (an address, a device, a partner), refilled
// evenly, so a client may spend its whole budget at once and then one
// request every period/N. It keeps its state in memory; the clock is the
// caller's, so tests control time.
package ratelimit

import (
	"sync"
	"time"
)

// Limit is N requests per Per. N <= 0 means no limit.
type Limit struct {
	N   int
	Per time.Duration
}

// PerMinute is n requests a minute.
func PerMinute(n int) Limit { return Limit{N: n, Per: time.Minute} }

// Off reports whether the limit lets everything through.
func (l Limit) Off() bool { return l.N <= 0 || l.Per <= 0 }

// maxKeys bounds memory: past it, keys whose budget is full again are
// forgotten; if all are still in use the oldest half go (their clients
// get a fresh budget, which errs on the side of letting people in).
const maxKeys = 200_000

// Limiter holds the state of every key. The zero value is ready to use.
type Limiter struct {
	mu sync.Mutex
	// tat is each key's "theoretical arrival time": when its budget
	// will be full again. A request is allowed while tat stays within
	// one period of now (GCRA).
	tat map[string]time.Time
}

// Allow spends one request of key's budget under l at now. When the budget
// is spent it returns false and how long until the next request is allowed.
func (r *Limiter) Allow(key string, l Limit, now time.Time) (bool, time.Duration) {
	if l.Off() {
		return true, 0
	}
	interval := l.Per / time.Duration(l.N)
	if interval <= 0 {
		interval = 1
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tat == nil {
		r.tat = map[string]time.Time{}
	}
	tat, ok := r.tat[key]
	if !ok || tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if wait := next.Sub(now) - l.Per; wait > 0 {
		return false, wait
	}
	if !ok && len(r.tat) >= maxKeys {
		r.sweep(now)
	}
	r.tat[key] = next
	return true, 0
}

// Spent reports, without spending anything, whether key's budget under l
// is used up at now, and how long until it is not.
func (r *Limiter) Spent(key string, l Limit, now time.Time) (bool, time.Duration) {
	if l.Off() {
		return false, 0
	}
	interval := l.Per / time.Duration(l.N)
	r.mu.Lock()
	defer r.mu.Unlock()
	tat, ok := r.tat[key]
	if !ok {
		return false, 0
	}
	if wait := tat.Add(interval).Sub(now) - l.Per; wait > 0 {
		return true, wait
	}
	return false, 0
}

// Reset forgets every key.
func (r *Limiter) Reset() {
	r.mu.Lock()
	r.tat = nil
	r.mu.Unlock()
}

func (r *Limiter) sweep(now time.Time) {
	for k, t := range r.tat {
		if !t.After(now) {
			delete(r.tat, k)
		}
	}
	if len(r.tat) < maxKeys {
		return
	}
	// Everyone is busy: drop the keys closest to a full budget.
	var sum time.Duration
	for _, t := range r.tat {
		sum += t.Sub(now) / time.Duration(len(r.tat))
	}
	for k, t := range r.tat {
		if t.Sub(now) <= sum {
			delete(r.tat, k)
		}
	}
}
