package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"shequ/internal/audit"
	"shequ/internal/ledger"
	"shequ/internal/ledgerio"
	"shequ/internal/store"
)

const importUsage = "usage: shequ import ledger FILE.xlsx|FILE.csv --community CODE [--valid-only]"

// importCmd loads a filled collection form into a community from the
// command line: every row is checked first; with problems nothing is
// written unless --valid-only is given, and the problems are listed.
func importCmd(ctx context.Context, e *Env, args []string) error {
	if len(args) < 2 || args[0] != "ledger" {
		return errors.New(importUsage)
	}
	file := args[1]
	fs := flags(e, "import ledger")
	community := fs.String("community", "", "12-digit code of the community to import into")
	validOnly := fs.Bool("valid-only", false, "import the rows without problems and list the others")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	if *community == "" {
		return errors.New(importUsage)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	a, err := open(ctx, e, fs)
	if err != nil {
		return err
	}
	defer a.Close()
	comm, err := a.Store.OrgNodeByCode(ctx, *community)
	if err != nil || comm.Level != store.LevelCommunity {
		return fmt.Errorf("--community %s: no such community", *community)
	}
	start := time.Now()
	rows, problems, err := ledgerio.Parse(bytes.NewReader(data), file, a.Now(), ledgerio.Limits{})
	if err != nil {
		return explain(err)
	}
	dbProblems, err := a.Ledger.CheckImport(ctx, rows)
	if err != nil {
		return err
	}
	problems = append(problems, dbProblems...)
	for _, p := range problems {
		fmt.Fprintf(e.Stderr, "row %d, column %s: %s", p.Line, p.Column, english.T(p.Key, p.Args...))
		if p.Value != "" {
			fmt.Fprintf(e.Stderr, " (%s)", p.Value)
		}
		fmt.Fprintln(e.Stderr)
	}
	if len(problems) > 0 && !*validOnly {
		return fmt.Errorf("%d problems; nothing was written (fix them, or use --valid-only)", len(problems))
	}
	rows = ledger.WithoutProblems(rows, problems)
	res, err := a.Ledger.CommitImport(ctx, ledger.Actor{Source: store.SourceImport}, comm.ID, rows, func(done int) {
		fmt.Fprintf(e.Stderr, "\r%d / %d rows", done, len(rows))
	})
	fmt.Fprintln(e.Stderr)
	if err != nil {
		return explain(err)
	}
	if err := a.Audit.Record(ctx, a.Store, &store.AuditEntry{ActorName: "system", Action: "import.ledger", NodeID: comm.ID,
		Detail: audit.Detail("file", file, "people", res.People, "skipped", len(problems))}); err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "imported %d people in %d households (%d new rooms, %d new buildings) into %s in %.1fs\n",
		res.People, res.Households, res.Rooms, res.Buildings, comm.Name, time.Since(start).Seconds())
	return nil
}
