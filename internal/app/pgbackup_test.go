package app_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	osexec "os/exec"
	"path/filepath"
	"testing"
	"time"

	"shequ/internal/pii"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

// pgTool finds a PostgreSQL client program on PATH or in Debian's
// versioned folders.
func pgTool(t *testing.T, name string) string {
	t.Helper()
	if p, err := osexec.LookPath(name); err == nil {
		return p
	}
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(ms) > 0 {
		return ms[len(ms)-1]
	}
	testutil.SkipOrFail(t, name+" is not installed: PostgreSQL backup test skipped")
	return ""
}

// freshPGDatabase creates an empty database next to SHEQU_TEST_PG_URL's and
// returns its URL; it is dropped at cleanup.
func freshPGDatabase(t *testing.T, admin *sql.DB, base *url.URL) string {
	t.Helper()
	var b [5]byte
	rand.Read(b[:])
	name := "shequ_bk_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() { admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) })
	u := *base
	u.Path = "/" + name
	return u.String()
}

// TestPostgresDumpAndRestore populates a fresh PostgreSQL database through
// the program, backs it up with pg_dump -Fc, restores it with pg_restore
// into another fresh database, opens that with the program and the same key
// file and checks the data: counts, a decrypted identity number, the audit
// chain and the schema version. It runs whenever SHEQU_TEST_PG_URL is set
// (and fails in CI without it), as docs/deploy.md tells operators to do.
func TestPostgresDumpAndRestore(t *testing.T) {
	baseURL := os.Getenv("SHEQU_TEST_PG_URL")
	if baseURL == "" {
		testutil.SkipOrFail(t, "SHEQU_TEST_PG_URL is not set: PostgreSQL backup test skipped")
	}
	dump, restore := pgTool(t, "pg_dump"), pgTool(t, "pg_restore")
	base, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := sql.Open("pgx", baseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	src, dst := freshPGDatabase(t, admin, base), freshPGDatabase(t, admin, base)
	key := filepath.Join(t.TempDir(), "shequ.key")
	clock := testutil.NewClock(time.Date(2026, 11, 28, 1, 0, 0, 0, time.UTC))
	ctx := context.Background()

	a := openApp(t, "postgres", clock, src, key)
	want := map[string]string{}
	for i := range 50 {
		num := fmt.Sprintf("6104021990010100%02d", i)
		enc, err := a.Keys.EncryptString(num, "persons.id_number")
		if err != nil {
			t.Fatal(err)
		}
		p := store.Person{Name: "测试", IDEnc: enc, IDMask: pii.MaskID(num), Residency: "registered"}
		err = a.Store.Write(ctx, func(tx *store.Tx) error {
			if err := tx.CreatePerson(ctx, &p); err != nil {
				return err
			}
			return a.Audit.Append(ctx, tx, &store.AuditEntry{ActorName: "system", Action: "person.create", TargetType: "person", TargetID: p.ID})
		})
		if err != nil {
			t.Fatal(err)
		}
		want[p.ID] = num
	}
	file := filepath.Join(t.TempDir(), "shequ.dump")
	if out, err := osexec.Command(dump, "-Fc", "--no-owner", "-f", file, "-d", src).CombinedOutput(); err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	if out, err := osexec.Command(restore, "--no-owner", "--exit-on-error", "-d", dst, file).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}

	r := openApp(t, "postgres", clock, dst, key)
	if v, err := r.Store.SchemaVersion(ctx); err != nil || v != r.Store.LatestVersion() {
		t.Fatalf("schema version after restore: %d (want %d) %v", v, r.Store.LatestVersion(), err)
	}
	var n int
	store.RawForTest(r.Store).QueryRow(`SELECT count(*) FROM persons`).Scan(&n)
	if n != len(want) {
		t.Fatalf("%d people after restore, want %d", n, len(want))
	}
	for id, num := range want {
		p, err := r.Store.Person(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := r.Keys.DecryptString(p.IDEnc, "persons.id_number"); err != nil || got != num {
			t.Fatalf("identity number after restore: %q %v, want %q", got, err, num)
		}
	}
	if m, err := r.Audit.Verify(ctx, r.Store); err != nil || m != int64(len(want)) {
		t.Fatalf("audit chain after restore: %d entries, %v", m, err)
	}
}
