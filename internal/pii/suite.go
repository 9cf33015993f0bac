package pii

import (
	"crypto/sha256"
	"fmt"
	"hash"
	"strings"

	"github.com/emmansun/gmsm/sm3"
)

// Suite names the algorithms a keyring uses for new ciphertexts and for
// blind indexes, MACs and the key fingerprint.
type Suite string

const (
	// SuiteAES is AES-256-GCM encryption (format byte 0x01) with
	// HMAC-SHA256 blind indexes and MACs. It is the default.
	SuiteAES Suite = "aes-gcm"
	// SuiteSM is SM4-GCM encryption (format byte 0x02) with HMAC-SM3 blind
	// indexes and MACs and HKDF-SM3 key derivation, for deployments that
	// must pass a commercial-cryptography assessment (GB/T 39786).
	SuiteSM Suite = "sm4-gcm"
)

// suiteParams is what a suite selects.
type suiteParams struct {
	name      Suite
	alg       aeadAlgorithm
	hash      func() hash.Hash
	blindInfo string // HKDF info of the blind-index key
	macInfo   string // HKDF info prefix of MAC subkeys, followed by the context
}

// The AES strings are those of the original keyring and must not change:
// stored blind indexes, fingerprints and audit MACs depend on them.
var (
	aesParams = suiteParams{SuiteAES, aesGCM{}, sha256.New, "shequ blind index", "shequ mac "}
	smParams  = suiteParams{SuiteSM, sm4GCM{}, sm3.New, "shequ sm3 blind index", "shequ sm3 mac "}
)

func suiteParamsOf(s Suite) (*suiteParams, error) {
	switch s {
	case SuiteAES, "":
		return &aesParams, nil
	case SuiteSM:
		return &smParams, nil
	}
	return nil, fmt.Errorf("pii: unknown crypto suite %q, want %q or %q", string(s), SuiteAES, SuiteSM)
}

// ParseSuite parses a suite name from configuration: "aes-gcm" or
// "sm4-gcm", ignoring case and surrounding spaces. The empty string means
// the default, [SuiteAES].
func ParseSuite(s string) (Suite, error) {
	p, err := suiteParamsOf(Suite(strings.ToLower(strings.TrimSpace(s))))
	if err != nil {
		return "", err
	}
	return p.name, nil
}

// Suite reports the keyring's suite.
func (k *Keyring) Suite() Suite { return k.suite }

// WithSuite returns a keyring with the same keys that encrypts new values
// with suite s (SM4-GCM for [SuiteSM], AES-256-GCM for [SuiteAES]) and
// computes blind indexes, MACs and the fingerprint with HMAC-SM3 or
// HMAC-SHA256 respectively. The empty suite means [SuiteAES]; any other
// value not accepted by [ParseSuite] panics. k itself is unchanged, and is
// returned if it already has suite s.
//
// Decryption does not depend on the suite: both keyrings open ciphertexts
// of either suite, so a deployment can switch suite and then re-encrypt
// stored values in the background with [Keyring.Reencrypt].
//
// Switching suite changes every blind index, every MAC and the
// Fingerprint. Stored blind indexes must be recomputed (re-indexed) from the
// decrypted values before lookups match again, the stored key fingerprint
// must be updated, and MACs made under the old suite (such as an existing
// audit chain) only verify with a keyring of the old suite, which
// k.WithSuite(old) provides during the migration.
func (k *Keyring) WithSuite(s Suite) *Keyring {
	p, err := suiteParamsOf(s)
	if err != nil {
		panic(err)
	}
	if p.name == k.suite {
		return k
	}
	set := k.keys()
	nk, err := assemble(set.keys, set.byID, k.first, p.name)
	if err != nil {
		panic(err) // HKDF cannot fail for 32-byte outputs
	}
	return nk
}

// Reencrypt prepares ct for key rotation or a suite change. If ct was made
// with a key other than the active one, or with another suite than the
// keyring's, it is decrypted and encrypted again with the active key and
// the keyring's suite, and changed is true. Otherwise ct is returned
// unchanged, without being opened (like [Keyring.NeedsRotation], only its
// header is read), and changed is false. Empty values stay empty. An error
// means ct could not be decrypted (altered, wrong context or unknown key).
func (k *Keyring) Reencrypt(ct []byte, context string) (out []byte, changed bool, err error) {
	if len(ct) == 0 {
		return ct, false, nil
	}
	rk, alg, _, err := k.header(ct)
	if err != nil {
		return nil, false, err
	}
	if rk == k.keys().active && alg == k.alg {
		return ct, false, nil
	}
	plain, err := k.Decrypt(ct, context)
	if err != nil {
		return nil, false, err
	}
	out, err = k.Encrypt(plain, context)
	clear(plain)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// LoadKeyFileSuite is [LoadKeyFile] followed by [Keyring.WithSuite], but
// reports an unknown suite as an error instead of panicking.
func LoadKeyFileSuite(path string, s Suite) (*Keyring, error) {
	if _, err := suiteParamsOf(s); err != nil {
		return nil, err
	}
	_, k, err := readKeyFile(path, s)
	return k, err
}
