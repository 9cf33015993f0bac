package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"shequ/internal/loadgen"
)

// loadCmd drives a realistic mix of load against a server (or a demo it
// starts) and reports throughput, latency and errors per kind of request
// next to the same clients against a no-op handler.
func loadCmd(ctx context.Context, e *Env, args []string) error {
	fs := flag.NewFlagSet("shequ load", flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	url := fs.String("url", "", "server URL, e.g. http://127.0.0.1:8080 (or --demo)")
	devices := fs.String("device", "", "gate device tokens, comma-separated (for gate-peak)")
	selfreport := fs.String("selfreport", "", "a self-report code's token or form URL .../r/TOKEN (for selfreport-flood)")
	var logins []loadgen.Login
	fs.Func("login", "an account as ROLE:USERNAME:PASSWORD; role grid for grid-sync, staff or official for dashboards (repeatable)", func(v string) error {
		p := strings.SplitN(v, ":", 3)
		if len(p) != 3 || p[0] == "" || p[1] == "" {
			return errors.New("want ROLE:USERNAME:PASSWORD")
		}
		logins = append(logins, loadgen.Login{Role: p[0], Username: p[1], Password: p[2]})
		return nil
	})
	forwarded := fs.Bool("forwarded", false, "send each resident's own address in X-Forwarded-For (the server must run with --trust-proxy)")
	demo := fs.Bool("demo", false, "start a fresh `shequ demo` (SQLite, trusting X-Forwarded-For, no per-device rate budget) and load it; stopped and removed afterwards")
	people := fs.Int("people", 0, "with --demo: residents in the demo (default: the demo's own figures)")
	seed := fs.Uint64("seed", 1, "random seed (the demo's too)")
	mix := fs.String("mix", "all", "the load: "+loadgen.MixNames())
	duration := fs.Duration("duration", 30*time.Second, "how long each run lasts (the server's, then the limit's)")
	concurrency := fs.Int("concurrency", 16, "clients in all, shared among the mix's kinds by weight")
	rate := fs.Float64("rate", 0, "requests per second offered in all (open loop); 0: each client sends as soon as answered")
	limit := fs.Bool("limit", true, "also run the same clients against a no-op handler on this machine, for the ratio")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, ok := loadgen.Mixes[*mix]; !ok {
		return fmt.Errorf("--mix: unknown mix %q (one of %s)", *mix, loadgen.MixNames())
	}
	if *demo == (*url != "") {
		return errors.New("usage: shequ load (--demo | --url URL [--device TOKENS] [--selfreport TOKEN] [--login ROLE:USER:PASSWORD]…) [--mix MIX] [--duration D] [--concurrency N] [--rate R] [--json]")
	}
	t := loadgen.Target{URL: *url, Devices: splitCSV(*devices), Logins: logins, Forwarded: *forwarded}
	if _, tok, ok := strings.Cut(*selfreport, "/r/"); ok {
		t.SelfReport = strings.Trim(tok, "/")
	} else {
		t.SelfReport = *selfreport
	}
	pid := 0
	if *demo {
		d, err := startDemo(ctx, e, *seed, *people)
		if err != nil {
			return err
		}
		defer d.stop()
		t, pid = d.target, d.cmd.Process.Pid
		t.Forwarded = true
	}
	w, err := loadgen.Prepare(ctx, t)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stderr, "load: %s; mix %s, %d clients, %s a run\n", w.Summary(), *mix, *concurrency, *duration)
	rep, err := loadgen.Run(ctx, w, loadgen.Options{Mix: *mix, Concurrency: *concurrency, Duration: *duration, Rate: *rate, Seed: *seed, Limit: *limit, ServerPID: pid})
	if rep == nil {
		return err
	}
	if *demo {
		rep.Note = fmt.Sprintf("server: a fresh `shequ demo --seed %d --trust-proxy=true --rate-limits device=0` (SQLite, synchronous=FULL) in its own process on this machine, sharing its cores with the load tool.", *seed)
	}
	if *asJSON {
		if jerr := rep.WriteJSON(e.Stdout); jerr != nil {
			return jerr
		}
	} else {
		rep.WriteText(e.Stdout)
	}
	return err
}

// demoProcess is a `shequ demo` the load started.
type demoProcess struct {
	cmd    *exec.Cmd
	dir    string
	target loadgen.Target
}

// startDemo runs this binary's demo on a fresh database in a temporary
// directory and reads its logins, devices and self-report form.
func startDemo(ctx context.Context, e *Env, seed uint64, people int) (*demoProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "shequ-load-")
	if err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "demo.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logf.Close()
	// The demo's six device tokens stand in for hundreds of gates, so the
	// per-device budget (meant for one gate's own pace) is lifted; every
	// other budget stays, as does the limiter in the request path.
	args := []string{"demo", "--db", filepath.Join(dir, "demo.db"), "--addr", "127.0.0.1:0", "--seed", strconv.FormatUint(seed, 10), "--trust-proxy=true",
		"--rate-limits", "device=0"}
	if people > 0 {
		args = append(args, "--people", strconv.Itoa(people))
	}
	cmd := exec.Command(exe, args...)
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	d := &demoProcess{cmd: cmd, dir: dir}
	fmt.Fprintf(e.Stderr, "load: building the demo (pid %d, %s)…\n", cmd.Process.Pid, dir)
	type parsed struct {
		t   loadgen.Target
		err error
	}
	got := make(chan parsed, 1)
	go func() {
		t, err := loadgen.ParseDemo(out)
		got <- parsed{t, err}
		io.Copy(io.Discard, out) // whatever it prints later
	}()
	select {
	case p := <-got:
		if p.err != nil {
			d.stop()
			return nil, fmt.Errorf("starting the demo: %w", p.err)
		}
		d.target = p.t
		return d, nil
	case <-ctx.Done():
		d.stop()
		return nil, ctx.Err()
	}
}

// stop ends the demo (as Ctrl-C would) and removes its files.
func (d *demoProcess) stop() {
	d.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		d.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(d.dir)
}
