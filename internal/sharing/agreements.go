package sharing

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/ratelimit"
	"shequ/internal/store"
)

// Departments a partner belongs to.
var Departments = []string{"health", "public_security", "civil_affairs", "other"}

// Grant is what an agreement allows of one dataset: fields to read,
// protected fields to read unmasked, and (for health records) whether the
// partner may also send records in.
type Grant struct {
	Fields   []string `json:"fields"`
	Unmasked []string `json:"unmasked,omitempty"`
	Write    bool     `json:"write,omitempty"`
}

// Writable are the datasets a partner may send records into (FHIR
// Observation and Immunization from the health side).
var Writable = []string{"health_tests", "vaccinations"}

// Grants are an agreement's datasets.
type Grants map[string]Grant

// ParseGrants reads an agreement's stored grants.
func ParseGrants(s string) Grants {
	g := Grants{}
	json.Unmarshal([]byte(s), &g)
	return g
}

// Service manages agreements and serves partners.
type Service struct {
	Store *store.Store
	Audit *audit.Log
	Keys  *pii.Keyring

	limits ratelimit.Limiter // per agreement: its RateLimit requests a minute
}

// Input is an agreement as staff fill it in.
type Input struct {
	ID, PartnerID, Department, Name, Purpose, NodeID, ExpiresOn string
	RateLimit                                                   int
	Grants                                                      Grants
}

// Save creates or changes an agreement; staff need ShareManage at its node.
func (s *Service) Save(ctx context.Context, p *access.Principal, in Input) (store.Agreement, error) {
	var a store.Agreement
	if in.ID != "" {
		// A change keeps the partner, the department and the scope.
		old, err := s.Store.Agreement(ctx, in.ID)
		if err != nil {
			return a, err
		}
		in.PartnerID, in.Department, in.NodeID = old.PartnerID, old.Department, old.NodeID
	}
	node, err := s.Store.OrgNode(ctx, in.NodeID)
	if err != nil {
		return a, errs.E(errs.Invalid, "err.sharing.node").OnField("node")
	}
	if !p.Can(access.ShareManage, node.Path) {
		return a, errs.E(errs.Forbidden, "err.forbidden")
	}
	if ok, err := s.IsPartner(ctx, in.PartnerID); err != nil {
		return a, err
	} else if !ok {
		return a, errs.E(errs.Invalid, "err.sharing.partner").OnField("partner")
	}
	in.Name, in.Purpose = strings.TrimSpace(in.Name), strings.TrimSpace(in.Purpose)
	switch {
	case !slices.Contains(Departments, in.Department):
		return a, errs.E(errs.Invalid, "err.sharing.department").OnField("department")
	case in.Name == "":
		return a, errs.E(errs.Invalid, "err.sharing.name").OnField("name")
	case in.Purpose == "":
		return a, errs.E(errs.Invalid, "err.sharing.purpose").OnField("purpose")
	case in.RateLimit < 1 || in.RateLimit > 6000:
		return a, errs.E(errs.Invalid, "err.sharing.rate").OnField("rate_limit")
	}
	if _, err := time.Parse("2006-01-02", in.ExpiresOn); err != nil || in.ExpiresOn < s.Store.Today() {
		return a, errs.E(errs.Invalid, "err.sharing.expires").OnField("expires_on")
	}
	if len(in.Grants) == 0 {
		return a, errs.E(errs.Invalid, "err.sharing.no_dataset").OnField("grants")
	}
	for name, g := range in.Grants {
		d, ok := DatasetByName(name)
		if !ok || d.Sharing == None {
			return a, errs.E(errs.Invalid, "err.sharing.dataset", name).OnField("grants")
		}
		if len(g.Fields) == 0 {
			return a, errs.E(errs.Invalid, "err.sharing.no_field", name).OnField("grants")
		}
		if g.Write && !slices.Contains(Writable, name) {
			return a, errs.E(errs.Invalid, "err.sharing.write", name).OnField("grants")
		}
		for _, f := range g.Fields {
			if !d.Has(f) {
				return a, errs.E(errs.Invalid, "err.sharing.field", name+"."+f).OnField("grants")
			}
		}
		for _, f := range g.Unmasked {
			fd := d.field(f)
			if !slices.Contains(g.Fields, f) || !fd.Masked {
				return a, errs.E(errs.Invalid, "err.sharing.unmasked", name+"."+f).OnField("grants")
			}
		}
	}
	grants, _ := json.Marshal(in.Grants)
	a = store.Agreement{ID: in.ID, PartnerID: in.PartnerID, Department: in.Department, Name: in.Name, Purpose: in.Purpose, NodeID: in.NodeID,
		Grants: string(grants), RateLimit: in.RateLimit, ExpiresOn: in.ExpiresOn}
	action := "sharing.create"
	if in.ID != "" {
		action = "sharing.change"
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SaveAgreement(ctx, &a, p.UserID); err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: p.UserID, ActorName: p.Name, Action: action, Outcome: audit.OK,
			TargetType: "agreement", TargetID: a.ID, NodeID: node.ID, Detail: string(grants)})
	})
	if err != nil {
		return a, err
	}
	return s.Store.Agreement(ctx, a.ID)
}

// IsPartner tells whether an account is a partner department's: an API
// account holding the partner role.
func (s *Service) IsPartner(ctx context.Context, userID string) (bool, error) {
	u, err := s.Store.User(ctx, userID)
	if errs.Is(err, errs.NotFound) || err == nil && u.Kind != store.KindAPI {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	paths, err := s.Store.PartnerPaths(ctx, userID)
	return len(paths) > 0, err
}

func (d Dataset) field(name string) Field {
	for _, f := range d.Fields {
		if f.Name == name {
			return f
		}
	}
	return Field{}
}

// Revoke ends an agreement at once.
func (s *Service) Revoke(ctx context.Context, p *access.Principal, id string) error {
	a, err := s.Store.Agreement(ctx, id)
	if err != nil {
		return err
	}
	if !p.Can(access.ShareManage, a.NodePath) {
		return errs.E(errs.Forbidden, "err.forbidden")
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.RevokeAgreement(ctx, id); err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: p.UserID, ActorName: p.Name, Action: "sharing.revoke", Outcome: audit.OK,
			TargetType: "agreement", TargetID: id, NodeID: a.NodeID})
	})
}

// Status says whether an agreement is in force today.
func Status(a store.Agreement, today string) string {
	switch {
	case a.RevokedAt != 0:
		return "revoked"
	case a.ExpiresOn < today:
		return "expired"
	}
	return "active"
}

// Access is a partner's right to one dataset, found from its agreements.
type Access struct {
	Agreement store.Agreement
	Dataset   Dataset
	Grant     Grant
	Scopes    []string // org paths the partner may read under
}

// Authorize finds the agreement under which a partner reads a dataset.
// No agreement for it, or only expired or revoked ones, is Forbidden
// (and says which); too many requests this minute is TooMany.
func (s *Service) Authorize(ctx context.Context, p *access.Principal, dataset string) (Access, error) {
	var acc Access
	d, ok := DatasetByName(dataset)
	if !ok || !p.CanAnywhere(access.APIRead) {
		return acc, errs.E(errs.Forbidden, "err.sharing.no_agreement")
	}
	as, err := s.Store.PartnerAgreements(ctx, p.UserID)
	if err != nil {
		return acc, err
	}
	today, why := s.Store.Today(), "err.sharing.no_agreement"
	for _, a := range as {
		g, ok := ParseGrants(a.Grants)[dataset]
		if !ok {
			continue
		}
		if st := Status(a, today); st != "active" {
			why = "err.sharing." + st
			continue
		}
		acc = Access{Agreement: a, Dataset: d, Grant: g, Scopes: intersect(a.NodePath, p.Scopes(access.APIRead))}
		if len(acc.Scopes) == 0 {
			continue
		}
		if !s.allow(a) {
			return acc, errs.E(errs.TooMany, "err.sharing.rate", a.RateLimit)
		}
		return acc, nil
	}
	return acc, errs.E(errs.Forbidden, why)
}

// intersect is the part of the agreement's subtree the partner's own
// assignments reach.
func intersect(agreement string, partner []string) []string {
	var out []string
	for _, p := range partner {
		switch {
		case strings.HasPrefix(agreement, p):
			return []string{agreement}
		case strings.HasPrefix(p, agreement):
			out = append(out, p)
		}
	}
	return out
}

// allow counts a request against the agreement's limit a minute.
func (s *Service) allow(a store.Agreement) bool {
	if a.RateLimit <= 0 {
		return false
	}
	ok, _ := s.limits.Allow(a.ID, ratelimit.PerMinute(a.RateLimit), s.Store.Now())
	return ok
}

// hookDatasets says which dataset an agreement must cover for a partner to
// be told of a kind of change.
var hookDatasets = map[string]string{
	store.HookPersonChanged: "persons",
	store.HookLeadVerified:  "leads",
	store.HookAlarmRaised:   "events",
	store.HookEventClosed:   "events",
}

// AllowsHook is the webhooks' gate: a partner is told of a change only
// while an agreement in force covers the dataset and the record's place
// in the tree.
func (s *Service) AllowsHook(ctx context.Context, partnerID, kind, nodePath string) bool {
	dataset, ok := hookDatasets[kind]
	if !ok || nodePath == "" {
		return false
	}
	as, err := s.Store.PartnerAgreements(ctx, partnerID)
	if err != nil {
		return false
	}
	today := s.Store.Today()
	for _, a := range as {
		if _, ok := ParseGrants(a.Grants)[dataset]; ok && Status(a, today) == "active" && strings.HasPrefix(nodePath, a.NodePath) {
			return true
		}
	}
	return false
}
