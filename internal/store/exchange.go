package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

// SameTest returns the id of the person's test with this kind, sample
// time and result, or "": a file or message sent twice is applied once.
func (tx *Tx) SameTest(ctx context.Context, personID, kind string, sampledAt time.Time, result string) (string, error) {
	return tx.firstID(ctx, `SELECT id FROM health_tests WHERE person_id = $1 AND kind = $2 AND sampled_at = $3 AND result = $4 ORDER BY id LIMIT 1`,
		personID, kind, ms(sampledAt), result)
}

// SameVaccination returns the id of the person's dose of this vaccine,
// dose number and date, or "".
func (tx *Tx) SameVaccination(ctx context.Context, personID, vaccine string, dose int, givenOn string) (string, error) {
	return tx.firstID(ctx, `SELECT id FROM vaccinations WHERE person_id = $1 AND vaccine = $2 AND dose = $3 AND given_on = $4 ORDER BY id LIMIT 1`,
		personID, vaccine, dose, givenOn)
}

func (tx *Tx) firstID(ctx context.Context, q string, args ...any) (string, error) {
	var id string
	err := tx.queryRow(ctx, q, args...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, tx.s.classify(err)
}

// SetPersonTags replaces a person's care tags (comma-separated).
func (tx *Tx) SetPersonTags(ctx context.Context, personID, tags string) error {
	_, err := tx.exec(ctx, `UPDATE persons SET tags = $1, updated_at = $2 WHERE id = $3`, tags, ms(tx.Now()), personID)
	return err
}

// ExchangeBatch is one applied inbound file.
type ExchangeBatch struct {
	ID, Kind, Department, FileName, NodeID string
	ActorID, ActorName                     string
	Rows, Applied, Unchanged, Unmatched    int
	CreatedAt                              time.Time
	NodeName                               string // filled by ExchangeBatches
}

// AddExchangeBatch records an applied inbound file.
func (tx *Tx) AddExchangeBatch(ctx context.Context, b *ExchangeBatch) error {
	b.ID = orNew(b.ID)
	b.CreatedAt = tx.Now()
	_, err := tx.exec(ctx, `INSERT INTO exchange_batches (id, kind, department, file_name, node_id, actor_id, actor_name, rows_read, applied,
		unchanged, unmatched, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		b.ID, b.Kind, b.Department, b.FileName, nullStr(b.NodeID), nullStr(b.ActorID), b.ActorName, b.Rows, b.Applied, b.Unchanged,
		b.Unmatched, ms(b.CreatedAt))
	return err
}

// ExchangeBatches lists the latest applied files at or below the scopes.
func (s *Store) ExchangeBatches(ctx context.Context, scopes []string, limit int) ([]ExchangeBatch, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	args := []any{}
	var where []string
	for _, sc := range scopes {
		args = append(args, likePrefix(sc))
		where = append(where, "n.path LIKE $"+itoa(len(args)))
	}
	args = append(args, limit)
	rows, err := s.query(ctx, `SELECT b.id, b.kind, b.department, b.file_name, COALESCE(b.node_id, ''), COALESCE(b.actor_id, ''), b.actor_name,
		b.rows_read, b.applied, b.unchanged, b.unmatched, b.created_at, n.name
		FROM exchange_batches b JOIN org_nodes n ON n.id = b.node_id WHERE `+strings.Join(where, " OR ")+`
		ORDER BY b.created_at DESC, b.id DESC LIMIT $`+itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ExchangeBatch
	for rows.Next() {
		var b ExchangeBatch
		var at int64
		if err := rows.Scan(&b.ID, &b.Kind, &b.Department, &b.FileName, &b.NodeID, &b.ActorID, &b.ActorName, &b.Rows, &b.Applied,
			&b.Unchanged, &b.Unmatched, &at, &b.NodeName); err != nil {
			return nil, err
		}
		b.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}
