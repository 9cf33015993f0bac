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
	KeyID                                                 string
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
	IDHMAC                        string // keyed identifier sent instead of the number
	Address, Reason, Deadline     string
	NodeID, PersonID, RoomID      string
	MatchKind                     string
	Confidence                    int
	AssigneeID, Status            string
	Outcome, OutcomeNote, Measure string
	CellsEnc                      []byte // the sender's row (JSON list), encrypted
	VerifiedAt                    time.Time
	CreatedAt, UpdatedAt          time.Time
}

// CreateLead stores a lead.
func (tx *Tx) CreateLead(ctx context.Context, l *Lead) error {
	l.ID = orNew(l.ID)
	now := ms(tx.Now())
	_, err := tx.exec(ctx, `INSERT INTO leads (id, batch_id, row_no, name, id_enc, id_bidx, id_mask, phone_enc, phone_bidx, phone_mask, address, reason,
		deadline, node_id, person_id, room_id, match_kind, confidence, assignee_id, status, cells_enc, id_hmac, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $23)`,
		l.ID, l.BatchID, l.RowNo, l.Name, l.IDEnc, nullStr(l.IDBidx), l.IDMask, l.PhoneEnc, nullStr(l.PhoneBidx), l.PhoneMask, l.Address, l.Reason,
		l.Deadline, l.NodeID, nullStr(l.PersonID), nullStr(l.RoomID), l.MatchKind, l.Confidence, nullStr(l.AssigneeID), l.Status, l.CellsEnc, l.IDHMAC, now)
	return err
}

// LeadEvent records a step in a lead's life.
func (tx *Tx) LeadEvent(ctx context.Context, leadID, actorID, actorName, action, detail string) error {
	_, err := tx.exec(ctx, `INSERT INTO lead_events (id, lead_id, at, actor_id, actor_name, action, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		orNew(""), leadID, ms(tx.Now()), nullStr(actorID), actorName, action, detail)
	return err
}

// ClaimReminder records that a lead was reminded of on day (its
// "reminded" event), unless it already was that day; false then. The lead's
// row is locked first, so of two instances reminding at once the second
// waits, then finds the first one's event and sends nothing.
func (tx *Tx) ClaimReminder(ctx context.Context, leadID, actorID, actorName, day string) (bool, error) {
	if _, err := tx.exec(ctx, `UPDATE leads SET status = status WHERE id = $1`, leadID); err != nil {
		return false, err
	}
	var n int
	if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM lead_events WHERE lead_id = $1 AND action = 'reminded' AND detail = $2`, leadID, day).Scan(&n); err != nil {
		return false, tx.s.classify(err)
	}
	if n > 0 {
		return false, nil
	}
	return true, tx.LeadEvent(ctx, leadID, actorID, actorName, "reminded", day)
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

// chunked calls fn with the ids 500 at a time.
func chunked(ids []string, fn func(part []string) error) error {
	for len(ids) > 0 {
		part := ids[:min(len(ids), 500)]
		ids = ids[len(part):]
		if err := fn(part); err != nil {
			return err
		}
	}
	return nil
}

// PersonsByBidxes maps blind indexes of identity numbers (column
// "id_bidx") or phones ("phone_bidx") to the people who have them.
func (s *Store) PersonsByBidxes(ctx context.Context, column string, bidxs []string) (map[string][]string, error) {
	if column != "id_bidx" && column != "phone_bidx" {
		return nil, errs.E(errs.Internal, "err.internal")
	}
	out := map[string][]string{}
	err := chunked(bidxs, func(part []string) error {
		ph, args := placeholders(part, 1)
		rows, err := s.query(ctx, `SELECT `+column+`, id FROM persons WHERE merged_into IS NULL AND `+column+` IN (`+ph+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var b, id string
			if err := rows.Scan(&b, &id); err != nil {
				return err
			}
			out[b] = append(out[b], id)
		}
		return rows.Err()
	})
	return out, err
}

// PersonHint is what fuzzy matching compares: the masked forms only.
type PersonHint struct {
	ID, Name, IDMask, PhoneMask string
}

// PersonsNamed lists the people with any of the names.
func (s *Store) PersonsNamed(ctx context.Context, names []string) ([]PersonHint, error) {
	var out []PersonHint
	err := chunked(names, func(part []string) error {
		ph, args := placeholders(part, 1)
		rows, err := s.query(ctx, `SELECT id, name, id_mask, phone_mask FROM persons WHERE merged_into IS NULL AND name IN (`+ph+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h PersonHint
			if err := rows.Scan(&h.ID, &h.Name, &h.IDMask, &h.PhoneMask); err != nil {
				return err
			}
			out = append(out, h)
		}
		return rows.Err()
	})
	return out, err
}

// Home is where a person lives now.
type Home struct {
	RoomID, GridID, CommunityID, Address, Path string // Path: the grid's (else the community's) tree path
}

// CurrentHomes finds where people live now (their family household first).
func (s *Store) CurrentHomes(ctx context.Context, personIDs []string) (map[string]Home, error) {
	out := map[string]Home{}
	err := chunked(personIDs, func(part []string) error {
		ph, args := placeholders(part, 2)
		rows, err := s.query(ctx, `SELECT m.person_id, r.id, COALESCE(r.grid_id, ''), r.community_id, r.address, n.path
			FROM household_members m JOIN households h ON h.id = m.household_id AND h.ended_at IS NULL
			JOIN places r ON r.id = h.room_id JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id)
			WHERE (m.until IS NULL OR m.until >= $1) AND m.person_id IN (`+ph+`)
			ORDER BY CASE h.kind WHEN 'family' THEN 1 ELSE 0 END`, append([]any{s.Today()}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			var h Home
			if err := rows.Scan(&p, &h.RoomID, &h.GridID, &h.CommunityID, &h.Address, &h.Path); err != nil {
				return err
			}
			out[p] = h // family households come last and win
		}
		return rows.Err()
	})
	return out, err
}

// CreateBatch stores a batch.
func (tx *Tx) CreateBatch(ctx context.Context, b *LeadBatch) error {
	b.ID = orNew(b.ID)
	_, err := tx.exec(ctx, `INSERT INTO lead_batches (id, node_id, name, source, deadline, layout, key_id, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, b.ID, b.NodeID, b.Name, b.Source, b.Deadline, b.Layout, nullStr(b.KeyID), nullStr(b.CreatedBy), ms(tx.Now()))
	return err
}

// Batch loads a batch with the path of the node it arrived at.
func (s *Store) Batch(ctx context.Context, id string) (LeadBatch, string, error) {
	var b LeadBatch
	var path string
	var at int64
	err := s.queryRow(ctx, `SELECT b.id, b.node_id, b.name, b.source, b.deadline, b.layout, COALESCE(b.created_by, ''), b.created_at, n.path
		FROM lead_batches b JOIN org_nodes n ON n.id = b.node_id WHERE b.id = $1`, id).
		Scan(&b.ID, &b.NodeID, &b.Name, &b.Source, &b.Deadline, &b.Layout, &b.CreatedBy, &at, &path)
	b.CreatedAt = time.UnixMilli(at).UTC()
	return b, path, s.classify(err)
}

// Batches lists the batches that have leads at or below the paths, newest
// first.
func (s *Store) Batches(ctx context.Context, scopes []string) ([]LeadBatch, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	var cond []string
	var args []any
	for _, sc := range scopes {
		args = append(args, likePrefix(sc))
		cond = append(cond, "n.path LIKE $"+itoa(len(args)))
	}
	rows, err := s.query(ctx, `SELECT b.id, b.node_id, b.name, b.source, b.deadline, b.layout, COALESCE(b.created_by, ''), b.created_at FROM lead_batches b
		WHERE EXISTS (SELECT 1 FROM leads l JOIN org_nodes n ON n.id = l.node_id WHERE l.batch_id = b.id AND (`+joinOr(cond)+`))
		ORDER BY b.created_at DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LeadBatch
	for rows.Next() {
		var b LeadBatch
		var at int64
		if err := rows.Scan(&b.ID, &b.NodeID, &b.Name, &b.Source, &b.Deadline, &b.Layout, &b.CreatedBy, &at); err != nil {
			return nil, err
		}
		b.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

func joinOr(cond []string) string {
	out := ""
	for i, c := range cond {
		if i > 0 {
			out += " OR "
		}
		out += c
	}
	return out
}

// LeadCount is how many leads of a batch sit at one node, by state.
type LeadCount struct {
	Path                                                string
	Total, Matched, Assigned, Verified, Overdue, Remain int
}

// BatchCounts counts a batch's leads per node at or below a path.
func (s *Store) BatchCounts(ctx context.Context, batchID, path, today string) ([]LeadCount, error) {
	rows, err := s.query(ctx, `SELECT n.path, count(*), count(l.person_id), count(l.assignee_id),
		sum(CASE WHEN l.status = 'verified' THEN 1 ELSE 0 END),
		sum(CASE WHEN l.status <> 'verified' AND l.deadline < $3 THEN 1 ELSE 0 END)
		FROM leads l JOIN org_nodes n ON n.id = l.node_id WHERE l.batch_id = $1 AND n.path LIKE $2 GROUP BY n.path`, batchID, likePrefix(path), today)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []LeadCount
	for rows.Next() {
		var c LeadCount
		if err := rows.Scan(&c.Path, &c.Total, &c.Matched, &c.Assigned, &c.Verified, &c.Overdue); err != nil {
			return nil, err
		}
		c.Remain = c.Total - c.Verified
		out = append(out, c)
	}
	return out, rows.Err()
}

const leadCols = `l.id, l.batch_id, l.row_no, l.name, l.id_mask, l.phone_mask, l.address, l.reason, l.deadline, l.node_id, COALESCE(l.person_id, ''),
	COALESCE(l.room_id, ''), l.match_kind, l.confidence, COALESCE(l.assignee_id, ''), l.status, l.outcome, l.outcome_note, l.measure, l.cells_enc,
	l.verified_at, l.created_at, l.updated_at`

func scanLead(sc interface{ Scan(...any) error }, extra ...any) (Lead, error) {
	var l Lead
	var va sql.NullInt64
	var created, updated int64
	err := sc.Scan(append([]any{&l.ID, &l.BatchID, &l.RowNo, &l.Name, &l.IDMask, &l.PhoneMask, &l.Address, &l.Reason, &l.Deadline, &l.NodeID, &l.PersonID,
		&l.RoomID, &l.MatchKind, &l.Confidence, &l.AssigneeID, &l.Status, &l.Outcome, &l.OutcomeNote, &l.Measure, &l.CellsEnc, &va, &created, &updated}, extra...)...)
	l.VerifiedAt, l.CreatedAt, l.UpdatedAt = fromMS(va), time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return l, err
}

// Lead loads a lead with the tree path of the node holding it.
func (s *Store) Lead(ctx context.Context, id string) (Lead, string, error) {
	var path string
	l, err := scanLead(s.queryRow(ctx, `SELECT `+leadCols+`, n.path FROM leads l JOIN org_nodes n ON n.id = l.node_id WHERE l.id = $1`, id), &path)
	return l, path, s.classify(err)
}

func (s *Store) leadList(ctx context.Context, q string, args ...any) ([]Lead, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Lead
	for rows.Next() {
		l, err := scanLead(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// AssignedLeads lists the unverified leads of a worker, the earliest
// deadline first.
func (s *Store) AssignedLeads(ctx context.Context, userID string, limit int) ([]Lead, error) {
	return s.leadList(ctx, `SELECT `+leadCols+` FROM leads l WHERE l.assignee_id = $1 AND l.status = 'assigned' ORDER BY l.deadline, l.created_at LIMIT $2`, userID, limit)
}

// LeadsAt lists a batch's unverified leads held at a node itself (not
// below it): those to search by hand or to transfer.
func (s *Store) LeadsAt(ctx context.Context, batchID, nodeID string, limit int) ([]Lead, error) {
	return s.leadList(ctx, `SELECT `+leadCols+` FROM leads l WHERE l.batch_id = $1 AND l.node_id = $2 AND l.status <> 'verified' ORDER BY l.row_no LIMIT $3`,
		batchID, nodeID, limit)
}

// BatchLeads lists the leads of a batch held at or below a path, in file
// order.
func (s *Store) BatchLeads(ctx context.Context, batchID, path string) ([]Lead, error) {
	return s.leadList(ctx, `SELECT `+leadCols+` FROM leads l JOIN org_nodes n ON n.id = l.node_id WHERE l.batch_id = $1 AND n.path LIKE $2
		ORDER BY l.row_no, l.created_at`, batchID, likePrefix(path))
}

// RouteLead puts a lead at a node with a person, room and assignee (any
// may be "": an open lead waiting at the node).
func (tx *Tx) RouteLead(ctx context.Context, id, nodeID, personID, roomID, assigneeID, matchKind string, confidence int) error {
	status := "open"
	if assigneeID != "" {
		status = "assigned"
	}
	_, err := tx.exec(ctx, `UPDATE leads SET node_id = $1, person_id = $2, room_id = $3, assignee_id = $4, status = $5, match_kind = $6, confidence = $7,
		updated_at = $8 WHERE id = $9 AND status <> 'verified'`, nodeID, nullStr(personID), nullStr(roomID), nullStr(assigneeID), status, matchKind, confidence,
		ms(tx.Now()), id)
	return err
}

// VerifyLead records a lead's verification.
func (tx *Tx) VerifyLead(ctx context.Context, id, outcome, note, measure string, proofEnc []byte, by string) error {
	r, err := tx.exec(ctx, `UPDATE leads SET status = 'verified', outcome = $1, outcome_note = $2, measure = $3, proof_enc = $4, verified_at = $5, verified_by = $6,
		updated_at = $5 WHERE id = $7 AND status <> 'verified'`, outcome, note, measure, proofEnc, ms(tx.Now()), by, id)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errs.E(errs.Conflict, "err.lead.verified")
	}
	return nil
}

// LeadEvents lists a lead's history, oldest first.
func (s *Store) LeadEvents(ctx context.Context, leadID string) ([]Change, error) {
	rows, err := s.query(ctx, `SELECT at, COALESCE(actor_name, ''), action, detail FROM lead_events WHERE lead_id = $1 ORDER BY at, id`, leadID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var c Change
		var at int64
		if err := rows.Scan(&at, &c.ActorName, &c.Action, &c.Reason); err != nil {
			return nil, err
		}
		c.At = time.UnixMilli(at).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// SelfReportOfLead finds the report a lead came from, if any.
func (s *Store) SelfReportOfLead(ctx context.Context, leadID string) (SelfReport, error) {
	var r SelfReport
	err := s.queryRow(ctx, `SELECT id, from_place, arrival_date, transport FROM self_reports WHERE lead_id = $1`, leadID).Scan(&r.ID, &r.FromPlace, &r.ArrivalDate, &r.Transport)
	return r, s.classify(err)
}

// LeadKey is the key of a sharing agreement for keyed identifiers.
type LeadKey struct {
	ID, NodeID, Name string
	KeyEnc           []byte
	CreatedAt        time.Time
}

// CreateLeadKey stores an agreement's key (encrypted by the caller).
func (tx *Tx) CreateLeadKey(ctx context.Context, k *LeadKey, actorID string) error {
	k.ID = orNew(k.ID)
	_, err := tx.exec(ctx, `INSERT INTO lead_keys (id, node_id, name, key_enc, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.NodeID, k.Name, k.KeyEnc, nullStr(actorID), ms(tx.Now()))
	return err
}

// LeadKey loads an agreement's key with its node's path.
func (s *Store) LeadKey(ctx context.Context, id string) (LeadKey, string, error) {
	var k LeadKey
	var path string
	var at int64
	err := s.queryRow(ctx, `SELECT k.id, k.node_id, k.name, k.key_enc, k.created_at, n.path FROM lead_keys k JOIN org_nodes n ON n.id = k.node_id WHERE k.id = $1`, id).
		Scan(&k.ID, &k.NodeID, &k.Name, &k.KeyEnc, &at, &path)
	k.CreatedAt = time.UnixMilli(at).UTC()
	return k, path, s.classify(err)
}

// LivingIDs lists the encrypted identity numbers of the people living now
// at or below a path (for keyed identifiers, which need the numbers).
func (s *Store) LivingIDs(ctx context.Context, path string) (map[string][]byte, error) {
	rows, err := s.query(ctx, `SELECT DISTINCT p.id, p.id_enc FROM persons p JOIN household_members m ON m.person_id = p.id AND (m.until IS NULL OR m.until >= $2)
		JOIN households h ON h.id = m.household_id AND h.ended_at IS NULL JOIN places r ON r.id = h.room_id
		JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id)
		WHERE n.path LIKE $1 AND p.id_enc IS NOT NULL AND p.id_type = 'resident_id'`, likePrefix(path), s.Today())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var id string
		var enc []byte
		if err := rows.Scan(&id, &enc); err != nil {
			return nil, err
		}
		out[id] = enc
	}
	return out, rows.Err()
}

// OverdueLeads lists the assigned, unverified leads past their deadline
// at or below a path (of one batch, or of all when batchID is ""), not
// yet reminded on day today.
func (s *Store) OverdueLeads(ctx context.Context, batchID, path, today string) ([]Lead, error) {
	return s.leadList(ctx, `SELECT `+leadCols+` FROM leads l JOIN org_nodes n ON n.id = l.node_id
		WHERE l.status = 'assigned' AND l.deadline < $1 AND n.path LIKE $2 AND ($3 = '' OR l.batch_id = $3)
		AND NOT EXISTS (SELECT 1 FROM lead_events e WHERE e.lead_id = l.id AND e.action = 'reminded' AND e.detail = $1)
		ORDER BY l.assignee_id, l.deadline`, today, likePrefix(path), batchID)
}
