package web

import (
	"net/http"

	"shequ/internal/access"
	"shequ/internal/auth"
	"shequ/internal/errs"
	"shequ/internal/store"
)

const pageSize = 50

// grantableNodes lists the nodes where the principal may manage users.
func (s *Server) grantableNodes(r *http.Request) ([]store.OrgNode, error) {
	var out []store.OrgNode
	for _, sc := range reqOf(r).p.Scopes(access.UserManage) {
		ns, err := s.Store.OrgSubtree(r.Context(), sc)
		if err != nil {
			return nil, err
		}
		out = append(out, ns...)
	}
	return out, nil
}

func (s *Server) userList(w http.ResponseWriter, r *http.Request) {
	s.renderUserList(w, r, nil, nil)
}

func (s *Server) renderUserList(w http.ResponseWriter, r *http.Request, formErr error, form map[string]string) {
	rq := reqOf(r)
	scopes := rq.p.Scopes(access.UserView)
	if len(scopes) == 0 {
		s.deny(w, r, "user.view", "", "", "")
		return
	}
	q := r.URL.Query()
	page := max(atoiDefault(q.Get("page"), 1), 1)
	var users []store.User
	total := 0
	for _, sc := range scopes {
		f := store.UserFilter{ScopePath: sc, Query: q.Get("q"), Limit: pageSize, Offset: (page - 1) * pageSize}
		if isRootPath(sc) {
			f.ScopePath = ""
		}
		us, n, err := s.Store.Users(r.Context(), f)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		users, total = append(users, us...), total+n
	}
	nodes, err := s.grantableNodes(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	roles := map[string][]store.RoleAssignment{}
	for _, u := range users {
		if roles[u.ID], err = s.Store.Assignments(r.Context(), u.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	data := map[string]any{"Users": users, "Total": total, "Page": page, "Query": q.Get("q"), "Roles": roles,
		"HasNext": page*pageSize < total, "Nodes": nodes, "AllRoles": access.Roles, "Form": form,
		"CanManage": rq.p.CanAnywhere(access.UserManage)}
	if formErr != nil {
		data["Error"] = message(rq, formErr)
		if e, ok := errs.As(formErr); ok {
			data["ErrorField"] = e.Field
		}
		w.WriteHeader(statusOf(formErr))
	}
	s.render(w, r, "users", data)
}

func (s *Server) userCreate(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.UserManage) {
		s.deny(w, r, "user.manage", "", "", "")
		return
	}
	in := auth.NewUser{Username: r.PostFormValue("username"), DisplayName: r.PostFormValue("display_name"),
		Kind: r.PostFormValue("kind"), Password: r.PostFormValue("password"), Phone: r.PostFormValue("phone"),
		Role: access.Role(r.PostFormValue("role")), NodeID: r.PostFormValue("node")}
	u, err := s.Auth.CreateUser(r.Context(), rq.p, in, rq.ip)
	if err != nil {
		if errs.CodeOf(err) == errs.Forbidden {
			s.deny(w, r, "user.create", "", "", in.NodeID)
			return
		}
		if statusOf(err) >= 500 {
			s.fail(w, r, err)
			return
		}
		s.renderUserList(w, r, err, map[string]string{"username": in.Username, "display_name": in.DisplayName,
			"kind": in.Kind, "role": string(in.Role), "node": in.NodeID})
		return
	}
	http.Redirect(w, r, "/users/"+u.ID, http.StatusSeeOther)
}

// loadUser loads the account in the path and checks the principal may see
// it (some role of it lies in the principal's user-view scope).
func (s *Server) loadUser(w http.ResponseWriter, r *http.Request) (store.User, []store.RoleAssignment, bool) {
	rq := reqOf(r)
	u, err := s.Store.User(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return u, nil, false
	}
	as, err := s.Store.Assignments(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, err)
		return u, nil, false
	}
	visible := u.ID == rq.p.UserID
	for _, a := range as {
		visible = visible || rq.p.Can(access.UserView, a.NodePath)
	}
	if !visible && !(len(as) == 0 && rq.p.HasRole(access.Admin)) {
		s.deny(w, r, "user.view", "user", u.ID, "")
		return u, nil, false
	}
	return u, as, true
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request) {
	s.renderUser(w, r, nil)
}

func (s *Server) renderUser(w http.ResponseWriter, r *http.Request, formErr error) {
	s.renderUserWith(w, r, formErr, nil)
}

func (s *Server) renderUserWith(w http.ResponseWriter, r *http.Request, formErr error, extra map[string]any) {
	u, as, ok := s.loadUser(w, r)
	if !ok {
		return
	}
	rq := reqOf(r)
	nodes, err := s.grantableNodes(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var tokens []store.APIToken
	if u.Kind == store.KindAPI {
		if tokens, err = s.Store.APITokens(r.Context(), u.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	data := map[string]any{"Account": u, "Assignments": as, "Nodes": nodes, "Roles": access.Roles, "Tokens": tokens,
		"CanManage": s.Auth.MayManage(r.Context(), rq.p, u.ID) == nil && rq.p.CanAnywhere(access.UserManage),
		"Self":      u.ID == rq.p.UserID}
	for k, v := range extra {
		data[k] = v
	}
	if formErr != nil {
		data["Error"] = message(rq, formErr)
		w.WriteHeader(statusOf(formErr))
	}
	s.render(w, r, "user", data)
}

// userAction runs a management action on the account in the path and
// shows the account again (with the error, if any).
func (s *Server) userAction(w http.ResponseWriter, r *http.Request, action string, fn func(rq *req, id string) error) {
	rq := reqOf(r)
	id := r.PathValue("id")
	if !rq.p.CanAnywhere(access.UserManage) {
		s.deny(w, r, action, "user", id, "")
		return
	}
	if err := fn(rq, id); err != nil {
		switch {
		case errs.CodeOf(err) == errs.Forbidden:
			s.deny(w, r, action, "user", id, "")
		case statusOf(err) >= 500 || errs.CodeOf(err) == errs.NotFound:
			s.fail(w, r, err)
		default:
			s.renderUser(w, r, err)
		}
		return
	}
	http.Redirect(w, r, "/users/"+id, http.StatusSeeOther)
}

func (s *Server) userAssign(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "user.assign", func(rq *req, id string) error {
		return s.Auth.Assign(r.Context(), rq.p, id, access.Role(r.PostFormValue("role")), r.PostFormValue("node"), rq.ip)
	})
}

func (s *Server) userUnassign(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "user.unassign", func(rq *req, id string) error {
		return s.Auth.Unassign(r.Context(), rq.p, id, r.PathValue("aid"), rq.ip)
	})
}

func (s *Server) userDisable(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "user.disable", func(rq *req, id string) error {
		return s.Auth.SetDisabled(r.Context(), rq.p, id, true, rq.ip)
	})
}

func (s *Server) userEnable(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "user.enable", func(rq *req, id string) error {
		return s.Auth.SetDisabled(r.Context(), rq.p, id, false, rq.ip)
	})
}

func (s *Server) userPassword(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "user.password", func(rq *req, id string) error {
		return s.Auth.ChangePassword(r.Context(), rq.p, id, r.PostFormValue("password"), rq.ip)
	})
}

// userIssueToken makes a token for an API account and shows it once.
func (s *Server) userIssueToken(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	id := r.PathValue("id")
	if !rq.p.CanAnywhere(access.UserManage) {
		s.deny(w, r, "token.issue", "user", id, "")
		return
	}
	tok, err := s.Auth.IssueToken(r.Context(), rq.p, id, r.PostFormValue("name"), rq.ip)
	if err != nil {
		switch {
		case errs.CodeOf(err) == errs.Forbidden:
			s.deny(w, r, "token.issue", "user", id, "")
		case statusOf(err) >= 500 || errs.CodeOf(err) == errs.NotFound:
			s.fail(w, r, err)
		default:
			s.renderUser(w, r, err)
		}
		return
	}
	s.renderUserWith(w, r, nil, map[string]any{"NewToken": tok})
}

func (s *Server) userRevokeToken(w http.ResponseWriter, r *http.Request) {
	s.userAction(w, r, "token.revoke", func(rq *req, id string) error {
		return s.Auth.RevokeToken(r.Context(), rq.p, id, r.PathValue("tid"), rq.ip)
	})
}
