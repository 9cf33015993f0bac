// Package audit keeps the tamper-evident trail of who did what: logins and
// failures, permission denials, reveals of personal fields, exports and
// administrative changes. Each entry's hash is a keyed MAC over the previous
// hash and the entry, so editing, deleting or reordering any entry breaks
// every hash after it, and without the key nobody can forge a new chain.
package audit

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"shequ/internal/store"
)

// Outcomes.
const (
	OK     = "ok"
	Denied = "denied"
	Failed = "failed"
)

// Log appends to and verifies the chain.
type Log struct {
	mac func(data []byte) []byte
}

// New makes a log whose entries are sealed with mac (a keyed HMAC).
func New(mac func(data []byte) []byte) *Log { return &Log{mac: mac} }

// Seal computes an entry's hash from the previous hash and its fields.
func (l *Log) Seal(prev string, e *store.AuditEntry) string {
	var b []byte
	field := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	field(prev)
	b = binary.AppendVarint(b, e.Seq)
	b = binary.AppendVarint(b, e.At.UnixMilli())
	for _, s := range []string{e.ActorID, e.ActorName, e.Action, e.Outcome, e.TargetType, e.TargetID, e.NodeID, e.IP, e.Detail} {
		field(s)
	}
	return hex.EncodeToString(l.mac(b))
}

// Append writes e inside tx, so the entry commits with the change it records.
func (l *Log) Append(ctx context.Context, tx *store.Tx, e *store.AuditEntry) error {
	if e.Outcome == "" {
		e.Outcome = OK
	}
	return tx.AppendAudit(ctx, e, l.Seal)
}

// Record writes e in a transaction of its own (logins, denials, reveals).
func (l *Log) Record(ctx context.Context, s *store.Store, e *store.AuditEntry) error {
	return s.Write(ctx, func(tx *store.Tx) error { return l.Append(ctx, tx, e) })
}

// Detail encodes key/value pairs for AuditEntry.Detail.
func Detail(kv ...any) string {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[fmt.Sprint(kv[i])] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// Broken describes the first entry where the chain does not hold.
type Broken struct {
	Seq    int64
	At     time.Time
	Reason string
}

func (b *Broken) Error() string {
	return fmt.Sprintf("audit chain broken at entry %d (%s): %s", b.Seq, b.At.Format(time.RFC3339), b.Reason)
}

// SealAnchor seals where the chain starts after a retention purge removed
// its beginning (store.AuditAnchor): without the key nobody can move the
// start to hide more entries.
func (l *Log) SealAnchor(seq int64, hash string) string {
	b := []byte("audit-anchor")
	b = binary.AppendVarint(b, seq)
	b = append(b, hash...)
	return hex.EncodeToString(l.mac(b))
}

// Verify recomputes the chain from its start: the first entry, or after a
// retention purge the sealed anchor (the last removed entry's number and
// hash). It returns the number of entries checked and a *Broken naming the
// first bad entry, if any.
func (l *Log) Verify(ctx context.Context, s *store.Store) (int64, error) {
	anchor, err := s.AuditAnchor(ctx)
	if err != nil {
		return 0, err
	}
	if anchor.Seq > 0 && l.SealAnchor(anchor.Seq, anchor.Hash) != anchor.Seal {
		return 0, &Broken{Seq: anchor.Seq + 1, Reason: "the start left by the retention purge does not match its seal"}
	}
	var n int64
	want, prev := anchor.Seq, anchor.Hash
	var broken *Broken
	err = s.WalkAudit(ctx, func(e store.AuditEntry) error {
		want++
		switch {
		case e.Seq != want:
			broken = &Broken{Seq: e.Seq, At: e.At, Reason: fmt.Sprintf("entry %d is missing", want)}
		case e.PrevHash != prev:
			broken = &Broken{Seq: e.Seq, At: e.At, Reason: "does not link to the entry before it"}
		case l.Seal(prev, &e) != e.Hash:
			broken = &Broken{Seq: e.Seq, At: e.At, Reason: "its content does not match its hash"}
		}
		if broken != nil {
			return broken
		}
		n++
		prev = e.Hash
		return nil
	})
	if broken != nil {
		return n, broken
	}
	if err != nil {
		return n, err
	}
	seq, head, err := s.AuditHead(ctx)
	if err != nil {
		return n, err
	}
	if seq != anchor.Seq+n || head != prev {
		return n, &Broken{Seq: anchor.Seq + n + 1, Reason: fmt.Sprintf("the chain head says %d entries but %d were found: entries were removed from the end", seq, anchor.Seq+n)}
	}
	return n, nil
}
