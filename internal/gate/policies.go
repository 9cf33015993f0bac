package gate

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/policy"
	"shequ/internal/store"
)

// PolicyInput is a policy as edited: where it applies and its rules.
type PolicyInput struct {
	ID        string // "" for a new policy
	ScopeType string // node or gate
	ScopeID   string
	Name      string
	Rules     policy.Policy
}

// scopePath is the org path a policy scope belongs to.
func (s *Service) scopePath(ctx context.Context, scopeType, scopeID string) (string, error) {
	switch scopeType {
	case "gate":
		g, err := s.Store.Gate(ctx, scopeID)
		if err != nil {
			return "", errs.E(errs.Invalid, "err.policy.scope").OnField("scope")
		}
		return g.CommunityPath, nil
	case "node":
		n, err := s.Store.OrgNode(ctx, scopeID)
		if err != nil {
			return "", errs.E(errs.Invalid, "err.policy.scope").OnField("scope")
		}
		return n.Path, nil
	}
	return "", errs.E(errs.Invalid, "err.policy.scope").OnField("scope")
}

// SavePolicy validates and stores a policy as a new version, and applies
// it from the next decision on.
func (s *Service) SavePolicy(ctx context.Context, a Actor, in PolicyInput) (store.PolicyRow, error) {
	var row store.PolicyRow
	path, err := s.scopePath(ctx, in.ScopeType, in.ScopeID)
	if err != nil {
		return row, err
	}
	if a.P != nil && !a.P.Can(access.GateManage, path) {
		return row, errs.E(errs.Forbidden, "err.forbidden")
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return row, errs.E(errs.Invalid, "err.org_name_required").OnField("name")
	}
	if err := in.Rules.Validate(); err != nil {
		var ve *policy.ValidationError
		if errors.As(err, &ve) {
			return row, errs.E(errs.Invalid, "err.policy.invalid", ve.Field, ve.Reason).OnField(ve.Field)
		}
		return row, errs.Wrap(err, errs.Invalid, "err.policy.invalid", "", err.Error())
	}
	if in.Rules.ValidFrom.IsZero() {
		in.Rules.ValidFrom = s.Store.Now()
	}
	body, err := json.Marshal(in.Rules)
	if err != nil {
		return row, err
	}
	row = store.PolicyRow{ID: in.ID, ScopeType: in.ScopeType, ScopeID: in.ScopeID, Name: in.Name, Body: string(body),
		ValidFrom: in.Rules.ValidFrom, ValidTo: in.Rules.ValidTo}
	if err := s.Store.Write(ctx, func(tx *store.Tx) error { return tx.SavePolicy(ctx, &row, a.id()) }); err != nil {
		return row, err
	}
	if err := s.ReloadPolicies(ctx); err != nil {
		return row, err
	}
	s.tell(TopicPolicies, nil)
	return row, nil
}

// Policy returns a stored policy with its rules.
func (s *Service) Policy(id string) (store.PolicyRow, policy.Policy, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, sp := range s.policies {
		if sp.row.ID == id {
			return sp.row, sp.p, true
		}
	}
	return store.PolicyRow{}, policy.Policy{}, false
}

// Policies lists the stored policies the principal may see.
func (s *Service) PoliciesFor(ctx context.Context, p *access.Principal) ([]store.PolicyRow, error) {
	s.mu.RLock()
	rows := make([]store.PolicyRow, 0, len(s.policies))
	for _, sp := range s.policies {
		rows = append(rows, sp.row)
	}
	s.mu.RUnlock()
	var out []store.PolicyRow
	for _, r := range rows {
		path, err := s.scopePath(ctx, r.ScopeType, r.ScopeID)
		if err == nil && (p.Can(access.GateView, path) || p.Can(access.GateManage, path)) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Preview tries a draft policy on one person at a gate, without saving
// anything: what the gate would answer if the draft were in force.
func (s *Service) Preview(ctx context.Context, p *access.Principal, draft policy.Policy, gateID, input string, temp float64) (policy.Decision, identified, error) {
	g, err := s.Store.Gate(ctx, gateID)
	if err != nil {
		return policy.Decision{}, identified{}, err
	}
	if !p.Can(access.GateManage, g.CommunityPath) {
		return policy.Decision{}, identified{}, errs.E(errs.Forbidden, "err.forbidden")
	}
	cred := Credential{Kind: CredCard, Value: strings.TrimSpace(input)}
	switch {
	case strings.HasPrefix(cred.Value, passPrefix):
		cred.Kind = CredQR
	case len(cred.Value) == 18:
		cred.Kind = CredIDCard
	}
	who, err := s.identify(ctx, g, cred)
	if err != nil {
		return policy.Decision{}, who, err
	}
	sub, err := s.subject(ctx, &draft, who)
	if err != nil {
		return policy.Decision{}, who, err
	}
	return policy.Evaluate(&draft, policy.Input{Subject: sub, TemperatureC: temp, Now: s.Store.Now()}), who, nil
}

// PreviewName is the masked name of a previewed person.
func PreviewName(who identified) string { return who.name }
