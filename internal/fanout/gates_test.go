package fanout_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"shequ/internal/app"
	"shequ/internal/apptest"
	"shequ/internal/demo"
	"shequ/internal/fanout"
	"shequ/internal/gate"
	"shequ/internal/store"
)

// A resident's one-time pass code that opened a gate through one instance
// is refused as used by another instance on the same database.
func TestPassCodeUsedOnceAcrossInstances(t *testing.T) {
	e := apptest.Start(t, "postgres")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	other, err := app.Open(ctx, e.App.Cfg, quiet, e.Clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for _, a := range []*app.App{e.App, other} {
		r, err := fanout.New(a.Cfg.DB, quiet)
		if err != nil {
			t.Fatal(err)
		}
		fanout.Alarms(r, a.Gates.Hub)
		fanout.Gates(r, a.Gates)
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	comm, err := e.App.Store.OrgNodeByCode(ctx, demo.VillageCode)
	if err != nil {
		t.Fatal(err)
	}
	var deviceUser string
	if err := store.RawForTest(e.App.Store).QueryRow(`SELECT d.user_id FROM devices d JOIN gates g ON g.id = d.gate_id
		WHERE g.community_id = $1 ORDER BY d.id LIMIT 1`, comm.ID).Scan(&deviceUser); err != nil {
		t.Fatal(err)
	}
	people, _, err := e.App.Store.Persons(ctx, store.PersonFilter{Scopes: []string{comm.Path}, Residency: "registered", Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	decide := func(a *app.App, pass string) gate.DecideResponse {
		t.Helper()
		r, err := a.Gates.Decide(ctx, deviceUser, gate.DecideRequest{Credential: gate.Credential{Kind: gate.CredQR, Value: pass}, TemperatureC: 36.5})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	pass := ""
	for _, p := range people {
		code := e.App.Gates.ResidentPass(p.ID, comm.ID, time.Minute)
		if decide(e.App, code).Outcome == "allow" {
			pass = code
			break
		}
	}
	if pass == "" {
		t.Fatal("no resident of the village may pass")
	}
	// Notes travel in order: once an alarm sent after the pass arrives, so
	// has the pass.
	ch, stop := other.Gates.Hub.Subscribe(nil)
	defer stop()
	e.App.Gates.Hub.Publish(gate.AlarmEvent{ID: "MARK", Kind: "fever"})
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatal("the other instance heard nothing within 20 s")
	}
	if r := decide(other, pass); r.Outcome != "deny" || r.Reason != gate.ReasonPassUsed {
		t.Fatalf("the code shown again at the other instance: %+v", r)
	}
}
