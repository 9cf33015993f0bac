package store

import (
	"context"
)

// EncryptedColumn is one column that holds field ciphertexts.
type EncryptedColumn struct {
	Table, Column, Context string
}

// EncryptedColumns lists every column encrypted with the data key, with
// the context its values are bound to. A rotation re-encrypts them all.
var EncryptedColumns = []EncryptedColumn{
	{"persons", "id_enc", "persons.id_number"},
	{"persons", "phone_enc", "persons.phone"},
	{"users", "phone_enc", "users.phone"},
	{"contracts", "scan_enc", "contracts.scan"},
	{"ledger_imports", "file_enc", "ledger_imports.file"},
	{"credentials", "value_enc", "credentials.value"},
	{"credentials", "photo_enc", "credentials.photo"},
	{"visitors", "id_enc", "visitors.id_number"},
	{"visitors", "phone_enc", "visitors.phone"},
	{"pass_events", "snapshot_enc", "pass_events.snapshot"},
}

// Reencrypt walks one encrypted column in batches of 500 rows, each batch
// its own transaction, and stores what fn returns where it reports a
// change. It returns how many values changed. Table and column come from
// EncryptedColumns, never from input.
func (s *Store) Reencrypt(ctx context.Context, c EncryptedColumn, fn func(ct []byte) ([]byte, bool, error)) (int, error) {
	changed, after := 0, ""
	for {
		rows, err := s.query(ctx, `SELECT id, `+c.Column+` FROM `+c.Table+` WHERE id > $1 AND `+c.Column+` IS NOT NULL ORDER BY id LIMIT 500`, after)
		if err != nil {
			return changed, err
		}
		type item struct {
			id string
			ct []byte
		}
		var batch []item
		for rows.Next() {
			var it item
			if err := rows.Scan(&it.id, &it.ct); err != nil {
				rows.Close()
				return changed, err
			}
			batch = append(batch, it)
		}
		rows.Close()
		if len(batch) == 0 {
			return changed, nil
		}
		after = batch[len(batch)-1].id
		err = s.Write(ctx, func(tx *Tx) error {
			for _, it := range batch {
				if len(it.ct) == 0 {
					continue
				}
				out, ok, err := fn(it.ct)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				// Only if nobody changed the value meanwhile.
				if _, err := tx.exec(ctx, `UPDATE `+c.Table+` SET `+c.Column+` = $1 WHERE id = $2 AND `+c.Column+` = $3`, out, it.id, it.ct); err != nil {
					return err
				}
				changed++
			}
			return nil
		})
		if err != nil {
			return changed, err
		}
	}
}
