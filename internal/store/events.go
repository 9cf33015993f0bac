package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"shequ/internal/errs"
)

// EventCategory is a kind of event with its SLA and default group.
type EventCategory struct {
	ID, CommunityID, Code, Name, Kind, DefaultGroup string
	SLAHours, Seq                                   int
}

// CreateEventCategory stores a category (CommunityID "": a default).
func (tx *Tx) CreateEventCategory(ctx context.Context, c *EventCategory) error {
	c.ID = orNew(c.ID)
	_, err := tx.exec(ctx, `INSERT INTO event_categories (id, community_id, code, name, kind, sla_hours, default_group, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.ID, nullStr(c.CommunityID), c.Code, c.Name, c.Kind, c.SLAHours, c.DefaultGroup, c.Seq)
	return err
}

// EventCategories lists the categories a community uses: its own, and the
// defaults it has not replaced (by code).
func (s *Store) EventCategories(ctx context.Context, communityID string) ([]EventCategory, error) {
	rows, err := s.query(ctx, `SELECT id, COALESCE(community_id, ''), code, name, kind, sla_hours, default_group, seq FROM event_categories c
		WHERE c.community_id = $1 OR (c.community_id IS NULL AND NOT EXISTS (SELECT 1 FROM event_categories o WHERE o.community_id = $1 AND o.code = c.code))
		ORDER BY c.kind DESC, c.seq, c.code`, communityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []EventCategory
	for rows.Next() {
		var c EventCategory
		if err := rows.Scan(&c.ID, &c.CommunityID, &c.Code, &c.Name, &c.Kind, &c.SLAHours, &c.DefaultGroup, &c.Seq); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// EventGroup is a functional group of a community.
type EventGroup struct {
	ID, CommunityID, Code, Name string
	Members                     int // filled by queries
}

// CreateEventGroup stores a group.
func (tx *Tx) CreateEventGroup(ctx context.Context, g *EventGroup) error {
	g.ID = orNew(g.ID)
	_, err := tx.exec(ctx, `INSERT INTO event_groups (id, community_id, code, name) VALUES ($1, $2, $3, $4)`, g.ID, g.CommunityID, g.Code, g.Name)
	return err
}

// AddGroupMember puts a user in a group.
func (tx *Tx) AddGroupMember(ctx context.Context, groupID, userID string) error {
	_, err := tx.exec(ctx, `INSERT INTO event_group_members (group_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, groupID, userID)
	return err
}

// EventGroups lists a community's groups with their sizes.
func (s *Store) EventGroups(ctx context.Context, communityID string) ([]EventGroup, error) {
	rows, err := s.query(ctx, `SELECT g.id, g.community_id, g.code, g.name, (SELECT count(*) FROM event_group_members m WHERE m.group_id = g.id)
		FROM event_groups g WHERE g.community_id = $1 ORDER BY g.code`, communityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []EventGroup
	for rows.Next() {
		var g EventGroup
		if err := rows.Scan(&g.ID, &g.CommunityID, &g.Code, &g.Name, &g.Members); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// UserGroups lists the ids of the groups a user is in.
func (s *Store) UserGroups(ctx context.Context, userID string) (map[string]bool, error) {
	rows, err := s.query(ctx, `SELECT group_id FROM event_group_members WHERE user_id = $1`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// Event is a reported problem and its handling.
type Event struct {
	ID, Ref, CommunityID, GridID, CategoryID, Title, Description, Address, PlaceID string
	Lat, Lng                                                                       float64
	Source, SourceRef, ReporterID, ReporterName, Status                            string
	Level, Rating, Reopens                                                         int
	RatingNote                                                                     string
	DueAt, CreatedAt, UpdatedAt, ResolvedAt, ClosedAt                              time.Time
	CategoryName, CategoryCode, Holders                                            string // filled by queries
}

const eventCols = `e.id, e.ref, e.community_id, COALESCE(e.grid_id, ''), e.category_id, e.title, e.description, e.address, COALESCE(e.place_id, ''),
	COALESCE(e.lat, 0), COALESCE(e.lng, 0), e.source, e.source_ref, COALESCE(e.reporter_id, ''), e.reporter_name, e.status, e.level,
	COALESCE(e.rating, 0), e.reopens, e.rating_note, e.due_at, e.created_at, e.updated_at, e.resolved_at, e.closed_at, c.name, c.code`

func scanEvent(sc interface{ Scan(...any) error }, extra ...any) (Event, error) {
	var e Event
	var due, res, closed sql.NullInt64
	var created, updated int64
	err := sc.Scan(append([]any{&e.ID, &e.Ref, &e.CommunityID, &e.GridID, &e.CategoryID, &e.Title, &e.Description, &e.Address, &e.PlaceID, &e.Lat, &e.Lng,
		&e.Source, &e.SourceRef, &e.ReporterID, &e.ReporterName, &e.Status, &e.Level, &e.Rating, &e.Reopens, &e.RatingNote, &due, &created, &updated,
		&res, &closed, &e.CategoryName, &e.CategoryCode}, extra...)...)
	e.DueAt, e.ResolvedAt, e.ClosedAt = fromMS(due), fromMS(res), fromMS(closed)
	e.CreatedAt, e.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return e, err
}

// CreateEvent stores a new event.
func (tx *Tx) CreateEvent(ctx context.Context, e *Event) error {
	e.ID = orNew(e.ID)
	now := ms(tx.Now())
	var lat, lng any
	if e.Lat != 0 || e.Lng != 0 {
		lat, lng = e.Lat, e.Lng
	}
	_, err := tx.exec(ctx, `INSERT INTO events (id, ref, community_id, grid_id, category_id, title, description, address, place_id, lat, lng, source, source_ref,
		reporter_id, reporter_name, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)`,
		e.ID, e.Ref, e.CommunityID, nullStr(e.GridID), e.CategoryID, e.Title, e.Description, e.Address, nullStr(e.PlaceID), lat, lng, e.Source, e.SourceRef,
		nullStr(e.ReporterID), e.ReporterName, e.Status, now)
	return err
}

// Event loads an event with its community's path.
func (s *Store) Event(ctx context.Context, idOrRef string) (Event, string, error) {
	var path string
	e, err := scanEvent(s.queryRow(ctx, `SELECT `+eventCols+`, n.path FROM events e JOIN event_categories c ON c.id = e.category_id
		JOIN org_nodes n ON n.id = e.community_id WHERE e.id = $1 OR e.ref = $1`, idOrRef), &path)
	return e, path, s.classify(err)
}

// SetEventStatus moves an event to a status, with what changes with it.
func (tx *Tx) SetEventStatus(ctx context.Context, id, from, to string, set map[string]any) error {
	cols := []string{"status = $1", "updated_at = $2"}
	args := []any{to, ms(tx.Now())}
	for k, v := range set {
		args = append(args, v)
		cols = append(cols, k+" = $"+itoa(len(args)))
	}
	args = append(args, id, from)
	r, err := tx.exec(ctx, `UPDATE events SET `+strings.Join(cols, ", ")+` WHERE id = $`+itoa(len(args)-1)+` AND status = $`+itoa(len(args)), args...)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errEventMoved
	}
	return nil
}

// AddEventStep records a step of an event.
func (tx *Tx) AddEventStep(ctx context.Context, eventID, actorID, actorName, action, from, to, note string) (string, error) {
	id := orNew("")
	_, err := tx.exec(ctx, `INSERT INTO event_steps (id, event_id, at, actor_id, actor_name, action, from_status, to_status, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, id, eventID, ms(tx.Now()), nullStr(actorID), actorName, action, from, to, note)
	return id, err
}

// AddEventPhoto stores an encrypted photo of an event step.
func (tx *Tx) AddEventPhoto(ctx context.Context, eventID, stepID, mime string, enc []byte) error {
	_, err := tx.exec(ctx, `INSERT INTO event_photos (id, event_id, step_id, mime, photo_enc) VALUES ($1, $2, $3, $4, $5)`, orNew(""), eventID, nullStr(stepID), mime, enc)
	return err
}

// EventStep is one step of an event's history.
type EventStep struct {
	At                                time.Time
	ActorName, Action, From, To, Note string
	Photos                            int
}

// EventSteps lists an event's history, oldest first.
func (s *Store) EventSteps(ctx context.Context, eventID string) ([]EventStep, error) {
	rows, err := s.query(ctx, `SELECT st.at, st.actor_name, st.action, st.from_status, st.to_status, st.note,
		(SELECT count(*) FROM event_photos p WHERE p.step_id = st.id) FROM event_steps st WHERE st.event_id = $1 ORDER BY st.at, st.id`, eventID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []EventStep
	for rows.Next() {
		var st EventStep
		var at int64
		if err := rows.Scan(&at, &st.ActorName, &st.Action, &st.From, &st.To, &st.Note, &st.Photos); err != nil {
			return nil, err
		}
		st.At = time.UnixMilli(at).UTC()
		out = append(out, st)
	}
	return out, rows.Err()
}

// EventTask is a group's part of an event.
type EventTask struct {
	ID, EventID, GroupID, GroupName, Status, Note, DoneBy string
	DoneAt                                                time.Time
}

// CreateEventTask gives a group its part.
func (tx *Tx) CreateEventTask(ctx context.Context, eventID, groupID string) error {
	_, err := tx.exec(ctx, `INSERT INTO event_tasks (id, event_id, group_id, status, created_at) VALUES ($1, $2, $3, 'open', $4)
		ON CONFLICT (event_id, group_id) DO UPDATE SET status = 'open', note = '', done_by = NULL, done_at = NULL`, orNew(""), eventID, groupID, ms(tx.Now()))
	return err
}

// SetEventTask records a group's progress on its part.
func (tx *Tx) SetEventTask(ctx context.Context, eventID, groupID, status, note, userID string) error {
	var done any
	if status == "done" {
		done = ms(tx.Now())
	}
	_, err := tx.exec(ctx, `UPDATE event_tasks SET status = $1, note = $2, done_by = $3, done_at = $4 WHERE event_id = $5 AND group_id = $6`,
		status, note, nullStr(userID), done, eventID, groupID)
	return err
}

// EventTasks lists an event's parts with their groups.
func (s *Store) EventTasks(ctx context.Context, eventID string) ([]EventTask, error) {
	return s.eventTasks(ctx, `SELECT t.id, t.event_id, t.group_id, g.name, t.status, t.note, COALESCE(t.done_by, ''), t.done_at
		FROM event_tasks t JOIN event_groups g ON g.id = t.group_id WHERE t.event_id = $1 ORDER BY g.code`, eventID)
}

// TxEventTasks is EventTasks inside a transaction (it sees the
// transaction's own changes).
func (tx *Tx) EventTasks(ctx context.Context, eventID string) (open int, total int, err error) {
	err = tx.queryRow(ctx, `SELECT count(*) - count(done_at), count(*) FROM event_tasks WHERE event_id = $1`, eventID).Scan(&open, &total)
	return open, total, tx.s.classify(err)
}

func (s *Store) eventTasks(ctx context.Context, q string, args ...any) ([]EventTask, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []EventTask
	for rows.Next() {
		var t EventTask
		var done sql.NullInt64
		if err := rows.Scan(&t.ID, &t.EventID, &t.GroupID, &t.GroupName, &t.Status, &t.Note, &t.DoneBy, &done); err != nil {
			return nil, err
		}
		t.DoneAt = fromMS(done)
		out = append(out, t)
	}
	return out, rows.Err()
}

// OpenEvents lists the events not closed at or below paths, the least
// time left first, with who holds each (the groups with open parts).
func (s *Store) OpenEvents(ctx context.Context, scopes []string, limit int) ([]Event, int, error) {
	if len(scopes) == 0 {
		return nil, 0, nil
	}
	var cond []string
	var args []any
	for _, sc := range scopes {
		args = append(args, likePrefix(sc))
		cond = append(cond, "n.path LIKE $"+itoa(len(args)))
	}
	where := ` FROM events e JOIN org_nodes n ON n.id = e.community_id WHERE e.status NOT IN ('closed','rejected','evaluated') AND (` + strings.Join(cond, " OR ") + `)`
	var total int
	if err := s.queryRow(ctx, `SELECT count(*)`+where, args...).Scan(&total); err != nil {
		return nil, 0, s.classify(err)
	}
	args = append(args, limit)
	rows, err := s.query(ctx, `SELECT `+eventCols+`, COALESCE((SELECT string_agg(g.name, '、') FROM event_tasks t JOIN event_groups g ON g.id = t.group_id
		WHERE t.event_id = e.id AND t.done_at IS NULL), '')`+strings.Replace(where, "FROM events e", "FROM events e JOIN event_categories c ON c.id = e.category_id", 1)+
		` ORDER BY CASE WHEN e.due_at IS NULL THEN 1 ELSE 0 END, e.due_at, e.created_at LIMIT $`+itoa(len(args)), args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var holders string
		e, err := scanEvent(rows, &holders)
		if err != nil {
			return nil, 0, err
		}
		e.Holders = holders
		out = append(out, e)
	}
	return out, total, rows.Err()
}

// EventCounts counts the open events at or below a path by status.
func (s *Store) EventCounts(ctx context.Context, path string, now time.Time) (map[string]int, int, error) {
	rows, err := s.query(ctx, `SELECT e.status, count(*), sum(CASE WHEN e.due_at < $2 THEN 1 ELSE 0 END) FROM events e JOIN org_nodes n ON n.id = e.community_id
		WHERE n.path LIKE $1 AND e.status NOT IN ('closed','rejected','evaluated') GROUP BY e.status`, likePrefix(path), ms(now))
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out, overdue := map[string]int{}, 0
	for rows.Next() {
		var st string
		var n int
		var o sql.NullInt64
		if err := rows.Scan(&st, &n, &o); err != nil {
			return nil, 0, err
		}
		out[st] = n
		overdue += int(o.Int64)
	}
	return out, overdue, rows.Err()
}

// OverdueEvents lists the events past their SLA still below the top
// escalation level.
func (s *Store) OverdueEvents(ctx context.Context, now time.Time, maxLevel int) ([]Event, error) {
	rows, err := s.query(ctx, `SELECT `+eventCols+` FROM events e JOIN event_categories c ON c.id = e.category_id
		WHERE e.status IN ('accepted','dispatched','in_progress','returned','reopened') AND e.due_at < $1 AND e.level < $2`, ms(now), maxLevel)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ReporterEvents lists the events a user reported, newest first.
func (s *Store) ReporterEvents(ctx context.Context, userID string, limit int) ([]Event, error) {
	rows, err := s.query(ctx, `SELECT `+eventCols+` FROM events e JOIN event_categories c ON c.id = e.category_id
		WHERE e.reporter_id = $1 ORDER BY e.created_at DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// errEventMoved: someone else moved the event meanwhile.
var errEventMoved = errs.E(errs.Conflict, "err.event.moved")

// GroupTasks lists the parts waiting for any of a user's groups, with
// their events, the least time left first.
func (s *Store) GroupTasks(ctx context.Context, userID string, limit int) ([]Event, []EventTask, error) {
	rows, err := s.query(ctx, `SELECT `+eventCols+`, t.id, t.group_id, g.name, t.status, t.note FROM event_tasks t
		JOIN event_group_members m ON m.group_id = t.group_id AND m.user_id = $1 JOIN event_groups g ON g.id = t.group_id
		JOIN events e ON e.id = t.event_id JOIN event_categories c ON c.id = e.category_id
		WHERE t.status IN ('open','working') AND e.status IN ('dispatched','in_progress','reopened')
		ORDER BY CASE WHEN e.due_at IS NULL THEN 1 ELSE 0 END, e.due_at LIMIT $2`, userID, limit)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var evs []Event
	var tasks []EventTask
	for rows.Next() {
		var t EventTask
		e, err := scanEvent(rows, &t.ID, &t.GroupID, &t.GroupName, &t.Status, &t.Note)
		if err != nil {
			return nil, nil, err
		}
		t.EventID = e.ID
		evs, tasks = append(evs, e), append(tasks, t)
	}
	return evs, tasks, rows.Err()
}

// Message is a note to a person in the app (and, by channel, by SMS).
type Message struct {
	ID, UserID, Channel, Body, Link string
	CreatedAt, ReadAt               time.Time
}

// QueueMessage puts a message in the outbox.
func (tx *Tx) QueueMessage(ctx context.Context, m *Message) error {
	m.ID = orNew(m.ID)
	var sent any
	if m.Channel == "app" {
		sent = ms(tx.Now()) // shown in the app: delivered by being stored
	}
	_, err := tx.exec(ctx, `INSERT INTO outbox (id, user_id, channel, body, link, created_at, sent_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		m.ID, nullStr(m.UserID), m.Channel, m.Body, m.Link, ms(tx.Now()), sent)
	return err
}

// Messages lists a user's in-app messages, newest first.
func (s *Store) Messages(ctx context.Context, userID string, limit int) ([]Message, error) {
	rows, err := s.query(ctx, `SELECT id, COALESCE(user_id, ''), channel, body, link, created_at, read_at FROM outbox
		WHERE user_id = $1 AND channel = 'app' ORDER BY created_at DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var at int64
		var read sql.NullInt64
		if err := rows.Scan(&m.ID, &m.UserID, &m.Channel, &m.Body, &m.Link, &at, &read); err != nil {
			return nil, err
		}
		m.CreatedAt, m.ReadAt = time.UnixMilli(at).UTC(), fromMS(read)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Open311Client is a GeoReport v2 client allowed to create requests in a
// community.
type Open311Client struct {
	ID, CommunityID, Name string
}

// CreateOpen311Client stores a client with its key's hash.
func (tx *Tx) CreateOpen311Client(ctx context.Context, c *Open311Client, keyHash string) error {
	c.ID = orNew(c.ID)
	_, err := tx.exec(ctx, `INSERT INTO open311_clients (id, community_id, name, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)`,
		c.ID, c.CommunityID, c.Name, keyHash, ms(tx.Now()))
	return err
}

// Open311ClientByKey finds a client by its key's hash.
func (s *Store) Open311ClientByKey(ctx context.Context, keyHash string) (Open311Client, error) {
	var c Open311Client
	err := s.queryRow(ctx, `SELECT id, community_id, name FROM open311_clients WHERE key_hash = $1`, keyHash).Scan(&c.ID, &c.CommunityID, &c.Name)
	return c, s.classify(err)
}

// Open311Requests lists the events created through Open311 in a community,
// newest first, filtered by refs, category codes, status (open, closed)
// and time.
func (s *Store) Open311Requests(ctx context.Context, communityID string, refs, codes []string, status string, from, until time.Time, limit int) ([]Event, error) {
	where := []string{"e.community_id = $1", "e.source = 'open311'"}
	args := []any{communityID}
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		ph, a := placeholders(vals, len(args)+1)
		args = append(args, a...)
		where = append(where, col+" IN ("+ph+")")
	}
	in("e.ref", refs)
	in("c.code", codes)
	switch status {
	case "open":
		where = append(where, "e.status NOT IN ('closed','rejected','evaluated')")
	case "closed":
		where = append(where, "e.status IN ('closed','rejected','evaluated')")
	}
	if !from.IsZero() {
		args = append(args, ms(from))
		where = append(where, "e.created_at >= $"+itoa(len(args)))
	}
	if !until.IsZero() {
		args = append(args, ms(until))
		where = append(where, "e.created_at <= $"+itoa(len(args)))
	}
	args = append(args, limit)
	rows, err := s.query(ctx, `SELECT `+eventCols+`, COALESCE((SELECT st.note FROM event_steps st WHERE st.event_id = e.id AND st.note <> '' ORDER BY st.at DESC LIMIT 1), '')
		FROM events e JOIN event_categories c ON c.id = e.category_id WHERE `+strings.Join(where, " AND ")+` ORDER BY e.created_at DESC LIMIT $`+itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var note string
		e, err := scanEvent(rows, &note)
		if err != nil {
			return nil, err
		}
		e.Holders = note // the latest note, for status_notes
		out = append(out, e)
	}
	return out, rows.Err()
}

// PendingMessages lists queued messages not yet sent whose next try is
// due (ten tries at most).
func (s *Store) PendingMessages(ctx context.Context, now time.Time, limit int) ([]Message, error) {
	rows, err := s.query(ctx, `SELECT id, COALESCE(user_id, ''), channel, body, link, created_at FROM outbox
		WHERE sent_at IS NULL AND attempts < 10 AND next_try <= $1 ORDER BY created_at LIMIT $2`, ms(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var at int64
		if err := rows.Scan(&m.ID, &m.UserID, &m.Channel, &m.Body, &m.Link, &at); err != nil {
			return nil, err
		}
		m.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// MessageSent marks a message delivered.
func (tx *Tx) MessageSent(ctx context.Context, id string) error {
	_, err := tx.exec(ctx, `UPDATE outbox SET sent_at = $1, attempts = attempts + 1 WHERE id = $2 AND sent_at IS NULL`, ms(tx.Now()), id)
	return err
}

// ClaimEscalation raises an event from level from to the next; false when
// it is no longer at that level (another instance escalated it first: the
// second of two concurrent claims waits for the first to commit, then finds
// the level moved).
func (tx *Tx) ClaimEscalation(ctx context.Context, id string, from int) (bool, error) {
	r, err := tx.exec(ctx, `UPDATE events SET level = $1 WHERE id = $2 AND level = $3`, from+1, id, from)
	if err != nil {
		return false, err
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

// ClaimMessage takes a due message for one sender until leaseUntil; false
// when another took it first (another instance) or it is no longer due. On
// PostgreSQL the second of two concurrent claims waits for the first to
// commit and then finds next_try moved: each message goes out once. A
// sender that dies mid-send leaves the message to be tried again after
// the lease.
func (tx *Tx) ClaimMessage(ctx context.Context, id string, leaseUntil time.Time) (bool, error) {
	r, err := tx.exec(ctx, `UPDATE outbox SET next_try = $1 WHERE id = $2 AND sent_at IS NULL AND attempts < 10 AND next_try <= $3`,
		ms(leaseUntil), id, ms(tx.Now()))
	if err != nil {
		return false, err
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

// MessageFailed records a failed try: the message stays queued and waits
// 2^attempts minutes for the next.
func (tx *Tx) MessageFailed(ctx context.Context, id, why string) error {
	var n int
	if err := tx.queryRow(ctx, `SELECT attempts FROM outbox WHERE id = $1`, id).Scan(&n); err != nil {
		return tx.s.classify(err)
	}
	_, err := tx.exec(ctx, `UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_try = $2 WHERE id = $3`,
		why, ms(tx.Now().Add(time.Minute<<min(n, 10))), id)
	return err
}
