package app_test

import (
	"context"
	"os"
	"testing"
	"time"

	"shequ/internal/store"
	"shequ/internal/testutil"
)

// TestPartitionedPassEventsOnPostgres applies docs/deploy.md's city-scale
// layout (scripts/postgres/partition-passes.sql) to a migrated database
// holding a pass event, then checks that the program works on it: events
// are stored in their month, a retried upload is still stored once, the
// daily purge still deletes by age, and retention by dropping whole months
// removes the old months and keeps the current one.
func TestPartitionedPassEventsOnPostgres(t *testing.T) {
	script, err := os.ReadFile("../../scripts/postgres/partition-passes.sql")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now()
	clock := testutil.NewClock(now)
	a := openApp(t, "postgres", clock, "", "")
	db := store.RawForTest(a.Store)
	nowMS := now.UnixMilli()
	exec(t, db, `INSERT INTO org_nodes (id, level, code, name, path, created_at, updated_at) VALUES ('c1', 'community', '610402011001', '丰乐社区', '/c1/', $1, $1)`, nowMS)
	exec(t, db, `INSERT INTO users (id, username, display_name, kind, created_at, updated_at) VALUES ('u-device', 'dev1', '闸机', 'api', $1, $1)`, nowMS)
	exec(t, db, `INSERT INTO gates (id, community_id, code, name, kind, created_at) VALUES ('g1', 'c1', 'FL-N', '北门', 'turnstile', $1)`, nowMS)
	exec(t, db, `INSERT INTO devices (id, gate_id, user_id, name, created_at) VALUES ('d1', 'g1', 'u-device', '北门闸机', $1)`, nowMS)
	insert := func(eventID string, at time.Time) bool {
		t.Helper()
		var isNew bool
		err := a.Store.Write(ctx, func(tx *store.Tx) error {
			var err error
			isNew, err = tx.InsertPass(ctx, &store.PassRecord{DeviceID: "d1", GateID: "g1", EventID: eventID, Credential: "card",
				Outcome: "allow", Direction: "in", DeviceTime: at, ReceivedAt: at})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return isNew
	}
	old := now.AddDate(0, -4, 0)
	if !insert("e-old", old) {
		t.Fatal("first event not stored")
	}

	if _, err := db.Exec(string(script)); err != nil {
		t.Fatalf("partition script: %v", err)
	}
	var parts int
	db.QueryRow(`SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent
		WHERE p.relname = 'pass_events' AND p.relnamespace = current_schema()::regnamespace`).Scan(&parts)
	if parts < 4 { // the old event's month, this month, two ahead, the default
		t.Fatalf("%d partitions", parts)
	}
	if !insert("e-now", now) {
		t.Fatal("new event not stored in the partitioned table")
	}
	if insert("e-now", now) {
		t.Fatal("a retried upload was stored twice")
	}
	var where string
	db.QueryRow(`SELECT tableoid::regclass::text FROM pass_events WHERE event_id = 'e-old'`).Scan(&where)
	if want := "pass_events_" + old.In(time.FixedZone("CST", 8*3600)).Format("2006_01"); where != want {
		t.Fatalf("old event in %q, want %q", where, want)
	}

	// The daily purge still works on the partitioned table.
	if n, err := a.PurgePasses(ctx); err != nil || n != 1 {
		t.Fatalf("row purge: %d %v", n, err)
	}
	// Retention by whole months: the old month goes, this one stays.
	var dropped int
	if err := db.QueryRow(`SELECT shequ_drop_months(CURRENT_DATE - 90)`).Scan(&dropped); err != nil || dropped < 1 {
		t.Fatalf("dropped %d months: %v", dropped, err)
	}
	var left int
	db.QueryRow(`SELECT count(*) FROM pass_events`).Scan(&left)
	if left != 1 {
		t.Fatalf("%d events left, want this month's one", left)
	}
	if err := db.QueryRow(`SELECT count(*) FROM ` + where).Scan(&left); err == nil {
		t.Fatalf("the old month's partition %s is still there", where)
	}
}
