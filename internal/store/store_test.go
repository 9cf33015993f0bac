package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"shequ/internal/errs"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

func TestMigrateIsIdempotentAndRefusesNewerSchemas(t *testing.T) {
	testutil.ForEachDB(t, nil, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		v, err := s.SchemaVersion(ctx)
		if err != nil || v != s.LatestVersion() || v < 1 {
			t.Fatalf("version %d (latest %d): %v", v, s.LatestVersion(), err)
		}
		if n, err := s.Migrate(ctx); err != nil || n != 0 {
			t.Fatalf("second migrate applied %d: %v", n, err)
		}
		store.RawForTest(s).Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)`)
		_, err = s.Migrate(ctx)
		if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "newer than this binary") {
			t.Fatalf("newer schema: %v", err)
		}
	})
}

func TestOrgTreeMoveRewritesPathsAndKeepsHistory(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		mk := func(tx *store.Tx, parent, code string, l store.Level) store.OrgNode {
			n := store.OrgNode{ParentID: parent, Code: code, Name: code, Level: l}
			if err := tx.CreateOrgNode(ctx, &n, ""); err != nil {
				t.Fatal(err)
			}
			return n
		}
		var a, b, g store.OrgNode
		err := s.Write(ctx, func(tx *store.Tx) error {
			st := mk(tx, "", "610402011000", store.LevelStreet)
			a = mk(tx, st.ID, "610402011001", store.LevelCommunity)
			b = mk(tx, st.ID, "610402011002", store.LevelCommunity)
			g = mk(tx, a.ID, "610402011001001", store.LevelGrid)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.OrgSubtree(ctx, a.Path); len(got) != 2 {
			t.Fatalf("subtree of a: %d nodes", len(got))
		}
		clock.Advance(time.Hour)
		err = s.Write(ctx, func(tx *store.Tx) error {
			code, err := tx.NextGridCode(ctx, b.ID)
			if err != nil {
				return err
			}
			if code != "610402011002001" {
				t.Errorf("next grid code %s", code)
			}
			return tx.MoveOrgNode(ctx, g.ID, b.ID, code, "u1")
		})
		if err != nil {
			t.Fatal(err)
		}
		moved, _ := s.OrgNode(ctx, g.ID)
		if moved.Path != b.Path+g.ID+"/" || moved.ParentID != b.ID || moved.Code != "610402011002001" {
			t.Fatalf("moved grid %+v", moved)
		}
		if got, _ := s.OrgSubtree(ctx, a.Path); len(got) != 1 {
			t.Fatalf("a still has %d nodes", len(got))
		}
		h, err := s.OrgHistory(ctx, g.ID)
		if err != nil || len(h) != 2 || h[0].Action != "move" || h[0].OldCode != "610402011001001" || h[0].NewParentID != b.ID {
			t.Fatalf("history %+v %v", h, err)
		}
		// Moving a node below itself is refused.
		err = s.Write(ctx, func(tx *store.Tx) error { return tx.MoveOrgNode(ctx, b.ID, g.ID, "x", "") })
		if !errs.Is(err, errs.Invalid) {
			t.Fatalf("move into own subtree: %v", err)
		}
		// Codes are unique.
		err = s.Write(ctx, func(tx *store.Tx) error {
			n := store.OrgNode{ParentID: b.ID, Code: "610402011002001", Name: "dup", Level: store.LevelGrid}
			return tx.CreateOrgNode(ctx, &n, "")
		})
		if !errs.Is(err, errs.Conflict) {
			t.Fatalf("duplicate code: %v", err)
		}
	})
}

func TestSessionsExpireAndOTPsAreSingleUse(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := store.User{Username: "u", DisplayName: "U", Kind: store.KindStaff}
		if err := s.Write(ctx, func(tx *store.Tx) error {
			if err := tx.CreateUser(ctx, &u); err != nil {
				return err
			}
			return tx.CreateSession(ctx, "h1", u.ID, "127.0.0.1", time.Hour)
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, "h1"); err != nil {
			t.Fatal(err)
		}
		clock.Advance(61 * time.Minute)
		if _, err := s.Session(ctx, "h1"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("expired session still found: %v", err)
		}
		var purged int64
		s.Write(ctx, func(tx *store.Tx) error { purged, _ = tx.PurgeExpired(ctx, clock.Now()); return nil })
		if purged != 1 {
			t.Fatalf("purged %d", purged)
		}
		take := func(code string) bool {
			var ok bool
			if err := s.Write(ctx, func(tx *store.Tx) (err error) { ok, err = tx.TakeOTP(ctx, "p", code, 3); return }); err != nil {
				t.Fatal(err)
			}
			return ok
		}
		s.Write(ctx, func(tx *store.Tx) error { return tx.PutOTP(ctx, "p", "c1", clock.Now().Add(5*time.Minute)) })
		if take("bad") || !take("c1") || take("c1") {
			t.Fatal("a code must work once, and only the right one")
		}
		s.Write(ctx, func(tx *store.Tx) error { return tx.PutOTP(ctx, "p", "c2", clock.Now().Add(5*time.Minute)) })
		take("x")
		take("y")
		take("z")
		if take("c2") {
			t.Fatal("the code still worked after 3 wrong tries")
		}
	})
}

// A reader keeping data in memory learns of committed writes to the
// tables it depends on, and only of those.
func TestChangesCountCommittedWritesPerTable(t *testing.T) {
	testutil.ForEachDB(t, nil, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		org := s.Changes("org_nodes")
		other := s.Changes("credentials", "persons")
		if err := s.Write(ctx, func(tx *store.Tx) error {
			return tx.CreateOrgNode(ctx, &store.OrgNode{Code: "110000000000", Name: "北京市", Level: store.LevelProvince}, "")
		}); err != nil {
			t.Fatal(err)
		}
		if s.Changes("org_nodes") == org {
			t.Fatal("a committed insert did not change org_nodes")
		}
		if s.Changes("credentials", "persons") != other {
			t.Fatal("tables nobody wrote changed")
		}
		org = s.Changes("org_nodes")
		err := s.Write(ctx, func(tx *store.Tx) error {
			if err := tx.CreateOrgNode(ctx, &store.OrgNode{Code: "120000000000", Name: "天津市", Level: store.LevelProvince}, ""); err != nil {
				return err
			}
			return errs.E(errs.Invalid, "rolled back")
		})
		if err == nil || s.Changes("org_nodes") != org {
			t.Fatalf("a rolled-back write changed the counter (err %v)", err)
		}
	})
}
