package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"shequ/internal/errs"
)

// GridRoom is a room of a grid as a grid worker's phone needs it.
type GridRoom struct {
	ID, GridID, Address, Building, Survey, Use string
	LastVisit                                  time.Time
	Version                                    int64 // places.updated_at: moves on when its households' members change
	People                                     int   // living there now
}

// GridRooms lists the rooms of grids (by id) with their building, in
// address order.
func (s *Store) GridRooms(ctx context.Context, gridIDs []string) ([]GridRoom, error) {
	if len(gridIDs) == 0 {
		return nil, nil
	}
	ph, args := placeholders(gridIDs, 2)
	rows, err := s.query(ctx, `SELECT r.id, r.grid_id, r.address, COALESCE(b.name, ''), r.survey, COALESCE(r.room_use, ''), r.last_visit_at, r.updated_at,
		COALESCE(n.people, 0)
		FROM places r LEFT JOIN places u ON u.id = r.parent_id LEFT JOIN places b ON b.id = CASE WHEN u.kind = 'unit' THEN u.parent_id ELSE u.id END
		LEFT JOIN (SELECT h.room_id, count(*) AS people FROM households h JOIN household_members m ON m.household_id = h.id
			JOIN places x ON x.id = h.room_id WHERE h.ended_at IS NULL AND (m.until IS NULL OR m.until >= $1) AND x.grid_id IN (`+ph+`)
			GROUP BY h.room_id) n ON n.room_id = r.id
		WHERE r.kind = 'room' AND r.grid_id IN (`+ph+`) ORDER BY r.address`, append([]any{s.Today()}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []GridRoom
	for rows.Next() {
		var g GridRoom
		var lv sql.NullInt64
		if err := rows.Scan(&g.ID, &g.GridID, &g.Address, &g.Building, &g.Survey, &g.Use, &lv, &g.Version, &g.People); err != nil {
			return nil, err
		}
		g.LastVisit = fromMS(lv)
		out = append(out, g)
	}
	return out, rows.Err()
}

// RoomVersion is a room's updated_at (see GridRoom.Version).
func (tx *Tx) RoomVersion(ctx context.Context, roomID string) (int64, error) {
	var v int64
	err := tx.queryRow(ctx, `SELECT updated_at FROM places WHERE id = $1`, roomID).Scan(&v)
	return v, tx.s.classify(err)
}

// GridMember is a current member of a household in a grid's room, with
// the health facts a visit looks at; names are masked by the caller.
type GridMember struct {
	RoomID, HouseholdID, HouseholdKind, PersonID, Name, Relation, BirthDate, Residency string
	Sex, Doses                                                                         int
	TestResult                                                                         string
	TestAt                                                                             time.Time
	Monitoring                                                                         string // active monitoring kind, or ""
}

// GridMembers lists the people living now in the rooms of grids, with
// their doses, latest test and active monitoring (four queries, none of
// them per person: a grid can hold thousands of households).
func (s *Store) GridMembers(ctx context.Context, gridIDs []string, today string) ([]GridMember, error) {
	if len(gridIDs) == 0 {
		return nil, nil
	}
	ph, args := placeholders(gridIDs, 2)
	args = append([]any{today}, args...)
	const from = ` FROM places r JOIN households h ON h.room_id = r.id AND h.ended_at IS NULL
		JOIN household_members m ON m.household_id = h.id AND (m.until IS NULL OR m.until >= $1)`
	where := ` WHERE r.kind = 'room' AND r.grid_id IN (` + ph + `)`
	living := `SELECT m.person_id` + from + where
	rows, err := s.query(ctx, `SELECT h.room_id, h.id, h.kind, pe.id, pe.name, m.relation, COALESCE(pe.birth_date, ''), pe.residency, pe.sex`+
		from+` JOIN persons pe ON pe.id = m.person_id`+where+` ORDER BY h.room_id, h.id, m.relation`, args...)
	if err != nil {
		return nil, err
	}
	var out []GridMember
	index := map[string][]int{}
	for rows.Next() {
		var g GridMember
		if err := rows.Scan(&g.RoomID, &g.HouseholdID, &g.HouseholdKind, &g.PersonID, &g.Name, &g.Relation, &g.BirthDate, &g.Residency, &g.Sex); err != nil {
			rows.Close()
			return nil, err
		}
		index[g.PersonID] = append(index[g.PersonID], len(out))
		out = append(out, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	each := func(q string, scan func(rows *sql.Rows, set func(person string, f func(*GridMember))) error) error {
		rows, err := s.query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		set := func(person string, f func(*GridMember)) {
			for _, i := range index[person] {
				f(&out[i])
			}
		}
		for rows.Next() {
			if err := scan(rows, set); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	if err := each(`SELECT v.person_id, count(*) FROM vaccinations v WHERE v.person_id IN (`+living+`) AND $1 = $1 GROUP BY v.person_id`,
		func(rows *sql.Rows, set func(string, func(*GridMember))) error {
			var p string
			var n int
			err := rows.Scan(&p, &n)
			set(p, func(g *GridMember) { g.Doses = n })
			return err
		}); err != nil {
		return nil, err
	}
	if err := each(`SELECT t.person_id, t.result, t.sampled_at FROM health_tests t WHERE t.person_id IN (`+living+`) ORDER BY t.person_id, t.sampled_at`,
		func(rows *sql.Rows, set func(string, func(*GridMember))) error {
			var p, result string
			var at int64
			err := rows.Scan(&p, &result, &at)
			set(p, func(g *GridMember) { g.TestResult, g.TestAt = result, time.UnixMilli(at).UTC() }) // the latest comes last
			return err
		}); err != nil {
		return nil, err
	}
	err = each(`SELECT mo.person_id, mo.kind FROM monitoring mo WHERE mo.person_id IN (`+living+`)
		AND mo.start_date <= $1 AND mo.end_date >= $1 AND (mo.lifted_on IS NULL OR mo.lifted_on > $1)`,
		func(rows *sql.Rows, set func(string, func(*GridMember))) error {
			var p, kind string
			err := rows.Scan(&p, &kind)
			set(p, func(g *GridMember) { g.Monitoring = kind })
			return err
		})
	return out, err
}

// placeholders numbers ids from $first on.
func placeholders(ids []string, first int) (string, []any) {
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i], args[i] = "$"+itoa(first+i), id
	}
	return strings.Join(ph, ","), args
}

// Visit is a household visit recorded by a grid worker.
type Visit struct {
	ID, RoomID, GridID, UserID, ClientID string
	At, ReceivedAt                       time.Time
	Met, Needs, Notes, Answers, Changes  string // Needs: comma list; Answers, Changes: JSON
	Lat, Lng                             float64
	UserName, Address                    string // filled by queries
}

// InsertVisit stores a visit unless the same user sent the same client id
// before; then it reports the stored visit's id and false.
func (tx *Tx) InsertVisit(ctx context.Context, v *Visit) (bool, error) {
	if id, err := tx.sentBefore(ctx, "visits", v.UserID, v.ClientID); err != nil || id != "" {
		v.ID = orNew(id)
		return false, err
	}
	v.ID = orNew(v.ID)
	var lat, lng any
	if v.Lat != 0 || v.Lng != 0 {
		lat, lng = v.Lat, v.Lng
	}
	_, err := tx.exec(ctx, `INSERT INTO visits (id, room_id, grid_id, user_id, client_id, at, received_at, met, needs, notes, answers, changes, lat, lng)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, v.ID, v.RoomID, nullStr(v.GridID), v.UserID, v.ClientID,
		ms(v.At), ms(v.ReceivedAt), v.Met, v.Needs, v.Notes, v.Answers, v.Changes, lat, lng)
	return err == nil, err
}

// VisitByClient finds a visit by its phone's id.
func (s *Store) VisitByClient(ctx context.Context, userID, clientID string) (string, error) {
	var id string
	err := s.queryRow(ctx, `SELECT id FROM visits WHERE user_id = $1 AND client_id = $2`, userID, clientID).Scan(&id)
	return id, s.classify(err)
}

// sentBefore finds what a phone sent before under the same client id
// (table: visits or patrols): the id stored then, or "".
func (tx *Tx) sentBefore(ctx context.Context, table, userID, clientID string) (string, error) {
	var id string
	err := tx.queryRow(ctx, `SELECT id FROM `+table+` WHERE user_id = $1 AND client_id = $2`, userID, clientID).Scan(&id)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return id, tx.s.classify(err)
}

// AddVisitPhoto stores an encrypted photo of a visit.
func (tx *Tx) AddVisitPhoto(ctx context.Context, visitID, mime string, enc []byte) error {
	_, err := tx.exec(ctx, `INSERT INTO visit_photos (id, visit_id, mime, photo_enc) VALUES ($1, $2, $3, $4)`, orNew(""), visitID, mime, enc)
	return err
}

// RoomVisits lists a room's latest visits, newest first.
func (s *Store) RoomVisits(ctx context.Context, roomID string, limit int) ([]Visit, error) {
	rows, err := s.query(ctx, `SELECT v.id, v.room_id, COALESCE(v.grid_id, ''), v.user_id, v.client_id, v.at, v.received_at, v.met, v.needs, v.notes,
		v.answers, v.changes, COALESCE(v.lat, 0), COALESCE(v.lng, 0), u.display_name, r.address
		FROM visits v JOIN users u ON u.id = v.user_id JOIN places r ON r.id = v.room_id WHERE v.room_id = $1 ORDER BY v.at DESC LIMIT $2`, roomID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Visit
	for rows.Next() {
		var v Visit
		var at, rec int64
		if err := rows.Scan(&v.ID, &v.RoomID, &v.GridID, &v.UserID, &v.ClientID, &at, &rec, &v.Met, &v.Needs, &v.Notes, &v.Answers, &v.Changes,
			&v.Lat, &v.Lng, &v.UserName, &v.Address); err != nil {
			return nil, err
		}
		v.At, v.ReceivedAt = time.UnixMilli(at).UTC(), time.UnixMilli(rec).UTC()
		out = append(out, v)
	}
	return out, rows.Err()
}

// LastVisits gives, per room of the grids, when and by whom it was last
// visited and what was noted.
func (s *Store) LastVisits(ctx context.Context, gridIDs []string) (map[string]Visit, error) {
	out := map[string]Visit{}
	if len(gridIDs) == 0 {
		return out, nil
	}
	ph, args := placeholders(gridIDs, 1)
	rows, err := s.query(ctx, `SELECT v.room_id, v.at, v.notes, u.display_name FROM visits v JOIN users u ON u.id = v.user_id
		WHERE v.grid_id IN (`+ph+`) ORDER BY v.at`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var v Visit
		var at int64
		if err := rows.Scan(&v.RoomID, &at, &v.Notes, &v.UserName); err != nil {
			return nil, err
		}
		v.At = time.UnixMilli(at).UTC()
		out[v.RoomID] = v // the newest wins
	}
	return out, rows.Err()
}

// Checklist is a list of questions for patrols and campaigns.
type Checklist struct {
	ID, CommunityID, Name string
	Items                 []string
}

// CreateChecklist stores a checklist.
func (tx *Tx) CreateChecklist(ctx context.Context, c *Checklist) error {
	c.ID = orNew(c.ID)
	_, err := tx.exec(ctx, `INSERT INTO checklists (id, community_id, name, items, created_at) VALUES ($1, $2, $3, $4, $5)`,
		c.ID, c.CommunityID, c.Name, strings.Join(c.Items, "\n"), ms(tx.Now()))
	return err
}

// Checklists lists the checklists of communities.
func (s *Store) Checklists(ctx context.Context, communityIDs []string) ([]Checklist, error) {
	if len(communityIDs) == 0 {
		return nil, nil
	}
	ph, args := placeholders(communityIDs, 1)
	rows, err := s.query(ctx, `SELECT id, community_id, name, items FROM checklists WHERE community_id IN (`+ph+`) ORDER BY name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Checklist
	for rows.Next() {
		var c Checklist
		var items string
		if err := rows.Scan(&c.ID, &c.CommunityID, &c.Name, &items); err != nil {
			return nil, err
		}
		if items != "" {
			c.Items = strings.Split(items, "\n")
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// PatrolPoint is a place a grid worker patrols.
type PatrolPoint struct {
	ID, CommunityID, GridID, Name, Kind, ChecklistID, Token string
	LastAt                                                  time.Time // filled by queries: the latest check-in
	LastStatus                                              string
}

// CreatePatrolPoint stores a point.
func (tx *Tx) CreatePatrolPoint(ctx context.Context, p *PatrolPoint) error {
	p.ID = orNew(p.ID)
	_, err := tx.exec(ctx, `INSERT INTO patrol_points (id, community_id, grid_id, name, kind, checklist_id, token, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, p.ID, p.CommunityID, nullStr(p.GridID), p.Name, p.Kind, nullStr(p.ChecklistID), p.Token, ms(tx.Now()))
	return err
}

// PatrolPoints lists the points of communities, or of grids when gridIDs
// is given, with their latest check-in.
func (s *Store) PatrolPoints(ctx context.Context, communityIDs, gridIDs []string) ([]PatrolPoint, error) {
	col, ids := "p.community_id", communityIDs
	if gridIDs != nil {
		col, ids = "p.grid_id", gridIDs
	}
	if len(ids) == 0 {
		return nil, nil
	}
	ph, args := placeholders(ids, 1)
	rows, err := s.query(ctx, `SELECT p.id, p.community_id, COALESCE(p.grid_id, ''), p.name, p.kind, COALESCE(p.checklist_id, ''), p.token,
		(SELECT max(t.at) FROM patrols t WHERE t.point_id = p.id),
		COALESCE((SELECT t.status FROM patrols t WHERE t.point_id = p.id ORDER BY t.at DESC LIMIT 1), '')
		FROM patrol_points p WHERE `+col+` IN (`+ph+`) ORDER BY p.name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PatrolPoint
	for rows.Next() {
		var p PatrolPoint
		var last sql.NullInt64
		if err := rows.Scan(&p.ID, &p.CommunityID, &p.GridID, &p.Name, &p.Kind, &p.ChecklistID, &p.Token, &last, &p.LastStatus); err != nil {
			return nil, err
		}
		p.LastAt = fromMS(last)
		out = append(out, p)
	}
	return out, rows.Err()
}

// PatrolPointByID loads a point with its community's path and its grid's
// path ("" without a grid).
func (s *Store) PatrolPointByID(ctx context.Context, id string) (PatrolPoint, string, error) {
	var p PatrolPoint
	var path string
	err := s.queryRow(ctx, `SELECT p.id, p.community_id, COALESCE(p.grid_id, ''), p.name, p.kind, COALESCE(p.checklist_id, ''), p.token, n.path
		FROM patrol_points p JOIN org_nodes n ON n.id = COALESCE(p.grid_id, p.community_id) WHERE p.id = $1`, id).
		Scan(&p.ID, &p.CommunityID, &p.GridID, &p.Name, &p.Kind, &p.ChecklistID, &p.Token, &path)
	return p, path, s.classify(err)
}

// Patrol is one check-in at a point.
type Patrol struct {
	ID, PointID, UserID, ClientID string
	At, ReceivedAt                time.Time
	Answers, Problem, Status      string
	PointName, UserName           string // filled by queries
}

// InsertPatrol stores a check-in unless the user sent the same client id
// before; it reports whether it is new.
func (tx *Tx) InsertPatrol(ctx context.Context, p *Patrol) (bool, error) {
	if id, err := tx.sentBefore(ctx, "patrols", p.UserID, p.ClientID); err != nil || id != "" {
		p.ID = orNew(id)
		return false, err
	}
	p.ID = orNew(p.ID)
	_, err := tx.exec(ctx, `INSERT INTO patrols (id, point_id, user_id, client_id, at, received_at, answers, problem, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, p.ID, p.PointID, p.UserID, p.ClientID, ms(p.At), ms(p.ReceivedAt), p.Answers, p.Problem, p.Status)
	return err == nil, err
}

// Patrols lists the latest check-ins at the points of communities,
// problems first.
func (s *Store) Patrols(ctx context.Context, communityIDs []string, limit int) ([]Patrol, error) {
	if len(communityIDs) == 0 {
		return nil, nil
	}
	ph, args := placeholders(communityIDs, 2)
	rows, err := s.query(ctx, `SELECT t.id, t.point_id, t.user_id, t.client_id, t.at, t.received_at, t.answers, t.problem, t.status, p.name, u.display_name
		FROM patrols t JOIN patrol_points p ON p.id = t.point_id JOIN users u ON u.id = t.user_id
		WHERE p.community_id IN (`+ph+`) ORDER BY CASE t.status WHEN 'problem' THEN 0 ELSE 1 END, t.at DESC LIMIT $1`, append([]any{limit}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Patrol
	for rows.Next() {
		var p Patrol
		var at, rec int64
		if err := rows.Scan(&p.ID, &p.PointID, &p.UserID, &p.ClientID, &at, &rec, &p.Answers, &p.Problem, &p.Status, &p.PointName, &p.UserName); err != nil {
			return nil, err
		}
		p.At, p.ReceivedAt = time.UnixMilli(at).UTC(), time.UnixMilli(rec).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// Campaign is a grid-block investigation.
type Campaign struct {
	ID, CommunityID, Name, ChecklistID, Deadline, Status, CreatedBy string
	CreatedAt, ClosedAt                                             time.Time
	Total, Done                                                     int // filled by queries
}

// CreateCampaign stores a campaign and a task for every room with a
// current household in its grids; it returns the number of tasks.
func (tx *Tx) CreateCampaign(ctx context.Context, c *Campaign, gridIDs []string) (int, error) {
	c.ID = orNew(c.ID)
	if _, err := tx.exec(ctx, `INSERT INTO campaigns (id, community_id, name, checklist_id, deadline, status, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, 'open', $6, $7)`, c.ID, c.CommunityID, c.Name, nullStr(c.ChecklistID), c.Deadline, nullStr(c.CreatedBy), ms(tx.Now())); err != nil {
		return 0, err
	}
	ph, args := placeholders(gridIDs, 2)
	r, err := tx.exec(ctx, `INSERT INTO campaign_tasks (campaign_id, room_id, grid_id)
		SELECT $1, r.id, r.grid_id FROM places r WHERE r.kind = 'room' AND r.grid_id IN (`+ph+`)
		AND EXISTS (SELECT 1 FROM households h WHERE h.room_id = r.id AND h.ended_at IS NULL)`, append([]any{c.ID}, args...)...)
	if err != nil {
		return 0, err
	}
	n, _ := r.RowsAffected()
	return int(n), nil
}

const campaignCols = `c.id, c.community_id, c.name, COALESCE(c.checklist_id, ''), c.deadline, c.status, COALESCE(c.created_by, ''), c.created_at, c.closed_at,
	(SELECT count(*) FROM campaign_tasks t WHERE t.campaign_id = c.id), (SELECT count(*) FROM campaign_tasks t WHERE t.campaign_id = c.id AND t.done_at IS NOT NULL)`

func scanCampaign(sc interface{ Scan(...any) error }) (Campaign, error) {
	var c Campaign
	var created int64
	var closed sql.NullInt64
	err := sc.Scan(&c.ID, &c.CommunityID, &c.Name, &c.ChecklistID, &c.Deadline, &c.Status, &c.CreatedBy, &created, &closed, &c.Total, &c.Done)
	c.CreatedAt, c.ClosedAt = time.UnixMilli(created).UTC(), fromMS(closed)
	return c, err
}

// Campaign loads a campaign with its progress and its community's path.
func (s *Store) Campaign(ctx context.Context, id string) (Campaign, string, error) {
	var path string
	var c Campaign
	var created int64
	var closed sql.NullInt64
	err := s.queryRow(ctx, `SELECT `+campaignCols+`, n.path FROM campaigns c JOIN org_nodes n ON n.id = c.community_id WHERE c.id = $1`, id).
		Scan(&c.ID, &c.CommunityID, &c.Name, &c.ChecklistID, &c.Deadline, &c.Status, &c.CreatedBy, &created, &closed, &c.Total, &c.Done, &path)
	c.CreatedAt, c.ClosedAt = time.UnixMilli(created).UTC(), fromMS(closed)
	return c, path, s.classify(err)
}

// Campaigns lists the campaigns of communities, open ones first.
func (s *Store) Campaigns(ctx context.Context, communityIDs []string) ([]Campaign, error) {
	if len(communityIDs) == 0 {
		return nil, nil
	}
	ph, args := placeholders(communityIDs, 1)
	rows, err := s.query(ctx, `SELECT `+campaignCols+` FROM campaigns c WHERE c.community_id IN (`+ph+`)
		ORDER BY CASE c.status WHEN 'open' THEN 0 ELSE 1 END, c.deadline`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Campaign
	for rows.Next() {
		c, err := scanCampaign(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CampaignProgress is a campaign's progress in one grid, with the grid's
// worker(s).
type CampaignProgress struct {
	GridID, GridName, Workers string
	Total, Done               int
}

// CampaignProgressByGrid counts a campaign's tasks per grid.
func (s *Store) CampaignProgressByGrid(ctx context.Context, campaignID string) ([]CampaignProgress, error) {
	rows, err := s.query(ctx, `SELECT t.grid_id, n.name, COALESCE((SELECT string_agg(u.display_name, '、') FROM role_assignments a JOIN users u ON u.id = a.user_id
			WHERE a.node_id = t.grid_id AND a.role = 'grid'), ''), count(*), count(t.done_at)
		FROM campaign_tasks t JOIN org_nodes n ON n.id = t.grid_id WHERE t.campaign_id = $1 GROUP BY t.grid_id, n.name ORDER BY n.code`, campaignID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CampaignProgress
	for rows.Next() {
		var p CampaignProgress
		if err := rows.Scan(&p.GridID, &p.GridName, &p.Workers, &p.Total, &p.Done); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CampaignTask is one household (room) of a campaign.
type CampaignTask struct {
	CampaignID, CampaignName, ChecklistID, Deadline, RoomID, GridID, Address string
	DoneAt                                                                   time.Time
}

// OpenTasks lists the undone tasks of open campaigns in grids, the
// earliest deadline first; overdue ones are before the deadline of today.
func (s *Store) OpenTasks(ctx context.Context, gridIDs []string, limit int) ([]CampaignTask, error) {
	if len(gridIDs) == 0 {
		return nil, nil
	}
	ph, args := placeholders(gridIDs, 2)
	rows, err := s.query(ctx, `SELECT c.id, c.name, COALESCE(c.checklist_id, ''), c.deadline, t.room_id, t.grid_id, r.address
		FROM campaign_tasks t JOIN campaigns c ON c.id = t.campaign_id JOIN places r ON r.id = t.room_id
		WHERE c.status = 'open' AND t.done_at IS NULL AND t.grid_id IN (`+ph+`) ORDER BY c.deadline, r.address LIMIT $1`, append([]any{limit}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CampaignTask
	for rows.Next() {
		var t CampaignTask
		if err := rows.Scan(&t.CampaignID, &t.CampaignName, &t.ChecklistID, &t.Deadline, &t.RoomID, &t.GridID, &t.Address); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// OverdueTasks lists the undone tasks of a campaign past its deadline.
func (s *Store) OverdueTasks(ctx context.Context, campaignID string, limit int) ([]CampaignTask, error) {
	rows, err := s.query(ctx, `SELECT c.id, c.name, COALESCE(c.checklist_id, ''), c.deadline, t.room_id, t.grid_id, r.address
		FROM campaign_tasks t JOIN campaigns c ON c.id = t.campaign_id JOIN places r ON r.id = t.room_id
		WHERE t.campaign_id = $1 AND t.done_at IS NULL ORDER BY r.address LIMIT $2`, campaignID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CampaignTask
	for rows.Next() {
		var t CampaignTask
		if err := rows.Scan(&t.CampaignID, &t.CampaignName, &t.ChecklistID, &t.Deadline, &t.RoomID, &t.GridID, &t.Address); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// CompleteTasks marks a room's open tasks done by a visit, and closes the
// campaigns whose every household is accounted for. It returns the ids of
// the campaigns it closed.
func (tx *Tx) CompleteTasks(ctx context.Context, roomID, visitID, userID string, at time.Time) ([]string, error) {
	if _, err := tx.exec(ctx, `UPDATE campaign_tasks SET done_at = $1, visit_id = $2, done_by = $3
		WHERE room_id = $4 AND done_at IS NULL AND campaign_id IN (SELECT id FROM campaigns WHERE status = 'open')`, ms(at), visitID, userID, roomID); err != nil {
		return nil, err
	}
	rows, err := tx.tx.QueryContext(ctx, `SELECT c.id FROM campaigns c WHERE c.status = 'open'
		AND c.id IN (SELECT campaign_id FROM campaign_tasks WHERE room_id = $1)
		AND NOT EXISTS (SELECT 1 FROM campaign_tasks t WHERE t.campaign_id = c.id AND t.done_at IS NULL)`, roomID)
	if err != nil {
		return nil, tx.s.classify(err)
	}
	var closed []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		closed = append(closed, id)
	}
	rows.Close()
	for _, id := range closed {
		if _, err := tx.exec(ctx, `UPDATE campaigns SET status = 'closed', closed_at = $1 WHERE id = $2`, ms(at), id); err != nil {
			return nil, err
		}
	}
	return closed, nil
}

// ChiefRole is a kind of chief a community uses (楼栋长, 单元长 …).
type ChiefRole struct {
	ID, CommunityID, Name, Level string
	Seq                          int
}

// CreateChiefRole adds a role to a community's set.
func (tx *Tx) CreateChiefRole(ctx context.Context, r *ChiefRole) error {
	r.ID = orNew(r.ID)
	_, err := tx.exec(ctx, `INSERT INTO chief_roles (id, community_id, name, level, seq, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.ID, r.CommunityID, r.Name, r.Level, r.Seq, ms(tx.Now()))
	if errs.Is(err, errs.Conflict) {
		return errs.E(errs.Conflict, "err.grid.role_taken", r.Name).OnField("name")
	}
	return err
}

// ChiefRoles lists a community's chief roles in order.
func (s *Store) ChiefRoles(ctx context.Context, communityID string) ([]ChiefRole, error) {
	rows, err := s.query(ctx, `SELECT id, community_id, name, level, seq FROM chief_roles WHERE community_id = $1 ORDER BY seq, name`, communityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ChiefRole
	for rows.Next() {
		var r ChiefRole
		if err := rows.Scan(&r.ID, &r.CommunityID, &r.Name, &r.Level, &r.Seq); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Chief is a person serving in a chief role for a building, unit or grid.
type Chief struct {
	ID, RoleID, PlaceID, GridID, PersonID string
	PersonName                            string // filled by queries
}

// SetChief appoints a chief, replacing whoever held the role there.
func (tx *Tx) SetChief(ctx context.Context, c *Chief) error {
	c.ID = orNew(c.ID)
	if _, err := tx.exec(ctx, `DELETE FROM chiefs WHERE role_id = $1 AND COALESCE(place_id, '') = $2 AND COALESCE(grid_id, '') = $3`,
		c.RoleID, c.PlaceID, c.GridID); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `INSERT INTO chiefs (id, role_id, place_id, grid_id, person_id, since) VALUES ($1, $2, $3, $4, $5, $6)`,
		c.ID, c.RoleID, nullStr(c.PlaceID), nullStr(c.GridID), c.PersonID, ms(tx.Now()))
	return err
}

// Chiefs lists the chiefs of a community's roles.
func (s *Store) Chiefs(ctx context.Context, communityID string) ([]Chief, error) {
	rows, err := s.query(ctx, `SELECT c.id, c.role_id, COALESCE(c.place_id, ''), COALESCE(c.grid_id, ''), c.person_id, pe.name
		FROM chiefs c JOIN chief_roles r ON r.id = c.role_id JOIN persons pe ON pe.id = c.person_id WHERE r.community_id = $1`, communityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Chief
	for rows.Next() {
		var c Chief
		if err := rows.Scan(&c.ID, &c.RoleID, &c.PlaceID, &c.GridID, &c.PersonID, &c.PersonName); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// SetGridLeader makes a user the leader of a grid.
func (tx *Tx) SetGridLeader(ctx context.Context, gridID, userID string) error {
	var before string
	err := tx.queryRow(ctx, `SELECT user_id FROM grid_leaders WHERE grid_id = $1`, gridID).Scan(&before)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if _, err := tx.exec(ctx, `DELETE FROM grid_leaders WHERE grid_id = $1`, gridID); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `INSERT INTO grid_leaders (grid_id, user_id, since) VALUES ($1, $2, $3)`, gridID, userID, ms(tx.Now())); err != nil {
		return err
	}
	if before != "" && before != userID {
		if err := tx.syncCoverage(ctx, before); err != nil {
			return err
		}
	}
	return tx.syncCoverage(ctx, userID)
}

// GridStaff is a grid with its leader and workers.
type GridStaff struct {
	GridID, GridCode, GridName, Leader, Workers string
	Rooms                                       int
}

// GridStaffing lists the grids of a community with who staffs them.
func (s *Store) GridStaffing(ctx context.Context, communityPath string) ([]GridStaff, error) {
	rows, err := s.query(ctx, `SELECT n.id, n.code, n.name,
		COALESCE((SELECT u.display_name FROM grid_leaders l JOIN users u ON u.id = l.user_id WHERE l.grid_id = n.id), ''),
		COALESCE((SELECT string_agg(u.display_name, '、') FROM role_assignments a JOIN users u ON u.id = a.user_id
			WHERE a.node_id = n.id AND a.role = 'grid' AND u.disabled = 0), ''),
		(SELECT count(*) FROM places r WHERE r.grid_id = n.id AND r.kind = 'room')
		FROM org_nodes n WHERE n.level = 'grid' AND n.path LIKE $1 ORDER BY n.code`, likePrefix(communityPath))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []GridStaff
	for rows.Next() {
		var g GridStaff
		if err := rows.Scan(&g.GridID, &g.GridCode, &g.GridName, &g.Leader, &g.Workers, &g.Rooms); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// HouseholdRoom is the room of a current household.
func (s *Store) HouseholdRoom(ctx context.Context, householdID string) (string, error) {
	var room string
	err := s.queryRow(ctx, `SELECT room_id FROM households WHERE id = $1 AND ended_at IS NULL`, householdID).Scan(&room)
	return room, s.classify(err)
}

// CommunityBuildings lists the buildings, self-built houses and units of a
// community in address order.
func (s *Store) CommunityBuildings(ctx context.Context, communityID string) ([]Place, error) {
	return s.placeList(ctx, `SELECT `+placeCols+` FROM places p WHERE p.community_id = $1 AND p.kind IN ('building','house','unit') ORDER BY p.address`, communityID)
}

// GridWorkers lists the ids of the users doing grid work in a grid.
func (s *Store) GridWorkers(ctx context.Context, gridID string) ([]string, error) {
	return s.column(ctx, `SELECT user_id FROM role_assignments WHERE node_id = $1 AND role = 'grid' ORDER BY created_at`, gridID)
}

// MoveToGrid puts a building or house, with its units and rooms, into
// another grid; the open campaign tasks of its rooms follow it.
func (tx *Tx) MoveToGrid(ctx context.Context, placeID, gridID string) error {
	const below = `(SELECT id FROM places WHERE id = $2 OR parent_id = $2 OR parent_id IN (SELECT id FROM places WHERE parent_id = $2))`
	if err := tx.markRoomsBelow(ctx, placeID); err != nil {
		return err
	}
	tx.markNode(gridID)
	if _, err := tx.exec(ctx, `UPDATE places SET grid_id = $1 WHERE id IN `+below, gridID, placeID); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `UPDATE campaign_tasks SET grid_id = $1 WHERE done_at IS NULL AND room_id IN `+below, gridID, placeID)
	return err
}

// PatrolByID loads a check-in with its point's community.
func (s *Store) PatrolByID(ctx context.Context, id string) (Patrol, string, error) {
	var p Patrol
	var community string
	var at int64
	err := s.queryRow(ctx, `SELECT t.id, t.point_id, t.problem, t.status, t.at, p.name, p.community_id FROM patrols t JOIN patrol_points p ON p.id = t.point_id WHERE t.id = $1`, id).
		Scan(&p.ID, &p.PointID, &p.Problem, &p.Status, &at, &p.PointName, &community)
	p.At = time.UnixMilli(at).UTC()
	return p, community, s.classify(err)
}

// HandlePatrol marks a check-in's problem as taken up.
func (tx *Tx) HandlePatrol(ctx context.Context, id string) error {
	_, err := tx.exec(ctx, `UPDATE patrols SET status = 'handled' WHERE id = $1 AND status = 'problem'`, id)
	return err
}
