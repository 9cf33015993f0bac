package store

import (
	"context"
	"database/sql"
	"time"

	"shequ/internal/errs"
)

// ReportCode is a self-report code of a community and a place.
type ReportCode struct {
	ID, CommunityID, Place, Kind string
	CreatedAt                    time.Time
	Reports                      int // filled by queries
}

// CreateReportCode stores a code.
func (tx *Tx) CreateReportCode(ctx context.Context, c *ReportCode, token, actorID string) error {
	c.ID = orNew(c.ID)
	_, err := tx.exec(ctx, `INSERT INTO report_codes (id, community_id, place, kind, token, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		c.ID, c.CommunityID, c.Place, c.Kind, token, nullStr(actorID), ms(tx.Now()))
	return err
}

// ReportCode loads a code with its community's path.
func (s *Store) ReportCode(ctx context.Context, id string) (ReportCode, string, error) {
	var c ReportCode
	var path string
	var at int64
	err := s.queryRow(ctx, `SELECT c.id, c.community_id, c.place, c.kind, c.created_at, n.path FROM report_codes c JOIN org_nodes n ON n.id = c.community_id
		WHERE c.id = $1`, id).Scan(&c.ID, &c.CommunityID, &c.Place, &c.Kind, &at, &path)
	c.CreatedAt = time.UnixMilli(at).UTC()
	return c, path, s.classify(err)
}

// ReportCodes lists the codes of communities with how many reports each
// brought.
func (s *Store) ReportCodes(ctx context.Context, communityIDs []string) ([]ReportCode, error) {
	if len(communityIDs) == 0 {
		return nil, nil
	}
	ph, args := placeholders(communityIDs, 1)
	rows, err := s.query(ctx, `SELECT c.id, c.community_id, c.place, c.kind, c.created_at, (SELECT count(*) FROM self_reports r WHERE r.code_id = c.id)
		FROM report_codes c WHERE c.community_id IN (`+ph+`) ORDER BY c.created_at`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReportCode
	for rows.Next() {
		var c ReportCode
		var at int64
		if err := rows.Scan(&c.ID, &c.CommunityID, &c.Place, &c.Kind, &at, &c.Reports); err != nil {
			return nil, err
		}
		c.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// SelfReport is a returnee's report.
type SelfReport struct {
	ID, Ref, CodeID, CommunityID, Name   string
	IDEnc                                []byte
	IDBidx, IDMask                       string
	PhoneEnc                             []byte
	PhoneBidx, PhoneMask                 string
	FromPlace, ArrivalDate, RoomID       string
	Transport, Health, LeadID            string
	Submissions                          int
	CreatedAt, UpdatedAt                 time.Time
	Place, Address, Assignee, LeadStatus string // filled by queries
}

// SaveSelfReport stores a report, or merges it into the one the same
// person made to the same community for the same arrival date (the newest
// answers win, the reference stays). It reports whether it merged.
func (tx *Tx) SaveSelfReport(ctx context.Context, r *SelfReport) (bool, error) {
	var id, ref, lead string
	var n int
	err := tx.queryRow(ctx, `SELECT id, ref, COALESCE(lead_id, ''), submissions FROM self_reports WHERE community_id = $1 AND id_bidx = $2 AND arrival_date = $3`,
		r.CommunityID, r.IDBidx, r.ArrivalDate).Scan(&id, &ref, &lead, &n)
	now := ms(tx.Now())
	switch {
	case err == sql.ErrNoRows:
		r.ID = orNew(r.ID)
		r.Submissions = 1
		_, err = tx.exec(ctx, `INSERT INTO self_reports (id, ref, code_id, community_id, name, id_enc, id_bidx, id_mask, phone_enc, phone_bidx, phone_mask,
			from_place, arrival_date, room_id, transport, health, submissions, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1, $17, $17)`, r.ID, r.Ref, r.CodeID, r.CommunityID, r.Name,
			r.IDEnc, r.IDBidx, r.IDMask, r.PhoneEnc, nullStr(r.PhoneBidx), r.PhoneMask, r.FromPlace, r.ArrivalDate, r.RoomID, r.Transport, r.Health, now)
		if errs.Is(err, errs.Conflict) {
			return false, errs.E(errs.Conflict, "err.report.busy") // the same person twice at once: the retry merges
		}
		return false, err
	case err != nil:
		return false, tx.s.classify(err)
	}
	r.ID, r.Ref, r.LeadID, r.Submissions = id, ref, lead, n+1
	_, err = tx.exec(ctx, `UPDATE self_reports SET name = $1, phone_enc = $2, phone_bidx = $3, phone_mask = $4, from_place = $5, room_id = $6,
		transport = $7, health = $8, submissions = submissions + 1, updated_at = $9 WHERE id = $10`,
		r.Name, r.PhoneEnc, nullStr(r.PhoneBidx), r.PhoneMask, r.FromPlace, r.RoomID, r.Transport, r.Health, now, id)
	return true, err
}

// LinkReportLead records the lead a report became.
func (tx *Tx) LinkReportLead(ctx context.Context, reportID, leadID string) error {
	_, err := tx.exec(ctx, `UPDATE self_reports SET lead_id = $1 WHERE id = $2`, leadID, reportID)
	return err
}

// SelfReportByRef loads a report by its reference number.
func (s *Store) SelfReportByRef(ctx context.Context, ref string) (SelfReport, error) {
	var r SelfReport
	var created, updated int64
	err := s.queryRow(ctx, `SELECT r.id, r.ref, r.code_id, r.community_id, r.name, r.id_mask, r.phone_mask, r.from_place, r.arrival_date, r.room_id,
		r.submissions, r.created_at, r.updated_at, p.address FROM self_reports r JOIN places p ON p.id = r.room_id WHERE r.ref = $1`, ref).
		Scan(&r.ID, &r.Ref, &r.CodeID, &r.CommunityID, &r.Name, &r.IDMask, &r.PhoneMask, &r.FromPlace, &r.ArrivalDate, &r.RoomID,
			&r.Submissions, &created, &updated, &r.Address)
	r.CreatedAt, r.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return r, s.classify(err)
}

// SelfReports lists the latest reports of communities, with where they
// came from and who verifies them.
func (s *Store) SelfReports(ctx context.Context, communityIDs []string, limit int) ([]SelfReport, error) {
	if len(communityIDs) == 0 {
		return nil, nil
	}
	ph, args := placeholders(communityIDs, 2)
	rows, err := s.query(ctx, `SELECT r.id, r.ref, r.name, r.id_mask, r.phone_mask, r.from_place, r.arrival_date, r.submissions, r.created_at,
		c.place, p.address, COALESCE(u.display_name, ''), COALESCE(l.status, '')
		FROM self_reports r JOIN report_codes c ON c.id = r.code_id JOIN places p ON p.id = r.room_id
		LEFT JOIN leads l ON l.id = r.lead_id LEFT JOIN users u ON u.id = l.assignee_id
		WHERE r.community_id IN (`+ph+`) ORDER BY r.created_at DESC LIMIT $1`, append([]any{limit}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SelfReport
	for rows.Next() {
		var r SelfReport
		var at int64
		if err := rows.Scan(&r.ID, &r.Ref, &r.Name, &r.IDMask, &r.PhoneMask, &r.FromPlace, &r.ArrivalDate, &r.Submissions, &at,
			&r.Place, &r.Address, &r.Assignee, &r.LeadStatus); err != nil {
			return nil, err
		}
		r.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// LeadBatch is a set of leads that arrived together.
type LeadBatch struct {
	ID, NodeID, Name, Source, Deadline, Layout, CreatedBy string
	CreatedAt                                             time.Time
}

// SelfReportBatch finds or makes the standing batch that holds a
// community's self-reports.
func (tx *Tx) SelfReportBatch(ctx context.Context, communityID, name string) (string, error) {
	var id string
	err := tx.queryRow(ctx, `SELECT id FROM lead_batches WHERE node_id = $1 AND source = 'selfreport'`, communityID).Scan(&id)
	if err == nil || err != sql.ErrNoRows {
		return id, tx.s.classify(err)
	}
	id = orNew("")
	_, err = tx.exec(ctx, `INSERT INTO lead_batches (id, node_id, name, source, deadline, created_at) VALUES ($1, $2, $3, 'selfreport', '', $4)`,
		id, communityID, name, ms(tx.Now()))
	return id, err
}

// Lead is someone to verify.
type Lead struct {
	ID, BatchID                   string
	RowNo                         int
	Name                          string
	IDEnc                         []byte
	IDBidx, IDMask                string
	PhoneEnc                      []byte
	PhoneBidx, PhoneMask          string
	Address, Reason, Deadline     string
	NodeID, PersonID, RoomID      string
	MatchKind                     string
	Confidence                    int
	AssigneeID, Status            string
	Outcome, OutcomeNote, Measure string
	VerifiedAt                    time.Time
	CreatedAt, UpdatedAt          time.Time
}

// CreateLead stores a lead.
func (tx *Tx) CreateLead(ctx context.Context, l *Lead) error {
	l.ID = orNew(l.ID)
	now := ms(tx.Now())
	_, err := tx.exec(ctx, `INSERT INTO leads (id, batch_id, row_no, name, id_enc, id_bidx, id_mask, phone_enc, phone_bidx, phone_mask, address, reason,
		deadline, node_id, person_id, room_id, match_kind, confidence, assignee_id, status, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21)`,
		l.ID, l.BatchID, l.RowNo, l.Name, l.IDEnc, nullStr(l.IDBidx), l.IDMask, l.PhoneEnc, nullStr(l.PhoneBidx), l.PhoneMask, l.Address, l.Reason,
		l.Deadline, l.NodeID, nullStr(l.PersonID), nullStr(l.RoomID), l.MatchKind, l.Confidence, nullStr(l.AssigneeID), l.Status, now)
	return err
}

// LeadEvent records a step in a lead's life.
func (tx *Tx) LeadEvent(ctx context.Context, leadID, actorID, actorName, action, detail string) error {
	_, err := tx.exec(ctx, `INSERT INTO lead_events (id, lead_id, at, actor_id, actor_name, action, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		orNew(""), leadID, ms(tx.Now()), nullStr(actorID), actorName, action, detail)
	return err
}

// RoomGrid is a room's community, grid and address.
func (s *Store) RoomGrid(ctx context.Context, roomID string) (communityID, gridID, address string, err error) {
	err = s.queryRow(ctx, `SELECT community_id, COALESCE(grid_id, ''), address FROM places WHERE id = $1 AND kind = 'room'`, roomID).
		Scan(&communityID, &gridID, &address)
	return communityID, gridID, address, s.classify(err)
}

// ReportRooms lists a community's buildings (and houses) or the rooms and
// units under one, for the public form's room picker: ids and names only.
func (s *Store) ReportRooms(ctx context.Context, communityID, parentID string) ([]Place, error) {
	if parentID == "" {
		return s.placeList(ctx, `SELECT `+placeCols+` FROM places p WHERE p.community_id = $1 AND p.kind IN ('building','house') ORDER BY p.seq, p.name`, communityID)
	}
	return s.placeList(ctx, `SELECT `+placeCols+` FROM places p WHERE p.community_id = $1 AND p.parent_id = $2 AND p.kind IN ('unit','room')
		ORDER BY p.kind DESC, p.floor, p.seq, p.name`, communityID, parentID)
}
