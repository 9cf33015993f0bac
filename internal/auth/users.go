package auth

import (
	"context"
	"strings"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// NewUser is what creating an account needs.
type NewUser struct {
	Username    string
	DisplayName string
	Kind        string // staff (password), resident (phone), api (token)
	Password    string // staff
	Phone       string // resident
	Role        access.Role
	NodeID      string
}

// actorOf names who acts: a principal, or the command line.
func actorOf(p *access.Principal) (id, name string) {
	if p == nil {
		return "", "system"
	}
	return p.UserID, p.Name
}

// CreateUser validates and stores an account with its first role, and
// audits it. actor nil means the command line (no scope check).
func (a *Service) CreateUser(ctx context.Context, actor *access.Principal, in NewUser, ip string) (store.User, error) {
	in.Username = strings.TrimSpace(in.Username)
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	if in.Kind == "" {
		in.Kind = store.KindStaff
	}
	u := store.User{Username: in.Username, DisplayName: in.DisplayName, Kind: in.Kind}
	switch {
	case !validUsername(in.Username):
		return u, errs.E(errs.Invalid, "err.username_invalid").OnField("username")
	case in.DisplayName == "":
		return u, errs.E(errs.Invalid, "err.display_name_required").OnField("display_name")
	case !in.Role.Valid():
		return u, errs.E(errs.Invalid, "err.role_unknown").OnField("role")
	}
	switch in.Kind {
	case store.KindStaff:
		if err := ValidatePassword(in.Password); err != nil {
			return u, err.(*errs.Error).OnField("password")
		}
		h, err := a.Argon2.Hash(in.Password)
		if err != nil {
			return u, err
		}
		u.PasswordHash = h
	case store.KindResident:
		phone, err := pii.NormalizePhone(in.Phone)
		if err != nil {
			return u, errs.E(errs.Invalid, "err.phone_invalid").OnField("phone")
		}
		if u.PhoneEnc, err = a.Keys.EncryptString(phone, "users.phone"); err != nil {
			return u, err
		}
		u.PhoneBidx = a.Keys.BlindIndex(phone, "phone")
	case store.KindAPI:
	default:
		return u, errs.E(errs.Invalid, "err.kind_unknown").OnField("kind")
	}
	err := a.Store.Write(ctx, func(tx *store.Tx) error {
		node, err := tx.OrgNode(ctx, in.NodeID)
		if err != nil {
			return errs.E(errs.Invalid, "err.node_unknown").OnField("node")
		}
		if err := mayGrant(actor, in.Role, node.Path); err != nil {
			return err
		}
		if err := tx.CreateUser(ctx, &u); err != nil {
			return err
		}
		aid, name := actorOf(actor)
		if _, err := tx.Assign(ctx, u.ID, string(in.Role), node.ID, aid); err != nil {
			return err
		}
		return a.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: aid, ActorName: name, Action: "user.create",
			TargetType: "user", TargetID: u.ID, NodeID: node.ID, IP: ip,
			Detail: audit.Detail("username", u.Username, "role", in.Role, "kind", in.Kind)})
	})
	return u, err
}

// mayGrant: an actor may give a role at a node only inside their own
// user-management scope, and never a role more powerful than one they hold
// there (nobody but an administrator makes administrators).
func mayGrant(actor *access.Principal, role access.Role, path string) error {
	if actor == nil {
		return nil
	}
	if !actor.Can(access.UserManage, path) {
		return errs.E(errs.Forbidden, "err.forbidden")
	}
	if (role == access.Admin || role == access.Official) && !actor.HasRole(access.Admin) {
		return errs.E(errs.Forbidden, "err.role_too_high")
	}
	return nil
}

// mayManage checks that actor may manage the target account: every one of
// the target's roles must lie inside the actor's user-management scope.
func (a *Service) mayManage(ctx context.Context, actor *access.Principal, userID string) (store.User, error) {
	u, err := a.Store.User(ctx, userID)
	if err != nil {
		return u, err
	}
	if actor == nil || actor.UserID == userID {
		return u, nil
	}
	as, err := a.Store.Assignments(ctx, userID)
	if err != nil {
		return u, err
	}
	if len(as) == 0 && !actor.HasRole(access.Admin) {
		return u, errs.E(errs.Forbidden, "err.forbidden")
	}
	for _, x := range as {
		if err := mayGrant(actor, access.Role(x.Role), x.NodePath); err != nil {
			return u, err
		}
	}
	return u, nil
}

// MayManage reports (as an error) whether actor may manage the account.
func (a *Service) MayManage(ctx context.Context, actor *access.Principal, userID string) error {
	_, err := a.mayManage(ctx, actor, userID)
	return err
}

// ChangePassword sets a new password and ends the account's sessions.
func (a *Service) ChangePassword(ctx context.Context, actor *access.Principal, userID, pw, ip string) error {
	u, err := a.mayManage(ctx, actor, userID)
	if err != nil {
		return err
	}
	if u.Kind != store.KindStaff {
		return errs.E(errs.Invalid, "err.kind_no_password")
	}
	if err := ValidatePassword(pw); err != nil {
		return err.(*errs.Error).OnField("password")
	}
	h, err := a.Argon2.Hash(pw)
	if err != nil {
		return err
	}
	aid, name := actorOf(actor)
	return a.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SetPassword(ctx, userID, h); err != nil {
			return err
		}
		return a.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: aid, ActorName: name, Action: "user.password",
			TargetType: "user", TargetID: userID, IP: ip, NodeID: a.homeNode(ctx, userID)})
	})
}

// SetDisabled disables or re-enables an account.
func (a *Service) SetDisabled(ctx context.Context, actor *access.Principal, userID string, disabled bool, ip string) error {
	defer a.forgetTokens()
	if _, err := a.mayManage(ctx, actor, userID); err != nil {
		return err
	}
	if actor != nil && actor.UserID == userID && disabled {
		return errs.E(errs.Invalid, "err.disable_self")
	}
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	aid, name := actorOf(actor)
	return a.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SetDisabled(ctx, userID, disabled); err != nil {
			return err
		}
		return a.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: aid, ActorName: name, Action: action,
			TargetType: "user", TargetID: userID, IP: ip, NodeID: a.homeNode(ctx, userID)})
	})
}

// Assign gives an existing account another role.
func (a *Service) Assign(ctx context.Context, actor *access.Principal, userID string, role access.Role, nodeID, ip string) error {
	defer a.forgetTokens()
	if !role.Valid() {
		return errs.E(errs.Invalid, "err.role_unknown").OnField("role")
	}
	if _, err := a.mayManage(ctx, actor, userID); err != nil {
		return err
	}
	aid, name := actorOf(actor)
	return a.Store.Write(ctx, func(tx *store.Tx) error {
		node, err := tx.OrgNode(ctx, nodeID)
		if err != nil {
			return errs.E(errs.Invalid, "err.node_unknown").OnField("node")
		}
		if err := mayGrant(actor, role, node.Path); err != nil {
			return err
		}
		if _, err := tx.Assign(ctx, userID, string(role), node.ID, aid); err != nil {
			return err
		}
		return a.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: aid, ActorName: name, Action: "user.assign",
			TargetType: "user", TargetID: userID, NodeID: node.ID, IP: ip, Detail: audit.Detail("role", role)})
	})
}

// Unassign removes a role from an account.
func (a *Service) Unassign(ctx context.Context, actor *access.Principal, userID, assignmentID, ip string) error {
	defer a.forgetTokens()
	if _, err := a.mayManage(ctx, actor, userID); err != nil {
		return err
	}
	aid, name := actorOf(actor)
	return a.Store.Write(ctx, func(tx *store.Tx) error {
		ra, err := tx.Unassign(ctx, assignmentID)
		if err != nil {
			return err
		}
		if ra.UserID != userID {
			return errs.E(errs.NotFound, "err.not_found")
		}
		return a.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: aid, ActorName: name, Action: "user.unassign",
			TargetType: "user", TargetID: userID, NodeID: ra.NodeID, IP: ip, Detail: audit.Detail("role", ra.Role)})
	})
}

// IssueToken makes a new API token for an api account; the token is
// returned once and only its hash is kept. actor nil means the command line
// or the demo.
func (a *Service) IssueToken(ctx context.Context, actor *access.Principal, userID, name, ip string) (string, error) {
	u, err := a.mayManage(ctx, actor, userID)
	if err != nil {
		return "", err
	}
	if u.Kind != store.KindAPI {
		return "", errs.E(errs.Invalid, "err.token_only_api")
	}
	if strings.TrimSpace(name) == "" {
		name = "token"
	}
	tok := "sq_" + RandomToken(24)
	aid, aname := actorOf(actor)
	err = a.Store.Write(ctx, func(tx *store.Tx) error {
		id, err := tx.CreateAPIToken(ctx, userID, strings.TrimSpace(name), HashToken(tok), timeZero)
		if err != nil {
			return err
		}
		return a.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: aid, ActorName: aname, Action: "token.issue",
			TargetType: "api_token", TargetID: id, IP: ip, NodeID: a.homeNode(ctx, userID), Detail: audit.Detail("user", u.Username)})
	})
	return tok, err
}

// RevokeToken ends an API token.
func (a *Service) RevokeToken(ctx context.Context, actor *access.Principal, userID, tokenID, ip string) error {
	defer a.forgetTokens()
	if _, err := a.mayManage(ctx, actor, userID); err != nil {
		return err
	}
	aid, aname := actorOf(actor)
	return a.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.RevokeAPIToken(ctx, userID, tokenID); err != nil {
			return err
		}
		return a.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: aid, ActorName: aname, Action: "token.revoke",
			TargetType: "api_token", TargetID: tokenID, IP: ip, NodeID: a.homeNode(ctx, userID)})
	})
}

// homeNode is the node of an account's first role, where entries about the
// account are filed so that those responsible for that node can read them.
func (a *Service) homeNode(ctx context.Context, userID string) string {
	as, err := a.Store.Assignments(ctx, userID)
	if err != nil || len(as) == 0 {
		return ""
	}
	return as[0].NodeID
}

func validUsername(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
