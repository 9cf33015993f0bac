package web_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/demo"
	"shequ/internal/store"
)

// Staff open their community's site plan: one link per house to its
// building table, one element per gate, the figures of the chosen measure
// equal to the ledger's; another community's plan is refused; a bad
// GeoJSON file is refused naming the feature and writes nothing.
func TestSitePlanPage(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	db := store.RawForTest(e.App.Store)
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	village, compound := nodeID(t, e, demo.VillageCode), nodeID(t, e, demo.CompoundCode)
	staff := e.Login(t, access.Staff)
	st, body, _ := apptest.Do(t, staff, "GET", e.Server.URL+"/siteplan?measure=events", nil, nil)
	if st != 200 {
		t.Fatalf("GET /siteplan: %d\n%s", st, snippet(body))
	}
	houses := count(`SELECT count(*) FROM places WHERE community_id = $1 AND kind = 'house'`, village)
	links := regexp.MustCompile(`<a href="/ledger/buildings/([0-9a-z]+)" class="sp-bld"[^>]*data-num="(\d+)"`).FindAllStringSubmatch(body, -1)
	if houses == 0 || len(links) != houses {
		t.Fatalf("%d building links, %d houses", len(links), houses)
	}
	if n := strings.Count(body, `data-gate="`); n != count(`SELECT count(*) FROM gates WHERE community_id = $1`, village) || n == 0 {
		t.Errorf("%d gate elements", n)
	}
	// Open events per house, as shown, add up to the open events filed on
	// the village's houses and rooms.
	shown := 0
	for _, l := range links {
		n, _ := strconv.Atoi(l[2])
		shown += n
	}
	want := count(`SELECT count(*) FROM events e JOIN places p ON p.id = e.place_id WHERE e.community_id = $1
		AND e.status NOT IN ('closed','rejected','evaluated') AND p.kind IN ('house','room')`, village)
	if shown != want || want == 0 {
		t.Errorf("the plan shows %d open events, the ledger has %d", shown, want)
	}
	for _, s := range []string{"未办结事件", `id="draw-building"`, `id="import"`, "siteplan.js", `data-stream="/gates/alarms/stream"`} {
		if !strings.Contains(body, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
	// A house links to its building table.
	if st, b, _ := apptest.Do(t, staff, "GET", e.Server.URL+"/ledger/buildings/"+links[0][1], nil, nil); st != 200 || !strings.Contains(b, `id="building-table"`) {
		t.Errorf("building table: %d", st)
	}
	// The compound is not the village staff's.
	if st, _, _ := apptest.Do(t, staff, "GET", e.Server.URL+"/siteplan?community="+compound, nil, nil); st != 403 {
		t.Errorf("another community's plan: %d", st)
	}
	// The street official sees both, and may not change either.
	official := e.Login(t, access.Official)
	if st, b, _ := apptest.Do(t, official, "GET", e.Server.URL+"/siteplan?community="+compound, nil, nil); st != 200 || strings.Contains(b, `id="draw-building"`) {
		t.Errorf("official: %d", st)
	}

	upload := func(c *http.Client, file string) (int, string) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("community", village)
		fw, _ := mw.CreateFormFile("file", "plan.geojson")
		fw.Write([]byte(file))
		mw.Close()
		req, _ := http.NewRequest("POST", e.Server.URL+"/siteplan/import", &buf)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	before := count(`SELECT count(*) FROM siteplan_footprints WHERE community_id = $1`, village)
	bad := `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"building":"1号"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[9,0],[9,9],[0,9],[0,0]]]}},
		{"type":"Feature","properties":{"building":"不存在的房子"},"geometry":{"type":"Polygon","coordinates":[[[20,0],[29,0],[29,9],[20,9],[20,0]]]}}]}`
	st, loc := upload(staff, bad)
	if msg, _ := url.QueryUnescape(loc); st != 303 || !strings.Contains(msg, "第 2 个要素（features[1]）：本社区没有楼栋或自建房“不存在的房子”") {
		t.Fatalf("bad file: %d %s", st, msg)
	}
	if count(`SELECT count(*) FROM siteplan_footprints WHERE community_id = $1 AND polygon = '[[0,0],[9,0],[9,9],[0,9]]'`, village) != 0 {
		t.Fatal("the refused file moved 1号")
	}
	good := strings.Replace(bad, "不存在的房子", "2号", 1)
	if st, loc := upload(staff, good); st != 303 || !strings.Contains(loc, "imported=2.0.0.0") {
		t.Fatalf("good file: %d %s", st, loc)
	}
	if count(`SELECT count(*) FROM siteplan_footprints WHERE community_id = $1`, village) != before {
		t.Error("a merge changed the number of footprints")
	}
	// The official may not import.
	if st, _ := upload(official, good); st != 403 {
		t.Errorf("official import: %d", st)
	}
	// Drawing a rectangle in the UI.
	id := links[0][1]
	if st, _, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/siteplan/footprint", url.Values{"community": {village}, "place": {id},
		"points": {"100,100\n112,100\n112,110\n100,110"}}, nil); st != 303 {
		t.Fatalf("draw: %d", st)
	}
	if count(`SELECT count(*) FROM siteplan_footprints WHERE place_id = $1 AND polygon = '[[100,100],[112,100],[112,110],[100,110]]'`, id) != 1 {
		t.Error("the drawn outline was not saved")
	}
}
