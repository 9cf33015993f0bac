// Package gatesim drives simulated gate devices against a shequ server: a
// morning-peak mix of card, QR-pass and plate credentials with strangers
// and feverish residents, at a set rate, measuring what the devices
// experience. `shequ gate-sim` runs it for the demo and for load tests.
package gatesim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"shequ/internal/gate"
)

// Options shape a run.
type Options struct {
	URL      string
	Token    string
	Rate     float64       // decisions per second
	Duration time.Duration // how long to run
	Workers  int           // concurrent devices (connections)
	Seed     uint64
	// Credentials to present; empty means strangers only.
	Cards  []string
	Plates []string
	Passes func() string // a fresh resident QR pass code, or nil
	// Share of attempts by strangers and by residents with a fever.
	StrangerShare, FeverShare float64
	// Events also uploads a pass event for every decision, in batches.
	Events bool
}

// Result sums up a run.
type Result struct {
	Decisions, Allow, Deny, Review, Errors int
	EventsSent, EventsAccepted             int
	P50, P99, Max                          time.Duration
	Elapsed                                time.Duration
	FirstError                             string
}

// Summary is the one line `shequ gate-sim` prints.
func (r Result) Summary() string {
	return fmt.Sprintf("decisions=%d allow=%d deny=%d review=%d errors=%d p50_ms=%.2f p99_ms=%.2f",
		r.Decisions, r.Allow, r.Deny, r.Review, r.Errors, ms(r.P50), ms(r.P99))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Run sends decisions at opt.Rate for opt.Duration (open loop: a slow
// server does not slow the arrivals down, as at a real gate at 8 am).
func Run(ctx context.Context, opt Options) (Result, error) {
	if opt.Rate <= 0 {
		opt.Rate = 50
	}
	if opt.Workers <= 0 {
		opt.Workers = 32
	}
	if opt.Duration <= 0 {
		opt.Duration = 10 * time.Second
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: opt.Workers, MaxConnsPerHost: opt.Workers * 2}}
	total := int(opt.Rate * opt.Duration.Seconds())
	jobs := make(chan int, opt.Workers*4)
	var (
		mu        sync.Mutex
		res       Result
		latencies = make([]time.Duration, 0, total)
		seq       atomic.Int64
	)
	var wg sync.WaitGroup
	for w := 0; w < opt.Workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(opt.Seed+uint64(w), 99))
			var batch []gate.PassEvent
			flush := func() {
				if len(batch) == 0 {
					return
				}
				sent, ok, err := upload(ctx, client, opt, batch)
				mu.Lock()
				res.EventsSent += sent
				res.EventsAccepted += ok
				if err != nil {
					res.Errors++
					if res.FirstError == "" {
						res.FirstError = err.Error()
					}
				}
				mu.Unlock()
				batch = batch[:0]
			}
			for range jobs {
				req := attempt(rng, opt, seq.Add(1))
				start := time.Now()
				dr, err := decide(ctx, client, opt, req)
				lat := time.Since(start)
				mu.Lock()
				res.Decisions++
				latencies = append(latencies, lat)
				if err != nil {
					res.Errors++
					if res.FirstError == "" {
						res.FirstError = err.Error()
					}
				} else {
					switch dr.Outcome {
					case "allow":
						res.Allow++
					case "deny":
						res.Deny++
					case "review":
						res.Review++
					}
				}
				mu.Unlock()
				if opt.Events && err == nil {
					batch = append(batch, gate.PassEvent{EventID: req.EventID, Credential: req.Credential, Outcome: dr.Outcome, Reason: dr.Reason,
						TemperatureC: req.TemperatureC, Direction: "in", DeviceTime: time.Now().UTC()})
					if len(batch) >= 50 {
						flush()
					}
				}
			}
			flush()
		}(w)
	}
	start := time.Now()
	interval := time.Duration(float64(time.Second) / opt.Rate)
	next := start
	for i := 0; i < total && ctx.Err() == nil; i++ {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		jobs <- i
		next = next.Add(interval)
	}
	close(jobs)
	wg.Wait()
	res.Elapsed = time.Since(start)
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	if n := len(latencies); n > 0 {
		res.P50, res.P99, res.Max = latencies[n/2], latencies[min(n-1, n*99/100)], latencies[n-1]
	}
	return res, ctx.Err()
}

// attempt picks who walks up to the gate.
func attempt(rng *rand.Rand, opt Options, n int64) gate.DecideRequest {
	req := gate.DecideRequest{EventID: fmt.Sprintf("sim-%d-%d", opt.Seed, n), TemperatureC: 36.0 + rng.Float64()*0.9, Direction: "in",
		DeviceTime: time.Now().UTC()}
	r := rng.Float64()
	switch {
	case r < opt.StrangerShare || (len(opt.Cards) == 0 && len(opt.Plates) == 0 && opt.Passes == nil):
		req.Credential = gate.Credential{Kind: gate.CredCard, Value: fmt.Sprintf("ST%08d", rng.IntN(1e8))}
	case opt.Passes != nil && r < opt.StrangerShare+0.15:
		req.Credential = gate.Credential{Kind: gate.CredQR, Value: opt.Passes()}
	case len(opt.Plates) > 0 && r < opt.StrangerShare+0.25:
		req.Credential = gate.Credential{Kind: gate.CredPlate, Value: opt.Plates[rng.IntN(len(opt.Plates))]}
	case len(opt.Cards) > 0:
		req.Credential = gate.Credential{Kind: gate.CredCard, Value: opt.Cards[rng.IntN(len(opt.Cards))]}
	default:
		req.Credential = gate.Credential{Kind: gate.CredCard, Value: fmt.Sprintf("ST%08d", rng.IntN(1e8))}
	}
	if rng.Float64() < opt.FeverShare {
		req.TemperatureC = 37.5 + rng.Float64()*1.5
	}
	return req
}

func post(ctx context.Context, c *http.Client, opt Options, path string, body, out any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, "POST", opt.URL+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+opt.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func decide(ctx context.Context, c *http.Client, opt Options, req gate.DecideRequest) (gate.DecideResponse, error) {
	var r gate.DecideResponse
	return r, post(ctx, c, opt, "/api/device/v1/decide", req, &r)
}

func upload(ctx context.Context, c *http.Client, opt Options, evs []gate.PassEvent) (sent, accepted int, err error) {
	var r gate.EventsResponse
	if err := post(ctx, c, opt, "/api/device/v1/events", gate.EventsRequest{Events: evs}, &r); err != nil {
		return len(evs), 0, err
	}
	return len(evs), len(r.Accepted) + len(r.Duplicates), nil
}
