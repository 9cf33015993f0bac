package assess

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/store"
)

// Service answers the people-and-performance questions of a community.
type Service struct {
	Store *store.Store
	Audit *audit.Log
}

// Report is a community's assessment for a period: its workers and its
// grids, each ranked, with the settings used and the workers' notes.
type Report struct {
	Community store.OrgNode
	Period    Period
	Settings  store.AssessSettings
	Workers   []Score
	Grids     []Score
	Notes     []store.AssessNote
}

// Worker returns the score of one worker.
func (r Report) Worker(userID string) (Score, bool) {
	for _, s := range r.Workers {
		if s.ID == userID {
			return s, true
		}
	}
	return Score{}, false
}

func (s *Service) community(ctx context.Context, p *access.Principal, id string, a access.Action) (store.OrgNode, error) {
	n, err := s.Store.OrgNode(ctx, id)
	if err != nil || n.Level != store.LevelCommunity {
		return n, errs.E(errs.NotFound, "err.not_found")
	}
	if !p.Can(a, n.Path) {
		return n, errs.E(errs.Forbidden, "err.forbidden")
	}
	return n, nil
}

// Settings are a community's weights and limits (the defaults until it
// sets its own).
func (s *Service) Settings(ctx context.Context, communityID string) (store.AssessSettings, error) {
	set, found, err := s.Store.AssessSettings(ctx, communityID)
	if err != nil || !found {
		return Defaults, err
	}
	return set, nil
}

// SaveSettings changes a community's weights and limits.
func (s *Service) SaveSettings(ctx context.Context, p *access.Principal, communityID string, set store.AssessSettings) error {
	comm, err := s.community(ctx, p, communityID, access.AssessManage)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name      string
		v, lo, hi int
	}{{"w_visits", set.Visits, 0, 100}, {"w_leads", set.Leads, 0, 100}, {"w_events", set.Events, 0, 100},
		{"w_patrols", set.Patrols, 0, 100}, {"w_rating", set.Rating, 0, 100}, {"patrols_per_week", set.PatrolsPerWeek, 1, 14},
		{"load_limit", set.LoadLimit, 1, 5000}, {"visit_cycle_days", set.VisitCycleDays, 1, 366}} {
		if f.v < f.lo || f.v > f.hi {
			return errs.E(errs.Invalid, "err.assess.range", f.lo, f.hi).OnField(f.name)
		}
	}
	if set.Visits+set.Leads+set.Events+set.Patrols+set.Rating == 0 {
		return errs.E(errs.Invalid, "err.assess.no_weight").OnField("w_visits")
	}
	before, _ := s.Settings(ctx, comm.ID)
	detail, _ := json.Marshal(map[string]any{"before": before, "after": set})
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SaveAssessSettings(ctx, comm.ID, set, p.UserID); err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: p.UserID, ActorName: p.Name, Action: "assess.settings", Outcome: "ok",
			TargetType: "org_node", TargetID: comm.ID, NodeID: comm.ID, Detail: string(detail)})
	})
}

// Assess computes a community's report for a period.
func (s *Service) Assess(ctx context.Context, p *access.Principal, communityID string, per Period) (Report, error) {
	comm, err := s.community(ctx, p, communityID, access.AssessView)
	if err != nil {
		return Report{}, err
	}
	return s.report(ctx, comm, per)
}

func (s *Service) report(ctx context.Context, comm store.OrgNode, per Period) (Report, error) {
	r := Report{Community: comm, Period: per}
	var err error
	if r.Settings, err = s.Settings(ctx, comm.ID); err != nil {
		return r, err
	}
	grids, err := s.Store.NodesAt(ctx, []string{comm.Path}, store.LevelGrid)
	if err != nil {
		return r, err
	}
	var gridIDs []string
	names := map[string]string{}
	for _, g := range grids {
		gridIDs = append(gridIDs, g.ID)
		names[g.ID] = g.Name
	}
	from, to := per.Bounds()
	facts, err := s.Store.AssessFacts(ctx, comm.ID, gridIDs, from, to, per.From, per.To)
	if err != nil {
		return r, err
	}
	cover, err := s.Store.CoverageDuring(ctx, comm.Path, from, to)
	if err != nil {
		return r, err
	}
	if r.Notes, err = s.Store.AssessNotes(ctx, comm.ID, per.Key()); err != nil {
		return r, err
	}
	today := s.Store.Now().In(china).Format("2006-01-02")
	var workers []unit
	for _, c := range cover {
		i := slices.IndexFunc(workers, func(u unit) bool { return u.userID == c.UserID })
		if i < 0 {
			workers = append(workers, unit{id: c.UserID, name: c.UserName, userID: c.UserID})
			i = len(workers) - 1
		}
		if !workers[i].in(c.GridID) {
			workers[i].grids = append(workers[i].grids, c.GridID)
		}
	}
	for _, u := range workers {
		sc := Score{ID: u.id, Name: u.name, GridIDs: u.grids, Parts: measure(u, facts, r.Settings, per, today)}
		for _, g := range u.grids {
			sc.Grids = append(sc.Grids, names[g])
		}
		for _, n := range r.Notes {
			if n.UserID == u.id {
				sc.Notes = append(sc.Notes, n)
			}
		}
		sc.finish()
		r.Workers = append(r.Workers, sc)
	}
	for _, g := range grids {
		u := unit{id: g.ID, name: g.Name, grids: []string{g.ID}}
		sc := Score{ID: g.ID, Name: g.Name, GridIDs: u.grids, Parts: measure(u, facts, r.Settings, per, today)}
		sc.finish()
		r.Grids = append(r.Grids, sc)
	}
	rank(r.Workers)
	rank(r.Grids)
	return r, nil
}

// Mine is a worker's own assessment in each community they covered a
// grid of during the period.
func (s *Service) Mine(ctx context.Context, p *access.Principal, per Period) ([]Report, error) {
	comms, err := s.Store.NodesAt(ctx, p.Scopes(access.GridWork), store.LevelCommunity)
	if err != nil {
		return nil, err
	}
	// A grid worker's scope is a grid: its community is the one above.
	grids, err := s.Store.NodesAt(ctx, p.Scopes(access.GridWork), store.LevelGrid)
	if err != nil {
		return nil, err
	}
	for _, g := range grids {
		if !slices.ContainsFunc(comms, func(c store.OrgNode) bool { return c.ID == g.ParentID }) {
			if c, err := s.Store.OrgNode(ctx, g.ParentID); err == nil {
				comms = append(comms, c)
			}
		}
	}
	var out []Report
	for _, c := range comms {
		r, err := s.report(ctx, c, per)
		if err != nil {
			return nil, err
		}
		sc, ok := r.Worker(p.UserID)
		if !ok {
			continue
		}
		r.Workers, r.Notes = []Score{sc}, sc.Notes
		out = append(out, r)
	}
	return out, nil
}

// NoteKinds are what a worker may add to an assessment.
var NoteKinds = []string{"explanation", "appeal"}

// AddNote lets a worker explain or appeal their own assessment of a
// period in a community where they were assessed.
func (s *Service) AddNote(ctx context.Context, p *access.Principal, communityID string, per Period, kind, body string) error {
	body = strings.TrimSpace(body)
	if !slices.Contains(NoteKinds, kind) {
		return errs.E(errs.Invalid, "err.assess.kind").OnField("kind")
	}
	if body == "" || len([]rune(body)) > 2000 {
		return errs.E(errs.Invalid, "err.assess.body").OnField("body")
	}
	comm, err := s.Store.OrgNode(ctx, communityID)
	if err != nil || comm.Level != store.LevelCommunity {
		return errs.E(errs.NotFound, "err.not_found")
	}
	from, to := per.Bounds()
	cover, err := s.Store.CoverageDuring(ctx, comm.Path, from, to)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(cover, func(c store.GridCover) bool { return c.UserID == p.UserID }) {
		return errs.E(errs.Forbidden, "err.assess.not_assessed")
	}
	status := "noted"
	if kind == "appeal" {
		status = "open"
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		return tx.AddAssessNote(ctx, &store.AssessNote{CommunityID: comm.ID, UserID: p.UserID, Period: per.Key(), Kind: kind, Body: body, Status: status})
	})
}

// Decide answers an appeal: upheld (with an adjustment of at most ±20
// points, in tenths) or dismissed, with a reply the worker reads.
func (s *Service) Decide(ctx context.Context, p *access.Principal, communityID, noteID, status, reply string, adjustTenths int) error {
	comm, err := s.community(ctx, p, communityID, access.AssessManage)
	if err != nil {
		return err
	}
	reply = strings.TrimSpace(reply)
	switch {
	case status != "upheld" && status != "dismissed":
		return errs.E(errs.Invalid, "err.assess.decision").OnField("status")
	case reply == "":
		return errs.E(errs.Invalid, "err.assess.reply").OnField("reply")
	case adjustTenths < -200 || adjustTenths > 200 || status == "dismissed" && adjustTenths != 0:
		return errs.E(errs.Invalid, "err.assess.adjust").OnField("adjust")
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		ok, err := tx.DecideAssessNote(ctx, noteID, status, reply, adjustTenths, p.UserID)
		if err != nil {
			return err
		}
		if !ok {
			return errs.E(errs.Conflict, "err.assess.decided")
		}
		return s.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: p.UserID, ActorName: p.Name, Action: "assess.appeal", Outcome: "ok",
			TargetType: "assess_note", TargetID: noteID, NodeID: comm.ID, Detail: fmt.Sprintf(`{"status":%q,"adjust":%d}`, status, adjustTenths)})
	})
}

// Trend is the final score of each worker and grid in successive months.
type Trend struct {
	Months  []Period
	Workers []Series
	Grids   []Series
}

// Series is one line of a trend chart; a month without data is -1.
type Series struct {
	ID, Name string
	Values   []float64
}

// Trends computes the last n months up to the one holding end.
func (s *Service) Trends(ctx context.Context, p *access.Principal, communityID string, n int, end time.Time) (Trend, error) {
	comm, err := s.community(ctx, p, communityID, access.AssessView)
	if err != nil {
		return Trend{}, err
	}
	var t Trend
	first := time.Date(end.In(china).Year(), end.In(china).Month()-time.Month(n-1), 1, 0, 0, 0, 0, china)
	for i := range n {
		t.Months = append(t.Months, MonthOf(first.AddDate(0, i, 0)))
	}
	put := func(list *[]Series, sc Score, i int) {
		j := slices.IndexFunc(*list, func(x Series) bool { return x.ID == sc.ID })
		if j < 0 {
			vals := make([]float64, n)
			for k := range vals {
				vals[k] = -1
			}
			*list = append(*list, Series{ID: sc.ID, Name: sc.Name, Values: vals})
			j = len(*list) - 1
		}
		if sc.Weighted > 0 {
			(*list)[j].Values[i] = sc.Final
		}
	}
	for i, m := range t.Months {
		r, err := s.report(ctx, comm, m)
		if err != nil {
			return t, err
		}
		for _, sc := range r.Workers {
			put(&t.Workers, sc, i)
		}
		for _, sc := range r.Grids {
			put(&t.Grids, sc, i)
		}
	}
	// The latest month's ranking first; a grid without data there last.
	slices.SortStableFunc(t.Grids, func(a, b Series) int { return cmp.Compare(b.Values[n-1], a.Values[n-1]) })
	return t, nil
}
