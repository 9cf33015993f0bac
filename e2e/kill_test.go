package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"shequ/internal/gate"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

// TestKilledServerLosesNoAcknowledgedEvent uploads pass events from 8
// devices' worth of goroutines, kills the server with SIGKILL mid-stream,
// starts it again on the same database, lets the devices resend what was
// not acknowledged, and checks that every acknowledged event is stored
// exactly once. It runs on SQLite and on PostgreSQL (a fresh schema of
// SHEQU_TEST_PG_URL's database).
func TestKilledServerLosesNoAcknowledgedEvent(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { killDuringUpload(t, startDemo(t)) })
	t.Run("postgres", func(t *testing.T) {
		db := testutil.DSN(t, "postgres")
		killDuringUpload(t, startDemoWith(t, demoOptions{DB: db, People: 300}))
	})
}

func killDuringUpload(t *testing.T, d *demo) {
	token := d.Devices["HY-N-TURNSTILE"]
	var (
		mu    sync.Mutex
		acked = map[string]bool{}
		sent  = map[string]bool{}
	)
	upload := func(url string, evs []gate.PassEvent) error {
		b, _ := json.Marshal(gate.EventsRequest{Events: evs})
		req, _ := http.NewRequest("POST", url+"/api/device/v1/events", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		var r gate.EventsResponse
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			return err
		}
		mu.Lock()
		for _, id := range append(r.Accepted, r.Duplicates...) {
			acked[id] = true
		}
		mu.Unlock()
		return nil
	}
	batch := func(w, n int) []gate.PassEvent {
		evs := make([]gate.PassEvent, 100)
		for i := range evs {
			id := fmt.Sprintf("k-%d-%d-%d", w, n, i)
			evs[i] = gate.PassEvent{EventID: id, Credential: gate.Credential{Kind: "card", Value: "HY10000001"}, Outcome: "allow",
				TemperatureC: 36.5, DeviceTime: time.Now().UTC()}
			mu.Lock()
			sent[id] = true
			mu.Unlock()
		}
		return evs
	}
	start := time.Now()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				if upload(d.URL, batch(w, n)) != nil {
					return // the server died under us
				}
			}
		}(w)
	}
	time.Sleep(1500 * time.Millisecond)
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	d.cmd.Wait()
	mu.Lock()
	ackedBefore := len(acked)
	mu.Unlock()
	t.Logf("acknowledged %d events (%.0f/s) before SIGKILL", ackedBefore, float64(ackedBefore)/time.Since(start).Seconds())
	if ackedBefore == 0 {
		t.Fatal("nothing was acknowledged before the kill")
	}

	// Start again on the same database and resend what is unacknowledged.
	addr := freeAddr(t)
	srv := exec.Command(shequBin, "serve", "--addr", addr, "--db", d.DB, "--key-file", d.Key)
	srv.Dir = filepath.Dir(d.Key)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	url := "http://" + addr
	waitHealthy(t, url)
	var pending []gate.PassEvent
	mu.Lock()
	for id := range sent {
		if !acked[id] {
			pending = append(pending, gate.PassEvent{EventID: id, Credential: gate.Credential{Kind: "card", Value: "HY10000001"},
				Outcome: "allow", DeviceTime: time.Now().UTC()})
		}
	}
	mu.Unlock()
	// Devices also resend some acknowledged ones (lost answers): still once.
	pending = append(pending, gate.PassEvent{EventID: "k-0-0-0", Credential: gate.Credential{Kind: "card", Value: "HY10000001"}, Outcome: "allow", DeviceTime: time.Now().UTC()})
	for i := 0; i < len(pending); i += 500 {
		if err := upload(url, pending[i:min(len(pending), i+500)]); err != nil {
			t.Fatalf("resend: %v", err)
		}
	}
	s, err := store.Open(context.Background(), d.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := store.RawForTest(s).Query(`SELECT event_id, count(*) FROM pass_events WHERE event_id LIKE 'k-%' GROUP BY event_id`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		rows.Scan(&id, &n)
		stored[id] = n
	}
	rows.Close()
	mu.Lock()
	defer mu.Unlock()
	for id := range acked {
		if stored[id] != 1 {
			t.Fatalf("acknowledged event %s stored %d times", id, stored[id])
		}
	}
	if len(stored) != len(sent) {
		t.Fatalf("%d distinct events stored, %d sent", len(stored), len(sent))
	}
}

func waitHealthy(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not become healthy", url)
}
