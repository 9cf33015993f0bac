package pii

import (
	"bytes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// keySize is the length of a master key in bytes.
const keySize = 32

var keyIDPattern = regexp.MustCompile(`^[a-z0-9]{1,16}$`)

// ringKey is one master key, with an AEAD for every algorithm so that
// ciphertexts of any suite decrypt.
type ringKey struct {
	id    string
	aeads [len(algorithms)]cipher.AEAD
}

// Keyring holds the master keys from a key file. The last key encrypts;
// every key decrypts, so keys can be rotated without re-encrypting first.
// The first key also keys blind indexes, MACs and the fingerprint, which
// therefore never change on rotation. The suite (see [Keyring.WithSuite])
// chooses the encryption algorithm for new values and the HMAC hash; values
// of every suite decrypt. A Keyring is immutable and safe for concurrent use.
type Keyring struct {
	suite Suite
	alg   int              // index into algorithms of the one that encrypts new values
	hash  func() hash.Hash // HMAC hash of blind indexes, MACs and the fingerprint

	// set holds the keys; Reload swaps it when a key is appended to the
	// file, so running servers pick up a rotation without restarting.
	set atomic.Pointer[keySet]

	first    []byte // first master key, for MAC subkeys
	macInfo  string // HKDF info prefix of MAC subkeys
	blindKey []byte
	blindMAC sync.Pool // keyed HMACs, reused because indexes sit on hot lookup paths
	macKeys  sync.Map  // context -> []byte
}

// keySet is the keys of one reading of the key file.
type keySet struct {
	keys   []*ringKey
	byID   map[string]*ringKey
	active *ringKey
}

func (k *Keyring) keys() *keySet { return k.set.Load() }

// newKeyring builds a keyring from ids and 32-byte master keys in file order.
func newKeyring(ids []string, masters [][]byte, s Suite) (*Keyring, error) {
	if len(masters) == 0 {
		return nil, errors.New("pii: no keys")
	}
	keys := make([]*ringKey, 0, len(masters))
	byID := make(map[string]*ringKey, len(ids))
	for i, m := range masters {
		if len(m) != keySize {
			return nil, fmt.Errorf("pii: key %s is %d bytes, want %d", ids[i], len(m), keySize)
		}
		rk := &ringKey{id: ids[i]}
		for j, alg := range algorithms {
			a, err := alg.newAEAD(m)
			if err != nil {
				return nil, err
			}
			rk.aeads[j] = a
		}
		keys = append(keys, rk)
		byID[rk.id] = rk
	}
	return assemble(keys, byID, bytes.Clone(masters[0]), s)
}

// assemble builds a keyring of suite s around already derived keys.
func assemble(keys []*ringKey, byID map[string]*ringKey, first []byte, s Suite) (*Keyring, error) {
	p, err := suiteParamsOf(s)
	if err != nil {
		return nil, err
	}
	k := &Keyring{
		suite:   p.name,
		alg:     algorithmIndex(p.alg.version()),
		hash:    p.hash,
		first:   first,
		macInfo: p.macInfo,
	}
	k.set.Store(&keySet{keys: keys, byID: byID, active: keys[len(keys)-1]})
	k.blindKey, err = hkdf.Key(p.hash, first, nil, p.blindInfo, 32)
	if err != nil {
		return nil, err
	}
	return k, nil
}

// NewKeyring returns a keyring with ids k1..kn, the last one active. It is
// meant for tests and panics unless every key is 32 bytes.
func NewKeyring(keys ...[]byte) *Keyring {
	ids := make([]string, len(keys))
	for i := range keys {
		ids[i] = "k" + strconv.Itoa(i+1)
	}
	k, err := newKeyring(ids, keys, SuiteAES)
	if err != nil {
		panic(err)
	}
	return k
}

// ActiveID is the id of the key that new ciphertexts are made with.
func (k *Keyring) ActiveID() string { return k.keys().active.id }

// Encrypt seals plain with the active key and the keyring's suite. context
// names the column (for example "person.id_number") and is authenticated,
// so a ciphertext copied into another column does not decrypt there.
//
// Format: format | len(keyid) | keyid | 12-byte nonce | ciphertext+tag,
// where format is 0x01 for AES-256-GCM and 0x02 for SM4-GCM.
func (k *Keyring) Encrypt(plain []byte, context string) ([]byte, error) {
	active := k.keys().active
	id := active.id
	a := active.aeads[k.alg]
	out := make([]byte, 0, 2+len(id)+a.Overhead()+len(plain))
	out = append(out, algorithms[k.alg].version(), byte(len(id)))
	out = append(out, id...)
	return a.Seal(out, nil, plain, []byte(context)), nil
}

// header splits a ciphertext into its key, its algorithm (an index into
// algorithms) and its sealed part.
func (k *Keyring) header(ct []byte) (*ringKey, int, []byte, error) {
	if len(ct) < 2 {
		return nil, 0, nil, errors.New("pii: ciphertext too short")
	}
	alg := algorithmIndex(ct[0])
	if alg < 0 {
		return nil, 0, nil, fmt.Errorf("pii: unsupported ciphertext format %#x", ct[0])
	}
	n := int(ct[1])
	if len(ct) < 2+n {
		return nil, 0, nil, errors.New("pii: ciphertext too short")
	}
	id := string(ct[2 : 2+n])
	rk := k.keys().byID[id]
	if rk == nil {
		return nil, 0, nil, fmt.Errorf("pii: ciphertext needs key %q, which is not in the key file", id)
	}
	return rk, alg, ct[2+n:], nil
}

// Decrypt opens a ciphertext made by Encrypt with any key of the ring and
// either suite, whatever the keyring's own suite. It fails if the
// ciphertext was altered or context differs.
func (k *Keyring) Decrypt(ct []byte, context string) ([]byte, error) {
	rk, alg, sealed, err := k.header(ct)
	if err != nil {
		return nil, err
	}
	plain, err := rk.aeads[alg].Open(nil, nil, sealed, []byte(context))
	if err != nil {
		return nil, errors.New("pii: decryption failed (wrong key, wrong context or altered data)")
	}
	return plain, nil
}

// EncryptString encrypts s; the empty string becomes nil so that absent
// values stay NULL in the database.
func (k *Keyring) EncryptString(s, context string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	return k.Encrypt([]byte(s), context)
}

// DecryptString is the inverse of EncryptString.
func (k *Keyring) DecryptString(ct []byte, context string) (string, error) {
	if len(ct) == 0 {
		return "", nil
	}
	p, err := k.Decrypt(ct, context)
	return string(p), err
}

// NeedsRotation reports whether ct was not made with the active key and
// the keyring's suite and should be re-encrypted (see [Keyring.Reencrypt]).
// It reads only the header. Empty values need nothing; unreadable ones
// report true so a rotation job surfaces them.
func (k *Keyring) NeedsRotation(ct []byte) bool {
	if len(ct) == 0 {
		return false
	}
	rk, alg, _, err := k.header(ct)
	return err != nil || rk != k.keys().active || alg != k.alg
}

// BlindIndex returns a keyed hash of value for exact-match lookup of
// encrypted columns, as 32 hex characters: HMAC-SHA256 for [SuiteAES],
// HMAC-SM3 for [SuiteSM], truncated to 128 bits. It uses the first key,
// which is never rotated, so stored indexes stay valid on key rotation (but
// not on a suite change). context separates columns so equal values in
// different columns do not reveal that they are equal. Callers must pass
// normalised values.
func (k *Keyring) BlindIndex(value, context string) string {
	m, _ := k.blindMAC.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(k.hash, k.blindKey)
	}
	m.Write([]byte(context))
	m.Write([]byte{0})
	m.Write([]byte(value))
	var sum [32]byte // SHA-256 and SM3 both have 32-byte outputs
	out := hex.EncodeToString(m.Sum(sum[:0])[:16])
	m.Reset()
	k.blindMAC.Put(m)
	return out
}

// MAC returns HMAC-SHA256 ([SuiteAES]) or HMAC-SM3 ([SuiteSM]) of data,
// 32 bytes, under a subkey derived from the first key for this context (e.g.
// the tamper-evident audit chain).
func (k *Keyring) MAC(data []byte, context string) []byte {
	key, ok := k.macKeys.Load(context)
	if !ok {
		sub, err := hkdf.Key(k.hash, k.first, nil, k.macInfo+context, 32)
		if err != nil {
			// Only possible for absurd output lengths, never for 32 bytes.
			panic(err)
		}
		key, _ = k.macKeys.LoadOrStore(context, sub)
	}
	m := hmac.New(k.hash, key.([]byte))
	m.Write(data)
	return m.Sum(nil)
}

// Fingerprint identifies the key file without revealing it. Stored in the
// database, it lets the server refuse to start with the wrong key file
// instead of writing undecryptable data or unmatchable indexes. It depends
// on the suite, like the blind indexes it protects.
func (k *Keyring) Fingerprint() string {
	m := hmac.New(k.hash, k.blindKey)
	m.Write([]byte("shequ key check"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// LoadKeyFile reads a key file: one "<keyid> <base64 32-byte key>" per line,
// '#' comments and blank lines ignored. The last key is active.
func LoadKeyFile(path string) (*Keyring, error) {
	_, k, err := readKeyFile(path, SuiteAES)
	return k, err
}

func readKeyFile(path string, s Suite) ([]string, *Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil, fmt.Errorf("pii: key file %s does not exist: %w", path, err)
		}
		return nil, nil, fmt.Errorf("pii: key file %s is unreadable: %w", path, err)
	}
	defer f.Close()
	// Check the mode of the file actually opened, not of a path that could
	// be swapped between the check and the read.
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("pii: key file %s: %w", path, err)
	}
	// Windows has no Unix permission bits to check.
	if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
		return nil, nil, fmt.Errorf("pii: key file %s has mode %#o and is readable by other users; run: chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, nil, fmt.Errorf("pii: key file %s is unreadable: %w", path, err)
	}
	var ids []string
	var masters [][]byte
	seen := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		no := i + 1
		fields := strings.Fields(line)
		if len(fields) != 2 || !keyIDPattern.MatchString(fields[0]) {
			return nil, nil, fmt.Errorf(`pii: key file %s: bad line %d: want "<keyid> <base64 key>" with keyid of 1-16 characters a-z, 0-9`, path, no)
		}
		key, err := base64.StdEncoding.DecodeString(fields[1])
		if err != nil {
			return nil, nil, fmt.Errorf("pii: key file %s: bad line %d: key %s is not valid base64", path, no, fields[0])
		}
		if len(key) != keySize {
			return nil, nil, fmt.Errorf("pii: key file %s: bad line %d: key %s is %d bytes, want %d", path, no, fields[0], len(key), keySize)
		}
		if seen[fields[0]] {
			return nil, nil, fmt.Errorf("pii: key file %s: bad line %d: duplicate key id %s", path, no, fields[0])
		}
		seen[fields[0]] = true
		ids = append(ids, fields[0])
		masters = append(masters, key)
	}
	if len(masters) == 0 {
		return nil, nil, fmt.Errorf("pii: key file %s has no keys", path)
	}
	k, err := newKeyring(ids, masters, s)
	return ids, k, err
}

const keyFileHeader = `# shequ field-encryption keys: "<keyid> <base64 of 32 random bytes>".
# The last key encrypts new data; all keys decrypt. Never delete or reorder
# the first key: it keys the blind indexes. Rotate with AddKey. Keep mode 600
# and keep a backup: without this file encrypted data is lost.
`

func newKeyLine(id string) (string, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return "", err
	}
	return id + " " + base64.StdEncoding.EncodeToString(key) + "\n", nil
}

// CreateKeyFile creates a new key file with mode 0600 holding one key "k1".
// It never overwrites an existing file (the error wraps fs.ErrExist), since
// that would make all encrypted data unreadable.
func CreateKeyFile(path string) (*Keyring, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("pii: create key directory: %w", err)
	}
	line, err := newKeyLine("k1")
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pii: create key file: %w", err)
	}
	_, err = f.WriteString(keyFileHeader + line)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("pii: write key file: %w", err)
	}
	return LoadKeyFile(path)
}

// AddKey rotates keys: it appends a new key with the next free id (k2,
// k3, ...), which becomes active. The file is replaced atomically so a crash
// never leaves a truncated key file. Concurrent AddKey calls on one file are
// not supported.
func AddKey(path string) (*Keyring, error) {
	ids, _, err := readKeyFile(path, SuiteAES)
	if err != nil {
		return nil, err
	}
	next := len(ids) + 1
	for _, id := range ids {
		if n, err := strconv.Atoi(strings.TrimPrefix(id, "k")); err == nil && strings.HasPrefix(id, "k") && n >= next {
			next = n + 1
		}
	}
	line, err := newKeyLine("k" + strconv.Itoa(next))
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("pii: key file %s is unreadable: %w", path, err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	data = append(data, line...)

	// CreateTemp makes the file 0600, so the key is never briefly exposed.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".keys-*")
	if err != nil {
		return nil, fmt.Errorf("pii: rotate key file: %w", err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("pii: rotate key file: %w", err)
	}
	return LoadKeyFile(path)
}

// Reload reads the key file again and takes the keys it now holds, so a key
// appended by a rotation (see [AddKey]) is used without a restart. The
// first key must be unchanged: blind indexes, MACs and the fingerprint
// depend on it.
func (k *Keyring) Reload(path string) (changed bool, err error) {
	nk, err := LoadKeyFileSuite(path, k.suite)
	if err != nil {
		return false, err
	}
	if !bytes.Equal(nk.first, k.first) {
		return false, errors.New("pii: the first key of the key file changed; restore it (it keys every blind index)")
	}
	old, set := k.keys(), nk.keys()
	if len(old.keys) == len(set.keys) && old.active.id == set.active.id {
		return false, nil
	}
	k.set.Store(set)
	return true, nil
}
