package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"slices"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// aeadAlgorithm is one field-encryption construction. Each has its own
// format version byte, the first byte of every ciphertext it makes, so a
// keyring can decrypt values of every algorithm whichever one it encrypts
// with, and the framing and callers do not depend on the algorithm.
type aeadAlgorithm interface {
	// version is the first byte of every ciphertext made by this algorithm.
	version() byte
	// newAEAD derives the encryption subkey from a master key and returns
	// an AEAD whose Seal prepends a fresh random nonce (NonceSize() == 0).
	newAEAD(master []byte) (cipher.AEAD, error)
}

// algorithms lists every algorithm a keyring can decrypt. ringKey holds one
// AEAD per entry, in this order.
var algorithms = [...]aeadAlgorithm{aesGCM{}, sm4GCM{}}

// algorithmIndex returns the index in algorithms of the algorithm with the
// given format byte, or -1.
func algorithmIndex(format byte) int {
	for i, a := range algorithms {
		if a.version() == format {
			return i
		}
	}
	return -1
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

// sm4GCM is SM4-GCM (GB/T 32907 block cipher in GCM mode, as in GB/T 36624
// and RFC 8998) with a 12-byte random nonce and a 128-bit subkey derived by
// HKDF-SM3 with its own info string, so that a deployment assessed under
// GB/T 39786 uses only commercial (SM) algorithms on this path and the SM4
// subkey is independent of the AES subkey of the same master key.
type sm4GCM struct{}

const formatSM4GCM byte = 0x02

func (sm4GCM) version() byte { return formatSM4GCM }

func (sm4GCM) newAEAD(master []byte) (cipher.AEAD, error) {
	sub, err := hkdf.Key(sm3.New, master, nil, "shequ field encryption sm4-gcm", sm4.BlockSize)
	if err != nil {
		return nil, err
	}
	block, err := sm4.NewCipher(sub)
	if err != nil {
		return nil, err
	}
	// The gmsm block implements the gcmAble hook of crypto/cipher, so this
	// returns its accelerated SM4-GCM where the CPU allows.
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return randomNonceAEAD{g}, nil
}

// randomNonceAEAD turns a standard-nonce GCM into one that generates a
// random nonce on Seal and prepends it to the ciphertext, like
// cipher.NewGCMWithRandomNonce does for AES only. Unlike that one it does
// not support in-place operation (plaintext or ciphertext sharing storage
// with dst); the keyring never does that.
type randomNonceAEAD struct {
	g cipher.AEAD
}

func (a randomNonceAEAD) NonceSize() int { return 0 }

func (a randomNonceAEAD) Overhead() int { return a.g.NonceSize() + a.g.Overhead() }

func (a randomNonceAEAD) Seal(dst, nonce, plaintext, additionalData []byte) []byte {
	if len(nonce) != 0 {
		panic("pii: non-empty nonce passed to a random-nonce AEAD")
	}
	// The nonce is generated in place in dst (no allocation); GCM writes
	// its output after it, so the two never overlap.
	ns := a.g.NonceSize()
	dst = slices.Grow(dst, ns+len(plaintext)+a.g.Overhead())
	dst = dst[:len(dst)+ns]
	iv := dst[len(dst)-ns:]
	// crypto/rand.Read never returns an error; it aborts the program if the
	// system random source fails.
	rand.Read(iv)
	return a.g.Seal(dst, iv, plaintext, additionalData)
}

func (a randomNonceAEAD) Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error) {
	if len(nonce) != 0 {
		panic("pii: non-empty nonce passed to a random-nonce AEAD")
	}
	ns := a.g.NonceSize()
	if len(ciphertext) < ns+a.g.Overhead() {
		return nil, errors.New("pii: ciphertext too short")
	}
	return a.g.Open(dst, ciphertext[:ns], ciphertext[ns:], additionalData)
}
