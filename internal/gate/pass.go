package gate

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
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
	Expires     int64  `json:"e"` // Unix seconds
	Nonce       string `json:"n,omitempty"`
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
