package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/gate"
	"shequ/internal/store"
)

// residentHome finds the ledger person, their current membership and its
// room behind a resident account (matched by the phone the account was
// registered with).
func (s *Server) residentHome(r *http.Request) (store.Person, store.Membership, store.Place, error) {
	rq := reqOf(r)
	if rq.user.Kind != store.KindResident || rq.user.PhoneBidx == "" {
		return store.Person{}, store.Membership{}, store.Place{}, errs.E(errs.Forbidden, "err.forbidden")
	}
	ps, err := s.Store.PersonsByPhoneBidx(r.Context(), rq.user.PhoneBidx)
	if err != nil {
		return store.Person{}, store.Membership{}, store.Place{}, err
	}
	today := s.Store.Today()
	for _, p := range ps {
		ms, err := s.Store.Memberships(r.Context(), p.ID)
		if err != nil {
			return p, store.Membership{}, store.Place{}, err
		}
		for _, m := range ms {
			if m.Until == "" || m.Until >= today {
				room, _, err := s.Store.Place(r.Context(), m.RoomID)
				return p, m, room, err
			}
		}
	}
	return store.Person{}, store.Membership{}, store.Place{}, errs.E(errs.NotFound, "err.me.not_in_ledger")
}

// visitWindow reads a visit's from/until fields (local time); an empty
// start means now.
func (s *Server) visitWindow(r *http.Request) (from, until time.Time) {
	from, until = parseLocal(r.PostFormValue("from")), parseLocal(r.PostFormValue("until"))
	if from.IsZero() {
		from = s.Store.Now()
	}
	return from, until
}

func qrDataURL(text string) (template.URL, error) {
	png, err := qrcode.Encode(text, qrcode.Medium, 320)
	if err != nil {
		return "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)), nil
}

// myPass shows a resident's own pass code: valid for one minute, renewed
// by the page, so a screenshot passed around soon stops working.
func (s *Server) myPass(w http.ResponseWriter, r *http.Request) {
	if !reqOf(r).p.CanAnywhere(access.SelfService) {
		s.deny(w, r, "self.service", "", "", "")
		return
	}
	p, m, room, err := s.residentHome(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	code := s.Gates.ResidentPass(p.ID, room.CommunityID, time.Minute)
	qr, err := qrDataURL(code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "me_pass", map[string]any{"Person": p, "Address": m.Address, "QR": qr,
		"Now":   s.Store.Now().In(shanghai).Format("2006-01-02T15:04"),
		"Later": s.Store.Now().Add(4 * time.Hour).In(shanghai).Format("2006-01-02T15:04")})
}

// myVisitor lets a resident invite a visitor, who gets a pass for the
// visit's window.
func (s *Server) myVisitor(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	p, _, room, err := s.residentHome(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	from, until := s.visitWindow(r)
	v, code, err := s.Gates.RegisterVisitor(r.Context(), gate.Actor{P: rq.p, IP: rq.ip}, gate.VisitorInput{CommunityID: room.CommunityID,
		HostRoomID: room.ID, HostPersonID: p.ID, Name: r.PostFormValue("name"), IDNumber: r.PostFormValue("id_number"),
		Phone: r.PostFormValue("phone"), Reason: r.PostFormValue("reason"), From: from, Until: until, By: "resident"})
	if err != nil {
		if statusOf(err) >= 500 {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(statusOf(err))
		s.render(w, r, "error", map[string]any{"Status": statusOf(err), "Message": message(rq, err)})
		return
	}
	qr, err := qrDataURL(code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "visitor_pass", map[string]any{"Visitor": v, "Code": code, "QR": qr})
}
