package audit_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"errors"
	"testing"
	"time"

	"shequ/internal/audit"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

func mac(key string) func([]byte) []byte {
	return func(b []byte) []byte {
		h := hmac.New(sha256.New, []byte(key))
		h.Write(b)
		return h.Sum(nil)
	}
}

func TestChainVerifiesAndNamesFirstBrokenEntry(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		log := audit.New(mac("k"))
		for i, action := range []string{"login", "pii.reveal", "export", "org.move", "login"} {
			clock.Advance(time.Second)
			if err := log.Record(ctx, s, &store.AuditEntry{ActorID: "u1", ActorName: "张三", Action: action,
				TargetType: "person", TargetID: string(rune('a' + i)), Detail: audit.Detail("reason", "核查")}); err != nil {
				t.Fatal(err)
			}
		}
		n, err := log.Verify(ctx, s)
		if err != nil || n != 5 {
			t.Fatalf("intact chain: n=%d err=%v", n, err)
		}
		// A different key cannot verify the chain (no forging without the key).
		if _, err := audit.New(mac("other")).Verify(ctx, s); err == nil {
			t.Fatal("chain verified under another key")
		}

		raw := rawDB(t, s)
		// Tamper with entry 3: the verifier must name entry 3.
		if _, err := raw.Exec(`UPDATE audit_log SET actor_name = '李四' WHERE seq = 3`); err != nil {
			t.Fatal(err)
		}
		_, err = log.Verify(ctx, s)
		var b *audit.Broken
		if !errors.As(err, &b) || b.Seq != 3 {
			t.Fatalf("tampered entry 3: got %v", err)
		}
		raw.Exec(`UPDATE audit_log SET actor_name = '张三' WHERE seq = 3`)
		if _, err := log.Verify(ctx, s); err != nil {
			t.Fatalf("restored chain: %v", err)
		}
		// Delete entry 2: entry 3 no longer follows.
		raw.Exec(`DELETE FROM audit_log WHERE seq = 2`)
		if _, err = log.Verify(ctx, s); !errors.As(err, &b) || b.Seq != 3 {
			t.Fatalf("deleted entry 2: got %v", err)
		}
	})
}

func TestTruncatedTailIsDetected(t *testing.T) {
	testutil.ForEachDB(t, nil, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		log := audit.New(mac("k"))
		for i := 0; i < 3; i++ {
			log.Record(ctx, s, &store.AuditEntry{Action: "login"})
		}
		rawDB(t, s).Exec(`DELETE FROM audit_log WHERE seq = 3`)
		if _, err := log.Verify(ctx, s); err == nil {
			t.Fatal("removing the last entry went unnoticed")
		}
	})
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	testutil.ForEachDB(t, nil, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		log := audit.New(mac("k"))
		errc := make(chan error, 40)
		for i := 0; i < 40; i++ {
			go func() { errc <- log.Record(ctx, s, &store.AuditEntry{Action: "login"}) }()
		}
		for i := 0; i < 40; i++ {
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		}
		if n, err := log.Verify(ctx, s); err != nil || n != 40 {
			t.Fatalf("n=%d err=%v", n, err)
		}
	})
}

// rawDB opens a second handle on the same database, as an intruder would.
func rawDB(t *testing.T, s *store.Store) *sql.DB {
	db := store.RawForTest(s)
	return db
}
