package loadgen

import (
	"fmt"
	"sort"
	"strings"
)

// Scenario is one kind of client: what a gate device, a resident, a grid
// worker's phone or a big screen does.
type Scenario string

const (
	Gate       Scenario = "gate"       // a gate device: decisions, with its pass events uploaded in batches
	SelfReport Scenario = "selfreport" // a resident: the public form, its room picker, the report
	GridSync   Scenario = "grid"       // a grid worker's phone back online: queued visits, then fresh offline data
	Dashboards Scenario = "dashboards" // a big screen or board: the live stream held open, pages reloaded
)

// scenarioOrder is the order scenarios are listed and split in.
var scenarioOrder = []Scenario{Gate, SelfReport, GridSync, Dashboards}

// Mixes are the named loads: each gives the share of clients per scenario.
// "all" is a weekday morning: gates busiest, residents reporting, workers
// syncing after their first round, screens open in the offices.
var Mixes = map[string]map[Scenario]float64{
	"gate-peak":        {Gate: 1},
	"selfreport-flood": {SelfReport: 1},
	"grid-sync":        {GridSync: 1},
	"dashboards":       {Dashboards: 1},
	"all":              {Gate: 0.55, SelfReport: 0.20, GridSync: 0.15, Dashboards: 0.10},
}

// MixNames lists the mixes for help texts.
func MixNames() string {
	names := make([]string, 0, len(Mixes))
	for n := range Mixes {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Split shares n clients among the scenarios of a mix by weight (largest
// remainder), giving every scenario of the mix at least one client.
func Split(mix string, n int) (map[Scenario]int, error) {
	w, ok := Mixes[mix]
	if !ok {
		return nil, fmt.Errorf("unknown mix %q (one of %s)", mix, MixNames())
	}
	if n < len(w) {
		return nil, fmt.Errorf("the mix %s needs at least %d clients, one per kind; --concurrency is %d", mix, len(w), n)
	}
	var sum float64
	for _, v := range w {
		sum += v
	}
	out := map[Scenario]int{}
	type rem struct {
		s Scenario
		r float64
	}
	var rems []rem
	left := n - len(w) // one each first, the rest by weight
	given := 0
	for _, s := range scenarioOrder {
		v, ok := w[s]
		if !ok {
			continue
		}
		exact := float64(left) * v / sum
		out[s] = 1 + int(exact)
		given += int(exact)
		rems = append(rems, rem{s, exact - float64(int(exact))})
	}
	sort.SliceStable(rems, func(i, j int) bool { return rems[i].r > rems[j].r })
	for i := 0; given < left; i++ {
		out[rems[i%len(rems)].s]++
		given++
	}
	return out, nil
}
