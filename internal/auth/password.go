// Package auth logs people and clients in: argon2id passwords, sessions
// kept in the database (so several instances share them), throttling per
// account and per address, one-time codes for residents, and API tokens for
// partner departments and devices.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters (RFC 9106 second recommendation, memory-constrained).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
)

// Argon2 is the cost of password hashing. The zero value means the
// production default; tests may make it cheaper.
type Argon2 struct {
	Time, MemoryKiB uint32
	Threads         uint8
}

func (c Argon2) orDefault() Argon2 {
	if c.Time == 0 {
		return Argon2{Time: argonTime, MemoryKiB: argonMemory, Threads: argonThreads}
	}
	return c
}

// HashPassword returns an encoded argon2id hash with a random salt, at the
// production cost.
func HashPassword(pw string) (string, error) { return Argon2{}.Hash(pw) }

// Hash returns an encoded argon2id hash with a random salt. The encoding
// carries the cost, so hashes of different costs all verify.
func (c Argon2) Hash(pw string) (string, error) {
	c = c.orDefault()
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, c.Time, c.MemoryKiB, c.Threads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, c.MemoryKiB, c.Time, c.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches an encoded hash.
func CheckPassword(encoded, pw string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked when the account does not exist, so a wrong user
// name costs as much time as a wrong password.
var dummyHash, _ = HashPassword("shequ-no-such-user")

// ValidatePassword enforces a minimal policy for new passwords.
func ValidatePassword(pw string) error {
	if len([]rune(pw)) < 10 {
		return errPasswordShort
	}
	return nil
}

// RandomToken returns n random bytes, URL-safe base64 encoded.
func RandomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// RandomPassword returns a readable random password (no look-alike letters).
func RandomPassword() string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 14)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
