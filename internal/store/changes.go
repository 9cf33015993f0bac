package store

import (
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
)

// Change counters let readers keep derived data in memory (the gate's
// lookups) and notice when it may be stale: every committed write
// transaction bumps the counter of each table it wrote, after the commit.
// A reader takes Changes before it reads the database and keeps what it
// read only while Changes still returns the same number; writes made by
// another process are not seen here, so such caches also bound their age.
type writeCounters struct {
	tables sync.Map // table name → *atomic.Uint64
	parsed sync.Map // statement text → []string, the tables it writes
}

var writeTarget = regexp.MustCompile(`(?i)\b(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+([a-z_][a-z0-9_]*)`)

// written lists the tables a statement writes (none for a plain SELECT).
func (c *writeCounters) written(q string) []string {
	if v, ok := c.parsed.Load(q); ok {
		return v.([]string)
	}
	var out []string
	for _, m := range writeTarget.FindAllStringSubmatch(q, -1) {
		t := strings.ToLower(m[1])
		if t != "set" { // ON CONFLICT … DO UPDATE SET
			out = append(out, t)
		}
	}
	c.parsed.Store(q, out)
	return out
}

func (c *writeCounters) counter(table string) *atomic.Uint64 {
	if v, ok := c.tables.Load(table); ok {
		return v.(*atomic.Uint64)
	}
	v, _ := c.tables.LoadOrStore(table, new(atomic.Uint64))
	return v.(*atomic.Uint64)
}

// Changes is a number that grows whenever a write transaction of this
// process that touched any of the tables commits.
func (s *Store) Changes(tables ...string) uint64 {
	var n uint64
	for _, t := range tables {
		n += s.writes.counter(t).Load()
	}
	return n
}

// noteWrite remembers the tables a statement of the transaction writes.
func (tx *Tx) noteWrite(q string) {
	for _, t := range tx.s.writes.written(q) {
		if tx.written == nil {
			tx.written = map[string]bool{}
		}
		tx.written[t] = true
	}
}

// committed bumps the counters of the tables the transaction wrote.
func (tx *Tx) committed() {
	for t := range tx.written {
		tx.s.writes.counter(t).Add(1)
	}
}
