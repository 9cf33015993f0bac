// Package loadgen drives realistic mixes of load against a running shequ
// (gate devices at the morning peak, a flood of self-reports, grid
// workers syncing, big screens open) and measures, in the same run, the
// same clients against a no-op HTTP handler on the same machine: the
// limit the server's figures are divided by. `shequ load` runs it.
package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options shape a run.
type Options struct {
	Mix         string
	Concurrency int           // clients in all, shared among the mix's scenarios
	Duration    time.Duration // of each run (the server's, then the limit's)
	// Rate, when above 0, is the requests per second offered in all (open
	// loop, shared by weight); 0 means each client sends its next request
	// as soon as the last is answered.
	Rate  float64
	Seed  uint64
	Limit bool // also run the same clients against a no-op handler
	// ServerPID, when known (a demo the tool started), lets the report
	// give the server's peak memory during the run.
	ServerPID int
}

// Run runs the mix against the world's server, then (opt.Limit) against a
// no-op handler, and reports.
func Run(ctx context.Context, w *World, opt Options) (*Report, error) {
	if opt.Concurrency <= 0 {
		opt.Concurrency = 16
	}
	if opt.Duration <= 0 {
		opt.Duration = 10 * time.Second
	}
	split, err := Split(opt.Mix, opt.Concurrency)
	if err != nil {
		return nil, err
	}
	if _, _, err := w.clients(split, "check"); err != nil {
		return nil, err
	}
	rep := &Report{Mix: opt.Mix, URL: w.Target.URL, Clients: split, Concurrency: opt.Concurrency, Rate: opt.Rate, Duration: opt.Duration.Seconds()}
	resetPeakRSS(opt.ServerPID)
	srv, err := w.runOnce(ctx, opt, split, w.Target.URL, false)
	if err != nil {
		return nil, err
	}
	rep.ServerPeakRSS = peakRSS(opt.ServerPID)
	if opt.Limit && ctx.Err() == nil {
		noop, err := startNoop()
		if err != nil {
			return nil, err
		}
		lim, err := w.runOnce(ctx, opt, split, noop.url, true)
		noop.close()
		if err != nil {
			return nil, err
		}
		compare(&srv, lim)
		rep.Limit = &lim
	}
	rep.Server = srv
	rep.ToolPeakRSS = peakRSS(os.Getpid())
	return rep, ctx.Err()
}

var runs atomic.Int64

// runOnce runs every client against base for the duration. limit means
// base is the no-op handler: any 200 is a success there.
func (w *World) runOnce(ctx context.Context, opt Options, split map[Scenario]int, base string, limit bool) (RunStats, error) {
	nonce := strconv.FormatInt(time.Now().UnixNano()%1e12, 36) + strconv.FormatInt(runs.Add(1), 36)
	cs, scen, err := w.clients(split, nonce)
	if err != nil {
		return RunStats{}, err
	}
	noFollow := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	tr := &http.Transport{MaxIdleConnsPerHost: len(cs) + 4, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second, CheckRedirect: noFollow}
	str := &http.Transport{MaxIdleConnsPerHost: len(cs) + 4}
	defer str.CloseIdleConnections()
	sc := &http.Client{Transport: str, CheckRedirect: noFollow} // streams: no timeout
	streamCtx, endStreams := context.WithCancel(ctx)
	defer endStreams()

	// Each scenario's share of the offered rate, spread over its clients.
	weights := Mixes[opt.Mix]
	var wsum float64
	for _, v := range weights {
		wsum += v
	}
	var (
		wg              sync.WaitGroup
		readers         sync.WaitGroup
		mu              sync.Mutex
		all             = newTally()
		boards, alarms  atomic.Int64
		streams         atomic.Int64
		perScenarioSeen = map[Scenario]int{}
	)
	start := time.Now()
	deadline := start.Add(opt.Duration)
	for i, c := range cs {
		s := scen[i]
		k := perScenarioSeen[s]
		perScenarioSeen[s]++
		var interval, phase time.Duration
		if opt.Rate > 0 {
			r := opt.Rate * weights[s] / wsum / float64(split[s]) // this client's requests per second
			interval = time.Duration(float64(time.Second) / r)
			phase = interval * time.Duration(k) / time.Duration(split[s])
		}
		wg.Add(1)
		go func(i int, c client) {
			defer wg.Done()
			t := newTally()
			rng := rand.New(rand.NewPCG(opt.Seed, uint64(i)+1))
			if st, ok := c.(streamer); ok {
				begin := time.Now()
				body, errKind := openStream(streamCtx, sc, base, st.stream(), limit)
				t.add("brain-stream", time.Since(begin), errKind)
				if body != nil {
					streams.Add(1)
					readers.Add(1)
					go func() {
						defer readers.Done()
						defer body.Close()
						r := bufio.NewScanner(body)
						r.Buffer(make([]byte, 64<<10), 8<<20)
						for r.Scan() {
							switch r.Text() {
							case "event: board":
								boards.Add(1)
							case "event: alarm":
								alarms.Add(1)
							}
						}
					}()
				}
			}
			due := start.Add(phase)
			for ctx.Err() == nil {
				var begin time.Time
				if interval > 0 {
					if !due.Before(deadline) {
						break
					}
					if d := time.Until(due); d > 0 {
						select {
						case <-time.After(d):
						case <-ctx.Done():
						}
					}
					begin, due = due, due.Add(interval)
				} else {
					if begin = time.Now(); !begin.Before(deadline) {
						break
					}
				}
				st := c.next(rng)
				errKind := do(ctx, hc, base, st, limit)
				t.add(st.kind, time.Since(begin), errKind)
			}
			mu.Lock()
			all.merge(t)
			mu.Unlock()
		}(i, c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	endStreams()
	readers.Wait()
	rs := stats(all, elapsed, kindOrder)
	rs.Streams, rs.StreamBoards, rs.StreamAlarms = int(streams.Load()), int(boards.Load()), int(alarms.Load())
	return rs, nil
}

func newRequest(ctx context.Context, base string, st step) (*http.Request, error) {
	var body io.Reader
	if st.body != nil {
		body = bytes.NewReader(st.body)
	}
	req, err := http.NewRequestWithContext(ctx, st.method, base+st.path, body)
	if err != nil {
		return nil, err
	}
	if st.ctype != "" {
		req.Header.Set("Content-Type", st.ctype)
	}
	if st.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+st.bearer)
	}
	if st.cookie != "" {
		req.Header.Set("Cookie", st.cookie)
	}
	if st.xff != "" {
		req.Header.Set("X-Forwarded-For", st.xff)
	}
	return req, nil
}

// do sends one request and says what went wrong, if anything: "HTTP
// 500", "network", or what the step's reader found.
func do(ctx context.Context, hc *http.Client, base string, st step, limit bool) string {
	req, err := newRequest(ctx, base, st)
	if err != nil {
		return "bad request"
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "cancelled"
		}
		return "network"
	}
	defer resp.Body.Close()
	want := st.want
	if limit {
		want = http.StatusOK
	}
	if resp.StatusCode != want {
		io.Copy(io.Discard, resp.Body)
		return "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	if st.read == nil {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return "network"
		}
		return ""
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "network"
	}
	return st.read(b)
}

// openStream opens a server-sent event stream and waits for its first
// line; the caller reads on and closes the body.
func openStream(ctx context.Context, hc *http.Client, base string, st step, limit bool) (io.ReadCloser, string) {
	req, err := newRequest(ctx, base, st)
	if err != nil {
		return nil, "bad request"
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "network"
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, "HTTP " + strconv.Itoa(resp.StatusCode)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		resp.Body.Close()
		return nil, "not a stream"
	}
	// The first byte: the server's "retry:" line, flushed at once.
	var one [1]byte
	if _, err := io.ReadFull(resp.Body, one[:]); err != nil {
		resp.Body.Close()
		return nil, "network"
	}
	return resp.Body, ""
}

// noop is the limit: an HTTP server on this machine that reads the request
// and answers 200 with nothing to say (and holds a stream open with one
// line, as the big screen's does).
type noop struct {
	url   string
	srv   *http.Server
	close func()
}

func startNoop() (*noop, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.Header.Get("Accept") == "text/event-stream" {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "retry: 2000\n\n")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte("{}"))
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	n := &noop{url: "http://" + ln.Addr().String(), srv: srv}
	n.close = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Close()
	}
	return n, nil
}

// resetPeakRSS starts a process's peak memory afresh (Linux: clear_refs 5),
// so the peak read after the run is the run's. Best effort.
func resetPeakRSS(pid int) {
	if pid > 0 {
		os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
	}
}

// peakRSS is a process's peak resident memory in bytes (Linux VmHWM), or
// 0 when unknown.
func peakRSS(pid int) int64 {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
