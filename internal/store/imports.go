package store

import (
	"context"
	"time"

	"shequ/internal/errs"
)

// LedgerImport is an uploaded ledger file between preview and commit. The
// file is kept encrypted and dropped once the import has run.
type LedgerImport struct {
	ID          string
	UserID      string
	CommunityID string
	FileName    string
	FileEnc     []byte
	Status      string // preview, running, done, failed
	TotalRows   int
	DoneRows    int
	Problems    int
	Mode        string
	Result      string // JSON of the result, or the error key
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// CreateImport stores an upload.
func (tx *Tx) CreateImport(ctx context.Context, im *LedgerImport) error {
	im.ID = orNew(im.ID)
	now := tx.Now()
	im.CreatedAt, im.UpdatedAt = now, now
	_, err := tx.exec(ctx, `INSERT INTO ledger_imports (id, user_id, community_id, file_name, file_enc, status, total_rows, problems, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, im.ID, im.UserID, im.CommunityID, im.FileName, im.FileEnc, im.Status,
		im.TotalRows, im.Problems, ms(now), ms(now))
	return err
}

// Import loads an upload.
func (s *Store) Import(ctx context.Context, id string) (LedgerImport, error) {
	var im LedgerImport
	var c, u int64
	err := s.queryRow(ctx, `SELECT id, user_id, community_id, file_name, file_enc, status, total_rows, done_rows, problems, mode, result, created_at, updated_at
		FROM ledger_imports WHERE id = $1`, id).Scan(&im.ID, &im.UserID, &im.CommunityID, &im.FileName, &im.FileEnc, &im.Status,
		&im.TotalRows, &im.DoneRows, &im.Problems, &im.Mode, &im.Result, &c, &u)
	im.CreatedAt, im.UpdatedAt = time.UnixMilli(c).UTC(), time.UnixMilli(u).UTC()
	return im, s.classify(err)
}

// SetImportStatus moves an upload along; a finished import drops its file.
// It fails with a conflict when the import is not in status from.
func (tx *Tx) SetImportStatus(ctx context.Context, id, from, to, mode string, done int, result string) error {
	q := `UPDATE ledger_imports SET status = $1, mode = $2, done_rows = $3, result = $4, updated_at = $5`
	args := []any{to, mode, done, result, ms(tx.Now()), id, from}
	if to == "done" || to == "failed" {
		q += `, file_enc = $8`
		args = append(args, []byte{})
	}
	q += ` WHERE id = $6 AND status = $7`
	r, err := tx.exec(ctx, q, args...)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errs.E(errs.Conflict, "err.import.state")
	}
	return nil
}

// PurgeImports drops uploads older than t that were never committed.
func (tx *Tx) PurgeImports(ctx context.Context, t time.Time) (int64, error) {
	r, err := tx.exec(ctx, `DELETE FROM ledger_imports WHERE status = 'preview' AND created_at < $1`, ms(t))
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}
