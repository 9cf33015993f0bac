package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"shequ/internal/audit"
	"shequ/internal/org"
	"shequ/internal/store"
)

func orgCmd(ctx context.Context, e *Env, args []string) error {
	if len(args) < 2 || args[0] != "import" {
		return errors.New("usage: shequ org import FILE.csv   (columns code,name[,level]; 12-digit division codes)")
	}
	fs := flags(e, "org import")
	if err := fs.Parse(args[2:]); err != nil {
		return err
	}
	f, err := os.Open(args[1])
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := open(ctx, e, fs)
	if err != nil {
		return err
	}
	defer a.Close()
	res, err := org.ImportCSV(ctx, a.Store, f, "", func(tx *store.Tx, created int) error {
		return a.Audit.Append(ctx, tx, &store.AuditEntry{ActorName: "system", Action: "org.import",
			Detail: audit.Detail("file", args[1], "created", created)})
	})
	if err != nil {
		return explain(err)
	}
	if len(res.Errors) > 0 {
		for _, re := range res.Errors {
			fmt.Fprintf(e.Stderr, "row %d, column %s: %s\n", re.Row, re.Column, english.T(re.Err.Key, re.Err.Args...))
		}
		return fmt.Errorf("%d problems; nothing was written", len(res.Errors))
	}
	fmt.Fprintf(e.Stdout, "%d created or updated, %d unchanged\n", res.Created, res.Skipped)
	return nil
}
