package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/leads"
	"shequ/internal/store"
	"shequ/internal/synth"
	"shequ/internal/testutil"
)

// villageReportCode makes a self-report code for the village's south gate.
func villageReportCode(t *testing.T, e *apptest.Env) string {
	t.Helper()
	comm, _ := e.App.Store.OrgNodeByCode(context.Background(), "610402011002")
	_, tok, err := e.App.Web.Leads.CreateCode(context.Background(), nil, comm.ID, "测试报备点", "gate")
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// villageRooms lists rooms of the village with the workers of their grids.
func villageRooms(t *testing.T, e *apptest.Env) []string {
	t.Helper()
	rows, err := store.RawForTest(e.App.Store).Query(`SELECT r.id FROM places r JOIN org_nodes n ON n.id = r.community_id
		WHERE n.code = '610402011002' AND r.kind = 'room' AND r.grid_id IS NOT NULL ORDER BY r.id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		out = append(out, id)
	}
	return out
}

func reportForm(sp synth.Person, room, arrival string) url.Values {
	return url.Values{"name": {sp.Name}, "id_number": {sp.IDNumber}, "phone": {sp.Phone}, "from_place": {"西安市雁塔区"},
		"arrival_date": {arrival}, "room": {room}, "consent": {"yes"}}
}

func postReport(t *testing.T, e *apptest.Env, token string, form url.Values, ip string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.Server.URL+"/r/"+token, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := e.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, resp.Header.Get("Location"), b.String()
}

// The public form: the contract's fields give a receipt with a reference;
// the same person reporting the same arrival again merges; a forged code
// gets a friendly page and stores nothing; missing consent and bad IDs are
// named; a flood from one address is throttled while others keep working.
func TestSelfReportForm(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	e.App.Web.Cfg.TrustProxy = true
	token := villageReportCode(t, e)
	raw := store.RawForTest(e.App.Store)
	count := func(q string, args ...any) (n int) {
		raw.QueryRow(q, args...).Scan(&n)
		return n
	}
	st, body, _ := apptest.Do(t, e.Client(), "GET", e.Server.URL+"/r/"+token, nil, nil)
	if st != 200 || !strings.Contains(body, `name="building"`) || !strings.Contains(body, "个人信息告知") {
		t.Fatalf("form: %d\n%s", st, snippet(body))
	}
	var building string
	raw.QueryRow(`SELECT p.id FROM places p JOIN org_nodes n ON n.id = p.community_id WHERE n.code = '610402011002' AND p.kind = 'house' LIMIT 1`).Scan(&building)
	st, body, _ = apptest.Do(t, e.Client(), "GET", e.Server.URL+"/r/"+token+"/rooms?parent="+building, nil, nil)
	var rooms []map[string]string
	if json.Unmarshal([]byte(body), &rooms); st != 200 || len(rooms) == 0 || rooms[0]["kind"] != "room" {
		t.Fatalf("rooms of a house: %d %s", st, body)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	sp := synth.NewPerson(rng, synth.Profile{MinAge: 20, MaxAge: 60})
	form := reportForm(sp, rooms[0]["id"], e.App.Store.Today())
	st, loc, _ := postReport(t, e, token, form, "203.0.113.1")
	if st != 303 || !strings.HasPrefix(loc, "/report/") {
		t.Fatalf("submit: %d %s", st, loc)
	}
	st, body, _ = apptest.Do(t, e.Client(), "GET", e.Server.URL+loc, nil, nil)
	ref := strings.TrimPrefix(strings.SplitN(loc, "?", 2)[0], "/report/")
	if st != 200 || !strings.Contains(body, ref) || strings.Contains(body, sp.IDNumber) {
		t.Fatalf("receipt: %d\n%s", st, snippet(body))
	}
	// The lead is with the worker of the room's grid.
	var assignee, status string
	raw.QueryRow(`SELECT COALESCE(l.assignee_id, ''), l.status FROM self_reports r JOIN leads l ON l.id = r.lead_id WHERE r.ref = $1`, ref).Scan(&assignee, &status)
	if n := count(`SELECT count(*) FROM role_assignments a JOIN places p ON p.grid_id = a.node_id WHERE p.id = $1 AND a.user_id = $2 AND a.role = 'grid'`,
		rooms[0]["id"], assignee); n != 1 || status != "assigned" {
		t.Fatalf("the lead is not with the room's grid worker (%q, %s)", assignee, status)
	}
	// Again, the same arrival, with the ID typed in full-width digits: merged.
	form.Set("id_number", strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r - '0' + '０'
		}
		return r
	}, sp.IDNumber))
	form.Set("from_place", "西安市碑林区")
	st, loc2, _ := postReport(t, e, token, form, "203.0.113.1")
	if st != 303 || !strings.Contains(loc2, ref) || !strings.Contains(loc2, "merged=1") {
		t.Fatalf("a second report of the same arrival: %d %s", st, loc2)
	}
	if n := count(`SELECT count(*) FROM self_reports`); n != 1+36 || count(`SELECT submissions FROM self_reports WHERE ref = $1`, ref) != 2 {
		t.Fatalf("%d reports stored (36 from the demo), want one more", n)
	}
	before := count(`SELECT count(*) FROM self_reports`)
	// A forged code: a friendly page, nothing stored.
	st, _, body = postReport(t, e, token[:len(token)-2]+"xx", reportForm(synth.NewPerson(rng, synth.Profile{MinAge: 20, MaxAge: 60}), rooms[0]["id"], e.App.Store.Today()), "203.0.113.2")
	if st != 404 || !strings.Contains(body, "二维码无效") {
		t.Fatalf("forged code: %d\n%s", st, snippet(body))
	}
	// No consent, a wrong ID: the field is named, nothing stored.
	bad := reportForm(synth.NewPerson(rng, synth.Profile{MinAge: 20, MaxAge: 60}), rooms[0]["id"], e.App.Store.Today())
	bad.Del("consent")
	if st, _, body := postReport(t, e, token, bad, "203.0.113.3"); st != 400 || !strings.Contains(body, "同意") || !strings.Contains(body, `value="`+bad.Get("name")+`"`) {
		t.Fatalf("no consent: %d\n%s", st, snippet(body))
	}
	bad.Set("consent", "yes")
	bad.Set("id_number", "6104********1234")
	if st, _, body := postReport(t, e, token, bad, "203.0.113.3"); st != 400 || !strings.Contains(body, `data-field="id_number"`) {
		t.Fatalf("masked ID: %d\n%s", st, snippet(body))
	}
	if n := count(`SELECT count(*) FROM self_reports`); n != before {
		t.Fatalf("refused reports were stored: %d", n-before)
	}
	// A flood from one address is throttled; another address still reports.
	throttled := 0
	for i := 0; i < 40; i++ {
		if st, _, _ := postReport(t, e, token, reportForm(synth.NewPerson(rng, synth.Profile{MinAge: 20, MaxAge: 60}), rooms[0]["id"], e.App.Store.Today()), "198.51.100.9"); st == 429 {
			throttled++
		}
	}
	if throttled != 10 {
		t.Fatalf("%d of 40 from one address throttled, want 10", throttled)
	}
	if st, _, _ := postReport(t, e, token, reportForm(synth.NewPerson(rng, synth.Profile{MinAge: 20, MaxAge: 60}), rooms[0]["id"], e.App.Store.Today()), "198.51.100.10"); st != 303 {
		t.Fatalf("another address during the flood: %d", st)
	}
}

// 600 returnees reporting at once through the public form are all stored
// once, each as a lead with the grid worker of the room they chose.
func TestSixHundredSelfReportsAtOnce(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	e.App.Web.Cfg.TrustProxy = true
	token := villageReportCode(t, e)
	rooms := villageRooms(t, e)
	rng := rand.New(rand.NewPCG(6, 0))
	seen := map[string]bool{}
	var forms []url.Values
	for len(forms) < 600 {
		sp := synth.NewPerson(rng, synth.Profile{MinAge: 18, MaxAge: 70})
		if seen[sp.IDNumber] || seen[sp.Phone] {
			continue
		}
		seen[sp.IDNumber], seen[sp.Phone] = true, true
		forms = append(forms, reportForm(sp, rooms[len(forms)%len(rooms)], e.App.Store.Today()))
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	failures := make(chan string, len(forms))
	for i, f := range forms {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if st, loc, body := postReport(t, e, token, f, fmt.Sprintf("10.1.%d.%d", i/250, i%250)); st != 303 {
				failures <- fmt.Sprintf("%d %s %.200s", st, loc, body)
			}
		}()
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Fatalf("a report failed: %s", f)
	}
	var reports, leads, misplaced int
	raw := store.RawForTest(e.App.Store)
	raw.QueryRow(`SELECT count(*) FROM self_reports r JOIN report_codes c ON c.id = r.code_id WHERE c.place = '测试报备点'`).Scan(&reports)
	raw.QueryRow(`SELECT count(DISTINCT l.id) FROM self_reports r JOIN report_codes c ON c.id = r.code_id JOIN leads l ON l.id = r.lead_id WHERE c.place = '测试报备点'`).Scan(&leads)
	raw.QueryRow(`SELECT count(*) FROM self_reports r JOIN report_codes c ON c.id = r.code_id JOIN leads l ON l.id = r.lead_id JOIN places p ON p.id = r.room_id
		WHERE c.place = '测试报备点' AND NOT EXISTS (SELECT 1 FROM role_assignments a WHERE a.node_id = p.grid_id AND a.user_id = l.assignee_id AND a.role = 'grid')`).Scan(&misplaced)
	if reports != 600 || leads != 600 || misplaced != 0 {
		t.Fatalf("%d reports, %d leads, %d with the wrong grid worker", reports, leads, misplaced)
	}
}

// A code's poster prints as a page and downloads as an A4 PNG.
func TestReportPoster(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	var code string
	store.RawForTest(e.App.Store).QueryRow(`SELECT c.id FROM report_codes c JOIN org_nodes n ON n.id = c.community_id WHERE n.code = '610402011002' LIMIT 1`).Scan(&code)
	st, body, _ := apptest.Do(t, staff, "GET", e.Server.URL+"/leads/codes/"+code+"/poster", nil, nil)
	if st != 200 || !strings.Contains(body, "返乡人员请扫码报备") || !strings.Contains(body, "data:image/png;base64,") || !strings.Contains(body, "/r/"+code+".") {
		t.Fatalf("poster page: %d\n%s", st, snippet(body))
	}
	resp, err := staff.Get(e.Server.URL + "/leads/codes/" + code + "/poster.png")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == 503 {
		testutil.SkipOrFail(t, "no Chinese font for the PNG poster (apt-get install fonts-wqy-microhei)")
	}
	img, err := png.Decode(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("poster.png: %d %v", resp.StatusCode, err)
	}
	if b := img.Bounds(); b.Dx() != 1240 || b.Dy() != 1754 {
		t.Fatalf("poster.png is %v, want A4 at 150 dpi", b)
	}
	dark := 0
	for y := 200; y < 400; y += 2 {
		for x := 100; x < 1140; x += 2 {
			if r, g, b, _ := img.At(x, y).RGBA(); r+g+b < 3*0x8000 {
				dark++
			}
		}
	}
	if dark < 200 {
		t.Fatalf("the poster's title area is blank (%d dark pixels)", dark)
	}
	// A grid worker does not manage codes.
	if st, _, _ := apptest.Do(t, e.Login(t, access.Grid), "GET", e.Server.URL+"/leads/codes/"+code+"/poster.png", nil, nil); st != 403 {
		t.Fatalf("a grid worker's poster: %d", st)
	}
}

// With the optional SMS code on, the form asks for the code sent to the
// phone and refuses a report without it or with a wrong one.
func TestSelfReportWithSMSCode(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	e.App.Web.Leads.Codes = e.App.Auth
	token := villageReportCode(t, e)
	rooms := villageRooms(t, e)
	if _, body, _ := apptest.Do(t, e.Client(), "GET", e.Server.URL+"/r/"+token, nil, nil); !strings.Contains(body, `name="code"`) {
		t.Fatalf("the form does not ask for the code:\n%s", snippet(body))
	}
	sp := synth.NewPerson(rand.New(rand.NewPCG(3, 3)), synth.Profile{MinAge: 20, MaxAge: 60})
	if st, _, _ := apptest.Do(t, e.Client(), "POST", e.Server.URL+"/r/"+token+"/code", url.Values{"phone": {sp.Phone}}, map[string]string{"Accept": "application/json"}); st != 200 {
		t.Fatalf("send code: %d", st)
	}
	m := regexp.MustCompile(`"code":"(\d{6})"`).FindStringSubmatch(e.LogText())
	if m == nil {
		t.Fatalf("no code in the log:\n%s", e.LogText())
	}
	form := reportForm(sp, rooms[0], e.App.Store.Today())
	if st, _, body := postReport(t, e, token, form, "203.0.113.7"); st != 400 || !strings.Contains(body, `data-field="code"`) {
		t.Fatalf("without the code: %d", st)
	}
	form.Set("code", m[1])
	if st, _, _ := postReport(t, e, token, form, "203.0.113.7"); st != 303 {
		t.Fatalf("with the code: %d", st)
	}
}

// A resident who self-reports is matched by identity number; once the
// grid worker finds them, the arrival is in their travel record.
func TestVerifiedSelfReportBecomesTravel(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	e.App.Web.Cfg.TrustProxy = true
	ctx := context.Background()
	token := villageReportCode(t, e)
	grid := principal(t, e, access.Grid)
	raw := store.RawForTest(e.App.Store)
	var room, person, name string
	var enc []byte
	raw.QueryRow(`SELECT r.id, p.id, p.name, p.id_enc FROM places r JOIN role_assignments a ON a.node_id = r.grid_id AND a.user_id = $1
		JOIN households h ON h.room_id = r.id JOIN household_members m ON m.household_id = h.id JOIN persons p ON p.id = m.person_id
		WHERE m.until IS NULL LIMIT 1`, grid.UserID).Scan(&room, &person, &name, &enc)
	id, _ := e.App.Keys.DecryptString(enc, "persons.id_number")
	form := url.Values{"name": {name}, "id_number": {id}, "phone": {"13987654321"}, "from_place": {"兰州市城关区"}, "arrival_date": {e.App.Store.Today()},
		"room": {room}, "consent": {"yes"}, "transport": {"train"}}
	if st, _, _ := postReport(t, e, token, form, "203.0.113.20"); st != 303 {
		t.Fatalf("report: %d", st)
	}
	var lead, kind string
	raw.QueryRow(`SELECT l.id, l.match_kind FROM leads l WHERE l.person_id = $1 AND l.assignee_id = $2`, person, grid.UserID).Scan(&lead, &kind)
	if lead == "" || kind != "id" {
		t.Fatalf("the resident's report is not a matched lead with their worker (%q %q)", lead, kind)
	}
	if err := e.App.Web.Leads.Verify(ctx, grid, lead, leads.VerifyInput{Method: "phone", Outcome: "found", Note: "电话核实", CallRecord: "通话1分钟"}); err != nil {
		t.Fatal(err)
	}
	var n int
	raw.QueryRow(`SELECT count(*) FROM travel_declarations WHERE person_id = $1 AND from_place = '兰州市城关区' AND transport = 'train'`, person).Scan(&n)
	if n != 1 {
		t.Fatal("the verified arrival is not in the travel record")
	}
}
