package web

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/exchange"
	"shequ/internal/store"
)

// exchangeRoutes are the staff pages for inbound data from other
// departments.
func (s *Server) exchangeRoutes(mux *router) {
	mux.HandleFunc("GET /exchange", s.exchangePage)
	mux.HandleFunc("POST /exchange", s.exchangeUpload)
	mux.HandleFunc("GET /exchange/template/{kind}", s.exchangeTemplate)
	mux.HandleFunc("GET /exchange/report/{token}", s.exchangeReport)
}

// exchangeNodes are the nodes the user may import at: the nodes of their
// import scopes and every community below them.
func (s *Server) exchangeNodes(r *http.Request) ([]store.OrgNode, error) {
	var out []store.OrgNode
	seen := map[string]bool{}
	for _, sc := range reqOf(r).p.Scopes(access.DataImport) {
		nodes, err := s.Store.OrgSubtree(r.Context(), sc)
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			if seen[n.ID] || n.Level == store.LevelGrid || (n.Level != store.LevelCommunity && n.Path != sc) {
				continue
			}
			seen[n.ID] = true
			out = append(out, n)
		}
	}
	return out, nil
}

func (s *Server) exchangePage(w http.ResponseWriter, r *http.Request) {
	s.renderExchange(w, r, nil, nil)
}

func (s *Server) renderExchange(w http.ResponseWriter, r *http.Request, formErr error, data map[string]any) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.DataImport) {
		s.deny(w, r, string(access.DataImport), "", "", "")
		return
	}
	nodes, err := s.exchangeNodes(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	batches, err := s.Store.ExchangeBatches(r.Context(), rq.p.Scopes(access.DataImport), 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Nodes"], data["Kinds"], data["Batches"] = nodes, exchange.Kinds, batches
	if data["Kind"] == nil {
		data["Kind"] = string(exchange.KindTests)
	}
	if formErr != nil {
		data["Error"] = message(rq, formErr)
		w.WriteHeader(statusOf(formErr))
	}
	s.render(w, r, "exchange", data)
}

// exchangeRow is a problem or an unmatched row as the page shows it.
type exchangeRow struct {
	Line                int
	Column, Value, Text string
	Name, IDMask        string
}

const exchangeListMax = 500

func (s *Server) exchangeUpload(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.DataImport) {
		s.deny(w, r, string(access.DataImport), "", "", "")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, exchange.MaxBytes+1<<20)
	kind, dept, nodeID := r.PostFormValue("kind"), r.PostFormValue("department"), r.PostFormValue("node")
	form := map[string]any{"Kind": kind, "Department": dept, "Node": nodeID}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errorsAs(err, &tooBig) {
			s.renderExchange(w, r, errs.E(errs.Invalid, "err.import.too_large", exchange.MaxBytes>>20), form)
			return
		}
		s.renderExchange(w, r, errs.E(errs.Invalid, "err.file_required"), form)
		return
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, exchange.MaxBytes+1))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var node store.OrgNode
	nodes, err := s.exchangeNodes(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, n := range nodes {
		if n.ID == nodeID {
			node = n
		}
	}
	if node.ID == "" {
		s.deny(w, r, string(access.DataImport), "org_node", nodeID, nodeID)
		return
	}
	svc := exchange.New(s.Ledger)
	a := exchange.Actor{P: rq.p, Department: dept, Scope: node.Path, IP: rq.ip}
	res, err := svc.Import(r.Context(), a, exchange.Kind(kind), hdr.Filename, data)
	if err != nil {
		if errs.CodeOf(err) == errs.Forbidden {
			s.deny(w, r, string(access.DataImport), "org_node", node.ID, node.ID)
			return
		}
		if statusOf(err) >= 500 {
			s.fail(w, r, err)
			return
		}
		s.renderExchange(w, r, err, form)
		return
	}
	var problems, unmatched []exchangeRow
	for i, p := range res.Problems {
		if i == exchangeListMax {
			break
		}
		problems = append(problems, exchangeRow{Line: p.Line, Column: p.Column, Value: p.Value, Text: rq.pr.T(p.Key, p.Args...)})
	}
	for i, u := range res.Unmatched {
		if i == exchangeListMax {
			break
		}
		unmatched = append(unmatched, exchangeRow{Line: u.Line, Name: u.Name, IDMask: u.IDMask})
	}
	form["Result"], form["Problems"], form["Unmatched"], form["File"], form["NodeName"] = res, problems, unmatched, hdr.Filename, node.Name
	if len(res.Problems) > 0 {
		form["Report"] = reports.put(rq.p.UserID, res.Problems)
		w.WriteHeader(http.StatusUnprocessableEntity)
	}
	s.renderExchange(w, r, nil, form)
}

func (s *Server) exchangeTemplate(w http.ResponseWriter, r *http.Request) {
	if !reqOf(r).p.CanAnywhere(access.DataImport) {
		s.deny(w, r, string(access.DataImport), "", "", "")
		return
	}
	k := exchange.Kind(r.PathValue("kind"))
	b, err := exchange.Template(k)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="exchange-`+string(k)+`.xlsx"; filename*=UTF-8''`+url.PathEscape(exchange.FileName(k)))
	w.Write(b)
}

func (s *Server) exchangeReport(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.DataImport) {
		s.deny(w, r, string(access.DataImport), "", "", "")
		return
	}
	problems, ok := reports.get(rq.p.UserID, r.PathValue("token"))
	if !ok {
		s.fail(w, r, errs.E(errs.NotFound, "exchange.report_gone"))
		return
	}
	b, err := exchange.ErrorReport(problems, rq.pr.T)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="exchange-problems.xlsx"; filename*=UTF-8''`+url.PathEscape("导入问题清单.xlsx"))
	w.Write(b)
}

// problemReports keeps the problems of recent uploads for their download,
// in memory for half an hour: they hold masked values only, and nothing of
// a refused file is stored.
type problemReports struct {
	mu sync.Mutex
	m  map[string]problemReport
}

type problemReport struct {
	user     string
	problems []exchange.Problem
	expires  time.Time
}

var reports = &problemReports{m: map[string]problemReport{}}

const reportsMax = 200

func (p *problemReports) put(user string, problems []exchange.Problem) string {
	var b [12]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	for k, v := range p.m {
		if now.After(v.expires) || len(p.m) >= reportsMax {
			delete(p.m, k)
		}
	}
	p.m[token] = problemReport{user: user, problems: problems, expires: now.Add(30 * time.Minute)}
	return token
}

func (p *problemReports) get(user, token string) ([]exchange.Problem, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.m[token]
	if !ok || v.user != user || time.Now().After(v.expires) {
		return nil, false
	}
	return v.problems, true
}
