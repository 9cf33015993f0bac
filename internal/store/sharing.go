package store

import (
	"context"
	"database/sql"
	"strings"

	"shequ/internal/ids"
)

// ShareColumn is one field of a shared dataset as SQL: Expr is what any
// partner may be served (a masked copy for protected values), Plain the
// ciphertext column served decrypted only under an agreement that says so.
type ShareColumn struct {
	Name, Expr, Plain string
}

// ShareSpec is a dataset the open API serves: its rows, the columns that
// name the record, place it in the tree and order it, and its fields.
// internal/sharing's dictionary describes the same fields (a test keeps
// the two equal).
type ShareSpec struct {
	From    string // FROM … WHERE …; $1 is today's date
	ID      string // the record id (the page order)
	Path    string // the org-node path the scope is checked against
	Updated string // Unix ms of the last change, for updated_since
	Columns []ShareColumn
}

// home is each person's current room (one of them, if several).
const home = `(SELECT m.person_id, min(h.room_id) AS room_id FROM household_members m JOIN households h ON h.id = m.household_id
	WHERE h.ended_at IS NULL AND (m.until IS NULL OR m.until >= $1) GROUP BY m.person_id)`

// ShareSpecs are the datasets, by name.
var ShareSpecs = map[string]ShareSpec{
	"persons": {
		From: `FROM persons pe JOIN ` + home + ` hm ON hm.person_id = pe.id JOIN places r ON r.id = hm.room_id
			JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id) JOIN org_nodes c ON c.id = r.community_id
			LEFT JOIN org_nodes g ON g.id = r.grid_id
			LEFT JOIN household_members mm ON mm.person_id = pe.id AND mm.household_id = (SELECT min(h2.id) FROM households h2 JOIN household_members m2 ON m2.household_id = h2.id WHERE h2.room_id = r.id AND h2.ended_at IS NULL AND m2.person_id = pe.id)
			WHERE pe.merged_into IS NULL`,
		ID: "pe.id", Path: "n.path", Updated: "pe.updated_at",
		Columns: []ShareColumn{{"id", "pe.id", ""}, {"name", "pe.name", ""}, {"sex", "pe.sex", ""}, {"birth_date", "COALESCE(pe.birth_date, '')", ""},
			{"id_type", "pe.id_type", ""}, {"id_number", "pe.id_mask", "pe.id_enc"}, {"phone", "pe.phone_mask", "pe.phone_enc"},
			{"ethnicity", "pe.ethnicity", ""}, {"residency", "pe.residency", ""}, {"tags", "pe.tags", ""},
			{"room_id", "r.id", ""}, {"address", "r.address", ""}, {"relation", "COALESCE(mm.relation, '')", ""},
			{"community_code", "c.code", ""}, {"grid_code", "COALESCE(g.code, '')", ""}, {"updated_at", "pe.updated_at", ""}},
	},
	"households": {
		From: `FROM households h JOIN places r ON r.id = h.room_id JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id)
			JOIN org_nodes c ON c.id = r.community_id LEFT JOIN org_nodes g ON g.id = r.grid_id WHERE h.ended_at IS NULL AND $1 <> ''`,
		ID: "h.id", Path: "n.path", Updated: "h.updated_at",
		Columns: []ShareColumn{{"id", "h.id", ""}, {"room_id", "h.room_id", ""}, {"kind", "h.kind", ""}, {"head_person_id", "COALESCE(h.head_id, '')", ""},
			{"members", "(SELECT count(*) FROM household_members m WHERE m.household_id = h.id AND (m.until IS NULL OR m.until >= $1))", ""},
			{"address", "r.address", ""}, {"community_code", "c.code", ""}, {"grid_code", "COALESCE(g.code, '')", ""}, {"updated_at", "h.updated_at", ""}},
	},
	"places": {
		From: `FROM places r JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id) JOIN org_nodes c ON c.id = r.community_id
			LEFT JOIN org_nodes g ON g.id = r.grid_id WHERE $1 <> ''`,
		ID: "r.id", Path: "n.path", Updated: "r.updated_at",
		Columns: []ShareColumn{{"id", "r.id", ""}, {"parent_id", "COALESCE(r.parent_id, '')", ""}, {"kind", "r.kind", ""}, {"name", "r.name", ""},
			{"address", "r.address", ""}, {"room_use", "COALESCE(r.room_use, '')", ""}, {"community_code", "c.code", ""},
			{"grid_code", "COALESCE(g.code, '')", ""}, {"updated_at", "r.updated_at", ""}},
	},
	"health_tests": {
		From: `FROM health_tests t JOIN ` + home + ` hm ON hm.person_id = t.person_id JOIN places r ON r.id = hm.room_id
			JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id) JOIN org_nodes c ON c.id = r.community_id WHERE 1 = 1`,
		ID: "t.id", Path: "n.path", Updated: "t.created_at",
		Columns: []ShareColumn{{"id", "t.id", ""}, {"person_id", "t.person_id", ""}, {"kind", "t.kind", ""}, {"sampled_at", "t.sampled_at", ""},
			{"result", "t.result", ""}, {"result_at", "COALESCE(t.result_at, 0)", ""}, {"institution", "t.institution", ""},
			{"source", "t.source", ""}, {"community_code", "c.code", ""}, {"updated_at", "t.created_at", ""}},
	},
	"vaccinations": {
		From: `FROM vaccinations v JOIN ` + home + ` hm ON hm.person_id = v.person_id JOIN places r ON r.id = hm.room_id
			JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id) JOIN org_nodes c ON c.id = r.community_id WHERE 1 = 1`,
		ID: "v.id", Path: "n.path", Updated: "v.created_at",
		Columns: []ShareColumn{{"id", "v.id", ""}, {"person_id", "v.person_id", ""}, {"vaccine", "v.vaccine", ""}, {"dose", "v.dose", ""},
			{"given_on", "v.given_on", ""}, {"lot", "v.lot", ""}, {"source", "v.source", ""}, {"community_code", "c.code", ""}, {"updated_at", "v.created_at", ""}},
	},
	"leads": {
		From: `FROM leads l JOIN org_nodes n ON n.id = l.node_id LEFT JOIN places r ON r.id = l.room_id
			LEFT JOIN org_nodes c ON c.id = r.community_id WHERE $1 <> ''`,
		ID: "l.id", Path: "n.path", Updated: "l.updated_at",
		Columns: []ShareColumn{{"id", "l.id", ""}, {"batch_id", "l.batch_id", ""}, {"status", "l.status", ""}, {"deadline", "l.deadline", ""},
			{"match_kind", "l.match_kind", ""}, {"outcome", "l.outcome", ""}, {"measure", "l.measure", ""}, {"verified_at", "COALESCE(l.verified_at, 0)", ""},
			{"person_id", "COALESCE(l.person_id, '')", ""}, {"node_code", "n.code", ""}, {"updated_at", "l.updated_at", ""}},
	},
	"events": {
		From: `FROM events e JOIN org_nodes c ON c.id = e.community_id LEFT JOIN org_nodes g ON g.id = e.grid_id
			JOIN org_nodes n ON n.id = COALESCE(e.grid_id, e.community_id) JOIN event_categories k ON k.id = e.category_id WHERE $1 <> ''`,
		ID: "e.id", Path: "n.path", Updated: "e.updated_at",
		Columns: []ShareColumn{{"id", "e.id", ""}, {"ref", "e.ref", ""}, {"category", "k.code", ""}, {"title", "e.title", ""}, {"status", "e.status", ""},
			{"source", "e.source", ""}, {"created_at", "e.created_at", ""}, {"due_at", "COALESCE(e.due_at, 0)", ""}, {"resolved_at", "COALESCE(e.resolved_at, 0)", ""},
			{"closed_at", "COALESCE(e.closed_at, 0)", ""}, {"rating", "COALESCE(e.rating, 0)", ""}, {"community_code", "c.code", ""},
			{"grid_code", "COALESCE(g.code, '')", ""}, {"updated_at", "e.updated_at", ""}},
	},
}

// ShareQuery asks for one page of a dataset.
type ShareQuery struct {
	Dataset string
	Fields  []string // names of Columns to serve
	Plain   []string // of those, the ones served from Plain
	Scopes  []string // org paths: a row must be under one
	After   string   // the last id of the previous page
	Since   int64    // updated at or after (Unix ms), 0 for all
	ID      string   // one record only
	Limit   int
}

// ShareRows reads a page: each row's values in the order of Fields, plus
// its id. Plain fields come back as ciphertext for the caller to decrypt.
func (s *Store) ShareRows(ctx context.Context, q ShareQuery) ([][]any, error) {
	spec, ok := ShareSpecs[q.Dataset]
	if !ok || len(q.Scopes) == 0 {
		return nil, nil
	}
	args := []any{s.Today()}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	var cols []string
	for _, f := range q.Fields {
		for _, c := range spec.Columns {
			if c.Name != f {
				continue
			}
			expr := c.Expr
			for _, p := range q.Plain {
				if p == f && c.Plain != "" {
					expr = c.Plain
				}
			}
			cols = append(cols, expr)
		}
	}
	if len(cols) != len(q.Fields) {
		return nil, nil
	}
	var scope []string
	for _, sc := range q.Scopes {
		scope = append(scope, spec.Path+" LIKE "+arg(likePrefix(sc)))
	}
	where := " AND (" + strings.Join(scope, " OR ") + ")"
	if q.After != "" {
		where += " AND " + spec.ID + " > " + arg(q.After)
	}
	if q.ID != "" {
		where += " AND " + spec.ID + " = " + arg(q.ID)
	}
	if q.Since > 0 {
		where += " AND " + spec.Updated + " >= " + arg(q.Since)
	}
	limit := arg(max(q.Limit, 1))
	rows, err := s.query(ctx, `SELECT `+spec.ID+`, `+strings.Join(cols, ", ")+` `+spec.From+where+` ORDER BY `+spec.ID+` LIMIT `+limit, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals := make([]any, len(cols)+1)
		ptrs := make([]any, len(vals))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		out = append(out, vals)
	}
	return out, rows.Err()
}

// Agreement is what a partner may read.
type Agreement struct {
	ID, PartnerID, PartnerName, Department, Name, Purpose, NodeID, NodePath, NodeName string
	Grants                                                                            string // JSON
	RateLimit                                                                         int
	ExpiresOn                                                                         string
	RevokedAt, CreatedAt, UpdatedAt                                                   int64
}

const agreementCols = `a.id, a.partner_id, u.display_name, a.department, a.name, a.purpose, a.node_id, n.path, n.name, a.grants, a.rate_limit, a.expires_on,
	COALESCE(a.revoked_at, 0), a.created_at, a.updated_at`

func (s *Store) agreementList(ctx context.Context, q string, args ...any) ([]Agreement, error) {
	var out []Agreement
	err := s.each(ctx, func(sc scanner) error {
		var a Agreement
		if err := sc.Scan(&a.ID, &a.PartnerID, &a.PartnerName, &a.Department, &a.Name, &a.Purpose, &a.NodeID, &a.NodePath, &a.NodeName, &a.Grants,
			&a.RateLimit, &a.ExpiresOn, &a.RevokedAt, &a.CreatedAt, &a.UpdatedAt); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	}, `SELECT `+agreementCols+` FROM agreements a JOIN users u ON u.id = a.partner_id JOIN org_nodes n ON n.id = a.node_id `+q, args...)
	return out, err
}

// Agreements lists the agreements whose node is under one of the scopes.
func (s *Store) Agreements(ctx context.Context, scopes []string) ([]Agreement, error) {
	var out []Agreement
	for _, sc := range scopes {
		as, err := s.agreementList(ctx, `WHERE n.path LIKE $1 ORDER BY a.created_at DESC`, likePrefix(sc))
		if err != nil {
			return nil, err
		}
		out = append(out, as...)
	}
	return out, nil
}

// PartnerAgreements lists a partner's agreements, newest first.
func (s *Store) PartnerAgreements(ctx context.Context, partnerID string) ([]Agreement, error) {
	return s.agreementList(ctx, `WHERE a.partner_id = $1 ORDER BY a.created_at DESC, a.id DESC`, partnerID)
}

// Agreement loads one.
func (s *Store) Agreement(ctx context.Context, id string) (Agreement, error) {
	as, err := s.agreementList(ctx, `WHERE a.id = $1`, id)
	if err != nil {
		return Agreement{}, err
	}
	if len(as) == 0 {
		return Agreement{}, s.classify(sql.ErrNoRows)
	}
	return as[0], nil
}

// SaveAgreement creates or changes an agreement.
func (tx *Tx) SaveAgreement(ctx context.Context, a *Agreement, by string) error {
	now := tx.Now().UnixMilli()
	if a.ID == "" {
		a.ID, a.CreatedAt = ids.New(), now
		_, err := tx.exec(ctx, `INSERT INTO agreements (id, partner_id, department, name, purpose, node_id, grants, rate_limit, expires_on, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`, a.ID, a.PartnerID, a.Department, a.Name, a.Purpose, a.NodeID, a.Grants,
			a.RateLimit, a.ExpiresOn, nullStr(by), now)
		return err
	}
	_, err := tx.exec(ctx, `UPDATE agreements SET name = $1, purpose = $2, grants = $3, rate_limit = $4, expires_on = $5, updated_at = $6 WHERE id = $7`,
		a.Name, a.Purpose, a.Grants, a.RateLimit, a.ExpiresOn, now, a.ID)
	return err
}

// RevokeAgreement ends an agreement now.
func (tx *Tx) RevokeAgreement(ctx context.Context, id string) error {
	_, err := tx.exec(ctx, `UPDATE agreements SET revoked_at = $1, updated_at = $1 WHERE id = $2 AND revoked_at IS NULL`, tx.Now().UnixMilli(), id)
	return err
}

// LogAccess records the records served to a partner under an agreement.
func (tx *Tx) LogAccess(ctx context.Context, agreementID, dataset, request string, recordIDs []string) error {
	now := tx.Now().UnixMilli()
	for _, id := range recordIDs {
		if _, err := tx.exec(ctx, `INSERT INTO agreement_access (id, agreement_id, at, dataset, record_id, request) VALUES ($1, $2, $3, $4, $5, $6)`,
			ids.New(), agreementID, now, dataset, id, request); err != nil {
			return err
		}
	}
	return nil
}

// AccessEntry is one record served.
type AccessEntry struct {
	At                         int64
	Dataset, RecordID, Request string
}

// AccessLog lists what an agreement served, newest first.
func (s *Store) AccessLog(ctx context.Context, agreementID, dataset string, limit int) ([]AccessEntry, int, error) {
	var total int
	if err := s.queryRow(ctx, `SELECT count(*) FROM agreement_access WHERE agreement_id = $1 AND ($2 = '' OR dataset = $2)`, agreementID, dataset).Scan(&total); err != nil {
		return nil, 0, s.classify(err)
	}
	var out []AccessEntry
	err := s.each(ctx, func(sc scanner) error {
		var e AccessEntry
		if err := sc.Scan(&e.At, &e.Dataset, &e.RecordID, &e.Request); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	}, `SELECT at, dataset, record_id, request FROM agreement_access WHERE agreement_id = $1 AND ($2 = '' OR dataset = $2) ORDER BY at DESC, id DESC LIMIT $3`,
		agreementID, dataset, limit)
	return out, total, err
}

// Idempotent is a stored answer to a write.
type Idempotent struct {
	Request string
	Status  int
	Body    string
}

// IdempotentAnswer finds the answer stored under a client's key.
func (s *Store) IdempotentAnswer(ctx context.Context, userID, key string) (Idempotent, bool, error) {
	var a Idempotent
	err := s.queryRow(ctx, `SELECT request, status, body FROM idempotency WHERE user_id = $1 AND key = $2`, userID, key).Scan(&a.Request, &a.Status, &a.Body)
	if err == sql.ErrNoRows {
		return a, false, nil
	}
	return a, err == nil, s.classify(err)
}

// SaveIdempotent stores the answer to a write under the client's key, in
// the write's own transaction.
func (tx *Tx) SaveIdempotent(ctx context.Context, userID, key string, a Idempotent) error {
	_, err := tx.exec(ctx, `INSERT INTO idempotency (user_id, key, request, status, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		userID, key, a.Request, a.Status, a.Body, tx.Now().UnixMilli())
	return err
}

// SaveUpstream stores the figures a community instance reported.
func (tx *Tx) SaveUpstream(ctx context.Context, code, name, partnerID, figures string) error {
	if _, err := tx.exec(ctx, `DELETE FROM upstream_reports WHERE community_code = $1`, code); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `INSERT INTO upstream_reports (community_code, name, reported_at, partner_id, figures) VALUES ($1, $2, $3, $4, $5)`,
		code, name, tx.Now().UnixMilli(), partnerID, figures)
	return err
}

// Upstream is a community's last report from another instance.
type Upstream struct {
	Code, Name, Figures string
	ReportedAt          int64
}

// UpstreamReports lists the reports received, by code.
func (s *Store) UpstreamReports(ctx context.Context) ([]Upstream, error) {
	var out []Upstream
	err := s.each(ctx, func(sc scanner) error {
		var u Upstream
		if err := sc.Scan(&u.Code, &u.Name, &u.Figures, &u.ReportedAt); err != nil {
			return err
		}
		out = append(out, u)
		return nil
	}, `SELECT community_code, name, figures, reported_at FROM upstream_reports ORDER BY community_code`)
	return out, err
}

// Figures are a community's headline numbers: what the open API's
// aggregates dataset, the street's side-by-side view and the report to an
// upper instance carry. Field names follow the dictionary.
type Figures struct {
	CommunityID   string `json:"-"`
	CommunityCode string `json:"community_code"`
	CommunityName string `json:"community_name"`
	Path          string `json:"-"`
	Population    int    `json:"population"`
	Registered    int    `json:"registered"`
	Floating      int    `json:"floating"`
	Households    int    `json:"households"`
	RoomsSurveyed int    `json:"rooms_surveyed"`
	Rooms         int    `json:"rooms"`
	LeadsOpen     int    `json:"leads_open"`
	EventsOpen    int    `json:"events_open"`
	AlarmsOpen    int    `json:"alarms_open"`
}

// CommunityFigures counts the headline numbers of every community under
// one of the scopes (a community inside a scope, or the scope's own).
func (s *Store) CommunityFigures(ctx context.Context, scopes []string) ([]Figures, error) {
	comms, err := s.NodesAt(ctx, scopes, LevelCommunity)
	if err != nil {
		return nil, err
	}
	today := s.Today()
	var out []Figures
	for _, c := range comms {
		f := Figures{CommunityID: c.ID, CommunityCode: c.Code, CommunityName: c.Name, Path: c.Path}
		err := s.queryRow(ctx, `SELECT count(DISTINCT pe.id), count(DISTINCT CASE WHEN pe.residency = 'registered' THEN pe.id END),
			count(DISTINCT CASE WHEN pe.residency = 'floating' THEN pe.id END), count(DISTINCT h.id)
			FROM places r JOIN households h ON h.room_id = r.id AND h.ended_at IS NULL
			JOIN household_members m ON m.household_id = h.id AND (m.until IS NULL OR m.until >= $2)
			JOIN persons pe ON pe.id = m.person_id AND pe.merged_into IS NULL WHERE r.community_id = $1`, c.ID, today).
			Scan(&f.Population, &f.Registered, &f.Floating, &f.Households)
		if err != nil {
			return nil, s.classify(err)
		}
		err = s.queryRow(ctx, `SELECT count(*), count(CASE WHEN survey = 'surveyed' THEN 1 END) FROM places WHERE community_id = $1 AND kind = 'room'`, c.ID).
			Scan(&f.Rooms, &f.RoomsSurveyed)
		if err != nil {
			return nil, s.classify(err)
		}
		err = s.queryRow(ctx, `SELECT
			(SELECT count(*) FROM leads l JOIN org_nodes n ON n.id = l.node_id WHERE n.path LIKE $1 AND l.status <> 'verified'),
			(SELECT count(*) FROM events e WHERE e.community_id = $2 AND e.status NOT IN ('rejected','closed','evaluated')),
			(SELECT count(*) FROM alarms a JOIN gates g ON g.id = a.gate_id WHERE g.community_id = $2 AND a.status <> 'handled')`,
			likePrefix(c.Path), c.ID).Scan(&f.LeadsOpen, &f.EventsOpen, &f.AlarmsOpen)
		if err != nil {
			return nil, s.classify(err)
		}
		out = append(out, f)
	}
	return out, nil
}
