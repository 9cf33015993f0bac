package web

import (
	"io"
	"net/http"
	"strconv"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/ledger"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// contracts lists contracts ending in the next 7 and 30 days and, per
// landlord, let rooms whose occupants are not registered on a contract.
func (s *Server) contracts(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	scopes := rq.p.Scopes(access.PersonView)
	if len(scopes) == 0 {
		s.deny(w, r, "person.view", "", "", "")
		return
	}
	today := s.Store.Now().In(shanghai)
	day := func(d int) string { return today.AddDate(0, 0, d).Format("2006-01-02") }
	week, err := s.Store.ExpiringContracts(r.Context(), scopes, day(0), day(7))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	month, err := s.Store.ExpiringContracts(r.Context(), scopes, day(8), day(30))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	unregistered, err := s.Store.UnregisteredRooms(r.Context(), scopes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "contracts", map[string]any{"Week": week, "Month": month, "Unregistered": unregistered})
}

// contractCreate records a rental contract from the room page: one tenant
// per filled tenant block, and an optional scan.
func (s *Server) contractCreate(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, ledger.MaxScanBytes+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
		s.renderRoom(w, r, errs.E(errs.Invalid, "err.file.too_large", ledger.MaxScanBytes>>20), nil)
		return
	}
	f := r.PostForm
	in := ledger.ContractInput{RoomID: r.PathValue("id"), LandlordID: f.Get("landlord"), StartDate: f.Get("start_date"),
		EndDate: f.Get("end_date"), Form: map[string]string{"purpose": f.Get("purpose"), "emergency_contact": f.Get("emergency_contact"),
			"workplace": f.Get("tenant_workplace")}}
	in.Rent, _ = strconv.Atoi(f.Get("rent"))
	for i := 1; i <= 3; i++ {
		p := strconv.Itoa(i)
		if f.Get("tenant"+p+"_name") == "" && f.Get("tenant"+p+"_id_number") == "" {
			continue
		}
		in.Tenants = append(in.Tenants, ledger.PersonInput{Name: f.Get("tenant" + p + "_name"), DocType: pii.DocType(f.Get("tenant" + p + "_doc_type")),
			IDNumber: f.Get("tenant" + p + "_id_number"), Phone: f.Get("tenant" + p + "_phone"), Residency: "floating",
			Workplace: f.Get("tenant_workplace")})
	}
	if file, hdr, err := r.FormFile("scan"); err == nil {
		in.Scan, _ = io.ReadAll(io.LimitReader(file, ledger.MaxScanBytes+1))
		in.ScanName = hdr.Filename
		file.Close()
	}
	if _, err := s.Ledger.CreateContract(r.Context(), s.actor(r), in); err != nil {
		s.ledgerFormError(w, r, err, func(err error) { s.renderRoom(w, r, err, f) })
		return
	}
	http.Redirect(w, r, "/ledger/rooms/"+in.RoomID, http.StatusSeeOther)
}

func (s *Server) contractEnd(w http.ResponseWriter, r *http.Request) {
	c, _, err := s.Store.Contract(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	on := r.PostFormValue("on")
	if on == "" {
		on = s.Store.Today()
	}
	if err := s.Ledger.EndContract(r.Context(), s.actor(r), c.ID, on, r.PostFormValue("reason")); err != nil {
		if errs.CodeOf(err) == errs.Forbidden {
			s.deny(w, r, "contract.end", "contract", c.ID, "")
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/ledger/rooms/"+c.RoomID, http.StatusSeeOther)
}

// contractScan sends the decrypted scan to someone allowed to reveal
// personal data, and audits it.
func (s *Server) contractScan(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	b, c, err := s.Ledger.Scan(r.Context(), rq.p, r.PathValue("id"))
	if err != nil {
		if errs.CodeOf(err) == errs.Forbidden {
			s.deny(w, r, "contract.scan", "contract", r.PathValue("id"), "")
			return
		}
		s.fail(w, r, err)
		return
	}
	s.Audit.Record(r.Context(), s.Store, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "pii.scan",
		TargetType: "contract", TargetID: c.ID, IP: rq.ip, Detail: audit.Detail("file", c.ScanName)})
	w.Header().Set("Content-Type", c.ScanType)
	w.Header().Set("Content-Disposition", "inline")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

// duplicates lists likely duplicates with a merge form.
func (s *Server) duplicates(w http.ResponseWriter, r *http.Request) {
	s.renderDuplicates(w, r, nil)
}

func (s *Server) renderDuplicates(w http.ResponseWriter, r *http.Request, formErr error) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.PersonEdit) {
		s.deny(w, r, "person.edit", "", "", "")
		return
	}
	groups, err := s.Ledger.Duplicates(r.Context(), rq.p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Groups": groups}
	if formErr != nil {
		data["Error"] = message(rq, formErr)
		w.WriteHeader(statusOf(formErr))
	}
	s.render(w, r, "duplicates", data)
}

func (s *Server) merge(w http.ResponseWriter, r *http.Request) {
	keep := r.PostFormValue("keep")
	for _, drop := range r.PostForm["ids"] {
		if drop == keep {
			continue
		}
		if err := s.Ledger.Merge(r.Context(), s.actor(r), keep, drop, r.PostFormValue("reason")); err != nil {
			s.ledgerFormError(w, r, err, func(err error) { s.renderDuplicates(w, r, err) })
			return
		}
	}
	http.Redirect(w, r, "/ledger/persons/"+keep, http.StatusSeeOther)
}
