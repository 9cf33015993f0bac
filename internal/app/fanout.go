package app

import (
	"context"

	"shequ/internal/fanout"
)

// startFanout joins this process to the others serving the same
// PostgreSQL database, so that alarms raised through any of them reach the
// live pages of all, and the gate state each keeps in memory (policies,
// faces, used pass codes) follows changes made through any of them
// (internal/fanout). On SQLite there is one process and nothing to do.
func (a *App) startFanout(ctx context.Context) error {
	r, err := fanout.New(a.Cfg.DB, a.Log)
	if err != nil || r == nil {
		return err
	}
	fanout.Alarms(r, a.Gates.Hub)
	fanout.Gates(r, a.Gates)
	if err := r.Start(ctx); err != nil {
		return &StartupError{Var: "SHEQU_DB", Err: err}
	}
	a.Log.Info("alarms and gate changes shared with other instances", "channel", r.Channel())
	return nil
}
