package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"
)

// Rollups for the community brain (docs/brain.md). Two kinds:
//
//   - pass_hourly: counts of pass events per gate and hour, added in the
//     same transaction as the events (InsertPass counts, flushRollups
//     writes one upsert per gate-hour just before commit);
//   - grid_stats: ledger figures per grid, recomputed by the brain's
//     refresher for the nodes in dirty_grids. The write methods that change
//     what grid_stats count mark the people, rooms and households they
//     touch; flushRollups turns the marks into dirty_grids rows in the same
//     transaction, so a committed change is never missed.

// HourMS is the length of a pass_hourly bucket.
const HourMS = 3600 * 1000

type passKey struct {
	gate string
	hour int64
}

type passCount struct{ total, in, out, denied int }

// rollupMarks is what a transaction collected for the rollups.
type rollupMarks struct {
	passes map[passKey]*passCount
	people map[string]bool
	rooms  map[string]bool
	nodes  map[string]bool
}

// countPass adds a stored pass event to the transaction's hourly counts.
func (tx *Tx) countPass(p *PassRecord) {
	if tx.roll.passes == nil {
		tx.roll.passes = map[passKey]*passCount{}
	}
	at := p.ReceivedAt.UnixMilli()
	k := passKey{p.GateID, at - at%HourMS}
	c := tx.roll.passes[k]
	if c == nil {
		c = &passCount{}
		tx.roll.passes[k] = c
	}
	c.total++
	switch {
	case p.Outcome == "allow" && p.Direction == "out":
		c.out++
	case p.Outcome == "allow":
		c.in++
	case p.Outcome == "deny":
		c.denied++
	}
}

func mark(set *map[string]bool, id string) {
	if id == "" {
		return
	}
	if *set == nil {
		*set = map[string]bool{}
	}
	(*set)[id] = true
}

// markPerson notes a person whose figures changed (residency, birth date,
// a health record, a merge): every grid they live or lived in is dirty.
func (tx *Tx) markPerson(id string) { mark(&tx.roll.people, id) }

// markRoom notes a room whose survey state or households changed.
func (tx *Tx) markRoom(id string) { mark(&tx.roll.rooms, id) }

// markNode notes a grid (or community) directly.
func (tx *Tx) markNode(id string) { mark(&tx.roll.nodes, id) }

// markRoomsBelow notes the nodes of the rooms at or below a place now
// (before they move to another grid).
func (tx *Tx) markRoomsBelow(ctx context.Context, placeID string) error {
	return tx.collect(ctx, `SELECT DISTINCT COALESCE(grid_id, community_id) FROM places
		WHERE id = $1 OR parent_id = $1 OR parent_id IN (SELECT id FROM places WHERE parent_id = $1)`, []any{placeID}, tx.markNode)
}

// collect runs a query inside the transaction and passes each string it
// returns to fn.
func (tx *Tx) collect(ctx context.Context, q string, args []any, fn func(string)) error {
	rows, err := tx.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return tx.s.classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var v sql.NullString
		if err := rows.Scan(&v); err != nil {
			return err
		}
		if v.Valid {
			fn(v.String)
		}
	}
	return rows.Err()
}

// setChunks calls fn with the sorted members of set, at most n at a time,
// and their placeholders numbered from $1.
func setChunks(set map[string]bool, n int, fn func(ph string, args []any) error) error {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for len(keys) > 0 {
		chunk := keys[:min(len(keys), n)]
		keys = keys[len(chunk):]
		ph := make([]string, len(chunk))
		args := make([]any, len(chunk))
		for i, k := range chunk {
			ph[i], args[i] = "$"+itoa(i+1), k
		}
		if err := fn(strings.Join(ph, ","), args); err != nil {
			return err
		}
	}
	return nil
}

// flushRollups writes what the transaction collected: the pass counts
// into pass_hourly and the dirty nodes into dirty_grids. Keys are written
// in order, so two transactions never wait on each other crosswise.
func (tx *Tx) flushRollups(ctx context.Context) error {
	if len(tx.roll.passes) > 0 {
		keys := make([]passKey, 0, len(tx.roll.passes))
		for k := range tx.roll.passes {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b passKey) int {
			if c := strings.Compare(a.gate, b.gate); c != 0 {
				return c
			}
			return int(a.hour - b.hour)
		})
		for len(keys) > 0 {
			chunk := keys[:min(len(keys), 200)]
			keys = keys[len(chunk):]
			var vals []string
			args := make([]any, 0, 6*len(chunk))
			for _, k := range chunk {
				c := tx.roll.passes[k]
				n := len(args)
				vals = append(vals, "($"+itoa(n+1)+", $"+itoa(n+2)+", $"+itoa(n+3)+", $"+itoa(n+4)+", $"+itoa(n+5)+", $"+itoa(n+6)+")")
				args = append(args, k.gate, k.hour, c.total, c.in, c.out, c.denied)
			}
			if _, err := tx.exec(ctx, `INSERT INTO pass_hourly (gate_id, hour, total, passes_in, passes_out, denied) VALUES `+strings.Join(vals, ", ")+`
				ON CONFLICT (gate_id, hour) DO UPDATE SET total = pass_hourly.total + excluded.total, passes_in = pass_hourly.passes_in + excluded.passes_in,
				passes_out = pass_hourly.passes_out + excluded.passes_out, denied = pass_hourly.denied + excluded.denied`, args...); err != nil {
				return err
			}
		}
		tx.roll.passes = nil
	}
	r := &tx.roll
	if err := setChunks(r.people, 500, func(ph string, args []any) error {
		return tx.collect(ctx, `SELECT COALESCE(r.grid_id, r.community_id) FROM household_members m JOIN households h ON h.id = m.household_id
			JOIN places r ON r.id = h.room_id WHERE m.person_id IN (`+ph+`)`, args, tx.markNode)
	}); err != nil {
		return err
	}
	if err := setChunks(tx.touched, 500, func(ph string, args []any) error {
		return tx.collect(ctx, `SELECT COALESCE(r.grid_id, r.community_id) FROM households h JOIN places r ON r.id = h.room_id
			WHERE h.id IN (`+ph+`)`, args, tx.markNode)
	}); err != nil {
		return err
	}
	if err := setChunks(r.rooms, 500, func(ph string, args []any) error {
		return tx.collect(ctx, `SELECT COALESCE(grid_id, community_id) FROM places WHERE id IN (`+ph+`)`, args, tx.markNode)
	}); err != nil {
		return err
	}
	r.people, r.rooms = nil, nil
	if err := setChunks(r.nodes, 200, func(ph string, args []any) error {
		vals := strings.ReplaceAll(ph, ",", ", 1), (")
		_, err := tx.exec(ctx, `INSERT INTO dirty_grids (node_id, seq) VALUES (`+vals+`, 1)
			ON CONFLICT (node_id) DO UPDATE SET seq = dirty_grids.seq + 1`, args...)
		return err
	}); err != nil {
		return err
	}
	r.nodes = nil
	return nil
}

// PassHour is one row of pass_hourly.
type PassHour struct {
	GateID                 string
	Hour                   time.Time
	Total, In, Out, Denied int
	CommunityID            string
}

// PassesPerHour sums pass_hourly per hour in [from, to) over the gates of
// communities at or below a path (one row per hour with passes).
func (s *Store) PassesPerHour(ctx context.Context, path string, from, to time.Time) ([]PassHour, error) {
	rows, err := s.query(ctx, `SELECT ph.hour, sum(ph.total), sum(ph.passes_in), sum(ph.passes_out), sum(ph.denied)
		FROM org_nodes n CROSS JOIN gates g CROSS JOIN pass_hourly ph
		WHERE g.community_id = n.id AND ph.gate_id = g.id AND ph.hour >= $2 AND ph.hour < $3 AND n.path LIKE $1 GROUP BY ph.hour`, likePrefix(path), from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PassHour
	for rows.Next() {
		var h PassHour
		var hour int64
		if err := rows.Scan(&hour, &h.Total, &h.In, &h.Out, &h.Denied); err != nil {
			return nil, err
		}
		h.Hour = time.UnixMilli(hour).UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}

// PassHourTotals sums pass_hourly per gate over hours in [from, to) for the
// gates of communities at or below a path (one row per gate that passed).
func (s *Store) PassHourTotals(ctx context.Context, path string, from, to time.Time) ([]PassHour, error) {
	rows, err := s.query(ctx, `SELECT ph.gate_id, sum(ph.total), sum(ph.passes_in), sum(ph.passes_out), sum(ph.denied), g.community_id
		FROM org_nodes n CROSS JOIN gates g CROSS JOIN pass_hourly ph
		WHERE g.community_id = n.id AND ph.gate_id = g.id AND ph.hour >= $2 AND ph.hour < $3 AND n.path LIKE $1 GROUP BY ph.gate_id, g.community_id`, likePrefix(path), from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PassHour
	for rows.Next() {
		var h PassHour
		if err := rows.Scan(&h.GateID, &h.Total, &h.In, &h.Out, &h.Denied, &h.CommunityID); err != nil {
			return nil, err
		}
		h.Hour = from.UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}

// Age bands of grid_stats: 0–17, 18–59, 60–79, 80 and over, birth date
// unknown.
const (
	Band0to17 = iota
	Band18to59
	Band60to79
	Band80Plus
	BandUnknown
	Bands
)

// GridStats are the ledger figures of one grid (or of a community's rooms
// outside any grid) as of a date in China.
type GridStats struct {
	NodeID, AsOf                       string
	Registered, Permanent, Floating    int
	Tenants                            int // living in a rental household
	Households                         int
	Rooms, RoomsSurveyed, RoomsFlagged int
	People, Vaccinated                 [Bands]int // residents per age band, and those with a dose
	Tested7d                           int        // residents with a test sampled in the last 7 days (today included)
	Monitored                          int        // residents under monitoring or quarantine today
	RefreshedAt                        time.Time
	Path                               string // filled by GridStatsBelow
}

// Population is everyone living there, by residency.
func (g GridStats) Population() int { return g.Registered + g.Permanent + g.Floating }

const gridStatCols = `node_id, as_of, registered, permanent, floating, tenants, households, rooms, rooms_surveyed, rooms_flagged,
	age_0_17, age_18_59, age_60_79, age_80, age_unknown, vacc_0_17, vacc_18_59, vacc_60_79, vacc_80, vacc_unknown, tested_7d, monitored, refreshed_at`

func (g *GridStats) dest() []any {
	return []any{&g.NodeID, &g.AsOf, &g.Registered, &g.Permanent, &g.Floating, &g.Tenants, &g.Households, &g.Rooms, &g.RoomsSurveyed, &g.RoomsFlagged,
		&g.People[0], &g.People[1], &g.People[2], &g.People[3], &g.People[4],
		&g.Vaccinated[0], &g.Vaccinated[1], &g.Vaccinated[2], &g.Vaccinated[3], &g.Vaccinated[4], &g.Tested7d, &g.Monitored}
}

// GridStatsBelow reads the grid_stats of every node at or below a path.
func (s *Store) GridStatsBelow(ctx context.Context, path string) ([]GridStats, error) {
	rows, err := s.query(ctx, `SELECT g.`+strings.ReplaceAll(gridStatCols, ", ", ", g.")+`, n.path FROM org_nodes n JOIN grid_stats g ON g.node_id = n.id
		WHERE n.path LIKE $1`, likePrefix(path))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []GridStats
	for rows.Next() {
		var g GridStats
		var at int64
		if err := rows.Scan(append(g.dest(), &at, &g.Path)...); err != nil {
			return nil, err
		}
		g.RefreshedAt = time.UnixMilli(at).UTC()
		out = append(out, g)
	}
	return out, rows.Err()
}

// DirtyGrids lists the nodes waiting for a refresh with their seq, and
// the grid and community nodes whose figures are missing or not of today.
func (s *Store) DirtyGrids(ctx context.Context, today string) (map[string]int64, error) {
	out := map[string]int64{}
	rows, err := s.r.QueryContext(ctx, `SELECT node_id, seq FROM dirty_grids`)
	if err != nil {
		return nil, s.classify(err)
	}
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			rows.Close()
			return nil, err
		}
		out[id] = seq
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.r.QueryContext(ctx, `SELECT n.id FROM org_nodes n LEFT JOIN grid_stats g ON g.node_id = n.id
		WHERE n.level IN ('community', 'grid') AND (g.node_id IS NULL OR g.as_of <> $1)`, today)
	if err != nil {
		return nil, s.classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if _, ok := out[id]; !ok {
			out[id] = 0
		}
	}
	return out, rows.Err()
}

// ComputeGridStats counts the figures of the nodes (grids or communities)
// from the ledger as of today (a date in China). It reads only the rooms
// of those nodes and the people living in them.
func (s *Store) ComputeGridStats(ctx context.Context, nodeIDs []string, today string) (map[string]*GridStats, error) {
	out := map[string]*GridStats{}
	if len(nodeIDs) == 0 {
		return out, nil
	}
	day, err := time.ParseInLocation("2006-01-02", today, chinaTime)
	if err != nil {
		return nil, err
	}
	// Which of the nodes are grids: rooms of a grid carry its id, rooms of
	// a community outside any grid carry none.
	set := map[string]bool{}
	for _, id := range nodeIDs {
		set[id] = true
	}
	var grids, comms []string
	if err := setChunks(set, 500, func(ph string, args []any) error {
		rows, err := s.r.QueryContext(ctx, `SELECT id, level FROM org_nodes WHERE id IN (`+ph+`)`, args...)
		if err != nil {
			return s.classify(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, level string
			if err := rows.Scan(&id, &level); err != nil {
				return err
			}
			switch level {
			case "grid":
				grids = append(grids, id)
			case "community":
				comms = append(comms, id)
			default:
				continue
			}
			out[id] = &GridStats{NodeID: id, AsOf: today}
		}
		return rows.Err()
	}); err != nil {
		return nil, err
	}
	cut := func(years int) string { return day.AddDate(-years, 0, 0).Format("2006-01-02") }
	since := day.AddDate(0, 0, -6).UnixMilli()
	run := func(ids []string, cond string) error {
		set := map[string]bool{}
		for _, id := range ids {
			set[id] = true
		}
		return setChunks(set, 200, func(ph string, args []any) error {
			n := len(args)
			arg := func(v any) string {
				args = append(args, v)
				return "$" + itoa(len(args))
			}
			where := strings.ReplaceAll(cond, "(?)", "("+ph+")")
			tday := arg(today)
			// Rooms and their survey.
			if err := s.scanInts(ctx, `SELECT COALESCE(r.grid_id, r.community_id), count(*), sum(CASE WHEN r.survey = 'surveyed' THEN 1 ELSE 0 END),
				sum(CASE WHEN r.survey = 'flagged' THEN 1 ELSE 0 END) FROM places r WHERE r.kind = 'room' AND `+where+` GROUP BY 1`, args[:n],
				func(id string, v []int) {
					if g := out[id]; g != nil {
						g.Rooms, g.RoomsSurveyed, g.RoomsFlagged = v[0], v[1], v[2]
					}
				}); err != nil {
				return err
			}
			// Current households.
			if err := s.scanInts(ctx, `SELECT COALESCE(r.grid_id, r.community_id), count(*) FROM places r JOIN households h ON h.room_id = r.id
				WHERE r.kind = 'room' AND h.ended_at IS NULL AND `+where+` GROUP BY 1`, args[:n],
				func(id string, v []int) {
					if g := out[id]; g != nil {
						g.Households = v[0]
					}
				}); err != nil {
				return err
			}
			// The people living there now, each once per node, grouped by
			// residency, age band, tenancy and health facts.
			c18, c60, c80, sinceArg := arg(cut(18)), arg(cut(60)), arg(cut(80)), arg(since)
			return s.scanInts(ctx, `SELECT x.node, CASE pe.residency WHEN 'registered' THEN 0 WHEN 'permanent' THEN 1 ELSE 2 END,
				CASE WHEN pe.birth_date IS NULL OR pe.birth_date = '' THEN 4 WHEN pe.birth_date > `+c18+` THEN 0 WHEN pe.birth_date > `+c60+` THEN 1
					WHEN pe.birth_date > `+c80+` THEN 2 ELSE 3 END,
				x.rental,
				CASE WHEN EXISTS (SELECT 1 FROM vaccinations v WHERE v.person_id = pe.id AND v.given_on <= `+tday+`) THEN 1 ELSE 0 END,
				CASE WHEN EXISTS (SELECT 1 FROM health_tests t WHERE t.person_id = pe.id AND t.sampled_at >= `+sinceArg+`) THEN 1 ELSE 0 END,
				CASE WHEN EXISTS (SELECT 1 FROM monitoring mo WHERE mo.person_id = pe.id AND mo.lifted_on IS NULL AND mo.start_date <= `+tday+`
					AND mo.end_date >= `+tday+`) THEN 1 ELSE 0 END,
				count(*)
				FROM (SELECT COALESCE(r.grid_id, r.community_id) AS node, m.person_id AS pid, max(CASE WHEN h.kind = 'rental' THEN 1 ELSE 0 END) AS rental
					FROM places r JOIN households h ON h.room_id = r.id AND h.ended_at IS NULL
					JOIN household_members m ON m.household_id = h.id AND (m.until IS NULL OR m.until >= `+tday+`)
					WHERE `+where+` GROUP BY COALESCE(r.grid_id, r.community_id), m.person_id) x
				JOIN persons pe ON pe.id = x.pid AND pe.merged_into IS NULL
				GROUP BY 1, 2, 3, 4, 5, 6, 7`, args,
				func(id string, v []int) {
					g := out[id]
					if g == nil {
						return
					}
					res, band, rental, vacc, tested, mon, n := v[0], v[1], v[2], v[3], v[4], v[5], v[6]
					switch res {
					case 0:
						g.Registered += n
					case 1:
						g.Permanent += n
					default:
						g.Floating += n
					}
					g.People[band] += n
					g.Vaccinated[band] += vacc * n
					g.Tenants += rental * n
					g.Tested7d += tested * n
					g.Monitored += mon * n
				})
		})
	}
	if err := run(grids, "r.grid_id IN (?)"); err != nil {
		return nil, err
	}
	if err := run(comms, "r.grid_id IS NULL AND r.community_id IN (?)"); err != nil {
		return nil, err
	}
	return out, nil
}

// scanInts runs a query whose rows are an id and integers.
func (s *Store) scanInts(ctx context.Context, q string, args []any, fn func(id string, v []int)) error {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return s.classify(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	v := make([]sql.NullInt64, len(cols)-1)
	dest := make([]any, len(cols))
	var id string
	dest[0] = &id
	for i := range v {
		dest[i+1] = &v[i]
	}
	n := make([]int, len(v))
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		for i := range v {
			n[i] = int(v[i].Int64)
		}
		fn(id, n)
	}
	return rows.Err()
}

// SaveGridStats stores recomputed figures and clears the dirty marks that
// were read before they were computed (seq: what DirtyGrids returned; a
// mark bumped since stays for the next round).
func (s *Store) SaveGridStats(ctx context.Context, stats map[string]*GridStats, seqs map[string]int64) error {
	ids := make([]string, 0, len(seqs))
	for id := range seqs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	now := s.now().UnixMilli()
	return s.Write(ctx, func(tx *Tx) error {
		for _, id := range ids {
			if g := stats[id]; g != nil {
				args := []any{g.NodeID, g.AsOf, g.Registered, g.Permanent, g.Floating, g.Tenants, g.Households, g.Rooms, g.RoomsSurveyed, g.RoomsFlagged}
				for _, n := range g.People {
					args = append(args, n)
				}
				for _, n := range g.Vaccinated {
					args = append(args, n)
				}
				args = append(args, g.Tested7d, g.Monitored, now)
				ph := make([]string, len(args))
				set := make([]string, 0, len(args))
				cols := strings.Split(gridStatCols, ",")
				for i := range args {
					ph[i] = "$" + itoa(i+1)
					if c := strings.TrimSpace(cols[i]); c != "node_id" {
						set = append(set, c+" = excluded."+c)
					}
				}
				if _, err := tx.exec(ctx, `INSERT INTO grid_stats (`+gridStatCols+`) VALUES (`+strings.Join(ph, ", ")+`)
					ON CONFLICT (node_id) DO UPDATE SET `+strings.Join(set, ", "), args...); err != nil {
					return err
				}
			}
			if seq := seqs[id]; seq > 0 {
				if _, err := tx.exec(ctx, `DELETE FROM dirty_grids WHERE node_id = $1 AND seq = $2`, id, seq); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
