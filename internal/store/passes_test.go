package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"shequ/internal/store"
	"shequ/internal/testutil"
)

// A device's upload is stored with a statement per 200 events: every event
// is stored once, an event stored before or sent twice in the same batch
// is reported as not new, and the hourly pass counts follow what is new.
func TestInsertPassesStoresEachEventOnce(t *testing.T) {
	now := time.Date(2026, 11, 29, 7, 30, 0, 0, time.UTC)
	testutil.ForEachDB(t, func() time.Time { return now }, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		db := store.RawForTest(s)
		nowMS := now.UnixMilli()
		for _, q := range []string{
			`INSERT INTO org_nodes (id, level, code, name, path, created_at, updated_at) VALUES ('c1', 'community', '610402011001', '丰乐社区', '/c1/', $1, $1)`,
			`INSERT INTO users (id, username, display_name, kind, created_at, updated_at) VALUES ('u-device', 'dev1', '闸机', 'api', $1, $1)`,
			`INSERT INTO gates (id, community_id, code, name, kind, created_at) VALUES ('g1', 'c1', 'FL-N', '北门', 'turnstile', $1)`,
			`INSERT INTO devices (id, gate_id, user_id, name, created_at) VALUES ('d1', 'g1', 'u-device', '北门闸机', $1)`,
		} {
			if _, err := db.Exec(q, nowMS); err != nil {
				t.Fatal(err)
			}
		}
		pass := func(i int, outcome string) store.PassRecord {
			return store.PassRecord{DeviceID: "d1", GateID: "g1", EventID: fmt.Sprintf("e%d", i), Credential: "card",
				Outcome: outcome, Direction: "in", DeviceTime: now.Add(-time.Duration(i) * time.Second), ReceivedAt: now}
		}
		write := func(ps []store.PassRecord) []bool {
			t.Helper()
			var isNew []bool
			if err := s.Write(ctx, func(tx *store.Tx) (err error) {
				isNew, err = tx.InsertPasses(ctx, ps)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return isNew
		}
		// 10 events stored before, one at a time.
		var first []store.PassRecord
		for i := range 10 {
			first = append(first, pass(i, "allow"))
		}
		for i, n := range write(first) {
			if !n {
				t.Fatalf("event %d of a fresh batch reported as a duplicate", i)
			}
		}
		// A batch of 450 (three statements): events 0–9 again, 440 new of
		// which 40 denied, and event 300 a second time at the end.
		var batch []store.PassRecord
		for i := range 450 {
			outcome := "allow"
			if i >= 400 {
				outcome = "deny"
			}
			batch = append(batch, pass(i, outcome))
		}
		batch = append(batch, pass(300, "allow"))
		isNew := write(batch)
		for i, n := range isNew {
			want := i >= 10 && i < 450
			if n != want {
				t.Fatalf("batch position %d (event %s): new = %v, want %v", i, batch[i].EventID, n, want)
			}
		}
		var stored, distinct int
		db.QueryRow(`SELECT count(*), count(DISTINCT event_id) FROM pass_events WHERE device_id = 'd1'`).Scan(&stored, &distinct)
		if stored != 450 || distinct != 450 {
			t.Fatalf("%d events stored (%d distinct), want 450", stored, distinct)
		}
		var total, in, denied int
		db.QueryRow(`SELECT sum(total), sum(passes_in), sum(denied) FROM pass_hourly WHERE gate_id = 'g1'`).Scan(&total, &in, &denied)
		if total != 450 || in != 400 || denied != 50 {
			t.Fatalf("hourly counts: total %d, in %d, denied %d; want 450, 400, 50", total, in, denied)
		}
	})
}
