package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"

	"shequ/internal/config"
)

// BackupInfo describes a SQLite backup file, read from the file itself.
type BackupInfo struct {
	Path           string
	Version        int    // schema version
	KeyFingerprint string // the data key the backup was encrypted with
	Cipher         string // the field-encryption suite
	Bytes          int64
}

// BackupFile writes a consistent copy of the live SQLite database to path
// while the server goes on writing: VACUUM INTO reads one snapshot in a
// read transaction of its own (WAL readers never block the writer, nor the
// writer them), so the copy holds every transaction committed before it
// started and nothing of those after. The copy is written beside path,
// synced, checked (PRAGMA integrity_check) and only then renamed to path.
// PostgreSQL is backed up with pg_dump (docs/deploy.md).
func (s *Store) BackupFile(ctx context.Context, path string) (BackupInfo, error) {
	if s.Dialect != SQLite {
		return BackupInfo{}, errors.New("PostgreSQL databases are backed up with pg_dump -Fc (see docs/deploy.md)")
	}
	if _, err := os.Stat(path); err == nil {
		return BackupInfo{}, fmt.Errorf("%s already exists: choose a new name", path)
	}
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".partial")
	os.Remove(tmp)
	// A connection of its own: readers are query-only and the writer must
	// stay free while the copy is made.
	db, err := sql.Open("sqlite", s.dsn)
	if err != nil {
		return BackupInfo{}, err
	}
	defer db.Close()
	if _, err = db.ExecContext(ctx, `VACUUM INTO $1`, tmp); err != nil {
		os.Remove(tmp)
		return BackupInfo{}, s.classify(err)
	}
	// Personal data: readable by the owner only, whatever the umask.
	if err := os.Chmod(tmp, 0o600); err != nil {
		os.Remove(tmp)
		return BackupInfo{}, err
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return BackupInfo{}, err
	}
	info, err := CheckBackup(ctx, tmp)
	if err != nil {
		os.Remove(tmp)
		return BackupInfo{}, err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return BackupInfo{}, err
	}
	info.Path = path
	return info, syncDir(filepath.Dir(path))
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = f.Sync()
	return errors.Join(err, f.Close())
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	f.Sync() // not every file system syncs directories; the rename is still atomic
	return f.Close()
}

// sqliteURI is a file: URI for path with extra query parameters.
func sqliteURI(path, query string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + query
}

// CheckBackup opens a SQLite backup read-only and checks it: PRAGMA
// integrity_check must say ok, and its schema must be one this binary
// knows. It reads which key and cipher suite the data was written with.
func CheckBackup(ctx context.Context, path string) (BackupInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, err
	}
	db, err := sql.Open("sqlite", sqliteURI(path, "mode=ro"))
	if err != nil {
		return BackupInfo{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var problems []string
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("%s is not a readable SQLite database: %w", path, err)
	}
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return BackupInfo{}, err
		}
		problems = append(problems, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return BackupInfo{}, fmt.Errorf("%s: integrity check: %w", path, err)
	}
	if len(problems) != 1 || problems[0] != "ok" {
		if len(problems) > 5 {
			problems = append(problems[:5], "…")
		}
		return BackupInfo{}, fmt.Errorf("%s fails the integrity check: %s", path, strings.Join(problems, "; "))
	}
	probe := &Store{Dialect: SQLite}
	v, err := probe.schemaVersion(ctx, db)
	if err != nil {
		return BackupInfo{}, err
	}
	if v == 0 {
		return BackupInfo{}, fmt.Errorf("%s holds no shequ schema", path)
	}
	if latest := probe.LatestVersion(); v > latest {
		return BackupInfo{}, fmt.Errorf("%s has schema version %d, newer than this binary (%d): restore it with a newer shequ", path, v, latest)
	}
	info := BackupInfo{Path: path, Version: v, Bytes: st.Size()}
	for key, dst := range map[string]*string{"key_fingerprint": &info.KeyFingerprint, "cipher_suite": &info.Cipher} {
		err := db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(dst)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return BackupInfo{}, err
		}
	}
	return info, nil
}

// ErrInUse means the database to restore over is open in another process
// (or connection): a server is probably running on it.
var ErrInUse = errors.New("the database is in use (is shequ serve running on it?)")

// InUse reports whether any connection has the SQLite database at path
// open: in WAL mode every open connection holds a shared lock, so an
// exclusive lock taken without waiting fails while anyone else is there.
func InUse(ctx context.Context, path string) (bool, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	db, err := sql.Open("sqlite", sqliteURI(path, "_pragma=busy_timeout(0)&_pragma=locking_mode(EXCLUSIVE)"))
	if err != nil {
		return false, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.ExecContext(ctx, `BEGIN EXCLUSIVE`)
	if err != nil {
		if strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "locked") {
			return true, nil
		}
		return false, err
	}
	_, err = db.ExecContext(ctx, `ROLLBACK`)
	return false, err
}

// RestoreOptions guard a restore.
type RestoreOptions struct {
	// Force overwrites an existing database, even one in use; a running
	// server then sees the restored data (the copy goes through SQLite's
	// locks, page by page, in one write transaction).
	Force bool
	// Accept, when set, vets the checked backup before anything is
	// written (the CLI compares its key with the key file).
	Accept func(BackupInfo) error
}

// Restore checks the backup at from (CheckBackup) and copies it into the
// SQLite database named by dsn with SQLite's online backup API, which goes
// through the destination's locks and its WAL, then checks the result. An
// existing database is refused unless opt.Force.
func Restore(ctx context.Context, from, dsn string, opt RestoreOptions) (BackupInfo, error) {
	if d, err := config.DialectOf(dsn); err != nil || d != "sqlite" {
		return BackupInfo{}, errors.New("restore works on SQLite databases; PostgreSQL is restored with pg_restore (docs/deploy.md)")
	}
	info, err := CheckBackup(ctx, from)
	if err != nil {
		return info, err
	}
	if opt.Accept != nil {
		if err := opt.Accept(info); err != nil {
			return info, err
		}
	}
	to := config.SQLitePath(dsn)
	if same(from, to) {
		return info, fmt.Errorf("%s is the database itself", from)
	}
	if st, err := os.Stat(to); err == nil && st.Size() > 0 && !opt.Force {
		busy, err := InUse(ctx, to)
		if err != nil {
			return info, err
		}
		if busy {
			return info, fmt.Errorf("%s: %w; stop it first, or give --force to overwrite it while it runs", to, ErrInUse)
		}
		return info, fmt.Errorf("%s already exists; give --force to overwrite it", to)
	}
	if _, err := os.Stat(to); errors.Is(err, os.ErrNotExist) {
		// Created private: it holds personal data.
		f, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return info, err
		}
		f.Close()
	}
	db, err := sql.Open("sqlite", sqliteURI(to, "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"))
	if err != nil {
		return info, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return info, err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		r, ok := dc.(interface {
			NewRestore(string) (*sqlite.Backup, error)
		})
		if !ok {
			return errors.New("the SQLite driver has no backup API")
		}
		b, err := r.NewRestore(sqliteURI(from, "mode=ro"))
		if err != nil {
			return err
		}
		// All pages in one step: one write transaction on the destination.
		if _, err := b.Step(-1); err != nil {
			b.Finish()
			return err
		}
		return b.Finish()
	})
	if err != nil {
		return info, fmt.Errorf("restoring %s into %s: %w", from, to, err)
	}
	var check string
	if err := conn.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		return info, fmt.Errorf("the restored database fails the integrity check: %s %v", check, err)
	}
	return info, nil
}

func same(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
