package web

import (
	"io"
	"net/http"
	"net/url"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/ledger"
	"shequ/internal/ledgerio"
	"shequ/internal/store"
)

// importCommunities lists the communities the principal may import into.
func (s *Server) importCommunities(r *http.Request) ([]store.OrgNode, error) {
	var out []store.OrgNode
	for _, sc := range reqOf(r).p.Scopes(access.DataImport) {
		nodes, err := s.Store.OrgSubtree(r.Context(), sc)
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			if n.Level == store.LevelCommunity {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

func (s *Server) importPage(w http.ResponseWriter, r *http.Request) {
	s.renderImportForm(w, r, nil)
}

func (s *Server) renderImportForm(w http.ResponseWriter, r *http.Request, formErr error) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.DataImport) {
		s.deny(w, r, "data.import", "", "", "")
		return
	}
	comms, err := s.importCommunities(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Communities": comms, "Columns": ledgerio.Columns}
	if formErr != nil {
		data["Error"] = message(rq, formErr)
		w.WriteHeader(statusOf(formErr))
	}
	s.render(w, r, "import", data)
}

func (s *Server) importTemplate(w http.ResponseWriter, r *http.Request) {
	b, err := ledgerio.Template()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="ledger-template.xlsx"; filename*=UTF-8''`+url.PathEscape("人员信息采集表.xlsx"))
	w.Write(b)
}

func (s *Server) importUpload(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.DataImport) {
		s.deny(w, r, "data.import", "", "", "")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, ledgerio.DefaultMaxBytes+1<<20)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errorsAs(err, &tooBig) {
			s.renderImportForm(w, r, errs.E(errs.Invalid, "err.import.too_large", ledgerio.DefaultMaxBytes>>20))
			return
		}
		s.renderImportForm(w, r, errs.E(errs.Invalid, "err.file_required"))
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, ledgerio.DefaultMaxBytes+1))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	up, err := s.Imports.Stage(r.Context(), s.actor(r), r.PostFormValue("community"), hdr.Filename, data)
	if err != nil {
		if errs.CodeOf(err) == errs.Forbidden {
			s.deny(w, r, "data.import", "org_node", r.PostFormValue("community"), r.PostFormValue("community"))
			return
		}
		if statusOf(err) >= 500 {
			s.fail(w, r, err)
			return
		}
		s.renderImportForm(w, r, err)
		return
	}
	http.Redirect(w, r, "/ledger/import/"+up.Import.ID, http.StatusSeeOther)
}

// loadImport loads an upload of the current user.
func (s *Server) loadImport(w http.ResponseWriter, r *http.Request) (ledger.Upload, bool) {
	up, err := s.Imports.Load(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return up, false
	}
	if up.Import.UserID != reqOf(r).p.UserID {
		s.deny(w, r, "data.import", "ledger_import", up.Import.ID, up.Import.CommunityID)
		return up, false
	}
	return up, true
}

func (s *Server) importShow(w http.ResponseWriter, r *http.Request) {
	s.renderImport(w, r, nil)
}

func (s *Server) renderImport(w http.ResponseWriter, r *http.Request, formErr error) {
	up, ok := s.loadImport(w, r)
	if !ok {
		return
	}
	rq := reqOf(r)
	comm, _ := s.Store.OrgNode(r.Context(), up.Import.CommunityID)
	type problem struct {
		Line          int
		Column, Value string
		Message       string
	}
	var problems []problem
	for i, p := range up.Problems {
		if i == 500 {
			break
		}
		problems = append(problems, problem{Line: p.Line, Column: p.Column, Value: p.Value, Message: rq.pr.T(p.Key, p.Args...)})
	}
	_, done, _ := s.Imports.Progress(r.Context(), up.Import.ID)
	data := map[string]any{"Import": up.Import, "Community": comm, "Valid": len(up.Rows), "Problems": problems,
		"ProblemCount": len(up.Problems), "Done": done, "Result": decodeResult(up.Import.Result)}
	if formErr != nil {
		data["Error"] = message(rq, formErr)
		w.WriteHeader(statusOf(formErr))
	}
	s.render(w, r, "import_show", data)
}

func (s *Server) importCommit(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.loadImport(w, r); !ok {
		return
	}
	mode := ledger.ImportMode(r.PostFormValue("mode"))
	if mode != ledger.ImportValidOnly {
		mode = ledger.ImportAll
	}
	if err := s.Imports.Commit(r.Context(), s.actor(r), r.PathValue("id"), mode); err != nil {
		if statusOf(err) >= 500 {
			s.fail(w, r, err)
			return
		}
		s.renderImport(w, r, err)
		return
	}
	rq := reqOf(r)
	s.Audit.Record(r.Context(), s.Store, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "import.ledger",
		TargetType: "ledger_import", TargetID: r.PathValue("id"), IP: rq.ip, Detail: audit.Detail("mode", mode)})
	http.Redirect(w, r, "/ledger/import/"+r.PathValue("id"), http.StatusSeeOther)
}

func (s *Server) importStatus(w http.ResponseWriter, r *http.Request) {
	im, done, err := s.Imports.Progress(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if im.UserID != reqOf(r).p.UserID {
		s.fail(w, r, errForbidden)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": im.Status, "done": done, "total": im.TotalRows - im.Problems})
}

// importErrors downloads the problems as a spreadsheet to fix.
func (s *Server) importErrors(w http.ResponseWriter, r *http.Request) {
	up, ok := s.loadImport(w, r)
	if !ok {
		return
	}
	b, err := ledgerio.ErrorReport(up.Problems, reqOf(r).pr.T)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="import-problems.xlsx"; filename*=UTF-8''`+url.PathEscape("导入问题清单.xlsx"))
	w.Write(b)
}
