package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"shequ/internal/app"
	"shequ/internal/config"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// writer keeps adding people with an encrypted identity number, each with
// its audit entry, as a busy server does, and remembers which writes were
// acknowledged (committed).
type writer struct {
	mu    sync.Mutex
	acked map[string]string // person id → identity number
	err   error
}

func (w *writer) run(ctx context.Context, a *app.App) {
	for i := 0; ctx.Err() == nil; i++ {
		num := fmt.Sprintf("61040219900101%04d", i%10000)
		enc, err := a.Keys.EncryptString(num, "persons.id_number")
		if err != nil {
			w.fail(err)
			return
		}
		p := store.Person{Name: "测试", IDEnc: enc, IDMask: pii.MaskID(num), Residency: "registered"}
		err = a.Store.Write(ctx, func(tx *store.Tx) error {
			if err := tx.CreatePerson(ctx, &p); err != nil {
				return err
			}
			return a.Audit.Append(ctx, tx, &store.AuditEntry{ActorName: "system", Action: "person.create", TargetType: "person", TargetID: p.ID})
		})
		if err != nil {
			if ctx.Err() == nil {
				w.fail(err)
			}
			return
		}
		w.mu.Lock()
		w.acked[p.ID] = num
		w.mu.Unlock()
	}
}

func (w *writer) fail(err error) {
	w.mu.Lock()
	w.err = err
	w.mu.Unlock()
}

func (w *writer) snapshot() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]string, len(w.acked))
	for k, v := range w.acked {
		out[k] = v
	}
	return out
}

// waitFor waits until the writer has acknowledged more than n writes.
func (w *writer) waitFor(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		w.mu.Lock()
		got, err := len(w.acked), w.err
		w.mu.Unlock()
		if err != nil {
			t.Fatal(err)
		}
		if got > n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the writer acknowledged only %d writes", got)
		}
	}
}

// TestBackupWhileWritingRestoresEverythingAcknowledged runs the program
// writing without pause, takes `shequ backup --to` in the middle, restores
// it with `shequ restore --from` into a new place, opens that with the
// program and checks: integrity, schema version, every write acknowledged
// before the backup started is there, encrypted fields decrypt with the
// same key file, and the audit chain verifies. It also checks what restore
// refuses: the live database while in use, an existing one without
// --force, a damaged file, and a wrong or missing key file.
func TestBackupWhileWritingRestoresEverythingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	key := filepath.Join(dir, "live.key")
	cfg := config.Default()
	cfg.DB, cfg.KeyFile = live, key
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	w := &writer{acked: map[string]string{}}
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx, a) }()

	w.waitFor(t, 200)
	before := w.snapshot() // acknowledged before the backup starts
	out := filepath.Join(dir, "backups", "shequ-1.db")
	os.Mkdir(filepath.Dir(out), 0o700)
	env := map[string]string{"SHEQU_DB": live, "SHEQU_KEY_FILE": key}
	code, stdout, stderr := run(t, env, "", "backup", "--to", out)
	if code != 0 || !strings.Contains(stdout, "integrity ok") || !strings.Contains(stdout, key) {
		t.Fatalf("backup: %d %q %q", code, stdout, stderr)
	}
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file mode: %v %v", st, err)
	}
	w.waitFor(t, len(before)+200) // the server went on writing
	cancel()
	<-done

	// Restore refuses the live database: a server has it open.
	code, _, stderr = run(t, env, "", "restore", "--from", out)
	if code != 1 || !strings.Contains(stderr, "in use") || !strings.Contains(stderr, "--force") {
		t.Fatalf("restore over the live database: %d %q", code, stderr)
	}
	// A damaged backup is refused before anything is written.
	bad := filepath.Join(dir, "bad.db")
	b, _ := os.ReadFile(out)
	for i := 4096 * 3; i < 4096*6 && i < len(b); i++ {
		b[i] ^= 0x5a
	}
	os.WriteFile(bad, b, 0o600)
	fresh := filepath.Join(dir, "restored", "shequ.db")
	os.Mkdir(filepath.Dir(fresh), 0o700)
	renv := map[string]string{"SHEQU_DB": fresh, "SHEQU_KEY_FILE": key}
	code, _, stderr = run(t, renv, "", "restore", "--from", bad)
	if code != 1 || !(strings.Contains(stderr, "integrity") || strings.Contains(stderr, "malformed") || strings.Contains(stderr, "not a readable")) {
		t.Fatalf("damaged backup: %d %q", code, stderr)
	}
	// A missing or different key file is refused: the data could not be read.
	code, _, stderr = run(t, map[string]string{"SHEQU_DB": fresh, "SHEQU_KEY_FILE": filepath.Join(dir, "nokey.key")}, "", "restore", "--from", out)
	if code != 1 || !strings.Contains(stderr, "key file") || !strings.Contains(stderr, "missing") {
		t.Fatalf("missing key: %d %q", code, stderr)
	}
	other := filepath.Join(dir, "other.key")
	if _, err := pii.CreateKeyFile(other); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = run(t, map[string]string{"SHEQU_DB": fresh, "SHEQU_KEY_FILE": other}, "", "restore", "--from", out)
	if code != 1 || !strings.Contains(stderr, "encrypted with key") {
		t.Fatalf("wrong key: %d %q", code, stderr)
	}
	if _, err := os.Stat(fresh); err == nil {
		t.Fatal("a refused restore left a database behind")
	}

	code, stdout, stderr = run(t, renv, "", "restore", "--from", out)
	if code != 0 || !strings.Contains(stdout, "integrity ok") {
		t.Fatalf("restore: %d %q %q", code, stdout, stderr)
	}
	if st, err := os.Stat(fresh); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("restored file mode: %v %v", st, err)
	}
	// Once there, it is not overwritten without --force.
	code, _, stderr = run(t, renv, "", "restore", "--from", out)
	if code != 1 || !strings.Contains(stderr, "already exists") {
		t.Fatalf("second restore: %d %q", code, stderr)
	}

	// Open the restored copy with the program, with the same key file.
	rcfg := config.Default()
	rcfg.DB, rcfg.KeyFile = fresh, key
	r, err := app.Open(context.Background(), rcfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rctx := context.Background()
	if v, err := r.Store.SchemaVersion(rctx); err != nil || v != r.Store.LatestVersion() {
		t.Fatalf("schema version of the restored copy: %d (want %d) %v", v, r.Store.LatestVersion(), err)
	}
	var check string
	store.RawForTest(r.Store).QueryRow(`PRAGMA integrity_check`).Scan(&check)
	if check != "ok" {
		t.Fatalf("integrity of the restored copy: %q", check)
	}
	for id, num := range before {
		p, err := r.Store.Person(rctx, id)
		if err != nil {
			t.Fatalf("person %s, acknowledged before the backup, is missing: %v", id, err)
		}
		got, err := r.Keys.DecryptString(p.IDEnc, "persons.id_number")
		if err != nil || got != num {
			t.Fatalf("identity number of %s: %q %v, want %q", id, got, err, num)
		}
	}
	var inBackup, inLive int
	store.RawForTest(r.Store).QueryRow(`SELECT count(*) FROM persons`).Scan(&inBackup)
	store.RawForTest(a.Store).QueryRow(`SELECT count(*) FROM persons`).Scan(&inLive)
	if inBackup < len(before) || inBackup >= inLive {
		t.Fatalf("the backup holds %d people: acknowledged before it %d, live now %d", inBackup, len(before), inLive)
	}
	if n, err := r.Audit.Verify(rctx, r.Store); err != nil || n < int64(len(before)) {
		t.Fatalf("audit chain of the restored copy: %d entries, %v", n, err)
	}
}

// TestAuditVerifyAfterRetention: once the retention purge has removed the
// start of the audit chain, `shequ audit verify` still passes and says
// which entries were purged.
func TestAuditVerifyAfterRetention(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DB, cfg.KeyFile = filepath.Join(dir, "a.db"), filepath.Join(dir, "a.key")
	at := time.Now().Add(-cfg.Retention.Audit - time.Hour)
	clock := func() time.Time { return at }
	ctx := context.Background()
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), clock)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := a.Audit.Record(ctx, a.Store, &store.AuditEntry{Action: "login"}); err != nil {
			t.Fatal(err)
		}
	}
	at = time.Now()
	if p, err := a.Retention(ctx); err != nil || p["audit"] != 3 {
		t.Fatalf("retention: %v %v", p, err)
	}
	a.Close()
	code, out, stderr := run(t, map[string]string{"SHEQU_DB": cfg.DB, "SHEQU_KEY_FILE": cfg.KeyFile}, "", "audit", "verify")
	if code != 0 || !strings.Contains(out, "from entry 4") || !strings.Contains(out, "1–3 were purged") {
		t.Fatalf("audit verify: %d %q %q", code, out, stderr)
	}
}
