package leads

import (
	"bytes"
	"testing"
)

// The published test vector of docs/leads.md: senders check their
// implementation against it.
func TestIDHMACVector(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	got := IDHMAC(key, "11010519491231002x")
	if got != IDHMAC(key, "11010519491231002X") || len(got) != 43 {
		t.Fatalf("case or length: %s", got)
	}
	t.Logf("IDHMAC(0x01×32, 11010519491231002X) = %s", got)
	if got != idhmacVector {
		t.Fatalf("vector changed: %s", got)
	}
}

// idhmacVector was computed by a separate program from the definition:
// HMAC-SHA256(0x01 × 32, "shequ-lead-v1" 0x00 "11010519491231002X"), base64url.
const idhmacVector = "kxUfxnW8bf4f5edIvYpsf3GLlpUkYv8ff2i3jPxwwEs"
