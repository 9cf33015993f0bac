package web

import (
	"net/http"
	"strings"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/org"
	"shequ/internal/store"
)

type treeRow struct {
	Node  store.OrgNode
	Depth int
}

// orgTree shows the parts of the tree the principal may see, indented.
func (s *Server) orgTree(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	scopes := rq.p.Scopes(access.OrgView)
	if len(scopes) == 0 {
		s.deny(w, r, "org.view", "", "", "")
		return
	}
	var rows []treeRow
	for _, sc := range scopes {
		nodes, err := s.Store.OrgSubtree(r.Context(), sc)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		base := strings.Count(sc, "/")
		for _, n := range nodes {
			rows = append(rows, treeRow{Node: n, Depth: strings.Count(n.Path, "/") - base})
		}
	}
	s.render(w, r, "org", map[string]any{"Rows": rows, "CanImport": rq.p.HasRole(access.Admin)})
}

// loadNode loads a node and checks that the principal may do a on it,
// answering (and auditing) the refusal itself.
func (s *Server) loadNode(w http.ResponseWriter, r *http.Request, a access.Action) (store.OrgNode, bool) {
	n, err := s.Store.OrgNode(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return n, false
	}
	if !reqOf(r).p.Can(a, n.Path) {
		s.deny(w, r, string(a), "org_node", n.ID, n.ID)
		return n, false
	}
	return n, true
}

func (s *Server) orgNode(w http.ResponseWriter, r *http.Request) {
	n, ok := s.loadNode(w, r, access.OrgView)
	if !ok {
		return
	}
	s.renderNode(w, r, n, nil)
}

func (s *Server) renderNode(w http.ResponseWriter, r *http.Request, n store.OrgNode, formErr error) {
	rq := reqOf(r)
	ctx := r.Context()
	children, err := s.Store.OrgChildren(ctx, n.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	trail, err := s.Store.OrgAncestors(ctx, n.Path)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	history, err := s.Store.OrgHistory(ctx, n.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Node": n, "Children": children, "Trail": s.trail(r, trail), "History": history,
		"CanManage": rq.p.Can(access.OrgManage, n.Path)}
	if n.Level == store.LevelGrid && len(trail) >= 2 {
		// Communities this grid may move to: those of the same street that
		// the principal manages.
		street := trail[len(trail)-3]
		comms, err := s.Store.OrgChildren(ctx, street.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var targets []store.OrgNode
		for _, c := range comms {
			if c.ID != n.ParentID && rq.p.Can(access.OrgManage, c.Path) {
				targets = append(targets, c)
			}
		}
		data["MoveTargets"] = targets
	}
	if n.Level == store.LevelCommunity {
		next, err := s.Store.NextGridCode(ctx, n.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["NextGridCode"] = next
	}
	if formErr != nil {
		data["Error"] = message(rq, formErr)
		w.WriteHeader(statusOf(formErr))
	}
	s.render(w, r, "org_node", data)
}

func (s *Server) orgRename(w http.ResponseWriter, r *http.Request) {
	n, ok := s.loadNode(w, r, access.OrgManage)
	if !ok {
		return
	}
	rq := reqOf(r)
	name, code := strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("code"))
	if code == "" {
		code = n.Code
	}
	err := s.Store.Write(r.Context(), func(tx *store.Tx) error {
		if err := org.Rename(r.Context(), tx, n.ID, name, code, rq.p.UserID); err != nil {
			return err
		}
		return s.Audit.Append(r.Context(), tx, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "org.rename",
			TargetType: "org_node", TargetID: n.ID, NodeID: n.ID, IP: rq.ip, Detail: audit.Detail("name", name, "code", code)})
	})
	if err != nil {
		s.formError(w, r, n, err)
		return
	}
	http.Redirect(w, r, "/org/"+n.ID, http.StatusSeeOther)
}

func (s *Server) formError(w http.ResponseWriter, r *http.Request, n store.OrgNode, err error) {
	if statusOf(err) >= 500 || errs.CodeOf(err) == errs.Forbidden {
		s.fail(w, r, err)
		return
	}
	s.renderNode(w, r, n, err)
}

func (s *Server) orgAddChild(w http.ResponseWriter, r *http.Request) {
	n, ok := s.loadNode(w, r, access.OrgManage)
	if !ok {
		return
	}
	rq := reqOf(r)
	var child store.OrgNode
	err := s.Store.Write(r.Context(), func(tx *store.Tx) error {
		var err error
		child, err = org.Create(r.Context(), tx, n.ID, r.PostFormValue("code"), r.PostFormValue("name"), rq.p.UserID)
		if err != nil {
			return err
		}
		return s.Audit.Append(r.Context(), tx, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "org.create",
			TargetType: "org_node", TargetID: child.ID, NodeID: child.ID, IP: rq.ip,
			Detail: audit.Detail("name", child.Name, "code", child.Code, "level", child.Level)})
	})
	if err != nil {
		s.formError(w, r, n, err)
		return
	}
	http.Redirect(w, r, "/org/"+n.ID, http.StatusSeeOther)
}

func (s *Server) orgMove(w http.ResponseWriter, r *http.Request) {
	n, ok := s.loadNode(w, r, access.OrgManage)
	if !ok {
		return
	}
	rq := reqOf(r)
	target, err := s.Store.OrgNode(r.Context(), r.PostFormValue("community"))
	if err != nil {
		s.formError(w, r, n, errs.E(errs.Invalid, "err.org_move_target_community"))
		return
	}
	if !rq.p.Can(access.OrgManage, target.Path) {
		s.deny(w, r, "org.move", "org_node", target.ID, target.ID)
		return
	}
	err = s.Store.Write(r.Context(), func(tx *store.Tx) error {
		code, err := org.MoveGrid(r.Context(), tx, n.ID, target.ID, rq.p.UserID)
		if err != nil {
			return err
		}
		return s.Audit.Append(r.Context(), tx, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "org.move",
			TargetType: "org_node", TargetID: n.ID, NodeID: target.ID, IP: rq.ip,
			Detail: audit.Detail("from", n.ParentID, "to", target.ID, "old_code", n.Code, "new_code", code)})
	})
	if err != nil {
		s.formError(w, r, n, err)
		return
	}
	http.Redirect(w, r, "/org/"+n.ID, http.StatusSeeOther)
}

// orgImport loads a division table from an uploaded CSV file.
func (s *Server) orgImport(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	if !rq.p.HasRole(access.Admin) {
		s.deny(w, r, "org.import", "", "", "")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<20)
	f, _, err := r.FormFile("file")
	if err != nil {
		s.renderOrgImport(w, r, org.ImportResult{}, errs.E(errs.Invalid, "err.file_required"))
		return
	}
	defer f.Close()
	res, err := org.ImportCSV(r.Context(), s.Store, f, rq.p.UserID, func(tx *store.Tx, created int) error {
		return s.Audit.Append(r.Context(), tx, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "org.import",
			IP: rq.ip, Detail: audit.Detail("created", created)})
	})
	s.renderOrgImport(w, r, res, err)
}

func (s *Server) renderOrgImport(w http.ResponseWriter, r *http.Request, res org.ImportResult, err error) {
	rq := reqOf(r)
	data := map[string]any{"Result": res}
	if err != nil {
		if statusOf(err) >= 500 {
			s.fail(w, r, err)
			return
		}
		data["Error"] = message(rq, err)
		w.WriteHeader(statusOf(err))
	} else if len(res.Errors) > 0 {
		w.WriteHeader(http.StatusBadRequest)
	}
	var rowErrs []map[string]any
	for _, e := range res.Errors {
		rowErrs = append(rowErrs, map[string]any{"Row": e.Row, "Column": e.Column, "Message": message(rq, e.Err)})
	}
	data["RowErrors"] = rowErrs
	s.render(w, r, "org_import", data)
}
