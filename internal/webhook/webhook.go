// Package webhook sends partners signed notices of chosen changes (a
// person changed, a lead verified, an alarm raised, an event closed).
// A change queues its deliveries in its own transaction (store.Tx.EmitChange);
// the Deliverer POSTs them with retries and exponential back-off, in
// order per record, and gives up after MaxAge. A notice names the record
// and where to fetch it, never its personal fields: what the partner may
// then read is its sharing agreement's business.
package webhook

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// Request headers of a delivery.
const (
	HeaderEvent     = "X-Shequ-Event"
	HeaderDelivery  = "X-Shequ-Delivery"
	HeaderTimestamp = "X-Shequ-Timestamp"
	HeaderSignature = "X-Shequ-Signature"
)

// secretContext is the encryption context of stored secrets.
const secretContext = "webhooks.secret"

// Sign is the X-Shequ-Signature value of a body sent at timestamp (Unix
// seconds, as in X-Shequ-Timestamp): "sha256=" and the hex HMAC-SHA256,
// keyed with the secret's text, of timestamp + "." + body.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a received delivery as a receiver should: the signature
// matches (compared in constant time) and the timestamp is within
// tolerance of now (a replayed old request is refused).
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) bool {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return false
	}
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature))
}

// NewSecret makes a signing secret: "whsec_" and 32 random bytes.
func NewSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return "whsec_" + base64.RawURLEncoding.EncodeToString(b[:])
}

// CheckURL accepts https URLs, and http only to this machine (a receiver
// on the loopback interface, for development).
func CheckURL(raw string) error {
	bad := errs.E(errs.Invalid, "err.webhook.url").OnField("url")
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || len(raw) > 2000 || u.Host == "" || u.User != nil || u.Fragment != "" {
		return bad
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if h == "localhost" {
			return nil
		}
		if ip := net.ParseIP(h); ip != nil && ip.IsLoopback() {
			return nil
		}
		return errs.E(errs.Invalid, "err.webhook.http").OnField("url")
	}
	return bad
}

// Service manages subscriptions for the staff pages.
type Service struct {
	Store *store.Store
	Keys  *pii.Keyring
	Audit *audit.Log
}

// Partner loads a partner account and checks that p may manage its
// webhooks: an API account with the partner role at a node where p holds
// share.manage.
func (s *Service) Partner(ctx context.Context, p *access.Principal, partnerID string) (store.User, string, error) {
	u, err := s.Store.User(ctx, partnerID)
	if err != nil {
		return u, "", err
	}
	paths, err := s.Store.PartnerPaths(ctx, partnerID)
	if err != nil {
		return u, "", err
	}
	if u.Kind != store.KindAPI || len(paths) == 0 {
		return u, "", errs.E(errs.NotFound, "err.webhook.not_partner")
	}
	for _, path := range paths {
		if p.Can(access.ShareManage, path) {
			return u, path, nil
		}
	}
	return u, paths[0], errs.E(errs.Forbidden, "err.forbidden")
}

// Subscription loads a subscription that p may manage, with its partner's
// node path.
func (s *Service) Subscription(ctx context.Context, p *access.Principal, id string) (store.WebhookSubscription, string, error) {
	w, err := s.Store.WebhookSubscription(ctx, id)
	if err != nil {
		return w, "", err
	}
	_, path, err := s.Partner(ctx, p, w.PartnerID)
	return w, path, err
}

// Subscribe adds a subscription for a partner and returns it with its
// secret, which is shown this once and stored only encrypted.
func (s *Service) Subscribe(ctx context.Context, p *access.Principal, partnerID, rawURL string, events []string) (store.WebhookSubscription, string, error) {
	_, path, err := s.Partner(ctx, p, partnerID)
	if err != nil {
		return store.WebhookSubscription{}, "", err
	}
	if err := CheckURL(rawURL); err != nil {
		return store.WebhookSubscription{}, "", err
	}
	var chosen []string
	for _, k := range store.HookKinds { // known kinds only, in the usual order
		if slices.Contains(events, k) {
			chosen = append(chosen, k)
		}
	}
	if len(chosen) == 0 {
		return store.WebhookSubscription{}, "", errs.E(errs.Invalid, "err.webhook.events").OnField("events")
	}
	secret := NewSecret()
	enc, err := s.Keys.EncryptString(secret, secretContext)
	if err != nil {
		return store.WebhookSubscription{}, "", err
	}
	w := store.WebhookSubscription{PartnerID: partnerID, URL: strings.TrimSpace(rawURL), SecretEnc: enc, Events: chosen, CreatedBy: p.UserID}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateWebhookSubscription(ctx, &w); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "webhook.subscribe", w.ID, path, audit.Detail("partner", partnerID, "url", w.URL, "events", strings.Join(chosen, ",")))
	})
	if err != nil {
		return store.WebhookSubscription{}, "", err
	}
	return w, secret, nil
}

// SetActive switches a subscription on or off.
func (s *Service) SetActive(ctx context.Context, p *access.Principal, id string, active bool) error {
	w, path, err := s.Subscription(ctx, p, id)
	if err != nil {
		return err
	}
	action := "webhook.disable"
	if active {
		action = "webhook.enable"
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SetWebhookActive(ctx, w.ID, active); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, action, w.ID, path, "")
	})
}

// Ping queues a test event for a subscription; the deliverer sends it
// within seconds. It returns the delivery id.
func (s *Service) Ping(ctx context.Context, p *access.Principal, id string) (string, error) {
	w, path, err := s.Subscription(ctx, p, id)
	if err != nil {
		return "", err
	}
	var did string
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if did, err = tx.QueueWebhookPing(ctx, w.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "webhook.ping", w.ID, path, "")
	})
	return did, err
}

// Retry puts a dead delivery back in the queue.
func (s *Service) Retry(ctx context.Context, p *access.Principal, deliveryID string) error {
	d, err := s.Store.WebhookDelivery(ctx, deliveryID)
	if err != nil {
		return err
	}
	_, path, err := s.Partner(ctx, p, d.PartnerID)
	if err != nil {
		return err
	}
	if d.Status != store.HookDead {
		return errs.E(errs.Conflict, "err.webhook.not_dead")
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.RetryWebhookDelivery(ctx, d.ID); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "webhook.retry", d.ID, path, audit.Detail("subscription", d.SubscriptionID))
	})
}

func (s *Service) audit(ctx context.Context, tx *store.Tx, p *access.Principal, action, target, path, detail string) error {
	if s.Audit == nil {
		return nil
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	return s.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: p.UserID, ActorName: p.Name, Action: action, TargetType: "webhook",
		TargetID: target, NodeID: parts[len(parts)-1], Detail: detail})
}
