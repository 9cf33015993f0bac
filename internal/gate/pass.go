package gate

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"shequ/internal/pii"
)

// A pass code is what a resident's phone (or a visitor's invitation) shows
// as a QR code: "SQ1." + base64url(claims) + "." + base64url(MAC). It is
// signed with a key derived from the data key, names its community, and
// expires quickly (residents) or at the end of the visit (visitors).

// PassClaims are the contents of a pass code.
type PassClaims struct {
	Kind        string `json:"k"` // "p" person, "v" visitor
	ID          string `json:"i"`
	CommunityID string `json:"c"`
	Expires     int64  `json:"e"`           // Unix seconds
	Nonce       string `json:"n,omitempty"` // residents: the code opens a gate once
}

// Reasons for refusing a pass code that is genuine but no longer good.
const (
	ReasonPassExpired = "pass_expired"
	ReasonPassUsed    = "pass_used"
)

// spentPasses remembers the resident pass codes that opened a gate until
// they expire, so that a code (or a screenshot passed on) opens once.
type spentPasses struct {
	mu    sync.Mutex
	m     map[string]time.Time // nonce → expiry
	swept time.Time
}

// claim marks a code as used; false when it was already.
func (sp *spentPasses) claim(nonce string, expires, now time.Time) bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.m == nil {
		sp.m = map[string]time.Time{}
	}
	if now.Sub(sp.swept) > time.Minute {
		for n, exp := range sp.m {
			if !exp.After(now) {
				delete(sp.m, n)
			}
		}
		sp.swept = now
	}
	if _, used := sp.m[nonce]; used {
		return false
	}
	sp.m[nonce] = expires
	return true
}

// mark records a code that opened a gate at another instance.
func (sp *spentPasses) mark(nonce string, expires time.Time) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.m == nil {
		sp.m = map[string]time.Time{}
	}
	sp.m[nonce] = expires
}

// release gives a claimed code back when it did not open the gate.
func (sp *spentPasses) release(nonce string) {
	sp.mu.Lock()
	delete(sp.m, nonce)
	sp.mu.Unlock()
}

// newNonce is 72 random bits, enough to never repeat within a code's life.
func newNonce() string {
	b := make([]byte, 9)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

const passPrefix = "SQ1."

var (
	errPassForged  = errors.New("gate: pass code is not genuine")
	errPassExpired = errors.New("gate: pass code has expired")
)

func passMAC(keys *pii.Keyring, payload string) []byte {
	return keys.MAC([]byte(payload), "qr-pass")[:16]
}

// SignPass makes a pass code.
func SignPass(keys *pii.Keyring, c PassClaims) string {
	b, _ := json.Marshal(c)
	payload := base64.RawURLEncoding.EncodeToString(b)
	return passPrefix + payload + "." + base64.RawURLEncoding.EncodeToString(passMAC(keys, payload))
}

// VerifyPass checks a pass code's signature and expiry.
func VerifyPass(keys *pii.Keyring, code string, now time.Time) (PassClaims, error) {
	var c PassClaims
	rest, ok := strings.CutPrefix(strings.TrimSpace(code), passPrefix)
	if !ok {
		return c, errPassForged
	}
	payload, sig, ok := strings.Cut(rest, ".")
	if !ok || len(payload) > 512 {
		return c, errPassForged
	}
	mac, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(mac, passMAC(keys, payload)) {
		return c, errPassForged
	}
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, errPassForged
	}
	if now.Unix() >= c.Expires {
		return c, errPassExpired
	}
	return c, nil
}
