package notify_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"shequ/internal/notify"
	"shequ/internal/pii"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

type sender struct {
	fail bool
	got  []string
}

func (s *sender) Notify(_ context.Context, phone, text string) error {
	if s.fail {
		return errors.New("gateway down")
	}
	s.got = append(s.got, phone+" "+text)
	return nil
}

// A message goes to the app at once and by SMS through the outbox: a
// gateway that fails leaves it queued, retried later, sent exactly once.
func TestOutboxSurvivesAFailingSender(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC))
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		keys := pii.NewKeyring(bytes.Repeat([]byte{9}, 32))
		enc, _ := keys.EncryptString("13912345678", "users.phone")
		u := store.User{Username: "resident-x", DisplayName: "居民", Kind: store.KindResident, PhoneEnc: enc, PhoneBidx: keys.BlindIndex("13912345678", "phone")}
		if err := s.Write(ctx, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			return notify.Tell(ctx, tx, u, "您反映的问题已受理", "/me/reports/E1")
		}); err != nil {
			t.Fatal(err)
		}
		if msgs, _ := s.Messages(ctx, u.ID, 10); len(msgs) != 1 {
			t.Fatalf("in-app messages: %d", len(msgs))
		}
		down := &sender{fail: true}
		if sent, failed, err := notify.Deliver(ctx, s, keys, down); err != nil || sent != 0 || failed != 1 {
			t.Fatalf("with the gateway down: %d sent, %d failed, %v", sent, failed, err)
		}
		up := &sender{}
		if sent, _, _ := notify.Deliver(ctx, s, keys, up); sent != 0 {
			t.Fatal("retried before its wait was over")
		}
		// Later: the message is still there and goes out once.
		clock.Advance(5 * time.Minute)
		if sent, _, _ := notify.Deliver(ctx, s, keys, up); sent != 1 || len(up.got) != 1 || up.got[0] != "13912345678 您反映的问题已受理" {
			t.Fatalf("after the wait: %v", up.got)
		}
		if sent, _, _ := notify.Deliver(ctx, s, keys, up); sent != 0 || len(up.got) != 1 {
			t.Fatal("a message was sent twice")
		}
	})
}

// syncSender records what it sends from several goroutines.
type syncSender struct {
	mu  sync.Mutex
	got map[string]int
}

func (s *syncSender) Notify(_ context.Context, phone, text string) error {
	time.Sleep(time.Millisecond) // a gateway takes a while: the two runs overlap
	s.mu.Lock()
	s.got[text]++
	s.mu.Unlock()
	return nil
}

// Two instances delivering the same outbox at the same time send each
// message once.
func TestTwoInstancesSendEachMessageOnce(t *testing.T) {
	for _, engine := range testutil.Engines() {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			dsn := testutil.DSN(t, engine)
			var stores []*store.Store
			for range 2 {
				s, err := store.Open(ctx, dsn, nil)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { s.Close() })
				if _, err := s.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				stores = append(stores, s)
			}
			keys := pii.NewKeyring(bytes.Repeat([]byte{9}, 32))
			enc, _ := keys.EncryptString("13912345678", "users.phone")
			u := store.User{Username: "worker-y", DisplayName: "网格员", Kind: store.KindStaff, PhoneEnc: enc, PhoneBidx: keys.BlindIndex("13912345678", "phone")}
			const n = 60
			if err := stores[0].Write(ctx, func(tx *store.Tx) error {
				if err := tx.CreateUser(ctx, &u); err != nil {
					return err
				}
				for i := range n {
					if err := notify.Tell(ctx, tx, u, fmt.Sprint("提醒 ", i), ""); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			send := &syncSender{got: map[string]int{}}
			var wg sync.WaitGroup
			sent := make([]int, 2)
			for i, s := range stores {
				wg.Go(func() {
					var err error
					if sent[i], _, err = notify.Deliver(ctx, s, keys, send); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if len(send.got) != n || sent[0]+sent[1] != n {
				t.Fatalf("%d different messages sent (%d + %d), want %d", len(send.got), sent[0], sent[1], n)
			}
			for text, k := range send.got {
				if k != 1 {
					t.Errorf("%q sent %d times", text, k)
				}
			}
			t.Logf("instance 1 sent %d, instance 2 sent %d", sent[0], sent[1])
		})
	}
}
