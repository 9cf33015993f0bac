package store

import (
	"context"
	"database/sql"
)

// AssessFacts are the raw counts an assessment is computed from, for one
// community's grids and one period: [from, to) in Unix ms, and the same
// days as dates (fromDate to toDate inclusive) for lead deadlines and
// move-in dates.
type AssessFacts struct {
	Rooms      map[string]int // grid → rooms with a household during the period
	Visited    []VisitCount   // per worker and grid: distinct such rooms the worker visited
	GridVisits map[string]int // grid → distinct such rooms anyone visited
	Leads      []LeadFact
	Events     []EventFact
	Points     []PointFact
	Patrols    []PatrolCount
}

// VisitCount is how many rooms of a grid a user visited.
type VisitCount struct {
	UserID, GridID string
	Rooms          int
}

// LeadFact is a lead due in the period.
type LeadFact struct {
	AssigneeID, NodeID, Deadline string
	VerifiedAt                   int64 // 0: not verified
}

// EventFact is an event resolved or rated in the period.
type EventFact struct {
	ID, GridID                     string
	DueAt, ResolvedAt, EvaluatedAt int64 // 0: none
	Rating                         int   // 0: not rated
	Finishers                      []string
}

// PointFact is a patrol point in a grid.
type PointFact struct{ ID, GridID string }

// PatrolCount is how often a user checked in at a point.
type PatrolCount struct {
	UserID, PointID string
	N               int
}

// occupied is the condition "someone lived in room r during the period":
// a member of one of its households whose stay (since … until, dates)
// overlaps [$2, $3], in a household not ended before $1 (ms). Move-in
// dates rather than record dates, since the ledger is often filled in
// after people moved in.
const occupied = `EXISTS (SELECT 1 FROM households h JOIN household_members m ON m.household_id = h.id WHERE h.room_id = r.id
	AND (h.ended_at IS NULL OR h.ended_at >= $1) AND (m.since IS NULL OR m.since <= $3) AND (m.until IS NULL OR m.until >= $2))`

// AssessFacts gathers the counts for a community's grids.
func (s *Store) AssessFacts(ctx context.Context, communityID string, gridIDs []string, from, to int64, fromDate, toDate string) (AssessFacts, error) {
	f := AssessFacts{Rooms: map[string]int{}, GridVisits: map[string]int{}}
	if len(gridIDs) == 0 {
		return f, nil
	}
	ph, gargs := placeholders(gridIDs, 4)
	args := append([]any{from, fromDate, toDate}, gargs...)
	vph, vargs := placeholders(gridIDs, 5)
	vargs = append([]any{from, fromDate, toDate, to}, vargs...)
	err := s.each(ctx, func(sc scanner) error {
		var g string
		var n int
		if err := sc.Scan(&g, &n); err != nil {
			return err
		}
		f.Rooms[g] = n
		return nil
	}, `SELECT r.grid_id, count(*) FROM places r WHERE r.kind = 'room' AND r.grid_id IN (`+ph+`) AND `+occupied+` GROUP BY r.grid_id`, args...)
	if err != nil {
		return f, err
	}
	err = s.each(ctx, func(sc scanner) error {
		var v VisitCount
		if err := sc.Scan(&v.UserID, &v.GridID, &v.Rooms); err != nil {
			return err
		}
		f.Visited = append(f.Visited, v)
		return nil
	}, `SELECT v.user_id, r.grid_id, count(DISTINCT v.room_id) FROM visits v JOIN places r ON r.id = v.room_id
		WHERE v.at >= $1 AND v.at < $4 AND r.grid_id IN (`+vph+`) AND `+occupied+` GROUP BY v.user_id, r.grid_id`, vargs...)
	if err != nil {
		return f, err
	}
	err = s.each(ctx, func(sc scanner) error {
		var g string
		var n int
		if err := sc.Scan(&g, &n); err != nil {
			return err
		}
		f.GridVisits[g] = n
		return nil
	}, `SELECT r.grid_id, count(DISTINCT v.room_id) FROM visits v JOIN places r ON r.id = v.room_id
		WHERE v.at >= $1 AND v.at < $4 AND r.grid_id IN (`+vph+`) AND `+occupied+` GROUP BY r.grid_id`, vargs...)
	if err != nil {
		return f, err
	}
	err = s.each(ctx, func(sc scanner) error {
		var l LeadFact
		var who sql.NullString
		var at sql.NullInt64
		if err := sc.Scan(&who, &l.NodeID, &l.Deadline, &at); err != nil {
			return err
		}
		l.AssigneeID, l.VerifiedAt = who.String, at.Int64
		f.Leads = append(f.Leads, l)
		return nil
	}, `SELECT l.assignee_id, l.node_id, l.deadline, l.verified_at FROM leads l JOIN org_nodes n ON n.id = l.node_id JOIN org_nodes c ON c.id = $1
		WHERE n.path LIKE c.path || '%' AND l.deadline >= $2 AND l.deadline <= $3`, communityID, fromDate, toDate)
	if err != nil {
		return f, err
	}
	byID := map[string]int{}
	err = s.each(ctx, func(sc scanner) error {
		var e EventFact
		var grid sql.NullString
		var due, res, eval, rating sql.NullInt64
		if err := sc.Scan(&e.ID, &grid, &due, &res, &rating, &eval); err != nil {
			return err
		}
		e.GridID, e.DueAt, e.ResolvedAt, e.Rating, e.EvaluatedAt = grid.String, due.Int64, res.Int64, int(rating.Int64), eval.Int64
		byID[e.ID] = len(f.Events)
		f.Events = append(f.Events, e)
		return nil
	}, `SELECT e.id, e.grid_id, e.due_at, e.resolved_at, e.rating,
		(SELECT max(s.at) FROM event_steps s WHERE s.event_id = e.id AND s.action = 'evaluate')
		FROM events e WHERE e.community_id = $1 AND ((e.resolved_at >= $2 AND e.resolved_at < $3)
			OR EXISTS (SELECT 1 FROM event_steps s WHERE s.event_id = e.id AND s.action = 'evaluate' AND s.at >= $2 AND s.at < $3))
		ORDER BY e.id`, communityID, from, to)
	if err != nil {
		return f, err
	}
	err = s.each(ctx, func(sc scanner) error {
		var ev, actor string
		if err := sc.Scan(&ev, &actor); err != nil {
			return err
		}
		if i, ok := byID[ev]; ok {
			f.Events[i].Finishers = append(f.Events[i].Finishers, actor)
		}
		return nil
	}, `SELECT DISTINCT s.event_id, s.actor_id FROM event_steps s JOIN events e ON e.id = s.event_id
		WHERE e.community_id = $1 AND s.action = 'finish' AND s.actor_id IS NOT NULL AND ((e.resolved_at >= $2 AND e.resolved_at < $3)
			OR EXISTS (SELECT 1 FROM event_steps x WHERE x.event_id = e.id AND x.action = 'evaluate' AND x.at >= $2 AND x.at < $3))
		ORDER BY s.event_id, s.actor_id`, communityID, from, to)
	if err != nil {
		return f, err
	}
	err = s.each(ctx, func(sc scanner) error {
		var p PointFact
		if err := sc.Scan(&p.ID, &p.GridID); err != nil {
			return err
		}
		f.Points = append(f.Points, p)
		return nil
	}, `SELECT id, grid_id FROM patrol_points WHERE community_id = $1 AND grid_id IS NOT NULL ORDER BY id`, communityID)
	if err != nil {
		return f, err
	}
	err = s.each(ctx, func(sc scanner) error {
		var p PatrolCount
		if err := sc.Scan(&p.UserID, &p.PointID, &p.N); err != nil {
			return err
		}
		f.Patrols = append(f.Patrols, p)
		return nil
	}, `SELECT t.user_id, t.point_id, count(*) FROM patrols t JOIN patrol_points p ON p.id = t.point_id
		WHERE p.community_id = $1 AND t.at >= $2 AND t.at < $3 GROUP BY t.user_id, t.point_id`, communityID, from, to)
	return f, err
}

// Workload are the counts of work in hand in a community's grids now.
type Workload struct {
	Households  map[string]int    // grid → rooms with a household now
	VisitsDue   map[string]int    // grid → of those, not visited since the cutoff
	OpenLeads   map[string][2]int // assignee → open, of which overdue
	TasksOpen   map[string][2]int // grid → open campaigns' tasks: all, done
	TasksDoneBy map[string]int    // user → campaign tasks done in the period
	Groups      []GroupLoad
}

// GroupLoad is one functional group's share of events.
type GroupLoad struct {
	ID, Name                  string
	Open, Overdue, DoneInTime int
	Done                      int
}

// WorkloadFacts counts the work in hand: households and visits due
// (cutoff: a visit at or after it counts), open leads, campaign tasks, and
// the functional groups' event tasks (done ones counted in [from, to)).
func (s *Store) WorkloadFacts(ctx context.Context, communityID string, gridIDs []string, cutoff, from, to int64) (Workload, error) {
	w := Workload{Households: map[string]int{}, VisitsDue: map[string]int{}, OpenLeads: map[string][2]int{},
		TasksOpen: map[string][2]int{}, TasksDoneBy: map[string]int{}}
	if len(gridIDs) == 0 {
		return w, nil
	}
	now := s.now().UnixMilli()
	ph, gargs := placeholders(gridIDs, 3)
	err := s.each(ctx, func(sc scanner) error {
		var g string
		var n, due int
		if err := sc.Scan(&g, &n, &due); err != nil {
			return err
		}
		w.Households[g], w.VisitsDue[g] = n, due
		return nil
	}, `SELECT r.grid_id, count(*), sum(CASE WHEN EXISTS (SELECT 1 FROM visits v WHERE v.room_id = r.id AND v.at >= $2) THEN 0 ELSE 1 END)
		FROM places r WHERE r.kind = 'room' AND r.grid_id IN (`+ph+`)
		AND EXISTS (SELECT 1 FROM households h JOIN household_members m ON m.household_id = h.id
			WHERE h.room_id = r.id AND h.ended_at IS NULL AND (m.until IS NULL OR m.until >= $1)) GROUP BY r.grid_id`,
		append([]any{s.Today(), cutoff}, gargs...)...)
	if err != nil {
		return w, err
	}
	today := s.Today()
	err = s.each(ctx, func(sc scanner) error {
		var who string
		var n, late int
		if err := sc.Scan(&who, &n, &late); err != nil {
			return err
		}
		w.OpenLeads[who] = [2]int{n, late}
		return nil
	}, `SELECT l.assignee_id, count(*), sum(CASE WHEN l.deadline < $2 THEN 1 ELSE 0 END) FROM leads l JOIN org_nodes n ON n.id = l.node_id
		JOIN org_nodes c ON c.id = $1 WHERE n.path LIKE c.path || '%' AND l.status <> 'verified' AND l.assignee_id IS NOT NULL GROUP BY l.assignee_id`,
		communityID, today)
	if err != nil {
		return w, err
	}
	ph1, gargs1 := placeholders(gridIDs, 1)
	err = s.each(ctx, func(sc scanner) error {
		var g string
		var n, done int
		if err := sc.Scan(&g, &n, &done); err != nil {
			return err
		}
		w.TasksOpen[g] = [2]int{n, done}
		return nil
	}, `SELECT t.grid_id, count(*), count(t.done_at) FROM campaign_tasks t JOIN campaigns c ON c.id = t.campaign_id
		WHERE c.status = 'open' AND t.grid_id IN (`+ph1+`) GROUP BY t.grid_id`, gargs1...)
	if err != nil {
		return w, err
	}
	err = s.each(ctx, func(sc scanner) error {
		var who string
		var n int
		if err := sc.Scan(&who, &n); err != nil {
			return err
		}
		w.TasksDoneBy[who] = n
		return nil
	}, `SELECT t.done_by, count(*) FROM campaign_tasks t WHERE t.done_by IS NOT NULL AND t.done_at >= $1 AND t.done_at < $2
		AND t.grid_id IN (`+ph+`) GROUP BY t.done_by`, append([]any{from, to}, gargs...)...)
	if err != nil {
		return w, err
	}
	err = s.each(ctx, func(sc scanner) error {
		var g GroupLoad
		if err := sc.Scan(&g.ID, &g.Name, &g.Open, &g.Overdue, &g.Done, &g.DoneInTime); err != nil {
			return err
		}
		w.Groups = append(w.Groups, g)
		return nil
	}, `SELECT g.id, g.name,
		count(CASE WHEN t.status IN ('open','working') THEN 1 END),
		count(CASE WHEN t.status IN ('open','working') AND e.due_at < $2 THEN 1 END),
		count(CASE WHEN t.done_at >= $3 AND t.done_at < $4 THEN 1 END),
		count(CASE WHEN t.done_at >= $3 AND t.done_at < $4 AND (e.due_at IS NULL OR t.done_at <= e.due_at) THEN 1 END)
		FROM event_groups g LEFT JOIN event_tasks t ON t.group_id = g.id LEFT JOIN events e ON e.id = t.event_id
		WHERE g.community_id = $1 GROUP BY g.id, g.name ORDER BY g.name`, communityID, now, from, to)
	return w, err
}

// scanner is a row being read.
type scanner interface{ Scan(...any) error }

// each runs q and hands every row to fn.
func (s *Store) each(ctx context.Context, fn func(scanner) error, q string, args ...any) error {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
