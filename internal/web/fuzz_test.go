package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"shequ/internal/apptest"
	"shequ/internal/errs"
	"shequ/internal/gate"
	"shequ/internal/leads"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// serve sends one request straight to the instance's handler.
func serve(h http.Handler, method, target, contentType string, body []byte, header map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// FuzzDeviceAPI sends device payloads (decide, events, heartbeat) with a
// real device token. Every answer is JSON: a refusal is a 4xx naming the
// problem, never a server error; an answer accounts for what was sent.
func FuzzDeviceAPI(f *testing.F) {
	e := apptest.Start(f, "sqlite")
	h := e.App.Web.Handler()
	token := e.Demo.Devices[0].Token
	paths := []string{"/api/device/v1/decide", "/api/device/v1/events", "/api/device/v1/heartbeat"}
	face := make([]float32, gate.DescriptorLen)
	for i := range face {
		face[i] = float32(i%7) / 10
	}
	faceJSON, _ := json.Marshal(face)
	for _, s := range []struct {
		path uint8
		body string
	}{
		{0, `{"event_id":"e1","credential":{"kind":"card","value":"12345678"},"temperature":36.5,"direction":"in","device_time":"2026-11-28T09:00:00Z"}`},
		{0, `{"credential":{"kind":"face","descriptor":` + string(faceJSON) + `,"model":"face-api-1.7.15/resnet128"}}`},
		{0, `{"credential":{"kind":"face","descriptor":[1,2,3]}}`},
		{0, `{"credential":{"kind":"qr","value":"not a pass"},"temperature":38.2,"direction":"out"}`},
		{0, `{"credential":{"kind":"idcard","value":"11010519491231002X"},"temperature":-1}`},
		{0, `{"credential":{"kind":"plate","value":"陕D12345"},"direction":"sideways","extra":1}`},
		{1, `{"events":[{"event_id":"a","credential":{"kind":"card","value":"1"},"outcome":"allow","device_time":"2026-11-28T08:00:00+08:00","snapshot":"/9j/4AAQ"},` +
			`{"event_id":"a","outcome":"deny","device_time":"2026-11-28T08:00:00Z"},{"event_id":"","outcome":"maybe"},{"event_id":"b","outcome":"review","device_time":"2026-11-28T08:00:00Z","temperature":50}]}`},
		{1, `{"events":null}`},
		{2, `{"device_time":"2026-11-28T09:00:00Z","status":{"door":"closed","fw":"1.2"}}`},
		{2, `{"device_time":"not a time"}`},
		{2, `{} {}`},
		{0, `[`},
	} {
		f.Add(s.path, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := paths[int(which)%len(paths)]
		rec := serve(h, "POST", path, "application/json", body, map[string]string{"Authorization": "Bearer " + token})
		if rec.Code >= 500 || (rec.Code != 200 && (rec.Code < 400 || rec.Code == 401 || rec.Code == 403)) {
			t.Fatalf("%s %q: status %d %s", path, body, rec.Code, rec.Body)
		}
		if rec.Code != 200 {
			var out struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Error.Code != "invalid" || out.Error.Message == "" {
				t.Fatalf("%s %q: refusal %d %s is not a JSON error", path, body, rec.Code, rec.Body)
			}
			return
		}
		// Accepted: the body was one JSON object of the message's fields.
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		switch path {
		case paths[0]:
			var req gate.DecideRequest
			var resp gate.DecideResponse
			if dec.Decode(&req) != nil || json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
				t.Fatalf("decide %q answered %s", body, rec.Body)
			}
			if resp.DecisionID == "" || (resp.Outcome != "allow" && resp.Outcome != "deny" && resp.Outcome != "review") || resp.Reason == "" && resp.Outcome != "allow" {
				t.Fatalf("decide %q answered %s", body, rec.Body)
			}
			if len(req.EventID) > 64 || (req.Direction != "" && req.Direction != "in" && req.Direction != "out") ||
				(req.TemperatureC != 0 && (req.TemperatureC < 30 || req.TemperatureC > 45)) {
				t.Fatalf("decide accepted %q", body)
			}
		case paths[1]:
			var req gate.EventsRequest
			var resp gate.EventsResponse
			if dec.Decode(&req) != nil || json.Unmarshal(rec.Body.Bytes(), &resp) != nil {
				t.Fatalf("events %q answered %s", body, rec.Body)
			}
			if n := len(resp.Accepted) + len(resp.Duplicates) + len(resp.Rejected); n != len(req.Events) {
				t.Fatalf("events: %d sent, %d accounted for: %s", len(req.Events), n, rec.Body)
			}
			byID := map[string]gate.PassEvent{}
			for _, ev := range req.Events {
				if _, seen := byID[ev.EventID]; !seen {
					byID[ev.EventID] = ev
				}
			}
			for _, id := range resp.Accepted {
				ev := byID[id]
				if id == "" || len(id) > 64 || ev.DeviceTime.IsZero() || (ev.Outcome != "allow" && ev.Outcome != "deny" && ev.Outcome != "review") {
					t.Fatalf("events: accepted %+v", ev)
				}
			}
		case paths[2]:
			var hb gate.Heartbeat
			var resp gate.HeartbeatResponse
			if dec.Decode(&hb) != nil || json.Unmarshal(rec.Body.Bytes(), &resp) != nil || resp.ServerTime.IsZero() {
				t.Fatalf("heartbeat %q answered %s", body, rec.Body)
			}
		}
	})
}

// FuzzOpen311Create posts service requests as an Open311 client with a
// valid key. A request is created (201) and then reads back with what
// was sent, or refused (400) as a GeoReport error array with nothing
// written.
func FuzzOpen311Create(f *testing.F) {
	e := apptest.Start(f, "sqlite")
	h := e.App.Web.Handler()
	const j = "610402011002"
	for _, s := range [][7]string{
		{"repair", "", "", "丰乐西村东门", "Open311：小区东门路灯不亮", "张", "先生"},
		{"repair", "34.33", "108.70", "", "井盖松动", "", ""},
		{"repair", "NaN", "NaN", "", "x", "", ""},
		{"repair", "1e400", "-Inf", "", "x", "", ""},
		{"repair", "95", "200", "", "x", "", ""},
		{"repair", "0x1p-2", "1_0", "", "", "", ""},
		{"fever", "34.33", "108.70", "地址", "发热", "", ""},
		{"correction", "", "", "地址", "改名", "", ""},
		{"", "", "", "", "", "", ""},
		{"repair", "", "", "地址", strings.Repeat("长", 2001), " ", "\x00"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6])
	}
	count := func(t *testing.T) int {
		var n int
		if err := store.RawForTest(e.App.Store).QueryRow(`SELECT COUNT(*) FROM events WHERE source = 'open311'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	f.Fuzz(func(t *testing.T, code, lat, long, address, description, first, last string) {
		form := url.Values{"api_key": {e.Demo.Open311Key}, "jurisdiction_id": {j}, "service_code": {code}, "lat": {lat}, "long": {long},
			"address_string": {address}, "description": {description}, "first_name": {first}, "last_name": {last}}
		before := count(t)
		rec := serve(h, "POST", "/open311/v2/requests.json", "application/x-www-form-urlencoded", []byte(form.Encode()), nil)
		var out []map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out) != 1 {
			t.Fatalf("create %v: %d %q is not a one-element JSON array", form, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusCreated {
			if rec.Code != http.StatusBadRequest || out[0]["code"] != float64(400) || out[0]["description"] == "" {
				t.Fatalf("create %v: %d %s", form, rec.Code, rec.Body)
			}
			if after := count(t); after != before {
				t.Fatalf("refused request %v wrote %d events", form, after-before)
			}
			return
		}
		id, _ := out[0]["service_request_id"].(string)
		if id == "" || count(t) != before+1 {
			t.Fatalf("create %v: %s", form, rec.Body)
		}
		rec = serve(h, "GET", "/open311/v2/requests/"+url.PathEscape(id)+".json?jurisdiction_id="+j, "", nil, nil)
		var got []struct {
			ServiceCode       string  `json:"service_code"`
			Lat               float64 `json:"lat"`
			Long              float64 `json:"long"`
			RequestedDatetime string  `json:"requested_datetime"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); rec.Code != 200 || err != nil || len(got) != 1 {
			t.Fatalf("reading back %s: %d %s", id, rec.Code, rec.Body)
		}
		g := got[0]
		if g.ServiceCode != code || math.IsNaN(g.Lat) || math.Abs(g.Lat) > 90 || math.Abs(g.Long) > 180 {
			t.Fatalf("created %v, read back %+v", form, g)
		}
		if x, err := strconv.ParseFloat(lat, 64); err == nil && lat != "" && g.Lat != x {
			t.Fatalf("lat %q read back as %v", lat, g.Lat)
		}
		if _, err := time.Parse(time.RFC3339, g.RequestedDatetime); err != nil {
			t.Fatalf("requested_datetime %q", g.RequestedDatetime)
		}
	})
}

// FuzzSelfReport submits the public self-report form (leads.Submit, as
// the page calls it) with a real code and room. A refusal names its
// message and stores nothing; an accepted report is stored normalised,
// with the identity number masked, and only when every field was valid.
func FuzzSelfReport(f *testing.F) {
	e := apptest.Start(f, "sqlite")
	ctx := context.Background()
	svc := e.App.Web.Leads
	svc.PerAddress, svc.PerPhone = 1<<30, 1<<30 // the fixed test clock never ends a window
	comm, _ := e.App.Store.OrgNodeByCode(ctx, "610402011002")
	_, token, err := svc.CreateCode(ctx, nil, comm.ID, "测试报备点", "gate")
	if err != nil {
		f.Fatal(err)
	}
	raw := store.RawForTest(e.App.Store)
	var room string
	raw.QueryRow(`SELECT r.id FROM places r WHERE r.community_id = $1 AND r.kind = 'room' AND r.grid_id IS NOT NULL ORDER BY r.id LIMIT 1`, comm.ID).Scan(&room)
	now := e.App.Store.Now()
	today := e.App.Store.Today()
	f.Add("张秀英", "11010519491231002X", "13912345678", "西安市雁塔区", today, "train", "well", true, false)
	f.Add(" 李\u3000四 ", "１１０１０５１９４９１２３１００２ｘ", "+86 139 1234 5678", "北京", now.AddDate(0, -3, 0).Format(time.DateOnly), "", "", true, false)
	f.Add("王五", "130503670401001", "029-88886666", "上海", now.AddDate(0, 0, 2).Format(time.DateOnly), "boat", "fever", true, false)
	f.Add("赵六", "110105194912310021", "1391234567", "", today, "", "", true, false)
	f.Add("钱七", "11010519491231002X", "13912345678", "西安", "2026/11/28", "", "", false, false)
	f.Add("孙八", "11010519491231002X", "13912345678", strings.Repeat("远", 101), today, "car", "cough", true, true)
	f.Add("", "", "", "", "", "", "", false, true)
	count := func(t *testing.T) int {
		var n int
		if err := raw.QueryRow(`SELECT COUNT(*) + (SELECT COALESCE(SUM(submissions), 0) FROM self_reports) FROM self_reports`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	f.Fuzz(func(t *testing.T, name, id, phone, from, arrival, transport, health string, consent, otherRoom bool) {
		in := leads.ReportInput{Name: name, IDNumber: id, Phone: phone, FromPlace: from, ArrivalDate: arrival, RoomID: room,
			Transport: transport, Health: health, Consent: consent, IP: "198.51.100.7"}
		if otherRoom {
			in.RoomID = "not-a-room"
		}
		before := count(t)
		rec, err := svc.Submit(ctx, token, in)
		if err != nil {
			if ae, ok := errs.As(err); !ok || ae.Key == "" || ae.Code != errs.Invalid {
				t.Fatalf("refusal %v of %+v: want an invalid-input error with a key", err, in)
			}
			if after := count(t); after != before {
				t.Fatalf("refused report %+v was stored", in)
			}
			return
		}
		if count(t) <= before || rec.Ref == "" {
			t.Fatalf("accepted %+v as %+v but stored nothing new", in, rec)
		}
		// It was valid.
		pid, err := pii.ParseID(pii.DocResidentID, id, now)
		if err != nil || !consent || otherRoom {
			t.Fatalf("accepted %+v (id %v)", in, err)
		}
		if _, err := pii.NormalizePhone(phone); err != nil {
			t.Fatalf("accepted phone %q", phone)
		}
		r, err := e.App.Store.SelfReportByRef(ctx, rec.Ref)
		if err != nil {
			t.Fatalf("receipt %s: %v", rec.Ref, err)
		}
		d, err := time.Parse(time.DateOnly, r.ArrivalDate)
		if err != nil || d.After(now.Add(24*time.Hour)) || d.Before(now.AddDate(0, -3, -1)) {
			t.Fatalf("arrival %q stored", r.ArrivalDate)
		}
		if r.IDMask != pii.MaskID(pid.Number) || r.FromPlace == "" || utf8.RuneCountInString(r.FromPlace) > 100 || r.FromPlace != strings.TrimSpace(pii.NormalizeText(r.FromPlace)) ||
			(r.Transport != "" && !slices.Contains(leads.Transports, r.Transport)) || (r.Health != "" && !slices.Contains(leads.Healths, r.Health)) ||
			r.Name == "" || r.Name != pii.NormalizeText(r.Name) {
			t.Fatalf("stored %+v", r)
		}
	})
}
