package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"shequ/internal/errs"
)

//go:embed migrations
var migrationFS embed.FS

var blobType = regexp.MustCompile(`\bBLOB\b`)

type migration struct {
	version int
	name    string
	sql     string
}

// migrations reads the shared migration files (migrations/NNN_name.sql),
// one source for both engines. The only type that differs, BLOB, becomes
// BYTEA on PostgreSQL; a file of the same name under migrations/postgres
// replaces a shared one where the SQL must truly differ.
func (s *Store) migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, "migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with NNN_", name)
		}
		b, err := migrationFS.ReadFile(path.Join("migrations", name))
		if err != nil {
			return nil, err
		}
		sql := string(b)
		if s.Dialect == Postgres {
			if own, err := migrationFS.ReadFile(path.Join("migrations/postgres", name)); err == nil {
				sql = string(own)
			} else {
				sql = blobType.ReplaceAllString(sql, "BYTEA")
			}
		}
		ms = append(ms, migration{version: v, name: name, sql: sql})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: versions must run 1, 2, 3… without gaps", m.name)
		}
	}
	return ms, nil
}

// LatestVersion is the schema version this binary knows.
func (s *Store) LatestVersion() int {
	ms, _ := s.migrations()
	return len(ms)
}

// SchemaVersion reports the version the database is at (0 when empty).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return s.schemaVersion(ctx, s.w)
}

type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func (s *Store) schemaVersion(ctx context.Context, db queryer) (int, error) {
	var exists int
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if s.Dialect == Postgres {
		q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'`
	}
	if err := db.QueryRowContext(ctx, q).Scan(&exists); err != nil {
		return 0, s.classify(err)
	}
	if exists == 0 {
		return 0, nil
	}
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, s.classify(err)
	}
	return int(v.Int64), nil
}

// ErrSchemaNewer is returned when the database was written by a newer shequ.
var ErrSchemaNewer = errs.E(errs.Invalid, "err.schema_newer")

// Migrate applies pending migrations, one transaction each. It refuses,
// writing nothing, a database whose schema is newer than this binary.
// On PostgreSQL an advisory lock keeps two starting instances apart.
func (s *Store) Migrate(ctx context.Context) (applied int, err error) {
	ms, err := s.migrations()
	if err != nil {
		return 0, err
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return 0, s.classify(err)
	}
	defer conn.Close()
	if s.Dialect == Postgres {
		const lockID = 7413_2026 // arbitrary, constant: "shequ migrations"
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockID); err != nil {
			return 0, s.classify(err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockID)
	}
	current, err := s.schemaVersion(ctx, conn)
	if err != nil {
		return 0, err
	}
	if current > len(ms) {
		return 0, &errs.Error{Code: errs.Invalid, Key: "err.schema_newer", Args: []any{current, len(ms)},
			Err: fmt.Errorf("database schema version %d is newer than this binary's %d: upgrade shequ", current, len(ms))}
	}
	if current == len(ms) {
		return 0, nil
	}
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return 0, s.classify(err)
	}
	for _, m := range ms[current:] {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return applied, s.classify(err)
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
			m.version, m.name, s.now().UnixMilli()); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("migration %s: %w", m.name, err)
		}
		if err := tx.Commit(); err != nil {
			return applied, fmt.Errorf("migration %s: %w", m.name, err)
		}
		applied++
	}
	return applied, nil
}
