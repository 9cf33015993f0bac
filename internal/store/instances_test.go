package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"shequ/internal/store"
	"shequ/internal/testutil"
)

// twoStores opens two handles on one fresh database of engine, as two
// instances of the program would.
func twoStores(t *testing.T, engine string, now func() time.Time) (*store.Store, *store.Store) {
	t.Helper()
	ctx := context.Background()
	dsn := testutil.DSN(t, engine)
	var out []*store.Store
	for range 2 {
		s, err := store.Open(ctx, dsn, now)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out[0], out[1]
}

// While one instance runs a job, the other's attempt at the same job does
// not run; a different job does, and the job runs again once the first is
// done.
func TestAloneKeepsAJobToOneInstance(t *testing.T) {
	s1, s2 := twoStores(t, "postgres", nil)
	ctx := context.Background()
	var inner, other bool
	ran, err := s1.Alone(ctx, "brain refresh", func(ctx context.Context) error {
		var err error
		if inner, err = s2.Alone(ctx, "brain refresh", func(context.Context) error { return nil }); err != nil {
			return err
		}
		other, err = s2.Alone(ctx, "another job", func(context.Context) error { return nil })
		return err
	})
	if err != nil || !ran {
		t.Fatalf("first instance: ran %v, %v", ran, err)
	}
	if inner {
		t.Error("the second instance ran the job while the first was running it")
	}
	if !other {
		t.Error("a different job was held up")
	}
	if ran, err := s2.Alone(ctx, "brain refresh", func(context.Context) error { return nil }); err != nil || !ran {
		t.Fatalf("after the first finished, the second did not run the job: %v, %v", ran, err)
	}
}

// Two instances checking for silent devices at the same moment turn a
// silent device offline once, so it raises one alarm.
func TestTwoInstancesTurnADeviceOfflineOnce(t *testing.T) {
	for _, engine := range testutil.Engines() {
		t.Run(engine, func(t *testing.T) {
			clock := testutil.NewClock(time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC))
			s1, s2 := twoStores(t, engine, clock.Now)
			ctx := context.Background()
			if err := s1.Write(ctx, func(tx *store.Tx) error {
				c := store.OrgNode{Code: "110101001001", Name: "社区", Level: store.LevelCommunity}
				if err := tx.CreateOrgNode(ctx, &c, ""); err != nil {
					return err
				}
				g := store.Gate{CommunityID: c.ID, Code: "E1", Name: "东门", Kind: "turnstile"}
				if err := tx.CreateGate(ctx, &g); err != nil {
					return err
				}
				u := store.User{Username: "dev-e1", DisplayName: "东门闸机", Kind: store.KindAPI}
				if err := tx.CreateUser(ctx, &u); err != nil {
					return err
				}
				d := store.Device{GateID: g.ID, UserID: u.ID, Name: "闸机 1"}
				if err := tx.CreateDevice(ctx, &d); err != nil {
					return err
				}
				_, _, err := tx.TouchDevice(ctx, d.ID, clock.Now())
				return err
			}); err != nil {
				t.Fatal(err)
			}
			clock.Advance(10 * time.Minute)
			since := clock.Now().Add(-3 * time.Minute)
			// The first instance holds its transaction open while the
			// second checks.
			var second []store.Device
			var wg sync.WaitGroup
			var first []store.Device
			err := s1.Write(ctx, func(tx *store.Tx) error {
				var err error
				if first, err = tx.SilentDevices(ctx, since); err != nil {
					return err
				}
				wg.Go(func() {
					if err := s2.Write(ctx, func(tx *store.Tx) error {
						var err error
						second, err = tx.SilentDevices(ctx, since)
						return err
					}); err != nil {
						t.Error(err)
					}
				})
				time.Sleep(100 * time.Millisecond) // let the second reach the row
				return nil
			})
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if len(first)+len(second) != 1 {
				t.Fatalf("the device went offline %d + %d times, want once", len(first), len(second))
			}
		})
	}
}
