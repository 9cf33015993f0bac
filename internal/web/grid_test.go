package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/gridwork"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// sendJSON posts a JSON body with a logged-in client.
func sendJSON(t *testing.T, c *http.Client, u string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", u, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func bundleOf(t *testing.T, e *apptest.Env, c *http.Client) gridwork.Bundle {
	t.Helper()
	resp, err := c.Get(e.Server.URL + "/api/grid/v1/bundle")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b gridwork.Bundle
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil || resp.StatusCode != 200 {
		t.Fatalf("bundle: %d %v", resp.StatusCode, err)
	}
	resp, err = c.Get(e.Server.URL + "/api/grid/v1/households")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var hs map[string][]gridwork.BundleHousehold
	if err := json.NewDecoder(resp.Body).Decode(&hs); err != nil || resp.StatusCode != 200 {
		t.Fatalf("households: %d %v", resp.StatusCode, err)
	}
	for i, r := range b.Rooms {
		people := 0
		for _, h := range hs[r.ID] {
			people += len(h.Members)
		}
		if people != r.People {
			t.Fatalf("room %s: %d people in the bundle, %d in its households", r.Address, r.People, people)
		}
		b.Rooms[i].Households = hs[r.ID]
	}
	return b
}

// roomWith finds a room of the bundle with at least n members.
func roomWith(t *testing.T, b gridwork.Bundle, n int, skip ...string) gridwork.BundleRoom {
	t.Helper()
next:
	for _, r := range b.Rooms {
		for _, s := range skip {
			if r.ID == s {
				continue next
			}
		}
		count := 0
		for _, h := range r.Households {
			count += len(h.Members)
		}
		if count >= n {
			return r
		}
	}
	t.Fatalf("no room with %d members", n)
	return gridwork.BundleRoom{}
}

func jpegBytes(t *testing.T, size int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	img.Set(0, 0, color.White)
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100})
	return buf.Bytes()
}

// A grid worker's visit updates the ledger with its provenance, in one
// go; a resend is stored once; a household outside their grid is refused
// and audited; bad photos are named; a visit that changes members someone
// else changed meanwhile comes back as a conflict with what is there now.
func TestGridVisitUpdatesTheLedgerOnce(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			e := apptest.Start(t, engine)
			ctx := context.Background()
			grid := e.Login(t, access.Grid)
			b := bundleOf(t, e, grid)
			if len(b.Grids) != 1 || len(b.Rooms) == 0 || len(b.Points) == 0 || len(b.Checklists) == 0 {
				t.Fatalf("bundle: %d grids, %d rooms, %d points, %d checklists", len(b.Grids), len(b.Rooms), len(b.Points), len(b.Checklists))
			}
			if len(b.Tasks) == 0 || b.Tasks[0].Campaign == "" {
				t.Fatalf("the demo's half-done campaign gives the worker no tasks: %+v", b.Tasks)
			}
			room := roomWith(t, b, 2)
			leaver, staying := room.Households[0].Members[0], room.Households[0].Members[1]
			if len(room.Households) > 1 || len(room.Households[0].Members) > 1 {
				staying = room.Households[0].Members[1]
			}
			if !strings.Contains(leaver.Name, "*") {
				t.Fatalf("names in the bundle must be masked: %q", leaver.Name)
			}
			visit := gridwork.VisitInput{ClientID: "phone-1-0001", RoomID: room.ID, BaseVersion: room.Version, Met: "户主",
				Changes: []gridwork.MemberChange{{Kind: "moved_out", PersonID: leaver.PersonID, HouseholdID: room.Households[0].ID}},
				Health:  []gridwork.HealthEntry{{PersonID: staying.PersonID, Kind: "vaccination", Vaccine: "科兴", Dose: staying.Doses + 1, GivenOn: e.App.Store.Today()}},
				Needs:   []string{"medicine"}, Notes: "老人需要降压药", Photos: []gridwork.Photo{{Data: jpegBytes(t, 64)}}}
			st, out := sendJSON(t, grid, e.Server.URL+"/api/grid/v1/visits", visit)
			if st != 200 || out["duplicate"] != false {
				t.Fatalf("visit: %d %v", st, out)
			}
			ms, _ := e.App.Store.Memberships(ctx, leaver.PersonID)
			for _, m := range ms {
				if m.HouseholdID == room.Households[0].ID && m.Until == "" {
					t.Fatal("the member who moved out still lives there")
				}
			}
			var doses, visits, photos, history int
			raw := store.RawForTest(e.App.Store)
			raw.QueryRow(`SELECT count(*) FROM vaccinations WHERE person_id = $1 AND source = 'visit'`, staying.PersonID).Scan(&doses)
			raw.QueryRow(`SELECT count(*) FROM visits WHERE client_id = 'phone-1-0001'`).Scan(&visits)
			raw.QueryRow(`SELECT count(*) FROM visit_photos`).Scan(&photos)
			raw.QueryRow(`SELECT count(*) FROM change_log WHERE source = 'visit' AND action IN ('visit','move_out','vaccination')`).Scan(&history)
			if doses != 1 || visits != 1 || photos != 1 || history != 3 {
				t.Fatalf("after the visit: %d doses, %d visits, %d photos, %d history lines", doses, visits, photos, history)
			}
			// Staff see the visit on the room's page, with the need.
			if _, body, _ := apptest.Do(t, e.Login(t, access.Staff), "GET", e.Server.URL+"/ledger/rooms/"+room.ID, nil, nil); !strings.Contains(body, "老人需要降压药") || !strings.Contains(body, "买药") {
				t.Fatalf("the room page does not show the visit:\n%s", snippet(body))
			}
			// The phone retries (lost answer): stored once.
			st, out = sendJSON(t, grid, e.Server.URL+"/api/grid/v1/visits", visit)
			raw.QueryRow(`SELECT count(*) FROM vaccinations WHERE person_id = $1 AND source = 'visit'`, staying.PersonID).Scan(&doses)
			if st != 200 || out["duplicate"] != true || doses != 1 {
				t.Fatalf("resent visit: %d %v, %d doses", st, out, doses)
			}
			// Bad photos are named, and nothing is written.
			for _, ph := range [][]byte{[]byte("%PDF-1.4 not a photo"), append(jpegBytes(t, 8), make([]byte, gridwork.MaxPhotoBytes)...)} {
				bad := gridwork.VisitInput{ClientID: "phone-1-bad", RoomID: room.ID, Notes: "x", Photos: []gridwork.Photo{{Data: ph}}}
				if st, out := sendJSON(t, grid, e.Server.URL+"/api/grid/v1/visits", bad); st != 400 || out["error"].(map[string]any)["field"] != "photos" ||
					!strings.ContainsAny(out["error"].(map[string]any)["message"].(string), "照图") {
					t.Fatalf("bad photo: %d %v", st, out)
				}
			}
			// A dose for someone who lives in another room is refused, and
			// nothing is written.
			var neighbour string
			for _, r := range b.Rooms {
				if r.ID != room.ID && len(r.Households) > 0 && len(r.Households[0].Members) > 0 {
					neighbour = r.Households[0].Members[0].PersonID
					break
				}
			}
			if neighbour == "" {
				t.Fatal("no other lived-in room in the bundle")
			}
			elsewhere := gridwork.VisitInput{ClientID: "phone-1-bad", RoomID: room.ID, Notes: "x",
				Health: []gridwork.HealthEntry{{PersonID: neighbour, Kind: "vaccination", Vaccine: "科兴", Dose: 1, GivenOn: e.App.Store.Today()}}}
			if st, out := sendJSON(t, grid, e.Server.URL+"/api/grid/v1/visits", elsewhere); st != 400 || out["error"].(map[string]any)["field"] != "health" {
				t.Fatalf("a dose for someone of another room: %d %v", st, out)
			}
			raw.QueryRow(`SELECT count(*) FROM visits WHERE client_id = 'phone-1-bad'`).Scan(&visits)
			if visits != 0 {
				t.Fatal("a refused visit was stored")
			}
			// A household of another grid: refused and audited.
			var other string
			raw.QueryRow(`SELECT r.id FROM places r WHERE r.kind = 'room' AND r.grid_id <> $1 LIMIT 1`, b.Grids[0].ID).Scan(&other)
			if st, _ := sendJSON(t, grid, e.Server.URL+"/api/grid/v1/visits", gridwork.VisitInput{ClientID: "phone-1-0002", RoomID: other, Notes: "x"}); st != 403 {
				t.Fatalf("a household of another grid: %d", st)
			}
			var denied int
			raw.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'visit.record' AND outcome = 'denied' AND target_id = $1`, other).Scan(&denied)
			if denied != 1 {
				t.Fatalf("the refused visit is audited %d times", denied)
			}
			// Staff move someone out of another room while the worker is offline
			// with a visit that changes the same household.
			room2 := roomWith(t, b, 2, room.ID)
			gone := room2.Households[0].Members[0]
			yesterday := e.App.Store.Now().AddDate(0, 0, -1).Format("2006-01-02")
			if err := e.App.Ledger.MoveOut(ctx, systemActor(), gone.PersonID, room2.Households[0].ID, yesterday, "搬走"); err != nil {
				t.Fatal(err)
			}
			offline := gridwork.VisitInput{ClientID: "phone-1-0003", RoomID: room2.ID, BaseVersion: room2.Version, Notes: "见到新租户",
				Changes: []gridwork.MemberChange{{Kind: "new_tenant", HouseholdID: room2.Households[0].ID, Name: "吴新民", IDNumber: "61040219900101123" + string(pii.IDCheckChar("61040219900101123"))}}}
			st, out = sendJSON(t, grid, e.Server.URL+"/api/grid/v1/visits", offline)
			cur, _ := out["current"].(map[string]any)
			if st != 409 || cur == nil || strings.Contains(mustJSON(cur), gone.PersonID) {
				t.Fatalf("conflicting visit: %d %v", st, out)
			}
			offline.Force = true
			if st, out := sendJSON(t, grid, e.Server.URL+"/api/grid/v1/visits", offline); st != 200 {
				t.Fatalf("the worker keeps their record: %d %v", st, out)
			}
			after := bundleOf(t, e, grid)
			for _, r := range after.Rooms {
				if r.ID == room2.ID && !strings.Contains(mustJSON(r), "吴*") && !strings.Contains(mustJSON(r), "*新民") {
					t.Fatalf("the new tenant is not in the room: %s", mustJSON(r))
				}
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// A campaign with an empty scope or a past deadline is refused with a
// message; one over a grid reaches 100 % and closes when its last
// household is visited.
func TestCampaignClosesWhenEveryHouseholdIsVisited(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ctx := context.Background()
	staff := principal(t, e, access.Staff)
	grid := e.Login(t, access.Grid)
	b := bundleOf(t, e, grid)
	village := b.Grids[0]
	comm, _ := e.App.Store.OrgNode(ctx, mustParent(t, e, village.ID))
	for name, in := range map[string]gridwork.CampaignInput{
		"no grid":       {CommunityID: comm.ID, Name: "排查", Deadline: e.App.Store.Today()},
		"past deadline": {CommunityID: comm.ID, Name: "排查", GridIDs: []string{village.ID}, Deadline: "2020-01-01"},
	} {
		if _, err := e.App.Web.Grid.CreateCampaign(ctx, staff, in); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c, err := e.App.Web.Grid.CreateCampaign(ctx, staff, gridwork.CampaignInput{CommunityID: comm.ID, Name: "第一网格复查", GridIDs: []string{village.ID},
		Deadline: e.App.Store.Now().AddDate(0, 0, 2).Format("2006-01-02")})
	if err != nil || c.Total == 0 {
		t.Fatalf("campaign: %v (%d tasks)", err, c.Total)
	}
	for i, r := range b.Rooms {
		if len(r.Households) == 0 {
			continue
		}
		rep, _ := e.App.Web.Grid.Campaign(ctx, staff, c.ID)
		if rep.Status != "open" || rep.Percent() == 100 {
			t.Fatalf("closed before the last household: %+v", rep.Campaign)
		}
		in := gridwork.VisitInput{ClientID: "sweep-" + r.ID, RoomID: r.ID, Notes: "排查", At: e.App.Store.Now().Add(-time.Duration(i) * time.Second)}
		if st, out := sendJSON(t, grid, e.Server.URL+"/api/grid/v1/visits", in); st != 200 {
			t.Fatalf("visit %s: %d %v", r.Address, st, out)
		}
	}
	rep, err := e.App.Web.Grid.Campaign(ctx, staff, c.ID)
	if err != nil || rep.Status != "closed" || rep.Percent() != 100 || len(rep.Pending) != 0 {
		t.Fatalf("after every household: %+v %v", rep.Campaign, err)
	}
}

// A patrol check-in with a problem answer is a problem; a resend is stored
// once; a point of another grid is refused.
func TestPatrolCheckIn(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	grid := e.Login(t, access.Grid)
	b := bundleOf(t, e, grid)
	pt := b.Points[0]
	in := gridwork.PatrolInput{ClientID: "patrol-1", PointID: pt.ID, Answers: map[string]string{"消防通道畅通": "problem"}, Problem: "楼道堆放杂物"}
	st, out := sendJSON(t, grid, e.Server.URL+"/api/grid/v1/patrols", in)
	if st != 200 || out["status"] != "problem" {
		t.Fatalf("patrol: %d %v", st, out)
	}
	if st, out := sendJSON(t, grid, e.Server.URL+"/api/grid/v1/patrols", in); st != 200 || out["duplicate"] != true {
		t.Fatalf("resent patrol: %d %v", st, out)
	}
	var other string
	store.RawForTest(e.App.Store).QueryRow(`SELECT id FROM patrol_points WHERE grid_id <> $1 LIMIT 1`, b.Grids[0].ID).Scan(&other)
	if st, _ := sendJSON(t, grid, e.Server.URL+"/api/grid/v1/patrols", gridwork.PatrolInput{ClientID: "patrol-2", PointID: other}); st != 403 {
		t.Fatalf("a point of another grid: %d", st)
	}
}

// principal is the demo account of a role, as the services see it.
func principal(t *testing.T, e *apptest.Env, role access.Role) *access.Principal {
	t.Helper()
	u, err := e.App.Store.UserByUsername(context.Background(), string(role))
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.App.Auth.Principal(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustParent(t *testing.T, e *apptest.Env, id string) string {
	t.Helper()
	n, err := e.App.Store.OrgNode(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return n.ParentID
}

// Staff see who staffs the grids and where chiefs are missing, launch a
// campaign from the page (a past deadline is refused with its message),
// and print the points' QR stickers.
func TestGridManagementPages(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	st, body, _ := apptest.Do(t, staff, "GET", e.Server.URL+"/grid/manage", nil, nil)
	if st != 200 || !strings.Contains(body, "每个网格都有网格员") || !strings.Contains(body, "楼栋长") || !strings.Contains(body, "处缺人") ||
		!strings.Contains(body, "第一、二网格网格块排查") {
		t.Fatalf("management page: %d\n%s", st, snippet(body))
	}
	post := func(form url.Values) (int, string) {
		st, body, hdr := apptest.Do(t, staff, "POST", e.Server.URL+"/grid/manage/campaigns", form, nil)
		if st == 303 {
			st, body, _ = apptest.Do(t, staff, "GET", e.Server.URL+hdr.Get("Location"), nil, nil)
		}
		return st, body
	}
	var comm, grid string
	store.RawForTest(e.App.Store).QueryRow(`SELECT n.parent_id, n.id FROM org_nodes n WHERE n.level = 'grid' AND n.code LIKE '610402011002%' ORDER BY n.code LIMIT 1`).Scan(&comm, &grid)
	st, body = post(url.Values{"community": {comm}, "name": {"复查"}, "grid": {grid}, "deadline": {"2020-01-01"}})
	if st != 200 || !strings.Contains(body, "截止日期已过") {
		t.Fatalf("a past deadline: %d\n%s", st, snippet(body))
	}
	st, body = post(url.Values{"community": {comm}, "name": {"复查"}, "deadline": {e.App.Store.Today()}})
	if st != 200 || !strings.Contains(body, "请至少选择一个网格") {
		t.Fatalf("no grid: %d\n%s", st, snippet(body))
	}
	st, body = post(url.Values{"community": {comm}, "name": {"复查"}, "grid": {grid}, "deadline": {e.App.Store.Today()}})
	if st != 200 || !strings.Contains(body, `data-percent="0"`) || !strings.Contains(body, "待查") {
		t.Fatalf("a new campaign: %d\n%s", st, snippet(body))
	}
	st, body, _ = apptest.Do(t, staff, "GET", e.Server.URL+"/grid/stickers?community="+comm, nil, nil)
	if st != 200 || strings.Count(body, "data:image/png;base64,") < 2 || !strings.Contains(body, "/grid/?point=") {
		t.Fatalf("stickers: %d\n%s", st, snippet(body))
	}
	// A grid worker may not manage.
	if st, _, _ := apptest.Do(t, e.Login(t, access.Grid), "GET", e.Server.URL+"/grid/manage", nil, nil); st != 403 {
		t.Fatalf("grid worker on the management page: %d", st)
	}
}

// Staff redraw the grids: a building moves, with its rooms and their open
// campaign tasks, to another grid, whose worker then has it.
func TestMovingABuildingToAnotherGrid(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	raw := store.RawForTest(e.App.Store)
	var comm, from, to, building string
	raw.QueryRow(`SELECT n.parent_id, n.id FROM org_nodes n WHERE n.level = 'grid' AND n.code = '610402011002001'`).Scan(&comm, &from)
	raw.QueryRow(`SELECT id FROM org_nodes WHERE code = '610402011002003'`).Scan(&to)
	raw.QueryRow(`SELECT id FROM places WHERE grid_id = $1 AND kind IN ('building','house') LIMIT 1`, from).Scan(&building)
	var rooms, tasks int
	raw.QueryRow(`SELECT count(*) FROM places WHERE parent_id = $1 AND kind = 'room'`, building).Scan(&rooms)
	st, _, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/grid/manage/buildings", url.Values{"community": {comm}, "building": {building}, "grid": {to}}, nil)
	if st != 303 {
		t.Fatalf("move: %d", st)
	}
	var moved int
	raw.QueryRow(`SELECT count(*) FROM places WHERE parent_id = $1 AND kind = 'room' AND grid_id = $2`, building, to).Scan(&moved)
	raw.QueryRow(`SELECT count(*) FROM campaign_tasks t JOIN places r ON r.id = t.room_id WHERE r.parent_id = $1 AND t.done_at IS NULL AND t.grid_id <> $2`, building, to).Scan(&tasks)
	if rooms == 0 || moved != rooms || tasks != 0 {
		t.Fatalf("%d of %d rooms moved, %d open tasks left behind", moved, rooms, tasks)
	}
	for _, r := range bundleOf(t, e, e.Login(t, access.Grid)).Rooms {
		var parent string
		raw.QueryRow(`SELECT parent_id FROM places WHERE id = $1`, r.ID).Scan(&parent)
		if parent == building {
			t.Fatal("the first grid's worker still has the moved building")
		}
	}
}
