package brain

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"shequ/internal/store"
)

// RefreshEvery is how often the app's housekeeping runs the refresher; a
// committed ledger change shows on the big screen within this plus the
// time one refresh round takes (docs/brain.md).
const RefreshEvery = 5 * time.Second

// refreshBatch is how many nodes one round computes and stores together:
// a day's full refresh goes in such steps, each a short write.
const refreshBatch = 50

// Refresh recomputes grid_stats for every node that is dirty (a ledger
// write marked it in dirty_grids) or whose figures are missing or not of
// today (new nodes, the first run, a new day). It reports how many nodes
// it refreshed.
func Refresh(ctx context.Context, s *store.Store) (int, error) {
	today := s.Today()
	seqs, err := s.DirtyGrids(ctx, today)
	if err != nil || len(seqs) == 0 {
		return 0, err
	}
	ids := make([]string, 0, len(seqs))
	for id := range seqs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	done := 0
	for len(ids) > 0 {
		part := ids[:min(len(ids), refreshBatch)]
		ids = ids[len(part):]
		// The marks are read before the figures: a write committed after
		// this read bumps its mark again and is picked up next round.
		stats, err := s.ComputeGridStats(ctx, part, today)
		if err != nil {
			return done, err
		}
		sub := make(map[string]int64, len(part))
		for _, id := range part {
			sub[id] = seqs[id]
		}
		if err := s.SaveGridStats(ctx, stats, sub); err != nil {
			return done, err
		}
		done += len(part)
	}
	return done, nil
}

// Run refreshes every interval until ctx ends (started by the app); with
// several instances on one PostgreSQL database, a round that finds another
// instance refreshing skips its turn.
func Run(ctx context.Context, s *store.Store, log *slog.Logger, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		start := time.Now()
		n := 0
		// One instance at a time: two rounds interleaved could store older
		// figures over newer ones (the later save wins).
		if _, err := s.Alone(ctx, "brain refresh", func(ctx context.Context) (err error) {
			n, err = Refresh(ctx, s)
			return err
		}); err != nil && ctx.Err() == nil {
			log.Error("refreshing grid figures", "err", err.Error())
		} else if n > 100 {
			log.Info("refreshed grid figures", "nodes", n, "took", time.Since(start).Round(time.Millisecond).String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
