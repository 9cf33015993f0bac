package web_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/events"
	"shequ/internal/store"
	"shequ/internal/synth"
)

// act posts an event step as a form and follows the redirect back,
// returning the page and whether it shows an error.
func act(t *testing.T, e *apptest.Env, c *http.Client, ref, action string, form url.Values) (int, string) {
	t.Helper()
	st, _, hdr := apptest.Do(t, c, "POST", e.Server.URL+"/events/"+ref+"/"+action, form, nil)
	if st != 303 {
		return st, ""
	}
	_, body, _ := apptest.Do(t, c, "GET", e.Server.URL+hdr.Get("Location"), nil, nil)
	if strings.Contains(hdr.Get("Location"), "error=") {
		return 400, body
	}
	return st, body
}

// villageGroups gives the village its groups and puts the demo's property
// and grid accounts in two of them.
func villageGroups(t *testing.T, e *apptest.Env) string {
	t.Helper()
	ctx := context.Background()
	comm, _ := e.App.Store.OrgNodeByCode(ctx, "610402011002")
	groups, err := e.App.Web.Events.EnsureGroups(ctx, comm.ID)
	if err != nil {
		t.Fatal(err)
	}
	members := map[string]string{"property": principal(t, e, access.Property).UserID, "grid_leader": principal(t, e, access.Grid).UserID}
	e.App.Store.Write(ctx, func(tx *store.Tx) error {
		for _, g := range groups {
			if u := members[g.Code]; u != "" {
				if err := tx.AddGroupMember(ctx, g.ID, u); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return comm.ID
}

// A grid worker reports a problem with a photo; staff accept it and
// dispatch it to two groups; it is resolved only when both have done their
// part; closing before verifying is refused with the reason; staff verify
// and close it; the reporter rates it.
func TestEventJointHandling(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	comm := villageGroups(t, e)
	grid, staff, property := e.Login(t, access.Grid), e.Login(t, access.Staff), e.Login(t, access.Property)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("community", comm)
	mw.WriteField("category", "hazard")
	mw.WriteField("description", "3号楼楼道堆放杂物，堵塞消防通道")
	mw.WriteField("address", "丰乐西村3号")
	fw, _ := mw.CreateFormFile("photos", "hall.jpg")
	fw.Write(jpegBytes(t, 32))
	mw.Close()
	req, _ := http.NewRequest("POST", e.Server.URL+"/events", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := grid.Do(req)
	if err != nil || resp.StatusCode != 303 || !strings.HasPrefix(resp.Header.Get("Location"), "/events/E") {
		t.Fatalf("report: %v %v", err, resp)
	}
	resp.Body.Close()
	ref := strings.TrimPrefix(resp.Header.Get("Location"), "/events/")
	if _, err := e.App.Web.Events.Report(context.Background(), principal(t, e, access.Grid), "", events.Input{CommunityID: comm, Category: "hazard",
		Description: "x", Photos: []events.Photo{{Data: []byte("%PDF-1.4")}}}); err == nil || !strings.Contains(err.Error(), "photo_type") {
		t.Fatalf("a photo that is not an image: %v", err)
	}
	if st, body := act(t, e, staff, ref, "close", nil); st != 400 || !strings.Contains(body, "现在不能办结") || !strings.Contains(body, "待受理") {
		t.Fatalf("closing a reported event: %d\n%s", st, snippet(body))
	}
	if st, _ := act(t, e, staff, ref, "accept", nil); st != 303 {
		t.Fatalf("accept: %d", st)
	}
	if st, body := act(t, e, staff, ref, "dispatch", url.Values{"group": {"police_station_x"}}); st != 400 || !strings.Contains(body, "police_station_x") {
		t.Fatalf("a group that does not exist: %d", st)
	}
	if st, _ := act(t, e, staff, ref, "dispatch", url.Values{"group": {"property", "grid_leader"}, "note": {"物业清理，网格长督促"}}); st != 303 {
		t.Fatalf("dispatch: %d", st)
	}
	if st, body := act(t, e, property, ref, "finish", url.Values{"note": {"杂物已清走"}}); st != 303 || !strings.Contains(body, `data-status="in_progress"`) {
		t.Fatalf("the property company's part: %d\n%s", st, snippet(body))
	}
	if st, body := act(t, e, grid, ref, "finish", url.Values{"note": {"已复查，通道畅通"}}); st != 303 || !strings.Contains(body, `data-status="resolved"`) {
		t.Fatalf("the last part: %d\n%s", st, snippet(body))
	}
	if st, body := act(t, e, staff, ref, "close", nil); st != 400 || !strings.Contains(body, "已处置") {
		t.Fatalf("closing an unverified event: %d", st)
	}
	for _, a := range []string{"verify", "close"} {
		if st, _ := act(t, e, staff, ref, a, nil); st != 303 {
			t.Fatalf("%s: %d", a, st)
		}
	}
	if _, err := e.App.Web.Events.Act(context.Background(), principal(t, e, access.Staff), ref, events.Action{Name: "evaluate", Rating: 5}); err == nil {
		t.Fatal("someone else rated the grid worker's report")
	}
	if st, body := act(t, e, grid, ref, "evaluate", url.Values{"rating": {"5"}, "note": {"处理很快"}}); st != 303 || !strings.Contains(body, `data-status="evaluated"`) {
		t.Fatalf("rating: %d\n%s", st, snippet(body))
	}
	var photos, steps int
	raw := store.RawForTest(e.App.Store)
	raw.QueryRow(`SELECT count(*) FROM event_photos p JOIN events ev ON ev.id = p.event_id WHERE ev.ref = $1`, ref).Scan(&photos)
	raw.QueryRow(`SELECT count(*) FROM event_steps s JOIN events ev ON ev.id = s.event_id WHERE ev.ref = $1`, ref).Scan(&steps)
	if photos != 1 || steps != 8 {
		t.Fatalf("%d photos, %d steps", photos, steps)
	}
}

// An accepted event past its SLA escalates from the grid to the community,
// then to the street, under a fake clock.
func TestEventEscalates(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ctx := context.Background()
	comm := villageGroups(t, e)
	ev, err := e.App.Web.Events.Report(ctx, principal(t, e, access.Grid), "", events.Input{CommunityID: comm, Category: "fever", Description: "3号楼有人发热", Source: "grid"})
	if err != nil {
		t.Fatal(err)
	}
	staff := principal(t, e, access.Staff)
	if _, err := e.App.Web.Events.Act(ctx, staff, ev.Ref, events.Action{Name: "accept"}); err != nil {
		t.Fatal(err)
	}
	level := func() int {
		got, _, _ := e.App.Store.Event(ctx, ev.Ref)
		return got.Level
	}
	if n, _ := e.App.Web.Events.Escalate(ctx); n != 0 || level() != 0 {
		t.Fatal("escalated before the SLA ran out")
	}
	e.Clock.Advance(2*time.Hour + time.Minute) // fever: 2 hours on the clock
	if n, _ := e.App.Web.Events.Escalate(ctx); n != 1 || level() != 1 {
		t.Fatalf("after 2 h: level %d", level())
	}
	e.Clock.Advance(2*time.Hour + time.Minute)
	e.App.Web.Events.Escalate(ctx)
	e.Clock.Advance(2*time.Hour + time.Minute)
	if n, _ := e.App.Web.Events.Escalate(ctx); n != 0 || level() != 2 {
		t.Fatalf("escalation beyond the street: level %d", level())
	}
	steps, _ := e.App.Store.EventSteps(ctx, ev.ID)
	if last := steps[len(steps)-1]; last.Action != "escalate" || last.Note != "升级到街道" {
		t.Fatalf("history: %+v", last)
	}
}

// residentClient logs the demo resident in with a one-time code.
func residentClient(t *testing.T, e *apptest.Env) *http.Client {
	t.Helper()
	c := e.Client()
	if st, _, _ := apptest.Do(t, c, "POST", e.Server.URL+"/login/resident/code", url.Values{"phone": {e.Demo.ResidentPhone}}, nil); st != 200 {
		t.Fatalf("send code: %d", st)
	}
	m := regexp.MustCompile(`"code":"(\d{6})"`).FindAllStringSubmatch(e.LogText(), -1)
	if st, _, _ := apptest.Do(t, c, "POST", e.Server.URL+"/login/resident", url.Values{"phone": {e.Demo.ResidentPhone}, "code": {m[len(m)-1][1]}}, nil); st != 303 {
		t.Fatalf("resident login: %d", st)
	}
	return c
}

// A resident reports a problem from the phone, is told when it is
// accepted and done, rates it, and may reopen it only within the window;
// nobody else's report is visible to them.
func TestResidentReportsAndRates(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ctx := context.Background()
	res := residentClient(t, e)
	st, _, hdr := apptest.Do(t, res, "POST", e.Server.URL+"/me/reports", url.Values{"category": {"repair"}, "description": {"单元门禁坏了，关不上"}}, nil)
	if st != 303 || !strings.HasPrefix(hdr.Get("Location"), "/me/reports/E") {
		t.Fatalf("report: %d %s", st, hdr.Get("Location"))
	}
	ref := strings.TrimPrefix(hdr.Get("Location"), "/me/reports/")
	ev, _, _ := e.App.Store.Event(ctx, ref)
	comm := villageGroupsOf(t, e, ev.CommunityID)
	staff := principalAt(t, e, access.Staff, comm)
	property := principal(t, e, access.Property)
	steps := []events.Action{{Name: "accept"}, {Name: "dispatch", Groups: []string{"property", "grid_leader"}}}
	for _, a := range steps {
		if _, err := e.App.Web.Events.Act(ctx, staff, ref, a); err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
	}
	e.App.Store.Write(ctx, func(tx *store.Tx) error {
		gs, _ := e.App.Store.EventGroups(ctx, ev.CommunityID)
		for _, g := range gs {
			if g.Code == "property" {
				return tx.AddGroupMember(ctx, g.ID, property.UserID)
			}
		}
		return nil
	})
	if _, err := e.App.Web.Events.Act(ctx, property, ref, events.Action{Name: "finish", Note: "已换新锁"}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := e.App.Store.Event(ctx, ref); got.Status != events.InProgress {
		t.Fatalf("resolved with one of two groups done: %s", got.Status)
	}
	gridLeader := principal(t, e, access.Grid)
	e.App.Store.Write(ctx, func(tx *store.Tx) error {
		gs, _ := e.App.Store.EventGroups(ctx, ev.CommunityID)
		for _, g := range gs {
			if g.Code == "grid_leader" {
				return tx.AddGroupMember(ctx, g.ID, gridLeader.UserID)
			}
		}
		return nil
	})
	if _, err := e.App.Web.Events.Act(ctx, gridLeader, ref, events.Action{Name: "finish", Note: "已回访住户"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []events.Action{{Name: "verify"}, {Name: "close"}} {
		if _, err := e.App.Web.Events.Act(ctx, staff, ref, a); err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
	}
	_, body, _ := apptest.Do(t, res, "GET", e.Server.URL+"/me/reports", nil, nil)
	if !strings.Contains(body, "已受理") || !strings.Contains(body, "已办结") {
		t.Fatalf("the resident was not told:\n%s", snippet(body))
	}
	if st, body := act(t, e, res, ref, "evaluate", url.Values{"rating": {"4"}, "note": {"修得快", "x"}, "back": {"me"}}); st != 303 || !strings.Contains(body, `data-status="evaluated"`) {
		t.Fatalf("rating: %d\n%s", st, snippet(body))
	}
	// Past the window, reopening is refused with the reason.
	e.Clock.Advance(8 * 24 * time.Hour)
	res = residentClient(t, e)
	if st, body := act(t, e, res, ref, "reopen", url.Values{"note": {"又坏了"}, "back": {"me"}}); st != 400 || !strings.Contains(body, "7 天") {
		t.Fatalf("reopen after the window: %d\n%s", st, snippet(body))
	}
	// Another resident's report is not there.
	other, _ := e.App.Web.Events.Report(ctx, staff, "", events.Input{CommunityID: ev.CommunityID, Category: "repair", Description: "路灯坏了", Source: "staff"})
	if st, _, _ := apptest.Do(t, res, "GET", e.Server.URL+"/me/reports/"+other.Ref, nil, nil); st != 404 {
		t.Fatalf("someone else's report: %d", st)
	}
}

// villageGroupsOf gives a community its default groups.
func villageGroupsOf(t *testing.T, e *apptest.Env, communityID string) string {
	t.Helper()
	if _, err := e.App.Web.Events.EnsureGroups(context.Background(), communityID); err != nil {
		t.Fatal(err)
	}
	return communityID
}

// principalAt is the demo account of a role, given rights at a community
// if it has none there (the demo's staff work in the village).
func principalAt(t *testing.T, e *apptest.Env, role access.Role, communityID string) *access.Principal {
	t.Helper()
	p := principal(t, e, role)
	n, _ := e.App.Store.OrgNode(context.Background(), communityID)
	if !p.Can(access.EventManage, n.Path) {
		p.Assignments = append(p.Assignments, access.Assignment{Role: role, NodeID: n.ID, NodePath: n.Path})
	}
	return p
}

// A gate alarm and a patrol finding each open an event ticket with one
// press; the alarm is handled by it and the finding marked taken up.
func TestAlarmsAndFindingsBecomeEvents(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	raw := store.RawForTest(e.App.Store)
	card, _ := aCard(t, e)
	if st, body := postJSON(t, e, "/api/device/v1/decide", deviceToken(t, e, "FL-S-TURNSTILE"), `{"credential":{"kind":"card","value":"`+card+`"},"temperature":38.6}`); st != 200 {
		t.Fatalf("a feverish resident at the gate: %d %s", st, body)
	}
	e.App.Gates.FlushLog()
	var alarm string
	raw.QueryRow(`SELECT a.id FROM alarms a JOIN gates g ON g.id = a.gate_id JOIN org_nodes n ON n.id = g.community_id
		WHERE n.code = '610402011002' AND a.status <> 'handled' ORDER BY CASE a.kind WHEN 'fever' THEN 0 ELSE 1 END LIMIT 1`).Scan(&alarm)
	if alarm == "" {
		t.Fatal("the demo has no open alarm in the village")
	}
	st, _, hdr := apptest.Do(t, staff, "POST", e.Server.URL+"/gates/alarms/"+alarm, url.Values{"action": {"event"}, "note": {"已送发热门诊"}}, nil)
	if st != 303 || !strings.HasPrefix(hdr.Get("Location"), "/events/E") {
		t.Fatalf("alarm to event: %d %s", st, hdr.Get("Location"))
	}
	ref := strings.TrimPrefix(hdr.Get("Location"), "/events/")
	var source, status, sourceRef string
	raw.QueryRow(`SELECT e.source, e.source_ref FROM events e WHERE e.ref = $1`, ref).Scan(&source, &sourceRef)
	raw.QueryRow(`SELECT status FROM alarms WHERE id = $1`, alarm).Scan(&status)
	if source != "gate" || sourceRef != alarm || status != "handled" {
		t.Fatalf("event from %s (%s), alarm %s", source, sourceRef, status)
	}
	var patrol string
	raw.QueryRow(`SELECT t.id FROM patrols t JOIN patrol_points p ON p.id = t.point_id JOIN org_nodes n ON n.id = p.community_id
		WHERE n.code = '610402011002' AND t.status = 'problem' LIMIT 1`).Scan(&patrol)
	st, _, hdr = apptest.Do(t, staff, "POST", e.Server.URL+"/grid/patrols/"+patrol+"/event", nil, nil)
	if st != 303 || !strings.HasPrefix(hdr.Get("Location"), "/events/E") {
		t.Fatalf("finding to event: %d", st)
	}
	raw.QueryRow(`SELECT status FROM patrols WHERE id = $1`, patrol).Scan(&status)
	if status != "handled" {
		t.Fatalf("the finding is %s", status)
	}
}

// The resident's portal: the entry policy in plain words, news, services,
// rumours with shareable public pages, their household masked with a
// correction request that reaches the grid leader, and the elder mode.
func TestResidentPortal(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	res := residentClient(t, e)
	st, body, _ := apptest.Do(t, res, "GET", e.Server.URL+"/portal", nil, nil)
	if st != 200 || !strings.Contains(body, "37.3") || !strings.Contains(body, "疫情防控通告") || !strings.Contains(body, "康民大药房") || !strings.Contains(body, "高度白酒") {
		t.Fatalf("portal: %d\n%s", st, snippet(body))
	}
	// Rumours: searchable, each at a public link.
	st, body, _ = apptest.Do(t, e.Client(), "GET", e.Server.URL+"/rumours?q=囤菜", nil, nil)
	if st != 200 || !strings.Contains(body, "全面封闭") || strings.Contains(body, "高度白酒") {
		t.Fatalf("rumour search: %d\n%s", st, snippet(body))
	}
	link := regexp.MustCompile(`href="(/rumours/[0-9a-z]+)"`).FindStringSubmatch(body)
	if st, body, _ := apptest.Do(t, e.Client(), "GET", e.Server.URL+link[1], nil, nil); st != 200 || !strings.Contains(body, "社区没有发布封闭通知") {
		t.Fatalf("a rumour's public page: %d", st)
	}
	// The household, masked; a correction becomes an event for the grid leader.
	_, body, _ = apptest.Do(t, res, "GET", e.Server.URL+"/me/household", nil, nil)
	if !strings.Contains(body, "**") || !strings.Contains(body, "*") {
		t.Fatalf("household not masked:\n%s", snippet(body))
	}
	if st, _, hdr := apptest.Do(t, res, "POST", e.Server.URL+"/me/household", url.Values{"description": {"我的手机号已换成 139****0000"}}, nil); st != 303 || hdr.Get("Location") != "/me/reports" {
		t.Fatalf("correction: %d", st)
	}
	var group, desc string
	store.RawForTest(e.App.Store).QueryRow(`SELECT c.default_group, e.description FROM events e JOIN event_categories c ON c.id = e.category_id
		WHERE e.source = 'resident' AND c.code = 'correction'`).Scan(&group, &desc)
	if group != "grid_leader" || !strings.Contains(desc, "手机号") {
		t.Fatalf("the correction request: %q for %q", desc, group)
	}
	// Elder mode: large text for this browser.
	apptest.Do(t, res, "GET", e.Server.URL+"/portal/elder?on=1", nil, nil)
	if _, body, _ := apptest.Do(t, res, "GET", e.Server.URL+"/portal", nil, nil); !strings.Contains(body, `class="phone portal elder"`) {
		t.Fatal("elder mode did not switch on")
	}
}

// Staff add a category of their own with its SLA and default group; a
// code in another form is refused; reports can use it at once.
func TestCommunityEventCategories(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	comm, _ := e.App.Store.OrgNodeByCode(context.Background(), "610402011002")
	form := url.Values{"community": {comm.ID}, "code": {"parking"}, "name": {"乱停车"}, "kind": {"life"}, "sla_hours": {"8"}, "default_group": {"property"}}
	if st, _, hdr := apptest.Do(t, staff, "POST", e.Server.URL+"/events/categories", form, nil); st != 303 || strings.Contains(hdr.Get("Location"), "error") {
		t.Fatalf("add: %d %s", st, hdr.Get("Location"))
	}
	form.Set("code", "Bad Code")
	if _, _, hdr := apptest.Do(t, staff, "POST", e.Server.URL+"/events/categories", form, nil); !strings.Contains(hdr.Get("Location"), "error") {
		t.Fatal("a malformed code was accepted")
	}
	ev, err := e.App.Web.Events.Report(context.Background(), principal(t, e, access.Grid), "", events.Input{CommunityID: comm.ID, Category: "parking", Description: "消防通道停车", Source: "grid"})
	if err != nil || ev.Title != "乱停车" {
		t.Fatalf("report in the new category: %v %+v", err, ev)
	}
}

// Something found while verifying a self-report becomes an event.
func TestSelfReportLeadBecomesEvent(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	e.App.Web.Cfg.TrustProxy = true
	grid := e.Login(t, access.Grid)
	gp := principal(t, e, access.Grid)
	raw := store.RawForTest(e.App.Store)
	var room string
	raw.QueryRow(`SELECT r.id FROM places r JOIN role_assignments a ON a.node_id = r.grid_id WHERE a.user_id = $1 AND r.kind = 'room' LIMIT 1`, gp.UserID).Scan(&room)
	sp := synth.NewPerson(rand.New(rand.NewPCG(11, 11)), synth.Profile{MinAge: 30, MaxAge: 60})
	if st, _, _ := postReport(t, e, villageReportCode(t, e), reportForm(sp, room, e.App.Store.Today()), "203.0.113.30"); st != 303 {
		t.Fatalf("self-report: %d", st)
	}
	var lead string
	raw.QueryRow(`SELECT l.id FROM leads l WHERE l.room_id = $1 AND l.assignee_id = $2 AND l.name = $3`, room, gp.UserID, sp.Name).Scan(&lead)
	st, _, hdr := apptest.Do(t, grid, "POST", e.Server.URL+"/leads/"+lead+"/event", url.Values{"category": {"supplies"}, "note": {"返乡后居家，缺少米面"}}, nil)
	if st != 303 || !strings.HasPrefix(hdr.Get("Location"), "/events/E") {
		t.Fatalf("lead to event: %d %s", st, hdr.Get("Location"))
	}
	var source, place string
	raw.QueryRow(`SELECT source, COALESCE(place_id, '') FROM events WHERE ref = $1`, strings.TrimPrefix(hdr.Get("Location"), "/events/")).Scan(&source, &place)
	if source != "selfreport" || place != room {
		t.Fatalf("event from %q at %q", source, place)
	}
}
