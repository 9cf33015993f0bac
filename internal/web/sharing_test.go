package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/auth"
	"shequ/internal/sharing"
	"shequ/internal/store"
)

// apiSpec loads the specification the running server serves.
type apiSpec struct {
	doc    *openapi3.T
	router routers.Router
}

func loadSpec(t *testing.T, base string) apiSpec {
	t.Helper()
	resp, err := http.Get(base + "/api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/yaml") {
		t.Fatalf("GET /api/openapi.yaml: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromData(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the served specification is not valid OpenAPI 3: %v", err)
	}
	doc.Servers = openapi3.Servers{{URL: base}}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return apiSpec{doc: doc, router: router}
}

// call sends a request with a bearer token and checks the request and the
// response against the specification; it returns status, headers, body.
func (sp apiSpec) call(t *testing.T, method, u, token string, hdr map[string]string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	return sp.send(t, true, method, u, token, hdr, body)
}

// callInvalid sends a request the specification does not allow, to see
// the refusal (which must match the specification).
func (sp apiSpec) callInvalid(t *testing.T, method, u, token string) (int, http.Header, []byte) {
	t.Helper()
	return sp.send(t, false, method, u, token, nil, nil)
}

func (sp apiSpec) send(t *testing.T, valid bool, method, u, token string, hdr map[string]string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	route, params, err := sp.router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s is not in the specification: %v", method, u, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil && valid {
		t.Fatalf("request %s %s does not match the specification: %v", method, u, err)
	}
	req2, _ := http.NewRequest(method, u, bytes.NewReader(body))
	req2.Header = req.Header
	resp, err := http.DefaultClient.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode, Header: resp.Header,
		Options: &openapi3filter.Options{IncludeResponseStatus: true}}
	out.SetBodyBytes(b)
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		t.Fatalf("response to %s %s (%d) does not match the specification: %v\n%s", method, u, resp.StatusCode, err, b)
	}
	return resp.StatusCode, resp.Header, b
}

type page struct {
	Records []map[string]any `json:"records"`
	Next    string           `json:"next"`
}

// The demo's health partner reads through the open API under its
// agreement: every response matches the served specification; residents
// come masked and without fields beyond the agreement even when asked
// for; datasets outside it are 403; pages chain by cursor without overlap;
// ETags give 304; every record served is logged; an expired or revoked
// agreement answers 403.
func TestPartnerAPIUnderAgreement(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) { partnerAPI(t, apptest.Start(t, engine)) })
	}
}

func partnerAPI(t *testing.T, e *apptest.Env) {
	base := e.Server.URL
	sp := loadSpec(t, base)
	tok := e.Demo.PartnerToken
	if tok == "" {
		t.Fatal("the demo has no partner token")
	}

	st, _, b := sp.call(t, "GET", base+"/api/v1/dictionary", "", nil, nil)
	if st != 200 || !bytes.Contains(b, []byte(`"GB/T 2261.1-2003"`)) {
		t.Fatalf("dictionary: %d", st)
	}
	for _, d := range sharing.Dictionary {
		if sp.doc.Paths.Find(d.Path) == nil {
			t.Errorf("dataset %s: %s is not in the specification", d.Name, d.Path)
		}
		sch := sp.doc.Components.Schemas[d.Name]
		if sch == nil || len(sch.Value.Properties) != len(d.Fields) {
			t.Errorf("dataset %s: the specification's schema and the dictionary differ", d.Name)
			continue
		}
		for _, f := range d.Fields {
			if sch.Value.Properties[f.Name] == nil {
				t.Errorf("%s.%s is in the dictionary, not in the specification", d.Name, f.Name)
			}
		}
	}

	// Residents: masked ID numbers, no phone even when asked for.
	st, hdr, b := sp.call(t, "GET", base+"/api/v1/persons?limit=3&fields=id,name,id_number,phone,tags", tok, nil, nil)
	var pg page
	json.Unmarshal(b, &pg)
	if st != 200 || len(pg.Records) != 3 || pg.Next == "" || !strings.Contains(hdr.Get("Link"), "after=") {
		t.Fatalf("persons page: %d %d records, next %q", st, len(pg.Records), pg.Next)
	}
	for _, rec := range pg.Records {
		if _, ok := rec["phone"]; ok {
			t.Errorf("phone served outside the agreement: %v", rec)
		}
		if _, ok := rec["tags"]; ok {
			t.Errorf("tags served outside the agreement: %v", rec)
		}
		if n, _ := rec["id_number"].(string); !strings.Contains(n, "*") {
			t.Errorf("ID number not masked: %v", rec)
		}
	}
	// The next page follows without overlap.
	_, _, b = sp.call(t, "GET", base+"/api/v1/persons?limit=3&after="+url.QueryEscape(pg.Next), tok, nil, nil)
	var pg2 page
	json.Unmarshal(b, &pg2)
	if len(pg2.Records) != 3 || pg2.Records[0]["id"].(string) <= pg.Records[2]["id"].(string) {
		t.Errorf("second page overlaps or is short: %v", pg2.Records)
	}
	// One record, then the same again with its ETag: 304.
	id := pg.Records[0]["id"].(string)
	st, hdr, _ = sp.call(t, "GET", base+"/api/v1/persons/"+id, tok, nil, nil)
	if st != 200 || hdr.Get("ETag") == "" {
		t.Fatalf("one person: %d", st)
	}
	if st, _, _ := sp.call(t, "GET", base+"/api/v1/persons/"+id, tok, map[string]string{"If-None-Match": hdr.Get("ETag")}, nil); st != 304 {
		t.Errorf("If-None-Match: %d", st)
	}
	for _, path := range []string{"/api/v1/health/tests?limit=5", "/api/v1/health/vaccinations?limit=5", "/api/v1/aggregates"} {
		if st, _, b := sp.call(t, "GET", base+path, tok, nil, nil); st != 200 || !bytes.Contains(b, []byte(`"records"`)) {
			t.Errorf("%s: %d", path, st)
		}
	}
	st, _, b = sp.call(t, "GET", base+"/api/v1/aggregates", tok, nil, nil)
	json.Unmarshal(b, &pg)
	if len(pg.Records) != 2 {
		t.Errorf("aggregates: both demo communities expected, got %d", len(pg.Records))
	}
	// Outside the agreement: 403, and bad parameters 400, all as specified.
	for _, path := range []string{"/api/v1/events", "/api/v1/leads", "/api/v1/households", "/api/v1/places"} {
		if st, _, _ := sp.call(t, "GET", base+path, tok, nil, nil); st != 403 {
			t.Errorf("%s outside the agreement: %d", path, st)
		}
	}
	// Webhooks follow the agreement: told of residents' changes in its
	// street, not of events it does not cover, nor outside the street.
	partner, _ := e.App.Store.UserByUsername(context.Background(), "qindu-health")
	hook := func(kind, path string) bool {
		return e.App.Web.Sharing.AllowsHook(context.Background(), partner.ID, kind, path)
	}
	comm := e.Demo.Communities[0].Path
	if !hook("person.changed", comm) || hook("event.closed", comm) || hook("person.changed", "/elsewhere/") {
		t.Errorf("webhook gate: person %v, event %v, elsewhere %v", hook("person.changed", comm), hook("event.closed", comm), hook("person.changed", "/elsewhere/"))
	}

	// Under a wider agreement every dataset answers as specified.
	ags, _ := e.App.Store.PartnerAgreements(context.Background(), partner.ID)
	gr := sharing.ParseGrants(ags[0].Grants)
	for _, d := range []string{"households", "places", "leads", "events"} {
		ds, _ := sharing.DatasetByName(d)
		var fields []string
		for _, f := range ds.Fields {
			fields = append(fields, f.Name)
		}
		gr[d] = sharing.Grant{Fields: fields}
	}
	if _, err := e.App.Web.Sharing.Save(context.Background(), principal(t, e, access.Admin), sharing.Input{ID: ags[0].ID, Name: ags[0].Name,
		Purpose: ags[0].Purpose, ExpiresOn: ags[0].ExpiresOn, RateLimit: ags[0].RateLimit, Grants: gr}); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/api/v1/events?limit=5", "/api/v1/leads?limit=5", "/api/v1/households?limit=5", "/api/v1/places?limit=5",
		"/api/v1/events?updated_since=2026-01-01T00:00:00%2B08:00&node=" + e.Demo.Communities[1].ID} {
		st, _, b := sp.call(t, "GET", base+path, tok, nil, nil)
		var pg page
		json.Unmarshal(b, &pg)
		if st != 200 || len(pg.Records) == 0 {
			t.Errorf("%s under the wider agreement: %d, %d records", path, st, len(pg.Records))
		}
	}
	if st, _, _ := sp.callInvalid(t, "GET", base+"/api/v1/persons?updated_since=yesterday", tok); st != 400 {
		t.Errorf("bad updated_since: %d", st)
	}
	if st, _, _ := sp.call(t, "GET", base+"/api/v1/persons", "sq_not-a-token", nil, nil); st != 401 {
		t.Errorf("bad token: %d", st)
	}
	if st, _, _ := sp.call(t, "GET", base+"/api/v1/whoami", tok, nil, nil); st != 200 {
		t.Errorf("whoami: %d", st)
	}

	// Every record served is in the access log.
	staff := e.Login(t, access.Admin)
	_, body, _ := apptest.Do(t, staff, "GET", base+"/sharing", nil, nil)
	agID := between(body, `href="/sharing/`, `"`)
	_, body, _ = apptest.Do(t, staff, "GET", base+"/sharing/"+agID, nil, nil)
	if !strings.Contains(body, id) || !strings.Contains(body, "疫情防控数据共享协议") {
		t.Errorf("the access log lacks the person served")
	}

	// Expired: a year and a day later the token gets 403.
	e.Clock.Advance(367 * 24 * time.Hour)
	if hook("person.changed", comm) {
		t.Error("webhooks still flow under an expired agreement")
	}
	st, _, b = sp.call(t, "GET", base+"/api/v1/persons", tok, nil, nil)
	if st != 403 || !strings.Contains(string(b), "过期") && !strings.Contains(string(b), "expired") {
		t.Errorf("expired agreement: %d %s", st, b)
	}
}

// Staff grant unmasked ID numbers under a new agreement, then revoke it;
// invalid agreements are refused on their field and write nothing.
func TestAgreementsManaged(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	base := e.Server.URL
	admin := e.Login(t, access.Admin)
	_, body, _ := apptest.Do(t, admin, "GET", base+"/sharing", nil, nil)
	partner := between(body, `<option value="`, `"`)
	sel := body[strings.Index(body, `name="node"`):]
	sel = sel[:strings.Index(sel, "渭滨街道")]
	node := sel[strings.LastIndex(sel, `<option value="`)+len(`<option value="`):]
	node = node[:strings.Index(node, `"`)]
	form := url.Values{"partner": {partner}, "department": {"public_security"}, "name": {"流动人口核查"}, "purpose": {"核对流动人口身份"},
		"node": {node}, "expires_on": {"2027-06-30"}, "rate_limit": {"2"}, "field": {"persons.id", "persons.name", "persons.id_number"},
		"unmasked": {"persons.id_number"}}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad["unmasked"] = []string{"persons.name"}
	st, _, h := apptest.Do(t, admin, "POST", base+"/sharing", bad, nil)
	if st != 303 || !strings.Contains(h.Get("Location"), "error=") {
		t.Fatalf("unmasking a field that is not protected: %d %s", st, h.Get("Location"))
	}
	st, _, h = apptest.Do(t, admin, "POST", base+"/sharing", form, nil)
	if st != 303 || strings.Contains(h.Get("Location"), "error=") {
		t.Fatalf("new agreement: %d %s", st, h.Get("Location"))
	}
	agID := strings.TrimPrefix(h.Get("Location"), "/sharing/")
	tok := e.Demo.PartnerToken
	get := func() (int, map[string]any) {
		st, b, _ := apptest.Do(t, http.DefaultClient, "GET", base+"/api/v1/persons?limit=1", nil, map[string]string{"Authorization": "Bearer " + tok})
		var pg page
		json.Unmarshal([]byte(b), &pg)
		if len(pg.Records) == 0 {
			return st, nil
		}
		return st, pg.Records[0]
	}
	// The newest agreement for a dataset is the one in force: unmasked.
	st, rec := get()
	if n, _ := rec["id_number"].(string); st != 200 || len(n) != 18 || strings.Contains(n, "*") {
		t.Fatalf("unmasked ID number: %d %v", st, rec)
	}
	if _, ok := rec["birth_date"]; ok {
		t.Errorf("a field outside the new agreement: %v", rec)
	}
	get()
	if st, _ := get(); st != 429 {
		t.Errorf("third request in a minute under a limit of 2: %d", st)
	}
	if st, _, _ := apptest.Do(t, admin, "POST", base+"/sharing/"+agID+"/revoke", url.Values{}, nil); st != 303 {
		t.Fatalf("revoke: %d", st)
	}
	// Revoked: the health agreement applies again, masked.
	if st, rec := get(); st != 200 || !strings.Contains(rec["id_number"].(string), "*") {
		t.Errorf("after revoking: %d %v", st, rec)
	}
}

// Handled anywhere: staff in one community file a problem of a resident
// who lives in the other; it goes to the resident's community, with the
// routing in its history.
func TestHandledAnywhere(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ctx := context.Background()
	// The demo's staff work in the village; the resident lives in the compound.
	home, filed := e.Demo.Communities[0], e.Demo.Communities[1]
	hits, _, err := e.App.Store.Persons(ctx, store.PersonFilter{Scopes: []string{home.Path}, Residency: "registered", Limit: 1})
	if err != nil || len(hits) == 0 {
		t.Fatal("no village resident", err)
	}
	number, err := e.App.Keys.DecryptString(hits[0].IDEnc, "persons.id_number")
	if err != nil {
		t.Fatal(err)
	}
	staff, admin := e.Login(t, access.Staff), e.Login(t, access.Admin)
	st, _, h := apptest.Do(t, staff, "POST", e.Server.URL+"/events", url.Values{"community": {filed.ID}, "category": {"repair"},
		"description": {"到丰乐社区服务大厅反映：家里楼道灯坏了"}, "id_number": {number}}, nil)
	if st != 303 || !strings.HasPrefix(h.Get("Location"), "/events/") {
		t.Fatalf("file the event: %d %s", st, h.Get("Location"))
	}
	ev, _, err := e.App.Store.Event(ctx, strings.TrimPrefix(h.Get("Location"), "/events/"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.CommunityID != home.ID || ev.PlaceID != hits[0].RoomID {
		t.Errorf("the event stayed in %s at %s, want the resident's community and room", ev.CommunityID, ev.PlaceID)
	}
	_, body, _ := apptest.Do(t, admin, "GET", e.Server.URL+h.Get("Location"), nil, nil)
	if !strings.Contains(body, "按属地转办") || !strings.Contains(body, filed.Name) {
		t.Errorf("the routing is not in the event's history")
	}
	// An unknown ID number is refused on its field and files nothing.
	st, _, h = apptest.Do(t, staff, "POST", e.Server.URL+"/events", url.Values{"community": {filed.ID}, "category": {"repair"},
		"description": {"x"}, "id_number": {"610402199001011234"}}, nil)
	if st != 303 || !strings.Contains(h.Get("Location"), "error=") {
		t.Errorf("unknown resident: %d %s", st, h.Get("Location"))
	}
}

// A community instance reports its aggregates upward: the upper instance
// stores them once per content (a retry is replayed), refuses a reused key
// with another body and fields outside the standard, and shows the
// reported communities on its overview.
func TestReportUpward(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	base := e.Server.URL
	sp := loadSpec(t, base)
	ctx := context.Background()
	n, err := sharing.ReportUp(ctx, e.App.Store, http.DefaultClient, base, e.Demo.PartnerToken)
	if err != nil || n != 2 {
		t.Fatalf("report up: %d %v", n, err)
	}
	if _, err := sharing.ReportUp(ctx, e.App.Store, http.DefaultClient, base, e.Demo.PartnerToken); err != nil {
		t.Fatalf("the same report again: %v", err)
	}
	body := []byte(`{"communities":[{"community_code":"610402011901","community_name":"远方社区","population":10,"registered":5,"floating":5,
		"households":4,"rooms_surveyed":3,"rooms":4,"leads_open":0,"events_open":1,"alarms_open":0}]}`)
	key := map[string]string{"Idempotency-Key": "test-key-0001"}
	st, _, _ := sp.call(t, "POST", base+"/api/v1/upstream", e.Demo.PartnerToken, key, body)
	if st != 200 {
		t.Fatalf("report: %d", st)
	}
	st, h, _ := sp.call(t, "POST", base+"/api/v1/upstream", e.Demo.PartnerToken, key, body)
	if st != 200 || h.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry: %d %v", st, h)
	}
	other := bytes.Replace(body, []byte(`"population":10`), []byte(`"population":11`), 1)
	if st, _, _ := sp.call(t, "POST", base+"/api/v1/upstream", e.Demo.PartnerToken, key, other); st != 409 {
		t.Errorf("the key reused for another body: %d", st)
	}
	if st, _, _ := sp.callInvalid(t, "POST", base+"/api/v1/upstream", e.Demo.PartnerToken); st != 400 {
		t.Errorf("no key, no body: %d", st)
	}
	admin := e.Login(t, access.Admin)
	_, page, _ := apptest.Do(t, admin, "GET", base+"/overview", nil, nil)
	if !strings.Contains(page, "远方社区") || strings.Count(page, "和园社区") != 2 {
		t.Errorf("the overview does not list the reported communities beside its own")
	}
}

// FHIR through the open API: the partner reads a resident as a Patient
// (masked identifier) and with their records as a Bundle; sends a test
// result as an Observation under an Idempotency-Key (a retry is answered
// once and records once); a person outside the agreement is not found.
func TestFHIRThroughTheAPI(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	base := e.Server.URL
	sp := loadSpec(t, base)
	openapi3filter.RegisterBodyDecoder("application/fhir+json", openapi3filter.JSONBodyDecoder)
	ctx := context.Background()
	tok := e.Demo.PartnerToken
	compound := e.Demo.Communities[0]
	hits, _, err := e.App.Store.Persons(ctx, store.PersonFilter{Scopes: []string{compound.Path}, Residency: "registered", Limit: 1})
	if err != nil || len(hits) == 0 {
		t.Fatal(err)
	}
	who := hits[0]
	number, _ := e.App.Keys.DecryptString(who.IDEnc, "persons.id_number")

	st, _, b := sp.call(t, "GET", base+"/api/v1/fhir/Patient/"+who.ID, tok, nil, nil)
	if st != 200 || !bytes.Contains(b, []byte(`"resourceType":"Patient"`)) || bytes.Contains(b, []byte(number)) {
		t.Fatalf("Patient: %d, identifier must be masked: %s", st, b)
	}
	obs := []byte(`{"resourceType":"Observation","id":"lab-77","status":"final",
		"code":{"coding":[{"system":"http://loinc.org","code":"94500-6"}]},
		"subject":{"identifier":{"system":"urn:oid:2.16.156.10011.1.5","value":"` + number + `"},"display":"` + who.Name + `"},
		"effectiveDateTime":"2026-11-27T08:30:00+08:00",
		"valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"260385009"}]}}`)
	key := map[string]string{"Idempotency-Key": "lab-77-2026-11-27"}
	before, _ := e.App.Store.Health(ctx, who.ID)
	st, h, _ := sp.call(t, "POST", base+"/api/v1/fhir/Observation", tok, key, obs)
	if st != 201 || !strings.HasPrefix(h.Get("Location"), "/api/v1/fhir/Observation/") {
		t.Fatalf("Observation: %d %v", st, h)
	}
	st, h, _ = sp.call(t, "POST", base+"/api/v1/fhir/Observation", tok, key, obs)
	if st != 201 || h.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry: %d %v", st, h)
	}
	after, _ := e.App.Store.Health(ctx, who.ID)
	if len(after.Tests) != len(before.Tests)+1 {
		t.Errorf("tests %d → %d, want one more", len(before.Tests), len(after.Tests))
	}
	st, _, b = sp.call(t, "GET", base+"/api/v1/fhir/Patient/"+who.ID+"/$everything", tok, nil, nil)
	if st != 200 || !bytes.Contains(b, []byte(`"type":"searchset"`)) || !bytes.Contains(b, []byte(`"260385009"`)) {
		t.Errorf("$everything: %d %s", st, b)
	}
	// A bad code is refused with the JSON path at fault; nothing recorded.
	bad := bytes.Replace(obs, []byte("94500-6"), []byte("0000-0"), 1)
	st, _, b = sp.call(t, "POST", base+"/api/v1/fhir/Observation", tok, map[string]string{"Idempotency-Key": "lab-78-2026-11-27"}, bad)
	if st != 400 || !bytes.Contains(b, []byte("Observation.code")) {
		t.Errorf("unknown code: %d %s", st, b)
	}
	if st, _, _ := sp.call(t, "GET", base+"/api/v1/fhir/Patient/not-a-person", tok, nil, nil); st != 404 {
		t.Errorf("unknown person: %d", st)
	}
}

// The leads API as specified: an epidemic command's API account sends a
// batch with an Idempotency-Key; the retry is the first answer and imports
// nothing twice; the results answer as specified.
func TestLeadAPIAsSpecified(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	base := e.Server.URL
	sp := loadSpec(t, base)
	ctx := context.Background()
	u, err := e.App.Auth.CreateUser(ctx, nil, auth.NewUser{Username: "command", DisplayName: "区疫情防控指挥部", Kind: store.KindAPI,
		Role: access.Official, NodeID: e.Demo.Street.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := e.App.Auth.IssueToken(ctx, nil, u.ID, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"node":"` + e.Demo.Street.Code + `","name":"协查 2026-11-28","deadline":"2026-11-30",
		"leads":[{"ref":"A-1","name":"某某","phone":"13800000000","address":"外地"}]}`)
	key := map[string]string{"Idempotency-Key": "batch-2026-11-28-a"}
	st, _, b := sp.call(t, "POST", base+"/api/v1/leads/batches", tok, key, body)
	var res struct {
		BatchID string `json:"batch_id"`
	}
	json.Unmarshal(b, &res)
	if st != 200 || res.BatchID == "" {
		t.Fatalf("batch: %d %s", st, b)
	}
	st, h, b2 := sp.call(t, "POST", base+"/api/v1/leads/batches", tok, key, body)
	if st != 200 || h.Get("Idempotent-Replayed") != "true" || !bytes.Equal(b, b2) {
		t.Errorf("retry: %d %v", st, h)
	}
	var n int
	store.RawForTest(e.App.Store).QueryRow(`SELECT count(*) FROM lead_batches WHERE name = '协查 2026-11-28'`).Scan(&n)
	if n != 1 {
		t.Errorf("%d batches after a retry, want 1", n)
	}
	if st, _, _ := sp.call(t, "GET", base+"/api/v1/leads/batches/"+res.BatchID+"/results", tok, nil, nil); st != 200 {
		t.Errorf("results: %d", st)
	}
}
