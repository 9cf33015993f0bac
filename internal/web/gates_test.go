package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/gate"
	"shequ/internal/pii"
	"shequ/internal/store"
)

func gateID(t *testing.T, e *apptest.Env, code string) string {
	t.Helper()
	comm, _ := e.App.Store.OrgNodeByCode(context.Background(), "610402011002")
	other, _ := e.App.Store.OrgNodeByCode(context.Background(), "610402011001")
	gs, _ := e.App.Store.Gates(context.Background(), []string{comm.Path, other.Path})
	for _, g := range gs {
		if g.Code == code {
			return g.ID
		}
	}
	t.Fatalf("no gate %s", code)
	return ""
}

// TestCheckpointRefusesAQuarantinedResident is the staffed checkpoint's
// core: a resident under home quarantine typed in by ID number is refused
// with the reason, a healthy one let in and recorded once.
func TestCheckpointRefusesAQuarantinedResident(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ctx := context.Background()
	booth := gateID(t, e, "FL-S-BOOTH")
	grid := e.Login(t, access.Staff) // community staff work the booth
	// Two residents of the village with their ID numbers.
	comm, _ := e.App.Store.OrgNodeByCode(ctx, "610402011002")
	hits, _, _ := e.App.Store.Persons(ctx, store.PersonFilter{Scopes: []string{comm.Path}, Residency: "registered", Limit: 2})
	sick, well := hits[0], hits[1]
	idOf := func(p store.PersonHit) string {
		v, _ := e.App.Keys.DecryptString(p.IDEnc, "persons.id_number")
		return v
	}
	if err := e.App.Ledger.StartMonitoring(ctx, systemActor(), store.Monitoring{PersonID: sick.ID, Kind: "home_quarantine",
		StartDate: e.App.Store.Today(), EndDate: e.App.Store.Now().AddDate(0, 0, 7).Format("2006-01-02")}); err != nil {
		t.Fatal(err)
	}
	check := func(input string, temp string) string {
		status, body, _ := apptest.Do(t, grid, "POST", e.Server.URL+"/gates/checkpoint/check",
			url.Values{"gate": {booth}, "input": {input}, "temperature": {temp}}, nil)
		if status != 200 {
			t.Fatalf("check %s: %d\n%s", pii.MaskID(input), status, snippet(body))
		}
		return body
	}
	body := check(idOf(sick), "36.6")
	if !strings.Contains(body, `data-outcome="deny"`) || !strings.Contains(body, `data-reason="monitoring"`) || !strings.Contains(body, "居家隔离") {
		t.Fatalf("quarantined resident not refused:\n%s", snippet(body))
	}
	if strings.Contains(body, idOf(sick)) {
		t.Fatal("the page shows the full ID number")
	}
	body = check(idOf(well), "36.6")
	if !strings.Contains(body, `data-outcome="allow"`) {
		t.Fatalf("healthy resident not let in:\n%s", snippet(body))
	}
	// Record the pass; a double submit is stored once.
	m := regexp.MustCompile(`name="decision" value="([0-9a-z]+)"`).FindStringSubmatch(body)
	form := url.Values{"gate": {booth}, "decision": {m[1]}, "person": {well.ID}, "credential": {"idcard"}, "outcome": {"allow"}, "reason": {"ok"}}
	for i := 0; i < 2; i++ {
		if st, _, _ := apptest.Do(t, grid, "POST", e.Server.URL+"/gates/checkpoint/record", form, nil); st != 303 {
			t.Fatalf("record: %d", st)
		}
	}
	var n int
	store.RawForTest(e.App.Store).QueryRow(`SELECT count(*) FROM pass_events WHERE person_id = $1`, well.ID).Scan(&n)
	if n != 1 {
		t.Fatalf("%d pass records, want 1", n)
	}
	// Fever at the checkpoint: refused, alarm raised.
	if body := check(idOf(well), "38.2"); !strings.Contains(body, `data-reason="fever"`) {
		t.Fatal("fever not refused")
	}
	// Staff of another community's gates may not use this booth.
	if st, _, _ := apptest.Do(t, e.Login(t, access.Property), "POST", e.Server.URL+"/gates/checkpoint/check",
		url.Values{"gate": {booth}, "input": {idOf(well)}}, nil); st != 403 {
		t.Fatalf("property staff of the compound used the village booth: %d", st)
	}
	// A visitor registered at the booth gets a pass that opens the gate.
	status, body, _ := apptest.Do(t, grid, "POST", e.Server.URL+"/gates/visitors", url.Values{"gate": {booth}, "name": {"访客甲"},
		"id_number": {"11010519491231002X"}, "reason": {"探亲"}}, nil)
	code := regexp.MustCompile(`(SQ1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)`).FindStringSubmatch(body)
	if status != 200 || code == nil || !strings.Contains(body, "data:image/png;base64,") {
		t.Fatalf("visitor pass: %d\n%s", status, snippet(body))
	}
	if body := check(code[1], "36.5"); !strings.Contains(body, `data-outcome="allow"`) || !strings.Contains(body, "访客") {
		t.Fatalf("visitor pass refused:\n%s", snippet(body))
	}
}

// TestAlarmsArriveLive opens the alarm stream and raises a fever at a gate.
func TestAlarmsArriveLive(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	req, _ := http.NewRequest("GET", e.Server.URL+"/gates/alarms/stream", nil)
	resp, err := staff.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream content type %q", resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	card, _ := aCard(t, e)
	postJSON(t, e, "/api/device/v1/decide", deviceToken(t, e, "FL-S-TURNSTILE"), `{"credential":{"kind":"card","value":"`+card+`"},"temperature":38.9}`)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream closed")
			}
			if strings.HasPrefix(l, "data:") && strings.Contains(l, `"kind":"fever"`) && strings.Contains(l, "体温异常") {
				return
			}
		case <-deadline:
			t.Fatal("no fever alarm on the stream within 5 s")
		}
	}
}

func TestPassSearchAndRetention(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	card, personID := aCard(t, e)
	tok := deviceToken(t, e, "FL-S-TURNSTILE")
	postJSON(t, e, "/api/device/v1/events", tok, `{"events":[{"event_id":"r1","credential":{"kind":"card","value":"`+card+`"},"outcome":"allow","device_time":"2026-11-28T08:00:00Z"}]}`)
	p, _ := e.App.Store.Person(context.Background(), personID)
	id, _ := e.App.Keys.DecryptString(p.IDEnc, "persons.id_number")
	_, body, _ := apptest.Do(t, staff, "GET", e.Server.URL+"/gates/passes?person="+id, nil, nil)
	if !strings.Contains(body, pii.MaskName(p.Name)) || strings.Count(body, "<tr>") < 2 {
		t.Fatalf("pass search by ID:\n%s", snippet(body))
	}
	// After the retention period the records are gone.
	e.Clock.Advance(91 * 24 * time.Hour)
	n, err := e.App.PurgePasses(context.Background())
	if err != nil || n == 0 {
		t.Fatalf("purge: %d %v", n, err)
	}
	var left int
	store.RawForTest(e.App.Store).QueryRow(`SELECT count(*) FROM pass_events`).Scan(&left)
	if left != 0 {
		t.Fatalf("%d pass events left after retention", left)
	}
}

func TestRegisterGateDeviceAndCourierList(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	comm, _ := e.App.Store.OrgNodeByCode(context.Background(), "610402011002")
	if st, _, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/gates/manage", url.Values{"community": {comm.ID}, "code": {"FL-W-TURNSTILE"},
		"name": {"丰乐西村西门"}, "kind": {"turnstile"}}, nil); st != 303 {
		t.Fatalf("add gate: %d", st)
	}
	if st, _, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/gates/manage", url.Values{"community": {comm.ID}, "code": {"bad code"},
		"name": {"x"}, "kind": {"turnstile"}}, nil); st != 400 {
		t.Fatalf("bad code: %d", st)
	}
	g := gateID(t, e, "FL-W-TURNSTILE")
	_, body, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/gates/manage/"+g+"/devices", url.Values{"name": {"西门闸机"}}, nil)
	tok := regexp.MustCompile(`id="new-token" class="mono">(sq_[A-Za-z0-9_-]+)<`).FindStringSubmatch(body)
	if tok == nil {
		t.Fatalf("no token shown:\n%s", snippet(body))
	}
	// A second terminal at the same gate, at once: its own account and token.
	_, body, _ = apptest.Do(t, staff, "POST", e.Server.URL+"/gates/manage/"+g+"/devices", url.Values{"name": {"西门测温门"}}, nil)
	tok2 := regexp.MustCompile(`id="new-token" class="mono">(sq_[A-Za-z0-9_-]+)<`).FindStringSubmatch(body)
	if tok2 == nil || tok2[1] == tok[1] {
		t.Fatalf("second device at the same gate:\n%s", snippet(body))
	}
	// A courier on the list passes the new gate until the entry ends.
	courierID := "11010519491231002X"
	now := e.App.Store.Now().In(time.FixedZone("CST", 8*3600))
	if st, body, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/gates/manage/lists", url.Values{"community": {comm.ID}, "name": {"快递员"},
		"id_number": {courierID}, "kind": {"courier"}, "from": {now.Add(-time.Hour).Format("2006-01-02T15:04")},
		"until": {now.Add(2 * time.Hour).Format("2006-01-02T15:04")}}, nil); st != 303 {
		t.Fatalf("list entry: %d\n%s", st, snippet(body))
	}
	decide := func() gate.DecideResponse {
		return decideAt(t, e, tok[1], gate.Credential{Kind: "idcard", Value: courierID})
	}
	if r := decide(); r.Outcome != "allow" {
		t.Fatalf("courier on the list: %+v", r)
	}
	e.Clock.Advance(3 * time.Hour)
	if r := decide(); r.Outcome != "deny" || r.Reason != "not_authorised" {
		t.Fatalf("courier after the entry ended: %+v", r)
	}
}

func TestResidentPassAndVisitorInvitation(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	c := e.Client()
	if st, _, _ := apptest.Do(t, c, "POST", e.Server.URL+"/login/resident/code", url.Values{"phone": {e.Demo.ResidentPhone}}, nil); st != 200 {
		t.Fatalf("send code: %d", st)
	}
	m := regexp.MustCompile(`"code":"(\d{6})"`).FindAllStringSubmatch(e.LogText(), -1)
	if m == nil {
		t.Fatal("no one-time code in the log")
	}
	if strings.Contains(e.LogText(), e.Demo.ResidentPhone) {
		t.Fatal("the full phone number was logged")
	}
	if st, _, _ := apptest.Do(t, c, "POST", e.Server.URL+"/login/resident", url.Values{"phone": {e.Demo.ResidentPhone}, "code": {m[len(m)-1][1]}}, nil); st != 303 {
		t.Fatalf("resident login: %d", st)
	}
	status, body, _ := apptest.Do(t, c, "GET", e.Server.URL+"/me/pass", nil, nil)
	if status != 200 || !strings.Contains(body, `data:image/png;base64,`) {
		t.Fatalf("my pass: %d\n%s", status, snippet(body))
	}
	// The pass is signed for one minute, so the page must renew itself.
	if !strings.Contains(body, `data-refresh="45"`) {
		t.Fatal("the pass page does not renew itself")
	}
	tok := deviceToken(t, e, "FL-S-TURNSTILE")
	// Invite a visitor: the pass works at the gate during the visit only.
	status, body, _ = apptest.Do(t, c, "POST", e.Server.URL+"/me/visitors", url.Values{"name": {"表姐"}, "id_number": {"11010519491231002X"}, "reason": {"探亲"}}, nil)
	vcode := regexp.MustCompile(`(SQ1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)`).FindStringSubmatch(body)
	if status != 200 || vcode == nil {
		t.Fatalf("invite: %d\n%s", status, snippet(body))
	}
	decide := func(v string) gate.DecideResponse { return decideAt(t, e, tok, gate.Credential{Kind: "qr", Value: v}) }
	if r := decide(vcode[1]); r.Outcome != "allow" {
		t.Fatalf("visitor pass at the gate: %+v", r)
	}
	e.Clock.Advance(5 * time.Hour)
	if r := decide(vcode[1]); r.Outcome != "deny" {
		t.Fatalf("visitor pass after the visit: %+v", r)
	}
	// Staff pages stay closed to residents.
	if st, _, _ := apptest.Do(t, c, "GET", e.Server.URL+"/ledger", nil, nil); st != 403 {
		t.Fatalf("resident opened the ledger: %d", st)
	}
}

// Staff give a resident a new card from the person's credentials page, the
// gate lets it in; they revoke the old card and the gate refuses it, and a
// device syncing afterwards is told to delete it.
func TestStaffIssuesAndRevokesCards(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	oldCard, personID := aCard(t, e)
	tok := deviceToken(t, e, "FL-S-TURNSTILE")
	decide := func(card string) gate.DecideResponse {
		return decideAt(t, e, tok, gate.Credential{Kind: "card", Value: card})
	}
	page := e.Server.URL + "/ledger/persons/" + personID + "/face"
	if st, body, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/ledger/persons/"+personID+"/credentials",
		url.Values{"kind": {"card"}, "value": {"fl 7788 9900"}}, nil); st != 303 {
		t.Fatalf("add card: %d\n%s", st, snippet(body))
	}
	if r := decide("FL77889900"); r.Outcome != "allow" || r.PersonID != personID {
		t.Fatalf("the new card at the gate: %+v", r)
	}
	// The same number for someone else is refused with the reason.
	other := anotherResident(t, e, personID)
	st, body, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/ledger/persons/"+other+"/credentials", url.Values{"kind": {"card"}, "value": {"FL77889900"}}, nil)
	if st != 409 || !strings.Contains(body, "已登记给别人") {
		t.Fatalf("a card taken by another resident: %d\n%s", st, snippet(body))
	}
	// A bad expiry date is named.
	st, body, _ = apptest.Do(t, staff, "POST", e.Server.URL+"/ledger/persons/"+personID+"/credentials", url.Values{"kind": {"plate"}, "value": {"陕D12345"}, "valid_until": {"31/12/2027"}}, nil)
	if st != 400 || !strings.Contains(body, "日期格式不正确") {
		t.Fatalf("bad expiry: %d\n%s", st, snippet(body))
	}
	// Revoke the old card from the page.
	_, body, _ = apptest.Do(t, staff, "GET", page, nil, nil)
	var oldID string
	cs, _ := e.App.Store.PersonCredentials(context.Background(), personID)
	for _, c := range cs {
		if v, _ := e.App.Keys.DecryptString(c.ValueEnc, "credentials.value"); c.Kind == "card" && v == oldCard {
			oldID = c.ID
		}
	}
	revoke := "/ledger/persons/" + personID + "/credentials/" + oldID + "/revoke"
	if !strings.Contains(body, revoke) {
		t.Fatalf("no revoke button for the old card:\n%s", snippet(body))
	}
	var cursor int64
	store.RawForTest(e.App.Store).QueryRow(`SELECT max(seq) FROM credentials`).Scan(&cursor)
	if st, body, _ := apptest.Do(t, staff, "POST", e.Server.URL+revoke, nil, nil); st != 303 {
		t.Fatalf("revoke: %d\n%s", st, snippet(body))
	}
	if r := decide(oldCard); r.Outcome != "deny" {
		t.Fatalf("a revoked card at the gate: %+v", r)
	}
	if r := decide("FL77889900"); r.Outcome != "allow" {
		t.Fatalf("the new card after revoking the old one: %+v", r)
	}
	req, _ := httpNewRequest("GET", e.Server.URL+"/api/device/v1/sync?cursor="+strconv.FormatInt(cursor, 10), "")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := e.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sr gate.SyncResponse
	json.NewDecoder(resp.Body).Decode(&sr)
	resp.Body.Close()
	if len(sr.Changes) != 1 || sr.Changes[0].Op != "delete" || sr.Changes[0].PersonID != personID {
		t.Fatalf("sync after the revocation: %+v", sr.Changes)
	}
	_, body, _ = apptest.Do(t, staff, "GET", page, nil, nil)
	if !strings.Contains(body, "已吊销") || strings.Contains(body, revoke) {
		t.Fatalf("the revoked card on the page:\n%s", snippet(body))
	}
	// Both changes are in the person's history, with the value masked.
	_, body, _ = apptest.Do(t, staff, "GET", e.Server.URL+"/ledger/persons/"+personID, nil, nil)
	if !strings.Contains(body, "添加了通行凭证") || !strings.Contains(body, "撤销了通行凭证") || strings.Contains(body, oldCard) {
		t.Fatalf("the person's history:\n%s", snippet(body))
	}
}

// anotherResident finds a village resident other than personID.
func anotherResident(t *testing.T, e *apptest.Env, personID string) string {
	t.Helper()
	comm, _ := e.App.Store.OrgNodeByCode(context.Background(), "610402011002")
	hits, _, _ := e.App.Store.Persons(context.Background(), store.PersonFilter{Scopes: []string{comm.Path}, Residency: "registered", Limit: 5})
	for _, h := range hits {
		if h.ID != personID {
			return h.ID
		}
	}
	t.Fatal("no second resident")
	return ""
}

// Revoking a face withdraws its consent and erases the descriptor and the
// photo; the same face is a stranger at the gate afterwards.
func TestRevokingAFaceWithdrawsConsentAndErasesIt(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ctx := context.Background()
	staff := e.Login(t, access.Staff)
	_, personID := aCard(t, e)
	desc := make([]float32, 128)
	for i := range desc {
		desc[i] = float32((i*37)%11-5) / 40
	}
	const model = "face-api-1.7.15/resnet128"
	c, err := e.App.Gates.EnrolFace(ctx, gate.Actor{}, gate.FaceEnrolment{PersonID: personID, Descriptor: desc, Model: model,
		Photo: append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, make([]byte, 64)...), GivenBy: "self"})
	if err != nil {
		t.Fatal(err)
	}
	tok := deviceToken(t, e, "FL-S-TURNSTILE")
	decide := func() gate.DecideResponse {
		return decideAt(t, e, tok, gate.Credential{Kind: "face", Descriptor: desc, Model: model})
	}
	if r := decide(); r.Outcome != "allow" || r.PersonID != personID {
		t.Fatalf("enrolled face: %+v", r)
	}
	if st, page, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/ledger/persons/"+personID+"/credentials/"+c.ID+"/revoke", nil, nil); st != 303 {
		t.Fatalf("revoke face: %d\n%s", st, snippet(page))
	}
	if r := decide(); r.Outcome == "allow" || r.PersonID != "" {
		t.Fatalf("revoked face at the gate: %+v", r)
	}
	var withdrawn, value, photo int
	store.RawForTest(e.App.Store).QueryRow(`SELECT count(*) FROM face_consents WHERE id = $1 AND withdrawn_at IS NOT NULL`, c.ConsentID).Scan(&withdrawn)
	store.RawForTest(e.App.Store).QueryRow(`SELECT count(value_enc), count(photo_enc) FROM credentials WHERE id = $1`, c.ID).Scan(&value, &photo)
	if withdrawn != 1 || value != 0 || photo != 0 {
		t.Fatalf("after revocation: consent withdrawn %d, descriptor kept %d, photo kept %d", withdrawn, value, photo)
	}
}

// A grid worker on duty at the booth operates the gates of the community
// their grid is in, and sees its alarms; not those of other communities.
func TestGridWorkerWorksTheirCommunitysBooth(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	grid := e.Login(t, access.Grid)
	booth := gateID(t, e, "FL-S-BOOTH")
	_, body, _ := apptest.Do(t, grid, "GET", e.Server.URL+"/gates/checkpoint", nil, nil)
	if !strings.Contains(body, booth) {
		t.Fatalf("the grid worker's checkpoint page does not offer the village booth:\n%s", snippet(body))
	}
	card, _ := aCard(t, e)
	st, body, _ := apptest.Do(t, grid, "POST", e.Server.URL+"/gates/checkpoint/check", url.Values{"gate": {booth}, "input": {card}, "temperature": {"36.5"}}, nil)
	if st != 200 || !strings.Contains(body, `data-outcome="allow"`) {
		t.Fatalf("a grid worker checking a resident's card: %d\n%s", st, snippet(body))
	}
	for _, d := range e.Demo.Devices {
		if !strings.HasPrefix(d.GateCode, "FL-") {
			st, _, _ := apptest.Do(t, grid, "POST", e.Server.URL+"/gates/checkpoint/check", url.Values{"gate": {gateID(t, e, d.GateCode)}, "input": {card}}, nil)
			if st != 403 {
				t.Fatalf("a grid worker used gate %s of another community: %d", d.GateCode, st)
			}
			break
		}
	}
}
