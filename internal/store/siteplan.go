package store

import (
	"context"
	"database/sql"
)

// The site plan (digital twin): footprints, gate positions, grid
// boundaries and the rest of the drawing, in local metres (x east, y
// north). Polygons are JSON text ([[x, y], …], the ring not closed); this
// layer stores and returns them as text, package siteplan reads them.

// Box is an axis-aligned bounding box in local metres.
type Box struct {
	MinX, MinY, MaxX, MaxY float64
}

// Empty reports whether the box holds nothing.
func (b Box) Empty() bool { return b.MaxX <= b.MinX || b.MaxY <= b.MinY }

// Footprint is a building's or house's outline on the plan.
type Footprint struct {
	PlaceID, CommunityID string
	Polygon              string
	LabelX, LabelY       float64
	Box                  Box
	// Filled by SitePlanFootprints.
	Name, Kind, GridID string
}

// GridBoundary is a grid's outline.
type GridBoundary struct {
	GridID, CommunityID string
	Polygon             string
	Box                 Box
}

// PlanShape is the rest of the drawing: the site's outline, a road, green
// space, water or a square.
type PlanShape struct {
	ID, CommunityID, Kind, Name string
	Polygon                     string
	Seq                         int
	Box                         Box
}

// GatePin is a gate of a community with its position (when placed) and the
// state of its devices and alarms.
type GatePin struct {
	ID, Code, Name, Kind string
	X, Y                 float64
	Placed               bool
	Devices              int // all devices of the gate
	Online               int // heard from and not marked offline
	Offline              int // marked offline
	OpenAlarms           int
}

// GridOutline is a grid of a community with its boundary ("" when none).
type GridOutline struct {
	ID, Code, Name string
	Polygon        string
}

// BuildingFigures are what the site plan colours a building by, all
// counted from the ledger as of a day.
type BuildingFigures struct {
	Rooms, Surveyed int // rooms; rooms whose survey is done
	RentedRooms     int // rooms let (rented or group rental)
	People          int // people living there now
	Tenants         int // of them, people in rental households
	Monitored       int // people under health monitoring or quarantine now
	OpenEvents      int // events about the building or its rooms not yet closed
}

// SaveFootprint stores (or replaces) a building's footprint.
func (tx *Tx) SaveFootprint(ctx context.Context, f Footprint, by string) error {
	_, err := tx.exec(ctx, `INSERT INTO siteplan_footprints (place_id, community_id, polygon, label_x, label_y, min_x, min_y, max_x, max_y, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (place_id) DO UPDATE SET community_id = $2, polygon = $3, label_x = $4, label_y = $5, min_x = $6, min_y = $7, max_x = $8, max_y = $9,
		updated_at = $10, updated_by = $11`,
		f.PlaceID, f.CommunityID, f.Polygon, f.LabelX, f.LabelY, f.Box.MinX, f.Box.MinY, f.Box.MaxX, f.Box.MaxY, ms(tx.Now()), nullStr(by))
	return err
}

// DeleteFootprint removes a building's footprint from its community's plan.
func (tx *Tx) DeleteFootprint(ctx context.Context, communityID, placeID string) error {
	_, err := tx.exec(ctx, `DELETE FROM siteplan_footprints WHERE community_id = $1 AND place_id = $2`, communityID, placeID)
	return err
}

// SaveGatePosition stores (or moves) a gate on the plan.
func (tx *Tx) SaveGatePosition(ctx context.Context, communityID, gateID string, x, y float64, by string) error {
	_, err := tx.exec(ctx, `INSERT INTO siteplan_gates (gate_id, community_id, x, y, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (gate_id) DO UPDATE SET community_id = $2, x = $3, y = $4, updated_at = $5, updated_by = $6`,
		gateID, communityID, x, y, ms(tx.Now()), nullStr(by))
	return err
}

// SaveGridBoundary stores (or replaces) a grid's boundary.
func (tx *Tx) SaveGridBoundary(ctx context.Context, g GridBoundary, by string) error {
	_, err := tx.exec(ctx, `INSERT INTO siteplan_grids (grid_id, community_id, polygon, min_x, min_y, max_x, max_y, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (grid_id) DO UPDATE SET community_id = $2, polygon = $3, min_x = $4, min_y = $5, max_x = $6, max_y = $7, updated_at = $8, updated_by = $9`,
		g.GridID, g.CommunityID, g.Polygon, g.Box.MinX, g.Box.MinY, g.Box.MaxX, g.Box.MaxY, ms(tx.Now()), nullStr(by))
	return err
}

// ReplacePlanShapes replaces every shape of a community's plan.
func (tx *Tx) ReplacePlanShapes(ctx context.Context, communityID string, shapes []PlanShape) error {
	if _, err := tx.exec(ctx, `DELETE FROM siteplan_shapes WHERE community_id = $1`, communityID); err != nil {
		return err
	}
	for i, sh := range shapes {
		if _, err := tx.exec(ctx, `INSERT INTO siteplan_shapes (id, community_id, kind, name, polygon, seq, min_x, min_y, max_x, max_y, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, orNew(sh.ID), communityID, sh.Kind, sh.Name, sh.Polygon, i,
			sh.Box.MinX, sh.Box.MinY, sh.Box.MaxX, sh.Box.MaxY, ms(tx.Now())); err != nil {
			return err
		}
	}
	return nil
}

// ClearSitePlan removes a community's whole plan.
func (tx *Tx) ClearSitePlan(ctx context.Context, communityID string) error {
	for _, q := range []string{
		`DELETE FROM siteplan_footprints WHERE community_id = $1`,
		`DELETE FROM siteplan_gates WHERE community_id = $1`,
		`DELETE FROM siteplan_grids WHERE community_id = $1`,
		`DELETE FROM siteplan_shapes WHERE community_id = $1`,
		`DELETE FROM siteplan_extents WHERE community_id = $1`,
	} {
		if _, err := tx.exec(ctx, q, communityID); err != nil {
			return err
		}
	}
	return nil
}

// RefreshPlanExtent recomputes a community's extent from everything on its
// plan; an empty plan has no extent row.
func (tx *Tx) RefreshPlanExtent(ctx context.Context, communityID string) (Box, error) {
	var b Box
	var minX, minY, maxX, maxY sql.NullFloat64
	err := tx.queryRow(ctx, `SELECT min(a), min(b), max(c), max(d) FROM (
		SELECT min_x AS a, min_y AS b, max_x AS c, max_y AS d FROM siteplan_footprints WHERE community_id = $1
		UNION ALL SELECT min_x, min_y, max_x, max_y FROM siteplan_grids WHERE community_id = $1
		UNION ALL SELECT min_x, min_y, max_x, max_y FROM siteplan_shapes WHERE community_id = $1
		UNION ALL SELECT x, y, x, y FROM siteplan_gates WHERE community_id = $1) u`, communityID).Scan(&minX, &minY, &maxX, &maxY)
	if err != nil {
		return b, tx.s.classify(err)
	}
	if _, err := tx.exec(ctx, `DELETE FROM siteplan_extents WHERE community_id = $1`, communityID); err != nil {
		return b, err
	}
	if !minX.Valid {
		return b, nil
	}
	b = Box{minX.Float64, minY.Float64, maxX.Float64, maxY.Float64}
	_, err = tx.exec(ctx, `INSERT INTO siteplan_extents (community_id, min_x, min_y, max_x, max_y, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		communityID, b.MinX, b.MinY, b.MaxX, b.MaxY, ms(tx.Now()))
	return b, err
}

// PlanExtent is a community's stored extent; ok is false when it has no plan.
func (s *Store) PlanExtent(ctx context.Context, communityID string) (Box, bool, error) {
	var b Box
	err := s.queryRow(ctx, `SELECT min_x, min_y, max_x, max_y FROM siteplan_extents WHERE community_id = $1`, communityID).
		Scan(&b.MinX, &b.MinY, &b.MaxX, &b.MaxY)
	if err == sql.ErrNoRows {
		return b, false, nil
	}
	return b, err == nil, s.classify(err)
}

// SitePlanFootprints lists a community's footprints with their places'
// names, kinds and grids, in the places' order.
func (s *Store) SitePlanFootprints(ctx context.Context, communityID string) ([]Footprint, error) {
	rows, err := s.query(ctx, `SELECT f.place_id, f.community_id, f.polygon, f.label_x, f.label_y, f.min_x, f.min_y, f.max_x, f.max_y,
		p.name, p.kind, COALESCE(p.grid_id, '')
		FROM siteplan_footprints f JOIN places p ON p.id = f.place_id WHERE f.community_id = $1 ORDER BY p.seq, p.name, p.id`, communityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Footprint
	for rows.Next() {
		var f Footprint
		if err := rows.Scan(&f.PlaceID, &f.CommunityID, &f.Polygon, &f.LabelX, &f.LabelY, &f.Box.MinX, &f.Box.MinY, &f.Box.MaxX, &f.Box.MaxY,
			&f.Name, &f.Kind, &f.GridID); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// PlanBuildings lists every building and self-built house of a
// community, in each site's order.
func (s *Store) PlanBuildings(ctx context.Context, communityID string) ([]Place, error) {
	return s.placeList(ctx, `SELECT `+placeCols+` FROM places p LEFT JOIN places site ON site.id = p.parent_id
		WHERE p.community_id = $1 AND p.kind IN ('building', 'house') ORDER BY site.seq, site.name, p.seq, p.name, p.id`, communityID)
}

// SitePlanGates lists every gate of a community with its position, its
// devices' state and its open alarms.
func (s *Store) SitePlanGates(ctx context.Context, communityID string) ([]GatePin, error) {
	rows, err := s.query(ctx, `SELECT g.id, g.code, g.name, g.kind, COALESCE(sg.x, 0), COALESCE(sg.y, 0), CASE WHEN sg.gate_id IS NULL THEN 0 ELSE 1 END,
		(SELECT count(*) FROM devices d WHERE d.gate_id = g.id),
		(SELECT count(*) FROM devices d WHERE d.gate_id = g.id AND d.offline = 0 AND d.last_seen_at IS NOT NULL),
		(SELECT count(*) FROM devices d WHERE d.gate_id = g.id AND d.offline = 1),
		(SELECT count(*) FROM alarms a WHERE a.gate_id = g.id AND a.status = 'open')
		FROM gates g LEFT JOIN siteplan_gates sg ON sg.gate_id = g.id WHERE g.community_id = $1 ORDER BY g.code`, communityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []GatePin
	for rows.Next() {
		var g GatePin
		var placed int
		if err := rows.Scan(&g.ID, &g.Code, &g.Name, &g.Kind, &g.X, &g.Y, &placed, &g.Devices, &g.Online, &g.Offline, &g.OpenAlarms); err != nil {
			return nil, err
		}
		g.Placed = placed == 1
		out = append(out, g)
	}
	return out, rows.Err()
}

// SitePlanGrids lists the grids of a community with their boundaries.
func (s *Store) SitePlanGrids(ctx context.Context, communityID string) ([]GridOutline, error) {
	rows, err := s.query(ctx, `SELECT n.id, n.code, n.name, COALESCE(b.polygon, '') FROM org_nodes n
		LEFT JOIN siteplan_grids b ON b.grid_id = n.id WHERE n.parent_id = $1 AND n.level = 'grid' ORDER BY n.code`, communityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []GridOutline
	for rows.Next() {
		var g GridOutline
		if err := rows.Scan(&g.ID, &g.Code, &g.Name, &g.Polygon); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// SitePlanShapes lists the shapes of a community's plan in drawing order.
func (s *Store) SitePlanShapes(ctx context.Context, communityID string) ([]PlanShape, error) {
	rows, err := s.query(ctx, `SELECT id, community_id, kind, name, polygon, seq, min_x, min_y, max_x, max_y
		FROM siteplan_shapes WHERE community_id = $1 ORDER BY seq, id`, communityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PlanShape
	for rows.Next() {
		var sh PlanShape
		if err := rows.Scan(&sh.ID, &sh.CommunityID, &sh.Kind, &sh.Name, &sh.Polygon, &sh.Seq, &sh.Box.MinX, &sh.Box.MinY, &sh.Box.MaxX, &sh.Box.MaxY); err != nil {
			return nil, err
		}
		out = append(out, sh)
	}
	return out, rows.Err()
}

// buildingOfRoom is the building or house a room (aliased p, its parent
// par) belongs to: the parent, or the parent's parent when that is a unit.
const buildingOfRoom = `CASE WHEN par.kind = 'unit' THEN par.parent_id ELSE par.id END`

// BuildingMeasures counts, for every building and house of a community,
// what the site plan colours it by, as of today (YYYY-MM-DD). Buildings
// without rooms are absent.
func (s *Store) BuildingMeasures(ctx context.Context, communityID, today string) (map[string]BuildingFigures, error) {
	out := map[string]BuildingFigures{}
	add := func(q string, args []any, set func(f *BuildingFigures, n []int)) error {
		rows, err := s.query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		for rows.Next() {
			var id string
			n := make([]int, len(cols)-1)
			dest := []any{&id}
			for i := range n {
				dest = append(dest, &n[i])
			}
			if err := rows.Scan(dest...); err != nil {
				return err
			}
			if id == "" {
				continue
			}
			f := out[id]
			set(&f, n)
			out[id] = f
		}
		return rows.Err()
	}
	// Rooms, surveyed rooms, let rooms.
	if err := add(`SELECT `+buildingOfRoom+`, count(*), sum(CASE WHEN p.survey = 'surveyed' THEN 1 ELSE 0 END),
		sum(CASE WHEN p.room_use IN ('rented', 'group_rental') THEN 1 ELSE 0 END)
		FROM places p JOIN places par ON par.id = p.parent_id
		WHERE p.kind = 'room' AND p.community_id = $1 GROUP BY 1`,
		[]any{communityID}, func(f *BuildingFigures, n []int) { f.Rooms, f.Surveyed, f.RentedRooms = n[0], n[1], n[2] }); err != nil {
		return nil, err
	}
	// People living there now, and those of them in rental households.
	if err := add(`SELECT `+buildingOfRoom+`, count(DISTINCT m.person_id), count(DISTINCT CASE WHEN h.kind = 'rental' THEN m.person_id END)
		FROM households h JOIN household_members m ON m.household_id = h.id
		JOIN places p ON p.id = h.room_id JOIN places par ON par.id = p.parent_id
		WHERE p.community_id = $1 AND h.ended_at IS NULL AND (m.until IS NULL OR m.until >= $2) GROUP BY 1`,
		[]any{communityID, today}, func(f *BuildingFigures, n []int) { f.People, f.Tenants = n[0], n[1] }); err != nil {
		return nil, err
	}
	// People under monitoring or quarantine today.
	if err := add(`SELECT `+buildingOfRoom+`, count(DISTINCT mo.person_id)
		FROM monitoring mo JOIN household_members m ON m.person_id = mo.person_id
		JOIN households h ON h.id = m.household_id AND h.ended_at IS NULL
		JOIN places p ON p.id = h.room_id JOIN places par ON par.id = p.parent_id
		WHERE p.community_id = $1 AND mo.start_date <= $2 AND mo.end_date >= $2 AND mo.lifted_on IS NULL
		AND (m.until IS NULL OR m.until >= $2) GROUP BY 1`,
		[]any{communityID, today}, func(f *BuildingFigures, n []int) { f.Monitored = n[0] }); err != nil {
		return nil, err
	}
	// Events about the building, one of its units or one of its rooms, not
	// yet closed (the same "open" as the events pages).
	if err := add(`SELECT COALESCE(CASE WHEN p.kind IN ('building', 'house') THEN p.id WHEN p.kind = 'unit' THEN p.parent_id
		WHEN p.kind = 'room' THEN `+buildingOfRoom+` END, ''), count(*)
		FROM events e JOIN places p ON p.id = e.place_id LEFT JOIN places par ON par.id = p.parent_id
		WHERE e.community_id = $1 AND e.status NOT IN ('closed', 'rejected', 'evaluated') GROUP BY 1`,
		[]any{communityID}, func(f *BuildingFigures, n []int) { f.OpenEvents = n[0] }); err != nil {
		return nil, err
	}
	return out, nil
}

// LinkEventsByAddress points events of a community that name no place at
// the building or house whose address ends with the event's address (the
// demo's village events carry "丰乐西村12号"); it reports how many it linked.
func (tx *Tx) LinkEventsByAddress(ctx context.Context, communityID string) (int64, error) {
	const match = `FROM places p WHERE p.community_id = events.community_id AND p.kind IN ('building', 'house')
		AND substr(p.address, length(p.address) - length(events.address) + 1) = events.address`
	res, err := tx.exec(ctx, `UPDATE events SET place_id = (SELECT p.id `+match+` ORDER BY p.id LIMIT 1)
		WHERE community_id = $1 AND place_id IS NULL AND address <> '' AND EXISTS (SELECT 1 `+match+`)`, communityID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
