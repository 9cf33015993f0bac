package pii

import (
	"bytes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSuite(t *testing.T) {
	for in, want := range map[string]Suite{
		"": SuiteAES, "aes-gcm": SuiteAES, " AES-GCM ": SuiteAES,
		"sm4-gcm": SuiteSM, "SM4-GCM": SuiteSM,
	} {
		if got, err := ParseSuite(in); got != want || err != nil {
			t.Errorf("ParseSuite(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"sm4", "aes", "sm4gcm", "chacha20-poly1305"} {
		_, err := ParseSuite(in)
		if err == nil {
			t.Errorf("ParseSuite(%q) succeeded", in)
			continue
		}
		if !strings.Contains(err.Error(), "aes-gcm") || !strings.Contains(err.Error(), "sm4-gcm") {
			t.Errorf("ParseSuite(%q) error %q does not name the accepted values", in, err)
		}
	}
}

func TestSuiteSelection(t *testing.T) {
	k := NewKeyring(randomKey(t))
	if k.Suite() != SuiteAES {
		t.Errorf("default Suite = %q, want %q", k.Suite(), SuiteAES)
	}
	sm := k.WithSuite(SuiteSM)
	if sm.Suite() != SuiteSM || k.Suite() != SuiteAES {
		t.Errorf("WithSuite: suites %q and %q; want the new keyring SM and the old one unchanged", sm.Suite(), k.Suite())
	}
	if k.WithSuite(SuiteAES) != k || sm.WithSuite(SuiteSM) != sm || k.WithSuite("") != k {
		t.Error("WithSuite of the keyring's own suite made a new keyring")
	}
	if back := sm.WithSuite(SuiteAES); back.BlindIndex("v", "c") != k.BlindIndex("v", "c") || back.Fingerprint() != k.Fingerprint() {
		t.Error("switching to SM and back changed the AES blind index or fingerprint")
	}
	defer func() {
		if recover() == nil {
			t.Error("WithSuite of an unknown suite did not panic")
		}
	}()
	k.WithSuite("des")
}

func TestSMRoundTrip(t *testing.T) {
	k := NewKeyring(randomKey(t)).WithSuite(SuiteSM)
	for _, plain := range []string{"11010519491231002X", "张小明", "13912345678", strings.Repeat("x", 10000)} {
		ct, err := k.EncryptString(plain, "person.id_number")
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(ct, []byte(plain)) {
			t.Fatalf("ciphertext contains the plaintext %q", plain)
		}
		if ct[0] != 0x02 || ct[1] != 2 || string(ct[2:4]) != "k1" {
			t.Fatalf("header = % x, want 02 02 'k1'", ct[:4])
		}
		if want := 1 + 1 + 2 + 12 + len(plain) + 16; len(ct) != want {
			t.Fatalf("len(ct) = %d, want %d", len(ct), want)
		}
		if k.NeedsRotation(ct) {
			t.Error("NeedsRotation true for a fresh SM ciphertext")
		}
		got, err := k.DecryptString(ct, "person.id_number")
		if err != nil || got != plain {
			t.Fatalf("DecryptString = %q, %v; want %q", got, err, plain)
		}
	}
	a, _ := k.EncryptString("same", "c")
	b, _ := k.EncryptString("same", "c")
	if bytes.Equal(a, b) || bytes.Equal(a[4:16], b[4:16]) {
		t.Error("two encryptions of the same value share a nonce")
	}
	ct, err := k.Encrypt(nil, "c")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := k.Decrypt(ct, "c"); err != nil || len(p) != 0 {
		t.Errorf("Decrypt of empty plaintext = %q, %v", p, err)
	}
}

// TestSMIsSM4GCM opens an SM-suite ciphertext with an independent
// construction of HKDF-SM3 + SM4-GCM, and recomputes the blind index with
// HMAC-SM3, so the suite provably uses the SM algorithms.
func TestSMIsSM4GCM(t *testing.T) {
	master := randomKey(t)
	k := NewKeyring(master).WithSuite(SuiteSM)
	ct, err := k.EncryptString("13912345678", "person.phone")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := hkdf.Key(sm3.New, master, nil, "shequ field encryption sm4-gcm", 16)
	if err != nil {
		t.Fatal(err)
	}
	block, err := sm4.NewCipher(sub)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := gcm.Open(nil, ct[4:16], ct[16:], []byte("person.phone"))
	if err != nil || string(plain) != "13912345678" {
		t.Fatalf("independent SM4-GCM open = %q, %v", plain, err)
	}

	bk, err := hkdf.Key(sm3.New, master, nil, "shequ sm3 blind index", 32)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sm3.New, bk)
	m.Write([]byte("person.phone\x0013912345678"))
	if want := hex.EncodeToString(m.Sum(nil)[:16]); k.BlindIndex("13912345678", "person.phone") != want {
		t.Errorf("SM blind index = %s, want HMAC-SM3 %s", k.BlindIndex("13912345678", "person.phone"), want)
	}

	mk, err := hkdf.Key(sm3.New, master, nil, "shequ sm3 mac audit", 32)
	if err != nil {
		t.Fatal(err)
	}
	m = hmac.New(sm3.New, mk)
	m.Write([]byte("entry 1"))
	if !bytes.Equal(k.MAC([]byte("entry 1"), "audit"), m.Sum(nil)) {
		t.Error("SM MAC is not HMAC-SM3 under the derived subkey")
	}
}

func TestCrossSuiteDecrypt(t *testing.T) {
	aes := NewKeyring(randomKey(t), randomKey(t))
	sm := aes.WithSuite(SuiteSM)
	const v, ctx = "11010519491231002X", "person.id_number"
	aesCT, _ := aes.EncryptString(v, ctx)
	smCT, _ := sm.EncryptString(v, ctx)
	if aesCT[0] != 0x01 || smCT[0] != 0x02 {
		t.Fatalf("format bytes %#x and %#x, want 0x01 and 0x02", aesCT[0], smCT[0])
	}
	for _, c := range []struct {
		name string
		k    *Keyring
		ct   []byte
	}{{"AES by SM", sm, aesCT}, {"SM by AES", aes, smCT}, {"AES by AES", aes, aesCT}, {"SM by SM", sm, smCT}} {
		if got, err := c.k.DecryptString(c.ct, ctx); err != nil || got != v {
			t.Errorf("%s: DecryptString = %q, %v", c.name, got, err)
		}
	}
	if !sm.NeedsRotation(aesCT) || !aes.NeedsRotation(smCT) {
		t.Error("NeedsRotation false for a ciphertext of the other suite")
	}
	// A keyring loaded from the same file with the other suite decrypts too.
	loaded := NewKeyring(bytes.Repeat([]byte{1}, 32))
	smLoaded := NewKeyring(bytes.Repeat([]byte{1}, 32)).WithSuite(SuiteSM)
	ct, _ := smLoaded.EncryptString(v, ctx)
	if got, err := loaded.DecryptString(ct, ctx); err != nil || got != v {
		t.Errorf("separately built AES keyring: %q, %v", got, err)
	}
}

func TestSMRejects(t *testing.T) {
	k := NewKeyring(randomKey(t)).WithSuite(SuiteSM)
	ct, err := k.EncryptString("11010519491231002X", "person.id_number")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.DecryptString(ct, "person.phone"); err == nil {
		t.Error("ciphertext moved to another column decrypted")
	}
	for i := range ct {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(ct)
			bad[i] ^= bit
			if _, err := k.DecryptString(bad, "person.id_number"); err == nil {
				t.Errorf("flipping bit %#x of byte %d went unnoticed", bit, i)
			}
		}
	}
	// Relabelling an SM4 ciphertext as AES (or back) must not open.
	relabelled := bytes.Clone(ct)
	relabelled[0] = 0x01
	if _, err := k.DecryptString(relabelled, "person.id_number"); err == nil {
		t.Error("SM4 ciphertext relabelled as AES decrypted")
	}
	aesCT, _ := k.WithSuite(SuiteAES).EncryptString("11010519491231002X", "person.id_number")
	aesCT[0] = 0x02
	if _, err := k.DecryptString(aesCT, "person.id_number"); err == nil {
		t.Error("AES ciphertext relabelled as SM4 decrypted")
	}
	for _, bad := range [][]byte{{0x02}, {0x02, 0x02, 'k', '1'}, ct[:len(ct)-1], ct[:20], ct[:4+12+15], {0x03, 0x02, 'k', '1'}} {
		if _, err := k.Decrypt(bad, "person.id_number"); err == nil {
			t.Errorf("Decrypt(% x) succeeded", bad)
		}
	}
	if _, err := NewKeyring(randomKey(t)).WithSuite(SuiteSM).Decrypt(ct, "person.id_number"); err == nil {
		t.Error("a different key file decrypted the value")
	}
}

func TestReencrypt(t *testing.T) {
	k1 := randomKey(t)
	old := NewKeyring(k1)
	rotated := NewKeyring(k1, randomKey(t))
	const v, ctx = "13912345678", "person.phone"

	oldCT, _ := old.EncryptString(v, ctx)
	if !rotated.NeedsRotation(oldCT) {
		t.Fatal("NeedsRotation false for an old-key ciphertext")
	}
	out, changed, err := rotated.Reencrypt(oldCT, ctx)
	if err != nil || !changed {
		t.Fatalf("Reencrypt old key = changed %v, %v", changed, err)
	}
	if string(out[2:4]) != "k2" || out[0] != 0x01 || rotated.NeedsRotation(out) {
		t.Errorf("re-encrypted header % x, NeedsRotation %v; want 01 02 'k2', false", out[:4], rotated.NeedsRotation(out))
	}
	if got, err := rotated.DecryptString(out, ctx); err != nil || got != v {
		t.Errorf("re-encrypted value decrypts to %q, %v", got, err)
	}
	// Already current: returned as is.
	again, changed, err := rotated.Reencrypt(out, ctx)
	if err != nil || changed || !bytes.Equal(again, out) || &again[0] != &out[0] {
		t.Errorf("Reencrypt of a current value = changed %v, %v; want the same slice", changed, err)
	}

	// Cross-suite: AES (even with the active key) moves to SM, and back.
	sm := rotated.WithSuite(SuiteSM)
	if !sm.NeedsRotation(out) {
		t.Error("SM keyring: NeedsRotation false for an AES ciphertext of the active key")
	}
	smOut, changed, err := sm.Reencrypt(out, ctx)
	if err != nil || !changed || smOut[0] != 0x02 || string(smOut[2:4]) != "k2" || sm.NeedsRotation(smOut) {
		t.Fatalf("Reencrypt to SM = % x, changed %v, %v", smOut[:4], changed, err)
	}
	if got, err := sm.DecryptString(smOut, ctx); err != nil || got != v {
		t.Errorf("SM re-encrypted value decrypts to %q, %v", got, err)
	}
	// Old key and other suite at once.
	both, changed, err := sm.Reencrypt(oldCT, ctx)
	if err != nil || !changed || both[0] != 0x02 || string(both[2:4]) != "k2" {
		t.Errorf("Reencrypt old AES to SM = % x, changed %v, %v", both[:4], changed, err)
	}
	back, changed, err := rotated.Reencrypt(smOut, ctx)
	if err != nil || !changed || back[0] != 0x01 || rotated.NeedsRotation(back) {
		t.Errorf("Reencrypt SM to AES = % x, changed %v, %v", back[:4], changed, err)
	}

	if out, changed, err := sm.Reencrypt(nil, ctx); out != nil || changed || err != nil {
		t.Errorf("Reencrypt(nil) = %v, %v, %v", out, changed, err)
	}
	if _, _, err := rotated.Reencrypt(oldCT, "person.id_number"); err == nil {
		t.Error("Reencrypt with the wrong context succeeded")
	}
	bad := bytes.Clone(oldCT)
	bad[len(bad)-1] ^= 1
	if _, _, err := rotated.Reencrypt(bad, ctx); err == nil {
		t.Error("Reencrypt of an altered ciphertext succeeded")
	}
	foreign, _ := NewKeyring(randomKey(t), randomKey(t), randomKey(t)).EncryptString(v, ctx)
	if _, _, err := rotated.Reencrypt(foreign, ctx); err == nil {
		t.Error("Reencrypt of a ciphertext with an unknown key id succeeded")
	}
}

func TestSMBlindIndexAndMAC(t *testing.T) {
	k1 := randomKey(t)
	aes := NewKeyring(k1)
	sm := aes.WithSuite(SuiteSM)
	rotated := NewKeyring(k1, randomKey(t)).WithSuite(SuiteSM)
	const v, ctx = "11010519491231002X", "person.id_number"

	bi := sm.BlindIndex(v, ctx)
	if len(bi) != 32 || strings.Trim(bi, "0123456789abcdef") != "" {
		t.Fatalf("SM BlindIndex = %q, want 32 lower-case hex characters", bi)
	}
	if bi == aes.BlindIndex(v, ctx) {
		t.Error("SM blind index equals the AES one")
	}
	if sm.BlindIndex(v, ctx) != bi || rotated.BlindIndex(v, ctx) != bi || aes.WithSuite(SuiteSM).BlindIndex(v, ctx) != bi {
		t.Error("SM blind index is not stable (repeat, rotation or rebuild)")
	}
	if sm.BlindIndex(v, "visitor.id_number") == bi || sm.BlindIndex("110105194912310021", ctx) == bi {
		t.Error("SM blind index ignores context or value")
	}
	if fp := sm.Fingerprint(); len(fp) != 16 || fp == aes.Fingerprint() || fp != rotated.Fingerprint() {
		t.Errorf("SM fingerprint %q: want 16 hex chars, unlike AES %q, stable on rotation", fp, aes.Fingerprint())
	}
	m := sm.MAC([]byte("entry 1"), "audit")
	if len(m) != 32 || bytes.Equal(m, aes.MAC([]byte("entry 1"), "audit")) || !bytes.Equal(m, rotated.MAC([]byte("entry 1"), "audit")) {
		t.Error("SM MAC is not 32 bytes, equals the AES one, or changed on rotation")
	}
	if bytes.Equal(m, sm.MAC([]byte("entry 2"), "audit")) || bytes.Equal(m, sm.MAC([]byte("entry 1"), "export")) {
		t.Error("SM MAC does not depend on data and context")
	}
}

// TestAESUnchanged pins values computed by the AES-only keyring before
// suites existed: stored ciphertexts, blind indexes, fingerprints and audit
// MACs must stay valid.
func TestAESUnchanged(t *testing.T) {
	k := NewKeyring(bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{9}, 32))
	if got := k.BlindIndex("11010519491231002X", "person.id_number"); got != "f949aa7e9de332eed00aba62c7f8b424" {
		t.Errorf("AES blind index = %s", got)
	}
	if got := k.Fingerprint(); got != "2bf5b188c1a292f4" {
		t.Errorf("AES fingerprint = %s", got)
	}
	if got := hex.EncodeToString(k.MAC([]byte("entry 1"), "audit")); got != "15235944d6493db937a7f442cbf77b3ce923230eb20a0c9d9b4e2660813b4386" {
		t.Errorf("AES MAC = %s", got)
	}
	ct := unhex(t, "01026b325ab6dd2a5bdf57d799bc8e02066c8baeb558f6b9731d7fee944764ef158853902b9f1627d3d0d4430078ae56397a")
	for _, kr := range []*Keyring{k, k.WithSuite(SuiteSM)} {
		if got, err := kr.DecryptString(ct, "person.id_number"); err != nil || got != "11010519491231002X" {
			t.Errorf("%s keyring: stored AES ciphertext decrypts to %q, %v", kr.Suite(), got, err)
		}
	}
}

func TestLoadKeyFileSuite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	aes, err := CreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sm, err := LoadKeyFileSuite(path, SuiteSM)
	if err != nil {
		t.Fatal(err)
	}
	if sm.Suite() != SuiteSM || sm.ActiveID() != "k1" {
		t.Errorf("LoadKeyFileSuite: suite %q, active %q", sm.Suite(), sm.ActiveID())
	}
	if sm.BlindIndex("x", "c") != aes.WithSuite(SuiteSM).BlindIndex("x", "c") {
		t.Error("LoadKeyFileSuite differs from LoadKeyFile + WithSuite")
	}
	ct, _ := aes.EncryptString("x", "c")
	if got, err := sm.DecryptString(ct, "c"); err != nil || got != "x" {
		t.Errorf("SM keyring from file: %q, %v", got, err)
	}
	for s, want := range map[Suite]Suite{"": SuiteAES, SuiteAES: SuiteAES} {
		if k, err := LoadKeyFileSuite(path, s); err != nil || k.Suite() != want {
			t.Errorf("LoadKeyFileSuite(%q) = %v, %v", s, k, err)
		}
	}
	if _, err := LoadKeyFileSuite(path, "sm4"); err == nil || !strings.Contains(err.Error(), "sm4-gcm") {
		t.Errorf("LoadKeyFileSuite with an unknown suite: %v", err)
	}
	if _, err := LoadKeyFileSuite(filepath.Join(t.TempDir(), "absent"), SuiteSM); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadKeyFileSuite of a missing file: %v, want fs.ErrNotExist", err)
	}
}

// TestSM4KnownAnswer checks the gmsm block cipher against GB/T 32907-2016
// Appendix A, and the SM4-GCM construction the keyring uses against RFC
// 8998 A.1.
func TestSM4KnownAnswer(t *testing.T) {
	key := unhex(t, "0123456789abcdeffedcba9876543210")
	block, err := sm4.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 16)
	block.Encrypt(out, key) // the standard's plaintext equals its key
	if got := hex.EncodeToString(out); got != "681edf34d206965e86b3e94f536e4246" {
		t.Errorf("SM4 encrypt = %s, want 681edf34d206965e86b3e94f536e4246", got)
	}
	back := make([]byte, 16)
	block.Decrypt(back, out)
	if !bytes.Equal(back, key) {
		t.Errorf("SM4 decrypt = %x, want %x", back, key)
	}

	if !testing.Short() {
		// Appendix A example 2: one million encryptions in a row.
		buf := bytes.Clone(key)
		for range 1000000 {
			block.Encrypt(buf, buf)
		}
		if got := hex.EncodeToString(buf); got != "595298c7c6fd271f0402f804c33d3f66" {
			t.Errorf("SM4 encrypt x1000000 = %s, want 595298c7c6fd271f0402f804c33d3f66", got)
		}
	}

	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	a := randomNonceAEAD{gcm}
	iv := unhex(t, "00001234567800000000abcd")
	plain := unhex(t, "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbccccccccccccccccddddddddddddddddeeeeeeeeeeeeeeeeffffffffffffffffeeeeeeeeeeeeeeeeaaaaaaaaaaaaaaaa")
	aad := unhex(t, "feedfacedeadbeeffeedfacedeadbeefabaddad2")
	want := "17f399f08c67d5ee19d0dc9969c4bb7d5fd46fd3756489069157b282bb200735d82710ca5c22f0ccfa7cbf93d496ac15a56834cbcf98c397b4024a2691233b8d83de3541e4c2b58177e065a9bf7b62ec"
	if got := hex.EncodeToString(gcm.Seal(nil, iv, plain, aad)); got != want {
		t.Errorf("SM4-GCM seal = %s, want %s", got, want)
	}
	// The random-nonce wrapper opens nonce || ciphertext || tag.
	got, err := a.Open(nil, nil, append(bytes.Clone(iv), unhex(t, want)...), aad)
	if err != nil || !bytes.Equal(got, plain) {
		t.Errorf("random-nonce SM4-GCM open = %x, %v", got, err)
	}
	if a.NonceSize() != 0 || a.Overhead() != 28 {
		t.Errorf("random-nonce AEAD NonceSize %d, Overhead %d; want 0, 28", a.NonceSize(), a.Overhead())
	}
}

// TestSM3KnownAnswer checks SM3 against GB/T 32905-2016 Appendix A.
func TestSM3KnownAnswer(t *testing.T) {
	for in, want := range map[string]string{
		"abc":                      "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0",
		strings.Repeat("abcd", 16): "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732",
	} {
		sum := sm3.Sum([]byte(in))
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Errorf("SM3(%q) = %s, want %s", in, got, want)
		}
		// The hash the SM keyring actually uses.
		h := NewKeyring(make([]byte, 32)).WithSuite(SuiteSM).hash()
		h.Write([]byte(in))
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			t.Errorf("SM keyring hash(%q) = %s, want %s", in, got, want)
		}
	}
}
