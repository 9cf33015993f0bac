package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

const placeCols = `p.id, p.community_id, COALESCE(p.grid_id, ''), COALESCE(p.parent_id, ''), p.kind, p.name, p.address,
	COALESCE(p.floors, 0), COALESCE(p.floor, 0), p.seq, COALESCE(p.room_use, ''), p.survey, p.last_visit_at`

func scanPlace(sc interface{ Scan(...any) error }) (Place, error) {
	var p Place
	var lv sql.NullInt64
	err := sc.Scan(&p.ID, &p.CommunityID, &p.GridID, &p.ParentID, &p.Kind, &p.Name, &p.Address, &p.Floors, &p.Floor,
		&p.Seq, &p.RoomUse, &p.Survey, &lv)
	p.LastVisitAt = fromMS(lv)
	return p, err
}

func (s *Store) placeList(ctx context.Context, q string, args ...any) ([]Place, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Place
	for rows.Next() {
		p, err := scanPlace(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Place loads a place with the path of the org node it belongs to (its
// grid, else its community), which decides who may see it.
func (s *Store) Place(ctx context.Context, id string) (Place, string, error) {
	var path string
	row := s.queryRow(ctx, `SELECT `+placeCols+`, n.path FROM places p
		JOIN org_nodes n ON n.id = COALESCE(p.grid_id, p.community_id) WHERE p.id = $1`, id)
	var p Place
	var lv sql.NullInt64
	err := row.Scan(&p.ID, &p.CommunityID, &p.GridID, &p.ParentID, &p.Kind, &p.Name, &p.Address, &p.Floors, &p.Floor,
		&p.Seq, &p.RoomUse, &p.Survey, &lv, &path)
	p.LastVisitAt = fromMS(lv)
	return p, path, s.classify(err)
}

// PlaceChildren lists the places directly under parent in display order.
func (s *Store) PlaceChildren(ctx context.Context, parentID string) ([]Place, error) {
	return s.placeList(ctx, `SELECT `+placeCols+` FROM places p WHERE p.parent_id = $1 ORDER BY p.seq, p.name`, parentID)
}

// PlaceSites lists the compounds and villages of a community.
func (s *Store) PlaceSites(ctx context.Context, communityID string) ([]Place, error) {
	return s.placeList(ctx, `SELECT `+placeCols+` FROM places p WHERE p.community_id = $1 AND p.parent_id IS NULL ORDER BY p.seq, p.name`, communityID)
}

// PlaceAncestors lists the places above p, top first.
func (s *Store) PlaceAncestors(ctx context.Context, p Place) ([]Place, error) {
	var out []Place
	for id := p.ParentID; id != ""; {
		a, _, err := s.Place(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append([]Place{a}, out...)
		id = a.ParentID
	}
	return out, nil
}

// RoomCell is one room of a building table with what colours it.
type RoomCell struct {
	Place
	UnitName    string
	Households  int
	People      int
	Monitored   int // people under health monitoring or quarantine now
	LastVisitAt time.Time
}

// BuildingRooms lists every room below a building or house (through its
// units) with occupancy and monitoring counts, in one query.
func (s *Store) BuildingRooms(ctx context.Context, buildingID, today string) ([]RoomCell, error) {
	rows, err := s.query(ctx, `WITH parents AS (SELECT id FROM places WHERE id = $1 UNION ALL SELECT id FROM places WHERE parent_id = $1 AND kind = 'unit'),
		occ AS (SELECT h.room_id, count(DISTINCT h.id) AS households, count(m.person_id) AS people
			FROM households h JOIN household_members m ON m.household_id = h.id
			WHERE h.ended_at IS NULL AND (m.until IS NULL OR m.until >= $2)
			AND h.room_id IN (SELECT r.id FROM places r WHERE r.parent_id IN (SELECT id FROM parents))
			GROUP BY h.room_id),
		mon AS (SELECT h.room_id, count(DISTINCT mo.person_id) AS n
			FROM monitoring mo JOIN household_members m ON m.person_id = mo.person_id
			JOIN households h ON h.id = m.household_id AND h.ended_at IS NULL
			WHERE mo.start_date <= $2 AND mo.end_date >= $2 AND mo.lifted_on IS NULL AND (m.until IS NULL OR m.until >= $2)
			GROUP BY h.room_id)
		SELECT `+placeCols+`, COALESCE(u.name, ''), COALESCE(occ.households, 0), COALESCE(occ.people, 0), COALESCE(mon.n, 0)
		FROM places p JOIN parents ON parents.id = p.parent_id
		LEFT JOIN places u ON u.id = p.parent_id AND u.kind = 'unit'
		LEFT JOIN occ ON occ.room_id = p.id LEFT JOIN mon ON mon.room_id = p.id
		WHERE p.kind = 'room'
		ORDER BY u.seq, p.floor DESC, p.seq`, buildingID, today)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RoomCell
	for rows.Next() {
		var c RoomCell
		var lv sql.NullInt64
		if err := rows.Scan(&c.ID, &c.CommunityID, &c.GridID, &c.ParentID, &c.Kind, &c.Name, &c.Address, &c.Floors, &c.Floor,
			&c.Seq, &c.RoomUse, &c.Survey, &lv, &c.UnitName, &c.Households, &c.People, &c.Monitored); err != nil {
			return nil, err
		}
		c.LastVisitAt = fromMS(lv)
		c.Place.LastVisitAt = c.LastVisitAt
		out = append(out, c)
	}
	return out, rows.Err()
}

// Coverage is how much of an area has been surveyed.
type Coverage struct {
	Rooms, Surveyed, Flagged int
}

// Percent is the surveyed share, 0–100.
func (c Coverage) Percent() float64 {
	if c.Rooms == 0 {
		return 0
	}
	return float64(c.Surveyed) * 100 / float64(c.Rooms)
}

// CoverageBy counts rooms and surveyed rooms grouped by a key: "building"
// (the building or house a room is in) within a community, or "grid".
func (s *Store) CoverageBy(ctx context.Context, communityID, by string) (map[string]Coverage, error) {
	key := `COALESCE(p.grid_id, '')`
	if by == "building" {
		key = `CASE WHEN par.kind = 'unit' THEN par.parent_id ELSE par.id END`
	}
	rows, err := s.query(ctx, `SELECT `+key+`, count(*), sum(CASE WHEN p.survey = 'surveyed' THEN 1 ELSE 0 END),
		sum(CASE WHEN p.survey = 'flagged' THEN 1 ELSE 0 END)
		FROM places p JOIN places par ON par.id = p.parent_id
		WHERE p.kind = 'room' AND p.community_id = $1 GROUP BY 1`, communityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Coverage{}
	for rows.Next() {
		var k string
		var c Coverage
		if err := rows.Scan(&k, &c.Rooms, &c.Surveyed, &c.Flagged); err != nil {
			return nil, err
		}
		out[k] = c
	}
	return out, rows.Err()
}

// CoverageBelow sums rooms of every community at or below an org path.
func (s *Store) CoverageBelow(ctx context.Context, path string) (Coverage, error) {
	var c Coverage
	err := s.queryRow(ctx, `SELECT count(*), COALESCE(sum(CASE WHEN p.survey = 'surveyed' THEN 1 ELSE 0 END), 0),
		COALESCE(sum(CASE WHEN p.survey = 'flagged' THEN 1 ELSE 0 END), 0)
		FROM places p JOIN org_nodes n ON n.id = COALESCE(p.grid_id, p.community_id)
		WHERE p.kind = 'room' AND n.path LIKE $1`, likePrefix(path)).Scan(&c.Rooms, &c.Surveyed, &c.Flagged)
	return c, s.classify(err)
}

// FindPlace finds a child of parent by name (exact, after trimming).
func (tx *Tx) FindPlace(ctx context.Context, communityID, parentID, kind, name string) (Place, error) {
	q := `SELECT ` + placeCols + ` FROM places p WHERE p.community_id = $1 AND p.kind = $2 AND p.name = $3 AND `
	args := []any{communityID, kind, strings.TrimSpace(name)}
	if parentID == "" {
		q += `p.parent_id IS NULL`
	} else {
		q += `p.parent_id = $4`
		args = append(args, parentID)
	}
	p, err := scanPlace(tx.queryRow(ctx, q, args...))
	return p, tx.s.classify(err)
}

// UpdateRoom changes a room's use and survey status.
func (tx *Tx) UpdateRoom(ctx context.Context, id, use, survey string) error {
	_, err := tx.exec(ctx, `UPDATE places SET room_use = $1, survey = $2, updated_at = $3 WHERE id = $4 AND kind = 'room'`,
		nullStr(use), survey, ms(tx.Now()), id)
	tx.markRoom(id)
	return err
}

// TouchVisit records a survey visit on a room.
func (tx *Tx) TouchVisit(ctx context.Context, roomID string, at time.Time) error {
	// updated_at stays: it is the version phones compare member changes
	// against, and a visit changes no member by itself.
	_, err := tx.exec(ctx, `UPDATE places SET last_visit_at = CASE WHEN last_visit_at IS NULL OR last_visit_at < $1 THEN $1 ELSE last_visit_at END,
		survey = CASE WHEN survey = 'pending' THEN 'surveyed' ELSE survey END WHERE id = $2`, ms(at), roomID)
	tx.markRoom(roomID)
	return err
}
