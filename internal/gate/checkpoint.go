package gate

import (
	"context"
	"strings"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// CheckResult is what a staffed checkpoint sees about the person in front
// of it: the decision and the facts behind it, masked.
type CheckResult struct {
	DecideResponse
	GateID     string
	Kind       string // resident, tenant, staff, visitor, stranger
	IDMask     string
	Credential string
	Code       *store.CodeSnapshot
	Test       *store.HealthTest
	Doses      int
	Monitoring []store.Monitoring // active now
	Reasons    []string
	Temp       float64
}

// gateFor loads a gate the principal may operate, with its first device
// (the booth's own terminal, which records the passes).
func (s *Service) gateFor(ctx context.Context, p *access.Principal, gateID string) (store.Gate, store.Device, error) {
	g, err := s.Store.Gate(ctx, gateID)
	if err != nil {
		return g, store.Device{}, err
	}
	if !p.CanAtOrBelow(access.GateOperate, g.CommunityPath) {
		return g, store.Device{}, errs.E(errs.Forbidden, "err.forbidden")
	}
	ds, err := s.Store.GateDevices(ctx, g.ID)
	if err != nil || len(ds) == 0 {
		return g, store.Device{}, errs.E(errs.Invalid, "err.gate.no_device")
	}
	return g, ds[0], nil
}

// Check decides for what a checkpoint typed or scanned: a pass code
// (QR), an identity number, a card or a plate.
// An override names the person already identified (personID), so the
// typed identity number need not travel back through the page.
func (s *Service) Check(ctx context.Context, p *access.Principal, gateID, input, personID string, temp float64, override bool) (CheckResult, error) {
	var res CheckResult
	g, dev, err := s.gateFor(ctx, p, gateID)
	if err != nil {
		return res, err
	}
	if err := validTemperature(temp); err != nil {
		return res, err
	}
	input = strings.TrimSpace(input)
	cred := Credential{Kind: CredCard, Value: input}
	switch {
	case personID != "":
		cred = Credential{Kind: "override"}
	case input == "":
		return res, errs.E(errs.Invalid, "err.gate.input").OnField("input")
	case strings.HasPrefix(input, passPrefix):
		cred.Kind = CredQR
	case len([]rune(pii.NormalizeText(input))) == 18 || len(input) == 15:
		cred.Kind = CredIDCard
		if _, err := pii.ParseID(pii.DocResidentID, input, s.Store.Now()); err != nil {
			return res, errs.E(errs.Invalid, "err.person.id_check").OnField("input")
		}
	case strings.ContainsAny(input, "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"):
		cred.Kind = CredPlate
	}
	var who identified
	if personID != "" {
		who, err = s.person(ctx, g, personID)
	} else {
		who, err = s.identify(ctx, g, cred)
	}
	if err != nil {
		return res, err
	}
	resp, err := s.decide(ctx, dev.ID, g, who, DecideRequest{Credential: cred, TemperatureC: temp}, override)
	if err != nil {
		return res, err
	}
	res = CheckResult{DecideResponse: resp, GateID: g.ID, Kind: who.kind, Credential: cred.Kind, Temp: temp}
	if who.personID != "" {
		person, err := s.Store.Person(ctx, who.personID)
		if err == nil {
			res.IDMask = person.IDMask
		}
		f, err := s.Store.LoadGateFacts(ctx, who.personID, true, true, true, true)
		if err != nil {
			return res, err
		}
		if len(f.Codes) > 0 {
			res.Code = &f.Codes[0]
		}
		if len(f.Tests) > 0 {
			res.Test = &f.Tests[0]
		}
		res.Doses = f.Doses
		today := s.Store.Today()
		for _, m := range f.Monitoring {
			if m.Active(today) {
				res.Monitoring = append(res.Monitoring, m)
			}
		}
	}
	return res, nil
}

// Record stores the checkpoint's pass or refusal as a pass event of the
// booth's device (the decision id is the event id, so a double click is
// stored once).
func (s *Service) Record(ctx context.Context, p *access.Principal, gateID, decisionID, personID, credential, outcome, reason string, temp float64) error {
	g, dev, err := s.gateFor(ctx, p, gateID)
	if err != nil {
		return err
	}
	if !outcomes[outcome] || decisionID == "" {
		return errs.E(errs.Invalid, "err.gate.record")
	}
	now := s.Store.Now()
	_, err = s.ing.store(ctx, []store.PassRecord{{DeviceID: dev.ID, GateID: g.ID, EventID: decisionID, PersonID: personID,
		Credential: credential, Outcome: outcome, Reason: reason, Temperature: temp, Direction: "in", DeviceTime: now, ReceivedAt: now}})
	return err
}

// PassFor makes the pass code a visitor or resident shows at the gate.
func (s *Service) PassFor(v store.Visitor) string {
	return SignPass(s.Keys, PassClaims{Kind: "v", ID: v.ID, CommunityID: v.CommunityID, Expires: v.ValidUntil.Unix()})
}
