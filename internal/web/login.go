package web

import (
	"net/http"
	"time"

	"shequ/internal/errs"
	"shequ/internal/locale"
	"shequ/internal/store"
)

var errLoginRequired = errs.E(errs.Unauthorized, "err.login_required")

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if reqOf(r).p != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, r, "login", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	username, next := r.PostFormValue("username"), safeNext(r.PostFormValue("next"))
	tok, u, err := s.Auth.Login(r.Context(), username, r.PostFormValue("password"), rq.ip)
	if err != nil {
		if code := errs.CodeOf(err); code != errs.Unauthorized && code != errs.TooMany {
			s.fail(w, r, err)
			return
		}
		// One generic message whatever was wrong; answered with the form.
		s.render(w, r, "login", map[string]any{"Next": next, "Username": username, "Error": message(rq, err)})
		return
	}
	s.startSession(w, r, tok, u)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, tok string, u store.User) {
	s.setCookie(w, r, s.cookie(sessionCookie, tok, int(s.Cfg.SessionTTL/time.Second)))
	// A language chosen before logging in becomes the account's choice.
	if c, err := r.Cookie("lang"); err == nil && locale.Supported(c.Value) && u.Lang == "" {
		s.Store.Write(r.Context(), func(tx *store.Tx) error { return tx.SetUserLang(r.Context(), u.ID, c.Value) })
	}
}

func (s *Server) residentLoginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "login_resident", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) residentSendCode(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	phone := r.PostFormValue("phone")
	data := map[string]any{"Phone": phone, "Next": safeNext(r.PostFormValue("next"))}
	if err := s.Auth.SendOTP(r.Context(), phone, rq.ip); err != nil {
		if statusOf(err) >= 500 {
			s.fail(w, r, err)
			return
		}
		data["Error"] = message(rq, err)
	} else {
		data["Sent"] = true
	}
	s.render(w, r, "login_resident", data)
}

func (s *Server) residentLoginSubmit(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	phone, next := r.PostFormValue("phone"), safeNext(r.PostFormValue("next"))
	tok, u, err := s.Auth.LoginOTP(r.Context(), phone, r.PostFormValue("code"), rq.ip)
	if err != nil {
		if statusOf(err) >= 500 {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, "login_resident", map[string]any{"Phone": phone, "Next": next, "Sent": true, "Error": message(rq, err)})
		return
	}
	s.startSession(w, r, tok, u)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	if rq.p != nil {
		if err := s.Auth.Logout(r.Context(), rq.token, rq.p, rq.ip); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.setCookie(w, r, s.cookie(sessionCookie, "", -1))
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLang switches the language for this browser and, when logged in, for
// the account.
func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	lang := r.URL.Query().Get("to")
	if !locale.Supported(lang) {
		s.fail(w, r, errs.E(errs.Invalid, "err.lang_unknown"))
		return
	}
	c := s.cookie("lang", lang, 365*24*3600)
	c.HttpOnly = false
	s.setCookie(w, r, c)
	if rq := reqOf(r); rq.p != nil {
		if err := s.Store.Write(r.Context(), func(tx *store.Tx) error { return tx.SetUserLang(r.Context(), rq.p.UserID, lang) }); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	back := safeNext(r.URL.Query().Get("back"))
	http.Redirect(w, r, back, http.StatusSeeOther)
}
