package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/store"
	"shequ/internal/testutil"
	"shequ/internal/webhook"
)

var start = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)

// fixture is a street with a community, a partner account holding the
// partner role there, and a staff member who manages sharing.
type fixture struct {
	s       *store.Store
	keys    *pii.Keyring
	svc     *webhook.Service
	street  store.OrgNode
	comm    store.OrgNode
	grid    store.OrgNode
	partner store.User
	staff   *access.Principal
}

func setup(t *testing.T, s *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{s: s, keys: pii.NewKeyring(bytes.Repeat([]byte{7}, 32))}
	f.svc = &webhook.Service{Store: s, Keys: f.keys}
	street := store.OrgNode{Code: "610113001000", Name: "街道", Level: store.LevelStreet}
	err := s.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateOrgNode(ctx, &street, ""); err != nil {
			return err
		}
		f.street = street
		f.comm = store.OrgNode{ParentID: street.ID, Code: "610113001001", Name: "社区", Level: store.LevelCommunity}
		if err := tx.CreateOrgNode(ctx, &f.comm, ""); err != nil {
			return err
		}
		f.grid = store.OrgNode{ParentID: f.comm.ID, Code: "610113001001001", Name: "第一网格", Level: store.LevelGrid}
		if err := tx.CreateOrgNode(ctx, &f.grid, ""); err != nil {
			return err
		}
		f.partner = store.User{Username: "health", DisplayName: "卫健委", Kind: store.KindAPI}
		if err := tx.CreateUser(ctx, &f.partner); err != nil {
			return err
		}
		staff := store.User{Username: "staff", DisplayName: "社区干部", Kind: store.KindStaff}
		if err := tx.CreateUser(ctx, &staff); err != nil {
			return err
		}
		f.staff = &access.Principal{UserID: staff.ID, Name: staff.DisplayName, Kind: store.KindStaff,
			Assignments: []access.Assignment{{Role: access.Staff, NodePath: street.Path}}}
		_, err := tx.Assign(ctx, f.partner.ID, string(access.Partner), street.ID, "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) subscribe(t *testing.T, url string, events ...string) (store.WebhookSubscription, string) {
	t.Helper()
	w, secret, err := f.svc.Subscribe(context.Background(), f.staff, f.partner.ID, url, events)
	if err != nil {
		t.Fatal(err)
	}
	return w, secret
}

// emit commits one change of a record (or several in one transaction).
func (f *fixture) emit(t *testing.T, kind string, keys ...string) {
	t.Helper()
	ctx := context.Background()
	if err := f.s.Write(ctx, func(tx *store.Tx) error {
		for _, k := range keys {
			if err := tx.EmitChange(ctx, kind, k, f.grid.Path, ""); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// receiver is a partner's endpoint: it checks each request's signature,
// can be "down" (503) as a whole or for one record, and records what it
// accepted.
type receiver struct {
	t       *testing.T
	secret  string
	now     func() time.Time
	down    atomic.Bool
	mu      sync.Mutex
	refuse  string // a record id answered 500
	got     []store.WebhookPayload
	headers []http.Header
	tries   atomic.Int32
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.tries.Add(1)
	body, _ := io.ReadAll(r.Body)
	if !webhook.Verify(rc.secret, r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature), body, rc.now(), 5*time.Minute) {
		rc.t.Errorf("bad signature on %s", body)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p store.WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		rc.t.Errorf("payload %s: %v", body, err)
	}
	rc.mu.Lock()
	refused := p.Record.ID == rc.refuse
	rc.mu.Unlock()
	if rc.down.Load() || refused {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if p.ID != r.Header.Get(webhook.HeaderDelivery) || p.Event != r.Header.Get(webhook.HeaderEvent) {
		rc.t.Errorf("headers %v do not match the payload %s", r.Header, body)
	}
	rc.mu.Lock()
	rc.got = append(rc.got, p)
	rc.headers = append(rc.headers, r.Header.Clone())
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) received() []store.WebhookPayload {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

func deliveries(t *testing.T, s *store.Store, partnerID string) map[string]store.WebhookDelivery {
	t.Helper()
	ds, err := s.WebhookDeliveries(context.Background(), partnerID, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]store.WebhookDelivery{}
	for _, d := range ds {
		out[d.ID] = d
	}
	return out
}

// The worked example of docs/webhooks.md.
func TestSignatureWorkedExample(t *testing.T) {
	secret := "whsec_Zm9yIHRoZSBkb2NzIG9ubHk"
	ts := "1796115600"
	body := []byte(`{"id":"01KB2W4M7Q0000000000000000","event":"lead.verified","seq":42,"at":"2026-12-01T09:00:00Z","node":"01KAX0C0MM0000000000000000","record":{"type":"lead","id":"01KB2W1Z3S0000000000000000"},"link":"/api/v1/leads/01KB2W1Z3S0000000000000000"}`)
	const want = "sha256=" + workedExample
	if got := webhook.Sign(secret, ts, body); got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	at := time.Unix(1796115600, 0).Add(time.Minute)
	if !webhook.Verify(secret, ts, want, body, at, 5*time.Minute) {
		t.Fatal("the example does not verify")
	}
	if webhook.Verify(secret, ts, want, append(body, ' '), at, 5*time.Minute) {
		t.Fatal("a changed body verifies")
	}
	if webhook.Verify("whsec_other", ts, want, body, at, 5*time.Minute) {
		t.Fatal("another secret verifies")
	}
	if webhook.Verify(secret, ts, want, body, at.Add(time.Hour), 5*time.Minute) {
		t.Fatal("a replay an hour later verifies")
	}
	// The developers' page shows the same example.
	doc, err := os.ReadFile("../../docs/webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secret, ts, string(body), want} {
		if !strings.Contains(string(doc), s) {
			t.Errorf("docs/webhooks.md lacks %s", s)
		}
	}
}

const workedExample = "e6a31d1aa0dadf29d41c1a9299285c5d2b3c1bbf51cb5081199ea79a988e8073"

// URLs must be https, or http to this machine only; events must be known.
func TestSubscribeChecks(t *testing.T) {
	clock := testutil.NewClock(start)
	s := testutil.OpenDB(t, "sqlite", clock.Now)
	f := setup(t, s)
	ctx := context.Background()
	for _, u := range []string{"http://partner.example/hook", "ftp://x/y", "https://", "https://user:pw@partner.example/", "not a url"} {
		if _, _, err := f.svc.Subscribe(ctx, f.staff, f.partner.ID, u, []string{store.HookLeadVerified}); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"https://partner.example/hook", "http://127.0.0.1:9000/x", "http://localhost/x", "http://[::1]:80/"} {
		if _, _, err := f.svc.Subscribe(ctx, f.staff, f.partner.ID, u, []string{store.HookLeadVerified}); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	if _, _, err := f.svc.Subscribe(ctx, f.staff, f.partner.ID, "https://p.example/", []string{"person.deleted"}); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("unknown event: %v", err)
	}
	outsider := &access.Principal{UserID: "x", Assignments: []access.Assignment{{Role: access.Staff, NodePath: "/elsewhere/"}}}
	if _, _, err := f.svc.Subscribe(ctx, outsider, f.partner.ID, "https://p.example/", []string{store.HookLeadVerified}); errs.CodeOf(err) != errs.Forbidden {
		t.Errorf("staff elsewhere: %v", err)
	}
	w, secret := f.subscribe(t, "https://p.example/", store.HookEventClosed)
	stored, _ := s.WebhookSubscription(ctx, w.ID)
	if bytes.Contains(stored.SecretEnc, []byte(secret)) || len(secret) < 40 {
		t.Fatal("the secret is stored in clear or too short")
	}
}

// A change that rolls back emits nothing; a committed one queues one
// delivery per active subscription wanting its kind, with no personal
// field in the payload.
func TestEmitIsTransactional(t *testing.T) {
	clock := testutil.NewClock(start)
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		clock.Set(start)
		ctx := context.Background()
		f := setup(t, s)
		leads, _ := f.subscribe(t, "https://a.example/", store.HookLeadVerified, store.HookPersonChanged)
		f.subscribe(t, "https://b.example/", store.HookEventClosed)
		off, _ := f.subscribe(t, "https://c.example/", store.HookLeadVerified)
		if err := f.svc.SetActive(ctx, f.staff, off.ID, false); err != nil {
			t.Fatal(err)
		}
		boom := errors.New("the change failed")
		err := s.Write(ctx, func(tx *store.Tx) error {
			if err := tx.EmitChange(ctx, store.HookLeadVerified, "L1", f.grid.Path, ""); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) || len(deliveries(t, s, f.partner.ID)) != 0 {
			t.Fatalf("a rolled-back change queued deliveries: %v", err)
		}
		f.emit(t, store.HookLeadVerified, "L1")
		ds := deliveries(t, s, f.partner.ID)
		if len(ds) != 1 {
			t.Fatalf("deliveries: %d", len(ds))
		}
		for _, d := range ds {
			var p map[string]any
			json.Unmarshal([]byte(d.Payload), &p)
			if d.SubscriptionID != leads.ID || p["event"] != "lead.verified" || p["node"] != f.comm.ID || p["link"] != "/api/v1/leads/L1" || p["id"] != d.ID {
				t.Fatalf("payload %s", d.Payload)
			}
			for k := range p {
				if !slices.Contains([]string{"id", "event", "seq", "at", "node", "record", "link"}, k) {
					t.Errorf("payload field %q", k)
				}
			}
		}

		// A person's ledger changes: one event per transaction however many
		// lines the history gets; a reveal is not a change; a rollback
		// sends nothing.
		change := func(action string, fail bool) error {
			return s.Write(ctx, func(tx *store.Tx) error {
				for range 2 {
					if err := tx.LogChange(ctx, &store.Change{EntityType: "person", EntityID: "P1", PersonID: "P1", Source: store.SourceUI, Action: action}); err != nil {
						return err
					}
				}
				if fail {
					return boom
				}
				return nil
			})
		}
		change("update", true)
		change("reveal", false)
		change("update", false)
		n := 0
		for _, d := range deliveries(t, s, f.partner.ID) {
			if d.Kind == store.HookPersonChanged {
				n++
				if d.RecordKey != "P1" {
					t.Errorf("record %s", d.RecordKey)
				}
			}
		}
		if n != 1 {
			t.Fatalf("person.changed deliveries: %d", n)
		}
		ps, err := s.WebhookPartners(ctx, []string{f.street.Path})
		if err != nil || len(ps) != 1 || ps[0].ID != f.partner.ID || ps[0].Subscriptions != 2 || ps[0].Dead != 0 {
			t.Fatalf("partners: %+v %v", ps, err)
		}
		if ps, _ := s.WebhookPartners(ctx, []string{f.comm.Path}); len(ps) != 0 {
			t.Fatalf("a partner of the street listed for one of its communities: %+v", ps)
		}
		if ds, err := s.WebhookDeliveries(ctx, f.partner.ID, store.HookPending, 10); err != nil || len(ds) != 2 {
			t.Fatalf("pending: %d %v", len(ds), err)
		}
	})
}

// A receiver down for a minute gets every event exactly once when it comes
// back, in order per record, with two deliverers running at once.
func TestReceiverDownThenBack(t *testing.T) {
	clock := testutil.NewClock(start)
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		clock.Set(start)
		ctx := context.Background()
		f := setup(t, s)
		rc := &receiver{t: t, now: clock.Now}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		var secret string
		_, secret = f.subscribe(t, srv.URL+"/hook", store.HookLeadVerified, store.HookEventClosed)
		rc.secret = secret
		rc.down.Store(true)

		f.emit(t, store.HookLeadVerified, "A")
		f.emit(t, store.HookLeadVerified, "B")
		f.emit(t, store.HookEventClosed, "A", "C") // one transaction, two records
		f.emit(t, store.HookLeadVerified, "A")
		f.emit(t, store.HookEventClosed, "B")

		d1 := &webhook.Deliverer{Store: s, Keys: f.keys}
		d2 := &webhook.Deliverer{Store: s, Keys: f.keys}
		both := func() {
			var wg sync.WaitGroup
			for _, d := range []*webhook.Deliverer{d1, d2} {
				wg.Go(func() {
					if _, err := d.Run(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}
		both()
		// Only the first event of each record was tried, once.
		if n := rc.tries.Load(); n != 3 {
			t.Fatalf("tries while down: %d", n)
		}
		for _, d := range deliveries(t, s, f.partner.ID) {
			if d.Status != store.HookPending {
				t.Fatalf("status %s", d.Status)
			}
			// Seq 1 (A), 2 (B) and 4 (C) are their records' first events.
			if first := d.Seq == 1 || d.Seq == 2 || d.Seq == 4; first != (d.Attempts == 1) || !first && d.Attempts != 0 {
				t.Errorf("seq %d of %s: %d attempts", d.Seq, d.RecordKey, d.Attempts)
			}
		}
		both() // too early: the back-off has not run out
		if n := rc.tries.Load(); n != 3 {
			t.Fatalf("retried before the back-off ran out: %d tries", n)
		}
		clock.Advance(30 * time.Second)
		both()
		if n := rc.tries.Load(); n != 6 {
			t.Fatalf("tries after 30 s: %d", n)
		}
		clock.Advance(61 * time.Second) // a minute and a half: the receiver is back
		rc.down.Store(false)
		both()
		got := rc.received()
		if len(got) != 6 {
			t.Fatalf("received %d events: %+v", len(got), got)
		}
		seen := map[string]bool{}
		last := map[string]int64{}
		for _, p := range got {
			if seen[p.ID] {
				t.Errorf("delivery %s received twice", p.ID)
			}
			seen[p.ID] = true
			if p.Seq <= last[p.Record.ID] {
				t.Errorf("record %s: seq %d after %d", p.Record.ID, p.Seq, last[p.Record.ID])
			}
			last[p.Record.ID] = p.Seq
		}
		for _, d := range deliveries(t, s, f.partner.ID) {
			if d.Status != store.HookDelivered || d.DeliveredAt.IsZero() {
				t.Errorf("delivery %d: %s", d.Seq, d.Status)
			}
		}
		both()
		if len(rc.received()) != 6 {
			t.Fatal("an event was sent again")
		}
	})
}

// A record whose receiver keeps failing does not hold up other records;
// after MaxAge its delivery is dead, the next one of the record goes,
// and a retried dead one is delivered. A delivery the sharing gate
// refuses is dropped unsent.
func TestStuckRecordAndDead(t *testing.T) {
	clock := testutil.NewClock(start)
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		clock.Set(start)
		ctx := context.Background()
		f := setup(t, s)
		rc := &receiver{t: t, now: clock.Now, refuse: "STUCK"}
		srv := httptest.NewServer(rc)
		defer srv.Close()
		_, rc.secret = f.subscribe(t, srv.URL, store.HookLeadVerified, store.HookAlarmRaised)
		f.emit(t, store.HookLeadVerified, "STUCK")
		f.emit(t, store.HookLeadVerified, "OK1")
		f.emit(t, store.HookLeadVerified, "STUCK")
		f.emit(t, store.HookLeadVerified, "OK2")
		f.emit(t, store.HookAlarmRaised, "ALARM")
		var asked []string
		var mu sync.Mutex
		d := &webhook.Deliverer{Store: s, Keys: f.keys, MaxAge: 2 * time.Hour, Allowed: func(_ context.Context, partnerID, kind, nodePath string) bool {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, partnerID+" "+kind+" "+nodePath)
			return kind != store.HookAlarmRaised
		}}
		res, err := d.Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if res.Sent != 2 || res.Failed != 1 || res.Dropped != 1 {
			t.Fatalf("first run: %+v", res)
		}
		if !slices.Contains(asked, f.partner.ID+" alarm.raised "+f.grid.Path) {
			t.Fatalf("the gate was asked %v", asked)
		}
		for _, p := range rc.received() {
			if p.Record.ID == "STUCK" || p.Record.ID == "ALARM" {
				t.Fatalf("received %+v", p)
			}
		}
		var stuck []store.WebhookDelivery
		for _, dl := range deliveries(t, s, f.partner.ID) {
			switch dl.RecordKey {
			case "ALARM":
				if dl.Status != store.HookDead || dl.LastError != webhook.ReasonRefused {
					t.Errorf("refused alarm: %s %q", dl.Status, dl.LastError)
				}
			case "STUCK":
				stuck = append(stuck, dl)
			}
		}
		slices.SortFunc(stuck, func(a, b store.WebhookDelivery) int { return int(a.Seq - b.Seq) })
		// Keep failing for two hours, backing off.
		for clock.Now().Sub(start) < 2*time.Hour+time.Minute {
			clock.Advance(10 * time.Minute)
			if _, err := d.Run(ctx); err != nil {
				t.Fatal(err)
			}
		}
		first, _ := s.WebhookDelivery(ctx, stuck[0].ID)
		second, _ := s.WebhookDelivery(ctx, stuck[1].ID)
		if first.Status != store.HookDead || !strings.Contains(first.LastError, "503") || first.Attempts < 5 || first.Attempts > 14 {
			t.Fatalf("stuck delivery after the limit: %s, %d attempts, %q", first.Status, first.Attempts, first.LastError)
		}
		if second.Status != store.HookDead || second.Attempts > 1 {
			// Queued at the same time, it expires too; it got at most one try
			// after the first was given up on.
			t.Fatalf("second of the stuck record: %s after %d attempts", second.Status, second.Attempts)
		}
		// The partner fixes its side; staff retry the dead deliveries in order.
		rc.mu.Lock()
		rc.refuse = ""
		rc.mu.Unlock()
		for _, dl := range []store.WebhookDelivery{first, second} {
			if err := f.svc.Retry(ctx, f.staff, dl.ID); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.Retry(ctx, f.staff, first.ID); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("retrying a pending delivery: %v", err)
		}
		if res, err := d.Run(ctx); err != nil || res.Sent != 2 {
			t.Fatalf("after retry: %+v %v", res, err)
		}
		got := rc.received()
		if n := len(got); n != 4 || got[2].ID != first.ID || got[3].ID != second.ID {
			t.Fatalf("received %+v", got)
		}
	})
}

// A ping goes to a subscription at once, whatever it subscribed to.
func TestPing(t *testing.T) {
	clock := testutil.NewClock(start)
	s := testutil.OpenDB(t, "sqlite", clock.Now)
	f := setup(t, s)
	ctx := context.Background()
	rc := &receiver{t: t, now: clock.Now}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	w, secret := f.subscribe(t, srv.URL, store.HookEventClosed)
	rc.secret = secret
	id, err := f.svc.Ping(ctx, f.staff, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := (&webhook.Deliverer{Store: s, Keys: f.keys}).Run(ctx); err != nil || res.Sent != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	got := rc.received()
	if len(got) != 1 || got[0].ID != id || got[0].Event != "ping" || rc.headers[0].Get(webhook.HeaderEvent) != "ping" {
		t.Fatalf("%+v", got)
	}
}

// Transactions emitting at once, to several subscriptions in different
// orders, neither deadlock nor share a number; each subscription's
// numbers run 1, 2, 3 … without gaps.
func TestConcurrentEmitters(t *testing.T) {
	clock := testutil.NewClock(start)
	testutil.ForEachDB(t, clock.Now, func(t *testing.T, s *store.Store) {
		clock.Set(start)
		ctx := context.Background()
		f := setup(t, s)
		f.subscribe(t, "https://a.example/", store.HookLeadVerified)
		f.subscribe(t, "https://b.example/", store.HookEventClosed)
		f.subscribe(t, "https://c.example/", store.HookLeadVerified, store.HookEventClosed)
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				kinds := []string{store.HookLeadVerified, store.HookEventClosed}
				if i%2 == 1 {
					slices.Reverse(kinds)
				}
				err := s.Write(ctx, func(tx *store.Tx) error {
					for _, k := range kinds {
						if err := tx.EmitChange(ctx, k, "R", f.comm.Path, ""); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		seqs := map[string][]int64{}
		for _, d := range deliveries(t, s, f.partner.ID) {
			seqs[d.SubscriptionID] = append(seqs[d.SubscriptionID], d.Seq)
		}
		if len(seqs) != 3 {
			t.Fatalf("subscriptions with deliveries: %d", len(seqs))
		}
		for sub, list := range seqs {
			slices.Sort(list)
			for i, n := range list {
				if n != int64(i+1) {
					t.Fatalf("subscription %s: numbers %v", sub, list)
				}
			}
		}
	})
}
