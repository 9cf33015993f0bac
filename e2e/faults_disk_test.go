package e2e

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"shequ/internal/gate"
	"shequ/internal/store"
)

// mountTmpfs mounts a tmpfs of size (e.g. "64m") on a new folder and
// unmounts it when the test ends (after the cleanups registered later,
// such as the server's).
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		needOrSkip(t, "mounting a small tmpfs needs root")
	}
	dir, err := os.MkdirTemp("", "shequ-diskfull-")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		os.Remove(dir)
		needOrSkip(t, fmt.Sprintf("mount -t tmpfs failed (a container without CAP_SYS_ADMIN?): %v %s", err, out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v %s; detaching it", dir, err, out)
			exec.Command("umount", "-l", dir).Run()
		}
		os.Remove(dir)
	})
	return dir
}

// fillDisk writes a file into dir until the file system is full, then
// gives back leave bytes; it returns the file's path.
func fillDisk(t *testing.T, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	var n int64
	for {
		w, err := f.Write(chunk)
		n += int64(w)
		if err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v", dir, err)
			}
			break
		}
	}
	if err := f.Truncate(max(0, n-leave)); err != nil {
		t.Fatal(err)
	}
	t.Logf("filled %s with %d MiB, leaving %d KiB", dir, n>>20, leave>>10)
	return path
}

// TestSQLiteDiskFull runs the server on a SQLite database on a small
// tmpfs, fills the file system and keeps uploading pass events until
// writes fail. Writes must get 503 with the translated "disk is full"
// message while the process keeps serving reads; once space is freed the
// same process writes again, every acknowledged event is stored once, and
// PRAGMA integrity_check says ok.
func TestSQLiteDiskFull(t *testing.T) {
	mnt := mountTmpfs(t, "160m")
	d := startDemoWith(t, demoOptions{Dir: mnt, People: 300})
	dev := newDeviceAPI(d.URL, d.Devices["HY-N-TURNSTILE"])
	staff := webLogin(t, d.URL, d.Logins["staff"])
	filler := fillDisk(t, mnt, 2<<20)

	// Upload events with 64 KiB snapshots until the disk is full.
	snap := make([]byte, 64<<10)
	var full answer
	n := 0
	for ; n < 2000; n++ {
		evs := make([]gate.PassEvent, 8)
		for i := range evs {
			rand.Read(snap)
			evs[i] = cardEvent(fmt.Sprintf("df-%d-%d", n, i), time.Now())
			evs[i].Snapshot = append([]byte(nil), snap...)
		}
		_, a := dev.upload(evs)
		if a.Err != nil {
			t.Fatalf("upload %d: %v", n, a)
		}
		if a.Status != 200 {
			full = a
			break
		}
	}
	sent, acked := dev.counts()
	t.Logf("the disk was full after %d uploads (%d events sent, %d acknowledged)", n, sent, acked)
	if full.Status == 0 {
		t.Fatalf("the disk never filled up after %d uploads", n)
	}
	// A clear, translated error, in JSON, and the process stays up.
	if e, ok := jsonError(full); (full.Status != http.StatusServiceUnavailable && full.Status != http.StatusInsufficientStorage) ||
		!ok || e.Error.Message != tr("zh", "err.disk_full") {
		t.Fatalf("upload on a full disk: want 503/507 with %q, got %v", tr("zh", "err.disk_full"), full)
	}
	dev.Lang = "en"
	_, a := dev.upload([]gate.PassEvent{cardEvent("df-probe-en", time.Now())})
	dev.Lang = "zh-CN"
	if e, _ := jsonError(a); a.Status == 200 || e.Error.Message != tr("en", "err.disk_full") {
		// A small event may still fit where a large one did not; then it
		// was stored and acknowledged, which is as good.
		if a.Status != 200 {
			t.Fatalf("upload on a full disk, in English: want %q, got %v", tr("en", "err.disk_full"), a)
		}
	}
	// Reads still work: the process is alive, pages and the device's
	// credential sync answer.
	if a := roundTrip(faultClient, mustRequest("GET", d.URL+"/healthz")); a.Status != 200 {
		t.Fatalf("/healthz with the disk full: %v", a)
	}
	for _, p := range []string{"/gates", "/gates/passes", "/"} {
		if a := staff.get(p); a.Status != 200 {
			t.Errorf("GET %s with the disk full: %v", p, a)
		}
	}
	syncReq := mustRequest("GET", d.URL+"/api/device/v1/sync?cursor=0&limit=10")
	syncReq.Header.Set("Authorization", "Bearer "+dev.Token)
	if a := roundTrip(faultClient, syncReq); a.Status != 200 || !strings.Contains(a.Body, `"changes"`) {
		t.Errorf("device sync with the disk full: %v", a)
	}

	// Free the space: the same process writes again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	var after answer
	for i := 0; i < 20; i++ {
		if _, after = dev.upload([]gate.PassEvent{cardEvent(fmt.Sprintf("df-after-%d", i), time.Now())}); after.Status == 200 {
			break
		}
		time.Sleep(250 * time.Millisecond) // a checkpoint may be finishing
	}
	if after.Status != 200 {
		t.Fatalf("upload after freeing space: %v", after)
	}
	dev.resendAll(t)
	if a := staff.get("/gates"); a.Status != 200 {
		t.Fatalf("GET /gates after freeing space: %v", a)
	}

	// No corruption, and every event once.
	s, err := store.Open(context.Background(), d.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var check string
	if err := store.RawForTest(s).QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("PRAGMA integrity_check: %q, %v", check, err)
	}
	checkStoredOnce(t, s, dev, "df-")
	checkPassHourly(t, s)
}
