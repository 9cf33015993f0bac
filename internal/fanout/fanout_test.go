package fanout_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"shequ/internal/fanout"
	"shequ/internal/gate"
	"shequ/internal/testutil"
)

// instance is one process's hub joined to the shared database.
type instance struct {
	hub   *gate.Hub
	relay *fanout.Relay
	got   <-chan gate.AlarmEvent
}

func start(tb testing.TB, ctx context.Context, dsn string) instance {
	tb.Helper()
	r, err := fanout.New(dsn, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	hub := gate.NewHub()
	fanout.Alarms(r, hub)
	if err := r.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	ch, stop := hub.Subscribe(nil)
	tb.Cleanup(stop)
	return instance{hub: hub, relay: r, got: ch}
}

// until reads alarms from ch until one with id arrives, and returns the ids
// seen before and including it.
func until(t *testing.T, ch <-chan gate.AlarmEvent, id string) []gate.AlarmEvent {
	t.Helper()
	var seen []gate.AlarmEvent
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e := <-ch:
			seen = append(seen, e)
			if e.ID == id {
				return seen
			}
		case <-deadline:
			t.Fatalf("alarm %s not received within 20 s (got %v)", id, seen)
		}
	}
}

func count(es []gate.AlarmEvent, id string) int {
	n := 0
	for _, e := range es {
		if e.ID == id {
			n++
		}
	}
	return n
}

// An alarm published in one process reaches the pages of the other, and
// each page gets it once: the publisher's own pages are not sent its echo.
func TestAlarmReachesTheOtherInstanceOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := testutil.DSN(t, "postgres")
	one, two := start(t, ctx, dsn), start(t, ctx, dsn)

	at := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	a := gate.AlarmEvent{ID: "A1", Kind: "fever", GateID: "g1", Gate: "东门", CommunityID: "c1", Person: "张*", Detail: "fever", Status: "open", At: at}
	one.hub.Publish(a)
	onTwo := until(t, two.got, "A1")
	got := onTwo[len(onTwo)-1]
	if got.Gate != "东门" || got.Person != "张*" || got.Kind != "fever" || got.CommunityID != "c1" || !got.At.Equal(at) || got.Status != "open" {
		t.Fatalf("the other instance got %+v", got)
	}
	if got.Detail != "" {
		t.Fatalf("the detail travelled between instances: %q", got.Detail)
	}
	// The answer the other way round comes after any echo of A1.
	two.hub.Publish(gate.AlarmEvent{ID: "B1", Kind: "stranger", CommunityID: "c1", Status: "open", At: at})
	onOne := until(t, one.got, "B1")
	onTwo = append(onTwo, until(t, two.got, "B1")...)
	for name, seen := range map[string][]gate.AlarmEvent{"publisher of A1": onOne, "other instance": onTwo} {
		if count(seen, "A1") != 1 || count(seen, "B1") != 1 {
			t.Errorf("%s: A1 seen %d times, B1 %d times, want once each (%v)", name, count(seen, "A1"), count(seen, "B1"), seen)
		}
	}
}

// A listener cut off (the database restarted, an administrator ended its
// session) comes back by itself and hears the next alarms.
func TestListenerReconnects(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := testutil.DSN(t, "postgres")
	one, two := start(t, ctx, dsn), start(t, ctx, dsn)

	admin, err := sql.Open("pgx", os.Getenv("SHEQU_TEST_PG_URL"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var killed int
	if err := admin.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE application_name = 'shequ fanout listen' AND query LIKE '%' || $1 || '%'`, two.relay.Channel()).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 2 { // both relays listen on the channel
		t.Fatalf("terminated %d listeners, want 2", killed)
	}
	// Alarms raised while the listener is away are not replayed: raise
	// them until one arrives.
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		id := fmt.Sprint("R", i)
		one.hub.Publish(gate.AlarmEvent{ID: id, Kind: "fever", Status: "open"})
		select {
		case e := <-two.got:
			t.Logf("alarm %s arrived after the listener was cut (%d sent)", e.ID, i+1)
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the listener did not come back within 20 s")
		}
	}
}

// On SQLite there is one process: no relay, and the hub alone delivers
// each alarm once.
func TestSQLiteKeepsAlarmsInProcess(t *testing.T) {
	r, err := fanout.New(filepath.Join(t.TempDir(), "x.db"), slog.Default())
	if err != nil || r != nil {
		t.Fatalf("relay on SQLite: %v, %v", r, err)
	}
	hub := gate.NewHub()
	fanout.Alarms(r, hub)
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ch, stop := hub.Subscribe(nil)
	defer stop()
	hub.Publish(gate.AlarmEvent{ID: "S1"})
	hub.Publish(gate.AlarmEvent{ID: "S2"})
	if a, b := <-ch, <-ch; a.ID != "S1" || b.ID != "S2" {
		t.Fatalf("got %s, %s", a.ID, b.ID)
	}
	select {
	case e := <-ch:
		t.Fatalf("a third alarm: %+v", e)
	default:
	}
}
