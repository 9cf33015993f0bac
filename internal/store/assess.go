package store

import (
	"context"
	"database/sql"

	"shequ/internal/ids"
)

// GridCover is one stretch of a user covering a grid, as a worker or its
// leader; Until is zero while it lasts.
type GridCover struct {
	ID, GridID, GridName, UserID, UserName, Role string
	From, Until                                  int64 // Unix ms
}

// syncCoverage brings a user's open coverage in line with what they hold
// now: a grid-worker assignment at a grid, a grid's leadership, an account
// that is not disabled. It runs inside every write that changes one of
// these, so the history cannot miss a change.
func (tx *Tx) syncCoverage(ctx context.Context, userID string) error {
	want := map[[2]string]bool{}
	rows, err := tx.tx.QueryContext(ctx, `SELECT a.node_id, 'worker' FROM role_assignments a JOIN org_nodes n ON n.id = a.node_id JOIN users u ON u.id = a.user_id
		WHERE a.user_id = $1 AND a.role = 'grid' AND n.level = 'grid' AND u.disabled = 0
		UNION SELECT l.grid_id, 'leader' FROM grid_leaders l JOIN users u ON u.id = l.user_id WHERE l.user_id = $1 AND u.disabled = 0`, userID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			rows.Close()
			return err
		}
		want[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	type open struct{ id, grid, role string }
	var have []open
	rows, err = tx.tx.QueryContext(ctx, `SELECT id, grid_id, role FROM grid_coverage WHERE user_id = $1 AND until_at IS NULL`, userID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var o open
		if err := rows.Scan(&o.id, &o.grid, &o.role); err != nil {
			rows.Close()
			return err
		}
		have = append(have, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := ms(tx.Now())
	for _, o := range have {
		k := [2]string{o.grid, o.role}
		if want[k] {
			delete(want, k)
			continue
		}
		if _, err := tx.exec(ctx, `UPDATE grid_coverage SET until_at = $1 WHERE id = $2`, now, o.id); err != nil {
			return err
		}
	}
	for k := range want {
		if _, err := tx.exec(ctx, `INSERT INTO grid_coverage (id, grid_id, user_id, role, from_at) VALUES ($1, $2, $3, $4, $5)`,
			ids.New(), k[0], userID, k[1], now); err != nil {
			return err
		}
	}
	return nil
}

const coverageCols = `c.id, c.grid_id, n.name, c.user_id, u.display_name, c.role, c.from_at, c.until_at`

func (s *Store) coverageList(ctx context.Context, q string, args ...any) ([]GridCover, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []GridCover
	for rows.Next() {
		var c GridCover
		var until sql.NullInt64
		if err := rows.Scan(&c.ID, &c.GridID, &c.GridName, &c.UserID, &c.UserName, &c.Role, &c.From, &until); err != nil {
			return nil, err
		}
		c.Until = until.Int64
		out = append(out, c)
	}
	return out, rows.Err()
}

// CoverageHistory lists who covered the grids of a community, the latest
// changes first.
func (s *Store) CoverageHistory(ctx context.Context, communityPath string, limit int) ([]GridCover, error) {
	return s.coverageList(ctx, `SELECT `+coverageCols+` FROM grid_coverage c JOIN org_nodes n ON n.id = c.grid_id JOIN users u ON u.id = c.user_id
		WHERE n.path LIKE $1 ORDER BY COALESCE(c.until_at, c.from_at) DESC, c.id DESC LIMIT $2`, likePrefix(communityPath), limit)
}

// CoverageDuring lists the grid workers' coverage of a community's grids
// that overlaps [from, to).
func (s *Store) CoverageDuring(ctx context.Context, communityPath string, from, to int64) ([]GridCover, error) {
	return s.coverageList(ctx, `SELECT `+coverageCols+` FROM grid_coverage c JOIN org_nodes n ON n.id = c.grid_id JOIN users u ON u.id = c.user_id
		WHERE n.path LIKE $1 AND c.role = 'worker' AND c.from_at < $3 AND (c.until_at IS NULL OR c.until_at > $2)
		ORDER BY u.display_name, n.code`, likePrefix(communityPath), from, to)
}

// AssessSettings are a community's weights and limits.
type AssessSettings struct {
	Visits, Leads, Events, Patrols, Rating    int // weights
	PatrolsPerWeek, LoadLimit, VisitCycleDays int
	UpdatedAt                                 int64
	UpdatedBy                                 string
}

// AssessSettings reads a community's settings; found is false when it has
// never set them.
func (s *Store) AssessSettings(ctx context.Context, communityID string) (AssessSettings, bool, error) {
	var a AssessSettings
	var by sql.NullString
	err := s.queryRow(ctx, `SELECT w_visits, w_leads, w_events, w_patrols, w_rating, patrols_per_week, load_limit, visit_cycle_days, updated_at, updated_by
		FROM assess_settings WHERE community_id = $1`, communityID).
		Scan(&a.Visits, &a.Leads, &a.Events, &a.Patrols, &a.Rating, &a.PatrolsPerWeek, &a.LoadLimit, &a.VisitCycleDays, &a.UpdatedAt, &by)
	if err == sql.ErrNoRows {
		return a, false, nil
	}
	a.UpdatedBy = by.String
	return a, err == nil, s.classify(err)
}

// SaveAssessSettings stores a community's settings.
func (tx *Tx) SaveAssessSettings(ctx context.Context, communityID string, a AssessSettings, by string) error {
	if _, err := tx.exec(ctx, `DELETE FROM assess_settings WHERE community_id = $1`, communityID); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `INSERT INTO assess_settings (community_id, w_visits, w_leads, w_events, w_patrols, w_rating, patrols_per_week, load_limit, visit_cycle_days, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, communityID, a.Visits, a.Leads, a.Events, a.Patrols, a.Rating,
		a.PatrolsPerWeek, a.LoadLimit, a.VisitCycleDays, ms(tx.Now()), nullStr(by))
	return err
}

// AssessNote is a worker's explanation or appeal and its answer.
type AssessNote struct {
	ID, CommunityID, UserID, UserName, Period, Kind, Body, Status, Reply, DecidedBy string
	Adjust                                                                          int // tenths of a point
	CreatedAt, DecidedAt                                                            int64
}

// AddAssessNote stores a worker's explanation ('noted') or appeal ('open').
func (tx *Tx) AddAssessNote(ctx context.Context, n *AssessNote) error {
	n.ID, n.CreatedAt = ids.New(), tx.Now().UnixMilli()
	_, err := tx.exec(ctx, `INSERT INTO assess_notes (id, community_id, user_id, period, kind, body, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		n.ID, n.CommunityID, n.UserID, n.Period, n.Kind, n.Body, n.Status, n.CreatedAt)
	return err
}

// DecideAssessNote answers an open appeal; it reports whether the appeal
// was still open.
func (tx *Tx) DecideAssessNote(ctx context.Context, id, status, reply string, adjust int, by string) (bool, error) {
	r, err := tx.exec(ctx, `UPDATE assess_notes SET status = $1, reply = $2, adjust = $3, decided_by = $4, decided_at = $5 WHERE id = $6 AND status = 'open'`,
		status, reply, adjust, by, ms(tx.Now()), id)
	if err != nil {
		return false, err
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

// AssessNotes lists a community's notes for a period (all periods when
// period is empty), oldest first.
func (s *Store) AssessNotes(ctx context.Context, communityID, period string) ([]AssessNote, error) {
	rows, err := s.query(ctx, `SELECT a.id, a.community_id, a.user_id, u.display_name, a.period, a.kind, a.body, a.status, a.reply, COALESCE(d.display_name, ''),
		a.adjust, a.created_at, COALESCE(a.decided_at, 0)
		FROM assess_notes a JOIN users u ON u.id = a.user_id LEFT JOIN users d ON d.id = a.decided_by
		WHERE a.community_id = $1 AND ($2 = '' OR a.period = $2) ORDER BY a.created_at, a.id`, communityID, period)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AssessNote
	for rows.Next() {
		var n AssessNote
		if err := rows.Scan(&n.ID, &n.CommunityID, &n.UserID, &n.UserName, &n.Period, &n.Kind, &n.Body, &n.Status, &n.Reply, &n.DecidedBy,
			&n.Adjust, &n.CreatedAt, &n.DecidedAt); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// EarlierCoverage moves the start of a user's open coverage of a grid back
// to from: history that began before shequ was introduced.
func (tx *Tx) EarlierCoverage(ctx context.Context, userID, gridID string, from int64) error {
	_, err := tx.exec(ctx, `UPDATE grid_coverage SET from_at = $1 WHERE user_id = $2 AND grid_id = $3 AND until_at IS NULL AND from_at > $1`, from, userID, gridID)
	return err
}
