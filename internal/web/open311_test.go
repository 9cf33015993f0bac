package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"shequ/internal/apptest"
	"shequ/internal/store"
)

// o311 calls the GeoReport v2 API as an Open311 client would (no session).
func o311(t *testing.T, e *apptest.Env, method, path string, form url.Values) (int, []map[string]any) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == "POST" {
		resp, err = http.PostForm(e.Server.URL+path, form)
	} else {
		resp, err = http.Get(e.Server.URL + path)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: content type %q", method, path, ct)
	}
	var out []map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: not a JSON array: %v", method, path, err)
	}
	return resp.StatusCode, out
}

// A conformance test written from the GeoReport v2 specification: service
// list and definition, create with an API key, read one, list with
// filters, tokens; errors as arrays of {code, description}.
func TestOpen311GeoReportV2(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	const j = "jurisdiction_id=610402011002"
	st, services := o311(t, e, "GET", "/open311/v2/services.json?"+j, nil)
	if st != 200 || len(services) == 0 {
		t.Fatalf("services: %d %v", st, services)
	}
	codes := map[string]bool{}
	for _, s := range services {
		for _, f := range []string{"service_code", "service_name", "description", "metadata", "type", "keywords", "group"} {
			if _, ok := s[f]; !ok {
				t.Fatalf("service without %s: %v", f, s)
			}
		}
		if s["type"] != "realtime" && s["type"] != "batch" && s["type"] != "blackbox" {
			t.Fatalf("service type %v", s["type"])
		}
		codes[s["service_code"].(string)] = true
	}
	if !codes["repair"] || codes["fever"] {
		t.Fatalf("services offered: %v (outbreak matters are not for Open311)", codes)
	}
	resp, err := http.Get(e.Server.URL + "/open311/v2/services/repair.json?" + j)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("definition: %v %v", err, resp)
	}
	var def map[string]any
	json.NewDecoder(resp.Body).Decode(&def)
	resp.Body.Close()
	if def["service_code"] != "repair" || def["attributes"] == nil {
		t.Fatalf("definition: %v", def)
	}
	req := url.Values{"jurisdiction_id": {"610402011002"}, "service_code": {"repair"}, "description": {"Open311：小区东门路灯不亮"},
		"address_string": {"丰乐西村东门"}, "first_name": {"张"}, "last_name": {"先生"}}
	if st, errsOut := o311(t, e, "POST", "/open311/v2/requests.json", req); st != 403 || errsOut[0]["code"] == nil || errsOut[0]["description"] == nil {
		t.Fatalf("create without a key: %d %v", st, errsOut)
	}
	req.Set("api_key", e.Demo.Open311Key)
	noPlace := url.Values{}
	for k, v := range req {
		noPlace[k] = v
	}
	noPlace.Del("address_string")
	if st, _ := o311(t, e, "POST", "/open311/v2/requests.json", noPlace); st != 400 {
		t.Fatalf("create without a location: %d", st)
	}
	st, created := o311(t, e, "POST", "/open311/v2/requests.json", req)
	if st != 201 || len(created) != 1 || created[0]["service_request_id"] == "" {
		t.Fatalf("create: %d %v", st, created)
	}
	id := created[0]["service_request_id"].(string)
	st, one := o311(t, e, "GET", "/open311/v2/requests/"+id+".json?"+j, nil)
	if st != 200 || len(one) != 1 || one[0]["status"] != "open" || one[0]["service_code"] != "repair" || one[0]["requested_datetime"] == "" {
		t.Fatalf("get one: %d %v", st, one)
	}
	st, list := o311(t, e, "GET", "/open311/v2/requests.json?status=open&service_code=repair&"+j, nil)
	found := false
	for _, r := range list {
		found = found || r["service_request_id"] == id
	}
	if st != 200 || !found {
		t.Fatalf("list: %d %v", st, list)
	}
	if st, closed := o311(t, e, "GET", "/open311/v2/requests.json?status=closed&"+j, nil); st != 200 || len(closed) != 0 {
		t.Fatalf("closed list: %d %v", st, closed)
	}
	if st, tok := o311(t, e, "GET", "/open311/v2/tokens/"+id+".json", nil); st != 200 || tok[0]["service_request_id"] != id {
		t.Fatalf("token: %d %v", st, tok)
	}
	// The community's other events are not readable through Open311.
	var other string
	store.RawForTest(e.App.Store).QueryRow(`SELECT ref FROM events WHERE source <> 'open311' LIMIT 1`).Scan(&other)
	if st, _ := o311(t, e, "GET", "/open311/v2/requests/"+other+".json?"+j, nil); st != 404 {
		t.Fatalf("a non-Open311 event through Open311: %d", st)
	}
}
