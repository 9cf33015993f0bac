package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"shequ/internal/app"
	"shequ/internal/config"
	"shequ/internal/demo"
)

// demoCmd creates a fresh populated database and serves it. Contract:
// before serving it prints "url: http://HOST:PORT" and one
// "login: ROLE USERNAME PASSWORD" line per role.
func demoCmd(ctx context.Context, e *Env, args []string) error {
	fs := flags(e, "demo")
	people := fs.Int("people", 0, "number of residents (default: the article's figures)")
	seed := fs.Uint64("seed", 0, "random seed (0: a new community each time)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(fs, e.Getenv)
	if err != nil {
		return err
	}
	dbSet := false
	fs.Visit(func(f *flag.Flag) { dbSet = dbSet || f.Name == "db" })
	if !dbSet {
		dir, err := os.MkdirTemp("", "shequ-demo-")
		if err != nil {
			return err
		}
		cfg.DB = filepath.Join(dir, "demo.db")
		cfg.KeyFile = filepath.Join(dir, "demo.key")
	} else if d, _ := cfg.Dialect(); d == "sqlite" {
		if _, err := os.Stat(config.SQLitePath(cfg.DB)); err == nil {
			return &config.Error{Var: "-db", Msg: cfg.DB + " already exists; the demo makes a fresh database: remove it or choose another path"}
		}
		if fsValue(fs, "key-file") == "" && e.Getenv("SHEQU_KEY_FILE") == "" {
			// Where every other command will look for it (serve, gate-sim).
			cfg.KeyFile = cfg.DefaultKeyFile()
			if _, err := os.Stat(cfg.KeyFile); err == nil {
				return &config.Error{Var: "-db", Msg: cfg.KeyFile + " already exists; choose another path"}
			}
		}
	}
	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	start := time.Now()
	a, err := app.Open(ctx, cfg, app.NewLogger(cfg.LogLevel, e.Stderr), nil)
	if err != nil {
		return err
	}
	defer a.Close()
	if n, _ := a.Store.CountOrgNodes(ctx, ""); len(n) > 0 {
		return errors.New("the demo needs an empty database")
	}
	// Take the address first: a busy port fails at once, not after the build.
	addr, err := a.Listen()
	if err != nil {
		return err
	}
	res, err := demo.Build(ctx, demo.Env{Store: a.Store, Auth: a.Auth, Keys: a.Keys, Gates: a.Gates}, demo.Options{Seed: *seed, People: *people})
	if err != nil {
		return fmt.Errorf("building the demo: %w", err)
	}
	fmt.Fprintf(e.Stdout, "url: http://%s\n", addr.String())
	for _, l := range res.Logins {
		fmt.Fprintf(e.Stdout, "login: %s %s %s\n", l.Role, l.Username, l.Password)
	}
	for _, d := range res.Devices {
		fmt.Fprintf(e.Stdout, "device: %s %s\n", d.GateCode, d.Token)
	}
	if res.Open311Key != "" {
		fmt.Fprintf(e.Stdout, "open311: %s\n", res.Open311Key)
	}
	if res.PartnerToken != "" {
		fmt.Fprintf(e.Stdout, "partner: %s %s\n", res.PartnerName, res.PartnerToken)
	}
	if res.SelfReportToken != "" {
		fmt.Fprintf(e.Stdout, "selfreport: http://%s/r/%s\n", addr.String(), res.SelfReportToken)
	}
	if res.ResidentPhone != "" {
		fmt.Fprintf(e.Stdout, "# resident: log in at /login/resident with %s; the one-time code appears in the log\n", res.ResidentPhone)
	}
	fmt.Fprintf(e.Stdout, "# demo database %s (key %s), seed %d, built in %.1fs; Ctrl-C stops it\n",
		cfg.DB, cfg.KeyFile, *seed, time.Since(start).Seconds())
	if f, ok := e.Stdout.(*os.File); ok {
		f.Sync()
	}
	return a.Serve(ctx)
}

func fsValue(fs *flag.FlagSet, name string) string {
	v := ""
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			v = f.Value.String()
		}
	})
	return v
}
