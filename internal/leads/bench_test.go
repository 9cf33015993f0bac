package leads_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"shequ/internal/leads"
	"shequ/internal/ledger"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// million builds (or reopens, with SHEQU_BENCH_DIR) a SQLite ledger of n
// people in one street: a third of them live in a community's grid, one
// in ten has a phone. Names are unique, so a masked ID with the name
// finds its person.
func million(b *testing.B, n int) (*store.Store, *leads.Service, store.OrgNode) {
	b.Helper()
	dir := os.Getenv("SHEQU_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("leads-%d.db", n))
	_, statErr := os.Stat(path)
	s, err := store.Open(context.Background(), path, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	keys := pii.NewKeyring(bytes.Repeat([]byte{5}, 32))
	ls := &ledger.Service{Store: s, Keys: keys}
	svc := &leads.Service{Store: s, Keys: keys, Ledger: ls}
	ctx := context.Background()
	if statErr == nil {
		st, err := s.OrgNodeByCode(ctx, "610402011000")
		if err != nil {
			b.Fatal(err)
		}
		return s, svc, st
	}
	var street store.OrgNode
	var room store.Place
	err = s.Write(ctx, func(tx *store.Tx) error {
		street = store.OrgNode{Code: "610402011000", Name: "渭滨街道", Level: store.LevelStreet}
		if err := tx.CreateOrgNode(ctx, &street, ""); err != nil {
			return err
		}
		comm := store.OrgNode{ParentID: street.ID, Code: "610402011002", Name: "丰乐社区", Level: store.LevelCommunity}
		if err := tx.CreateOrgNode(ctx, &comm, ""); err != nil {
			return err
		}
		grid := store.OrgNode{ParentID: comm.ID, Code: "610402011002001", Name: "第一网格", Level: store.LevelGrid}
		if err := tx.CreateOrgNode(ctx, &grid, ""); err != nil {
			return err
		}
		site := store.Place{CommunityID: comm.ID, Kind: store.PlaceVillage, Name: "丰乐村", Address: "丰乐村"}
		if err := tx.CreatePlace(ctx, &site); err != nil {
			return err
		}
		house := store.Place{CommunityID: comm.ID, GridID: grid.ID, ParentID: site.ID, Kind: store.PlaceHouse, Name: "1号", Address: "丰乐村1号"}
		if err := tx.CreatePlace(ctx, &house); err != nil {
			return err
		}
		room = store.Place{CommunityID: comm.ID, GridID: grid.ID, ParentID: house.ID, Kind: store.PlaceRoom, Name: "101", Address: "丰乐村1号101室"}
		return tx.CreatePlace(ctx, &room)
	})
	if err != nil {
		b.Fatal(err)
	}
	const perTx = 20000
	for start := 0; start < n; start += perTx {
		err := s.Write(ctx, func(tx *store.Tx) error {
			for i := start; i < min(n, start+perTx); i++ {
				in := ledger.PersonInput{Name: "测试" + strconv.Itoa(i), IDNumber: benchID(i), Residency: "registered"}
				if i%10 == 1 {
					in.Phone = benchPhone(i)
				}
				p, err := ls.Normalize(in, s.Now())
				if err != nil {
					return err
				}
				if err := tx.CreatePerson(ctx, &p); err != nil {
					return err
				}
				if i%3 == 0 {
					h := &store.Household{RoomID: room.ID, HeadID: p.ID}
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
	return s, svc, street
}

func benchID(i int) string {
	first := fmt.Sprintf("6104%02d%04d%02d%02d%03d", i%99+1, 1940+i%70, 1+i%12, 1+i%28, (i/1000)%1000)
	return first + string(pii.IDCheckChar(first))
}

func benchPhone(i int) string { return fmt.Sprintf("139%08d", i) }

// BenchmarkMatch100kAgainstMillion imports a 100,000-lead batch at the
// street against a 1,000,000-person ledger: 70 % by full ID, 10 % by
// phone, 10 % by a masked ID with the name, 10 % unknown; parse, match,
// route and store. The limit is the 30 s.
func BenchmarkMatch100kAgainstMillion(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("SHEQU_BENCH_PEOPLE")); err == nil {
		n = v
	}
	s, svc, street := million(b, n)
	if n < 1_000_000 {
		b.Fatal("the batch needs a ledger of at least 1,000,000 people")
	}
	file := batch100k(n)
	deadline := s.Now().AddDate(0, 0, 3).Format("2006-01-02")
	for b.Loop() {
		start := time.Now()
		res, err := svc.ImportBatch(context.Background(), nil, leads.BatchInput{NodeID: street.ID, Name: "十万", Deadline: deadline, File: file})
		if err != nil || res.Rows != 100_000 {
			b.Fatalf("import: %v (%d rows, %d problems)", err, res.Rows, len(res.Problems))
		}
		b.ReportMetric(float64(res.ByID+res.ByPhone+res.Fuzzy), "matched")
		b.ReportMetric(time.Since(start).Seconds()/30, "x_of_30s")
	}
}
