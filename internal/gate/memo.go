package gate

import (
	"sync"
	"time"

	"shequ/internal/store"
)

// memoMaxAge bounds how long a remembered lookup is trusted. Writes made
// in this process are seen at once (store.Changes); writes by another
// process on the same database (a CLI import, a second server on
// PostgreSQL) and the passing of time (a contract ending at midnight, a
// list entry expiring) are seen within this age.
const memoMaxAge = 10 * time.Second

// memoMaxEntries bounds a memo's memory; a full memo starts over.
const memoMaxEntries = 200_000

// memo remembers the answers of database lookups that depend only on the
// listed tables, so that a gate decision at the morning peak reads no
// database for someone it saw seconds ago. A committed write to any of
// the tables forgets everything at once.
type memo[V any] struct {
	st     *store.Store
	tables []string

	mu    sync.RWMutex
	stamp uint64
	m     map[string]memoEntry[V]
}

type memoEntry[V any] struct {
	v  V
	at time.Time
}

func newMemo[V any](st *store.Store, tables ...string) *memo[V] {
	return &memo[V]{st: st, tables: tables, m: map[string]memoEntry[V]{}}
}

// get answers from memory when it can, else calls load and remembers its
// answer (errors are not remembered).
func (c *memo[V]) get(key string, load func() (V, error)) (V, error) {
	// Take the stamp before reading the database: a write that commits
	// while load runs then makes the answer stale, never trusted.
	stamp := c.st.Changes(c.tables...)
	now := c.st.Now()
	c.mu.RLock()
	e, ok := c.m[key]
	ok = ok && c.stamp == stamp && !now.Before(e.at) && now.Sub(e.at) < memoMaxAge
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
	case stamp > c.stamp || len(c.m) >= memoMaxEntries:
		c.m, c.stamp = map[string]memoEntry[V]{}, stamp
	}
	c.m[key] = memoEntry[V]{v: v, at: now}
	return v, nil
}

// Tables whose writes change who a credential or person is at a gate, and
// what the policy knows of their health.
var (
	identityTables = []string{"credentials", "persons", "household_members", "households", "places", "access_lists"}
	healthTables   = []string{"code_snapshots", "health_tests", "vaccinations", "monitoring"}
	deviceTables   = []string{"devices", "gates", "org_nodes"}
)
