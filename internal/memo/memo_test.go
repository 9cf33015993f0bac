package memo

import (
	"context"
	"errors"
	"testing"
	"time"

	"shequ/internal/store"
	"shequ/internal/testutil"
)

// A remembered lookup is used again until a write to a table it depends on
// commits, or until it is maxAge old; failures are never remembered.
func TestMemoForgetsOnWritesAndWithAge(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 11, 29, 7, 30, 0, 0, time.UTC))
	st := testutil.OpenDB(t, "sqlite", clock.Now)
	ctx := context.Background()
	m := New[int](st, 10*time.Second, "org_nodes")
	loads := 0
	load := func() (int, error) { loads++; return loads, nil }
	get := func() int {
		t.Helper()
		v, err := m.Get("k", load)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if get() != 1 || get() != 1 {
		t.Fatalf("second lookup was not remembered (%d loads)", loads)
	}
	write := func(code string) {
		t.Helper()
		if err := st.Write(ctx, func(tx *store.Tx) error {
			return tx.CreateOrgNode(ctx, &store.OrgNode{Code: code, Name: code, Level: store.LevelProvince}, "")
		}); err != nil {
			t.Fatal(err)
		}
	}
	write("110000000000")
	if get() != 2 {
		t.Fatal("a write to a table the lookup depends on did not make it read again")
	}
	if err := st.Write(ctx, func(tx *store.Tx) error { return tx.PutOTP(ctx, "bidx", "hash", clock.Now().Add(time.Minute)) }); err != nil {
		t.Fatal(err)
	}
	if get() != 2 {
		t.Fatal("a write to an unrelated table made it read again")
	}
	clock.Advance(10 * time.Second)
	if get() != 3 {
		t.Fatal("an answer older than maxAge was trusted")
	}
	boom := errors.New("database gone")
	if _, err := m.Get("e", func() (int, error) { return 0, boom }); err != boom {
		t.Fatalf("error %v", err)
	}
	if v, _ := m.Get("e", load); v != 4 {
		t.Fatal("a failed lookup was remembered")
	}
}
