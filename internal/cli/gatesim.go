package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"shequ/internal/auth"
	"shequ/internal/gatesim"
)

// gateSim drives simulated devices against a server. Contract: it ends by
// printing one line "decisions=N allow=A deny=D review=R errors=E
// p50_ms=X p99_ms=Y".
func gateSim(ctx context.Context, e *Env, args []string) error {
	fs := flags(e, "gate-sim")
	url := fs.String("url", "", "server URL, e.g. http://127.0.0.1:8080")
	token := fs.String("token", "", "a device token (printed by shequ demo)")
	rate := fs.Float64("rate", 50, "decisions per second")
	duration := fs.Duration("duration", 10*time.Second, "how long to run")
	workers := fs.Int("workers", 32, "concurrent devices")
	seed := fs.Uint64("seed", 1, "random seed")
	events := fs.Bool("events", true, "also upload a pass event per decision")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" || *token == "" {
		return errors.New("usage: shequ gate-sim --url URL --token TOKEN [--rate R] [--duration D] [--db DEMO.db]")
	}
	opt := gatesim.Options{URL: strings.TrimRight(*url, "/"), Token: *token, Rate: *rate, Duration: *duration, Workers: *workers,
		Seed: *seed, StrangerShare: 0.06, FeverShare: 0.03, Events: *events}
	dbSet := false
	fs.Visit(func(f *flag.Flag) { dbSet = dbSet || f.Name == "db" })
	if dbSet {
		if err := loadCredentials(ctx, e, fs, &opt); err != nil {
			return err
		}
	}
	fmt.Fprintf(e.Stderr, "gate-sim: %.0f decisions/s for %s with %d cards, %d plates\n", opt.Rate, opt.Duration, len(opt.Cards), len(opt.Plates))
	res, err := gatesim.Run(ctx, opt)
	if res.FirstError != "" {
		fmt.Fprintf(e.Stderr, "gate-sim: first error: %s\n", res.FirstError)
	}
	fmt.Fprintln(e.Stdout, res.Summary())
	return err
}

// loadCredentials reads the cards and plates of the token's community from
// the (demo) database, so the simulated residents are real ones.
func loadCredentials(ctx context.Context, e *Env, fs *flag.FlagSet, opt *gatesim.Options) error {
	a, err := open(ctx, e, fs)
	if err != nil {
		return err
	}
	defer a.Close()
	tok, err := a.Store.APITokenByHash(ctx, auth.HashToken(opt.Token))
	if err != nil {
		return fmt.Errorf("--token: not a token of this database")
	}
	_, g, err := a.Store.DeviceByUser(ctx, tok.UserID)
	if err != nil {
		return fmt.Errorf("--token: not a device token")
	}
	var residents []string
	cs, _, err := a.Store.CredentialChanges(ctx, g.CommunityID, 0, 1_000_000)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if !c.RevokedAt.IsZero() || c.ResFrom == "" { // revoked, or not living there
			continue
		}
		v, err := a.Keys.DecryptString(c.ValueEnc, "credentials.value")
		if err != nil {
			continue
		}
		switch c.Kind {
		case "card":
			opt.Cards = append(opt.Cards, v)
			residents = append(residents, c.PersonID)
		case "plate":
			opt.Plates = append(opt.Plates, v)
		}
	}
	if len(residents) > 0 {
		rng := rand.New(rand.NewPCG(opt.Seed, 7))
		gates := a.Gates
		comm := g.CommunityID
		// Each QR attempt shows a fresh code, as the resident's phone does:
		// a code opens a gate once.
		var mu sync.Mutex
		opt.Passes = func() string {
			mu.Lock()
			id := residents[rng.IntN(len(residents))]
			mu.Unlock()
			return gates.ResidentPass(id, comm, time.Minute)
		}
	}
	return nil
}
