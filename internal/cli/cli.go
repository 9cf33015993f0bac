// Package cli is the shequ command line: one binary, flag-based
// subcommands. Each subcommand reads the shared settings (flags and
// SHEQU_* variables) through config.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"shequ/internal/app"
	"shequ/internal/config"
)

// Env is the outside world of one run (replaced in tests).
type Env struct {
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr *os.File
	Getenv func(string) string
}

type command struct {
	summary string
	run     func(ctx context.Context, e *Env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":     {"run the web server", serve},
		"demo":      {"run a populated synthetic community (prints its logins)", demoCmd},
		"migrate":   {"apply database migrations and report the schema version", migrate},
		"user":      {"manage accounts: add, set-password, list, disable", userCmd},
		"org":       {"organisation tree: import a division table (CSV)", orgCmd},
		"import":    {"import a filled ledger collection form: import ledger FILE --community CODE", importCmd},
		"backup":    {"write an online, consistent copy of the SQLite database: backup --to FILE", backupCmd},
		"restore":   {"put a checked backup in place of the SQLite database: restore --from FILE", restoreCmd},
		"keys":      {"data-encryption keys: rotate without downtime, status", keysCmd},
		"gate-sim":  {"drive simulated gate devices against a server (demo, load tests)", gateSim},
		"load":      {"drive realistic load mixes against a server or a demo; throughput, latency, errors, against a no-op limit", loadCmd},
		"audit":     {"audit log: verify the hash chain", auditCmd},
		"report-up": {"send this instance's community aggregates to a street or district instance", reportUp},
		"version": {"print the version", func(ctx context.Context, e *Env, args []string) error {
			fmt.Fprintln(e.Stdout, "shequ", app.Version)
			return nil
		}},
	}
}

// Main runs the program and returns its exit code.
func Main(e *Env) int {
	if len(e.Args) < 2 || e.Args[1] == "help" || e.Args[1] == "-h" || e.Args[1] == "--help" {
		usage(e.Stdout)
		return 0
	}
	cmd, ok := commands()[e.Args[1]]
	if !ok {
		fmt.Fprintf(e.Stderr, "shequ: unknown command %q\n\n", e.Args[1])
		usage(e.Stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, e, e.Args[2:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(e.Stderr, "shequ:", err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "shequ — the smart-community brain\n\nUsage: shequ COMMAND [flags]\n\nCommands:")
	cs := commands()
	names := make([]string, 0, len(cs))
	for n := range cs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cs[n].summary)
	}
	fmt.Fprintln(w, "\nSettings come from flags or SHEQU_* variables (SHEQU_DB, SHEQU_ADDR, SHEQU_KEY_FILE …); run 'shequ serve -h'.")
}

// flags makes a flag set carrying the shared settings.
func flags(e *Env, name string) *flag.FlagSet {
	fs := flag.NewFlagSet("shequ "+name, flag.ContinueOnError)
	fs.SetOutput(e.Stderr)
	config.Register(fs)
	return fs
}

// open parses the shared settings and opens the program.
func open(ctx context.Context, e *Env, fs *flag.FlagSet) (*app.App, error) {
	cfg, err := config.Load(fs, e.Getenv)
	if err != nil {
		return nil, err
	}
	return app.Open(ctx, cfg, app.NewLogger(cfg.LogLevel, e.Stderr), nil)
}

func serve(ctx context.Context, e *Env, args []string) error {
	fs := flags(e, "serve")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := open(ctx, e, fs)
	if err != nil {
		return err
	}
	defer a.Close()
	addr, err := a.Listen()
	if err != nil {
		return err
	}
	a.Log.Info("serving", "addr", addr.String(), "version", app.Version)
	return a.Serve(ctx)
}

func migrate(ctx context.Context, e *Env, args []string) error {
	fs := flags(e, "migrate")
	if err := fs.Parse(args); err != nil {
		return err
	}
	a, err := open(ctx, e, fs)
	if err != nil {
		return err
	}
	defer a.Close()
	v, err := a.Store.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "schema version %d (%s)\n", v, a.Store.Dialect)
	return nil
}

func auditCmd(ctx context.Context, e *Env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: shequ audit verify [flags]")
	}
	fs := flags(e, "audit verify")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	a, err := open(ctx, e, fs)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := a.Audit.Verify(ctx, a.Store)
	if err != nil {
		return err
	}
	if anchor, err := a.Store.AuditAnchor(ctx); err == nil && anchor.Seq > 0 {
		fmt.Fprintf(e.Stdout, "audit chain intact: %d entries, from entry %d (entries 1–%d were purged after the retention period; the sealed start checks)\n", n, anchor.Seq+1, anchor.Seq)
		return nil
	}
	fmt.Fprintf(e.Stdout, "audit chain intact: %d entries\n", n)
	return nil
}

// splitCSV splits a comma-separated flag value.
func splitCSV(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
