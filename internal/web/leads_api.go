package web

import (
	"bytes"
	"io"
	"net/http"

	"shequ/internal/errs"
	"shequ/internal/leads"
)

// The leads API (docs/leads.md): an upper level's command system sends a
// batch down and fetches the results, with a token of an account holding
// lead rights at the receiving node.

type apiLead struct {
	Ref      string `json:"ref"` // the sender's own id for the lead, returned in the results
	Name     string `json:"name"`
	IDNumber string `json:"id_number,omitempty"`
	IDHMAC   string `json:"id_hmac,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Address  string `json:"address,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Deadline string `json:"deadline,omitempty"`
}

type apiBatch struct {
	Node      string    `json:"node"` // division or grid code of the receiving node
	Name      string    `json:"name"`
	Deadline  string    `json:"deadline"`
	KeyID     string    `json:"key_id,omitempty"`
	ValidOnly bool      `json:"valid_only,omitempty"`
	Leads     []apiLead `json:"leads"`
}

// apiLeadColumns is the layout of an API batch, as its results come back.
var apiLeadColumns = []string{"ref", "name", "id_number", "id_hmac", "phone", "address", "reason", "deadline"}

// With an Idempotency-Key, a retry (a lost answer, a sender that
// crashed) gets the first answer and imports nothing twice.
func (s *Server) apiLeadBatch(w http.ResponseWriter, r *http.Request) {
	var in apiBatch
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<20))
	if err != nil {
		s.fail(w, r, errs.E(errs.Invalid, "err.api.too_large", 64<<20))
		return
	}
	keyed := r.Header.Get("Idempotency-Key") != ""
	if keyed && s.replayed(w, r, body) {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := readJSON(w, r, 64<<20, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	answer := func(status int, v any) {
		if keyed {
			s.keep(w, r, body, status, v)
		} else {
			writeJSON(w, status, v)
		}
	}
	node, err := s.Store.OrgNodeByCode(r.Context(), in.Node)
	if err != nil {
		s.fail(w, r, errs.E(errs.Invalid, "err.lead.node").OnField("node"))
		return
	}
	table := [][]string{apiLeadColumns}
	for _, l := range in.Leads {
		table = append(table, []string{l.Ref, l.Name, l.IDNumber, l.IDHMAC, l.Phone, l.Address, l.Reason, l.Deadline})
	}
	res, err := s.Leads.ImportBatch(r.Context(), reqOf(r).p, leads.BatchInput{NodeID: node.ID, Name: in.Name, Deadline: in.Deadline, Source: "api",
		Table: table, KeyID: in.KeyID, ValidOnly: in.ValidOnly})
	type problem struct {
		Index   int    `json:"index"` // 0-based position in leads
		Field   string `json:"field"`
		Message string `json:"message"`
	}
	problems := []problem{}
	for _, p := range res.Problems {
		problems = append(problems, problem{Index: p.Line - 2, Field: p.Column, Message: message(reqOf(r), p.Err)})
	}
	switch {
	case errs.Is(err, errs.Forbidden):
		s.deny(w, r, "lead.manage", "org_node", node.ID, node.ID)
	case err != nil && len(problems) > 0:
		answer(http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "invalid", "message": message(reqOf(r), err)},
			"problems": problems})
	case err != nil:
		s.fail(w, r, err)
	default:
		answer(http.StatusOK, map[string]any{"batch_id": res.Batch.ID, "rows": res.Rows, "matched": res.ByID + res.ByPhone + res.Fuzzy,
			"assigned": res.Assigned, "unmatched": res.Unmatched, "elsewhere": res.Away, "problems": problems})
	}
}

// apiLeadResults reports a batch back: per lead the sender's ref and the
// verification, seen from a node (default: where the batch arrived).
func (s *Server) apiLeadResults(w http.ResponseWriter, r *http.Request) {
	b, _, err := s.Store.Batch(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	node := b.NodeID
	if code := r.URL.Query().Get("node"); code != "" {
		n, err := s.Store.OrgNodeByCode(r.Context(), code)
		if err != nil {
			s.fail(w, r, errs.E(errs.Invalid, "err.lead.node").OnField("node"))
			return
		}
		node = n.ID
	}
	_, header, rows, err := s.Leads.Report(r.Context(), reqOf(r).p, b.ID, node)
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "lead.export", "lead_batch", b.ID, node)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type result struct {
		Ref        string `json:"ref,omitempty"`
		Row        int    `json:"row"`
		Status     string `json:"status"`
		Outcome    string `json:"outcome,omitempty"`
		Note       string `json:"note,omitempty"`
		Measure    string `json:"measure,omitempty"`
		VerifiedAt string `json:"verified_at,omitempty"`
		Unit       string `json:"unit"`
	}
	refCol := -1
	for i, h := range header {
		if h == "ref" {
			refCol = i
		}
	}
	out := []result{}
	remaining := 0
	for i, row := range rows {
		res := result{Row: i + 1, Status: row.Status, Outcome: row.Outcome, Note: row.Note, Measure: row.Measure, VerifiedAt: row.Verified, Unit: row.Node}
		if refCol >= 0 && refCol < len(row.Cells) {
			res.Ref = row.Cells[refCol]
		}
		if row.Status != "verified" {
			remaining++
		}
		out = append(out, res)
	}
	writeJSON(w, http.StatusOK, map[string]any{"batch_id": b.ID, "name": b.Name, "total": len(out), "remaining": remaining,
		"as_of": s.Store.Now().In(shanghai).Format("2006-01-02 15:04"), "results": out})
}
