package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// Percentile is the nearest-rank q-quantile (0 < q ≤ 1) of sorted
// durations: the smallest value with at least q of the samples at or
// below it. Empty input gives 0.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(n))) - 1
	return sorted[min(max(i, 0), n-1)]
}

// tally is what one client saw; tallies are merged after the run, so
// clients never share a lock while they measure.
type tally struct {
	lat    map[string][]time.Duration // per kind, successful or not
	errors map[string]map[string]int  // per kind: "HTTP 500", "network" … → count
}

func newTally() *tally {
	return &tally{lat: map[string][]time.Duration{}, errors: map[string]map[string]int{}}
}

func (t *tally) add(kind string, d time.Duration, errKind string) {
	t.lat[kind] = append(t.lat[kind], d)
	if errKind != "" {
		if t.errors[kind] == nil {
			t.errors[kind] = map[string]int{}
		}
		t.errors[kind][errKind]++
	}
}

func (t *tally) merge(o *tally) {
	for k, v := range o.lat {
		t.lat[k] = append(t.lat[k], v...)
	}
	for k, m := range o.errors {
		if t.errors[k] == nil {
			t.errors[k] = map[string]int{}
		}
		for e, c := range m {
			t.errors[k][e] += c
		}
	}
}

// KindStats sums up one kind of request over a run.
type KindStats struct {
	Kind     string         `json:"kind"`
	Count    int            `json:"count"`
	PerSec   float64        `json:"per_second"`
	P50MS    float64        `json:"p50_ms"`
	P99MS    float64        `json:"p99_ms"`
	MaxMS    float64        `json:"max_ms"`
	Errors   int            `json:"errors"`
	ErrorsBy map[string]int `json:"errors_by,omitempty"`
	// Against the limit (the same kind sent to the no-op handler):
	LimitPerSec float64 `json:"limit_per_second,omitempty"`
	LimitP50MS  float64 `json:"limit_p50_ms,omitempty"`
	RatioPerSec float64 `json:"ratio_per_second,omitempty"` // ours ÷ limit
	RatioP50    float64 `json:"ratio_p50,omitempty"`        // ours ÷ limit
}

// RunStats is one run (against the server, or the limit).
type RunStats struct {
	Elapsed float64     `json:"elapsed_s"`
	Kinds   []KindStats `json:"kinds"`
	Total   KindStats   `json:"total"`
	// Open streams of the big screens and what they carried.
	Streams      int `json:"streams,omitempty"`
	StreamBoards int `json:"stream_boards,omitempty"`
	StreamAlarms int `json:"stream_alarms,omitempty"`
}

// Report is what `shequ load` prints.
type Report struct {
	Mix         string           `json:"mix"`
	URL         string           `json:"url"`
	Clients     map[Scenario]int `json:"clients"`
	Concurrency int              `json:"concurrency"`
	Rate        float64          `json:"rate,omitempty"` // requests per second offered (0: closed loop)
	Duration    float64          `json:"duration_s"`
	Server      RunStats         `json:"server"`
	Limit       *RunStats        `json:"limit,omitempty"`
	// Peak resident memory in bytes during the run, when known.
	ServerPeakRSS int64  `json:"server_peak_rss,omitempty"`
	ToolPeakRSS   int64  `json:"tool_peak_rss,omitempty"`
	Note          string `json:"note,omitempty"`
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// stats turns a merged tally into per-kind figures, kinds in order.
func stats(t *tally, elapsed time.Duration, order []string) RunStats {
	rs := RunStats{Elapsed: elapsed.Seconds()}
	var all []time.Duration
	total := KindStats{Kind: "total", ErrorsBy: map[string]int{}}
	kinds := append([]string(nil), order...)
	for k := range t.lat {
		if !contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	for _, k := range kinds {
		lat := t.lat[k]
		if len(lat) == 0 {
			continue
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		ks := KindStats{Kind: k, Count: len(lat), P50MS: ms(Percentile(lat, 0.5)), P99MS: ms(Percentile(lat, 0.99)), MaxMS: ms(lat[len(lat)-1])}
		if elapsed > 0 {
			ks.PerSec = float64(len(lat)) / elapsed.Seconds()
		}
		for e, c := range t.errors[k] {
			if ks.ErrorsBy == nil {
				ks.ErrorsBy = map[string]int{}
			}
			ks.ErrorsBy[e] += c
			ks.Errors += c
			total.ErrorsBy[k+" "+e] += c
		}
		total.Errors += ks.Errors
		all = append(all, lat...)
		rs.Kinds = append(rs.Kinds, ks)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	total.Count = len(all)
	if len(all) > 0 {
		total.P50MS, total.P99MS, total.MaxMS = ms(Percentile(all, 0.5)), ms(Percentile(all, 0.99)), ms(all[len(all)-1])
	}
	if elapsed > 0 {
		total.PerSec = float64(len(all)) / elapsed.Seconds()
	}
	if len(total.ErrorsBy) == 0 {
		total.ErrorsBy = nil
	}
	rs.Total = total
	return rs
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// compare fills the limit columns of the server's figures: the same kind
// sent to the no-op handler in the same run.
func compare(server *RunStats, limit RunStats) {
	byKind := map[string]KindStats{"total": limit.Total}
	for _, k := range limit.Kinds {
		byKind[k.Kind] = k
	}
	fill := func(k *KindStats) {
		l, ok := byKind[k.Kind]
		if !ok {
			return
		}
		k.LimitPerSec, k.LimitP50MS = l.PerSec, l.P50MS
		if l.PerSec > 0 {
			k.RatioPerSec = k.PerSec / l.PerSec
		}
		if l.P50MS > 0 {
			k.RatioP50 = k.P50MS / l.P50MS
		}
	}
	for i := range server.Kinds {
		fill(&server.Kinds[i])
	}
	fill(&server.Total)
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report as a table.
func (r *Report) WriteText(w io.Writer) {
	var clients []string
	for _, s := range scenarioOrder {
		if n := r.Clients[s]; n > 0 {
			clients = append(clients, fmt.Sprintf("%s %d", s, n))
		}
	}
	loop := "closed loop (each client sends its next request when the last is answered)"
	if r.Rate > 0 {
		loop = fmt.Sprintf("open loop at %.0f requests/s (latency counted from when each request was due)", r.Rate)
	}
	fmt.Fprintf(w, "mix %s against %s: %d clients (%s), %s, %.0fs\n", r.Mix, r.URL, r.Concurrency, strings.Join(clients, ", "), loop, r.Duration)
	if r.Limit != nil {
		fmt.Fprintf(w, "limit: the same clients against a no-op HTTP handler (200, empty answer) on this machine, right after\n")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-16s %8s %9s %8s %8s %8s %7s", "kind", "count", "req/s", "p50 ms", "p99 ms", "max ms", "errors")
	if r.Limit != nil {
		fmt.Fprintf(w, " │ %9s %8s │ %8s %8s", "limit/s", "lim p50", "ratio/s", "ratio p50")
	}
	fmt.Fprintln(w)
	row := func(k KindStats) {
		fmt.Fprintf(w, "%-16s %8d %9.1f %8.2f %8.2f %8.1f %7d", k.Kind, k.Count, k.PerSec, k.P50MS, k.P99MS, k.MaxMS, k.Errors)
		if r.Limit != nil {
			fmt.Fprintf(w, " │ %9.1f %8.3f │ %7.3f× %8.1f×", k.LimitPerSec, k.LimitP50MS, k.RatioPerSec, k.RatioP50)
		}
		fmt.Fprintln(w)
	}
	for _, k := range r.Server.Kinds {
		row(k)
	}
	row(r.Server.Total)
	if len(r.Server.Total.ErrorsBy) > 0 {
		var es []string
		for e, c := range r.Server.Total.ErrorsBy {
			es = append(es, fmt.Sprintf("%s ×%d", e, c))
		}
		sort.Strings(es)
		fmt.Fprintf(w, "\nerrors: %s\n", strings.Join(es, "; "))
	}
	if r.Server.Streams > 0 {
		fmt.Fprintf(w, "\nbig screens: %d streams held open, %d board redraws and %d alarms received\n", r.Server.Streams, r.Server.StreamBoards, r.Server.StreamAlarms)
	}
	if r.ServerPeakRSS > 0 || r.ToolPeakRSS > 0 {
		fmt.Fprintln(w)
		if r.ServerPeakRSS > 0 {
			fmt.Fprintf(w, "server peak RSS during the run: %.0f MB; ", float64(r.ServerPeakRSS)/(1<<20))
		}
		fmt.Fprintf(w, "load tool peak RSS: %.0f MB\n", float64(r.ToolPeakRSS)/(1<<20))
	}
	if r.Note != "" {
		fmt.Fprintf(w, "\n%s\n", r.Note)
	}
}
