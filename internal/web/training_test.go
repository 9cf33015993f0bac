package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/demo"
	"shequ/internal/testutil"
)

// Staff run training and the volunteer register from the people pages; a
// grid worker may neither see nor change them.
func TestTrainingAndVolunteerPages(t *testing.T) {
	for _, engine := range testutil.Engines() {
		t.Run(engine, func(t *testing.T) {
			e := apptest.Start(t, engine)
			staff := e.Login(t, access.Staff)
			village := nodeID(t, e, demo.VillageCode)
			get := func(path string, want ...string) string {
				t.Helper()
				st, body, _ := apptest.Do(t, staff, "GET", e.Server.URL+path, nil, nil)
				if st != 200 {
					t.Fatalf("GET %s: %d\n%s", path, st, snippet(body))
				}
				for _, w := range want {
					if !strings.Contains(body, w) {
						t.Fatalf("GET %s lacks %q\n%s", path, w, snippet(body))
					}
				}
				return body
			}
			post := func(path string, form url.Values) string {
				t.Helper()
				st, body, hdr := apptest.Do(t, staff, "POST", e.Server.URL+path, form, nil)
				if st != 303 {
					t.Fatalf("POST %s: %d\n%s", path, st, snippet(body))
				}
				return hdr.Get("Location")
			}
			// The demo's courses, with people missing some.
			get("/people/training", `class="tabs`, "网格员岗前培训", "个人信息保护培训", "谁缺哪门课", `class="badge denied"`, `id="new-course"`)
			// A refused form comes back with the reason; a good one opens the course.
			loc := post("/people/training/courses", url.Values{"community": {village}, "name": {"消防安全培训"}, "hours": {"abc"}, "role": {"grid"}})
			get(loc, "学时", "请填写学时")
			loc = post("/people/training/courses", url.Values{"community": {village}, "name": {"消防安全培训"}, "hours": {"3"}, "valid_months": {"12"}, "role": {"grid"}})
			course := get(loc, "消防安全培训", "有效期 12 个月", `id="attendance"`)
			users := regexp.MustCompile(`name="attended" value="([a-z0-9]+)"`).FindAllStringSubmatch(course, -1)
			if len(users) < 2 {
				t.Fatalf("no one to record:\n%s", snippet(course))
			}
			back := post(loc+"/attendance", url.Values{"held_on": {e.App.Store.Today()}, "attended": {users[0][1], users[1][1]}, "passed": {users[0][1]}})
			course = get(back, demo.VillageCode+"-")
			cert := regexp.MustCompile(`/people/training/certificates/[a-z0-9]+`).FindString(course)
			get(cert, "培训合格证书", "消防安全培训", demo.VillageCode+"-", "data-print")

			// Volunteers: register, mobilise into the village's campaign, record hours.
			get("/people/volunteers", "志愿者与党员名册", "党员", `id="mobilise"`, "排查任务")
			loc = post("/people/volunteers", url.Values{"community": {village}, "name": {"测试志愿者"}, "phone": {"13912345678"}, "kind": {"party"}})
			get(loc, "请填写所在党支部")
			post("/people/volunteers", url.Values{"community": {village}, "name": {"测试志愿者"}, "phone": {"13912345678"}, "kind": {"both"}, "party_branch": {"第一党支部"}})
			list := get("/people/volunteers?community="+village+"&q="+url.QueryEscape("测试"), "测试志愿者", "139****5678")
			vid := regexp.MustCompile(`name="volunteer" value="([a-z0-9]+)"`).FindStringSubmatch(list)[1]
			camp := regexp.MustCompile(`name="campaign"><option value="">—</option><option value="([a-z0-9]+)"`).FindStringSubmatch(list)
			if camp == nil {
				t.Fatalf("no campaign to mobilise into:\n%s", snippet(list))
			}
			loc = post("/people/volunteers/mobilise", url.Values{"community": {village}, "volunteer": {vid}, "target": {"campaign"}, "campaign": {camp[1]}, "on_date": {e.App.Store.Today()}})
			get(loc, "已派遣 1 人次")
			one := get("/people/volunteers/"+vid, "测试志愿者", "第一党支部", `name="hours" inputmode="decimal" required`)
			duty := regexp.MustCompile(`/people/volunteers/duties/([a-z0-9]+)/hours`).FindStringSubmatch(one)[1]
			post("/people/volunteers/duties/"+duty+"/hours", url.Values{"hours": {"2.5"}, "back": {"volunteer"}})
			get("/people/volunteers/"+vid, "<b>2.5</b> 小时")

			// A grid worker may not see the pages nor change anything.
			grid := e.Login(t, access.Grid)
			for _, c := range []struct{ method, path string }{
				{"GET", "/people/training"}, {"GET", "/people/volunteers"}, {"GET", back}, {"GET", "/people/volunteers/" + vid},
				{"POST", "/people/training/courses?community=" + village}, {"POST", "/people/volunteers/" + vid + "/active"},
				{"POST", "/people/volunteers/duties/" + duty + "/hours"},
			} {
				if st, _, _ := apptest.Do(t, grid, c.method, e.Server.URL+c.path, url.Values{"hours": {"9"}, "name": {"x"}}, nil); st != 403 {
					t.Errorf("grid worker: %s %s: %d, want 403", c.method, c.path, st)
				}
			}
			get("/people/volunteers/"+vid, "<b>2.5</b> 小时") // unchanged
		})
	}
}
