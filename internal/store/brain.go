package store

import (
	"context"
	"time"
)

// The small live counts of the community brain (docs/brain.md): each
// reads only unfinished or recent rows through an index, grouped by the
// node they belong to so the brain can also split them per child.
//
// "org_nodes n CROSS JOIN t WHERE t.node = n.id AND n.path LIKE …" makes
// SQLite start from the nodes of the scope (it keeps the left side of a
// CROSS JOIN outside) and read the big table through its node index; with
// a plain JOIN it cannot tell the LIKE is selective and scans the big
// table. PostgreSQL plans CROSS JOIN like any join.

// NodeCount is a count of something at a node, by one or two keys.
type NodeCount struct {
	Node      string // the id of the node the rows belong to
	Key, Key2 string
	Name      string // a display name for Key, when it has one
	N         int
}

// OpenAlarmCounts counts the alarms not yet handled at gates of
// communities at or below path, by community, kind and status.
func (s *Store) OpenAlarmCounts(ctx context.Context, path string) ([]NodeCount, error) {
	var out []NodeCount
	err := s.each(ctx, func(r scanner) error {
		var c NodeCount
		err := r.Scan(&c.Node, &c.Key, &c.Key2, &c.N)
		out = append(out, c)
		return err
	}, `SELECT g.community_id, a.kind, a.status, count(*) FROM alarms a JOIN gates g ON g.id = a.gate_id JOIN org_nodes n ON n.id = g.community_id
		WHERE a.status IN ('open', 'acknowledged') AND n.path LIKE $1 GROUP BY g.community_id, a.kind, a.status`, likePrefix(path))
	return out, err
}

// LeadCounts counts the leads held at or below path, by holding node and
// status.
func (s *Store) LeadCounts(ctx context.Context, path string) ([]NodeCount, error) {
	var out []NodeCount
	err := s.each(ctx, func(r scanner) error {
		var c NodeCount
		err := r.Scan(&c.Node, &c.Key, &c.N)
		out = append(out, c)
		return err
	}, `SELECT l.node_id, l.status, count(*) FROM org_nodes n CROSS JOIN leads l WHERE l.node_id = n.id AND n.path LIKE $1 GROUP BY l.node_id, l.status`,
		likePrefix(path))
	return out, err
}

// LeadsVerifiedPerDay counts the leads held at or below path verified
// since a time, per day in China (Key: YYYY-MM-DD).
func (s *Store) LeadsVerifiedPerDay(ctx context.Context, path string, since time.Time) ([]NodeCount, error) {
	var out []NodeCount
	err := s.each(ctx, func(r scanner) error {
		var c NodeCount
		var day int64
		err := r.Scan(&c.Node, &day, &c.N)
		c.Key = time.UnixMilli(day * 86400000).UTC().Format("2006-01-02")
		out = append(out, c)
		return err
	}, `SELECT l.node_id, (l.verified_at + 28800000) / 86400000, count(*) FROM org_nodes n CROSS JOIN leads l
		WHERE l.node_id = n.id AND l.status = 'verified' AND l.verified_at >= $2 AND n.path LIKE $1 GROUP BY l.node_id, (l.verified_at + 28800000) / 86400000`,
		likePrefix(path), since.UnixMilli())
	return out, err
}

// SLA states of an open event.
const (
	SLAWaiting  = "waiting"  // reported, not accepted yet (no deadline)
	SLAOnTime   = "on_time"  // being handled, deadline more than the warning away
	SLADueSoon  = "due_soon" // being handled, deadline within the warning
	SLAOverdue  = "overdue"  // being handled, past the deadline
	SLAResolved = "resolved" // resolved or verified, waiting to be closed
)

// OpenEventCounts counts the unfinished events of communities at or below
// path, by node (the event's grid, else its community), category code and
// SLA state at now; due soon is a deadline within warn.
func (s *Store) OpenEventCounts(ctx context.Context, path string, now time.Time, warn time.Duration) ([]NodeCount, error) {
	var out []NodeCount
	err := s.each(ctx, func(r scanner) error {
		var c NodeCount
		err := r.Scan(&c.Node, &c.Key, &c.Name, &c.Key2, &c.N)
		out = append(out, c)
		return err
	}, `SELECT COALESCE(e.grid_id, e.community_id), c.code, c.name,
		CASE WHEN e.status = 'reported' THEN 'waiting' WHEN e.status IN ('resolved', 'verified') THEN 'resolved'
			WHEN e.due_at < $2 THEN 'overdue' WHEN e.due_at < $3 THEN 'due_soon' ELSE 'on_time' END, count(*)
		FROM org_nodes n CROSS JOIN events e JOIN event_categories c ON c.id = e.category_id
		WHERE e.community_id = n.id AND n.path LIKE $1 AND e.status NOT IN ('closed', 'rejected', 'evaluated')
		GROUP BY COALESCE(e.grid_id, e.community_id), c.code, c.name,
		CASE WHEN e.status = 'reported' THEN 'waiting' WHEN e.status IN ('resolved', 'verified') THEN 'resolved'
			WHEN e.due_at < $2 THEN 'overdue' WHEN e.due_at < $3 THEN 'due_soon' ELSE 'on_time' END`,
		likePrefix(path), now.UnixMilli(), now.Add(warn).UnixMilli())
	return out, err
}

// GridCrew is a grid at or below a path with its active grid workers and
// whether it has a leader.
type GridCrew struct {
	GridID, Path string
	Workers      []string // user ids
	Leader       bool
}

// GridCrews lists the grids at or below path with who works them.
func (s *Store) GridCrews(ctx context.Context, path string) ([]GridCrew, error) {
	var out []GridCrew
	at := map[string]int{}
	err := s.each(ctx, func(r scanner) error {
		var g GridCrew
		var leader int
		err := r.Scan(&g.GridID, &g.Path, &leader)
		g.Leader = leader > 0
		at[g.GridID] = len(out)
		out = append(out, g)
		return err
	}, `SELECT n.id, n.path, (SELECT count(*) FROM grid_leaders l WHERE l.grid_id = n.id) FROM org_nodes n
		WHERE n.level = 'grid' AND n.path LIKE $1 ORDER BY n.code`, likePrefix(path))
	if err != nil {
		return nil, err
	}
	err = s.each(ctx, func(r scanner) error {
		var grid, user string
		err := r.Scan(&grid, &user)
		if i, ok := at[grid]; ok {
			out[i].Workers = append(out[i].Workers, user)
		}
		return err
	}, `SELECT a.node_id, a.user_id FROM org_nodes n JOIN role_assignments a ON a.node_id = n.id AND a.role = 'grid'
		JOIN users u ON u.id = a.user_id AND u.disabled = 0 WHERE n.level = 'grid' AND n.path LIKE $1`, likePrefix(path))
	return out, err
}
