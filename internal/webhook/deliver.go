package webhook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"shequ/internal/pii"
	"shequ/internal/store"
)

// Defaults of a Deliverer.
const (
	DefaultTimeout = 10 * time.Second
	DefaultMaxAge  = 3 * 24 * time.Hour
	firstWait      = 30 * time.Second
	maxWait        = time.Hour
)

// Reasons a delivery is given up on without a receiver's error.
const (
	ReasonRefused = "refused: no sharing agreement covers this event"
	ReasonExpired = "expired: not delivered in time"
)

// Backoff is how long a delivery waits after its n-th failed attempt:
// 30 s, doubling, at most an hour.
func Backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 12 {
		return maxWait
	}
	return min(firstWait<<(n-1), maxWait)
}

// Deliverer sends queued deliveries. Several may run at once (two
// instances of the program, or a run that overlaps the next): each
// delivery is claimed with a conditional UPDATE before it is sent.
type Deliverer struct {
	Store *store.Store
	Keys  *pii.Keyring
	// Client sends the requests; nil means one with DefaultTimeout that
	// does not follow redirects (a 3xx is a failure).
	Client *http.Client
	// Allowed is the sharing gate: may this partner be told of this kind
	// of change to a record at this node? nil allows everything. A
	// delivery it refuses is dropped (dead, with the reason), not sent.
	Allowed func(ctx context.Context, partnerID, kind, nodePath string) bool
	// MaxAge is how long a delivery is retried before it is given up on
	// (0: DefaultMaxAge).
	MaxAge time.Duration
	// Parallel is how many records are sent to at once (0: 8).
	Parallel int
}

// Result counts what a run did.
type Result struct {
	Sent, Failed, Dropped, Expired int
}

var defaultClient = &http.Client{Timeout: DefaultTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (d *Deliverer) client() *http.Client {
	if d.Client != nil {
		return d.Client
	}
	return defaultClient
}

func (d *Deliverer) maxAge() time.Duration {
	if d.MaxAge > 0 {
		return d.MaxAge
	}
	return DefaultMaxAge
}

// Run sends what is due, round after round while rounds deliver
// something (the next event of a record becomes due when the one before
// it is delivered), and returns the counts.
func (d *Deliverer) Run(ctx context.Context) (Result, error) {
	var res Result
	err := d.Store.Write(ctx, func(tx *store.Tx) error {
		n, err := tx.ExpireWebhookDeliveries(ctx, d.Store.Now().Add(-d.maxAge()), ReasonExpired)
		res.Expired = int(n)
		return err
	})
	if err != nil {
		return res, err
	}
	for range 50 {
		due, err := d.Store.DueWebhookDeliveries(ctx, d.Store.Now(), 200)
		if err != nil || len(due) == 0 {
			return res, err
		}
		round, err := d.round(ctx, due)
		res.Sent += round.Sent
		res.Failed += round.Failed
		res.Dropped += round.Dropped
		if err != nil || round.Sent == 0 || ctx.Err() != nil {
			return res, err
		}
	}
	return res, nil
}

// round sends a list of due deliveries, each of a different record, a
// few at a time.
func (d *Deliverer) round(ctx context.Context, due []store.WebhookDelivery) (Result, error) {
	par := d.Parallel
	if par <= 0 {
		par = 8
	}
	var (
		mu    sync.Mutex
		res   Result
		first error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, par)
	for _, del := range due {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			outcome, err := d.one(ctx, del)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = err
			}
			switch outcome {
			case sent:
				res.Sent++
			case failed:
				res.Failed++
			case dropped:
				res.Dropped++
			}
		})
	}
	wg.Wait()
	return res, first
}

type outcome int

const (
	skipped outcome = iota // another deliverer has it
	sent
	failed
	dropped
)

// one claims, sends and records one delivery.
func (d *Deliverer) one(ctx context.Context, del store.WebhookDelivery) (outcome, error) {
	timeout := d.client().Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	var mine bool
	err := d.Store.Write(ctx, func(tx *store.Tx) error {
		var err error
		mine, err = tx.ClaimWebhookDelivery(ctx, del.ID, tx.Now().Add(timeout+time.Minute))
		return err
	})
	if err != nil || !mine {
		return skipped, err
	}
	if del.Kind != store.HookPing && d.Allowed != nil && !d.Allowed(ctx, del.PartnerID, del.Kind, del.NodePath) {
		return dropped, d.Store.Write(ctx, func(tx *store.Tx) error {
			return tx.WebhookFailed(ctx, del.ID, ReasonRefused, tx.Now(), true)
		})
	}
	sendErr := d.send(ctx, del)
	if ctx.Err() != nil && sendErr != nil {
		// Shutting down: the lease runs out and the delivery is tried again.
		return skipped, nil
	}
	// The attempt was counted by the claim.
	attempts := del.Attempts + 1
	err = d.Store.Write(ctx, func(tx *store.Tx) error {
		if sendErr == nil {
			return tx.WebhookDelivered(ctx, del.ID)
		}
		now := tx.Now()
		dead := now.Sub(del.WindowFrom) >= d.maxAge()
		return tx.WebhookFailed(ctx, del.ID, sendErr.Error(), now.Add(Backoff(attempts)), dead)
	})
	if sendErr != nil {
		return failed, err
	}
	return sent, err
}

// send POSTs the payload with its signature; success is a 2xx answer.
func (d *Deliverer) send(ctx context.Context, del store.WebhookDelivery) error {
	secret, err := d.Keys.DecryptString(del.SecretEnc, secretContext)
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	body := []byte(del.Payload)
	ts := strconv.FormatInt(d.Store.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, del.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "shequ-webhooks/1")
	req.Header.Set(HeaderEvent, del.Kind)
	req.Header.Set(HeaderDelivery, del.ID)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	resp, err := d.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	return nil
}
