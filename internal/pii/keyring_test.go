package pii

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func randomKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyringRoundTrip(t *testing.T) {
	k := NewKeyring(randomKey(t))
	for _, plain := range []string{"11010519491231002X", "张小明", "13912345678", strings.Repeat("x", 10000)} {
		ct, err := k.EncryptString(plain, "person.id_number")
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(ct, []byte(plain)) {
			t.Fatalf("ciphertext contains the plaintext %q", plain)
		}
		if ct[0] != 0x01 || ct[1] != 2 || string(ct[2:4]) != "k1" {
			t.Fatalf("header = % x, want 01 02 'k1'", ct[:4])
		}
		if want := 1 + 1 + 2 + 12 + len(plain) + 16; len(ct) != want {
			t.Fatalf("len(ct) = %d, want %d", len(ct), want)
		}
		got, err := k.DecryptString(ct, "person.id_number")
		if err != nil || got != plain {
			t.Fatalf("DecryptString = %q, %v; want %q", got, err, plain)
		}
	}
	a, _ := k.EncryptString("same", "c")
	b, _ := k.EncryptString("same", "c")
	if bytes.Equal(a, b) {
		t.Error("two encryptions of the same value are identical: nonces are not random")
	}
}

func TestKeyringEmptyValues(t *testing.T) {
	k := NewKeyring(randomKey(t))
	if ct, err := k.EncryptString("", "c"); ct != nil || err != nil {
		t.Errorf(`EncryptString("") = %v, %v; want nil, nil`, ct, err)
	}
	if s, err := k.DecryptString(nil, "c"); s != "" || err != nil {
		t.Errorf("DecryptString(nil) = %q, %v", s, err)
	}
	if k.NeedsRotation(nil) {
		t.Error("NeedsRotation(nil) = true; an absent value needs no rotation")
	}
	// Encrypt of empty bytes (not a string) is still a real ciphertext.
	ct, err := k.Encrypt(nil, "c")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := k.Decrypt(ct, "c"); err != nil || len(p) != 0 {
		t.Errorf("Decrypt = %q, %v", p, err)
	}
}

func TestKeyringRejects(t *testing.T) {
	k := NewKeyring(randomKey(t))
	ct, err := k.EncryptString("11010519491231002X", "person.id_number")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.DecryptString(ct, "person.phone"); err == nil {
		t.Error("ciphertext moved to another column decrypted")
	}
	for i := range ct {
		bad := bytes.Clone(ct)
		bad[i] ^= 0x01
		if _, err := k.DecryptString(bad, "person.id_number"); err == nil {
			t.Errorf("flipping a bit of byte %d went unnoticed", i)
		}
	}
	for _, bad := range [][]byte{{0x01}, {0x02, 0x02, 'k', '1'}, ct[:len(ct)-1], ct[:20], {0x01, 0x09, 'k'}} {
		if _, err := k.Decrypt(bad, "person.id_number"); err == nil {
			t.Errorf("Decrypt(% x) succeeded", bad)
		}
	}
	other := NewKeyring(randomKey(t))
	if _, err := other.Decrypt(ct, "person.id_number"); err == nil {
		t.Error("a different key file decrypted the value")
	}
}

func TestKeyringBlindIndexAndMAC(t *testing.T) {
	k1 := randomKey(t)
	k := NewKeyring(k1)
	rotated := NewKeyring(k1, randomKey(t), randomKey(t))
	other := NewKeyring(randomKey(t))

	bi := k.BlindIndex("11010519491231002X", "person.id_number")
	if len(bi) != 32 || strings.Trim(bi, "0123456789abcdef") != "" {
		t.Fatalf("BlindIndex = %q, want 32 lower-case hex characters", bi)
	}
	if rotated.BlindIndex("11010519491231002X", "person.id_number") != bi {
		t.Error("blind index changed after key rotation; stored indexes would stop matching")
	}
	if k.BlindIndex("11010519491231002X", "person.id_number") != bi {
		t.Error("blind index is not deterministic")
	}
	if k.BlindIndex("11010519491231002X", "visitor.id_number") == bi {
		t.Error("blind index equal across contexts")
	}
	if k.BlindIndex("110105194912310021", "person.id_number") == bi {
		t.Error("blind index equal for different values")
	}
	if other.BlindIndex("11010519491231002X", "person.id_number") == bi {
		t.Error("blind index does not depend on the key")
	}
	// The separator keeps (context, value) pairs apart.
	if k.BlindIndex("b", "a") == k.BlindIndex("", "ab") {
		t.Error("context/value boundary is ambiguous")
	}

	if k.Fingerprint() != rotated.Fingerprint() || len(k.Fingerprint()) != 16 {
		t.Errorf("Fingerprint = %q and %q after rotation; want equal 16 hex chars", k.Fingerprint(), rotated.Fingerprint())
	}
	if k.Fingerprint() == other.Fingerprint() {
		t.Error("different key files have the same fingerprint")
	}

	m := k.MAC([]byte("entry 1"), "audit")
	if len(m) != 32 || !bytes.Equal(m, rotated.MAC([]byte("entry 1"), "audit")) {
		t.Error("MAC is not 32 bytes or changed after rotation")
	}
	if bytes.Equal(m, k.MAC([]byte("entry 2"), "audit")) || bytes.Equal(m, k.MAC([]byte("entry 1"), "export")) ||
		bytes.Equal(m, other.MAC([]byte("entry 1"), "audit")) {
		t.Error("MAC does not depend on data, context and key")
	}
}

func TestKeyFileLifecycle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets", "shequ.keys")
	k, err := CreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("key file mode = %#o, want 0600", fi.Mode().Perm())
		}
		di, _ := os.Stat(filepath.Dir(path))
		if di.Mode().Perm() != 0o700 {
			t.Errorf("key directory mode = %#o, want 0700", di.Mode().Perm())
		}
	}
	if k.ActiveID() != "k1" {
		t.Errorf("ActiveID = %q, want k1", k.ActiveID())
	}
	before, _ := os.ReadFile(path)
	if _, err := CreateKeyFile(path); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("CreateKeyFile over an existing file: %v, want fs.ErrExist", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("CreateKeyFile changed an existing key file")
	}

	ct, err := k.EncryptString("13912345678", "person.phone")
	if err != nil {
		t.Fatal(err)
	}
	bi := k.BlindIndex("13912345678", "person.phone")
	if k.NeedsRotation(ct) {
		t.Error("NeedsRotation true for a value made with the active key")
	}

	k2, err := AddKey(path)
	if err != nil {
		t.Fatal(err)
	}
	k3, err := AddKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if k2.ActiveID() != "k2" || k3.ActiveID() != "k3" {
		t.Errorf("active ids after rotation = %q, %q; want k2, k3", k2.ActiveID(), k3.ActiveID())
	}
	if fi, _ := os.Stat(path); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode after AddKey = %#o, want 0600", fi.Mode().Perm())
	}
	loaded, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.ActiveID() != "k3" {
		t.Errorf("reloaded ActiveID = %q, want k3", loaded.ActiveID())
	}
	if got, err := loaded.DecryptString(ct, "person.phone"); err != nil || got != "13912345678" {
		t.Fatalf("old ciphertext after rotation: %q, %v", got, err)
	}
	if !loaded.NeedsRotation(ct) {
		t.Error("NeedsRotation false for a value made with a retired key")
	}
	fresh, _ := loaded.EncryptString("13912345678", "person.phone")
	if loaded.NeedsRotation(fresh) || string(fresh[2:4]) != "k3" {
		t.Error("new ciphertext not made with the active key k3")
	}
	if _, err := k.DecryptString(fresh, "person.phone"); err == nil {
		t.Error("a keyring without k3 decrypted a k3 ciphertext")
	}
	if loaded.BlindIndex("13912345678", "person.phone") != bi || loaded.Fingerprint() != k.Fingerprint() {
		t.Error("blind index or fingerprint changed on rotation")
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("key directory holds %d entries, want only the key file (temporary files left behind?)", len(entries))
	}
}

func writeKeyFile(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadKeyFileErrors(t *testing.T) {
	good := base64.StdEncoding.EncodeToString(randomKey(t))
	short := base64.StdEncoding.EncodeToString(make([]byte, 16))
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    []string // fragments of the error message
	}{
		{"readable by others", "k1 " + good + "\n", 0o644, []string{"chmod 600"}},
		{"readable by group", "k1 " + good + "\n", 0o640, []string{"chmod 600"}},
		{"short key", "# keys\nk1 " + short + "\n", 0o600, []string{"line 2", "16 bytes", "32"}},
		{"not base64", "k1 " + good + "\nk2 !!notbase64!!\n", 0o600, []string{"line 2", "base64"}},
		{"missing key", "\n\n\nk1\n", 0o600, []string{"line 4"}},
		{"extra field", "k1 " + good + " extra\n", 0o600, []string{"line 1"}},
		{"upper-case id", "K1 " + good + "\n", 0o600, []string{"line 1"}},
		{"id too long", "abcdefghijklmnopq " + good + "\n", 0o600, []string{"line 1"}},
		{"duplicate id", "k1 " + good + "\nk1 " + good + "\n", 0o600, []string{"line 2", "duplicate"}},
		{"no keys", "# only a comment\n\n", 0o600, []string{"no keys"}},
		{"empty file", "", 0o600, []string{"no keys"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tc.mode != 0o600 {
				t.Skip("no Unix permissions on Windows")
			}
			_, err := LoadKeyFile(writeKeyFile(t, tc.content, tc.mode))
			if err == nil {
				t.Fatal("LoadKeyFile succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), good) {
				t.Error("error message leaks key material")
			}
		})
	}

	_, err := LoadKeyFile(filepath.Join(t.TempDir(), "absent"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want errors.Is fs.ErrNotExist", err)
	}

	// Comments, blank lines, CRLF and surrounding spaces are tolerated, and
	// the last key is active.
	k, err := LoadKeyFile(writeKeyFile(t, "# c\r\n\r\n  old "+good+"  \r\n#k9 x\r\nnew "+base64.StdEncoding.EncodeToString(randomKey(t))+"\r\n", 0o600))
	if err != nil {
		t.Fatal(err)
	}
	if k.ActiveID() != "new" {
		t.Errorf("ActiveID = %q, want new", k.ActiveID())
	}
}

func TestNewKeyringPanicsOnBadKey(t *testing.T) {
	for _, keys := range [][][]byte{nil, {make([]byte, 31)}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewKeyring with %d keys did not panic", len(keys))
				}
			}()
			NewKeyring(keys...)
		}()
	}
}
