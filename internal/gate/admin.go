package gate

import (
	"context"
	"regexp"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/auth"
	"shequ/internal/errs"
	"shequ/internal/ids"
	"shequ/internal/store"
)

var gateCode = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,31}$`)

var gateKinds = map[string]bool{"turnstile": true, "temp_door": true, "vehicle": true, "booth": true}

// AddGate creates an entrance of a community.
func (s *Service) AddGate(ctx context.Context, a Actor, communityID, code, name, kind string) (store.Gate, error) {
	g := store.Gate{CommunityID: communityID, Code: strings.ToUpper(strings.TrimSpace(code)), Name: strings.TrimSpace(name), Kind: kind}
	comm, err := s.Store.OrgNode(ctx, communityID)
	if err != nil || comm.Level != store.LevelCommunity {
		return g, errs.E(errs.Invalid, "err.import.community").OnField("community")
	}
	if a.P != nil && !a.P.Can(access.GateManage, comm.Path) {
		return g, errs.E(errs.Forbidden, "err.forbidden")
	}
	switch {
	case !gateCode.MatchString(g.Code):
		return g, errs.E(errs.Invalid, "err.gate.code").OnField("code")
	case g.Name == "":
		return g, errs.E(errs.Invalid, "err.org_name_required").OnField("name")
	case !gateKinds[kind]:
		return g, errs.E(errs.Invalid, "err.gate.kind").OnField("kind")
	}
	if sites, err := s.Store.PlaceSites(ctx, communityID); err == nil && len(sites) > 0 {
		g.SiteID = sites[0].ID
	}
	return g, s.Store.Write(ctx, func(tx *store.Tx) error { return tx.CreateGate(ctx, &g) })
}

// AddDevice registers a device for a gate: an API account with the device
// role at the gate's community and a token, returned once.
func (s *Service) AddDevice(ctx context.Context, a Actor, au *auth.Service, gateID, name string) (string, error) {
	g, err := s.Store.Gate(ctx, gateID)
	if err != nil {
		return "", err
	}
	if a.P != nil && !a.P.Can(access.GateManage, g.CommunityPath) {
		return "", errs.E(errs.Forbidden, "err.forbidden")
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = g.Name + "终端"
	}
	id := ids.New()
	username := "dev-" + strings.ToLower(g.Code) + "-" + id[len(id)-8:] // the random tail: unique per device
	u, err := au.CreateUser(ctx, a.P, auth.NewUser{Username: username, DisplayName: name, Kind: store.KindAPI, Role: access.Device, NodeID: g.CommunityID}, a.IP)
	if err != nil {
		return "", err
	}
	tok, err := au.IssueToken(ctx, a.P, u.ID, "device", a.IP)
	if err != nil {
		return "", err
	}
	return tok, s.Store.Write(ctx, func(tx *store.Tx) error {
		return tx.CreateDevice(ctx, &store.Device{GateID: g.ID, UserID: u.ID, Name: name})
	})
}

// AddListEntry gives someone a time-boxed right to pass a community's
// gates (staff, property workers, couriers).
func (s *Service) AddListEntry(ctx context.Context, a Actor, communityID, personID, kind string, from, until time.Time, note string) (store.ListEntry, error) {
	e := store.ListEntry{CommunityID: communityID, PersonID: personID, Kind: kind, ValidFrom: from, ValidUntil: until, Note: strings.TrimSpace(note)}
	comm, err := s.Store.OrgNode(ctx, communityID)
	if err != nil {
		return e, errs.E(errs.Invalid, "err.import.community").OnField("community")
	}
	if a.P != nil && !a.P.Can(access.GateManage, comm.Path) {
		return e, errs.E(errs.Forbidden, "err.forbidden")
	}
	switch {
	case kind != "staff" && kind != "property" && kind != "courier" && kind != "other":
		return e, errs.E(errs.Invalid, "err.gate.list_kind").OnField("kind")
	case !until.After(from):
		return e, errs.E(errs.Invalid, "err.contract.end_before_start").OnField("until")
	}
	if _, err := s.Store.Person(ctx, personID); err != nil {
		return e, errs.E(errs.Invalid, "err.gate.list_person").OnField("person")
	}
	return e, s.Store.Write(ctx, func(tx *store.Tx) error { return tx.CreateListEntry(ctx, &e, a.id()) })
}
