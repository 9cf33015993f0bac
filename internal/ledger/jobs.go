package ledger

import (
	"bytes"
	"context"
	"sync"

	"shequ/internal/errs"
	"shequ/internal/ledgerio"
	"shequ/internal/store"
)

// Upload is a parsed ledger file waiting for the user's decision.
type Upload struct {
	Import   store.LedgerImport
	Rows     []ledgerio.Row
	Problems []ledgerio.Problem
}

// Imports runs ledger imports in the background and remembers their
// progress (in this process; the database keeps the outcome).
type Imports struct {
	Svc *Service
	mu  sync.Mutex
	run map[string]int // import id → rows written so far
}

// NewImports makes an import runner.
func NewImports(svc *Service) *Imports { return &Imports{Svc: svc, run: map[string]int{}} }

const ctxUpload = "ledger_imports.file"

// Stage stores an uploaded file (encrypted), parses it and checks it
// against the ledger, so the user can see every problem before deciding.
func (m *Imports) Stage(ctx context.Context, a Actor, communityID, name string, data []byte) (Upload, error) {
	s := m.Svc
	comm, err := s.Store.OrgNode(ctx, communityID)
	if err != nil || comm.Level != store.LevelCommunity {
		return Upload{}, errs.E(errs.Invalid, "err.import.community").OnField("community")
	}
	if a.P != nil && !a.P.Can("data.import", comm.Path) {
		return Upload{}, errs.E(errs.Forbidden, "err.forbidden")
	}
	up, err := m.parse(ctx, data, name)
	if err != nil {
		return up, err
	}
	enc, err := s.Keys.Encrypt(data, ctxUpload)
	if err != nil {
		return up, err
	}
	up.Import = store.LedgerImport{UserID: a.id(), CommunityID: communityID, FileName: name, FileEnc: enc, Status: "preview",
		TotalRows: len(up.Rows) + countLines(up.Problems), Problems: len(up.Problems)}
	err = s.Store.Write(ctx, func(tx *store.Tx) error { return tx.CreateImport(ctx, &up.Import) })
	return up, err
}

func (m *Imports) parse(ctx context.Context, data []byte, name string) (Upload, error) {
	rows, problems, err := ledgerio.Parse(bytes.NewReader(data), name, m.Svc.Store.Now(), ledgerio.Limits{})
	if err != nil {
		return Upload{}, err
	}
	dbProblems, err := m.Svc.CheckImport(ctx, rows)
	if err != nil {
		return Upload{}, err
	}
	problems = append(problems, dbProblems...)
	return Upload{Rows: WithoutProblems(rows, problems), Problems: problems}, nil
}

// Load reads a staged upload back (parsing the stored file again).
func (m *Imports) Load(ctx context.Context, id string) (Upload, error) {
	im, err := m.Svc.Store.Import(ctx, id)
	if err != nil {
		return Upload{}, err
	}
	if im.Status != "preview" {
		return Upload{Import: im}, nil
	}
	data, err := m.Svc.Keys.Decrypt(im.FileEnc, ctxUpload)
	if err != nil {
		return Upload{}, err
	}
	up, err := m.parse(ctx, data, im.FileName)
	up.Import = im
	return up, err
}

// Commit starts writing a staged upload in the background. ImportAll
// refuses a file with any problem; ImportValidOnly writes the good rows.
func (m *Imports) Commit(ctx context.Context, a Actor, id string, mode ImportMode) error {
	up, err := m.Load(ctx, id)
	if err != nil {
		return err
	}
	if up.Import.Status != "preview" {
		return errs.E(errs.Conflict, "err.import.state")
	}
	if a.P != nil && a.P.UserID != up.Import.UserID {
		return errs.E(errs.Forbidden, "err.forbidden")
	}
	if mode == ImportAll && len(up.Problems) > 0 {
		return errs.E(errs.Invalid, "err.import.has_problems", len(up.Problems))
	}
	if len(up.Rows) == 0 {
		return errs.E(errs.Invalid, "err.import.no_rows")
	}
	if err := m.Svc.Store.Write(ctx, func(tx *store.Tx) error {
		return tx.SetImportStatus(ctx, id, "preview", "running", string(mode), 0, "")
	}); err != nil {
		return err
	}
	m.mu.Lock()
	m.run[id] = 0
	m.mu.Unlock()
	go m.execute(context.WithoutCancel(ctx), a, up, mode)
	return nil
}

func (m *Imports) execute(ctx context.Context, a Actor, up Upload, mode ImportMode) {
	id := up.Import.ID
	a.Source = store.SourceImport
	res, err := m.Svc.CommitImport(ctx, a, up.Import.CommunityID, up.Rows, func(done int) {
		m.mu.Lock()
		m.run[id] = done
		m.mu.Unlock()
	})
	status, result := "done", ""
	if err != nil {
		status, result = "failed", errKey(err)
	} else {
		res.Skipped = countLines(up.Problems)
		result = jsonOf(res)
	}
	m.Svc.Store.Write(ctx, func(tx *store.Tx) error {
		return tx.SetImportStatus(ctx, id, "running", status, string(mode), res.People, result)
	})
	m.mu.Lock()
	delete(m.run, id)
	m.mu.Unlock()
}

// Progress tells how far an import is: rows written and rows in all.
func (m *Imports) Progress(ctx context.Context, id string) (store.LedgerImport, int, error) {
	im, err := m.Svc.Store.Import(ctx, id)
	if err != nil {
		return im, 0, err
	}
	m.mu.Lock()
	done, running := m.run[id]
	m.mu.Unlock()
	if !running {
		done = im.DoneRows
	}
	return im, done, nil
}

// Wait blocks until no import runs in this process (tests, shutdown).
func (m *Imports) Running() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.run)
}

func countLines(ps []ledgerio.Problem) int {
	seen := map[int]bool{}
	for _, p := range ps {
		if p.Line > 1 {
			seen[p.Line] = true
		}
	}
	return len(seen)
}

func errKey(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Key
	}
	return "err.internal"
}
