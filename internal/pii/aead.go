package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
)

// aeadAlgorithm is one field-encryption construction. It sits behind an
// interface so that a commercial-cryptography variant (SM4-GCM with
// HMAC-SM3 key derivation, GB/T 39786) can be added later as a second
// implementation with its own format version byte, chosen by configuration,
// without changing the ciphertext framing or the callers.
type aeadAlgorithm interface {
	// version is the first byte of every ciphertext made by this algorithm.
	version() byte
	// newAEAD derives the encryption subkey from a master key and returns
	// an AEAD whose Seal prepends a fresh random nonce (NonceSize() == 0).
	newAEAD(master []byte) (cipher.AEAD, error)
}

// aesGCM is AES-256-GCM with a 12-byte random nonce and a subkey derived by
// HKDF-SHA256, so the master key itself is never used directly and the
// blind-index key derived from the same master stays independent.
type aesGCM struct{}

const formatAESGCM byte = 0x01

func (aesGCM) version() byte { return formatAESGCM }

func (aesGCM) newAEAD(master []byte) (cipher.AEAD, error) {
	sub, err := hkdf.Key(sha256.New, master, nil, "shequ field encryption", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sub)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}
