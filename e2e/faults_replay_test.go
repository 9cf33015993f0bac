package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"shequ/internal/gate"
	"shequ/internal/store"
)

// TestDeviceReplaysADay plays a gate that was offline for a day and then
// uploads its buffer: 24,000 events of the last 24 hours, in batches sent
// out of order by four connections at once, batches overlapping their
// neighbours by 100 events, some batches sent twice (a lost reply). Every
// event must be accepted exactly once and stored once with its own device
// time, the hourly pass rollup must grow by exactly the events, and the
// replay must raise no alarm: uploaded events are records of what the
// device did, and alarms come only from live decisions (docs/faults.md).
func TestDeviceReplaysADay(t *testing.T) {
	d := startDemoWith(t, demoOptions{People: 300})
	dev := newDeviceAPI(d.URL, d.Devices["HY-N-TURNSTILE"])
	s, err := store.Open(context.Background(), d.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := store.RawForTest(s)
	countOf := func(q string) int {
		t.Helper()
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	alarmsBefore := countOf(`SELECT count(*) FROM alarms`)
	rolledBefore := countOf(`SELECT COALESCE(sum(total), 0) FROM pass_hourly`)

	// A day of buffered events, one every 3.6 s: allowed in and out, some
	// denied for fever (which, live, would have raised an alarm), a few
	// sent to review.
	const total = 24_000
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now().Add(-24 * time.Hour).Truncate(time.Hour)
	perHour := map[int64]int{} // by device time
	events := make([]gate.PassEvent, total)
	for i := range events {
		at := start.Add(time.Duration(i) * 3600 * time.Millisecond)
		e := cardEvent(fmt.Sprintf("rp-%05d", i), at)
		switch i % 20 {
		case 0:
			e.Outcome, e.Reason, e.TemperatureC = "deny", "fever", 38.6
		case 1:
			e.Outcome, e.Reason, e.Credential = "review", "unknown_person", gate.Credential{Kind: "card", Value: "NOBODY-1"}
		case 2, 3, 4:
			e.Direction = "out"
		}
		events[i] = e
		perHour[at.UnixMilli()/3600000]++
	}

	// Batches of up to 1000: 900 of their own plus 100 of the next one,
	// shuffled within and sent in shuffled order; every seventh batch is
	// sent twice.
	var batches [][]gate.PassEvent
	for i := 0; i < total; i += 900 {
		b := append([]gate.PassEvent(nil), events[i:min(total, i+1000)]...)
		rng.Shuffle(len(b), func(x, y int) { b[x], b[y] = b[y], b[x] })
		batches = append(batches, b)
		if len(batches)%7 == 0 {
			batches = append(batches, b)
		}
	}
	rng.Shuffle(len(batches), func(x, y int) { batches[x], batches[y] = batches[y], batches[x] })
	var (
		mu       sync.Mutex
		accepted = map[string]int{}
		answered int
		wg       sync.WaitGroup
		next     = make(chan []gate.PassEvent)
	)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				r, a := dev.upload(b)
				if a.Err != nil || a.Status != 200 {
					t.Errorf("upload of %d events: %v", len(b), a)
					continue
				}
				if len(r.Rejected) > 0 {
					t.Errorf("events rejected: %v", r.Rejected)
				}
				mu.Lock()
				for _, id := range r.Accepted {
					accepted[id]++
				}
				answered += len(r.Accepted) + len(r.Duplicates)
				mu.Unlock()
			}
		}()
	}
	for _, b := range batches {
		next <- b
	}
	close(next)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	t.Logf("%d batches, %d events in them, %d accepted", len(batches), answered, len(accepted))

	// Each event accepted by exactly one answer, and all of them are.
	for _, e := range events {
		if accepted[e.EventID] != 1 {
			t.Fatalf("event %s accepted %d times", e.EventID, accepted[e.EventID])
		}
	}
	if len(accepted) != total {
		t.Fatalf("%d events accepted, want %d", len(accepted), total)
	}
	// A whole batch sent again after the replay: all duplicates.
	if r, a := dev.upload(events[:1000]); a.Status != 200 || len(r.Accepted) != 0 || len(r.Duplicates) != 1000 {
		t.Fatalf("a batch resent after the replay: %d accepted, %d duplicates (%v)", len(r.Accepted), len(r.Duplicates), a)
	}

	// Stored once each, with the device's own time, hour by hour.
	checkStoredOnce(t, s, dev, "rp-")
	rows, err := db.Query(`SELECT device_time / 3600000, count(*) FROM pass_events WHERE event_id LIKE 'rp-%' GROUP BY device_time / 3600000`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[int64]int{}
	for rows.Next() {
		var h int64
		var n int
		if err := rows.Scan(&h, &n); err != nil {
			t.Fatal(err)
		}
		stored[h] = n
	}
	rows.Close()
	if len(stored) != len(perHour) {
		t.Fatalf("events stored in %d hours of device time, sent in %d", len(stored), len(perHour))
	}
	for h, n := range perHour {
		if stored[h] != n {
			t.Errorf("hour %s (device time): %d sent, %d stored", time.UnixMilli(h*3600000).UTC().Format(time.RFC3339), n, stored[h])
		}
	}
	// The hourly rollup grew by exactly the replayed events and still
	// equals a count over the events (by the hour they were received).
	if got := countOf(`SELECT COALESCE(sum(total), 0) FROM pass_hourly`) - rolledBefore; got != total {
		t.Errorf("pass_hourly grew by %d, want %d", got, total)
	}
	checkPassHourly(t, s)
	// No alarms: not one per replayed fever denial, not twice for the
	// batches sent twice.
	if n := countOf(`SELECT count(*) FROM alarms`); n != alarmsBefore {
		t.Errorf("the replay raised %d alarms", n-alarmsBefore)
	}
}
