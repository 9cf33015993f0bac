package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"shequ/internal/sharing"
)

// reportUp sends this instance's community aggregates to a street or
// district instance; run it from a timer (e.g. hourly).
func reportUp(ctx context.Context, e *Env, args []string) error {
	fs := flags(e, "report-up")
	to := fs.String("to", "", "base URL of the upper (street or district) instance")
	token := fs.String("token", "", "the partner token the upper instance issued to this community")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" || *token == "" {
		return errors.New("usage: shequ report-up --to URL --token TOKEN [flags]")
	}
	a, err := open(ctx, e, fs)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := sharing.ReportUp(ctx, a.Store, &http.Client{Timeout: 30 * time.Second}, *to, *token)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "reported %d communities to %s\n", n, *to)
	return nil
}
