package assess

import (
	"context"
	"time"

	"shequ/internal/access"
	"shequ/internal/store"
)

// Staffing is who covers a community's grids now and how loaded they are.
type Staffing struct {
	Community store.OrgNode
	Settings  store.AssessSettings
	Grids     []GridStaff
	Workers   []WorkerLoad
	Unstaffed int
	Over      int // workers above the load limit
	History   []store.GridCover
}

// GridStaff is a grid, its leader and workers, and its households.
type GridStaff struct {
	ID, Code, Name, Leader string
	Workers                []string
	Households             int
	PerWorker              int // households ÷ workers, rounded; 0 when unstaffed
}

// WorkerLoad is a worker's share of households: each grid's households
// divided among the grid's workers, summed over the worker's grids.
type WorkerLoad struct {
	ID, Name   string
	Grids      []string
	Households int
	Over       bool
}

// Staffing reports the community's staffing as it stands.
func (s *Service) Staffing(ctx context.Context, p *access.Principal, communityID string) (Staffing, error) {
	comm, err := s.community(ctx, p, communityID, access.AssessView)
	if err != nil {
		return Staffing{}, err
	}
	st := Staffing{Community: comm}
	if st.Settings, err = s.Settings(ctx, comm.ID); err != nil {
		return st, err
	}
	grids, err := s.Store.NodesAt(ctx, []string{comm.Path}, store.LevelGrid)
	if err != nil {
		return st, err
	}
	var gridIDs []string
	for _, g := range grids {
		gridIDs = append(gridIDs, g.ID)
	}
	now := s.Store.Now()
	work, err := s.Store.WorkloadFacts(ctx, comm.ID, gridIDs, now.UnixMilli(), now.UnixMilli(), now.UnixMilli())
	if err != nil {
		return st, err
	}
	cover, err := s.Store.CoverageDuring(ctx, comm.Path, now.UnixMilli(), now.UnixMilli()+1)
	if err != nil {
		return st, err
	}
	leaders, err := s.Store.GridStaffing(ctx, comm.Path)
	if err != nil {
		return st, err
	}
	leaderOf := map[string]string{}
	for _, l := range leaders {
		leaderOf[l.GridID] = l.Leader
	}
	byGrid := map[string][]store.GridCover{}
	for _, c := range cover {
		byGrid[c.GridID] = append(byGrid[c.GridID], c)
	}
	loads := map[string]*WorkerLoad{}
	var order []string
	for _, g := range grids {
		gs := GridStaff{ID: g.ID, Code: g.Code, Name: g.Name, Leader: leaderOf[g.ID], Households: work.Households[g.ID]}
		cs := byGrid[g.ID]
		for _, c := range cs {
			gs.Workers = append(gs.Workers, c.UserName)
			w := loads[c.UserID]
			if w == nil {
				w = &WorkerLoad{ID: c.UserID, Name: c.UserName}
				loads[c.UserID] = w
				order = append(order, c.UserID)
			}
			w.Grids = append(w.Grids, g.Name)
		}
		if len(cs) == 0 {
			st.Unstaffed++
		} else {
			gs.PerWorker = (gs.Households + len(cs)/2) / len(cs)
		}
		st.Grids = append(st.Grids, gs)
	}
	// Shares are summed as fractions and rounded once per worker.
	share := map[string]float64{}
	for g, cs := range byGrid {
		for _, c := range cs {
			share[c.UserID] += float64(work.Households[g]) / float64(len(cs))
		}
	}
	for _, id := range order {
		w := loads[id]
		w.Households = int(share[id] + 0.5)
		w.Over = w.Households > st.Settings.LoadLimit
		if w.Over {
			st.Over++
		}
		st.Workers = append(st.Workers, *w)
	}
	st.History, err = s.Store.CoverageHistory(ctx, comm.Path, 50)
	return st, err
}

// Workload is the work in hand and done per worker and per grid, and the
// functional groups' share of events.
type Workload struct {
	Report
	Cutoff  time.Time // a household not visited since is due a visit
	Workers []WorkRow
	Grids   []WorkRow
	Groups  []store.GroupLoad
}

// WorkRow is one worker's or grid's work: the assessment's parts (visits,
// leads, events, patrols done in the period) and what is in hand now.
type WorkRow struct {
	Score
	Households, VisitsDue   int
	LeadsOpen, LeadsOverdue int // workers only: leads assigned to them
	TasksOpen, TasksDone    int // campaign tasks: open in the grids; done by the worker in the period
}

// Workload gathers the community's work for a period.
func (s *Service) Workload(ctx context.Context, p *access.Principal, communityID string, per Period) (Workload, error) {
	r, err := s.Assess(ctx, p, communityID, per)
	if err != nil {
		return Workload{}, err
	}
	w := Workload{Report: r}
	var gridIDs []string
	for _, g := range r.Grids {
		gridIDs = append(gridIDs, g.ID)
	}
	w.Cutoff = s.Store.Now().AddDate(0, 0, -r.Settings.VisitCycleDays)
	from, to := per.Bounds()
	work, err := s.Store.WorkloadFacts(ctx, r.Community.ID, gridIDs, w.Cutoff.UnixMilli(), from, to)
	if err != nil {
		return w, err
	}
	row := func(sc Score, grids []string) WorkRow {
		x := WorkRow{Score: sc}
		for _, g := range grids {
			x.Households += work.Households[g]
			x.VisitsDue += work.VisitsDue[g]
			x.TasksOpen += work.TasksOpen[g][0] - work.TasksOpen[g][1]
		}
		return x
	}
	for _, sc := range r.Workers {
		x := row(sc, sc.GridIDs)
		x.LeadsOpen, x.LeadsOverdue = work.OpenLeads[sc.ID][0], work.OpenLeads[sc.ID][1]
		x.TasksDone = work.TasksDoneBy[sc.ID]
		w.Workers = append(w.Workers, x)
	}
	for _, sc := range r.Grids {
		w.Grids = append(w.Grids, row(sc, []string{sc.ID}))
	}
	w.Groups = work.Groups
	return w, nil
}
