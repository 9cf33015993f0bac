package ledger_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/ledger"
	"shequ/internal/pii"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

// fixture: a community with one grid, a building with a unit and rooms.
type fixture struct {
	s                  *store.Store
	svc                *ledger.Service
	clock              *testutil.Clock
	comm, grid, other  store.OrgNode
	building, unit     store.Place
	room1502, room1501 store.Place
	staff, outsider    *access.Principal
}

func setup(t testing.TB, s *store.Store, clock *testutil.Clock) *fixture {
	ctx := context.Background()
	keys := pii.NewKeyring(bytes.Repeat([]byte{3}, 32))
	f := &fixture{s: s, clock: clock, svc: &ledger.Service{Store: s, Keys: keys, Audit: audit.New(func(b []byte) []byte { return keys.MAC(b, "audit") })}}
	err := s.Write(ctx, func(tx *store.Tx) error {
		st := store.OrgNode{Code: "610402011000", Name: "渭滨街道", Level: store.LevelStreet}
		if err := tx.CreateOrgNode(ctx, &st, ""); err != nil {
			return err
		}
		f.comm = store.OrgNode{ParentID: st.ID, Code: "610402011002", Name: "丰乐社区", Level: store.LevelCommunity}
		if err := tx.CreateOrgNode(ctx, &f.comm, ""); err != nil {
			return err
		}
		f.other = store.OrgNode{ParentID: st.ID, Code: "610402011001", Name: "和园社区", Level: store.LevelCommunity}
		if err := tx.CreateOrgNode(ctx, &f.other, ""); err != nil {
			return err
		}
		f.grid = store.OrgNode{ParentID: f.comm.ID, Code: "610402011002001", Name: "第一网格", Level: store.LevelGrid}
		if err := tx.CreateOrgNode(ctx, &f.grid, ""); err != nil {
			return err
		}
		site := store.Place{CommunityID: f.comm.ID, Kind: store.PlaceCompound, Name: "丰乐小区", Address: "丰乐小区"}
		if err := tx.CreatePlace(ctx, &site); err != nil {
			return err
		}
		f.building = store.Place{CommunityID: f.comm.ID, GridID: f.grid.ID, ParentID: site.ID, Kind: store.PlaceBuilding, Name: "3号楼", Address: "丰乐小区3号楼", Floors: 33}
		if err := tx.CreatePlace(ctx, &f.building); err != nil {
			return err
		}
		f.unit = store.Place{CommunityID: f.comm.ID, GridID: f.grid.ID, ParentID: f.building.ID, Kind: store.PlaceUnit, Name: "1单元", Address: "丰乐小区3号楼1单元"}
		if err := tx.CreatePlace(ctx, &f.unit); err != nil {
			return err
		}
		for _, r := range []*store.Place{&f.room1501, &f.room1502} {
			seq := 1
			if r == &f.room1502 {
				seq = 2
			}
			*r = store.Place{CommunityID: f.comm.ID, GridID: f.grid.ID, ParentID: f.unit.ID, Kind: store.PlaceRoom, Floor: 15, Seq: seq,
				Name: []string{"", "1501", "1502"}[seq], Address: "丰乐小区3号楼1单元" + []string{"", "1501", "1502"}[seq] + "室", RoomUse: "self"}
			if err := tx.CreatePlace(ctx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.staff = &access.Principal{UserID: "u-staff", Name: "王芳", Assignments: []access.Assignment{{Role: access.Staff, NodePath: f.comm.Path}}}
	f.outsider = &access.Principal{UserID: "u-out", Name: "李雷", Assignments: []access.Assignment{{Role: access.Staff, NodePath: f.other.Path}}}
	return f
}

func (f *fixture) actor() ledger.Actor { return ledger.Actor{P: f.staff, Source: store.SourceUI} }

const zhangID = "11010519491231002X" // the standard's sample: female, 1949-12-31

var t0 = time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC)

func TestMoveInSearchRevealAndHistory(t *testing.T) {
	clock := testutil.NewClock(t0)
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		clock.Set(t0)
		f := setup(t, s, clock)
		ctx := context.Background()
		p, err := f.svc.MoveIn(ctx, f.actor(), f.room1502.ID, "", ledger.PersonInput{Name: "张秀英", IDNumber: "１１０１０５１９４９１２３１００２ｘ",
			Phone: "139-1234-5678", Residency: "registered", Tags: []string{"elderly_alone"}}, "02", "2020-05-01")
		if err != nil {
			t.Fatal(err)
		}
		if p.Sex != 2 || p.BirthDate != "1949-12-31" || p.IDMask != "1101**********002X" || p.PhoneMask != "139****5678" {
			t.Fatalf("derived fields: %+v", p)
		}
		// Found by exact ID, by phone, by pinyin initials, by part of the name.
		for _, q := range []string{zhangID, "11010519491231002x", "13912345678", "zxy", "秀英"} {
			hits, n, err := f.svc.Search(ctx, f.staff, ledger.Query{Text: q})
			if err != nil || n != 1 || hits[0].ID != p.ID {
				t.Errorf("search %q: %d hits, %v", q, n, err)
			}
		}
		// A valid-looking but different ID finds nobody; out of scope finds nobody.
		if _, n, _ := f.svc.Search(ctx, f.staff, ledger.Query{Text: "440524188001010014"}); n != 0 {
			t.Error("another ID matched")
		}
		if _, n, _ := f.svc.Search(ctx, f.outsider, ledger.Query{Text: zhangID}); n != 0 {
			t.Error("staff of another community found the person")
		}
		// Reveal needs a reason, is refused out of scope, and is audited.
		if _, err := f.svc.Reveal(ctx, f.staff, p.ID, "id_number", "", "1.2.3.4"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("reveal without reason: %v", err)
		}
		if _, err := f.svc.Reveal(ctx, f.outsider, p.ID, "id_number", "核查", "1.2.3.4"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("out-of-scope reveal: %v", err)
		}
		plain, err := f.svc.Reveal(ctx, f.staff, p.ID, "id_number", "核对户籍", "1.2.3.4")
		if err != nil || plain != zhangID {
			t.Fatalf("reveal: %q %v", plain, err)
		}
		entries, _ := s.AuditEntries(ctx, store.AuditFilter{Action: "pii.reveal"})
		if len(entries) != 2 || entries[0].Outcome != "ok" || !strings.Contains(entries[0].Detail, "核对户籍") || entries[1].Outcome != "denied" {
			t.Fatalf("reveal audit: %+v", entries)
		}
		// An update records what changed and why, with protected values masked.
		clock.Advance(time.Hour)
		err = f.svc.Update(ctx, f.actor(), p.ID, ledger.PersonInput{Name: "张秀英", Residency: "permanent", Phone: "13800001111"}, "户口迁出")
		if err != nil {
			t.Fatal(err)
		}
		tl, _ := s.Timeline(ctx, p.ID, 10)
		if len(tl) < 3 || tl[0].Action != "update" || tl[0].Reason != "户口迁出" || !strings.Contains(tl[0].Changes, "138****1111") ||
			strings.Contains(tl[0].Changes, "13800001111") || !strings.Contains(tl[0].Changes, `"residency":["registered","permanent"]`) {
			t.Fatalf("timeline: %+v", tl)
		}
		// Bad input is refused with the field named.
		_, err = f.svc.MoveIn(ctx, f.actor(), f.room1501.ID, "", ledger.PersonInput{Name: "李四", IDNumber: "110105194912310021", Residency: "registered"}, "02", "")
		if e, ok := errs.As(err); !ok || e.Key != "err.person.id_check" || e.Field != "id_number" {
			t.Fatalf("bad check digit: %v", err)
		}
		_, err = f.svc.MoveIn(ctx, ledger.Actor{P: f.outsider}, f.room1501.ID, "", ledger.PersonInput{Name: "李四", IDNumber: "440524188001010014", Residency: "registered"}, "02", "")
		if !errs.Is(err, errs.Forbidden) {
			t.Fatalf("out-of-scope move-in: %v", err)
		}
	})
}

func TestContractEndsResidencyByItself(t *testing.T) {
	clock := testutil.NewClock(t0)
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		clock.Set(t0)
		f := setup(t, s, clock)
		ctx := context.Background()
		landlord, err := f.svc.MoveIn(ctx, f.actor(), f.room1501.ID, "", ledger.PersonInput{Name: "刘建国", IDNumber: "440524188001010014", Residency: "registered"}, "02", "")
		if err != nil {
			t.Fatal(err)
		}
		s.Write(ctx, func(tx *store.Tx) error { return tx.AddOwner(ctx, f.room1502.ID, landlord.ID, "") })
		_, err = f.svc.CreateContract(ctx, f.actor(), ledger.ContractInput{RoomID: f.room1502.ID, LandlordID: landlord.ID,
			StartDate: "2026-06-01", EndDate: "2026-12-03", Rent: 800,
			Tenants: []ledger.PersonInput{{Name: "赵强", IDNumber: "370101190102039973"}}, Scan: []byte("%PDF-1.4 test"), ScanName: "合同.pdf"})
		if err != nil {
			t.Fatal(err)
		}
		pop := func() int {
			p, _ := s.CountPopulation(ctx, f.comm.Path)
			return p.Floating
		}
		if pop() != 1 {
			t.Fatalf("tenant not counted: %d", pop())
		}
		exp, _ := s.ExpiringContracts(ctx, []string{f.comm.Path}, "2026-11-28", "2026-12-05")
		if len(exp) != 1 || exp[0].TenantNames != "赵强" || exp[0].LandlordName != "刘建国" {
			t.Fatalf("expiring within 7 days: %+v", exp)
		}
		// The scan is stored encrypted and comes back for those allowed.
		var raw []byte
		store.RawForTest(s).QueryRow(`SELECT scan_enc FROM contracts`).Scan(&raw)
		if bytes.Contains(raw, []byte("%PDF")) {
			t.Fatal("contract scan stored in the clear")
		}
		if b, _, err := f.svc.Scan(ctx, f.staff, exp[0].ID); err != nil || string(b) != "%PDF-1.4 test" {
			t.Fatalf("scan: %v", err)
		}
		if _, _, err := f.svc.Scan(ctx, f.outsider, exp[0].ID); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("outsider read the scan: %v", err)
		}
		// After the end date the tenant is no longer a resident.
		clock.Advance(6 * 24 * time.Hour)
		if pop() != 0 {
			t.Fatalf("tenant still counted after the contract ended: %d", pop())
		}
		// Bad contracts are refused.
		_, err = f.svc.CreateContract(ctx, f.actor(), ledger.ContractInput{RoomID: f.room1502.ID, StartDate: "2026-12-10", EndDate: "2026-12-01",
			Tenants: []ledger.PersonInput{{Name: "赵强", IDNumber: "370101190102039973"}}})
		if e, ok := errs.As(err); !ok || e.Field != "end_date" {
			t.Fatalf("end before start: %v", err)
		}
		_, err = f.svc.CreateContract(ctx, f.actor(), ledger.ContractInput{RoomID: f.room1502.ID, StartDate: "2026-12-10", EndDate: "2027-12-01",
			Tenants: []ledger.PersonInput{{Name: "赵强", IDNumber: "370101190102039973"}}, Scan: []byte("MZ\x90\x00 not a pdf")})
		if e, ok := errs.As(err); !ok || e.Key != "err.file.type" {
			t.Fatalf("exe as scan: %v", err)
		}
	})
}

func TestBuildingTableColoursAndDuplicatesMerge(t *testing.T) {
	clock := testutil.NewClock(t0)
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		clock.Set(t0)
		f := setup(t, s, clock)
		ctx := context.Background()
		a, _ := f.svc.MoveIn(ctx, f.actor(), f.room1501.ID, "", ledger.PersonInput{Name: "刘建国", IDNumber: "440524188001010014", Residency: "registered"}, "02", "")
		if err := f.svc.StartMonitoring(ctx, f.actor(), store.Monitoring{PersonID: a.ID, Kind: "home_quarantine", StartDate: "2026-11-27", EndDate: "2026-12-03"}); err != nil {
			t.Fatal(err)
		}
		f.svc.SetRoom(ctx, f.actor(), f.room1502.ID, "vacant", "surveyed", "")
		tbl, err := f.svc.BuildingTable(ctx, f.building)
		if err != nil {
			t.Fatal(err)
		}
		if len(tbl.Floors) != 1 || tbl.Floors[0].Number != 15 || len(tbl.Floors[0].Units[0]) != 2 {
			t.Fatalf("table layout %+v", tbl.Floors)
		}
		st := map[string]string{}
		for _, c := range tbl.Floors[0].Units[0] {
			st[c.Name] = c.Status
		}
		if st["1501"] != ledger.StatusMonitoring || st["1502"] != ledger.StatusVacant {
			t.Fatalf("statuses %v", st)
		}
		// The same person typed twice (a passport record with the same
		// name, birth date and phone) is found and merged.
		b, err := f.svc.MoveIn(ctx, f.actor(), f.room1502.ID, "", ledger.PersonInput{Name: "王五", IDNumber: "370101190102039973", Phone: "13912340000", Residency: "permanent"}, "02", "")
		if err != nil {
			t.Fatal(err)
		}
		c, err := f.svc.MoveIn(ctx, f.actor(), f.room1501.ID, "", ledger.PersonInput{Name: "王五", DocType: pii.DocPassport, IDNumber: "E12345678", BirthDate: "1901-02-03",
			Phone: "13912340000", Residency: "permanent"}, "02", "")
		if err != nil {
			t.Fatal(err)
		}
		groups, err := f.svc.Duplicates(ctx, f.staff)
		if err != nil || len(groups) != 1 || len(groups[0].Persons) != 2 {
			t.Fatalf("duplicates: %+v %v", groups, err)
		}
		if err := f.svc.Merge(ctx, f.actor(), b.ID, c.ID, "同一人"); err != nil {
			t.Fatal(err)
		}
		ms, _ := s.Memberships(ctx, b.ID)
		if len(ms) != 2 {
			t.Fatalf("merged person has %d homes, want 2", len(ms))
		}
		if g, _ := f.svc.Duplicates(ctx, f.staff); len(g) != 0 {
			t.Fatalf("still duplicates after merge: %+v", g)
		}
		if err := f.svc.Merge(ctx, f.actor(), b.ID, c.ID, "again"); !errs.Is(err, errs.Conflict) {
			t.Fatalf("second merge: %v", err)
		}
	})
}
