package pii

import (
	"path/filepath"
	"testing"
)

func TestReloadPicksUpAnAddedKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.key")
	k, err := CreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := k.EncryptString("13912345678", "c")
	bidx := k.BlindIndex("13912345678", "phone")
	// Another process (the rotation command) appends a key.
	k2, err := AddKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fresh, _ := k2.EncryptString("13912345678", "c")
	if _, err := k.DecryptString(fresh, "c"); err == nil {
		t.Fatal("the old keyring read a ciphertext of a key it cannot know")
	}
	changed, err := k.Reload(path)
	if err != nil || !changed {
		t.Fatalf("reload: %v %v", changed, err)
	}
	if v, err := k.DecryptString(fresh, "c"); err != nil || v != "13912345678" {
		t.Fatalf("after reload: %q %v", v, err)
	}
	if v, _ := k.DecryptString(old, "c"); v != "13912345678" || !k.NeedsRotation(old) || k.ActiveID() != k2.ActiveID() {
		t.Fatal("old values must still decrypt and need rotation")
	}
	if k.BlindIndex("13912345678", "phone") != bidx {
		t.Fatal("blind index changed on rotation")
	}
	if changed, _ := k.Reload(path); changed {
		t.Fatal("a second reload of the same file reported a change")
	}
}
