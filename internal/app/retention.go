package app

import (
	"context"
	"fmt"
	"time"

	"shequ/internal/audit"
	"shequ/internal/store"
)

// Purged counts what one retention run removed, per kind (the keys are
// the kinds of docs/privacy.md's retention table).
type Purged map[string]int64

// Total is every row removed.
func (p Purged) Total() int64 {
	var n int64
	for _, v := range p {
		n += v
	}
	return n
}

// metaRetentionDay records the day (in China) the purges last ran, so
// they run once a day however often the job loop ticks, across restarts
// and across instances sharing one database.
const metaRetentionDay = "retention_last_day"

// RetentionIfDue runs the purges when they have not run yet today, by the
// app's clock; with several instances on one PostgreSQL database only one
// runs them (Store.Alone). It reports whether they ran here.
func (a *App) RetentionIfDue(ctx context.Context) (ran bool, p Purged, err error) {
	today := a.Now().In(china).Format("2006-01-02")
	if last, err := a.Store.Meta(ctx, metaRetentionDay); err != nil || last == today {
		return false, nil, err
	}
	_, err = a.Store.Alone(ctx, "retention", func(ctx context.Context) error {
		if last, err := a.Store.Meta(ctx, metaRetentionDay); err != nil || last == today {
			return err // another instance has just done it
		}
		ran = true
		if p, err = a.Retention(ctx); err != nil {
			return err
		}
		return a.Store.Write(ctx, func(tx *store.Tx) error { return tx.SetMeta(ctx, metaRetentionDay, today) })
	})
	return ran, p, err
}

var china = time.FixedZone("CST", 8*3600)

// Retention deletes every kind of personal data past its period (the
// settings in config.Retention and PassRetention), each in small batches,
// and writes one audit entry per kind that lost rows, with its count and
// cut-off (no personal data). It returns the counts.
func (a *App) Retention(ctx context.Context) (Purged, error) {
	now := a.Now()
	r := a.Cfg.Retention
	p := Purged{}
	// purges lists every kind in the order it runs (and is audited). A purge
	// returns the rows of its kind; those of a kind that goes with it
	// (erased card and plate values with faces, self-reports with leads)
	// it adds to p itself, under the same cut-off.
	purges := []struct {
		kind, also string
		period     time.Duration
		purge      func(before time.Time) (int64, error)
	}{
		{"passes", "", a.Cfg.PassRetention, func(t time.Time) (int64, error) { return a.Store.PurgePasses(ctx, t) }},
		{"faces", "credential_values", r.Faces, func(t time.Time) (int64, error) {
			faces, erased, err := a.Store.PurgeFaces(ctx, t)
			a.Gates.ForgetFaces(faces)
			p["credential_values"] += erased
			return int64(len(faces)), err
		}},
		{"leads", "self_reports", r.Leads, func(t time.Time) (int64, error) {
			leads, reports, err := a.Store.PurgeLeads(ctx, t)
			p["self_reports"] += reports
			return leads, err
		}},
		{"health", "", r.Health, func(t time.Time) (int64, error) { return a.Store.PurgeHealth(ctx, t) }},
		{"vaccinations", "", r.Vaccinations, func(t time.Time) (int64, error) { return a.Store.PurgeVaccinations(ctx, t) }},
		{"partner_access", "", r.PartnerAccess, func(t time.Time) (int64, error) { return a.Store.PurgePartnerAccess(ctx, t) }},
		{"webhook_deliveries", "", r.Webhooks, func(t time.Time) (int64, error) { return a.Store.PurgeWebhookDeliveries(ctx, t) }},
		{"notifications", "", r.Notifications, func(t time.Time) (int64, error) { return a.Store.PurgeOutbox(ctx, t) }},
		{"visitors", "", r.Visitors, func(t time.Time) (int64, error) { return a.Store.PurgeVisitors(ctx, t) }},
		{"alarms", "", r.Alarms, func(t time.Time) (int64, error) { return a.Store.PurgeAlarms(ctx, t) }},
		{"audit", "", r.Audit, func(t time.Time) (int64, error) { return a.Store.PurgeAudit(ctx, t, a.Audit.SealAnchor) }},
	}
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err // the other kinds still run
		}
	}
	for _, k := range purges {
		before := now.Add(-k.period)
		n, err := k.purge(before)
		p[k.kind] += n
		if err != nil {
			keep(fmt.Errorf("purging %s: %w", k.kind, err))
		}
		for _, kind := range []string{k.kind, k.also} {
			if kind == "" || p[kind] == 0 {
				continue
			}
			keep(a.Audit.Record(ctx, a.Store, &store.AuditEntry{ActorName: "system", Action: "retention.purge", TargetType: kind,
				Detail: audit.Detail("rows", p[kind], "before", before.UTC().Format(time.RFC3339))}))
		}
	}
	for kind, n := range p {
		if n == 0 {
			delete(p, kind)
		}
	}
	return p, firstErr
}
