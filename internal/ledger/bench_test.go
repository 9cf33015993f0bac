package ledger_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"shequ/internal/access"
	"shequ/internal/ledger"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// bigLedger builds (once per benchmark binary run) a SQLite ledger of n
// people in one community, each in a household, and returns it.
func bigLedger(b *testing.B, n int) (*fixture, []string) {
	b.Helper()
	dir := os.Getenv("SHEQU_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	s, err := store.Open(context.Background(), filepath.Join(dir, fmt.Sprintf("ledger-%d.db", n)), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	f := setup(b, s, nil)
	ctx := context.Background()
	ids := make([]string, 0, n)
	const perTx = 20000
	for start := 0; start < n; start += perTx {
		err := s.Write(ctx, func(tx *store.Tx) error {
			for i := start; i < min(n, start+perTx); i++ {
				first := fmt.Sprintf("6104%02d%04d%02d%02d%03d", i%99+1, 1940+i%70, 1+i%12, 1+i%28, (i/1000)%1000)
				num := first + string(pii.IDCheckChar(first))
				ids = append(ids, num)
				p, err := f.svc.Normalize(ledger.PersonInput{Name: "测试" + strconv.Itoa(i), IDNumber: num, Residency: "registered"}, s.Now())
				if err != nil {
					return err
				}
				if err := tx.CreatePerson(ctx, &p); err != nil {
					return err
				}
				if i%3 == 0 {
					h := &store.Household{RoomID: f.room1502.ID, HeadID: p.ID}
					if err := tx.CreateHousehold(ctx, h); err != nil {
						return err
					}
					if err := tx.AddMember(ctx, store.Member{HouseholdID: h.ID, PersonID: p.ID, Relation: "02"}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return f, ids
}

// BenchmarkLookupByIDNumber finds one person by identity number in a
// ledger of 1,000,000 people through the blind index, next to the limit:
// a primary-key read of the same table in the same run.
func BenchmarkLookupByIDNumber(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("SHEQU_BENCH_PEOPLE")); err == nil {
		n = v
	}
	f, ids := bigLedger(b, n)
	ctx := context.Background()
	var someID string
	store.RawForTest(f.s).QueryRow(`SELECT id FROM persons LIMIT 1 OFFSET 777`).Scan(&someID)
	b.Run("blind_index", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			num := ids[(i*7919)%len(ids)]
			ps, err := f.s.PersonsByIDBidx(ctx, f.svc.IDIndex(pii.DocResidentID, num))
			if err != nil || len(ps) != 1 {
				b.Fatalf("lookup %s: %d %v", num, len(ps), err)
			}
		}
	})
	b.Run("search_page", func(b *testing.B) {
		staff := &access.Principal{UserID: "u", Assignments: []access.Assignment{{Role: access.Staff, NodePath: f.comm.Path}}}
		for i := 0; b.Loop(); i++ {
			num := ids[((i*3)%(len(ids)/3))*3] // people with a household
			_, total, err := f.svc.Search(ctx, staff, ledger.Query{Text: num})
			if err != nil || total != 1 {
				b.Fatalf("search %s: %d %v", num, total, err)
			}
		}
	})
	b.Run("limit_primary_key", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.s.Person(ctx, someID); err != nil {
				b.Fatal(err)
			}
		}
	})
}
