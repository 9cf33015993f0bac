package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/brain"
	"shequ/internal/events"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// The big screen shows what the database holds: the community's
// population and passes today for its staff, both communities side by side
// for the street's official; every tile links to its list; nobody sees a
// node outside their scope.
func TestBigScreenShowsTheDatabase(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	ctx := context.Background()
	if _, err := brain.Refresh(ctx, e.App.Store); err != nil {
		t.Fatal(err)
	}
	raw := store.RawForTest(e.App.Store)
	village := e.Demo.Communities[1]
	var people, floating int
	raw.QueryRow(`SELECT count(DISTINCT m.person_id), count(DISTINCT CASE WHEN p.residency = 'floating' THEN p.id END)
		FROM household_members m JOIN households h ON h.id = m.household_id JOIN places r ON r.id = h.room_id JOIN persons p ON p.id = m.person_id
		WHERE r.community_id = $1 AND h.ended_at IS NULL AND (m.until IS NULL OR m.until >= $2) AND p.merged_into IS NULL`, village.ID, e.App.Store.Today()).Scan(&people, &floating)

	staff := e.Login(t, access.Staff)
	st, body, _ := apptest.Do(t, staff, "GET", e.Server.URL+"/brain", nil, nil)
	if st != 200 || !strings.Contains(body, village.Name) {
		t.Fatalf("the staff's big screen: %d", st)
	}
	if got := tile(body, "population"); got != strconv.Itoa(people) {
		t.Errorf("population on the screen %q, in the database %d", got, people)
	}
	if got := tile(body, "floating"); got != strconv.Itoa(floating) {
		t.Errorf("floating on the screen %q, in the database %d", got, floating)
	}
	for _, want := range []string{"<svg", `id="alarm-list"`, `data-stream="/brain/stream?node=`} {
		if !strings.Contains(body, want) {
			t.Errorf("the big screen lacks %s", want)
		}
	}
	if strings.Contains(strings.ReplaceAll(body, "brain.js", ""), "brain.") {
		t.Error("an untranslated key on the big screen")
	}
	// A figure leads to the list behind it: the people under monitoring.
	var monitored int
	raw.QueryRow(`SELECT count(DISTINCT m.person_id) FROM monitoring mo JOIN household_members m ON m.person_id = mo.person_id
		JOIN households h ON h.id = m.household_id JOIN places r ON r.id = h.room_id
		WHERE r.community_id = $1 AND h.ended_at IS NULL AND (m.until IS NULL OR m.until >= $2) AND mo.lifted_on IS NULL
		AND mo.start_date <= $2 AND mo.end_date >= $2`, village.ID, e.App.Store.Today()).Scan(&monitored)
	if got := tile(body, "monitored"); got != strconv.Itoa(monitored) {
		t.Errorf("monitored on the screen %q, in the database %d", got, monitored)
	}
	i := strings.Index(body, `data-fig="monitored"`)
	link := body[strings.LastIndex(body[:i], `href="`)+6 : i]
	link = strings.ReplaceAll(link[:strings.Index(link, `"`)], "&amp;", "&")
	_, list, _ := apptest.Do(t, staff, "GET", e.Server.URL+link, nil, nil)
	if !strings.Contains(list, "健康监测中") || !strings.Contains(list, strconv.Itoa(monitored)) {
		t.Errorf("the monitoring list behind the figure (%s) does not show %d people", link, monitored)
	}
	// The street's official sees both communities side by side.
	official := e.Login(t, access.Official)
	st, body, _ = apptest.Do(t, official, "GET", e.Server.URL+"/brain", nil, nil)
	if st != 200 || !strings.Contains(body, `data-child="`+e.Demo.Communities[0].ID+`"`) || !strings.Contains(body, `data-child="`+village.ID+`"`) {
		t.Fatalf("the street's big screen: %d", st)
	}
	// A big screen hangs on a wall: the people in its alarms are masked,
	// for the official as for the staff.
	var personID, name, gateID string
	raw.QueryRow(`SELECT p.id, p.name FROM persons p JOIN household_members m ON m.person_id = p.id JOIN households h ON h.id = m.household_id
		JOIN places r ON r.id = h.room_id WHERE r.community_id = $1 AND length(p.name) >= 3 ORDER BY p.id LIMIT 1`, village.ID).Scan(&personID, &name)
	raw.QueryRow(`SELECT id FROM gates WHERE community_id = $1 ORDER BY id LIMIT 1`, village.ID).Scan(&gateID)
	if err := e.App.Store.Write(ctx, func(tx *store.Tx) error {
		return tx.CreateAlarm(ctx, &store.Alarm{GateID: gateID, Kind: "fever", PersonID: personID})
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*http.Client{staff, official} {
		_, body, _ := apptest.Do(t, c, "GET", e.Server.URL+"/brain", nil, nil)
		list := between(body, `id="alarm-list"`, `</ul>`)
		if strings.Contains(list, name) || !strings.Contains(list, pii.MaskName(name)) {
			t.Errorf("the big screen's alarms show %q unmasked or not at all: %s", name, list)
		}
	}
	// Staff of the village may not open the compound's screen.
	if st, _, _ := apptest.Do(t, staff, "GET", e.Server.URL+"/brain?node="+e.Demo.Communities[0].ID, nil, nil); st != 403 {
		t.Errorf("another community's screen: %d", st)
	}
}

// tile returns the value shown in a big-screen tile.
func tile(body, key string) string {
	i := strings.Index(body, `data-fig="`+key+`"`)
	if i < 0 {
		return ""
	}
	return between(body[i:], `<div class="v">`, `</div>`)
}

// The big screen's site plan is drawn once and shared by every open screen
// of the community, yet a new event in a building shows on the next load.
func TestBigScreenPlanFollowsNewEvents(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	village := e.Demo.Communities[1]
	openEvents := func() (place string, n int) {
		t.Helper()
		_, body, _ := apptest.Do(t, staff, "GET", e.Server.URL+"/brain", nil, nil)
		i := strings.Index(body, `class="sp-bld" data-place="`)
		if i < 0 {
			t.Fatal("the big screen shows no building on its site plan")
		}
		b := body[i:]
		n, err := strconv.Atoi(between(b, `data-num="`, `"`))
		if err != nil {
			t.Fatal(err)
		}
		return between(b, `data-place="`, `"`), n
	}
	place, before := openEvents()
	if p, again := openEvents(); p != place || again != before {
		t.Fatalf("the same plan drawn twice differs: %s %d, then %s %d", place, before, p, again)
	}
	if _, err := e.App.Web.Events.Report(context.Background(), principal(t, e, access.Staff), "", events.Input{CommunityID: village.ID,
		Category: "repair", Description: "楼道灯坏了", PlaceID: place, Source: "staff"}); err != nil {
		t.Fatal(err)
	}
	if p, after := openEvents(); p != place || after != before+1 {
		t.Fatalf("open events of building %s on the plan: %d before a new event, %d after", place, before, after)
	}
}
