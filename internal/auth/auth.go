package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/store"
)

var (
	errLoginFailed   = errs.E(errs.Unauthorized, "err.login_failed")
	errThrottled     = errs.E(errs.TooMany, "err.login_throttled")
	errPasswordShort = errs.E(errs.Invalid, "err.password_short")
	errOTPFailed     = errs.E(errs.Unauthorized, "err.otp_failed")
)

// Limits for login throttling: more than MaxFailures failures within
// FailureWindow for one account or one address blocks further tries.
const (
	MaxFailures   = 5
	FailureWindow = time.Minute
	otpTTL        = 5 * time.Minute
	otpAttempts   = 5
)

// Sender delivers one-time codes to residents' phones.
type Sender interface {
	SendCode(ctx context.Context, phone, code string) error
}

// LogSender writes codes to the log (masked phone), so a developer can log
// in without an SMS gateway.
type LogSender struct{ Log *slog.Logger }

// SendCode logs the code.
func (s LogSender) SendCode(ctx context.Context, phone, code string) error {
	s.Log.InfoContext(ctx, "one-time login code", "phone", pii.MaskPhone(phone), "code", code)
	return nil
}

// Notify logs a text message (the outbox's SMS channel) the way SendCode
// logs codes; an SMS gateway implements the same method to send it.
func (s LogSender) Notify(ctx context.Context, phone, text string) error {
	s.Log.InfoContext(ctx, "message to staff", "phone", pii.MaskPhone(phone), "text", text)
	return nil
}

// Service logs people in and out.
type Service struct {
	Store  *store.Store
	Keys   *pii.Keyring
	Audit  *audit.Log
	Sender Sender
	TTL    time.Duration
	Argon2 Argon2 // zero: production cost

	// tokens caches resolved API tokens for tokenTTL: a gate device sends
	// thousands of requests a minute, and each would otherwise cost three
	// queries. Revoking or disabling in this process clears it at once;
	// other instances notice within tokenTTL.
	tokenMu sync.Mutex
	tokens  map[string]cachedToken
}

type cachedToken struct {
	p     *access.Principal
	until time.Time
}

const tokenTTL = 30 * time.Second

// forgetTokens empties the token cache after a change of rights.
func (a *Service) forgetTokens() {
	a.tokenMu.Lock()
	a.tokens = nil
	a.tokenMu.Unlock()
}

// HashToken is how session and API tokens are stored: never in the clear.
func HashToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// Login checks a password and opens a session. It returns the session
// token for the cookie. Every outcome is audited.
func (a *Service) Login(ctx context.Context, username, password, ip string) (string, store.User, error) {
	now := a.Store.Now()
	for _, key := range []string{"user:" + username, "ip:" + ip} {
		n, err := a.Store.LoginFailures(ctx, key, now.Add(-FailureWindow))
		if err != nil {
			return "", store.User{}, err
		}
		if n >= MaxFailures {
			a.Audit.Record(ctx, a.Store, &store.AuditEntry{ActorName: username, Action: "login", Outcome: audit.Denied, IP: ip,
				Detail: audit.Detail("reason", "throttled", "key", key[:2])})
			return "", store.User{}, errThrottled
		}
	}
	u, err := a.Store.UserByUsername(ctx, username)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return "", u, err
	}
	hash := u.PasswordHash
	if err != nil || hash == "" {
		hash = dummyHash
	}
	if hash == dummyHash && a.Argon2.Time != 0 {
		hash, _ = a.Argon2.Hash("shequ-no-such-user")
	}
	ok := CheckPassword(hash, password) && err == nil && u.PasswordHash != "" && !u.Disabled && u.Kind == store.KindStaff
	if !ok {
		reason := "wrong password"
		if err != nil {
			reason = "unknown user"
		} else if u.Disabled {
			reason = "disabled"
		}
		node := ""
		if u.ID != "" {
			node = a.homeNode(ctx, u.ID)
		}
		werr := a.Store.Write(ctx, func(tx *store.Tx) error {
			if err := tx.RecordLoginFailure(ctx, "user:"+username, "ip:"+ip); err != nil {
				return err
			}
			return a.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: u.ID, ActorName: username, Action: "login",
				Outcome: audit.Failed, IP: ip, NodeID: node, Detail: audit.Detail("reason", reason)})
		})
		if werr != nil {
			return "", store.User{}, werr
		}
		return "", store.User{}, errLoginFailed
	}
	tok, err := a.openSession(ctx, u, ip, "password")
	return tok, u, err
}

func (a *Service) openSession(ctx context.Context, u store.User, ip, method string) (string, error) {
	tok := RandomToken(32)
	node := a.homeNode(ctx, u.ID)
	err := a.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateSession(ctx, HashToken(tok), u.ID, ip, a.TTL); err != nil {
			return err
		}
		if err := tx.TouchLogin(ctx, u.ID); err != nil {
			return err
		}
		if err := tx.ClearLoginFailures(ctx, "user:"+u.Username); err != nil {
			return err
		}
		return a.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: u.ID, ActorName: u.DisplayName, Action: "login",
			IP: ip, NodeID: node, Detail: audit.Detail("method", method)})
	})
	return tok, err
}

// Logout ends a session.
func (a *Service) Logout(ctx context.Context, token string, p *access.Principal, ip string) error {
	node := a.homeNode(ctx, p.UserID)
	return a.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteSession(ctx, HashToken(token)); err != nil {
			return err
		}
		return a.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: p.UserID, ActorName: p.Name, Action: "logout", IP: ip, NodeID: node})
	})
}

// Resolve turns a session token into the principal behind it, sliding the
// session's expiry at most once a minute.
func (a *Service) Resolve(ctx context.Context, token string) (*access.Principal, store.User, error) {
	if token == "" {
		return nil, store.User{}, errs.E(errs.Unauthorized, "err.login_required")
	}
	h := HashToken(token)
	ss, err := a.Store.Session(ctx, h)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, store.User{}, errs.E(errs.Unauthorized, "err.login_required")
		}
		return nil, store.User{}, err
	}
	u, err := a.Store.User(ctx, ss.UserID)
	if err != nil {
		return nil, u, err
	}
	if u.Disabled {
		return nil, u, errs.E(errs.Unauthorized, "err.login_required")
	}
	if a.Store.Now().Sub(ss.LastSeen) > time.Minute {
		// A full disk must not stop people reading: the session is
		// extended on a later request instead.
		if err := a.Store.Write(ctx, func(tx *store.Tx) error { return tx.ExtendSession(ctx, h, a.TTL) }); err != nil &&
			!errs.Is(err, errs.Unavailable) {
			return nil, u, err
		}
	}
	p, err := a.Principal(ctx, u)
	return p, u, err
}

// Principal loads a user's role assignments.
func (a *Service) Principal(ctx context.Context, u store.User) (*access.Principal, error) {
	as, err := a.Store.Assignments(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	p := &access.Principal{UserID: u.ID, Name: u.DisplayName, Kind: u.Kind}
	for _, x := range as {
		p.Assignments = append(p.Assignments, access.Assignment{Role: access.Role(x.Role), NodeID: x.NodeID, NodePath: x.NodePath})
	}
	return p, nil
}

// SendPhoneCode sends a one-time code to a phone for a purpose other than
// logging in (a self-report), keyed apart from login codes.
func (a *Service) SendPhoneCode(ctx context.Context, purpose, phone string) error {
	key := purpose + ":" + a.Keys.BlindIndex(phone, "phone")
	code := fmt.Sprintf("%06d", randInt(1000000))
	if err := a.Store.Write(ctx, func(tx *store.Tx) error {
		return tx.PutOTP(ctx, key, HashToken(key+code), a.Store.Now().Add(otpTTL))
	}); err != nil {
		return err
	}
	return a.Sender.SendCode(ctx, phone, code)
}

// CheckPhoneCode takes a code sent by SendPhoneCode (once; five tries).
func (a *Service) CheckPhoneCode(ctx context.Context, purpose, phone, code string) (bool, error) {
	key := purpose + ":" + a.Keys.BlindIndex(phone, "phone")
	var ok bool
	err := a.Store.Write(ctx, func(tx *store.Tx) error {
		var err error
		ok, err = tx.TakeOTP(ctx, key, HashToken(key+strings.TrimSpace(code)), otpAttempts)
		return err
	})
	return ok, err
}

// SendOTP sends a resident a login code. It answers the same whether or not
// the phone belongs to an account, so the form cannot be used to probe.
func (a *Service) SendOTP(ctx context.Context, rawPhone, ip string) error {
	phone, err := pii.NormalizePhone(rawPhone)
	if err != nil {
		return errs.E(errs.Invalid, "err.phone_invalid").OnField("phone")
	}
	now := a.Store.Now()
	for _, key := range []string{"otp:" + a.Keys.BlindIndex(phone, "phone"), "ip:" + ip} {
		n, err := a.Store.LoginFailures(ctx, key, now.Add(-FailureWindow))
		if err != nil {
			return err
		}
		if n >= MaxFailures {
			return errThrottled
		}
	}
	bidx := a.Keys.BlindIndex(phone, "phone")
	// Sending counts against the same budget, so the form cannot be used to
	// flood a phone with messages.
	if err := a.Store.Write(ctx, func(tx *store.Tx) error { return tx.RecordLoginFailure(ctx, "otp:"+bidx) }); err != nil {
		return err
	}
	if _, err := a.Store.UserByPhone(ctx, bidx); err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil
		}
		return err
	}
	code := fmt.Sprintf("%06d", randInt(1000000))
	if err := a.Store.Write(ctx, func(tx *store.Tx) error {
		return tx.PutOTP(ctx, bidx, HashToken(bidx+code), now.Add(otpTTL))
	}); err != nil {
		return err
	}
	return a.Sender.SendCode(ctx, phone, code)
}

// LoginOTP checks a resident's code and opens a session.
func (a *Service) LoginOTP(ctx context.Context, rawPhone, code, ip string) (string, store.User, error) {
	phone, err := pii.NormalizePhone(rawPhone)
	if err != nil {
		return "", store.User{}, errs.E(errs.Invalid, "err.phone_invalid").OnField("phone")
	}
	bidx := a.Keys.BlindIndex(phone, "phone")
	n, err := a.Store.LoginFailures(ctx, "ip:"+ip, a.Store.Now().Add(-FailureWindow))
	if err != nil {
		return "", store.User{}, err
	}
	if n >= MaxFailures {
		return "", store.User{}, errThrottled
	}
	var ok bool
	if err := a.Store.Write(ctx, func(tx *store.Tx) error {
		ok, err = tx.TakeOTP(ctx, bidx, HashToken(bidx+code), otpAttempts)
		if err != nil || ok {
			return err
		}
		if err := tx.RecordLoginFailure(ctx, "ip:"+ip); err != nil {
			return err
		}
		return a.Audit.Append(ctx, tx, &store.AuditEntry{Action: "login", Outcome: audit.Failed, IP: ip,
			Detail: audit.Detail("method", "otp", "reason", "wrong code")})
	}); err != nil {
		return "", store.User{}, err
	}
	if !ok {
		return "", store.User{}, errOTPFailed
	}
	u, err := a.Store.UserByPhone(ctx, bidx)
	if err != nil {
		return "", u, err
	}
	if u.Disabled {
		return "", u, errOTPFailed
	}
	tok, err := a.openSession(ctx, u, ip, "otp")
	return tok, u, err
}

// ResolveToken authenticates an API client (partner department or device).
func (a *Service) ResolveToken(ctx context.Context, token string) (*access.Principal, error) {
	if token == "" {
		return nil, errs.E(errs.Unauthorized, "err.token_required")
	}
	h := HashToken(token)
	now := a.Store.Now()
	a.tokenMu.Lock()
	c, ok := a.tokens[h]
	a.tokenMu.Unlock()
	if ok && now.Before(c.until) {
		return c.p, nil
	}
	p, err := a.resolveToken(ctx, h, now)
	if err != nil {
		return nil, err
	}
	a.tokenMu.Lock()
	if a.tokens == nil {
		a.tokens = map[string]cachedToken{}
	}
	a.tokens[h] = cachedToken{p: p, until: now.Add(tokenTTL)}
	a.tokenMu.Unlock()
	return p, nil
}

func (a *Service) resolveToken(ctx context.Context, hash string, now time.Time) (*access.Principal, error) {
	t, err := a.Store.APITokenByHash(ctx, hash)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, errs.E(errs.Unauthorized, "err.token_invalid")
		}
		return nil, err
	}
	if !t.RevokedAt.IsZero() || (!t.ExpiresAt.IsZero() && now.After(t.ExpiresAt)) {
		return nil, errs.E(errs.Unauthorized, "err.token_invalid")
	}
	u, err := a.Store.User(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, errs.E(errs.Unauthorized, "err.token_invalid")
	}
	if now.Sub(t.LastUsed) > time.Minute {
		if err := a.Store.Write(ctx, func(tx *store.Tx) error { return tx.TouchAPIToken(ctx, t.ID) }); err != nil {
			return nil, err
		}
	}
	return a.Principal(ctx, u)
}
