package training_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/store"
	"shequ/internal/testutil"
	"shequ/internal/training"
)

// fixture: a community with a grid, its people, and a second community.
type fixture struct {
	s                      *store.Store
	svc                    *training.Service
	comm, other, grid      store.OrgNode
	users                  map[string]string // name → id
	staff, gridP, outsider *access.Principal
	today                  string
}

var now = time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC) // 10:00 in Beijing

func setup(t *testing.T, s *store.Store) *fixture {
	ctx := context.Background()
	keys := pii.NewKeyring(bytes.Repeat([]byte{5}, 32))
	f := &fixture{s: s, svc: &training.Service{Store: s, Keys: keys, Audit: audit.New(func(b []byte) []byte { return keys.MAC(b, "audit") })},
		users: map[string]string{}, today: s.Today()}
	err := s.Write(ctx, func(tx *store.Tx) error {
		st := store.OrgNode{Code: "610402011000", Name: "渭滨街道", Level: store.LevelStreet}
		if err := tx.CreateOrgNode(ctx, &st, ""); err != nil {
			return err
		}
		f.comm = store.OrgNode{ParentID: st.ID, Code: "610402011002", Name: "丰乐社区", Level: store.LevelCommunity}
		if err := tx.CreateOrgNode(ctx, &f.comm, ""); err != nil {
			return err
		}
		f.other = store.OrgNode{ParentID: st.ID, Code: "610402011001", Name: "和园社区", Level: store.LevelCommunity}
		if err := tx.CreateOrgNode(ctx, &f.other, ""); err != nil {
			return err
		}
		f.grid = store.OrgNode{ParentID: f.comm.ID, Code: "610402011002001", Name: "第一网格", Level: store.LevelGrid}
		if err := tx.CreateOrgNode(ctx, &f.grid, ""); err != nil {
			return err
		}
		for i, u := range []struct {
			name, role string
			node       store.OrgNode
			disabled   bool
		}{
			{"王芳", "staff", f.comm, false}, {"李明", "grid", f.grid, false}, {"张伟", "grid", f.grid, false},
			{"赵丽", "property", f.comm, false}, {"陈停", "grid", f.grid, true}, {"刘外", "staff", f.other, false},
		} {
			user := store.User{Username: fmt.Sprintf("u%d", i), DisplayName: u.name, Kind: store.KindStaff, Disabled: u.disabled}
			if err := tx.CreateUser(ctx, &user); err != nil {
				return err
			}
			if _, err := tx.Assign(ctx, user.ID, u.role, u.node.ID, ""); err != nil {
				return err
			}
			f.users[u.name] = user.ID
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f.staff = &access.Principal{UserID: f.users["王芳"], Name: "王芳", Assignments: []access.Assignment{{Role: access.Staff, NodePath: f.comm.Path}}}
	f.gridP = &access.Principal{UserID: f.users["李明"], Name: "李明", Assignments: []access.Assignment{{Role: access.Grid, NodePath: f.grid.Path}}}
	f.outsider = &access.Principal{UserID: f.users["刘外"], Name: "刘外", Assignments: []access.Assignment{{Role: access.Staff, NodePath: f.other.Path}}}
	return f
}

func (f *fixture) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	if err := store.RawForTest(f.s).QueryRow(`SELECT count(*) FROM ` + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) course(t *testing.T, name, hours, months string, roles ...string) store.Course {
	t.Helper()
	c, err := f.svc.CreateCourse(context.Background(), f.staff, training.CourseInput{CommunityID: f.comm.ID, Name: name, Hours: hours, ValidMonths: months, Roles: roles})
	if err != nil {
		t.Fatalf("course %s: %v", name, err)
	}
	return c
}

func (f *fixture) attend(t *testing.T, c store.Course, day string, passed bool, names ...string) []store.Attendance {
	t.Helper()
	var as []training.Attendee
	for _, n := range names {
		as = append(as, training.Attendee{UserID: f.users[n], Passed: passed})
	}
	out, err := f.svc.RecordAttendance(context.Background(), f.staff, training.AttendanceInput{CourseID: c.ID, HeldOn: day, Attendees: as})
	if err != nil {
		t.Fatalf("attendance of %s: %v", c.Name, err)
	}
	return out
}

func daysAgo(today string, months, days int) string {
	t, _ := time.Parse("2006-01-02", today)
	return t.AddDate(0, -months, -days).Format("2006-01-02")
}

func fieldOf(t *testing.T, err error, code errs.Code, key, field string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Code != code || e.Key != key || e.Field != field {
		t.Fatalf("got %v, want %s %s on %q", err, code, key, field)
	}
}

func TestMissingCoursesAndExpiry(t *testing.T) {
	testutil.ForEachDB(t, func() time.Time { return now }, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		induction := f.course(t, "网格员岗前培训", "8", "0", "grid")
		privacy := f.course(t, "个人信息保护培训", "2", "12", "grid", "staff")
		f.course(t, "应急处置培训", "3", "24") // required of nobody
		f.attend(t, induction, daysAgo(f.today, 0, 10), true, "李明")
		f.attend(t, induction, daysAgo(f.today, 0, 10), false, "张伟")
		f.attend(t, privacy, daysAgo(f.today, 13, 0), true, "王芳")  // expired a month ago
		f.attend(t, privacy, daysAgo(f.today, 11, 20), true, "李明") // expires in ten days
		f.attend(t, privacy, daysAgo(f.today, 0, 3), true, "赵丽")   // not required of property staff: no harm

		rep, err := f.svc.Missing(ctx, f.staff, f.comm.ID)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Required != 3 || rep.Complete != 1 || rep.MissingCount() != 2 {
			t.Fatalf("required %d complete %d missing %d, want 3 1 2", rep.Required, rep.Complete, rep.MissingCount())
		}
		type row struct{ who, missing, expiring string }
		var got []row
		for _, p := range rep.People {
			r := row{who: p.Name}
			for _, g := range p.Missing {
				r.missing += g.CourseName + ":" + g.State + ";"
			}
			for _, g := range p.Expiring {
				r.expiring += g.CourseName + ":" + g.ExpiresOn + ";"
			}
			got = append(got, r)
		}
		want := []row{ // pinyin order: Li, Wang, Zhang
			{"李明", "", "个人信息保护培训:" + f.addMonths(daysAgo(f.today, 11, 20), 12) + ";"},
			{"王芳", "个人信息保护培训:expired;", ""},
			{"张伟", "个人信息保护培训:never;网格员岗前培训:never;", ""},
		}
		if !slices.Equal(got, want) {
			t.Fatalf("per person:\n got %v\nwant %v", got, want)
		}
		byCourse := map[string]string{}
		for _, c := range rep.ByCourse {
			s := fmt.Sprintf("%d/%d", c.Valid, c.Required)
			for _, h := range c.Missing {
				s += " " + h.Name + ":" + h.State
			}
			byCourse[c.Course.Name] = s
		}
		if len(byCourse) != 2 || byCourse["网格员岗前培训"] != "1/2 张伟:never" || byCourse["个人信息保护培训"] != "1/3 王芳:expired 张伟:never" {
			t.Fatalf("per course: %v", byCourse)
		}
		// A new pass clears the gap; retiring a course removes it.
		f.attend(t, privacy, f.today, true, "王芳", "张伟")
		if _, err := f.svc.UpdateCourse(ctx, f.staff, induction.ID, training.CourseInput{Name: induction.Name, Hours: "8", Roles: []string{"grid"}, Retired: true}); err != nil {
			t.Fatal(err)
		}
		rep, _ = f.svc.Missing(ctx, f.staff, f.comm.ID)
		if rep.MissingCount() != 0 || rep.Complete != 3 || len(rep.ByCourse) != 1 {
			t.Fatalf("after passing and retiring: missing %d complete %d courses %d", rep.MissingCount(), rep.Complete, len(rep.ByCourse))
		}
	})
}

func (f *fixture) addMonths(day string, months int) string { return training.ExpiresOn(day, months) }

func TestExpiresOn(t *testing.T) {
	for _, c := range []struct {
		day    string
		months int
		want   string
	}{
		{"2025-11-28", 12, "2026-11-28"}, {"2025-08-31", 6, "2026-02-28"}, {"2024-02-29", 12, "2025-02-28"},
		{"2023-08-31", 6, "2024-02-29"}, {"2025-01-15", 0, ""}, {"2025-12-31", 1, "2026-01-31"},
	} {
		if got := training.ExpiresOn(c.day, c.months); got != c.want {
			t.Errorf("ExpiresOn(%s, %d) = %q, want %q", c.day, c.months, got, c.want)
		}
	}
	if training.FormatHours(150) != "2.5" || training.FormatHours(480) != "8" {
		t.Error("FormatHours")
	}
}

func TestCertificates(t *testing.T) {
	testutil.ForEachDB(t, func() time.Time { return now }, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		c := f.course(t, "网格员岗前培训", "1.5", "24", "grid")
		first := f.attend(t, c, "2026-03-02", true, "李明", "王芳")
		failed := f.attend(t, c, "2026-03-02", false, "张伟")
		later := f.attend(t, c, "2025-12-30", true, "张伟")
		prefix := f.comm.Code + "-2026-"
		if first[0].CertNo != prefix+"00001" || first[1].CertNo != prefix+"00002" || failed[0].CertNo != "" || later[0].CertNo != f.comm.Code+"-2025-00001" {
			t.Fatalf("certificate numbers: %q %q %q %q", first[0].CertNo, first[1].CertNo, failed[0].CertNo, later[0].CertNo)
		}
		cert, err := f.svc.Certificate(ctx, f.staff, first[0].ID)
		if err != nil || cert.UserName != "李明" || cert.Course.Name != c.Name || cert.ExpiresOn != "2028-03-02" || cert.Expired || cert.Community.Name != "丰乐社区" {
			t.Fatalf("certificate: %+v %v", cert, err)
		}
		if _, err := f.svc.Certificate(ctx, f.staff, failed[0].ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("a failed attendance has no certificate: %v", err)
		}
		// The holder sees their own; another grid worker, or another community, does not.
		if _, err := f.svc.Certificate(ctx, f.gridP, first[0].ID); err != nil {
			t.Fatalf("holder: %v", err)
		}
		for _, p := range []*access.Principal{f.gridP, f.outsider} {
			if _, err := f.svc.Certificate(ctx, p, later[0].ID); !errs.Is(err, errs.Forbidden) {
				t.Fatalf("%s sees another's certificate: %v", p.Name, err)
			}
		}
		// The same person twice on the same day is refused, and nothing of the batch is written.
		before := f.count(t, "training_attendance")
		_, err = f.svc.RecordAttendance(ctx, f.staff, training.AttendanceInput{CourseID: c.ID, HeldOn: "2026-03-02",
			Attendees: []training.Attendee{{UserID: f.users["赵丽"], Passed: true}, {UserID: f.users["李明"], Passed: true}}})
		fieldOf(t, err, errs.Invalid, "err.training.already", "users")
		if f.count(t, "training_attendance") != before {
			t.Fatal("a refused batch wrote attendance")
		}
	})
}

func TestInvalidInputIsReportedOnTheField(t *testing.T) {
	testutil.ForEachDB(t, func() time.Time { return now }, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		for _, c := range []struct {
			in         training.CourseInput
			key, field string
		}{
			{training.CourseInput{Name: " ", Hours: "2"}, "err.training.name", "name"},
			{training.CourseInput{Name: "x", Hours: "abc"}, "err.training.hours", "hours"},
			{training.CourseInput{Name: "x", Hours: "0"}, "err.training.hours", "hours"},
			{training.CourseInput{Name: "x", Hours: "2", ValidMonths: "-1"}, "err.training.valid_months", "valid_months"},
			{training.CourseInput{Name: "x", Hours: "2", Roles: []string{"admin"}}, "err.training.role", "roles"},
		} {
			c.in.CommunityID = f.comm.ID
			_, err := f.svc.CreateCourse(ctx, f.staff, c.in)
			fieldOf(t, err, errs.Invalid, c.key, c.field)
		}
		if f.count(t, "training_courses") != 0 || f.count(t, "training_requirements") != 0 {
			t.Fatal("refused courses were written")
		}
		c := f.course(t, "网格员岗前培训", "2", "", "grid")
		_, err := f.svc.CreateCourse(ctx, f.staff, training.CourseInput{CommunityID: f.comm.ID, Name: "网格员岗前培训", Hours: "1"})
		fieldOf(t, err, errs.Invalid, "err.training.duplicate", "name")
		for _, in := range []struct {
			in         training.AttendanceInput
			key, field string
		}{
			{training.AttendanceInput{HeldOn: "2026-13-01", Attendees: []training.Attendee{{UserID: f.users["李明"]}}}, "err.date", "held_on"},
			{training.AttendanceInput{HeldOn: "2026-12-01", Attendees: []training.Attendee{{UserID: f.users["李明"]}}}, "err.training.future", "held_on"},
			{training.AttendanceInput{HeldOn: "2026-11-01"}, "err.training.no_attendee", "users"},
			{training.AttendanceInput{HeldOn: "2026-11-01", Attendees: []training.Attendee{{UserID: f.users["刘外"]}}}, "err.training.attendee", "users"},
			{training.AttendanceInput{HeldOn: "2026-11-01", Attendees: []training.Attendee{{UserID: f.users["陈停"]}}}, "err.training.attendee", "users"},
		} {
			in.in.CourseID = c.ID
			_, err := f.svc.RecordAttendance(ctx, f.staff, in.in)
			fieldOf(t, err, errs.Invalid, in.key, in.field)
		}
		if f.count(t, "training_attendance") != 0 {
			t.Fatal("refused attendance was written")
		}
		for _, in := range []struct {
			in         training.VolunteerInput
			key, field string
		}{
			{training.VolunteerInput{Name: "", Phone: "13800138000", Kind: "volunteer"}, "err.volunteer.name", "name"},
			{training.VolunteerInput{Name: "周敏", Kind: "volunteer"}, "err.volunteer.phone", "phone"},
			{training.VolunteerInput{Name: "周敏", Phone: "12345", Kind: "volunteer"}, "err.phone_invalid", "phone"},
			{training.VolunteerInput{Name: "周敏", Phone: "13800138000", Kind: "elder"}, "err.volunteer.kind", "kind"},
			{training.VolunteerInput{Name: "周敏", Phone: "13800138000", Kind: "party"}, "err.volunteer.branch", "party_branch"},
			{training.VolunteerInput{Name: "周敏", Phone: "13800138000", Kind: "volunteer", JoinedOn: "2027-01-01"}, "err.volunteer.joined_future", "joined_on"},
			{training.VolunteerInput{Name: "周敏", Phone: "13800138000", Kind: "volunteer", PersonID: "nobody"}, "err.volunteer.person", "id_number"},
		} {
			in.in.CommunityID = f.comm.ID
			_, err := f.svc.RegisterVolunteer(ctx, f.staff, in.in)
			fieldOf(t, err, errs.Invalid, in.key, in.field)
		}
		if f.count(t, "volunteers") != 0 {
			t.Fatal("refused volunteers were written")
		}
		v, err := f.svc.RegisterVolunteer(ctx, f.staff, training.VolunteerInput{CommunityID: f.comm.ID, Name: "周敏", Phone: "138 0013 8000", Kind: "volunteer"})
		if err != nil || v.PhoneMask != "138****8000" || len(v.PhoneEnc) == 0 || v.JoinedOn != f.today {
			t.Fatalf("register: %+v %v", v, err)
		}
		_, err = f.svc.RegisterVolunteer(ctx, f.staff, training.VolunteerInput{CommunityID: f.comm.ID, Name: "周敏敏", Phone: "13800138000", Kind: "volunteer"})
		fieldOf(t, err, errs.Invalid, "err.volunteer.duplicate", "phone")
		// The phone is kept encrypted: its ciphertext decrypts under the volunteers' context only.
		if got, err := f.svc.Keys.DecryptString(v.PhoneEnc, "volunteers.phone"); err != nil || got != "13800138000" {
			t.Fatalf("phone: %q %v", got, err)
		}
		if f.count(t, "volunteers") != 1 {
			t.Fatal("a duplicate phone was registered")
		}
	})
}

func TestMobiliseAndHours(t *testing.T) {
	testutil.ForEachDB(t, func() time.Time { return now }, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		reg := func(name, phone, kind, branch string) store.Volunteer {
			v, err := f.svc.RegisterVolunteer(ctx, f.staff, training.VolunteerInput{CommunityID: f.comm.ID, Name: name, Phone: phone, Kind: kind, PartyBranch: branch,
				JoinedOn: "2025-06-01"})
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		v1, v2, v3 := reg("周敏", "13800138001", "volunteer", ""), reg("吴强", "13800138002", "both", "丰乐社区第一党支部"), reg("郑退", "13800138003", "party", "丰乐社区第二党支部")
		if err := f.svc.SetVolunteerActive(ctx, f.staff, v3.ID, false); err != nil {
			t.Fatal(err)
		}
		var camp, otherCamp store.Campaign
		var ev store.Event
		err := s.Write(ctx, func(tx *store.Tx) error {
			camp = store.Campaign{CommunityID: f.comm.ID, Name: "网格块排查", Deadline: "2026-12-31"}
			otherCamp = store.Campaign{CommunityID: f.other.ID, Name: "和园排查", Deadline: "2026-12-31"}
			for _, c := range []*store.Campaign{&camp, &otherCamp} {
				if _, err := tx.CreateCampaign(ctx, c, []string{"none"}); err != nil {
					return err
				}
			}
			cat := store.EventCategory{Code: "env", Name: "环境卫生", Kind: "life", SLAHours: 24}
			if err := tx.CreateEventCategory(ctx, &cat); err != nil {
				return err
			}
			ev = store.Event{Ref: "E1", CommunityID: f.comm.ID, CategoryID: cat.ID, Title: "楼道堆物", Source: "staff", Status: "accepted"}
			return tx.CreateEvent(ctx, &ev)
		})
		if err != nil {
			t.Fatal(err)
		}
		mob := func(in training.MobiliseInput) (int, error) {
			in.CommunityID = f.comm.ID
			return f.svc.Mobilise(ctx, f.staff, in)
		}
		n, err := mob(training.MobiliseInput{VolunteerIDs: []string{v1.ID, v2.ID, v1.ID}, Target: "campaign", CampaignID: camp.ID, OnDate: "2026-11-25", Hours: "2.5"})
		if err != nil || n != 2 {
			t.Fatalf("campaign: %d %v", n, err)
		}
		if n, err := mob(training.MobiliseInput{VolunteerIDs: []string{v1.ID}, Target: "campaign", CampaignID: camp.ID, OnDate: "2026-11-25"}); err != nil || n != 0 {
			t.Fatalf("the same duty twice: %d %v", n, err)
		}
		if n, err := mob(training.MobiliseInput{VolunteerIDs: []string{v1.ID}, Target: "event", EventID: ev.ID, OnDate: "2026-11-27"}); err != nil || n != 1 {
			t.Fatalf("event: %d %v", n, err)
		}
		if n, err := mob(training.MobiliseInput{VolunteerIDs: []string{v2.ID}, Target: "task", Task: "清理楼道小广告", OnDate: "2025-12-20", Hours: "3"}); err != nil || n != 1 {
			t.Fatalf("task last year: %d %v", n, err)
		}
		if n, err := mob(training.MobiliseInput{VolunteerIDs: []string{v2.ID}, Target: "task", Task: "敬老院慰问", OnDate: "2026-12-05"}); err != nil || n != 1 {
			t.Fatalf("task to come: %d %v", n, err)
		}
		duties, err := s.Duties(ctx, f.comm.ID, v1.ID, 10)
		if err != nil || len(duties) != 2 || duties[0].EventRef != "E1" || duties[0].Recorded() || duties[1].CampaignName != "网格块排查" || duties[1].Minutes != 150 {
			t.Fatalf("v1's duties: %+v %v", duties, err)
		}
		if err := f.svc.RecordHours(ctx, f.staff, duties[0].ID, "1.5"); err != nil {
			t.Fatal(err)
		}
		all, _ := s.Duties(ctx, f.comm.ID, v2.ID, 10)
		for _, d := range all {
			if d.Task == "敬老院慰问" {
				fieldOf(t, f.svc.RecordHours(ctx, f.staff, d.ID, "2"), errs.Invalid, "err.volunteer.hours_future", "hours")
			}
		}
		fieldOf(t, f.svc.RecordHours(ctx, f.staff, duties[0].ID, "25"), errs.Invalid, "err.volunteer.hours", "hours")
		fieldOf(t, f.svc.RecordHours(ctx, f.staff, duties[0].ID, ""), errs.Invalid, "err.volunteer.hours", "hours")

		year, err := f.svc.Totals(ctx, f.staff, f.comm.ID, training.Year(f.today))
		if err != nil || year[v1.ID] != 240 || year[v2.ID] != 150 || year[v3.ID] != 0 {
			t.Fatalf("this year: %v %v", year, err)
		}
		last, err := f.svc.Totals(ctx, f.staff, f.comm.ID, training.Period{From: "2025-01-01", To: "2025-12-31"})
		if err != nil || last[v1.ID] != 0 || last[v2.ID] != 180 {
			t.Fatalf("last year: %v %v", last, err)
		}
		view, err := f.svc.Volunteer(ctx, f.staff, v2.ID)
		if err != nil || view.Minutes != 330 || view.Year != 150 || len(view.Duties) != 3 {
			t.Fatalf("v2: %d %d %d %v", view.Minutes, view.Year, len(view.Duties), err)
		}
		reg2, err := f.svc.Register(ctx, f.staff, training.RegisterFilter{CommunityID: f.comm.ID, Kind: "party"})
		if err != nil || len(reg2.Volunteers) != 1 || reg2.Volunteers[0].Name != "吴强" || len(reg2.Campaigns) != 1 || len(reg2.Events) != 1 {
			t.Fatalf("party members: %+v %v", reg2, err)
		}
		_, err = f.svc.Register(ctx, f.staff, training.RegisterFilter{CommunityID: f.comm.ID, From: "2026-05-01", To: "2026-01-01"})
		fieldOf(t, err, errs.Invalid, "err.volunteer.period", "from")

		before := f.count(t, "volunteer_duties")
		for _, c := range []struct {
			in         training.MobiliseInput
			key, field string
		}{
			{training.MobiliseInput{Target: "task", Task: "x", OnDate: "2026-11-28"}, "err.volunteer.none_chosen", "volunteers"},
			{training.MobiliseInput{VolunteerIDs: []string{v1.ID, v3.ID}, Target: "task", Task: "x", OnDate: "2026-11-28"}, "err.volunteer.inactive", "volunteers"},
			{training.MobiliseInput{VolunteerIDs: []string{v1.ID}, Target: "campaign", CampaignID: otherCamp.ID, OnDate: "2026-11-28"}, "err.volunteer.campaign", "campaign"},
			{training.MobiliseInput{VolunteerIDs: []string{v1.ID}, Target: "event", EventID: "nope", OnDate: "2026-11-28"}, "err.volunteer.event", "event"},
			{training.MobiliseInput{VolunteerIDs: []string{v1.ID}, Target: "task", Task: " ", OnDate: "2026-11-28"}, "err.volunteer.task", "task"},
			{training.MobiliseInput{VolunteerIDs: []string{v1.ID}, Target: "party", OnDate: "2026-11-28"}, "err.volunteer.target", "target"},
			{training.MobiliseInput{VolunteerIDs: []string{v1.ID}, Target: "task", Task: "x", OnDate: "28/11"}, "err.date", "on_date"},
			{training.MobiliseInput{VolunteerIDs: []string{v1.ID}, Target: "task", Task: "x", OnDate: "2026-11-29", Hours: "2"}, "err.volunteer.hours_future", "hours"},
		} {
			_, err := mob(c.in)
			fieldOf(t, err, errs.Invalid, c.key, c.field)
		}
		if f.count(t, "volunteer_duties") != before {
			t.Fatal("refused mobilisations wrote duties")
		}
		var audited int
		store.RawForTest(s).QueryRow(`SELECT count(*) FROM audit_log WHERE action LIKE 'volunteer.%'`).Scan(&audited)
		if audited < 8 {
			t.Fatalf("only %d volunteer changes audited", audited)
		}
	})
}

func TestPermissions(t *testing.T) {
	testutil.ForEachDB(t, func() time.Time { return now }, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := setup(t, s)
		c := f.course(t, "网格员岗前培训", "2", "", "grid")
		v, err := f.svc.RegisterVolunteer(ctx, f.staff, training.VolunteerInput{CommunityID: f.comm.ID, Name: "周敏", Phone: "13800138001", Kind: "volunteer"})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []*access.Principal{f.gridP, f.outsider, nil} {
			who := "nobody"
			if p != nil {
				who = p.Name
			}
			checks := map[string]error{}
			_, checks["create course"] = f.svc.CreateCourse(ctx, p, training.CourseInput{CommunityID: f.comm.ID, Name: "x", Hours: "1"})
			_, checks["update course"] = f.svc.UpdateCourse(ctx, p, c.ID, training.CourseInput{Name: "x", Hours: "1"})
			_, checks["attendance"] = f.svc.RecordAttendance(ctx, p, training.AttendanceInput{CourseID: c.ID, HeldOn: f.today,
				Attendees: []training.Attendee{{UserID: f.users["李明"], Passed: true}}})
			_, checks["missing"] = f.svc.Missing(ctx, p, f.comm.ID)
			_, checks["course"] = f.svc.Course(ctx, p, c.ID)
			_, checks["register"] = f.svc.RegisterVolunteer(ctx, p, training.VolunteerInput{CommunityID: f.comm.ID, Name: "x", Phone: "13800138009", Kind: "volunteer"})
			_, checks["update volunteer"] = f.svc.UpdateVolunteer(ctx, p, v.ID, training.VolunteerInput{Name: "x", Kind: "volunteer"})
			checks["deactivate"] = f.svc.SetVolunteerActive(ctx, p, v.ID, false)
			_, checks["mobilise"] = f.svc.Mobilise(ctx, p, training.MobiliseInput{CommunityID: f.comm.ID, VolunteerIDs: []string{v.ID}, Target: "task", Task: "x", OnDate: f.today})
			_, checks["list"] = f.svc.Register(ctx, p, training.RegisterFilter{CommunityID: f.comm.ID})
			_, checks["volunteer"] = f.svc.Volunteer(ctx, p, v.ID)
			for what, err := range checks {
				if !errs.Is(err, errs.Forbidden) {
					t.Errorf("%s: %s: %v, want forbidden", who, what, err)
				}
			}
		}
		if f.count(t, "training_attendance") != 0 || f.count(t, "volunteer_duties") != 0 || f.count(t, "training_courses") != 1 {
			t.Fatal("a refused change was written")
		}
		got, _ := f.s.Volunteer(ctx, v.ID)
		if !got.Active || got.Name != "周敏" {
			t.Fatal("a refused volunteer change was written")
		}
		// An official of the street sees, but does not change.
		official := &access.Principal{UserID: "o", Name: "官", Assignments: []access.Assignment{{Role: access.Official, NodePath: strings.TrimSuffix(f.comm.Path, f.comm.ID+"/")}}}
		if _, err := f.svc.Missing(ctx, official, f.comm.ID); err != nil {
			t.Fatalf("official reads: %v", err)
		}
		if _, err := f.svc.CreateCourse(ctx, official, training.CourseInput{CommunityID: f.comm.ID, Name: "x", Hours: "1"}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("official changes: %v", err)
		}
	})
}
