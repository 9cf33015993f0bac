package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

func init() {
	EncryptedColumns = append(EncryptedColumns, EncryptedColumn{"volunteers", "phone_enc", "volunteers.phone"})
}

// Course is a training course of a community.
type Course struct {
	ID, CommunityID, Name, Description string
	Minutes                            int      // class time
	ValidMonths                        int      // how long a pass stays valid; 0 = forever
	Roles                              []string // access roles that must take it
	Active                             bool
	CreatedBy                          string
	CreatedAt, UpdatedAt               time.Time
}

// Hours is the class time in hours ("1.5").
func (c Course) Hours() string { return HoursText(c.Minutes) }

// HoursText shows minutes as hours, with one decimal when needed.
func HoursText(minutes int) string {
	return strconv.FormatFloat(float64((minutes+3)/6)/10, 'f', -1, 64)
}

// CreateCourse stores a course and its required roles.
func (tx *Tx) CreateCourse(ctx context.Context, c *Course) error {
	c.ID = orNew(c.ID)
	now := tx.Now()
	c.Active, c.CreatedAt, c.UpdatedAt = true, now, now
	if _, err := tx.exec(ctx, `INSERT INTO training_courses (id, community_id, name, minutes, valid_months, description, active, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8, $8)`, c.ID, c.CommunityID, c.Name, c.Minutes, c.ValidMonths, c.Description, nullStr(c.CreatedBy), ms(now)); err != nil {
		return err
	}
	return tx.setCourseRoles(ctx, c.ID, c.Roles)
}

// UpdateCourse stores a course's name, time, validity, description,
// active flag and required roles.
func (tx *Tx) UpdateCourse(ctx context.Context, c *Course) error {
	c.UpdatedAt = tx.Now()
	if _, err := tx.exec(ctx, `UPDATE training_courses SET name = $2, minutes = $3, valid_months = $4, description = $5, active = $6, updated_at = $7
		WHERE id = $1`, c.ID, c.Name, c.Minutes, c.ValidMonths, c.Description, boolInt(c.Active), ms(c.UpdatedAt)); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `DELETE FROM training_requirements WHERE course_id = $1`, c.ID); err != nil {
		return err
	}
	return tx.setCourseRoles(ctx, c.ID, c.Roles)
}

func (tx *Tx) setCourseRoles(ctx context.Context, courseID string, roles []string) error {
	for _, r := range roles {
		if _, err := tx.exec(ctx, `INSERT INTO training_requirements (course_id, role) VALUES ($1, $2)`, courseID, r); err != nil {
			return err
		}
	}
	return nil
}

const courseCols = `c.id, c.community_id, c.name, c.minutes, c.valid_months, c.description, c.active, COALESCE(c.created_by, ''), c.created_at, c.updated_at`

func scanCourse(sc interface{ Scan(...any) error }, extra ...any) (Course, error) {
	var c Course
	var active int
	var created, updated int64
	err := sc.Scan(append([]any{&c.ID, &c.CommunityID, &c.Name, &c.Minutes, &c.ValidMonths, &c.Description, &active, &c.CreatedBy, &created, &updated}, extra...)...)
	c.Active, c.CreatedAt, c.UpdatedAt = active == 1, time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return c, err
}

// Course loads a course with its roles.
func (s *Store) Course(ctx context.Context, id string) (Course, error) {
	c, err := scanCourse(s.queryRow(ctx, `SELECT `+courseCols+` FROM training_courses c WHERE c.id = $1`, id))
	if err != nil {
		return c, s.classify(err)
	}
	roles, err := s.courseRoles(ctx, `c.id = $1`, id)
	c.Roles = roles[c.ID]
	return c, err
}

// Courses lists a community's courses (active first, then by name) with
// their roles.
func (s *Store) Courses(ctx context.Context, communityID string) ([]Course, error) {
	rows, err := s.query(ctx, `SELECT `+courseCols+` FROM training_courses c WHERE c.community_id = $1 ORDER BY c.active DESC, c.name`, communityID)
	if err != nil {
		return nil, err
	}
	var out []Course
	for rows.Next() {
		c, err := scanCourse(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	roles, err := s.courseRoles(ctx, `c.community_id = $1`, communityID)
	for i := range out {
		out[i].Roles = roles[out[i].ID]
	}
	return out, err
}

func (s *Store) courseRoles(ctx context.Context, where string, arg string) (map[string][]string, error) {
	rows, err := s.query(ctx, `SELECT r.course_id, r.role FROM training_requirements r JOIN training_courses c ON c.id = r.course_id
		WHERE `+where+` ORDER BY r.course_id, r.role`, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var id, role string
		if err := rows.Scan(&id, &role); err != nil {
			return nil, err
		}
		out[id] = append(out[id], role)
	}
	return out, rows.Err()
}

// Attendance is one person's attendance of a course on a day.
type Attendance struct {
	ID, CourseID, UserID, HeldOn string
	Passed                       bool
	CertNo, Note, RecordedBy     string
	RecordedAt                   time.Time
	UserName, CourseName         string // filled by queries
	RecorderName                 string
}

// InsertAttendance stores an attendance record.
func (tx *Tx) InsertAttendance(ctx context.Context, a *Attendance) error {
	a.ID = orNew(a.ID)
	a.RecordedAt = tx.Now()
	_, err := tx.exec(ctx, `INSERT INTO training_attendance (id, course_id, user_id, held_on, passed, cert_no, note, recorded_by, recorded_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, a.ID, a.CourseID, a.UserID, a.HeldOn, boolInt(a.Passed), nullStr(a.CertNo), a.Note,
		nullStr(a.RecordedBy), ms(a.RecordedAt))
	return err
}

// NextCertNo is the next certificate number with the prefix (community
// code and year: "610402011001-2026-"), five digits after it.
func (tx *Tx) NextCertNo(ctx context.Context, prefix string) (string, error) {
	var last sql.NullString
	err := tx.queryRow(ctx, `SELECT max(cert_no) FROM training_attendance WHERE cert_no LIKE $1`, prefix+"%").Scan(&last)
	if err != nil {
		return "", tx.s.classify(err)
	}
	n := 0
	if last.Valid {
		n, _ = strconv.Atoi(strings.TrimPrefix(last.String, prefix))
	}
	return fmt.Sprintf("%s%05d", prefix, n+1), nil
}

const attendanceCols = `a.id, a.course_id, a.user_id, a.held_on, a.passed, COALESCE(a.cert_no, ''), a.note, COALESCE(a.recorded_by, ''), a.recorded_at,
	u.display_name, c.name, COALESCE(r.display_name, '')`

const attendanceFrom = ` FROM training_attendance a JOIN users u ON u.id = a.user_id JOIN training_courses c ON c.id = a.course_id
	LEFT JOIN users r ON r.id = a.recorded_by`

func scanAttendance(sc interface{ Scan(...any) error }) (Attendance, error) {
	var a Attendance
	var passed int
	var at int64
	err := sc.Scan(&a.ID, &a.CourseID, &a.UserID, &a.HeldOn, &passed, &a.CertNo, &a.Note, &a.RecordedBy, &at, &a.UserName, &a.CourseName, &a.RecorderName)
	a.Passed, a.RecordedAt = passed == 1, time.UnixMilli(at).UTC()
	return a, err
}

// AttendanceByID loads one attendance record.
func (s *Store) AttendanceByID(ctx context.Context, id string) (Attendance, error) {
	a, err := scanAttendance(s.queryRow(ctx, `SELECT `+attendanceCols+attendanceFrom+` WHERE a.id = $1`, id))
	return a, s.classify(err)
}

// CourseAttendance lists the attendance of a course, latest first.
func (s *Store) CourseAttendance(ctx context.Context, courseID string, limit int) ([]Attendance, error) {
	return s.attendance(ctx, `c.id = $1`, courseID, limit)
}

// CommunityAttendance lists the attendance of a community's courses, latest first.
func (s *Store) CommunityAttendance(ctx context.Context, communityID string, limit int) ([]Attendance, error) {
	return s.attendance(ctx, `c.community_id = $1`, communityID, limit)
}

func (s *Store) attendance(ctx context.Context, where, arg string, limit int) ([]Attendance, error) {
	rows, err := s.query(ctx, `SELECT `+attendanceCols+attendanceFrom+` WHERE `+where+` ORDER BY a.held_on DESC, u.display_name LIMIT $2`, arg, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Attendance
	for rows.Next() {
		a, err := scanAttendance(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CoursePasses gives, per course of a community and user, the latest day they
// passed it: map[courseID][userID] = YYYY-MM-DD.
func (s *Store) CoursePasses(ctx context.Context, communityID string) (map[string]map[string]string, error) {
	rows, err := s.query(ctx, `SELECT a.course_id, a.user_id, max(a.held_on) FROM training_attendance a JOIN training_courses c ON c.id = a.course_id
		WHERE c.community_id = $1 AND a.passed = 1 GROUP BY a.course_id, a.user_id`, communityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var course, user, day string
		if err := rows.Scan(&course, &user, &day); err != nil {
			return nil, err
		}
		if out[course] == nil {
			out[course] = map[string]string{}
		}
		out[course][user] = day
	}
	return out, rows.Err()
}

// RoleHolder is an active staff account holding a role at a node.
type RoleHolder struct {
	UserID, Name, Role, NodeName string
}

// RoleHolders lists the active staff accounts holding a role at a node of
// the subtree of path, one row per assignment, by name.
func (s *Store) RoleHolders(ctx context.Context, path string) ([]RoleHolder, error) {
	rows, err := s.query(ctx, `SELECT u.id, u.display_name, ra.role, n.name FROM role_assignments ra JOIN users u ON u.id = ra.user_id
		JOIN org_nodes n ON n.id = ra.node_id WHERE n.path LIKE $1 AND u.disabled = 0 AND u.kind = 'staff'
		ORDER BY u.display_name, u.id, ra.role, n.path`, likePrefix(path))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RoleHolder
	for rows.Next() {
		var h RoleHolder
		if err := rows.Scan(&h.UserID, &h.Name, &h.Role, &h.NodeName); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// Volunteer is a volunteer or party member of a community's register.
type Volunteer struct {
	ID, CommunityID, Name     string
	PhoneEnc                  []byte
	PhoneBidx, PhoneMask      string
	Kind, PartyBranch, Skills string // kind: volunteer, party, both
	PersonID, JoinedOn, Note  string
	Active                    bool
	CreatedBy                 string
	CreatedAt, UpdatedAt      time.Time
	Minutes, Duties           int // in a period, filled by VolunteerTotals
}

// Hours is the time served in the period, in hours.
func (v Volunteer) Hours() string { return HoursText(v.Minutes) }

// CreateVolunteer stores a volunteer.
func (tx *Tx) CreateVolunteer(ctx context.Context, v *Volunteer) error {
	v.ID = orNew(v.ID)
	now := tx.Now()
	v.Active, v.CreatedAt, v.UpdatedAt = true, now, now
	_, err := tx.exec(ctx, `INSERT INTO volunteers (id, community_id, name, phone_enc, phone_bidx, phone_mask, kind, party_branch, skills, person_id,
		joined_on, active, note, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $13, $14, $14)`,
		v.ID, v.CommunityID, v.Name, v.PhoneEnc, nullStr(v.PhoneBidx), v.PhoneMask, v.Kind, v.PartyBranch, v.Skills, nullStr(v.PersonID),
		v.JoinedOn, v.Note, nullStr(v.CreatedBy), ms(now))
	return err
}

// UpdateVolunteer stores a volunteer's details and active flag.
func (tx *Tx) UpdateVolunteer(ctx context.Context, v *Volunteer) error {
	v.UpdatedAt = tx.Now()
	_, err := tx.exec(ctx, `UPDATE volunteers SET name = $2, phone_enc = $3, phone_bidx = $4, phone_mask = $5, kind = $6, party_branch = $7, skills = $8,
		person_id = $9, joined_on = $10, active = $11, note = $12, updated_at = $13 WHERE id = $1`,
		v.ID, v.Name, v.PhoneEnc, nullStr(v.PhoneBidx), v.PhoneMask, v.Kind, v.PartyBranch, v.Skills, nullStr(v.PersonID), v.JoinedOn,
		boolInt(v.Active), v.Note, ms(v.UpdatedAt))
	return err
}

const volunteerCols = `v.id, v.community_id, v.name, v.phone_enc, COALESCE(v.phone_bidx, ''), v.phone_mask, v.kind, v.party_branch, v.skills,
	COALESCE(v.person_id, ''), v.joined_on, v.active, v.note, COALESCE(v.created_by, ''), v.created_at, v.updated_at`

func scanVolunteer(sc interface{ Scan(...any) error }, extra ...any) (Volunteer, error) {
	var v Volunteer
	var active int
	var created, updated int64
	err := sc.Scan(append([]any{&v.ID, &v.CommunityID, &v.Name, &v.PhoneEnc, &v.PhoneBidx, &v.PhoneMask, &v.Kind, &v.PartyBranch, &v.Skills,
		&v.PersonID, &v.JoinedOn, &active, &v.Note, &v.CreatedBy, &created, &updated}, extra...)...)
	v.Active, v.CreatedAt, v.UpdatedAt = active == 1, time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return v, err
}

// Volunteer loads a volunteer.
func (s *Store) Volunteer(ctx context.Context, id string) (Volunteer, error) {
	v, err := scanVolunteer(s.queryRow(ctx, `SELECT `+volunteerCols+` FROM volunteers v WHERE v.id = $1`, id))
	return v, s.classify(err)
}

// VolunteerByPhone finds a community's volunteer by the blind index of
// their phone ("" when there is none).
func (tx *Tx) VolunteerByPhone(ctx context.Context, communityID, bidx string) (string, error) {
	var id string
	err := tx.queryRow(ctx, `SELECT id FROM volunteers WHERE community_id = $1 AND phone_bidx = $2`, communityID, bidx).Scan(&id)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return id, tx.s.classify(err)
}

// VolunteerFilter selects a community's volunteers; the totals count the
// duties dated From to To (inclusive, YYYY-MM-DD).
type VolunteerFilter struct {
	CommunityID string
	Kind        string // volunteer, party ("party" includes "both"); "" any
	Name        string // part of the name
	Inactive    bool   // include those no longer active
	From, To    string
}

// Volunteers lists a community's volunteers by name with the minutes and
// number of duties in the period.
func (s *Store) Volunteers(ctx context.Context, f VolunteerFilter) ([]Volunteer, error) {
	q := `SELECT ` + volunteerCols + `, COALESCE(d.minutes, 0), COALESCE(d.n, 0) FROM volunteers v
		LEFT JOIN (SELECT volunteer_id, sum(minutes) AS minutes, count(*) AS n FROM volunteer_duties WHERE community_id = $1 AND on_date >= $2 AND on_date <= $3
			GROUP BY volunteer_id) d ON d.volunteer_id = v.id
		WHERE v.community_id = $1`
	args := []any{f.CommunityID, f.From, f.To}
	if !f.Inactive {
		q += ` AND v.active = 1`
	}
	switch f.Kind {
	case "volunteer":
		q += ` AND v.kind IN ('volunteer','both')`
	case "party":
		q += ` AND v.kind IN ('party','both')`
	}
	if f.Name != "" {
		args = append(args, "%"+f.Name+"%")
		q += ` AND v.name LIKE $4`
	}
	rows, err := s.query(ctx, q+` ORDER BY v.active DESC, v.name, v.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Volunteer
	for rows.Next() {
		var minutes, n int
		v, err := scanVolunteer(rows, &minutes, &n)
		if err != nil {
			return nil, err
		}
		v.Minutes, v.Duties = minutes, n
		out = append(out, v)
	}
	return out, rows.Err()
}

// Duty is a volunteer mobilised into a campaign, an event or a task.
type Duty struct {
	ID, VolunteerID, CommunityID, CampaignID, EventID, Task, OnDate string
	Minutes                                                         int
	CreatedBy, RecordedBy                                           string
	CreatedAt, RecordedAt                                           time.Time
	VolunteerName, CampaignName, EventRef, EventTitle               string // filled by queries
}

// Hours is the time served in hours.
func (d Duty) Hours() string { return HoursText(d.Minutes) }

// Recorded reports whether the hours served have been recorded.
func (d Duty) Recorded() bool { return !d.RecordedAt.IsZero() }

// InsertDuty stores a duty.
func (tx *Tx) InsertDuty(ctx context.Context, d *Duty) error {
	d.ID = orNew(d.ID)
	d.CreatedAt = tx.Now()
	_, err := tx.exec(ctx, `INSERT INTO volunteer_duties (id, volunteer_id, community_id, campaign_id, event_id, task, on_date, minutes, created_by, created_at,
		recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, d.ID, d.VolunteerID, d.CommunityID, nullStr(d.CampaignID),
		nullStr(d.EventID), d.Task, d.OnDate, d.Minutes, nullStr(d.CreatedBy), ms(d.CreatedAt), nullStr(d.RecordedBy), ms(d.RecordedAt))
	return err
}

// DutyExists reports whether a volunteer already has a duty for the same
// campaign, event or task on the day.
func (tx *Tx) DutyExists(ctx context.Context, d *Duty) (bool, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT count(*) FROM volunteer_duties WHERE volunteer_id = $1 AND on_date = $2 AND COALESCE(campaign_id, '') = $3
		AND COALESCE(event_id, '') = $4 AND task = $5`, d.VolunteerID, d.OnDate, d.CampaignID, d.EventID, d.Task).Scan(&n)
	return n > 0, tx.s.classify(err)
}

// SetDutyMinutes records the time served on a duty.
func (tx *Tx) SetDutyMinutes(ctx context.Context, id string, minutes int, by string) error {
	_, err := tx.exec(ctx, `UPDATE volunteer_duties SET minutes = $2, recorded_by = $3, recorded_at = $4 WHERE id = $1`, id, minutes, nullStr(by), ms(tx.Now()))
	return err
}

const dutyCols = `d.id, d.volunteer_id, d.community_id, COALESCE(d.campaign_id, ''), COALESCE(d.event_id, ''), d.task, d.on_date, d.minutes,
	COALESCE(d.created_by, ''), COALESCE(d.recorded_by, ''), d.created_at, d.recorded_at, v.name, COALESCE(cp.name, ''), COALESCE(e.ref, ''), COALESCE(e.title, '')`

const dutyFrom = ` FROM volunteer_duties d JOIN volunteers v ON v.id = d.volunteer_id LEFT JOIN campaigns cp ON cp.id = d.campaign_id
	LEFT JOIN events e ON e.id = d.event_id`

func scanDuty(sc interface{ Scan(...any) error }) (Duty, error) {
	var d Duty
	var created int64
	var recorded sql.NullInt64
	err := sc.Scan(&d.ID, &d.VolunteerID, &d.CommunityID, &d.CampaignID, &d.EventID, &d.Task, &d.OnDate, &d.Minutes, &d.CreatedBy, &d.RecordedBy,
		&created, &recorded, &d.VolunteerName, &d.CampaignName, &d.EventRef, &d.EventTitle)
	d.CreatedAt, d.RecordedAt = time.UnixMilli(created).UTC(), fromMS(recorded)
	return d, err
}

// Duty loads a duty.
func (s *Store) Duty(ctx context.Context, id string) (Duty, error) {
	d, err := scanDuty(s.queryRow(ctx, `SELECT `+dutyCols+dutyFrom+` WHERE d.id = $1`, id))
	return d, s.classify(err)
}

// Duties lists a community's duties (of one volunteer when volunteerID is
// set), those without recorded hours first, then latest first.
func (s *Store) Duties(ctx context.Context, communityID, volunteerID string, limit int) ([]Duty, error) {
	q := `SELECT ` + dutyCols + dutyFrom + ` WHERE d.community_id = $1 AND ($2 = '' OR d.volunteer_id = $2)
		ORDER BY CASE WHEN d.recorded_at IS NULL THEN 0 ELSE 1 END, d.on_date DESC, v.name LIMIT $3`
	rows, err := s.query(ctx, q, communityID, volunteerID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Duty
	for rows.Next() {
		d, err := scanDuty(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// EventChoice is an event volunteers can be mobilised into.
type EventChoice struct {
	ID, Ref, Title, Status string
}

// RecentEvents lists a community's events not yet closed, newest first.
func (s *Store) RecentEvents(ctx context.Context, communityID string, limit int) ([]EventChoice, error) {
	rows, err := s.query(ctx, `SELECT id, ref, title, status FROM events WHERE community_id = $1 AND status <> 'closed'
		ORDER BY created_at DESC LIMIT $2`, communityID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []EventChoice
	for rows.Next() {
		var e EventChoice
		if err := rows.Scan(&e.ID, &e.Ref, &e.Title, &e.Status); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// EventCommunity gives the community of an event.
func (s *Store) EventCommunity(ctx context.Context, eventID string) (string, error) {
	var c string
	err := s.queryRow(ctx, `SELECT community_id FROM events WHERE id = $1`, eventID).Scan(&c)
	return c, s.classify(err)
}

// AttendanceExists reports whether a person's attendance of a course on a
// day is already recorded.
func (tx *Tx) AttendanceExists(ctx context.Context, courseID, userID, heldOn string) (bool, error) {
	var n int
	err := tx.queryRow(ctx, `SELECT count(*) FROM training_attendance WHERE course_id = $1 AND user_id = $2 AND held_on = $3`, courseID, userID, heldOn).Scan(&n)
	return n > 0, tx.s.classify(err)
}
