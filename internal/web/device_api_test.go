package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/demo"
	"shequ/internal/gate"
	"shequ/internal/store"
)

func deviceToken(t *testing.T, e *apptest.Env, code string) string {
	t.Helper()
	for _, d := range e.Demo.Devices {
		if d.GateCode == code {
			return d.Token
		}
	}
	t.Fatalf("no demo device %s", code)
	return ""
}

func postJSON(t *testing.T, e *apptest.Env, path, token, body string) (int, string) {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	req, _ := httpNewRequest("POST", e.Server.URL+path, body)
	for k, v := range h {
		req.Header.Set(k, v)
	}
	resp, err := e.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := new(strings.Builder)
	_, _ = ioCopy(b, resp.Body)
	return resp.StatusCode, b.String()
}

// decideAt asks, as a device, whether credential c may pass at 36.5 °C.
func decideAt(t *testing.T, e *apptest.Env, token string, c gate.Credential) gate.DecideResponse {
	t.Helper()
	body, _ := json.Marshal(gate.DecideRequest{Credential: c, TemperatureC: 36.5})
	st, raw := postJSON(t, e, "/api/device/v1/decide", token, string(body))
	var r gate.DecideResponse
	if err := json.Unmarshal([]byte(raw), &r); st != 200 || err != nil {
		t.Fatalf("decide: %d %s", st, raw)
	}
	return r
}

// aCard returns a card number of a village resident who lives there now.
func aCard(t *testing.T, e *apptest.Env) (string, string) {
	t.Helper()
	ctx := context.Background()
	comm, _ := e.App.Store.OrgNodeByCode(ctx, "610402011002")
	hits, _, _ := e.App.Store.Persons(ctx, store.PersonFilter{Scopes: []string{comm.Path}, Residency: "registered", Limit: 50})
	for _, h := range hits {
		cs, _ := e.App.Store.PersonCredentials(ctx, h.ID)
		for _, c := range cs {
			if c.Kind == "card" {
				v, _ := e.App.Keys.DecryptString(c.ValueEnc, "credentials.value")
				return v, h.ID
			}
		}
	}
	t.Fatal("no carded resident in the village")
	return "", ""
}

func TestDeviceAPIDecisions(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			e := apptest.Start(t, engine)
			tok := deviceToken(t, e, "FL-S-BOOTH")
			card, personID := aCard(t, e)
			decide := func(body string) (int, gate.DecideResponse, string) {
				status, raw := postJSON(t, e, "/api/device/v1/decide", tok, body)
				var r gate.DecideResponse
				json.Unmarshal([]byte(raw), &r)
				return status, r, raw
			}
			if st, r, raw := decide(`{"credential":{"kind":"card","value":"` + card + `"},"temperature":36.4}`); st != 200 || r.Outcome != "allow" || r.PersonID != personID || !strings.Contains(r.Person, "*") {
				t.Fatalf("resident card: %d %s", st, raw)
			}
			if _, r, _ := decide(`{"credential":{"kind":"card","value":"` + card + `"},"temperature":37.3}`); r.Outcome != "deny" || r.Reason != "fever" {
				t.Fatalf("37.3 must be fever: %+v", r)
			}
			if _, r, _ := decide(`{"credential":{"kind":"card","value":"NOPE0000"}}`); r.Outcome != "deny" || r.Reason != "unknown_person" {
				t.Fatalf("unknown card: %+v", r)
			}
			// A resident put under home quarantine is refused, and let in again when it is lifted.
			ctx := context.Background()
			if err := e.App.Ledger.StartMonitoring(ctx, systemActor(), store.Monitoring{PersonID: personID, Kind: "home_quarantine",
				StartDate: e.App.Store.Today(), EndDate: e.App.Store.Now().AddDate(0, 0, 7).Format("2006-01-02")}); err != nil {
				t.Fatal(err)
			}
			if _, r, _ := decide(`{"credential":{"kind":"card","value":"` + card + `"}}`); r.Outcome != "deny" || r.Reason != "monitoring" {
				t.Fatalf("quarantined resident: %+v", r)
			}
			// A QR pass works for the resident; forged and expired ones do not.
			comm, _ := e.App.Store.OrgNodeByCode(ctx, "610402011002")
			pass := e.App.Gates.ResidentPass(personID, comm.ID, time.Minute)
			if _, r, _ := decide(`{"credential":{"kind":"qr","value":"` + pass + `"}}`); r.PersonID != personID {
				t.Fatalf("resident pass: %+v", r)
			}
			forged := pass[:len(pass)-3] + "abc"
			if _, r, _ := decide(`{"credential":{"kind":"qr","value":"` + forged + `"}}`); r.Reason != "unknown_person" {
				t.Fatalf("forged pass: %+v", r)
			}
			e.Clock.Advance(2 * time.Minute)
			if _, r, _ := decide(`{"credential":{"kind":"qr","value":"` + pass + `"}}`); r.Outcome != "deny" || r.Reason != "pass_expired" || !strings.Contains(r.Message, "刷新") {
				t.Fatalf("expired pass: %+v", r)
			}
			// Bad input answers 400 with a JSON error; bad tokens 401.
			for name, body := range map[string]string{
				"malformed":         `{"credential":`,
				"unknown field":     `{"credential":{"kind":"card","value":"x"},"colour":"red"}`,
				"short descriptor":  `{"credential":{"kind":"face","descriptor":[0.1,0.2],"model":"m"}}`,
				"NaN in descriptor": `{"credential":{"kind":"face","descriptor":[` + strings.Repeat("0.1,", 127) + `"NaN"],"model":"m"}}`,
				"impossible temp":   `{"credential":{"kind":"card","value":"` + card + `"},"temperature":99}`,
				"unknown kind":      `{"credential":{"kind":"palm","value":"x"}}`,
				"oversized":         `{"credential":{"kind":"card","value":"` + strings.Repeat("9", 70000) + `"}}`,
			} {
				if st, raw := postJSON(t, e, "/api/device/v1/decide", tok, body); st != 400 || !strings.Contains(raw, `"code": "invalid"`) {
					t.Errorf("%s: %d %s", name, st, raw)
				}
			}
			if st, _ := postJSON(t, e, "/api/device/v1/decide", "", `{}`); st != 401 {
				t.Errorf("no token: %d", st)
			}
			if st, _ := postJSON(t, e, "/api/device/v1/decide", "sq_unknown", `{}`); st != 401 {
				t.Errorf("unknown token: %d", st)
			}
			// A staff session is not a device.
			if st, _, _ := apptest.Do(t, e.Login(t, access.Staff), "POST", e.Server.URL+"/api/device/v1/decide", url.Values{}, nil); st != 403 {
				t.Errorf("staff as device: %d", st)
			}
			// Alarms were raised for the fever and the stranger.
			e.App.Gates.FlushLog()
			gates, _ := e.App.Store.Gates(ctx, []string{comm.Path})
			var ids []string
			for _, g := range gates {
				ids = append(ids, g.ID)
			}
			alarms, _ := e.App.Store.Alarms(ctx, ids, true, 50)
			kinds := map[string]int{}
			for _, a := range alarms {
				kinds[a.Kind]++
			}
			if kinds["fever"] != 1 || kinds["stranger"] < 2 {
				t.Fatalf("alarms %v", kinds)
			}
		})
	}
}

func TestDeviceEventsAreIdempotent(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	tok := deviceToken(t, e, "HY-N-TURNSTILE")
	at := time.Date(2026, 11, 28, 7, 30, 0, 0, time.UTC)
	var evs []string
	for i := 0; i < 20; i++ {
		evs = append(evs, fmt.Sprintf(`{"event_id":"ev-%d","credential":{"kind":"card","value":"HY%08d"},"outcome":"allow","temperature":36.5,"device_time":"%s"}`,
			i, 10000000+i, at.Add(time.Duration(i)*time.Second).Format(time.RFC3339)))
	}
	body := `{"events":[` + strings.Join(evs, ",") + `]}`
	st, raw := postJSON(t, e, "/api/device/v1/events", tok, body)
	var r gate.EventsResponse
	json.Unmarshal([]byte(raw), &r)
	if st != 200 || len(r.Accepted) != 20 || len(r.Duplicates) != 0 {
		t.Fatalf("first upload: %d %s", st, raw)
	}
	// The device retries the same batch (it lost the answer): stored once.
	_, raw = postJSON(t, e, "/api/device/v1/events", tok, body)
	json.Unmarshal([]byte(raw), &r)
	if len(r.Accepted) != 0 || len(r.Duplicates) != 20 {
		t.Fatalf("retry: %s", raw)
	}
	var n int
	store.RawForTest(e.App.Store).QueryRow(`SELECT count(*) FROM pass_events WHERE event_id LIKE 'ev-%'`).Scan(&n)
	if n != 20 {
		t.Fatalf("%d events stored, want 20", n)
	}
	// A device clock far off is kept as the device said, beside the server time.
	_, raw = postJSON(t, e, "/api/device/v1/events", tok, `{"events":[{"event_id":"skew","credential":{"kind":"card","value":"X1234"},"outcome":"deny","device_time":"2020-01-01T00:00:00Z"}]}`)
	var dt, rt int64
	store.RawForTest(e.App.Store).QueryRow(`SELECT device_time, received_at FROM pass_events WHERE event_id = 'skew'`).Scan(&dt, &rt)
	if dt != time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() || rt != e.App.Store.Now().UnixMilli() {
		t.Fatalf("clocks: device %d received %d", dt, rt)
	}
	// Malformed events are rejected by id, the good ones kept.
	_, raw = postJSON(t, e, "/api/device/v1/events", tok, `{"events":[{"event_id":"","outcome":"allow","device_time":"2026-11-28T07:00:00Z","credential":{"kind":"card"}},{"event_id":"ok-1","outcome":"maybe","device_time":"2026-11-28T07:00:00Z","credential":{"kind":"card"}}]}`)
	json.Unmarshal([]byte(raw), &r)
	if len(r.Rejected) != 2 {
		t.Fatalf("rejections: %s", raw)
	}
}

func TestHeartbeatAndOfflineAlarm(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	tok := deviceToken(t, e, "HY-N-TEMPDOOR")
	if st, raw := postJSON(t, e, "/api/device/v1/heartbeat", tok, `{"device_time":"2026-11-28T09:00:00Z"}`); st != 200 || !strings.Contains(raw, "server_time") {
		t.Fatalf("heartbeat: %d %s", st, raw)
	}
	e.Clock.Advance(10 * time.Minute)
	if err := e.App.Gates.CheckSilentDevices(context.Background(), 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	e.App.Gates.FlushLog()
	var n int
	store.RawForTest(e.App.Store).QueryRow(`SELECT count(*) FROM alarms WHERE kind = 'device_offline'`).Scan(&n)
	if n != 1 {
		t.Fatalf("offline alarms: %d", n)
	}
	// Still silent: no second alarm.
	e.App.Gates.CheckSilentDevices(context.Background(), 3*time.Minute)
	e.App.Gates.FlushLog()
	store.RawForTest(e.App.Store).QueryRow(`SELECT count(*) FROM alarms WHERE kind = 'device_offline'`).Scan(&n)
	if n != 1 {
		t.Fatalf("offline alarms after a second check: %d", n)
	}
	// The device comes back: its alarm closes itself.
	if st, raw := postJSON(t, e, "/api/device/v1/heartbeat", tok, `{}`); st != 200 {
		t.Fatalf("heartbeat after the outage: %d %s", st, raw)
	}
	store.RawForTest(e.App.Store).QueryRow(`SELECT count(*) FROM alarms WHERE kind = 'device_offline' AND status <> 'handled'`).Scan(&n)
	if n != 0 {
		t.Fatalf("offline alarms still open after the device came back: %d", n)
	}
	// Sync lists the community's credentials in pages.
	req, _ := httpNewRequest("GET", e.Server.URL+"/api/device/v1/sync?cursor=0&limit=100", "")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := e.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var sr gate.SyncResponse
	json.Unmarshal(raw, &sr)
	if strings.Contains(string(raw), "0001-01-01") {
		t.Fatalf("a credential without expiry is sent with the zero time: %.300s", raw)
	}
	if len(sr.Changes) != 100 || !sr.More || sr.Cursor == 0 || sr.Changes[0].Credential.Value == "" {
		t.Fatalf("sync page: %d changes, more %v, cursor %d", len(sr.Changes), sr.More, sr.Cursor)
	}
}

func TestRemoteOpenReachesTheDeviceOnlyWhileFresh(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	tok := deviceToken(t, e, "FL-S-TURNSTILE")
	var gateID string
	store.RawForTest(e.App.Store).QueryRow(`SELECT id FROM gates WHERE code = 'FL-S-TURNSTILE'`).Scan(&gateID)
	open := func() {
		t.Helper()
		if st, body, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/gates/open/"+gateID, url.Values{"reason": {"救护车"}}, nil); st >= 400 {
			t.Fatalf("remote open: %d\n%s", st, snippet(body))
		}
	}
	var hb gate.HeartbeatResponse
	opens := func() bool {
		t.Helper()
		st, raw := postJSON(t, e, "/api/device/v1/heartbeat", tok, `{}`)
		if st != 200 {
			t.Fatalf("heartbeat: %d %s", st, raw)
		}
		hb = gate.HeartbeatResponse{}
		if err := json.Unmarshal([]byte(raw), &hb); err != nil {
			t.Fatal(err)
		}
		return hb.OpenNow
	}
	// Devices on MQTT are told at once, with the same request time.
	sent := &sentCommands{}
	e.App.Gates.Commands = sent
	open()
	if !opens() {
		t.Fatal("the device was not told to open")
	}
	var userID string
	store.RawForTest(e.App.Store).QueryRow(`SELECT user_id FROM devices WHERE gate_id = $1`, gateID).Scan(&userID)
	if len(sent.to) != 1 || sent.to[0] != userID || sent.payload[0]["cmd"] != "open" || !sent.payload[0]["at"].(time.Time).Equal(hb.OpenAt) {
		t.Fatalf("MQTT command %v %v, heartbeat open_at %v", sent.to, sent.payload, hb.OpenAt)
	}
	if opens() {
		t.Fatal("one remote open opened the gate twice")
	}
	// A device that was away for longer than a minute does not open late.
	open()
	e.Clock.Advance(2 * time.Minute)
	if opens() {
		t.Fatal("a stale remote open reached the device")
	}
}

// sentCommands keeps what the gate service sends to MQTT devices (the
// bridge's own publishing is tested against Mosquitto in mqttbridge).
type sentCommands struct {
	to      []string
	payload []map[string]any
}

func (c *sentCommands) Command(deviceID string, payload any) error {
	c.to = append(c.to, deviceID)
	c.payload = append(c.payload, payload.(map[string]any))
	return nil
}

// syncFrom pages the device's credential changes after a cursor.
func syncFrom(t *testing.T, e *apptest.Env, token string, cursor int64) []gate.SyncChange {
	t.Helper()
	var all []gate.SyncChange
	for {
		req, _ := httpNewRequest("GET", e.Server.URL+"/api/device/v1/sync?limit=1000&cursor="+strconv.FormatInt(cursor, 10), "")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := e.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var sr gate.SyncResponse
		err = json.NewDecoder(resp.Body).Decode(&sr)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("sync: %d %v", resp.StatusCode, err)
		}
		all, cursor = append(all, sr.Changes...), sr.Cursor
		if !sr.More {
			return all
		}
	}
}

// A device deciding offline learns of moves, contract ends and list
// entries through sync, with the window in which each credential opens
// the gate; nobody has to resync from scratch.
func TestSyncFollowsMovesContractsAndLists(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			e := apptest.Start(t, engine)
			ctx := context.Background()
			tok := deviceToken(t, e, "FL-S-TURNSTILE")
			cst := time.FixedZone("CST", 8*3600)
			nextDay := func(date string) time.Time {
				d, _ := time.ParseInLocation("2006-01-02", date, cst)
				return d.AddDate(0, 0, 1).UTC()
			}
			// From scratch: every tenant's card ends the day after their contract.
			all := syncFrom(t, e, tok, 0)
			var cursor int64
			tenants := 0
			for _, c := range all {
				cursor = max(cursor, c.Seq)
				if c.Op != "put" || c.ValidUntil.IsZero() {
					continue
				}
				ms, _ := e.App.Store.Memberships(ctx, c.PersonID)
				for _, m := range ms {
					if m.Kind == "rental" && m.Until != "" && c.ValidUntil.Equal(nextDay(m.Until)) {
						tenants++
					}
				}
			}
			if tenants == 0 {
				t.Fatalf("no tenant's card carries the end of their contract (%d changes)", len(all))
			}
			// Moving out deletes the card from devices.
			card, personID := aCard(t, e)
			ms, _ := e.App.Store.Memberships(ctx, personID)
			yesterday := e.App.Store.Now().In(cst).AddDate(0, 0, -1).Format("2006-01-02")
			if err := e.App.Ledger.MoveOut(ctx, systemActor(), personID, ms[0].HouseholdID, yesterday, "搬走"); err != nil {
				t.Fatal(err)
			}
			changes := syncFrom(t, e, tok, cursor)
			if len(changes) == 0 || changes[0].PersonID != personID || changes[0].Op != "delete" || changes[0].Credential.Value != "" {
				t.Fatalf("after moving out: %+v", changes)
			}
			if r := decideAt(t, e, tok, gate.Credential{Kind: "card", Value: card}); r.Outcome != "deny" || r.Reason != "not_authorised" {
				t.Fatalf("a moved-out resident's card online: %+v", r)
			}
			cursor = changes[len(changes)-1].Seq
			// A courier entry from tomorrow morning brings it back, for that window.
			comm, _ := e.App.Store.OrgNodeByCode(ctx, demo.VillageCode)
			from := e.App.Store.Now().Add(20 * time.Hour).Truncate(time.Millisecond)
			until := from.Add(10 * time.Hour)
			if _, err := e.App.Gates.AddListEntry(ctx, gate.Actor{}, comm.ID, personID, "courier", from, until, "快递"); err != nil {
				t.Fatal(err)
			}
			changes = syncFrom(t, e, tok, cursor)
			if len(changes) == 0 || changes[0].Op != "put" || changes[0].Credential.Value != card ||
				!changes[0].ValidFrom.Equal(from) || !changes[0].ValidUntil.Equal(until) {
				t.Fatalf("after the courier entry: %+v", changes)
			}
		})
	}
}

// A device's retry (same event id) gets the first answer and is logged
// and alarmed once; leaving is decided by the exit rules; the device's
// clock is kept next to the server's, however far off it is.
func TestDecideRetriesExitsAndDeviceTime(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ctx := context.Background()
	tok := deviceToken(t, e, "FL-S-TURNSTILE")
	decide := func(body string) gate.DecideResponse {
		t.Helper()
		st, raw := postJSON(t, e, "/api/device/v1/decide", tok, body)
		var r gate.DecideResponse
		if err := json.Unmarshal([]byte(raw), &r); st != 200 || err != nil {
			t.Fatalf("decide %s: %d %s", body, st, raw)
		}
		return r
	}
	countRows := func(q string, args ...any) (n int) {
		t.Helper()
		e.App.Gates.FlushLog()
		if err := store.RawForTest(e.App.Store).QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	strangers := countRows(`SELECT count(*) FROM alarms WHERE kind = 'stranger'`)
	body := `{"event_id":"T1-0001","credential":{"kind":"card","value":"ZZ00000001"},"temperature":36.6,"device_time":"2019-01-01T08:00:00+08:00"}`
	first, again := decide(body), decide(body)
	if first.Outcome != "deny" || again.DecisionID != first.DecisionID {
		t.Fatalf("a retry was decided anew: %+v then %+v", first, again)
	}
	if n := countRows(`SELECT count(*) FROM decisions WHERE event_id = 'T1-0001'`); n != 1 {
		t.Fatalf("the retried attempt is logged %d times", n)
	}
	if n := countRows(`SELECT count(*) FROM alarms WHERE kind = 'stranger'`); n != strangers+1 {
		t.Fatalf("the retried stranger raised %d alarms", n-strangers)
	}
	var deviceTime, at int64
	store.RawForTest(e.App.Store).QueryRow(`SELECT device_time, at FROM decisions WHERE event_id = 'T1-0001'`).Scan(&deviceTime, &at)
	if time.UnixMilli(deviceTime).Year() != 2019 || time.UnixMilli(at).Year() < 2026 {
		t.Fatalf("clocks kept: device %v, server %v", time.UnixMilli(deviceTime), time.UnixMilli(at))
	}
	// A stranger may leave; a resident under home quarantine may not.
	if r := decide(`{"credential":{"kind":"card","value":"ZZ00000001"},"direction":"out"}`); r.Outcome != "allow" {
		t.Fatalf("a stranger leaving: %+v", r)
	}
	card, personID := aCard(t, e)
	// A resident's pass code opens a gate once; refused, it stays good.
	comm, _ := e.App.Store.OrgNodeByCode(ctx, demo.VillageCode)
	pass := e.App.Gates.ResidentPass(personID, comm.ID, time.Minute)
	if r := decide(`{"credential":{"kind":"qr","value":"` + pass + `"},"temperature":38.0}`); r.Outcome != "deny" || r.Reason != "fever" {
		t.Fatalf("a pass with fever: %+v", r)
	}
	if r := decide(`{"credential":{"kind":"qr","value":"` + pass + `"},"temperature":36.5}`); r.Outcome != "allow" {
		t.Fatalf("the same pass after the fever check: %+v", r)
	}
	if r := decide(`{"credential":{"kind":"qr","value":"` + pass + `"},"temperature":36.5}`); r.Outcome != "deny" || r.Reason != "pass_used" {
		t.Fatalf("a pass shown a second time: %+v", r)
	}
	if r := decide(`{"credential":{"kind":"qr","value":"` + e.App.Gates.ResidentPass(personID, comm.ID, time.Minute) + `"}}`); r.Outcome != "allow" {
		t.Fatalf("a fresh pass: %+v", r)
	}
	if r := decide(`{"credential":{"kind":"card","value":"` + card + `"},"direction":"out","temperature":38.2}`); r.Outcome != "allow" {
		t.Fatalf("a resident with fever leaving: %+v", r)
	}
	if err := e.App.Ledger.StartMonitoring(ctx, systemActor(), store.Monitoring{PersonID: personID, Kind: "home_quarantine",
		StartDate: e.App.Store.Today(), EndDate: e.App.Store.Now().AddDate(0, 0, 7).Format("2006-01-02")}); err != nil {
		t.Fatal(err)
	}
	if r := decide(`{"credential":{"kind":"card","value":"` + card + `"},"direction":"out"}`); r.Outcome != "deny" || r.Reason != "monitoring" {
		t.Fatalf("a quarantined resident leaving: %+v", r)
	}
	if n := countRows(`SELECT count(*) FROM decisions WHERE direction = 'out'`); n != 3 {
		t.Fatalf("%d exits logged, want 3", n)
	}
	// A direction that is neither is refused, naming the field.
	if st, raw := postJSON(t, e, "/api/device/v1/decide", tok, `{"credential":{"kind":"card","value":"`+card+`"},"direction":"up"}`); st != 400 || !strings.Contains(raw, `"direction"`) {
		t.Fatalf("bad direction: %d %s", st, raw)
	}
	st, raw := postJSON(t, e, "/api/device/v1/events", tok, `{"events":[{"event_id":"x1","outcome":"allow","direction":"up","device_time":"2026-11-29T08:00:00+08:00","credential":{"kind":"card","value":"`+card+`"}}]}`)
	if st != 200 || !strings.Contains(raw, `"reason": "direction"`) {
		t.Fatalf("a pass event with a bad direction: %d %s", st, raw)
	}
}
