// Package store is shequ's one storage layer: a concrete Store over
// database/sql that runs the same SQL ($n placeholders) on SQLite
// (modernc.org/sqlite, the default) and PostgreSQL (pgx). Reads use a pool;
// on SQLite all writes go through one connection in IMMEDIATE transactions,
// so writers queue instead of failing with SQLITE_BUSY.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"shequ/internal/config"
	"shequ/internal/errs"
)

// Dialect names the engine.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the database. Times are stored as Unix milliseconds (UTC) and
// dates as 'YYYY-MM-DD' text, identical on both engines.
type Store struct {
	Dialect Dialect
	r, w    *sql.DB
	now     func() time.Time
	dsn     string // SQLite: the connection string without transaction mode

	// Prepared read statements by SQL text: parsing a query costs more
	// than running it on the hot paths (gate decisions, lookups).
	stmtMu sync.RWMutex
	stmts  map[string]*sql.Stmt

	writes writeCounters
}

// maxStmts bounds the statement cache; queries built with variable IN
// lists would otherwise fill it.
const maxStmts = 512

func (s *Store) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	s.stmtMu.RLock()
	st := s.stmts[q]
	s.stmtMu.RUnlock()
	if st != nil {
		return st, nil
	}
	st, err := s.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if old := s.stmts[q]; old != nil {
		st.Close()
		return old, nil
	}
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	if len(s.stmts) < maxStmts {
		s.stmts[q] = st
	}
	return st, nil
}

// Open connects to the database named by a SHEQU_DB value. It does not
// migrate; call Migrate.
func Open(ctx context.Context, dsn string, now func() time.Time) (*Store, error) {
	d, err := config.DialectOf(dsn)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	s := &Store{Dialect: Dialect(d), now: now}
	switch s.Dialect {
	case SQLite:
		path := config.SQLitePath(dsn)
		if dir := filepath.Dir(path); dir != "" {
			if _, err := os.Stat(dir); err != nil {
				return nil, fmt.Errorf("database folder %s: %w", dir, err)
			}
		}
		// synchronous(FULL): an acknowledged write (a pass event, a
		// self-report) must survive power loss, not only a process crash.
		base := "file:" + (&url.URL{Path: path}).EscapedPath() +
			"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
		s.dsn = base
		if s.w, err = sql.Open("sqlite", base+"&_txlock=immediate"); err != nil {
			return nil, err
		}
		s.w.SetMaxOpenConns(1)
		s.w.SetConnMaxIdleTime(0)
		if s.r, err = sql.Open("sqlite", base+"&_pragma=query_only(1)"); err != nil {
			return nil, err
		}
		s.r.SetMaxOpenConns(8)
		s.r.SetMaxIdleConns(8)
	case Postgres:
		if s.w, err = sql.Open("pgx", withConnectTimeout(dsn)); err != nil {
			return nil, err
		}
		s.w.SetMaxOpenConns(20)
		s.w.SetMaxIdleConns(20)
		s.r = s.w
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// connectTimeout bounds each new PostgreSQL connection unless the URL sets
// connect_timeout: a server that does not answer (down, unreachable,
// restarting) fails a request within seconds instead of leaving it hanging.
const connectTimeout = "5"

func withConnectTimeout(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // pgx reports the bad URL
	}
	q := u.Query()
	if q.Get("connect_timeout") != "" {
		return dsn
	}
	q.Set("connect_timeout", connectTimeout)
	u.RawQuery = q.Encode()
	return u.String()
}

// Ping checks that the database answers (for /readyz).
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := s.w.PingContext(ctx); err != nil {
		return errs.Wrap(err, errs.Unavailable, "err.db_unavailable")
	}
	return nil
}

// Close releases all connections.
func (s *Store) Close() error {
	var err error
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	s.stmtMu.Unlock()
	if s.r != nil && s.r != s.w {
		err = s.r.Close()
	}
	if s.w != nil {
		err = errors.Join(err, s.w.Close())
	}
	return err
}

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// Tx is a write transaction. Write methods live on Tx so that several
// changes and their audit entry commit or fail together.
type Tx struct {
	tx *sql.Tx
	s  *Store
	// A statement run a second time in one transaction is prepared and
	// kept until the transaction ends: bulk writes (imports, the demo)
	// then skip parsing the SQL for every row.
	seen      map[string]bool
	stmts     map[string]*sql.Stmt
	written   map[string]bool // tables written, for Changes
	resyncIDs map[string]bool // people whose credentials devices must fetch again
	touched   map[string]bool // households whose members changed

	changedPeople map[string]bool        // people whose ledger record changed: one person.changed each
	hookSubs      *[]WebhookSubscription // active webhook subscriptions, read once
	hooks         []hookEvent            // webhook events, written just before commit
	roll          rollupMarks            // pass counts and dirty grids for the rollups (rollups.go)
}

// Write runs fn in one transaction and commits when fn returns nil.
func (s *Store) Write(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.classify(err)
	}
	tx := &Tx{tx: sqlTx, s: s}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.beforeCommit(ctx); err != nil {
		return err
	}
	if err = s.classify(sqlTx.Commit()); err == nil {
		tx.committed()
	}
	return err
}

// Now is the transaction's clock (the store's).
func (tx *Tx) Now() time.Time { return tx.s.now() }

func (tx *Tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	tx.noteWrite(q)
	if st := tx.stmts[q]; st != nil {
		r, err := st.ExecContext(ctx, args...)
		return r, tx.s.classify(err)
	}
	if tx.seen[q] {
		st, err := tx.tx.PrepareContext(ctx, q)
		if err != nil {
			return nil, tx.s.classify(err)
		}
		if tx.stmts == nil {
			tx.stmts = map[string]*sql.Stmt{}
		}
		tx.stmts[q] = st
		r, err := st.ExecContext(ctx, args...)
		return r, tx.s.classify(err)
	}
	if tx.seen == nil {
		tx.seen = map[string]bool{}
	}
	tx.seen[q] = true
	r, err := tx.tx.ExecContext(ctx, q, args...)
	return r, tx.s.classify(err)
}

func (tx *Tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	tx.noteWrite(q)
	rows, err := tx.tx.QueryContext(ctx, q, args...)
	return rows, tx.s.classify(err)
}

func (tx *Tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	tx.noteWrite(q)
	return tx.tx.QueryRowContext(ctx, q, args...)
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return s.r.QueryRowContext(ctx, q, args...) // reports the error the usual way
	}
	return st.QueryRowContext(ctx, args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, q)
	if err != nil {
		return nil, s.classify(err)
	}
	rows, err := st.QueryContext(ctx, args...)
	return rows, s.classify(err)
}

// column runs a query of one text column and returns its values in order.
func (s *Store) column(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// classify turns driver errors users can act on into coded errors.
func (s *Store) classify(err error) error { return Classify(err) }

// Classify turns driver errors users can act on into coded errors: a
// duplicate key, a full disk, a database that cannot be reached (refused,
// restarting, a connection cut). Other errors are returned as they are. The
// web layer's status map runs every error through it, so a read that
// returned a raw driver error is answered like a write.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errs.As(err); ok {
		return err
	}
	msg := err.Error()
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errs.Wrap(err, errs.NotFound, "err.not_found")
	case strings.Contains(msg, "UNIQUE constraint failed"), strings.Contains(msg, "SQLSTATE 23505"):
		return errs.Wrap(err, errs.Conflict, "err.duplicate")
	case strings.Contains(msg, "database or disk is full"), strings.Contains(msg, "SQLITE_FULL"), strings.Contains(msg, "SQLSTATE 53100"),
		strings.Contains(msg, "no space left on device"):
		return errs.Wrap(err, errs.Unavailable, "err.disk_full")
	case dbUnreachable(err, msg):
		return errs.Wrap(err, errs.Unavailable, "err.db_unavailable")
	}
	return err
}

// dbUnreachable tells errors that mean the database server is not there
// right now: refused or failed connections, a server starting up or shutting
// down (SQLSTATE class 57P, admin shutdown, crash, cannot connect now), a
// connection exception (class 08), a connection cut mid-request.
func dbUnreachable(err error, msg string) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	for _, s := range []string{"connection refused", "SQLSTATE 57P", "SQLSTATE 08", "conn closed", "broken pipe", "failed to connect",
		"connection reset", "unexpected EOF", "bad connection"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// ms stores a time as Unix milliseconds; the zero time is NULL.
func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

// fromMS reads a nullable millisecond column.
func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// RawForTest exposes the writer handle so tests can tamper with data the
// way someone with direct database access could.
func RawForTest(s *Store) *sql.DB { return s.w }

func errNotFound() error { return errs.E(errs.NotFound, "err.not_found") }
