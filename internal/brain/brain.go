// Package brain computes the figures of the big screen (the community
// brain, issue 10) for a community, a street or a district from rollups:
// grid_stats (ledger figures per grid, kept by Refresh) and pass_hourly
// (pass counts per gate and hour, kept by the pass insert), plus a few
// live counts of unfinished things that indexes keep cheap. Nothing here
// scans pass events or the whole ledger. Every figure is defined in
// docs/brain.md.
package brain

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"shequ/internal/store"
)

// DueSoon is how close to its deadline an event in hand counts as due
// soon.
const DueSoon = 2 * time.Hour

// Bands names the age bands of the vaccination figures, in order
// (store.Band0to17 …).
var Bands = []string{"0-17", "18-59", "60-79", "80+", "unknown"}

// Board is everything the big screen shows for one node.
type Board struct {
	Node  store.OrgNode // the scope: a community, street or district
	Now   time.Time
	Today string // the date in China the figures are of
	// StatsAsOf is the oldest refresh of the grid figures summed; zero
	// when none has been computed yet.
	StatsAsOf time.Time

	Totals Totals
	// Children are the nodes one level down (a district's streets, a
	// street's communities, a community's grids), each with its own
	// totals, for the comparison table; in code order.
	Children []Child

	// PassesByHour are today's passes per hour in China, 00:00 first;
	// hours after now are zero.
	PassesByHour [24]Passes
	// PassesByGate are today's passes per gate of the scope (every gate,
	// also those without passes), in community and gate code order.
	PassesByGate []GatePasses

	Alarms   Alarms
	Leads    Leads
	Events   Events
	Staffing Staffing
}

// Figure is a number with the link of the list behind it ("" when no list
// shows exactly these).
type Figure struct {
	N    int
	Link string
}

// Ratio is a part of a whole (coverage).
type Ratio struct {
	Done, Of int
	Link     string
}

// Percent is Done ÷ Of in percent, 0 when Of is 0.
func (r Ratio) Percent() float64 {
	if r.Of == 0 {
		return 0
	}
	return 100 * float64(r.Done) / float64(r.Of)
}

// Passes are counts of pass events.
type Passes struct {
	Total  int // every event
	In     int // allowed in
	Out    int // allowed out
	Denied int
}

func (p *Passes) add(h store.PassHour) {
	p.Total += h.Total
	p.In += h.In
	p.Out += h.Out
	p.Denied += h.Denied
}

// GatePasses are a gate's passes today.
type GatePasses struct {
	GateID, Code, Name, CommunityID string
	Passes
	Link string // the gate's pass records of today
}

// Band is one age band's vaccination coverage among residents.
type Band struct {
	Name               string
	People, Vaccinated int
}

// Totals are the figures of one node (the scope or a child).
type Totals struct {
	Population Figure // living there now: registered + permanent + floating
	Registered Figure // 户籍
	Permanent  Figure // 常住 (non-registered permanent residents)
	Floating   Figure // 流动
	Tenants    Figure // living in a rental household
	Households Figure
	Rooms      Figure
	Survey     Ratio  // rooms surveyed of all rooms
	Flagged    Figure // rooms whose survey found a problem
	Vaccinated Ratio  // residents with at least one dose, of all residents
	ByAge      []Band // the same per age band (Bands)
	Tested7d   Ratio  // residents with a test sampled in the last 7 days, of all residents
	Monitored  Figure // residents under monitoring or quarantine today

	PassesToday Passes
	OpenAlarms  int // open or acknowledged
	OpenLeads   int // not yet verified
	OpenEvents  int // not closed, rejected or evaluated
	Overdue     int // events in hand past their deadline
}

// Child is a node one level below the scope with its totals.
type Child struct {
	Node   store.OrgNode
	Totals Totals
}

// Alarms are the alarms not yet handled at the scope's gates.
type Alarms struct {
	Open, Acknowledged int
	ByKind             map[string]int // fever, stranger, code_colour, policy_deny, device_offline
	Link               string
}

// Leads are the leads held at or below the scope.
type Leads struct {
	Open, Assigned, Verified, Total int
	Clearance                       Ratio      // verified of all
	ClearedPerDay                   []DayCount // the last 7 days, oldest first
	Link                            string
}

// DayCount is a count on a date in China.
type DayCount struct {
	Day string
	N   int
}

// Events are the unfinished events of the scope.
type Events struct {
	Open       int
	BySLA      map[string]int // store.SLAWaiting, SLAOnTime, SLADueSoon, SLAOverdue, SLAResolved
	ByCategory []CategoryEvents
	Link       string
}

// CategoryEvents are the unfinished events of one category by SLA state.
type CategoryEvents struct {
	Code, Name string
	Open       int
	BySLA      map[string]int
}

// Staffing sums who works the scope's grids.
type Staffing struct {
	Grids, Staffed, Unstaffed int
	WithLeader                int
	Workers                   int // distinct active grid workers
	HouseholdsPerWorker       int // households in grids ÷ workers, rounded
	Link                      string
}

// Figures computes the board of the node at scopePath (a community,
// street or district path). The caller checks the viewer may see it.
func Figures(ctx context.Context, s *store.Store, scopePath string) (Board, error) {
	parts := strings.Split(strings.Trim(scopePath, "/"), "/")
	node, err := s.OrgNode(ctx, parts[len(parts)-1])
	if err != nil {
		return Board{}, err
	}
	now := s.Now()
	b := Board{Node: node, Now: now, Today: s.Today()}
	day, _ := time.ParseInLocation("2006-01-02", b.Today, china)

	// The nodes below: children one level down, and the child each node
	// lies in (by id: the live counts come grouped by node id).
	sub, err := s.OrgSubtree(ctx, node.Path)
	if err != nil {
		return b, err
	}
	idx := map[string]int{}
	for _, n := range sub {
		if n.ParentID == node.ID {
			idx[n.ID] = len(b.Children)
			b.Children = append(b.Children, Child{Node: n})
		}
	}
	childOf := map[string]int{} // node id → index of its child
	for _, n := range sub {
		rest, _ := strings.CutPrefix(n.Path, node.Path)
		id, _, _ := strings.Cut(rest, "/")
		if i, ok := idx[id]; ok {
			childOf[n.ID] = i
		}
	}
	each := func(nodeID string, fn func(t *Totals)) {
		fn(&b.Totals)
		if i, ok := childOf[nodeID]; ok {
			fn(&b.Children[i].Totals)
		}
	}

	// Ledger figures: the grid rollups.
	stats, err := s.GridStatsBelow(ctx, node.Path)
	if err != nil {
		return b, err
	}
	hh := map[string]int{} // households per grid, for the staffing figure
	for _, g := range stats {
		if b.StatsAsOf.IsZero() || g.RefreshedAt.Before(b.StatsAsOf) {
			b.StatsAsOf = g.RefreshedAt
		}
		hh[g.NodeID] = g.Households
		each(g.NodeID, func(t *Totals) { t.addStats(g) })
	}

	// Passes today: the hourly rollup, summed per hour and per gate.
	from := day
	hours, err := s.PassesPerHour(ctx, node.Path, from, from.Add(24*time.Hour))
	if err != nil {
		return b, err
	}
	for _, h := range hours {
		if i := int(h.Hour.Sub(from) / time.Hour); i >= 0 && i < 24 {
			b.PassesByHour[i].add(h)
		}
	}
	perGate, err := s.PassHourTotals(ctx, node.Path, from, from.Add(24*time.Hour))
	if err != nil {
		return b, err
	}
	byGate := map[string]*Passes{}
	for _, h := range perGate {
		p := &Passes{}
		p.add(h)
		byGate[h.GateID] = p
		each(h.CommunityID, func(t *Totals) { t.PassesToday.add(h) })
	}
	gates, err := s.Gates(ctx, []string{node.Path})
	if err != nil {
		return b, err
	}
	for _, g := range gates {
		if !strings.HasPrefix(g.CommunityPath, node.Path) {
			continue // a gate of the community a grid lies in
		}
		gp := GatePasses{GateID: g.ID, Code: g.Code, Name: g.Name, CommunityID: g.CommunityID,
			Link: "/gates/passes?" + query("gate", g.ID, "from", b.Today, "to", b.Today)}
		if p := byGate[g.ID]; p != nil {
			gp.Passes = *p
		}
		b.PassesByGate = append(b.PassesByGate, gp)
	}

	// Live: alarms, leads, events, staffing.
	alarms, err := s.OpenAlarmCounts(ctx, node.Path)
	if err != nil {
		return b, err
	}
	b.Alarms = Alarms{ByKind: map[string]int{}, Link: "/gates/alarms"}
	for _, a := range alarms {
		if a.Key2 == "open" {
			b.Alarms.Open += a.N
		} else {
			b.Alarms.Acknowledged += a.N
		}
		b.Alarms.ByKind[a.Key] += a.N
		each(a.Node, func(t *Totals) { t.OpenAlarms += a.N })
	}

	leads, err := s.LeadCounts(ctx, node.Path)
	if err != nil {
		return b, err
	}
	b.Leads.Link = "/leads"
	for _, l := range leads {
		switch l.Key {
		case "open":
			b.Leads.Open += l.N
		case "assigned":
			b.Leads.Assigned += l.N
		case "verified":
			b.Leads.Verified += l.N
		}
		b.Leads.Total += l.N
		if l.Key != "verified" {
			each(l.Node, func(t *Totals) { t.OpenLeads += l.N })
		}
	}
	b.Leads.Clearance = Ratio{Done: b.Leads.Verified, Of: b.Leads.Total, Link: "/leads"}
	week := day.AddDate(0, 0, -6)
	cleared, err := s.LeadsVerifiedPerDay(ctx, node.Path, week)
	if err != nil {
		return b, err
	}
	perDay := map[string]int{}
	for _, c := range cleared {
		perDay[c.Key] += c.N
	}
	for d := week; !d.After(day); d = d.AddDate(0, 0, 1) {
		k := d.Format("2006-01-02")
		b.Leads.ClearedPerDay = append(b.Leads.ClearedPerDay, DayCount{Day: k, N: perDay[k]})
	}

	evs, err := s.OpenEventCounts(ctx, node.Path, now, DueSoon)
	if err != nil {
		return b, err
	}
	b.Events = Events{BySLA: map[string]int{}, Link: "/events"}
	cats := map[string]*CategoryEvents{}
	var order []string
	for _, e := range evs {
		c := cats[e.Key]
		if c == nil {
			c = &CategoryEvents{Code: e.Key, Name: e.Name, BySLA: map[string]int{}}
			cats[e.Key] = c
			order = append(order, e.Key)
		}
		c.Open += e.N
		c.BySLA[e.Key2] += e.N
		b.Events.Open += e.N
		b.Events.BySLA[e.Key2] += e.N
		each(e.Node, func(t *Totals) {
			t.OpenEvents += e.N
			if e.Key2 == store.SLAOverdue {
				t.Overdue += e.N
			}
		})
	}
	slices.Sort(order)
	for _, k := range order {
		b.Events.ByCategory = append(b.Events.ByCategory, *cats[k])
	}
	slices.SortStableFunc(b.Events.ByCategory, func(x, y CategoryEvents) int { return y.Open - x.Open })

	crews, err := s.GridCrews(ctx, node.Path)
	if err != nil {
		return b, err
	}
	workers := map[string]bool{}
	households := 0
	for _, g := range crews {
		b.Staffing.Grids++
		if len(g.Workers) > 0 {
			b.Staffing.Staffed++
		} else {
			b.Staffing.Unstaffed++
		}
		if g.Leader {
			b.Staffing.WithLeader++
		}
		for _, w := range g.Workers {
			workers[w] = true
		}
		households += hh[g.GridID]
	}
	b.Staffing.Workers = len(workers)
	if b.Staffing.Workers > 0 {
		b.Staffing.HouseholdsPerWorker = (households + b.Staffing.Workers/2) / b.Staffing.Workers
	}
	if node.Level == store.LevelCommunity {
		b.Staffing.Link = "/people?" + query("community", node.ID)
	}

	b.Totals.link(node)
	for i := range b.Children {
		b.Children[i].Totals.link(b.Children[i].Node)
	}
	return b, nil
}

var china = time.FixedZone("CST", 8*3600)

// addStats adds one grid's figures.
func (t *Totals) addStats(g store.GridStats) {
	t.Registered.N += g.Registered
	t.Permanent.N += g.Permanent
	t.Floating.N += g.Floating
	t.Population.N += g.Population()
	t.Tenants.N += g.Tenants
	t.Households.N += g.Households
	t.Rooms.N += g.Rooms
	t.Survey.Done += g.RoomsSurveyed
	t.Survey.Of += g.Rooms
	t.Flagged.N += g.RoomsFlagged
	if t.ByAge == nil {
		t.ByAge = make([]Band, len(Bands))
		for i := range Bands {
			t.ByAge[i].Name = Bands[i]
		}
	}
	for i := range g.People {
		t.ByAge[i].People += g.People[i]
		t.ByAge[i].Vaccinated += g.Vaccinated[i]
		t.Vaccinated.Done += g.Vaccinated[i]
		t.Vaccinated.Of += g.People[i]
	}
	t.Tested7d.Done += g.Tested7d
	t.Tested7d.Of += g.Population()
	t.Monitored.N += g.Monitored
}

// link fills the links of the figures that have a list behind them.
func (t *Totals) link(n store.OrgNode) {
	if t.ByAge == nil {
		t.ByAge = make([]Band, len(Bands))
		for i := range Bands {
			t.ByAge[i].Name = Bands[i]
		}
	}
	persons := func(kv ...string) string {
		return "/ledger/persons?" + query(append([]string{"node", n.ID}, kv...)...)
	}
	t.Population.Link = persons()
	t.Registered.Link = persons("residency", "registered")
	t.Permanent.Link = persons("residency", "permanent")
	t.Floating.Link = persons("residency", "floating")
	t.Tenants.Link = persons("has", "tenant")
	t.Monitored.Link = persons("has", "monitoring")
	t.Vaccinated.Link = persons("has", "unvaccinated")
	t.Tested7d.Link = persons("has", "tested7d")
	t.Rooms.Link = "/ledger"
}

// query encodes key, value pairs in order.
func query(kv ...string) string {
	v := make([]string, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		v = append(v, url.QueryEscape(kv[i])+"="+url.QueryEscape(kv[i+1]))
	}
	return strings.Join(v, "&")
}
