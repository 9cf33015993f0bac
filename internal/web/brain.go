package web

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/brain"
	"shequ/internal/errs"
	"shequ/internal/gate"
	"shequ/internal/pii"
	"shequ/internal/siteplan"
	"shequ/internal/store"
)

// brainRoutes are the big screen (/brain) and its live stream.
func (s *Server) brainRoutes(mux *router) {
	mux.HandleFunc("GET /brain", s.signedIn(s.brainPage))
	mux.HandleFunc("GET /brain/stream", s.signedIn(s.brainStream))
}

// brainRefresh is how often an open big screen is redrawn.
const brainRefresh = 10 * time.Second

// brainNode is the node a big screen is about: the one asked for if the
// principal may see it, else their own scope (a community for its staff,
// a street or district for officials).
func (s *Server) brainNode(r *http.Request) (store.OrgNode, error) {
	p := reqOf(r).p
	scopes := p.Scopes(access.BrainView)
	if len(scopes) == 0 {
		return store.OrgNode{}, errForbidden
	}
	if id := r.URL.Query().Get("node"); id != "" {
		n, err := s.Store.OrgNode(r.Context(), id)
		if err != nil {
			return n, err
		}
		if !p.Can(access.BrainView, n.Path) {
			return n, errForbidden
		}
		return n, nil
	}
	parts := strings.Split(strings.Trim(scopes[0], "/"), "/")
	n, err := s.Store.OrgNode(r.Context(), parts[len(parts)-1])
	if err != nil {
		return n, err
	}
	// An administrator's scope is the whole tree: start at the first
	// street that has communities rather than at the province.
	if n.Level != store.LevelCommunity && n.Level != store.LevelStreet && n.Level != store.LevelDistrict {
		if comms, err := s.Store.NodesAt(r.Context(), []string{n.Path}, store.LevelCommunity); err == nil && len(comms) > 0 {
			return s.Store.OrgNode(r.Context(), comms[0].ParentID)
		}
	}
	return n, nil
}

func (s *Server) brainPage(w http.ResponseWriter, r *http.Request) {
	n, err := s.brainNode(r)
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "brain.view", "org_node", r.URL.Query().Get("node"), "")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	view, err := s.brainView(r, n)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "brain", map[string]any{"V": view, "Stream": "/brain/stream?node=" + n.ID})
}

// brainStream keeps an open big screen live: the panels redrawn every few
// seconds, and every alarm in its scope the moment it is raised.
func (s *Server) brainStream(w http.ResponseWriter, r *http.Request) {
	n, err := s.brainNode(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	comms, err := s.Store.NodesAt(r.Context(), []string{n.Path}, store.LevelCommunity)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := map[string]bool{}
	for _, c := range comms {
		in[c.ID] = true
	}
	ch, stop := s.Gates.Hub.Subscribe(func(e gate.AlarmEvent) bool { return in[e.CommunityID] })
	defer stop()
	es, ok := s.openStream(w, r)
	if !ok {
		return
	}
	tick := time.NewTicker(brainRefresh)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			view, err := s.brainView(r, n)
			if err != nil {
				s.Log.Error("big screen", "err", err.Error())
				continue
			}
			html, err := s.fragment(r, "brain", "brain_panels", map[string]any{"V": view})
			if err != nil {
				s.Log.Error("big screen", "err", err.Error())
				continue
			}
			es.send("board", map[string]string{"html": html, "at": view.Updated})
		case e := <-ch:
			es.send("alarm", alarmData(reqOf(r).pr, e))
		}
	}
}

// brainTile is a number on the big screen with the list behind it.
type brainTile struct {
	Key, Label, Value, Link string
	Alert                   bool
}

// brainChild is a row of the comparison of a street's communities (or a
// district's streets).
type brainChild struct {
	ID, Name                                   string
	Population, Floating, Surveyed, Vaccinated string
	LeadsOpen, EventsOpen, AlarmsOpen          int
}

// brainAlarm is a live alarm on the screen.
type brainAlarm struct{ ID, At, Gate, Kind, Person string }

// brainView is the big screen drawn from the board: tiles, charts (SVG)
// and lists, every figure linking to the list behind it.
type brainView struct {
	Node                              store.OrgNode
	Up                                *store.OrgNode
	Updated                           string
	Tiles, Staffing                   []brainTile
	Donuts, LeadDonuts                []template.HTML
	Bands, Hourly, Gates, Events, SLA template.HTML
	Site                              template.HTML
	PassesToday                       int
	PassesLink                        string
	Alarms                            []brainAlarm
	AlarmsOpen                        int
	Children                          []brainChild
}

func (s *Server) brainView(r *http.Request, n store.OrgNode) (brainView, error) {
	ctx := r.Context()
	pr := reqOf(r).pr
	b, err := brain.Figures(ctx, s.Store, n.Path)
	if err != nil {
		return brainView{}, err
	}
	v := brainView{Node: n, Updated: b.Now.In(shanghai).Format("15:04:05")}
	if n.ParentID != "" && reqOf(r).p.Can(access.BrainView, parentPath(n.Path)) {
		if up, err := s.Store.OrgNode(ctx, n.ParentID); err == nil {
			v.Up = &up
		}
	}
	t := b.Totals
	num := func(n int) string { return strconv.Itoa(n) }
	v.Tiles = []brainTile{
		{"population", pr.T("brain.population"), num(t.Population.N), t.Population.Link, false},
		{"registered", pr.T("brain.registered"), num(t.Registered.N), t.Registered.Link, false},
		{"permanent", pr.T("brain.permanent"), num(t.Permanent.N), t.Permanent.Link, false},
		{"floating", pr.T("brain.floating"), num(t.Floating.N), t.Floating.Link, false},
		{"tenants", pr.T("brain.tenants"), num(t.Tenants.N), t.Tenants.Link, false},
		{"monitored", pr.T("brain.monitored"), num(t.Monitored.N), t.Monitored.Link, t.Monitored.N > 0},
	}
	v.Donuts = []template.HTML{
		donut(float64(t.Survey.Done), float64(t.Survey.Of), pr.T("brain.surveyed"), t.Survey.Link, "#58a6ff", darkTheme),
		donut(float64(t.Vaccinated.Done), float64(t.Vaccinated.Of), pr.T("brain.vaccinated"), t.Vaccinated.Link, "#3fb950", darkTheme),
		donut(float64(t.Tested7d.Done), float64(t.Tested7d.Of), pr.T("brain.tested"), t.Tested7d.Link, "#d29922", darkTheme),
		donut(float64(t.Rooms.N-t.Flagged.N), float64(t.Rooms.N), pr.T("brain.no_flag"), t.Flagged.Link, "#a371f7", darkTheme),
	}
	var bands []Bar
	for _, band := range t.ByAge {
		if band.People == 0 && band.Name == "unknown" {
			continue
		}
		pct := 0.0
		if band.People > 0 {
			pct = 100 * float64(band.Vaccinated) / float64(band.People)
		}
		bands = append(bands, Bar{Label: pr.T("brain.band_" + band.Name), Value: math.Round(pct), Link: t.Vaccinated.Link, Color: "#3fb950"})
	}
	v.Bands = barList(bands, darkTheme)
	var hours []Bar
	for h, p := range b.PassesByHour {
		hours = append(hours, Bar{Label: fmt.Sprintf("%02d", h), Value: float64(p.Total)})
	}
	v.Hourly = columnChart(hours, 3, darkTheme)
	v.PassesToday, v.PassesLink = t.PassesToday.Total, "/gates/passes"
	var gates []Bar
	for _, g := range b.PassesByGate {
		gates = append(gates, Bar{Label: g.Name, Value: float64(g.Total), Link: g.Link})
	}
	if len(gates) > 12 {
		slices.SortFunc(gates, func(a, b Bar) int { return cmp.Compare(b.Value, a.Value) })
		gates = gates[:12]
	}
	v.Gates = barList(gates, darkTheme)
	v.LeadDonuts = []template.HTML{
		donut(float64(b.Leads.Clearance.Done), float64(b.Leads.Clearance.Of), pr.T("brain.leads_cleared"), b.Leads.Link, "#3fb950", darkTheme),
	}
	var cats []Bar
	for _, c := range b.Events.ByCategory {
		cats = append(cats, Bar{Label: c.Name, Value: float64(c.Open), Link: b.Events.Link})
	}
	v.Events = barList(cats, darkTheme)
	slaColors := map[string]string{store.SLAWaiting: "#9fb0c3", store.SLAOnTime: "#3fb950", store.SLADueSoon: "#d29922", store.SLAOverdue: "#f85149", store.SLAResolved: "#58a6ff"}
	var sla []Bar
	for _, k := range []string{store.SLAWaiting, store.SLAOnTime, store.SLADueSoon, store.SLAOverdue, store.SLAResolved} {
		sla = append(sla, Bar{Label: pr.T("brain.sla_" + k), Value: float64(b.Events.BySLA[k]), Link: b.Events.Link, Color: slaColors[k]})
	}
	v.SLA = barList(sla, darkTheme)
	st := b.Staffing
	v.Staffing = []brainTile{
		{"grids", pr.T("brain.grids"), num(st.Grids), st.Link, false},
		{"unstaffed", pr.T("brain.unstaffed"), num(st.Unstaffed), st.Link, st.Unstaffed > 0},
		{"workers", pr.T("brain.workers"), num(st.Workers), st.Link, false},
		{"per_worker", pr.T("brain.per_worker"), num(st.HouseholdsPerWorker), st.Link, false},
	}
	v.AlarmsOpen = b.Alarms.Open + b.Alarms.Acknowledged
	gateIDs := make([]string, 0, len(b.PassesByGate))
	for _, g := range b.PassesByGate {
		gateIDs = append(gateIDs, g.GateID)
	}
	if len(gateIDs) > 0 {
		as, err := s.Store.Alarms(ctx, gateIDs, true, 12)
		if err != nil {
			return v, err
		}
		for _, a := range as {
			v.Alarms = append(v.Alarms, brainAlarm{ID: a.ID, At: a.At.In(shanghai).Format("15:04:05"), Gate: a.GateName, Kind: pr.T("alarm." + a.Kind), Person: pii.MaskName(a.PersonMask)})
		}
	}
	if n.Level != store.LevelCommunity {
		for _, c := range b.Children {
			ct := c.Totals
			v.Children = append(v.Children, brainChild{ID: c.Node.ID, Name: c.Node.Name, Population: num(ct.Population.N), Floating: num(ct.Floating.N),
				Surveyed: fmt.Sprintf("%.0f%%", ct.Survey.Percent()), Vaccinated: fmt.Sprintf("%.0f%%", ct.Vaccinated.Percent()),
				LeadsOpen: ct.OpenLeads, EventsOpen: ct.OpenEvents, AlarmsOpen: ct.OpenAlarms})
		}
	} else {
		v.Site = s.brainSite(r, n)
	}
	return v, nil
}

// parentPath is the path of a node's parent.
func parentPath(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) < 2 {
		return ""
	}
	return "/" + strings.Join(parts[:len(parts)-1], "/") + "/"
}

// brainSite is the community's site plan, its buildings coloured by open
// events, gates with their state; "" when the community has no plan yet.
// Every open screen redraws it every 10 s, and it is most of a community
// screen's cost, so a drawing is shared by the screens of one community
// and language until a table it shows changes or it is sitePlanMaxAge old.
func (s *Server) brainSite(r *http.Request, n store.OrgNode) template.HTML {
	rq := reqOf(r)
	svg, err := s.sitePlans.Get(n.ID+"|"+rq.pr.Lang, func() (template.HTML, error) {
		plan, err := siteplan.Load(r.Context(), s.Store, n.ID, "events")
		if err != nil || !plan.HasPlan {
			return "", err
		}
		return siteplan.SVGWith(plan, rq.pr.T, siteplan.Options{Legend: true, Labels: true, ID: "brain-plan"}), nil
	})
	if err != nil {
		return ""
	}
	return svg
}

// sitePlanMaxAge bounds how stale a shared site-plan drawing may be (a
// gate's state changed by another instance, the day turning).
const sitePlanMaxAge = 5 * time.Second

// sitePlanTables are the tables the big screen's site plan is drawn from.
var sitePlanTables = []string{"siteplan_extents", "siteplan_footprints", "siteplan_shapes", "siteplan_gates", "siteplan_grids",
	"places", "households", "household_members", "monitoring", "events", "alarms", "gates", "devices", "org_nodes"}
