// Package testutil opens fresh databases for tests: SQLite always, and
// PostgreSQL when SHEQU_TEST_PG_URL is set (CI sets it; with CI=true a
// missing PostgreSQL fails the run instead of skipping).
package testutil

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"shequ/internal/store"
)

// Engines lists the engines a store test must run on.
func Engines() []string { return []string{"sqlite", "postgres"} }

// InCI reports whether missing services must fail instead of skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// SkipOrFail skips the test with why, or fails it in CI.
func SkipOrFail(tb testing.TB, why string) {
	tb.Helper()
	if InCI() {
		tb.Fatalf("CI=true but %s", why)
	}
	tb.Skip(why)
}

// ForEachDB runs fn as a subtest on a fresh, migrated database of each engine.
func ForEachDB(t *testing.T, now func() time.Time, fn func(t *testing.T, s *store.Store)) {
	for _, engine := range Engines() {
		t.Run(engine, func(t *testing.T) {
			fn(t, OpenDB(t, engine, now))
		})
	}
}

// DSN returns a fresh, empty database of engine for tb, dropped at cleanup.
func DSN(tb testing.TB, engine string) string {
	tb.Helper()
	switch engine {
	case "sqlite":
		return filepath.Join(tb.TempDir(), "test.db")
	case "postgres":
		base := os.Getenv("SHEQU_TEST_PG_URL")
		if base == "" {
			SkipOrFail(tb, "SHEQU_TEST_PG_URL is not set: PostgreSQL tests skipped")
		}
		var b [6]byte
		rand.Read(b[:])
		schema := "t_" + hex.EncodeToString(b[:])
		admin, err := sql.Open("pgx", base)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
			admin.Close()
			tb.Fatalf("create schema on %s: %v", base, err)
		}
		tb.Cleanup(func() {
			admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
			admin.Close()
		})
		u, err := url.Parse(base)
		if err != nil {
			tb.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	tb.Fatalf("unknown engine %q", engine)
	return ""
}

// OpenDB opens and migrates a fresh database of engine.
func OpenDB(tb testing.TB, engine string, now func() time.Time) *store.Store {
	tb.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, DSN(tb, engine), now)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return s
}

// Clock is a settable fake clock for tests, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a fake clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set puts the clock at t (each engine's subtest starts from the same time).
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
