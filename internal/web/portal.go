package web

import (
	"net/http"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/events"
	"shequ/internal/store"
)

// The residents' portal (phone): news and outbreak updates, the entry
// policy in plain words, nearby services, rumours and the truth, their
// household, their pass and their reports; and an elder-friendly mode.

const elderCookie = "shequ_elder"

// portal is the resident's home.
func (s *Server) portal(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.SelfService) {
		s.deny(w, r, "self.service", "", "", "")
		return
	}
	_, m, room, err := s.residentHome(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	comm, err := s.Store.OrgNode(r.Context(), room.CommunityID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	posts, err := s.Store.Posts(r.Context(), comm.ID, 10)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	services, err := s.Store.Services(r.Context(), comm.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rumours, err := s.Store.Rumours(r.Context(), "", 3)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "portal", map[string]any{"Community": comm, "Address": m.Address, "Posts": posts, "Services": services, "Rumours": rumours,
		"Policy": s.Gates.PolicyAt(comm.Path).Explain(rq.pr.Lang)})
}

// myHousehold shows the resident's household, masked, and takes a request
// to correct it (an everyday event for the grid leader).
func (s *Server) myHousehold(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	p, m, room, err := s.residentHome(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.Method == http.MethodPost {
		_, err := s.Events.Report(r.Context(), rq.p, "", events.Input{CommunityID: room.CommunityID, Category: "correction", Title: rq.pr.T("me.correction"),
			Description: r.PostFormValue("description"), Address: m.Address, PlaceID: room.ID, Source: "resident"})
		if err == nil {
			http.Redirect(w, r, "/me/reports", http.StatusSeeOther)
			return
		}
		if _, ok := errs.As(err); !ok {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(statusOf(err))
		r.URL.RawQuery = "error=" + message(rq, err)
	}
	hs, members, err := s.Store.RoomHouseholds(r.Context(), room.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "me_household", map[string]any{"Me": p, "Address": m.Address, "Households": hs, "Members": members, "Error": r.URL.Query().Get("error")})
}

// elderMode switches the large-text, high-contrast layout on or off for
// this browser (a resident, or a grid worker helping them).
func (s *Server) elderMode(w http.ResponseWriter, r *http.Request) {
	on := r.URL.Query().Get("on") == "1"
	c := &http.Cookie{Name: elderCookie, Value: "1", Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)}
	if !on {
		c.Value, c.MaxAge = "", -1
	}
	http.SetCookie(w, c)
	back := r.URL.Query().Get("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") {
		back = "/portal"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// rumours is the public rumour-refutation register, searchable.
func (s *Server) rumours(w http.ResponseWriter, r *http.Request) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	list, err := s.Store.Rumours(r.Context(), q, 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "rumours", map[string]any{"Rumours": list, "Q": q})
}

// rumour is one entry, at a link people can share.
func (s *Server) rumour(w http.ResponseWriter, r *http.Request) {
	ru, err := s.Store.Rumour(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "rumour", map[string]any{"R": ru, "URL": s.publicURL(r) + "/rumours/" + ru.ID})
}

// portalManage lets community staff publish posts, rumour entries and
// services.
func (s *Server) portalManage(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	comms, err := s.Store.NodesAt(r.Context(), rq.p.Scopes(access.EventManage), store.LevelCommunity)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(comms) == 0 {
		s.deny(w, r, "portal.manage", "", "", "")
		return
	}
	if r.Method == http.MethodPost {
		s.formDone(w, r, "/portal/manage", r.PathValue("what"), s.portalAdd(r, comms))
		return
	}
	s.render(w, r, "portal_manage", map[string]any{"Communities": comms, "Error": r.URL.Query().Get("error"), "Today": s.Store.Today()})
}

func (s *Server) portalAdd(r *http.Request, comms []store.OrgNode) error {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	comm := ""
	for _, c := range comms {
		if c.ID == f("community") {
			comm = c.ID
		}
	}
	if comm == "" && r.PathValue("what") != "rumours" {
		return errs.E(errs.Invalid, "err.import.community").OnField("community")
	}
	return s.Store.Write(r.Context(), func(tx *store.Tx) error {
		switch r.PathValue("what") {
		case "posts":
			if f("title") == "" || f("body") == "" || (f("kind") != "news" && f("kind") != "outbreak") {
				return errs.E(errs.Invalid, "err.portal.post")
			}
			return tx.CreatePost(r.Context(), &store.Post{CommunityID: comm, Kind: f("kind"), Title: f("title"), Body: f("body"), Author: reqOf(r).p.Name})
		case "rumours":
			if _, err := time.Parse("2006-01-02", f("published_on")); err != nil || f("claim") == "" || f("explanation") == "" ||
				(f("verdict") != "false" && f("verdict") != "misleading" && f("verdict") != "true") {
				return errs.E(errs.Invalid, "err.portal.rumour")
			}
			return tx.CreateRumour(r.Context(), &store.Rumour{Claim: f("claim"), Verdict: f("verdict"), Explanation: f("explanation"), Source: f("source"), PublishedOn: f("published_on")})
		case "services":
			kinds := map[string]bool{"pharmacy": true, "clinic": true, "testing": true, "grocery": true, "other": true}
			if f("name") == "" || !kinds[f("kind")] {
				return errs.E(errs.Invalid, "err.portal.service")
			}
			return tx.CreateService(r.Context(), &store.Service{CommunityID: comm, Kind: f("kind"), Name: f("name"), Hours: f("hours"), Phone: f("phone"), Address: f("address")})
		}
		return errNotFound
	})
}
