package app

import (
	"context"
	"time"
)

// deliverWebhooks sends partners' webhooks every interval: what is due,
// and the retries whose back-off has run out.
func (a *App) deliverWebhooks(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		res, err := a.Webhooks.Run(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			a.Log.Error("delivering webhooks", "err", err.Error())
		case res.Failed > 0 || res.Dropped > 0 || res.Expired > 0:
			a.Log.Warn("webhooks not delivered", "sent", res.Sent, "failed", res.Failed, "dropped", res.Dropped, "expired", res.Expired)
		}
	}
}
