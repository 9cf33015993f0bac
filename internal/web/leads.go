package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/events"
	"shequ/internal/leads"
	"shequ/internal/ledgerio"
	"shequ/internal/notify"
	"shequ/internal/store"
)

// leadsHome lists the batches the principal sees, with the import form.
func (s *Server) leadsHome(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	if !p.CanAnywhere(access.LeadView) {
		s.deny(w, r, "lead.view", "", "", "")
		return
	}
	batches, err := s.Store.Batches(r.Context(), p.Scopes(access.LeadView))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var nodes []store.OrgNode
	for _, a := range p.Assignments {
		if p.Can(access.LeadManage, a.NodePath) {
			if n, err := s.Store.OrgNode(r.Context(), a.NodeID); err == nil {
				nodes = append(nodes, n)
			}
		}
	}
	s.render(w, r, "leads", map[string]any{"Batches": batches, "Nodes": nodes, "Today": s.Store.Today(), "Home": s.leadHomeNode(r),
		"Error": r.URL.Query().Get("error"), "Problems": nil})
}

// leadHomeNode is where the principal's board view of a batch starts:
// their first assignment with lead rights.
func (s *Server) leadHomeNode(r *http.Request) string {
	p := reqOf(r).p
	for _, a := range p.Assignments {
		if p.Can(access.LeadView, a.NodePath) || p.Can(access.LeadVerify, a.NodePath) {
			return a.NodeID
		}
	}
	return ""
}

func (s *Server) leadsImport(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, leads.MaxLeadFile+1<<20)
	file, _, err := r.FormFile("file")
	if err != nil {
		s.leadsImportFailed(w, r, errs.E(errs.Invalid, "err.file_required").OnField("file"), nil)
		return
	}
	data, err := io.ReadAll(file)
	file.Close()
	if err != nil {
		s.leadsImportFailed(w, r, errs.E(errs.Invalid, "err.lead.file"), nil)
		return
	}
	res, err := s.Leads.ImportBatch(r.Context(), reqOf(r).p, leads.BatchInput{NodeID: r.PostFormValue("node"), Name: r.PostFormValue("name"),
		Deadline: r.PostFormValue("deadline"), File: data, ValidOnly: r.PostFormValue("valid_only") == "yes"})
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "lead.manage", "org_node", r.PostFormValue("node"), r.PostFormValue("node"))
		return
	}
	if err != nil {
		s.leadsImportFailed(w, r, err, res.Problems)
		return
	}
	http.Redirect(w, r, "/leads/batches/"+res.Batch.ID+"?node="+res.Batch.NodeID, http.StatusSeeOther)
}

// leadsImportFailed shows the import form again with the error and every
// problem of the file by line and column.
func (s *Server) leadsImportFailed(w http.ResponseWriter, r *http.Request, err error, problems []leads.Problem) {
	if _, ok := errs.As(err); !ok {
		s.fail(w, r, err)
		return
	}
	rq := reqOf(r)
	type line struct {
		Line           int
		Column, Reason string
	}
	var lines []line
	for _, p := range problems {
		lines = append(lines, line{Line: p.Line, Column: p.Column, Reason: message(rq, p.Err)})
	}
	batches, _ := s.Store.Batches(r.Context(), rq.p.Scopes(access.LeadView))
	var nodes []store.OrgNode
	for _, a := range rq.p.Assignments {
		if rq.p.Can(access.LeadManage, a.NodePath) {
			if n, err := s.Store.OrgNode(r.Context(), a.NodeID); err == nil {
				nodes = append(nodes, n)
			}
		}
	}
	w.WriteHeader(statusOf(err))
	s.render(w, r, "leads", map[string]any{"Batches": batches, "Nodes": nodes, "Today": s.Store.Today(), "Home": s.leadHomeNode(r),
		"Error": message(rq, err), "Problems": lines})
}

// leadBatch is a batch's board at a node: its parts below, the leads
// waiting at the node itself (to search by hand or transfer).
func (s *Server) leadBatch(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	node := r.URL.Query().Get("node")
	if node == "" {
		node = s.leadHomeNode(r)
	}
	bd, err := s.Leads.Board(r.Context(), p, r.PathValue("id"), node)
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "lead.view", "lead_batch", r.PathValue("id"), node)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	here, err := s.Store.LeadsAt(r.Context(), bd.Batch.ID, bd.Node.ID, 200)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	trail, _ := s.Store.OrgAncestors(r.Context(), bd.Node.Path)
	s.render(w, r, "lead_batch", map[string]any{"B": bd, "Here": here, "Trail": trail, "CanManage": p.Can(access.LeadManage, bd.Node.Path),
		"Error": r.URL.Query().Get("error")})
}

// lead shows one lead with its history and, for who may, the forms to
// verify, transfer, match by hand or reassign it.
func (s *Server) lead(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	l, path, err := s.Store.Lead(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !p.CanAtOrBelow(access.LeadView, path) && p.UserID != l.AssigneeID {
		s.deny(w, r, "lead.view", "lead", l.ID, l.NodeID)
		return
	}
	events, err := s.Store.LeadEvents(r.Context(), l.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var assignee store.User
	if l.AssigneeID != "" {
		assignee, _ = s.Store.User(r.Context(), l.AssigneeID)
	}
	address := l.Address
	var cats []store.EventCategory
	if l.RoomID != "" {
		if comm, _, a, err := s.Store.RoomGrid(r.Context(), l.RoomID); err == nil {
			address = a
			cats, _ = s.Store.EventCategories(r.Context(), comm)
		}
	}
	var workers []store.User
	if ids, err := s.Store.GridWorkers(r.Context(), l.NodeID); err == nil {
		for _, id := range ids {
			if u, err := s.Store.User(r.Context(), id); err == nil {
				workers = append(workers, u)
			}
		}
	}
	s.render(w, r, "lead", map[string]any{"L": l, "Events": events, "Assignee": assignee, "Address": address, "Workers": workers, "Categories": cats,
		"CanVerify": l.Status != "verified" && (p.UserID == l.AssigneeID || p.Can(access.LeadVerify, path) || p.Can(access.LeadManage, path)),
		"CanManage": l.Status != "verified" && p.Can(access.LeadManage, path), "Outcomes": leads.Outcomes, "Measures": leads.Measures,
		"Error": r.URL.Query().Get("error")})
}

// leadAction handles a lead's forms: verify, transfer, match, reassign.
func (s *Server) leadAction(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 3<<20)
	ctx, p, id := r.Context(), reqOf(r).p, r.PathValue("id")
	var err error
	switch r.PathValue("what") {
	case "verify":
		in := leads.VerifyInput{Method: r.FormValue("method"), Outcome: r.FormValue("outcome"), LeftTo: r.FormValue("left_to"), Note: r.FormValue("note"),
			CallRecord: r.FormValue("call_record"), Measure: r.FormValue("measure")}
		in.Days, _ = strconv.Atoi(r.FormValue("days"))
		if f, _, ferr := r.FormFile("photo"); ferr == nil {
			in.Photo, _ = io.ReadAll(io.LimitReader(f, 3<<20))
			f.Close()
		}
		err = s.Leads.Verify(ctx, p, id, in)
	case "transfer":
		var to store.OrgNode
		if to, err = s.Store.OrgNodeByCode(ctx, r.FormValue("code")); err != nil {
			err = errs.E(errs.Invalid, "err.lead.node").OnField("code")
		} else {
			err = s.Leads.Transfer(ctx, p, id, to.ID, r.FormValue("reason"))
		}
	case "reassign":
		err = s.Leads.Reassign(ctx, p, id, r.FormValue("user"))
	case "event":
		// Something found while verifying (a self-reported returnee who needs
		// supplies, say) becomes an event for the community.
		var l store.Lead
		if l, _, err = s.Store.Lead(ctx, id); err == nil {
			comm, _, _, rerr := s.Store.RoomGrid(ctx, l.RoomID)
			if rerr != nil {
				err = errs.E(errs.Invalid, "err.report.room")
				break
			}
			source := "staff"
			if b, _, berr := s.Store.Batch(ctx, l.BatchID); berr == nil && b.Source == "selfreport" {
				source = "selfreport"
			}
			var ev store.Event
			ev, err = s.Events.Report(ctx, p, "", events.Input{CommunityID: comm, Category: r.FormValue("category"), Description: r.FormValue("note"),
				Address: l.Address, PlaceID: l.RoomID, Source: source, SourceRef: l.ID})
			if err == nil {
				http.Redirect(w, r, "/events/"+ev.Ref, http.StatusSeeOther)
				return
			}
		}
	case "match":
		var person string
		if person, err = s.personByIDNumber(r, r.FormValue("id_number")); err == nil {
			err = s.Leads.MatchByHand(ctx, p, id, person)
		}
	default:
		s.fail(w, r, errNotFound)
		return
	}
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "lead."+r.PathValue("what"), "lead", id, "")
		return
	}
	s.formDone(w, r, "/leads/"+id, "", err)
}

// leadExport reports a batch back up in the sender's layout: their columns
// as they sent them, then the verification.
func (s *Server) leadExport(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	node := r.URL.Query().Get("node")
	if node == "" {
		node = s.leadHomeNode(r)
	}
	b, header, rows, err := s.Leads.Report(r.Context(), rq.p, r.PathValue("id"), node)
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "lead.export", "lead_batch", r.PathValue("id"), node)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	extra := []string{rq.pr.T("lead.col_status"), rq.pr.T("lead.col_outcome"), rq.pr.T("lead.col_note"), rq.pr.T("lead.col_measure"),
		rq.pr.T("lead.col_time"), rq.pr.T("lead.col_unit")}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="leads-report.xlsx"; filename*=UTF-8''`+url.PathEscape(b.Name+"-核查结果.xlsx"))
	ex, err := ledgerio.NewExport(w, ledgerio.Sheet{Title: b.Name + " " + rq.pr.T("lead.report_title"), Headers: append(append([]string{}, header...), extra...),
		Footer: rq.pr.T("lead.report_footer", rq.p.Name, s.Store.Now().In(shanghai).Format("2006-01-02 15:04"))})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, row := range rows {
		cells := make([]any, 0, len(header)+len(extra))
		for i := range header {
			v := ""
			if i < len(row.Cells) {
				v = row.Cells[i]
			}
			cells = append(cells, v)
		}
		outcome, measure := "", ""
		if row.Outcome != "" {
			outcome = rq.pr.T("outcome." + row.Outcome)
		}
		if row.Measure != "" {
			measure = rq.pr.T("measure." + row.Measure)
		}
		cells = append(cells, rq.pr.T("leadstatus."+row.Status), outcome, row.Note, measure, row.Verified, row.Node)
		if err := ex.Row(cells...); err != nil {
			s.Log.Error("lead export", "err", err.Error())
			return
		}
	}
	if err := ex.Close(); err != nil {
		s.Log.Error("lead export", "err", err.Error())
	}
	s.Audit.Record(r.Context(), s.Store, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "export.leads",
		TargetType: "lead_batch", TargetID: b.ID, NodeID: node, IP: rq.ip, Detail: audit.Detail("rows", len(rows))})
}

// leadKeyCreate makes a sharing agreement's key and shows it once.
func (s *Server) leadKeyCreate(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	k, key, err := s.Leads.CreateKey(r.Context(), rq.p, r.PostFormValue("node"), r.PostFormValue("name"))
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "lead.manage", "org_node", r.PostFormValue("node"), r.PostFormValue("node"))
		return
	}
	if err != nil {
		s.leadsImportFailed(w, r, err, nil)
		return
	}
	s.Audit.Record(r.Context(), s.Store, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "lead.key_created",
		TargetType: "lead_key", TargetID: k.ID, NodeID: k.NodeID, IP: rq.ip})
	s.render(w, r, "lead_key", map[string]any{"K": k, "Key": key})
}

// leadRemind reminds the workers of a batch's overdue leads below a node.
func (s *Server) leadRemind(w http.ResponseWriter, r *http.Request) {
	node := r.FormValue("node")
	workers, n, err := s.Leads.RemindOverdue(r.Context(), reqOf(r).p, r.PathValue("id"), node, s.notify)
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "lead.manage", "lead_batch", r.PathValue("id"), node)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	msg := reqOf(r).pr.T("lead.reminded", n, workers)
	http.Redirect(w, r, "/leads/batches/"+r.PathValue("id")+"?node="+url.QueryEscape(node)+"&error="+url.QueryEscape(msg), http.StatusSeeOther)
}

// notify tells a staff member something through the outbox (in the app,
// and by SMS with retries).
func (s *Server) notify(ctx context.Context, u store.User, text string) error {
	return s.Store.Write(ctx, func(tx *store.Tx) error { return notify.Tell(ctx, tx, u, text, "") })
}
