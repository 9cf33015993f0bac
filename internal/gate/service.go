package gate

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"shequ/internal/errs"
	"shequ/internal/face"
	"shequ/internal/ids"
	"shequ/internal/memo"
	"shequ/internal/pii"
	"shequ/internal/policy"
	"shequ/internal/store"
)

// Service is the gate logic behind the device API, the MQTT bridge, the
// staffed checkpoint and the duty pages.
type Service struct {
	Store *store.Store
	Keys  *pii.Keyring
	Faces *face.Index
	Hub   *Hub
	Log   *slog.Logger
	// IDIndex is the ledger's blind index of identity numbers.
	IDIndex func(t pii.DocType, number string) string
	// Commands reaches devices over MQTT when the bridge runs (set before
	// serving), else nil.
	Commands Commander
	// Peers tells the other instances on the same database of changes to
	// what this service keeps in memory (peers.go); nil when alone.
	Peers func(topic string, v any)

	rec *recorder
	ing *committer

	// Lookups remembered between decisions (see memo).
	devices *memo.Memo[deviceInfo] // by api user id
	holders *memo.Memo[identified] // by credential and community
	people  *memo.Memo[identified] // by person and community
	facts   *memo.Memo[store.GateFacts]
	answers answers // by device and event id, for retries
	spent   spentPasses

	mu       sync.RWMutex
	policies []storedPolicy
	loadedAt time.Time
}

type deviceInfo struct {
	dev  store.Device
	gate store.Gate
}

type storedPolicy struct {
	row store.PolicyRow
	p   policy.Policy
}

// Start begins the background writers and loads the face galleries.
func (s *Service) Start(ctx context.Context) error {
	s.rec = newRecorder(s.Store, s.Log)
	s.ing = newCommitter(s.Store)
	s.devices = memo.New[deviceInfo](s.Store, lookupMaxAge, deviceTables...)
	s.holders = memo.New[identified](s.Store, lookupMaxAge, identityTables...)
	s.people = memo.New[identified](s.Store, lookupMaxAge, identityTables...)
	s.facts = memo.New[store.GateFacts](s.Store, lookupMaxAge, healthTables...)
	if err := s.ReloadPolicies(ctx); err != nil {
		return err
	}
	return s.LoadFaces(ctx)
}

// FlushLog writes queued decisions and alarms now.
func (s *Service) FlushLog() { s.rec.Flush() }

// Close flushes the decision log.
func (s *Service) Close() {
	if s.rec != nil {
		s.rec.close()
	}
}

// Messages shown on a gate's screen, by reason.
var screenText = map[string]string{
	policy.ReasonOK: "请通行", policy.ReasonOverride: "请通行", policy.ReasonUnknownPerson: "未登记人员，请到岗亭登记",
	policy.ReasonNotAuthorised: "无通行权限", policy.ReasonFever: "体温异常，请到岗亭复测", policy.ReasonCodeColour: "健康码异常，禁止通行",
	policy.ReasonCodeUnknown: "请出示健康码", policy.ReasonTestMissing: "请出示有效核酸检测证明", policy.ReasonTestPositive: "检测结果异常，禁止通行",
	policy.ReasonVaccination: "未满足疫苗接种要求", policy.ReasonMonitoring: "管控期间，禁止外出进入", policy.ReasonCurfew: "当前时段禁止进入",
	policy.ReasonVisitorRule: "访客不符合进入规定", policy.ReasonTemperatureUnknown: "请测量体温",
	ReasonPassExpired: "通行码已过期，请刷新后重试", ReasonPassUsed: "通行码已使用，请刷新后重试",
}

// DeviceFor resolves an authenticated device account to its device and gate.
func (s *Service) DeviceFor(ctx context.Context, userID string) (store.Device, store.Gate, error) {
	di, err := s.devices.Get(userID, func() (deviceInfo, error) {
		d, g, err := s.Store.DeviceByUser(ctx, userID)
		if errs.Is(err, errs.NotFound) {
			err = errs.E(errs.Forbidden, "err.gate.not_a_device")
		}
		return deviceInfo{dev: d, gate: g}, err
	})
	return di.dev, di.gate, err
}

// identified is who stands at the gate.
type identified struct {
	personID   string
	visitorID  string
	kind       string // resident, tenant, staff, visitor, stranger
	authorised bool
	name       string
	birth      string
	distance   float64
	// A resident pass code: its nonce and expiry, or why it is no good.
	passNonce   string
	passExpires time.Time
	passProblem string
}

var errBadCredential = errs.E(errs.Invalid, "err.gate.credential")

// Decide identifies the person, applies the entry policy and answers. A
// request repeating a recent event id of the device gets the first answer.
func (s *Service) Decide(ctx context.Context, userID string, req DecideRequest) (DecideResponse, error) {
	dev, g, err := s.DeviceFor(ctx, userID)
	if err != nil {
		return DecideResponse{}, err
	}
	if err := validAttempt(req.EventID, req.Direction, req.TemperatureC); err != nil {
		return DecideResponse{}, err
	}
	key := dev.ID + "|" + req.EventID
	if req.EventID != "" {
		if r, ok := s.answers.get(key); ok {
			return r, nil
		}
	}
	who, err := s.identify(ctx, g, req.Credential)
	if err != nil {
		return DecideResponse{}, err
	}
	resp, err := s.decide(ctx, dev.ID, g, who, req, false)
	if err == nil && req.EventID != "" {
		s.answers.put(key, resp, s.Store.Now())
	}
	return resp, err
}

// validAttempt checks what a device says about an attempt, for decisions
// and pass events alike; it names the field at fault.
func validAttempt(eventID, direction string, temperature float64) error {
	switch {
	case len(eventID) > 64:
		return errs.E(errs.Invalid, "err.gate.event_id").OnField("event_id")
	case direction != "" && direction != "in" && direction != "out":
		return errs.E(errs.Invalid, "err.gate.direction").OnField("direction")
	}
	return validTemperature(temperature)
}

func validTemperature(t float64) error {
	if math.IsNaN(t) || math.IsInf(t, 0) || t < 0 || (t != 0 && (t < 30 || t > 45)) {
		return errs.E(errs.Invalid, "err.gate.temperature").OnField("temperature")
	}
	return nil
}

func (s *Service) decide(ctx context.Context, deviceID string, g store.Gate, who identified, req DecideRequest, override bool) (DecideResponse, error) {
	now := s.Store.Now()
	p := s.policyFor(g, now)
	subject, err := s.subject(ctx, p, who)
	if err != nil {
		return DecideResponse{}, err
	}
	if who.passProblem == "" && who.passNonce != "" && !s.spent.claim(who.passNonce, who.passExpires, now) {
		who.passProblem = ReasonPassUsed
	}
	var d policy.Decision
	if who.passProblem != "" {
		// A genuine code that is no longer good: refused before any rule,
		// recorded under the policy in force.
		d = policy.Decision{Outcome: policy.Deny, Reason: who.passProblem, Reasons: []string{who.passProblem}}
		if p != nil {
			d.PolicyID, d.PolicyVersion = p.ID, p.Version
		}
	} else {
		d = policy.Evaluate(p, policy.Input{Subject: subject, TemperatureC: req.TemperatureC, Now: now, StaffOverride: override, Exit: req.Direction == "out"})
		if d.Outcome != policy.Allow && who.passNonce != "" {
			s.spent.release(who.passNonce) // the code may be shown again once refused
		} else if who.passNonce != "" {
			s.tell(TopicPass, passNote{Nonce: who.passNonce, Expires: who.passExpires.Unix()}) // spent at every instance
		}
	}
	resp := DecideResponse{DecisionID: ids.New(), Outcome: string(d.Outcome), Reason: d.Reason, Message: screenText[d.Reason],
		PersonID: who.personID, Distance: who.distance, PolicyVersion: d.PolicyVersion}
	if who.name != "" {
		resp.Person = pii.MaskName(who.name)
	}
	s.rec.add(store.Decision{ID: resp.DecisionID, DeviceID: deviceID, GateID: g.ID, PersonID: who.personID, Credential: req.Credential.Kind,
		Outcome: resp.Outcome, Reason: resp.Reason, PolicyID: d.PolicyID, PolicyVersion: d.PolicyVersion, Temperature: req.TemperatureC, At: now,
		EventID: req.EventID, Direction: req.Direction, DeviceTime: req.DeviceTime})
	if kind := alarmKind(d); kind != "" {
		s.raise(ctx, g, deviceID, kind, who, strings.Join(d.Reasons, ","))
	}
	return resp, nil
}

// alarmKind says which alarm a decision raises, if any.
func alarmKind(d policy.Decision) string {
	switch {
	case d.Outcome == policy.Allow, d.Reason == ReasonPassExpired, d.Reason == ReasonPassUsed:
		return "" // a stale code on a phone is not an incident
	case d.Reason == policy.ReasonFever || contains(d.Reasons, policy.ReasonFever):
		return "fever"
	case d.Reason == policy.ReasonUnknownPerson:
		return "stranger"
	case d.Reason == policy.ReasonCodeColour:
		return "code_colour"
	case d.Outcome == policy.Deny:
		return "policy_deny"
	}
	return ""
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// raise tells the live pages at once and stores the alarm with the next
// batch of decisions (within a fraction of a second).
func (s *Service) raise(ctx context.Context, g store.Gate, deviceID, kind string, who identified, detail string) {
	a := store.Alarm{ID: ids.New(), GateID: g.ID, DeviceID: deviceID, Kind: kind, PersonID: who.personID, Detail: detail, At: s.Store.Now()}
	s.rec.addAlarm(a)
	e := AlarmEvent{ID: a.ID, Kind: kind, GateID: g.ID, Gate: g.Name, CommunityID: g.CommunityID, Detail: detail, Status: "open", At: a.At}
	if who.name != "" {
		e.Person = pii.MaskName(who.name)
	}
	s.Hub.Publish(e)
}

// identify turns a credential into a person (or a stranger).
func (s *Service) identify(ctx context.Context, g store.Gate, c Credential) (identified, error) {
	stranger := identified{kind: "stranger"}
	switch c.Kind {
	case CredFace:
		if err := face.Validate(c.Descriptor); err != nil {
			return stranger, errs.Wrap(err, errs.Invalid, "err.gate.descriptor").OnField("descriptor")
		}
		m := s.Faces.Match(g.CommunityID, c.Descriptor, c.Model)
		if !m.Found {
			stranger.distance = m.Distance
			return stranger, nil
		}
		who, err := s.person(ctx, g, m.PersonID)
		who.distance = m.Distance
		return who, err
	case CredCard, CredPlate:
		v := normalizeValue(c.Kind, c.Value)
		if v == "" || len(v) > 64 {
			return stranger, errBadCredential.OnField("value")
		}
		bidx := s.Keys.BlindIndex(v, "cred."+c.Kind)
		return s.holders.Get(c.Kind+"|"+bidx+"|"+g.CommunityID, func() (identified, error) {
			h, err := s.Store.GateHolderByCredential(ctx, c.Kind, bidx, g.CommunityID)
			if errs.Is(err, errs.NotFound) {
				return stranger, nil
			}
			if err != nil {
				return stranger, err
			}
			return s.rights(ctx, g, identified{personID: h.PersonID, name: h.Name, birth: h.BirthDate}, h.Residence)
		})
	case CredIDCard:
		id, err := pii.ParseID(pii.DocResidentID, c.Value, s.Store.Now())
		if err != nil {
			return stranger, errBadCredential.OnField("value")
		}
		bidx := s.IDIndex(pii.DocResidentID, id.Number)
		ps, err := s.Store.PersonsByIDBidx(ctx, bidx)
		if err != nil {
			return stranger, err
		}
		if len(ps) > 0 {
			return s.person(ctx, g, ps[0].ID)
		}
		if v, err := s.Store.ActiveVisitorByID(ctx, g.CommunityID, bidx); err == nil {
			return identified{visitorID: v.ID, kind: "visitor", authorised: true, name: v.Name}, nil
		}
		return stranger, nil
	case CredQR:
		claims, err := VerifyPass(s.Keys, c.Value, s.Store.Now())
		if err == errPassForged {
			return stranger, nil
		}
		if claims.CommunityID != g.CommunityID {
			return identified{kind: "stranger"}, nil
		}
		if claims.Kind == "v" {
			v, verr := s.Store.Visitor(ctx, claims.ID)
			if verr != nil {
				return stranger, nil
			}
			now := s.Store.Now()
			ok := err == nil && !now.Before(v.ValidFrom) && now.Before(v.ValidUntil)
			return identified{visitorID: v.ID, kind: "visitor", authorised: ok, name: v.Name}, nil
		}
		who, perr := s.person(ctx, g, claims.ID)
		if err == errPassExpired {
			who.passProblem = ReasonPassExpired
		}
		who.passNonce, who.passExpires = claims.Nonce, time.Unix(claims.Expires, 0)
		return who, perr
	}
	return stranger, errBadCredential.OnField("kind")
}

func normalizeValue(kind, v string) string {
	v = strings.ToUpper(strings.ReplaceAll(pii.NormalizeText(v), " ", ""))
	if kind == CredPlate {
		v = strings.ReplaceAll(v, "·", "")
	}
	return v
}

// person finds how a known person may use this gate.
func (s *Service) person(ctx context.Context, g store.Gate, personID string) (identified, error) {
	return s.people.Get(personID+"|"+g.CommunityID, func() (identified, error) {
		p, err := s.Store.Person(ctx, personID)
		if err == nil && p.MergedInto != "" { // a face enrolled before a merge of duplicates
			p, err = s.Store.Person(ctx, p.MergedInto)
		}
		if err != nil {
			return identified{kind: "stranger"}, nil
		}
		who := identified{personID: p.ID, name: p.Name, birth: p.BirthDate}
		res, err := s.Store.Residence(ctx, p.ID, g.CommunityID)
		if err != nil {
			return who, err
		}
		return s.rights(ctx, g, who, res)
	})
}

// rights says how a known person may use this gate, given their residence
// in its community ("resident", "tenant" or "").
func (s *Service) rights(ctx context.Context, g store.Gate, who identified, res string) (identified, error) {
	if res != "" {
		who.kind, who.authorised = res, true
		return who, nil
	}
	if _, ok, err := s.Store.ActiveListEntry(ctx, who.personID, g.CommunityID); err != nil {
		return who, err
	} else if ok {
		who.kind, who.authorised = "staff", true
		return who, nil
	}
	// Known, but no right here (moved out, contract ended, list expired).
	who.kind, who.authorised = "resident", false
	return who, nil
}

// subject gathers the facts the policy needs, and only those.
func (s *Service) subject(ctx context.Context, p *policy.Policy, who identified) (policy.Subject, error) {
	sub := policy.Subject{Kind: who.kind, Authorised: who.authorised, Age: -1, HostConfirmed: who.visitorID != ""}
	if who.personID == "" {
		return sub, nil
	}
	if b, err := time.Parse("2006-01-02", who.birth); err == nil {
		sub.Age = ageOn(b, s.Store.Now().In(policy.CST()))
	}
	if p == nil {
		d := policy.Default()
		p = &d
	}
	codes, tests := len(p.AcceptedColours) > 0, p.TestWindow > 0 || p.Visitors.NeedTest
	doses, monitoring := p.MinDoses > 0, len(p.DenyMonitoring)+len(p.ReviewMonitoring) > 0
	key := fmt.Sprint(who.personID, codes, tests, doses, monitoring)
	f, err := s.facts.Get(key, func() (store.GateFacts, error) {
		return s.Store.LoadGateFacts(ctx, who.personID, codes, tests, doses, monitoring)
	})
	if err != nil {
		return sub, err
	}
	for _, c := range f.Codes {
		sub.Codes = append(sub.Codes, policy.CodeSnapshot{Colour: c.Colour, At: c.At})
	}
	for _, t := range f.Tests {
		sub.Tests = append(sub.Tests, policy.Test{Kind: t.Kind, Result: t.Result, SampledAt: t.SampledAt, ResultAt: t.ResultAt})
	}
	sub.Doses = f.Doses
	for _, m := range f.Monitoring {
		sub.Monitoring = append(sub.Monitoring, policy.Monitoring{Kind: m.Kind, StartDate: m.StartDate, EndDate: m.EndDate, LiftedOn: m.LiftedOn})
	}
	return sub, nil
}

// policyFor picks the policy in force at a gate: one scoped to the gate,
// else the nearest one up the organisation tree, else the default.
func (s *Service) policyFor(g store.Gate, now time.Time) *policy.Policy {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var best *policy.Policy
	bestDepth := -1
	for i := range s.policies {
		sp := &s.policies[i]
		if !sp.p.Applies(now) {
			continue
		}
		depth := -1
		switch {
		case sp.row.ScopeType == "gate" && sp.row.ScopeID == g.ID:
			depth = 1 << 20
		case sp.row.ScopeType == "node" && strings.Contains(g.CommunityPath, "/"+sp.row.ScopeID+"/"):
			depth = strings.Index(g.CommunityPath, "/"+sp.row.ScopeID+"/")
		}
		if depth > bestDepth || (depth == bestDepth && best != nil && sp.p.Version > best.Version) {
			best, bestDepth = &sp.p, depth
		}
	}
	return best // nil: the engine applies its default policy
}

// PolicyAt is the policy in force at a community's gates now (the default
// when none is set), for the residents' portal.
func (s *Service) PolicyAt(communityPath string) *policy.Policy {
	if p := s.policyFor(store.Gate{CommunityPath: communityPath}, s.Store.Now()); p != nil {
		return p
	}
	d := policy.Default()
	return &d
}

// ReloadPolicies reads the stored policies into memory.
func (s *Service) ReloadPolicies(ctx context.Context) error {
	rows, err := s.Store.Policies(ctx)
	if err != nil {
		return err
	}
	ps := make([]storedPolicy, 0, len(rows))
	for _, r := range rows {
		var p policy.Policy
		if err := json.Unmarshal([]byte(r.Body), &p); err != nil {
			s.Log.Error("stored policy unreadable", "id", r.ID, "err", err.Error())
			continue
		}
		p.ID, p.Version, p.Name, p.ValidFrom, p.ValidTo = r.ID, r.Version, r.Name, r.ValidFrom, r.ValidTo
		ps = append(ps, storedPolicy{row: r, p: p})
	}
	s.mu.Lock()
	s.policies = ps
	s.loadedAt = s.Store.Now()
	s.mu.Unlock()
	return nil
}

// LoadFaces fills the matching index from the stored face credentials.
func (s *Service) LoadFaces(ctx context.Context) error {
	cs, err := s.Store.FaceCredentials(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs {
		d, err := s.decodeDescriptor(c.ValueEnc)
		if err != nil || c.CommunityID == "" {
			continue
		}
		if err := s.Faces.Put(c.CommunityID, c.PersonID, c.ID, d, c.Model); err != nil {
			s.Log.Warn("face not loaded", "credential", c.ID, "err", err.Error())
		}
	}
	return nil
}

func (s *Service) decodeDescriptor(enc []byte) ([]float32, error) {
	b, err := s.Keys.Decrypt(enc, "credentials.value")
	if err != nil {
		return nil, err
	}
	var d []float32
	return d, json.Unmarshal(b, &d)
}

// ageOn is the age in completed years on the day of now.
func ageOn(birth, now time.Time) int {
	age := now.Year() - birth.Year()
	if now.Month() < birth.Month() || (now.Month() == birth.Month() && now.Day() < birth.Day()) {
		age--
	}
	return age
}
