// Package memo keeps the answers of database lookups in memory while the
// tables they depend on are unchanged (store.Changes) and for at most a
// given age: the gate's lookups at the morning peak, the big screen's site
// plan drawn for many open screens.
package memo

import (
	"sync"
	"time"

	"shequ/internal/store"
)

// maxEntries bounds a memo's memory; a full memo starts over.
const maxEntries = 200_000

// Memo remembers the answers of database lookups that depend only on the
// listed tables. A committed write to any of the tables in this process
// forgets everything at once; writes by another process on the same
// database (a CLI import, a second server on PostgreSQL) and the passing of
// time (a contract ending at midnight) are seen within maxAge.
type Memo[V any] struct {
	st     *store.Store
	maxAge time.Duration
	tables []string

	mu    sync.RWMutex
	stamp uint64
	m     map[string]entry[V]
}

type entry[V any] struct {
	v  V
	at time.Time
}

// New makes an empty memo whose answers are trusted for at most maxAge.
func New[V any](st *store.Store, maxAge time.Duration, tables ...string) *Memo[V] {
	return &Memo[V]{st: st, maxAge: maxAge, tables: tables, m: map[string]entry[V]{}}
}

// Get answers from memory when it can, else calls load and remembers its
// answer (errors are not remembered).
func (c *Memo[V]) Get(key string, load func() (V, error)) (V, error) {
	// Take the stamp before reading the database: a write that commits
	// while load runs then makes the answer stale, never trusted.
	stamp := c.st.Changes(c.tables...)
	now := c.st.Now()
	c.mu.RLock()
	e, ok := c.m[key]
	ok = ok && c.stamp == stamp && !now.Before(e.at) && now.Sub(e.at) < c.maxAge
	c.mu.RUnlock()
	if ok {
		return e.v, nil
	}
	v, err := load()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case stamp < c.stamp:
		return v, nil // read before a newer write another caller has seen
	case stamp > c.stamp || len(c.m) >= maxEntries:
		c.m, c.stamp = map[string]entry[V]{}, stamp
	}
	c.m[key] = entry[V]{v: v, at: now}
	return v, nil
}
