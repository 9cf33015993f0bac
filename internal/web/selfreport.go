package web

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"

	"github.com/skip2/go-qrcode"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/leads"
	"shequ/internal/poster"
	"shequ/internal/store"
)

// The public self-report form (自主报备): no login, phone first, reached
// through a code's QR poster at /r/TOKEN.

func (s *Server) reportForm(w http.ResponseWriter, r *http.Request) {
	s.renderReportForm(w, r, nil)
}

func (s *Server) renderReportForm(w http.ResponseWriter, r *http.Request, formErr error) {
	code, comm, err := s.Leads.Code(r.Context(), r.PathValue("token"))
	if err != nil {
		s.reportCodeInvalid(w, r, err)
		return
	}
	buildings, err := s.Store.ReportRooms(r.Context(), comm.ID, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Code": code, "Community": comm, "Token": r.PathValue("token"), "Buildings": buildings, "Today": s.Store.Today(), "OTP": s.Leads.Codes != nil,
		"Transports": leads.Transports, "Healths": leads.Healths, "Form": r.PostForm}
	if formErr != nil {
		data["Error"] = message(reqOf(r), formErr)
		if e, ok := errs.As(formErr); ok {
			data["ErrorField"] = e.Field
		}
		w.WriteHeader(statusOf(formErr))
	}
	s.render(w, r, "report_form", data)
}

// reportCodeInvalid is the friendly page for a forged, altered or deleted
// code: nothing is stored.
func (s *Server) reportCodeInvalid(w http.ResponseWriter, r *http.Request, err error) {
	if !errs.Is(err, errs.NotFound) {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNotFound)
	s.render(w, r, "report_invalid", nil)
}

// reportRooms feeds the form's room picker: the units and rooms under a
// building, or the buildings. Addresses only, nothing about anyone.
func (s *Server) reportRooms(w http.ResponseWriter, r *http.Request) {
	_, comm, err := s.Leads.Code(r.Context(), r.PathValue("token"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ps, err := s.Store.ReportRooms(r.Context(), comm.ID, r.URL.Query().Get("parent"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type option struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Kind string `json:"kind"`
	}
	out := []option{}
	for _, p := range ps {
		out = append(out, option{ID: p.ID, Name: p.Name, Kind: p.Kind})
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSONCompact(w, http.StatusOK, out)
}

func (s *Server) reportSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.renderReportForm(w, r, errs.E(errs.Invalid, "err.report.too_large"))
		return
	}
	f := r.PostForm
	rec, err := s.Leads.Submit(r.Context(), r.PathValue("token"), leads.ReportInput{Name: f.Get("name"), IDNumber: f.Get("id_number"), Phone: f.Get("phone"),
		FromPlace: f.Get("from_place"), ArrivalDate: f.Get("arrival_date"), RoomID: f.Get("room"), Transport: f.Get("transport"), Health: f.Get("health"),
		Code: f.Get("code"), Consent: f.Get("consent") == "yes", IP: reqOf(r).ip})
	switch {
	case errs.Is(err, errs.NotFound):
		s.reportCodeInvalid(w, r, err)
	case err != nil:
		if _, ok := errs.As(err); !ok {
			s.fail(w, r, err)
			return
		}
		s.renderReportForm(w, r, err)
	default:
		q := url.Values{}
		if rec.Merged {
			q.Set("merged", "1")
		}
		http.Redirect(w, r, "/report/"+url.PathEscape(rec.Ref)+"?"+q.Encode(), http.StatusSeeOther)
	}
}

// reportCode sends the form's one-time code to the phone typed in.
func (s *Server) reportCode(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := s.Leads.SendCode(r.Context(), r.PathValue("token"), r.FormValue("phone"), reqOf(r).ip); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"sent": true})
}

func (s *Server) reportReceipt(w http.ResponseWriter, r *http.Request) {
	rep, err := s.Store.SelfReportByRef(r.Context(), r.PathValue("ref"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, "report_receipt", map[string]any{"R": rep, "Merged": r.URL.Query().Get("merged") == "1"})
}

// reportCodes is the staff page of a community's self-report codes and the
// latest reports.
func (s *Server) reportCodes(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	comms, err := s.Store.NodesAt(r.Context(), p.Scopes(access.LeadManage), store.LevelCommunity)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(comms) == 0 {
		s.deny(w, r, "lead.manage", "", "", "")
		return
	}
	var ids []string
	for _, c := range comms {
		ids = append(ids, c.ID)
	}
	codes, err := s.Store.ReportCodes(r.Context(), ids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reports, err := s.Store.SelfReports(r.Context(), ids, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "report_codes", map[string]any{"Communities": comms, "Codes": codes, "Reports": reports, "Kinds": leads.CodeKinds,
		"Error": r.URL.Query().Get("error")})
}

func (s *Server) reportCodeCreate(w http.ResponseWriter, r *http.Request) {
	_, _, err := s.Leads.CreateCode(r.Context(), reqOf(r).p, r.PostFormValue("community"), r.PostFormValue("place"), r.PostFormValue("kind"))
	if errs.Is(err, errs.Forbidden) {
		s.deny(w, r, "lead.manage", "org_node", r.PostFormValue("community"), r.PostFormValue("community"))
		return
	}
	s.formDone(w, r, "/leads/codes", "", err)
}

// posterOf loads a code the principal manages, with its community and
// public link, for its poster.
func (s *Server) posterOf(w http.ResponseWriter, r *http.Request) (store.ReportCode, store.OrgNode, string, bool) {
	code, path, err := s.Store.ReportCode(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return code, store.OrgNode{}, "", false
	}
	if !reqOf(r).p.Can(access.LeadManage, path) {
		s.deny(w, r, "lead.manage", "report_code", code.ID, code.CommunityID)
		return code, store.OrgNode{}, "", false
	}
	comm, err := s.Store.OrgNode(r.Context(), code.CommunityID)
	if err != nil {
		s.fail(w, r, err)
		return code, comm, "", false
	}
	return code, comm, s.publicURL(r) + "/r/" + s.Leads.Token(code), true
}

// reportPoster is a code's A4 poster: community, instructions, QR code.
func (s *Server) reportPoster(w http.ResponseWriter, r *http.Request) {
	code, comm, link, ok := s.posterOf(w, r)
	if !ok {
		return
	}
	qr, err := qrDataURL(link)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "report_poster", map[string]any{"Code": code, "Community": comm, "QR": template.URL(qr), "URL": link})
}

// reportPosterPNG is the same poster as a PNG image (A4 at 150 dpi), for
// chat groups and print shops.
func (s *Server) reportPosterPNG(w http.ResponseWriter, r *http.Request) {
	code, comm, link, ok := s.posterOf(w, r)
	if !ok {
		return
	}
	q, err := qrcode.New(link, qrcode.Medium)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pr := reqOf(r).pr
	var buf bytes.Buffer
	if err := poster.PNG(&buf, poster.Poster{Community: comm.Name, Title: pr.T("report.poster_title"), Lead: pr.T("report.poster_lead"),
		Steps: []string{pr.T("report.step1"), pr.T("report.step2"), pr.T("report.step3")}, Place: pr.T("report.place") + "：" + code.Place,
		URL: link, QR: q.Image(720)}); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Disposition", `inline; filename="poster.png"`)
	w.Write(buf.Bytes())
}

// publicURL is the address residents reach this server at: the configured
// base URL, else what the request came to.
func (s *Server) publicURL(r *http.Request) string {
	if s.Cfg.BaseURL != "" {
		return s.Cfg.BaseURL
	}
	scheme := "http"
	if s.secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
