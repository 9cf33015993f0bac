package store

import (
	"context"
	"time"
)

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	Seq        int64
	At         time.Time
	ActorID    string
	ActorName  string
	Action     string // e.g. "login", "pii.reveal", "export", "org.move"
	Outcome    string // "ok", "denied", "failed"
	TargetType string
	TargetID   string
	NodeID     string
	IP         string
	Detail     string // JSON: reason, fields touched, filters …
	PrevHash   string
	Hash       string
}

// AppendAudit adds e at the head of the chain. seal computes the entry's
// hash from the previous hash and the entry (with Seq and At filled in).
// The head row is updated in the same transaction, which serialises
// concurrent appends on both engines.
func (tx *Tx) AppendAudit(ctx context.Context, e *AuditEntry, seal func(prev string, e *AuditEntry) string) error {
	var seq int64
	var prev string
	if err := tx.queryRow(ctx, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash`).Scan(&seq, &prev); err != nil {
		return tx.s.classify(err)
	}
	e.Seq, e.PrevHash = seq, prev
	if e.At.IsZero() {
		e.At = tx.Now()
	}
	e.At = e.At.UTC().Truncate(time.Millisecond)
	e.Hash = seal(prev, e)
	if _, err := tx.exec(ctx, `UPDATE audit_head SET hash = $1 WHERE id = 1`, e.Hash); err != nil {
		return err
	}
	_, err := tx.exec(ctx, `INSERT INTO audit_log (seq, at, actor_id, actor_name, action, outcome, target_type, target_id, node_id, ip, detail, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		e.Seq, ms(e.At), e.ActorID, e.ActorName, e.Action, e.Outcome, e.TargetType, e.TargetID, e.NodeID, e.IP, e.Detail, e.PrevHash, e.Hash)
	return err
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	ScopePath string // entries about nodes at or below this path, or by actors…
	ActorID   string
	Action    string // prefix, e.g. "pii."
	Outcome   string
	From, To  time.Time
	Limit     int
	BeforeSeq int64 // keyset pagination: entries older than this
}

const auditCols = `seq, at, actor_id, actor_name, action, outcome, target_type, target_id, node_id, ip, detail, prev_hash, hash`

func scanAudit(sc interface{ Scan(...any) error }) (AuditEntry, error) {
	var e AuditEntry
	var at int64
	err := sc.Scan(&e.Seq, &at, &e.ActorID, &e.ActorName, &e.Action, &e.Outcome, &e.TargetType, &e.TargetID, &e.NodeID, &e.IP, &e.Detail, &e.PrevHash, &e.Hash)
	e.At = time.UnixMilli(at).UTC()
	return e, err
}

// AuditEntries lists entries newest first.
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	where := `WHERE 1=1`
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where += " AND " + replaceArg(cond, len(args))
	}
	if f.ScopePath != "" {
		add(`node_id IN (SELECT id FROM org_nodes WHERE path LIKE $?)`, likePrefix(f.ScopePath))
	}
	if f.ActorID != "" {
		add(`actor_id = $?`, f.ActorID)
	}
	if f.Action != "" {
		add(`action LIKE $?`, f.Action+"%")
	}
	if f.Outcome != "" {
		add(`outcome = $?`, f.Outcome)
	}
	if !f.From.IsZero() {
		add(`at >= $?`, ms(f.From))
	}
	if !f.To.IsZero() {
		add(`at < $?`, ms(f.To))
	}
	if f.BeforeSeq > 0 {
		add(`seq < $?`, f.BeforeSeq)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	args = append(args, f.Limit)
	rows, err := s.query(ctx, `SELECT `+auditCols+` FROM audit_log `+where+` ORDER BY seq DESC LIMIT $`+itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// WalkAudit calls fn for every entry in chain order, in pages.
func (s *Store) WalkAudit(ctx context.Context, fn func(e AuditEntry) error) error {
	var after int64
	for {
		rows, err := s.query(ctx, `SELECT `+auditCols+` FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT 1000`, after)
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				rows.Close()
				return err
			}
			n++
			after = e.Seq
			if err := fn(e); err != nil {
				rows.Close()
				return err
			}
		}
		if err := rows.Err(); err != nil {
			rows.Close()
			return err
		}
		rows.Close()
		if n < 1000 {
			return nil
		}
	}
}

// AuditHead returns the head of the chain.
func (s *Store) AuditHead(ctx context.Context) (seq int64, hash string, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&seq, &hash)
	return seq, hash, s.classify(err)
}
