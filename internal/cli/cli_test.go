package cli

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"shequ/internal/store"
	"shequ/internal/testutil"
)

// run executes the CLI in-process with the given environment.
func run(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out bytes.Buffer
	errf, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer errf.Close()
	code := Main(&Env{Args: append([]string{"shequ"}, args...), Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: errf,
		Getenv: func(k string) string { return env[k] }})
	b, _ := os.ReadFile(errf.Name())
	return code, out.String(), string(b)
}

func TestStartupErrorsExitOneAndWriteNothing(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")

	code, _, stderr := run(t, map[string]string{"SHEQU_DB": "mysql://root@localhost/x"}, "", "migrate")
	if code != 1 || !strings.Contains(stderr, "SHEQU_DB") || !strings.Contains(stderr, "unsupported database scheme") {
		t.Fatalf("unknown scheme: code %d, %q", code, stderr)
	}

	// An unreadable key file (wrong permissions) stops start-up before the
	// database is created.
	key := filepath.Join(dir, "bad.key")
	os.WriteFile(key, []byte("k1 AAAA\n"), 0o644)
	code, _, stderr = run(t, map[string]string{"SHEQU_DB": db, "SHEQU_KEY_FILE": key}, "", "migrate")
	if code != 1 || !strings.Contains(stderr, "SHEQU_KEY_FILE") {
		t.Fatalf("bad key file: code %d, %q", code, stderr)
	}
	assertNoTables(t, db)

	// A good start creates the key and migrates.
	code, out, stderr := run(t, map[string]string{"SHEQU_DB": db}, "", "migrate")
	if code != 0 || !strings.Contains(out, "schema version") {
		t.Fatalf("migrate: %d %q %q", code, out, stderr)
	}
	if fi, err := os.Stat(filepath.Join(dir, "x.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file not created with mode 0600: %v %v", fi, err)
	}

	// A database written by a newer shequ is refused and left untouched.
	raw, _ := sql.Open("sqlite", db)
	raw.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`)
	raw.Close()
	before, _ := os.ReadFile(db)
	code, _, stderr = run(t, map[string]string{"SHEQU_DB": db}, "", "migrate")
	if code != 1 || !strings.Contains(stderr, "newer than this binary") {
		t.Fatalf("newer schema: code %d, %q", code, stderr)
	}
	after, _ := os.ReadFile(db)
	if !bytes.Equal(before, after) {
		t.Fatal("the newer database was modified")
	}

	// The wrong key for an existing database is refused.
	other := filepath.Join(dir, "other.key")
	run(t, map[string]string{"SHEQU_DB": filepath.Join(dir, "y.db"), "SHEQU_KEY_FILE": other}, "", "migrate")
	raw, _ = sql.Open("sqlite", db)
	raw.Exec(`DELETE FROM schema_migrations WHERE version = 999`)
	raw.Close()
	code, _, stderr = run(t, map[string]string{"SHEQU_DB": db, "SHEQU_KEY_FILE": other}, "", "migrate")
	if code != 1 || !strings.Contains(stderr, "not the key of this database") {
		t.Fatalf("wrong key: code %d, %q", code, stderr)
	}
	// A missing key for a database that has one is refused, not recreated.
	os.Remove(filepath.Join(dir, "x.key"))
	code, _, stderr = run(t, map[string]string{"SHEQU_DB": db}, "", "migrate")
	if code != 1 || !strings.Contains(stderr, "restore the key file") {
		t.Fatalf("missing key: code %d, %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.key")); err == nil {
		t.Fatal("a new key was made for a database encrypted with another")
	}
}

func assertNoTables(t *testing.T, db string) {
	t.Helper()
	if _, err := os.Stat(db); err != nil {
		return
	}
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	raw.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table'`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d tables were written", n)
	}
}

func TestUserCommandsAndAuditVerify(t *testing.T) {
	for _, engine := range testutil.Engines() {
		t.Run(engine, func(t *testing.T) {
			env := map[string]string{"SHEQU_DB": testutil.DSN(t, engine), "SHEQU_KEY_FILE": filepath.Join(t.TempDir(), "k.key")}
			csv := filepath.Join(t.TempDir(), "div.csv")
			os.WriteFile(csv, []byte("code,name\n610000000000,陕西省\n610400000000,咸阳市\n610402000000,秦都区\n610402011000,渭滨街道\n610402011002,丰乐社区\n"), 0o600)
			if code, out, stderr := run(t, env, "", "org", "import", csv); code != 0 || !strings.Contains(out, "5 created") {
				t.Fatalf("org import: %d %q %q", code, out, stderr)
			}
			code, out, stderr := run(t, env, "", "user", "add", "--username", "wang", "--name", "王芳", "--role", "staff", "--node", "610402011002")
			if code != 0 || !strings.Contains(out, "password: ") {
				t.Fatalf("user add: %d %q %q", code, out, stderr)
			}
			if code, _, stderr := run(t, env, "", "user", "add", "--username", "wang", "--name", "王芳", "--role", "staff", "--node", "610402011002"); code != 1 || !strings.Contains(stderr, "already taken") {
				t.Fatalf("duplicate user: %d %q", code, stderr)
			}
			if code, _, stderr := run(t, env, "", "user", "add", "--username", "li", "--name", "李", "--role", "king", "--node", "610402011002"); code != 1 || !strings.Contains(stderr, "Unknown role") {
				t.Fatalf("bad role: %d %q", code, stderr)
			}
			if code, out, _ := run(t, env, "new-password-123\n", "user", "set-password", "wang", "--password", "-"); code != 0 || !strings.Contains(out, "changed") {
				t.Fatalf("set-password: %d %q", code, out)
			}
			if code, out, _ := run(t, env, "", "user", "disable", "wang"); code != 0 || !strings.Contains(out, "disabled") {
				t.Fatalf("disable: %d %q", code, out)
			}
			code, out, _ = run(t, env, "", "user", "list")
			if code != 0 || !strings.Contains(out, "wang") || !strings.Contains(out, "disabled") || !strings.Contains(out, "staff@610402011002") {
				t.Fatalf("list: %d %q", code, out)
			}
			code, out, _ = run(t, env, "", "audit", "verify")
			if code != 0 || !strings.Contains(out, "intact: 4 entries") {
				t.Fatalf("audit verify: %d %q", code, out)
			}
			// Tampering makes verify fail and name the entry.
			s, err := store.Open(context.Background(), env["SHEQU_DB"], nil)
			if err != nil {
				t.Fatal(err)
			}
			store.RawForTest(s).Exec(`UPDATE audit_log SET action = 'user.enable' WHERE seq = 4`)
			s.Close()
			code, _, stderr = run(t, env, "", "audit", "verify")
			if code != 1 || !strings.Contains(stderr, "broken at entry 4") {
				t.Fatalf("tampered verify: %d %q", code, stderr)
			}
		})
	}
}

func TestBackupMakesAUsableCopy(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"SHEQU_DB": filepath.Join(dir, "a.db")}
	run(t, env, "", "migrate")
	out := filepath.Join(dir, "copy.db")
	if code, o, e := run(t, env, "", "backup", out); code != 0 {
		t.Fatalf("backup: %d %q %q", code, o, e)
	}
	copyEnv := map[string]string{"SHEQU_DB": out, "SHEQU_KEY_FILE": filepath.Join(dir, "a.key")}
	if code, o, e := run(t, copyEnv, "", "migrate"); code != 0 || !strings.Contains(o, "schema version") {
		t.Fatalf("restored copy: %d %q %q", code, o, e)
	}
	if code, _, _ := run(t, env, "", "backup", out); code != 1 {
		t.Fatal("backup overwrote an existing file")
	}
}

func TestHelpAndUnknownCommand(t *testing.T) {
	if code, out, _ := run(t, nil, "", "help"); code != 0 || !strings.Contains(out, "demo") {
		t.Fatalf("help: %d %q", code, out)
	}
	if code, _, stderr := run(t, nil, "", "frobnicate"); code != 2 || !strings.Contains(stderr, "unknown command") {
		t.Fatalf("unknown: %d %q", code, stderr)
	}
	if code, out, _ := run(t, nil, "", "version"); code != 0 || !strings.HasPrefix(out, "shequ ") {
		t.Fatalf("version: %d %q", code, out)
	}
}
