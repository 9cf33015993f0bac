// Package training is the community's training of its own people and its
// register of volunteers and party members: courses with the roles that
// must take them, attendance and certificates, who is missing which
// course; volunteers mobilised into campaigns and events, and the hours
// they served.
package training

import (
	"context"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// Service is training and volunteers over the store.
type Service struct {
	Store *store.Store
	Keys  *pii.Keyring
	Audit *audit.Log // nil: changes are not audited (the demo)
}

// Roles are the roles a course can be required of.
var Roles = []access.Role{access.Grid, access.Staff, access.Property, access.Owners}

// ExpiringDays is how close to its expiry a pass is listed as expiring.
const ExpiringDays = 30

// States of a person's standing in a required course.
const (
	Valid    = "valid"
	Expiring = "expiring" // valid, but not for more than ExpiringDays
	Expired  = "expired"
	Never    = "never" // never passed
)

// community loads a community where p may do a.
func (s *Service) community(ctx context.Context, p *access.Principal, id string, a access.Action) (store.OrgNode, error) {
	n, err := s.Store.OrgNode(ctx, id)
	if err != nil || n.Level != store.LevelCommunity {
		return n, errs.E(errs.NotFound, "err.not_found")
	}
	if !p.Can(a, n.Path) {
		return n, errs.E(errs.Forbidden, "err.forbidden")
	}
	return n, nil
}

func (s *Service) audit(ctx context.Context, tx *store.Tx, p *access.Principal, action, targetType, targetID, nodeID string, kv ...any) error {
	if s.Audit == nil {
		return nil
	}
	return s.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: p.UserID, ActorName: p.Name, Action: action, TargetType: targetType,
		TargetID: targetID, NodeID: nodeID, Detail: audit.Detail(kv...)})
}

// CourseInput is a course as a form gives it.
type CourseInput struct {
	CommunityID string
	Name        string
	Hours       string // class time in hours, e.g. "1.5"
	ValidMonths string // "" or "0": forever
	Roles       []string
	Description string
	Retired     bool // on update only
}

func (s *Service) checkCourse(in CourseInput, c *store.Course) error {
	c.Name, c.Description = trimmed(in.Name, 60), trimmed(in.Description, 500)
	if c.Name == "" {
		return errs.E(errs.Invalid, "err.training.name").OnField("name")
	}
	minutes, ok := parseHours(in.Hours, 200)
	if !ok || minutes == 0 {
		return errs.E(errs.Invalid, "err.training.hours").OnField("hours")
	}
	c.Minutes = minutes
	months := 0
	if v := strings.TrimSpace(in.ValidMonths); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 120 {
			return errs.E(errs.Invalid, "err.training.valid_months").OnField("valid_months")
		}
		months = n
	}
	c.ValidMonths = months
	c.Roles = nil
	for _, r := range in.Roles {
		if !slices.Contains(Roles, access.Role(r)) {
			return errs.E(errs.Invalid, "err.training.role").OnField("roles")
		}
		if !slices.Contains(c.Roles, r) {
			c.Roles = append(c.Roles, r)
		}
	}
	slices.Sort(c.Roles)
	c.Active = !in.Retired
	return nil
}

// CreateCourse adds a course to a community.
func (s *Service) CreateCourse(ctx context.Context, p *access.Principal, in CourseInput) (store.Course, error) {
	comm, err := s.community(ctx, p, in.CommunityID, access.AssessManage)
	if err != nil {
		return store.Course{}, err
	}
	c := store.Course{CommunityID: comm.ID, CreatedBy: p.UserID}
	if err := s.checkCourse(in, &c); err != nil {
		return c, err
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateCourse(ctx, &c); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "training.course_create", "course", c.ID, comm.ID, "name", c.Name, "roles", c.Roles, "valid_months", c.ValidMonths)
	})
	return c, duplicateName(err)
}

// UpdateCourse changes a course (name, time, validity, roles) or retires it.
func (s *Service) UpdateCourse(ctx context.Context, p *access.Principal, id string, in CourseInput) (store.Course, error) {
	c, err := s.Store.Course(ctx, id)
	if err != nil {
		return c, err
	}
	comm, err := s.community(ctx, p, c.CommunityID, access.AssessManage)
	if err != nil {
		return c, err
	}
	if err := s.checkCourse(in, &c); err != nil {
		return c, err
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateCourse(ctx, &c); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "training.course_update", "course", c.ID, comm.ID, "name", c.Name, "roles", c.Roles,
			"valid_months", c.ValidMonths, "active", c.Active)
	})
	return c, duplicateName(err)
}

func duplicateName(err error) error {
	if errs.Is(err, errs.Conflict) {
		return errs.E(errs.Invalid, "err.training.duplicate").OnField("name")
	}
	return err
}

// Attendee is one person at a session and whether they passed.
type Attendee struct {
	UserID string
	Passed bool
}

// AttendanceInput records a session of a course.
type AttendanceInput struct {
	CourseID  string
	HeldOn    string // YYYY-MM-DD, not in the future
	Attendees []Attendee
	Note      string
}

// RecordAttendance records who attended a session of a course and who
// passed; each pass gets the next certificate number of the community and
// year. Only people holding a role in the community may attend, once a
// day per course.
func (s *Service) RecordAttendance(ctx context.Context, p *access.Principal, in AttendanceInput) ([]store.Attendance, error) {
	c, err := s.Store.Course(ctx, in.CourseID)
	if err != nil {
		return nil, err
	}
	comm, err := s.community(ctx, p, c.CommunityID, access.AssessManage)
	if err != nil {
		return nil, err
	}
	day, ok := parseDate(in.HeldOn)
	switch {
	case !c.Active:
		return nil, errs.E(errs.Invalid, "err.training.retired").OnField("course")
	case !ok:
		return nil, errs.E(errs.Invalid, "err.date").OnField("held_on")
	case day > s.Store.Today():
		return nil, errs.E(errs.Invalid, "err.training.future").OnField("held_on")
	case len(in.Attendees) == 0:
		return nil, errs.E(errs.Invalid, "err.training.no_attendee").OnField("users")
	}
	holders, err := s.Store.RoleHolders(ctx, comm.Path)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, h := range holders {
		known[h.UserID] = true
	}
	seen := map[string]bool{}
	var out []store.Attendance
	for _, a := range in.Attendees {
		if !known[a.UserID] {
			return nil, errs.E(errs.Invalid, "err.training.attendee").OnField("users")
		}
		if seen[a.UserID] {
			continue
		}
		seen[a.UserID] = true
		out = append(out, store.Attendance{CourseID: c.ID, UserID: a.UserID, HeldOn: day, Passed: a.Passed, Note: trimmed(in.Note, 200), RecordedBy: p.UserID})
	}
	passed := 0
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		for i := range out {
			a := &out[i]
			dup, err := tx.AttendanceExists(ctx, a.CourseID, a.UserID, a.HeldOn)
			if err != nil {
				return err
			}
			if dup {
				return errs.E(errs.Invalid, "err.training.already").OnField("users")
			}
			if a.Passed {
				passed++
				if a.CertNo, err = tx.NextCertNo(ctx, comm.Code+"-"+day[:4]+"-"); err != nil {
					return err
				}
			}
			if err := tx.InsertAttendance(ctx, a); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, p, "training.attendance", "course", c.ID, comm.ID, "held_on", day, "attended", len(out), "passed", passed)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Certificate is what a printed certificate shows.
type Certificate struct {
	store.Attendance
	Course    store.Course
	Community store.OrgNode
	ExpiresOn string // "" when it never expires
	Expired   bool
}

// Certificate loads the certificate of a pass, for someone who may see
// the community's training, or for its holder.
func (s *Service) Certificate(ctx context.Context, p *access.Principal, attendanceID string) (Certificate, error) {
	a, err := s.Store.AttendanceByID(ctx, attendanceID)
	if err != nil {
		return Certificate{}, err
	}
	if !a.Passed || a.CertNo == "" {
		return Certificate{}, errs.E(errs.NotFound, "err.training.no_certificate")
	}
	c, err := s.Store.Course(ctx, a.CourseID)
	if err != nil {
		return Certificate{}, err
	}
	comm, err := s.Store.OrgNode(ctx, c.CommunityID)
	if err != nil {
		return Certificate{}, err
	}
	if !p.Can(access.AssessView, comm.Path) && (p == nil || p.UserID != a.UserID) {
		return Certificate{}, errs.E(errs.Forbidden, "err.forbidden")
	}
	exp := ExpiresOn(a.HeldOn, c.ValidMonths)
	return Certificate{Attendance: a, Course: c, Community: comm, ExpiresOn: exp, Expired: exp != "" && exp <= s.Store.Today()}, nil
}

// CourseView is a course with its attendance and who still needs it.
type CourseView struct {
	Course     store.Course
	Community  store.OrgNode
	Attendance []store.Attendance
	Gap        CourseGap
	Candidates []Person // everyone holding a role in the community, to record attendance
}

// Course shows a course of a community p may see.
func (s *Service) Course(ctx context.Context, p *access.Principal, id string) (CourseView, error) {
	c, err := s.Store.Course(ctx, id)
	if err != nil {
		return CourseView{}, err
	}
	comm, err := s.community(ctx, p, c.CommunityID, access.AssessView)
	if err != nil {
		return CourseView{}, err
	}
	rep, err := s.report(ctx, comm)
	if err != nil {
		return CourseView{}, err
	}
	v := CourseView{Course: c, Community: comm, Candidates: rep.Everyone}
	for _, g := range rep.ByCourse {
		if g.Course.ID == c.ID {
			v.Gap = g
		}
	}
	if v.Gap.Course.ID == "" {
		v.Gap.Course = c
	}
	v.Attendance, err = s.Store.CourseAttendance(ctx, c.ID, 500)
	return v, err
}

// ExpiresOn is the day a pass on heldOn stops being valid, for a course
// valid for months months ("" when it never expires): the same day of the
// month that many months later, or the month's last day when it has no
// such day (a pass on 31 August valid for 6 months expires on 28 or 29
// February). The pass is valid up to the day before.
func ExpiresOn(heldOn string, months int) string {
	if months <= 0 {
		return ""
	}
	t, err := time.Parse("2006-01-02", heldOn)
	if err != nil {
		return ""
	}
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, months, 0)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(t.Day(), last), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
}

// state is a person's standing in a course on today, given the day they
// last passed it ("" never).
func state(passedOn string, months int, today string) (string, string) {
	if passedOn == "" {
		return Never, ""
	}
	exp := ExpiresOn(passedOn, months)
	switch {
	case exp == "":
		return Valid, ""
	case exp <= today:
		return Expired, exp
	}
	t, _ := time.Parse("2006-01-02", today)
	if exp <= t.AddDate(0, 0, ExpiringDays).Format("2006-01-02") {
		return Expiring, exp
	}
	return Valid, exp
}

func parseDate(s string) (string, bool) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return "", false
	}
	return t.Format("2006-01-02"), true
}

// parseHours reads hours ("2", "1.5") as whole minutes, at most max hours.
func parseHours(s string, max float64) (int, bool) {
	h, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(h) || h < 0 || h > max {
		return 0, false
	}
	return int(math.Round(h * 60)), true
}

// FormatHours shows minutes as hours, with one decimal when needed.
func FormatHours(minutes int) string { return store.HoursText(minutes) }

func trimmed(s string, max int) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > max {
		return string(r[:max])
	}
	return s
}

// HeldOnCN is the day of the pass written the Chinese way (2026年3月2日).
func (c Certificate) HeldOnCN() string { return dateCN(c.HeldOn) }

// ExpiresOnCN is the expiry written the Chinese way.
func (c Certificate) ExpiresOnCN() string { return dateCN(c.ExpiresOn) }

func dateCN(day string) string {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		return day
	}
	return strconv.Itoa(t.Year()) + "年" + strconv.Itoa(int(t.Month())) + "月" + strconv.Itoa(t.Day()) + "日"
}
