package auth_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/auth"
	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/store"
	"shequ/internal/testutil"
)

type capture struct{ phone, code string }

func (c *capture) SendCode(ctx context.Context, phone, code string) error {
	c.phone, c.code = phone, code
	return nil
}

func setup(t *testing.T, s *store.Store) (*auth.Service, *capture, store.OrgNode) {
	keys := pii.NewKeyring(make([]byte, 32))
	log := audit.New(func(b []byte) []byte { h := hmac.New(sha256.New, []byte("k")); h.Write(b); return h.Sum(nil) })
	c := &capture{}
	a := &auth.Service{Store: s, Keys: keys, Audit: log, Sender: c, TTL: time.Hour, Argon2: auth.Argon2{Time: 1, MemoryKiB: 1024, Threads: 1}}
	var n store.OrgNode
	ctx := context.Background()
	if err := s.Write(ctx, func(tx *store.Tx) error {
		n = store.OrgNode{Code: "610000000000", Name: "陕西省", Level: store.LevelProvince}
		return tx.CreateOrgNode(ctx, &n, "")
	}); err != nil {
		t.Fatal(err)
	}
	return a, c, n
}

func TestResidentLogsInWithPhoneCode(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, sent, node := setup(t, s)
		if _, err := a.CreateUser(ctx, nil, auth.NewUser{Username: "r1", DisplayName: "居民", Kind: store.KindResident,
			Phone: "139 1234 5678", Role: access.Resident, NodeID: node.ID}, ""); err != nil {
			t.Fatal(err)
		}
		// The phone is stored encrypted, never in the clear.
		var n int
		store.RawForTest(s).QueryRow(`SELECT count(*) FROM users WHERE CAST(phone_enc AS TEXT) LIKE '%13912345678%'`).Scan(&n)
		if n != 0 {
			t.Fatal("phone stored in the clear")
		}
		// An unknown phone gets the same answer and no code.
		if err := a.SendOTP(ctx, "13800000000", "1.2.3.4"); err != nil || sent.code != "" {
			t.Fatalf("unknown phone: %v, code %q", err, sent.code)
		}
		if err := a.SendOTP(ctx, "+86 139-1234-5678", "1.2.3.4"); err != nil || len(sent.code) != 6 || sent.phone != "13912345678" {
			t.Fatalf("send: %v %+v", err, sent)
		}
		if _, _, err := a.LoginOTP(ctx, "13912345678", "000000x", "1.2.3.4"); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("wrong code: %v", err)
		}
		tok, u, err := a.LoginOTP(ctx, "13912345678", sent.code, "1.2.3.4")
		if err != nil || u.Username != "r1" {
			t.Fatalf("login: %v", err)
		}
		p, _, err := a.Resolve(ctx, tok)
		if err != nil || !p.CanAnywhere(access.SelfService) || p.CanAnywhere(access.PersonView) {
			t.Fatalf("resident principal %+v %v", p, err)
		}
		// The code is used up; and it expires after five minutes.
		if _, _, err := a.LoginOTP(ctx, "13912345678", sent.code, "1.2.3.4"); err == nil {
			t.Fatal("code reused")
		}
		a.SendOTP(ctx, "13912345678", "1.2.3.4")
		clock.Advance(6 * time.Minute)
		if _, _, err := a.LoginOTP(ctx, "13912345678", sent.code, "1.2.3.4"); err == nil {
			t.Fatal("expired code accepted")
		}
	})
}

func TestAPITokensAndDisabledAccounts(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC))
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, _, node := setup(t, s)
		u, err := a.CreateUser(ctx, nil, auth.NewUser{Username: "health", DisplayName: "卫健委", Kind: store.KindAPI, Role: access.Partner, NodeID: node.ID}, "")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := a.IssueToken(ctx, nil, u.ID, "test", "")
		if err != nil {
			t.Fatal(err)
		}
		p, err := a.ResolveToken(ctx, tok)
		if err != nil || !p.Can(access.APIRead, node.Path) {
			t.Fatalf("token: %v", err)
		}
		if _, err := a.ResolveToken(ctx, tok+"x"); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("forged token: %v", err)
		}
		if err := a.SetDisabled(ctx, nil, u.ID, true, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := a.ResolveToken(ctx, tok); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("token of a disabled account: %v", err)
		}
		// A password account: disabled accounts cannot log in.
		staff, err := a.CreateUser(ctx, nil, auth.NewUser{Username: "s1", DisplayName: "S", Password: "long-enough-1", Role: access.Staff, NodeID: node.ID}, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Login(ctx, "s1", "long-enough-1", "ip"); err != nil {
			t.Fatal(err)
		}
		a.SetDisabled(ctx, nil, staff.ID, true, "")
		if _, _, err := a.Login(ctx, "s1", "long-enough-1", "ip2"); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("disabled login: %v", err)
		}
	})
}

func TestOnlyAdminsGrantHighRoles(t *testing.T) {
	testutil.ForEachDB(t, nil, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a, _, node := setup(t, s)
		staff := &access.Principal{UserID: "x", Assignments: []access.Assignment{{Role: access.Staff, NodePath: node.Path}}}
		_, err := a.CreateUser(ctx, staff, auth.NewUser{Username: "boss", DisplayName: "B", Password: "long-enough-1", Role: access.Admin, NodeID: node.ID}, "")
		if !errs.Is(err, errs.Forbidden) {
			t.Fatalf("staff made an admin: %v", err)
		}
		outside := &access.Principal{UserID: "y", Assignments: []access.Assignment{{Role: access.Staff, NodePath: "/elsewhere/"}}}
		_, err = a.CreateUser(ctx, outside, auth.NewUser{Username: "g1", DisplayName: "G", Password: "long-enough-1", Role: access.Grid, NodeID: node.ID}, "")
		if !errs.Is(err, errs.Forbidden) {
			t.Fatalf("out-of-scope staff made an account: %v", err)
		}
		if _, err := a.CreateUser(ctx, staff, auth.NewUser{Username: "g1", DisplayName: "G", Password: "short", Role: access.Grid, NodeID: node.ID}, ""); !errs.Is(err, errs.Invalid) {
			t.Fatalf("short password: %v", err)
		}
	})
}

func TestPasswordHashRoundTrip(t *testing.T) {
	h, err := auth.HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !auth.CheckPassword(h, "correct horse") || auth.CheckPassword(h, "correct horsf") || auth.CheckPassword("garbage", "x") {
		t.Fatal("argon2id check wrong")
	}
	cheap, _ := auth.Argon2{Time: 1, MemoryKiB: 1024, Threads: 1}.Hash("pw")
	if !auth.CheckPassword(cheap, "pw") {
		t.Fatal("hash of another cost does not verify")
	}
}
