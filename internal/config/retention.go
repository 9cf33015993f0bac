package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day is 24 hours, the unit retention periods are usually given in.
const Day = 24 * time.Hour

// Retention is how long each kind of personal data is kept before the
// daily purge removes it (PIPL Art. 19: no longer than the purpose needs).
// Pass records keep their own setting, Config.PassRetention. docs/privacy.md
// lists every kind with its period and what starts the clock.
type Retention struct {
	// Faces: a face enrolled by someone who has moved out (every household
	// membership ended) is revoked and erased this long after the move;
	// the stored values of revoked cards and plates go after the same time.
	Faces time.Duration
	// Leads: a lead batch whose every lead is verified is deleted, with its
	// leads, their history and linked self-reports, this long after the last
	// verification; self-reports that never became a lead this long after
	// their last submission.
	Leads time.Duration
	// Health: test results, health-code snapshots, travel declarations and
	// ended monitoring this long after the sample, the snapshot, the
	// declaration or the end.
	Health time.Duration
	// Vaccinations: doses this long after they were given.
	Vaccinations time.Duration
	// Audit: audit entries (at least six months: Cybersecurity Law Art. 21).
	// The chain stays verifiable from a sealed anchor.
	Audit time.Duration
	// PartnerAccess: the log of partners' reads under sharing agreements
	// (at least six months).
	PartnerAccess time.Duration
	// Webhooks: delivered and abandoned webhook deliveries (their payload).
	Webhooks time.Duration
	// Notifications: in-app messages and SMS in the outbox.
	Notifications time.Duration
	// Visitors: visitor registrations, counted from the end of the visit.
	Visitors time.Duration
	// Alarms: gate alarms (fever, stranger …), counted from when raised.
	Alarms time.Duration
}

// DefaultRetention is used for every period not set.
func DefaultRetention() Retention {
	return Retention{
		Faces:         30 * Day,
		Leads:         180 * Day,
		Health:        180 * Day,
		Vaccinations:  5 * 365 * Day,
		Audit:         3 * 365 * Day,
		PartnerAccess: 3 * 365 * Day,
		Webhooks:      30 * Day,
		Notifications: 90 * Day,
		Visitors:      90 * Day,
		Alarms:        180 * Day,
	}
}

// ParsePeriod reads a retention period: whole days ("90d") or a Go
// duration ("2160h").
func ParsePeriod(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if d, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 || n > 100*365 {
			return 0, fmt.Errorf("not a number of days: %q", v)
		}
		return time.Duration(n) * Day, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("a period such as 90d or 2160h, not %q", v)
	}
	return d, nil
}

// retentionSetting makes the SHEQU_<NAME>_RETENTION setting of one period.
func retentionSetting(name, usage string, min time.Duration, field func(r *Retention) *time.Duration) setting {
	env := "SHEQU_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_RETENTION"
	return setting{env, name + "-retention", usage + " (e.g. " + fmtDays(*field(ptr(DefaultRetention()))) + ")", func(c *Config, v string) error {
		d, err := ParsePeriod(v)
		if err != nil {
			return err
		}
		if d < min {
			return fmt.Errorf("at least %s, not %q", fmtDays(min), v)
		}
		*field(&c.Retention) = d
		return nil
	}}
}

func ptr[T any](v T) *T { return &v }

func fmtDays(d time.Duration) string {
	if d%Day == 0 {
		return strconv.Itoa(int(d/Day)) + "d"
	}
	return d.String()
}

// sixMonths is the least a log must be kept (Cybersecurity Law Art. 21).
const sixMonths = 183 * Day

func init() {
	settings = append(settings,
		retentionSetting("face", "how long faces of people who moved out, and revoked card and plate values, are kept", Day, func(r *Retention) *time.Duration { return &r.Faces }),
		retentionSetting("lead", "how long finished lead batches and self-reports are kept", Day, func(r *Retention) *time.Duration { return &r.Leads }),
		retentionSetting("health", "how long test results, health codes, travel declarations and ended monitoring are kept", Day, func(r *Retention) *time.Duration { return &r.Health }),
		retentionSetting("vaccination", "how long vaccination doses are kept", Day, func(r *Retention) *time.Duration { return &r.Vaccinations }),
		retentionSetting("audit", "how long audit entries are kept (at least 183d)", sixMonths, func(r *Retention) *time.Duration { return &r.Audit }),
		retentionSetting("partner-log", "how long the log of partners' reads is kept (at least 183d)", sixMonths, func(r *Retention) *time.Duration { return &r.PartnerAccess }),
		retentionSetting("webhook", "how long delivered or abandoned webhook deliveries are kept", Day, func(r *Retention) *time.Duration { return &r.Webhooks }),
		retentionSetting("notification", "how long in-app messages and SMS are kept", Day, func(r *Retention) *time.Duration { return &r.Notifications }),
		retentionSetting("visitor", "how long visitor registrations are kept after the visit", Day, func(r *Retention) *time.Duration { return &r.Visitors }),
		retentionSetting("alarm", "how long gate alarms are kept", Day, func(r *Retention) *time.Duration { return &r.Alarms }),
	)
}
