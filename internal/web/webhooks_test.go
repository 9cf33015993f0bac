package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/events"
	"shequ/internal/leads"
	"shequ/internal/sharing"
	"shequ/internal/store"
	"shequ/internal/webhook"
)

// An administrator subscribes the demo partner to all four kinds of
// change (the secret shown once); a test result, a verified lead, a gate
// alarm and a closed event each reach the receiver signed, with no
// personal field; a ping, disabling and retrying a dead delivery work
// from the page; staff outside the partner's scope are refused.
func TestWebhookPages(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ctx := context.Background()
	admin := e.Login(t, access.Admin)
	base := e.Server.URL
	partner, err := e.App.Store.UserByUsername(ctx, "qindu-health")
	if err != nil {
		t.Fatal(err)
	}
	type hit struct {
		header http.Header
		body   []byte
	}
	var mu sync.Mutex
	var hits []hit
	received := func() []hit {
		mu.Lock()
		defer mu.Unlock()
		return append([]hit(nil), hits...)
	}
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hits = append(hits, hit{r.Header.Clone(), b})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()

	st, body, _ := apptest.Do(t, admin, "GET", base+"/webhooks", nil, nil)
	if st != 200 || !strings.Contains(body, "qindu-health") || strings.Contains(body, "webhook.") {
		t.Fatalf("partners: %d\n%s", st, snippet(body))
	}
	if _, body, _ = apptest.Do(t, admin, "GET", base+"/users/"+partner.ID, nil, nil); !strings.Contains(body, `href="/webhooks/partners/`+partner.ID+`"`) {
		t.Fatal("the partner's account page does not link to its webhooks")
	}
	page := base + "/webhooks/partners/" + partner.ID
	st, body, _ = apptest.Do(t, admin, "POST", page, url.Values{"url": {"http://partner.example/hook"}, "events": {"event.closed"}}, nil)
	if st != 400 || !strings.Contains(body, "https") || strings.Contains(body, `id="new-secret"`) {
		t.Fatalf("plain http elsewhere: %d", st)
	}
	all := url.Values{"url": {rcv.URL + "/hook"}, "events": store.HookKinds}
	st, body, _ = apptest.Do(t, admin, "POST", page, all, nil)
	secret := between(body, `<code id="new-secret" class="mono">`, `</code>`)
	if st != 200 || !strings.HasPrefix(secret, "whsec_") || strings.Contains(body, "webhook.") {
		t.Fatalf("subscribe: %d %q\n%s", st, secret, snippet(body))
	}
	if _, body, _ = apptest.Do(t, admin, "GET", page, nil, nil); strings.Contains(body, secret) || !strings.Contains(body, rcv.URL) {
		t.Fatal("the secret is shown again, or the subscription is missing")
	}
	for _, role := range []access.Role{access.Staff, access.Grid} { // staff of one community; no share.manage
		if st, _, _ := apptest.Do(t, e.Login(t, role), "GET", page, nil, nil); st != 403 {
			t.Errorf("%s: %d", role, st)
		}
	}

	// The sharing gate lets a partner hear only of what its agreement
	// covers: extend the demo agreement to leads and events.
	ags, _ := e.App.Store.PartnerAgreements(ctx, partner.ID)
	gr := sharing.ParseGrants(ags[0].Grants)
	gr["leads"] = sharing.Grant{Fields: []string{"id", "status"}}
	gr["events"] = sharing.Grant{Fields: []string{"id", "ref", "status"}}
	if _, err := e.App.Web.Sharing.Save(ctx, principal(t, e, access.Admin), sharing.Input{ID: ags[0].ID, Name: ags[0].Name, Purpose: ags[0].Purpose,
		ExpiresOn: ags[0].ExpiresOn, RateLimit: ags[0].RateLimit, Grants: gr}); err != nil {
		t.Fatal(err)
	}

	// The four changes.
	raw := store.RawForTest(e.App.Store)
	var personID string
	raw.QueryRow(`SELECT m.person_id FROM household_members m WHERE m.until IS NULL ORDER BY m.person_id LIMIT 1`).Scan(&personID)
	if err := e.App.Ledger.AddTest(ctx, systemActor(), store.HealthTest{PersonID: personID, Kind: "nucleic", Result: "negative", SampledAt: e.Clock.Now()}); err != nil {
		t.Fatal(err)
	}
	var leadID string
	raw.QueryRow(`SELECT id FROM leads WHERE status <> 'verified' ORDER BY id LIMIT 1`).Scan(&leadID)
	if err := e.App.Web.Leads.Verify(ctx, principal(t, e, access.Admin), leadID, leads.VerifyInput{Method: "phone", Outcome: "not_found",
		Note: "电话无人接听", CallRecord: "拨打2次"}); err != nil {
		t.Fatal(err)
	}
	card, _ := aCard(t, e)
	if st, body := postJSON(t, e, "/api/device/v1/decide", deviceToken(t, e, "FL-S-TURNSTILE"), `{"credential":{"kind":"card","value":"`+card+`"},"temperature":38.9}`); st != 200 {
		t.Fatalf("a feverish resident at the gate: %d %s", st, body)
	}
	e.App.Gates.FlushLog()
	var eventRef, eventComm string
	raw.QueryRow(`SELECT ref, community_id FROM events WHERE status = 'verified' ORDER BY ref LIMIT 1`).Scan(&eventRef, &eventComm)
	if _, err := e.App.Web.Events.Act(ctx, principalAt(t, e, access.Staff, eventComm), eventRef, events.Action{Name: "close"}); err != nil {
		t.Fatal(err)
	}
	if res, err := e.App.Webhooks.Run(ctx); err != nil || res.Sent < 4 || res.Failed != 0 {
		t.Fatalf("deliver: %+v %v", res, err)
	}
	kinds := map[string]store.WebhookPayload{}
	now := e.Clock.Now()
	for _, h := range received() {
		if !webhook.Verify(secret, h.header.Get(webhook.HeaderTimestamp), h.header.Get(webhook.HeaderSignature), h.body, now, time.Minute) {
			t.Errorf("signature of %s", h.body)
		}
		var p store.WebhookPayload
		json.Unmarshal(h.body, &p)
		kinds[p.Event] = p
		if strings.Contains(string(h.body), "name") || p.ID != h.header.Get(webhook.HeaderDelivery) {
			t.Errorf("payload %s", h.body)
		}
	}
	if p := kinds["person.changed"]; p.Record.ID != personID || p.Link != "/api/v1/persons/"+personID || p.Node == "" {
		t.Errorf("person.changed: %+v", p)
	}
	if p := kinds["lead.verified"]; p.Record.ID != leadID {
		t.Errorf("lead.verified: %+v", p)
	}
	if p := kinds["event.closed"]; p.Record.Ref != eventRef || p.Node != eventComm {
		t.Errorf("event.closed: %+v", p)
	}
	if p := kinds["alarm.raised"]; p.Record.Type != "alarm" {
		t.Errorf("alarm.raised: %+v (got %d notices)", p, len(received()))
	}

	// Ping, disable, and retry a dead delivery from the page.
	subs, _ := e.App.Store.WebhookSubscriptions(ctx, partner.ID)
	st, _, h := apptest.Do(t, admin, "POST", base+"/webhooks/subscriptions/"+subs[0].ID+"/ping", nil, nil)
	if st != 303 || strings.Contains(h.Get("Location"), "error=") {
		t.Fatalf("ping: %d %s", st, h.Get("Location"))
	}
	before := len(received())
	if res, _ := e.App.Webhooks.Run(ctx); res.Sent != 1 || len(received()) != before+1 || received()[before].header.Get(webhook.HeaderEvent) != "ping" {
		t.Fatalf("ping not sent: %+v", res)
	}
	if st, _, _ := apptest.Do(t, admin, "POST", base+"/webhooks/subscriptions/"+subs[0].ID+"/disable", nil, nil); st != 303 {
		t.Fatalf("disable: %d", st)
	}
	raw.Exec(`UPDATE webhook_deliveries SET status = 'dead', last_error = $1 WHERE kind = 'lead.verified'`, webhook.ReasonRefused)
	_, body, _ = apptest.Do(t, admin, "GET", page+"?status=dead", nil, nil)
	dead := between(body, `action="/webhooks/deliveries/`, `/retry"`)
	if dead == "" || !strings.Contains(body, "没有共享协议覆盖") || !strings.Contains(body, "已停用") {
		t.Fatalf("dead deliveries:\n%s", snippet(body))
	}
	if st, _, h := apptest.Do(t, admin, "POST", base+"/webhooks/deliveries/"+dead+"/retry", nil, nil); st != 303 || strings.Contains(h.Get("Location"), "error=") {
		t.Fatalf("retry: %d %s", st, h.Get("Location"))
	}
	if d, _ := e.App.Store.WebhookDelivery(ctx, dead); d.Status != store.HookPending {
		t.Fatalf("retried delivery is %s", d.Status)
	}
}
