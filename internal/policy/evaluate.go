package policy

import (
	"strings"
	"time"
)

// Subject holds the facts about the person at the gate, gathered by the caller.
type Subject struct {
	// Kind: "resident", "tenant", "staff" (property/staff/courier lists),
	// "visitor" or "stranger". An empty Kind is treated as "stranger"; any
	// other unrecognised kind gets the full resident rules.
	Kind          string
	Authorised    bool           // has the right to pass this gate now (ledger / lists / visitor window)
	Age           int            // -1 unknown
	Codes         []CodeSnapshot // any order: the engine picks the newest
	Tests         []Test         // any order
	Doses         int
	Monitoring    []Monitoring // periods; the engine checks which are active at Now
	HostConfirmed bool         // visitors: a resident host registered them
}

// CodeSnapshot is a health-code colour as read at At.
type CodeSnapshot struct {
	Colour string // green, yellow, red, grey (case-insensitive; "gray" = grey); empty = no colour
	At     time.Time
}

// Test is one test record.
type Test struct {
	Kind      string // e.g. nucleic, antigen
	Result    string // pending, negative, positive, invalid; empty = pending
	SampledAt time.Time
	ResultAt  time.Time
}

// Monitoring is a monitoring period. Dates are YYYY-MM-DD in Asia/Shanghai.
// It is active on day T when StartDate <= T <= EndDate and (LiftedOn is empty
// or LiftedOn > T). An empty or malformed StartDate counts as already
// started, EndDate as open-ended and LiftedOn as not lifted (fail closed).
type Monitoring struct {
	Kind, StartDate, EndDate, LiftedOn string
}

// Input is one evaluation request.
type Input struct {
	Subject      Subject
	TemperatureC float64   // 0 (or negative) = not measured
	Now          time.Time // required: the time of the attempt
	// StaffOverride: a checkpoint staff member decided to let the person
	// through after review (the caller records who and why). A decision that
	// would have been deny or review becomes allow with reason "override";
	// Reasons still lists what was overridden.
	StaffOverride bool
	// Exit: the person is leaving. Only the monitoring rules apply (a
	// person under home quarantine may not go out); anyone else may leave,
	// strangers and feverish people included, so nobody is shut in.
	Exit bool
}

// Decision is the engine's answer.
type Decision struct {
	Outcome Outcome `json:"outcome"`
	// Reason is the first failing rule, in the fixed order below, whose
	// outcome equals Outcome; "ok" when nothing failed, "override" after a
	// staff override. Order: unknown_person, not_authorised, curfew,
	// fever/temperature_unknown, monitoring, test_positive,
	// code_colour/code_unknown, test_missing, vaccination, visitor_rule.
	Reason string `json:"reason"`
	// Reasons lists every failing rule in the same order (nil when none).
	Reasons       []string `json:"reasons,omitempty"`
	PolicyID      string   `json:"policy_id"`
	PolicyVersion int      `json:"policy_version"`
}

// tempTolerance absorbs float32 readings: float32(37.3) is 37.2999992.
const tempTolerance = 0.001

const maxFailures = 12

type failures struct {
	reasons  [maxFailures]string
	outcomes [maxFailures]Outcome
	n        int
}

func (f *failures) add(o Outcome, reason string) {
	if o == Allow || f.n == maxFailures {
		return
	}
	f.reasons[f.n] = reason
	f.outcomes[f.n] = o
	f.n++
}

var builtinDefault = Default()

// Evaluate applies p to the facts in in. It is pure and safe for concurrent
// use; it allocates only the Reasons slice, and only when a rule failed.
// A nil p means Default(). Evaluate does not check p.Applies(in.Now): choosing
// the policy in force is the caller's job (see Select).
//
// Rules, in the fixed order:
//   - unknown_person: Kind "stranger" (or empty) → p.Strangers (default
//     deny); for strangers only the fever rule is evaluated as well.
//   - not_authorised: !Authorised → deny.
//   - curfew: inside a curfew window → deny (staff exempt).
//   - fever: temperature >= TempLimitC → deny; temperature_unknown: not
//     measured → TempUnknown (default allow). Applies to everyone.
//   - monitoring: an active period of a DenyMonitoring kind → deny, of a
//     ReviewMonitoring kind → review.
//   - test_positive: the latest (by sampling time) positive-or-negative test
//     of an accepted kind is positive → deny. Only when the policy checks
//     tests for this subject (TestWindow > 0, or a visitor with NeedTest).
//   - code_colour: newest snapshot's colour not accepted → deny;
//     code_unknown: no snapshot, no colour, or older than CodeMaxAge →
//     CodeUnknown (default review). Only when AcceptedColours is set.
//   - test_missing: TestWindow > 0 and no valid test → TestUnknown (default
//     deny). A valid test is of an accepted kind, sampled within the window,
//     negative (or pending when TestPendingAllowed).
//   - vaccination: Doses < MinDoses → deny, unless Age < MinDosesMinAge;
//     unknown age (< 0) with an age threshold → review.
//   - visitor_rule (visitors only): visitors not allowed, outside visiting
//     hours, no host when NeedHost, or no valid test within the visitor
//     window when NeedTest → deny.
//
// Staff with ApplyToStaff false skip monitoring, tests, codes and
// vaccination. The decision's Outcome is the most severe of the failing
// rules (deny > review > allow).
func Evaluate(p *Policy, in Input) Decision {
	if p == nil {
		p = &builtinDefault
	}
	var f failures
	s := &in.Subject
	now := in.Now

	if in.Exit {
		exempt := strings.EqualFold(s.Kind, KindStaff) && !p.ApplyToStaff
		if !exempt && len(s.Monitoring) > 0 {
			f.add(monitoringOutcome(p, s.Monitoring, now), ReasonMonitoring)
		}
		return f.decide(p, in.StaffOverride)
	}

	if s.Kind == "" || strings.EqualFold(s.Kind, KindStranger) {
		o := p.Strangers
		if o != Review {
			o = Deny // default, and fail closed on anything unexpected
		}
		f.add(o, ReasonUnknownPerson)
		if p.TempLimitC > 0 && in.TemperatureC > 0 && in.TemperatureC >= p.TempLimitC-tempTolerance {
			f.add(Deny, ReasonFever)
		}
		return f.decide(p, in.StaffOverride)
	}
	staff := strings.EqualFold(s.Kind, KindStaff)
	visitor := strings.EqualFold(s.Kind, KindVisitor)

	if !s.Authorised {
		f.add(Deny, ReasonNotAuthorised)
	}

	if !staff && len(p.Curfews) > 0 {
		sec := localSecond(now)
		for _, w := range p.Curfews {
			if w.contains(sec) {
				f.add(Deny, ReasonCurfew)
				break
			}
		}
	}

	if p.TempLimitC > 0 {
		if in.TemperatureC > 0 {
			if in.TemperatureC >= p.TempLimitC-tempTolerance {
				f.add(Deny, ReasonFever)
			}
		} else {
			f.add(action(p.TempUnknown, Allow), ReasonTemperatureUnknown)
		}
	}

	if !staff || p.ApplyToStaff {
		if len(s.Monitoring) > 0 && (len(p.DenyMonitoring) > 0 || len(p.ReviewMonitoring) > 0) {
			f.add(monitoringOutcome(p, s.Monitoring, now), ReasonMonitoring)
		}

		visitorTests := visitor && p.Visitors.NeedTest
		if (p.TestWindow > 0 || visitorTests) && latestPositive(p, s.Tests, now) {
			f.add(Deny, ReasonTestPositive)
		}

		if len(p.AcceptedColours) > 0 {
			colour, at, ok := newestCode(s.Codes, now)
			switch {
			case !ok || colour == "" || (p.CodeMaxAge > 0 && now.Sub(at) > time.Duration(p.CodeMaxAge)):
				f.add(action(p.CodeUnknown, Review), ReasonCodeUnknown)
			case !colourAccepted(p.AcceptedColours, colour):
				f.add(Deny, ReasonCodeColour)
			}
		}

		if p.TestWindow > 0 && !hasValidTest(p, s.Tests, now, p.TestWindow) {
			f.add(action(p.TestUnknown, Deny), ReasonTestMissing)
		}

		if p.MinDoses > 0 && s.Doses < p.MinDoses {
			switch {
			case p.MinDosesMinAge <= 0:
				f.add(Deny, ReasonVaccination)
			case s.Age < 0:
				f.add(Review, ReasonVaccination)
			case s.Age >= p.MinDosesMinAge:
				f.add(Deny, ReasonVaccination)
			}
		}
	}

	if visitor {
		v := &p.Visitors
		ok := v.Allowed
		if ok && len(v.Hours) > 0 {
			ok = false
			sec := localSecond(now)
			for _, w := range v.Hours {
				if w.contains(sec) {
					ok = true
					break
				}
			}
		}
		if ok && v.NeedHost && !s.HostConfirmed {
			ok = false
		}
		if ok && v.NeedTest {
			win := v.TestWindow
			if win <= 0 {
				win = p.TestWindow
			}
			if win <= 0 {
				win = DefaultVisitorTestWindow
			}
			ok = hasValidTest(p, s.Tests, now, win)
		}
		if !ok {
			f.add(Deny, ReasonVisitorRule)
		}
	}

	return f.decide(p, in.StaffOverride)
}

func (f *failures) decide(p *Policy, override bool) Decision {
	d := Decision{Outcome: Allow, Reason: ReasonOK, PolicyID: p.ID, PolicyVersion: p.Version}
	if f.n == 0 {
		return d
	}
	final := Review
	for i := 0; i < f.n; i++ {
		if f.outcomes[i] == Deny {
			final = Deny
			break
		}
	}
	for i := 0; i < f.n; i++ {
		if f.outcomes[i] == final {
			d.Reason = f.reasons[i]
			break
		}
	}
	d.Outcome = final
	d.Reasons = make([]string, f.n)
	copy(d.Reasons, f.reasons[:f.n])
	if override {
		d.Outcome = Allow
		d.Reason = ReasonOverride
	}
	return d
}

// action maps an UnknownAction to an outcome: empty → def, unrecognised →
// review (a person decides; Validate rejects such policies anyway).
func action(a UnknownAction, def Outcome) Outcome {
	switch a {
	case "":
		return def
	case UnknownAllow:
		return Allow
	case UnknownDeny:
		return Deny
	}
	return Review
}

func monitoringOutcome(p *Policy, ms []Monitoring, now time.Time) Outcome {
	today := localDate(now)
	out := Allow
	for i := range ms {
		m := &ms[i]
		if !monitoringActive(m, today) {
			continue
		}
		if containsFold(p.DenyMonitoring, m.Kind) {
			return Deny
		}
		if containsFold(p.ReviewMonitoring, m.Kind) {
			out = Review
		}
	}
	return out
}

func monitoringActive(m *Monitoring, today int) bool {
	if d, ok := parseDate(m.StartDate); ok && today < d {
		return false
	}
	if d, ok := parseDate(m.EndDate); ok && today > d {
		return false
	}
	if d, ok := parseDate(m.LiftedOn); ok && d <= today {
		return false
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func kindAccepted(p *Policy, kind string) bool {
	return len(p.TestKinds) == 0 || containsFold(p.TestKinds, kind)
}

// sampleTime is when a test was taken; the result time stands in when the
// sampling time is missing (ordering only, never for windows).
func sampleTime(t *Test) time.Time {
	if t.SampledAt.IsZero() {
		return t.ResultAt
	}
	return t.SampledAt
}

// latestPositive reports whether the latest test of an accepted kind with a
// definitive result (positive or negative) is positive. A tie goes to
// positive.
func latestPositive(p *Policy, tests []Test, now time.Time) bool {
	limit := now.Add(ClockSkew)
	var latest time.Time
	found, positive := false, false
	for i := range tests {
		t := &tests[i]
		pos := strings.EqualFold(t.Result, ResultPositive)
		if !pos && !strings.EqualFold(t.Result, ResultNegative) {
			continue
		}
		if !kindAccepted(p, t.Kind) {
			continue
		}
		at := sampleTime(t)
		if at.After(limit) {
			continue
		}
		if !found || at.After(latest) || (at.Equal(latest) && pos) {
			latest, positive, found = at, pos, true
		}
	}
	return positive
}

// hasValidTest reports whether some test of an accepted kind, sampled within
// win before now (on the policy's clock), is negative, or pending when the
// policy allows it.
func hasValidTest(p *Policy, tests []Test, now time.Time, win Duration) bool {
	limit := now.Add(ClockSkew)
	var days, today int64
	if p.TestCalendarDays {
		days = int64((time.Duration(win) + 24*time.Hour - 1) / (24 * time.Hour))
		today = localDay(now)
	}
	for i := range tests {
		t := &tests[i]
		switch {
		case strings.EqualFold(t.Result, ResultNegative):
		case (t.Result == "" || strings.EqualFold(t.Result, ResultPending)) && p.TestPendingAllowed:
		default:
			continue
		}
		if t.SampledAt.IsZero() || t.SampledAt.After(limit) || !kindAccepted(p, t.Kind) {
			continue
		}
		if p.TestCalendarDays {
			if today-localDay(t.SampledAt) <= days-1 {
				return true
			}
		} else if now.Sub(t.SampledAt) <= time.Duration(win) {
			return true
		}
	}
	return false
}

func newestCode(codes []CodeSnapshot, now time.Time) (string, time.Time, bool) {
	limit := now.Add(ClockSkew)
	best := -1
	for i := range codes {
		if codes[i].At.After(limit) {
			continue
		}
		if best < 0 || codes[i].At.After(codes[best].At) {
			best = i
		}
	}
	if best < 0 {
		return "", time.Time{}, false
	}
	return codes[best].Colour, codes[best].At, true
}

func colourAccepted(accepted []string, colour string) bool {
	if strings.EqualFold(colour, "gray") {
		colour = ColourGrey
	}
	return containsFold(accepted, colour)
}
