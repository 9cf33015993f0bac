package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/events"
	"shequ/internal/store"
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
