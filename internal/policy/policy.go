// Package policy is a pure, disease-agnostic entry-policy engine for gates and
// staffed checkpoints (standards.md §4.5, "Build a versioned policy engine").
//
// The engine does no I/O and keeps no state. The caller stores policies (as
// JSON), picks the one in force for a gate (Applies, Select), gathers the
// facts about the person at the gate (Subject) and calls Evaluate. Every
// Decision is allow, deny or manual review, carries stable reason codes and
// names the policy ID and version that produced it, so it can be logged and
// explained later.
//
// Health rules are parameters, not constants: which code colours pass, how
// long a test is valid and on which clock, how many vaccine doses from which
// age, which monitoring kinds deny. Missing facts are handled explicitly by
// an UnknownAction (fail open, manual review, or fail closed). Local
// calendar and clock times are Asia/Shanghai (UTC+8, no daylight saving),
// computed with a fixed zone so no tzdata is needed.
package policy

import (
	"math"
	"strconv"
	"time"
)

// Outcome is what the gate should do.
type Outcome string

// Outcomes, from least to most severe.
const (
	Allow  Outcome = "allow"
	Review Outcome = "review" // manual review by checkpoint staff
	Deny   Outcome = "deny"
)

// Reason codes (stable strings; the UI translates "reason.<code>").
const (
	ReasonOK                 = "ok"                  // everything passed
	ReasonUnknownPerson      = "unknown_person"      // no credential matched anyone (stranger)
	ReasonNotAuthorised      = "not_authorised"      // known person without the right to pass this gate now
	ReasonFever              = "fever"               // temperature at or above the limit
	ReasonCodeColour         = "code_colour"         // health-code colour not accepted
	ReasonCodeUnknown        = "code_unknown"        // no code snapshot (or too old) and the rule says so
	ReasonTestMissing        = "test_missing"        // no valid test within the window
	ReasonTestPositive       = "test_positive"       // latest test positive
	ReasonVaccination        = "vaccination"         // fewer doses than required
	ReasonMonitoring         = "monitoring"          // under a monitoring kind that denies or needs review
	ReasonCurfew             = "curfew"              // inside a curfew window
	ReasonVisitorRule        = "visitor_rule"        // visitors not admitted now / need a host / need a test
	ReasonTemperatureUnknown = "temperature_unknown" // no temperature measured and the rule says so
	ReasonOverride           = "override"            // checkpoint staff let the person through after review
)

// UnknownAction is what to do when a fact is missing: "allow", "review" or
// "deny". The empty value means the field's documented default.
type UnknownAction string

// UnknownAction values.
const (
	UnknownAllow  UnknownAction = "allow"
	UnknownReview UnknownAction = "review"
	UnknownDeny   UnknownAction = "deny"
)

// Subject kinds.
const (
	KindResident = "resident"
	KindTenant   = "tenant"
	KindStaff    = "staff" // property staff, workers, couriers on a list
	KindVisitor  = "visitor"
	KindStranger = "stranger"
)

// Code colours a policy may accept.
const (
	ColourGreen  = "green"
	ColourYellow = "yellow"
	ColourRed    = "red"
	ColourGrey   = "grey"
)

// Monitoring kinds used by the presets. Any other kind string may be used in
// a policy; the engine compares kinds case-insensitively.
const (
	MonitorHomeQuarantine    = "home_quarantine"
	MonitorCentralQuarantine = "central_quarantine"
	MonitorHealthMonitoring  = "health_monitoring"
)

// Test kinds used by the presets.
const (
	TestNucleic = "nucleic"
	TestAntigen = "antigen"
)

// Test results.
const (
	ResultPending  = "pending"
	ResultNegative = "negative"
	ResultPositive = "positive"
	ResultInvalid  = "invalid"
)

// DefaultTempLimitC is the usual fever threshold at sentinel devices.
const DefaultTempLimitC = 37.3

// DefaultVisitorTestWindow is used when visitors need a test and neither the
// visitor rule nor the policy gives a window (2023 vulnerable-place rule).
const DefaultVisitorTestWindow = Duration(48 * time.Hour)

// ClockSkew is how far in the future a test or code snapshot may be dated and
// still count (device clocks drift). Anything dated later is ignored.
const ClockSkew = 15 * time.Minute

// Policy is one version of the rules for a scope. Which gates it applies to
// is the caller's business; the engine only checks the time range (Applies).
type Policy struct {
	ID      string `json:"id"`      // set by the caller's store
	Version int    `json:"version"` // increases on every edit
	Name    string `json:"name"`

	ValidFrom time.Time `json:"valid_from"` // zero = since ever
	ValidTo   time.Time `json:"valid_to"`   // zero = open-ended; exclusive

	// TempLimitC: a temperature >= limit denies with "fever"; 0 means do not
	// check temperature. Default() and Outbreak() use 37.3.
	TempLimitC float64 `json:"temp_limit_c"`
	// TempUnknown applies when TempLimitC > 0 and the device sent no
	// temperature; default "allow".
	TempUnknown UnknownAction `json:"temp_unknown"`

	// AcceptedColours, e.g. ["green"]; empty = do not check codes.
	AcceptedColours []string `json:"accepted_colours"`
	// CodeMaxAge: a newest snapshot older than this counts as unknown; 0 = any age.
	CodeMaxAge Duration `json:"code_max_age"`
	// CodeUnknown applies when there is no usable snapshot; default "review".
	CodeUnknown UnknownAction `json:"code_unknown"`

	// TestWindow, e.g. 48h, counted from SAMPLING time; 0 = tests not required.
	TestWindow Duration `json:"test_window"`
	// TestKinds the policy accepts, e.g. ["nucleic"]; empty = any kind. Tests
	// of other kinds are ignored entirely (also for test_positive).
	TestKinds []string `json:"test_kinds"`
	// TestCalendarDays counts the window in calendar days from the sampling
	// date (Beijing 2022 practice) instead of hours: days = TestWindow rounded
	// up to whole days; a test sampled on day D is valid through the end of
	// day D+days-1 in Asia/Shanghai.
	TestCalendarDays bool `json:"test_calendar_days"`
	// TestPendingAllowed: a sampled-but-pending test inside the window counts
	// as "has a test".
	TestPendingAllowed bool `json:"test_pending_allowed"`
	// TestUnknown is what to do with no valid test; default "deny".
	TestUnknown UnknownAction `json:"test_unknown"`

	MinDoses       int `json:"min_doses"`         // 0 = no vaccination requirement
	MinDosesMinAge int `json:"min_doses_min_age"` // requirement applies from this age; 0 = all ages

	// DenyMonitoring: monitoring kinds that deny entry while active.
	DenyMonitoring []string `json:"deny_monitoring"`
	// ReviewMonitoring: monitoring kinds that need manual review while active.
	ReviewMonitoring []string `json:"review_monitoring"`

	// Curfews: local (Asia/Shanghai) times of day when nobody but staff
	// enters, e.g. 23:00–05:00 (wraps midnight).
	Curfews []Window `json:"curfews"`

	Visitors VisitorRule `json:"visitors"`

	// Strangers: outcome for an unknown credential, "deny" (default) or
	// "review" (booth staff decide).
	Strangers Outcome `json:"strangers"`

	// ApplyToStaff: if false, people on staff/property lists skip the health
	// rules (they are still temperature-checked). Staff are always exempt
	// from curfews.
	ApplyToStaff bool `json:"apply_to_staff"`
}

// Window is a local (Asia/Shanghai) time-of-day range "HH:MM"–"HH:MM",
// From inclusive, To exclusive. From later than To wraps midnight
// ("23:00"–"05:00"); To may be "24:00".
type Window struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// VisitorRule holds the extra rules for Subject.Kind == "visitor".
type VisitorRule struct {
	Allowed bool `json:"allowed"` // visitors admitted at all
	// NeedTest: visitors need a valid test even if residents do not (2023
	// vulnerable-place rule: 48h). The test must satisfy the policy's
	// TestKinds, TestCalendarDays and TestPendingAllowed.
	NeedTest bool `json:"need_test"`
	// TestWindow for visitors; 0 = the policy's TestWindow, or 48h if that is 0 too.
	TestWindow Duration `json:"test_window"`
	Hours      []Window `json:"hours"` // visiting hours; empty = any time
	// NeedHost: a resident host must have registered the visitor
	// (Subject.HostConfirmed).
	NeedHost bool `json:"need_host"`
}

// cst is Asia/Shanghai: UTC+8 all year since 1991.
var cst = time.FixedZone("CST", 8*3600)

// CST returns the fixed UTC+8 zone the engine uses for local dates and times.
func CST() *time.Location { return cst }

// Default is a sensible everyday policy for 2026 with no epidemic:
// temperature checked at 37.3 °C (unknown → allow), codes and tests not
// checked, home and central quarantine deny, health monitoring → review,
// visitors allowed, strangers denied, staff only temperature-checked.
func Default() Policy {
	return Policy{
		ID:               "default",
		Version:          1,
		Name:             "日常 Everyday",
		TempLimitC:       DefaultTempLimitC,
		TempUnknown:      UnknownAllow,
		CodeUnknown:      UnknownReview,
		TestUnknown:      UnknownDeny,
		DenyMonitoring:   []string{MonitorHomeQuarantine, MonitorCentralQuarantine},
		ReviewMonitoring: []string{MonitorHealthMonitoring},
		Visitors:         VisitorRule{Allowed: true},
		Strangers:        Deny,
	}
}

// Outbreak is a preset for an outbreak (2022 style): temperature 37.3 °C
// (not measured → review), green code only (snapshot older than 24h or none →
// review), negative nucleic test sampled within 72h (none → deny), at least
// one vaccine dose from age 3, quarantine denies and health monitoring needs
// review, visitors need a host and a 48h test, strangers denied, staff follow
// the same health rules.
func Outbreak() Policy {
	return Policy{
		ID:               "outbreak",
		Version:          1,
		Name:             "疫情防控 Outbreak",
		TempLimitC:       DefaultTempLimitC,
		TempUnknown:      UnknownReview,
		AcceptedColours:  []string{ColourGreen},
		CodeMaxAge:       Duration(24 * time.Hour),
		CodeUnknown:      UnknownReview,
		TestWindow:       Duration(72 * time.Hour),
		TestKinds:        []string{TestNucleic},
		TestUnknown:      UnknownDeny,
		MinDoses:         1,
		MinDosesMinAge:   3,
		DenyMonitoring:   []string{MonitorHomeQuarantine, MonitorCentralQuarantine},
		ReviewMonitoring: []string{MonitorHealthMonitoring},
		Visitors: VisitorRule{
			Allowed:    true,
			NeedTest:   true,
			TestWindow: Duration(48 * time.Hour),
			NeedHost:   true,
		},
		Strangers:    Deny,
		ApplyToStaff: true,
	}
}

// Applies reports whether the policy is in force at t
// (ValidFrom <= t < ValidTo; zero bounds are open).
func (p *Policy) Applies(t time.Time) bool {
	if !p.ValidFrom.IsZero() && t.Before(p.ValidFrom) {
		return false
	}
	if !p.ValidTo.IsZero() && !t.Before(p.ValidTo) {
		return false
	}
	return true
}

// Select returns the policy in force at t with the highest Version (ties:
// the later ValidFrom, then the first in the slice), or nil if none applies.
// ps are the stored versions for one scope; the result points into ps.
func Select(ps []Policy, t time.Time) *Policy {
	var best *Policy
	for i := range ps {
		p := &ps[i]
		if !p.Applies(t) {
			continue
		}
		if best == nil || p.Version > best.Version ||
			(p.Version == best.Version && p.ValidFrom.After(best.ValidFrom)) {
			best = p
		}
	}
	return best
}

// ValidationError names the policy field at fault (by its JSON name, with
// indexes, e.g. "curfews[0].from") and why.
type ValidationError struct {
	Field, Reason string
}

func (e *ValidationError) Error() string {
	return "policy: " + e.Field + ": " + e.Reason
}

func invalid(field, reason string) error {
	return &ValidationError{Field: field, Reason: reason}
}

// Validate checks the policy and returns the first problem as a
// *ValidationError, or nil.
func (p *Policy) Validate() error {
	if p.Version < 0 {
		return invalid("version", "must not be negative")
	}
	if !p.ValidTo.IsZero() && !p.ValidTo.After(p.ValidFrom) {
		return invalid("valid_to", "must be after valid_from")
	}
	if math.IsNaN(p.TempLimitC) || math.IsInf(p.TempLimitC, 0) || p.TempLimitC < 0 ||
		(p.TempLimitC > 0 && (p.TempLimitC < 35 || p.TempLimitC > 42)) {
		return invalid("temp_limit_c", "must be 0 (no check) or between 35 and 42")
	}
	if err := validAction("temp_unknown", p.TempUnknown); err != nil {
		return err
	}
	for i, c := range p.AcceptedColours {
		switch c {
		case ColourGreen, ColourYellow, ColourRed, ColourGrey:
		default:
			return invalid(indexed("accepted_colours", i), "unknown colour "+strconv.Quote(c)+" (allowed: green yellow red grey)")
		}
	}
	if p.CodeMaxAge < 0 {
		return invalid("code_max_age", "must not be negative")
	}
	if err := validAction("code_unknown", p.CodeUnknown); err != nil {
		return err
	}
	if p.TestWindow < 0 {
		return invalid("test_window", "must not be negative")
	}
	for i, k := range p.TestKinds {
		if k == "" {
			return invalid(indexed("test_kinds", i), "must not be empty")
		}
	}
	if err := validAction("test_unknown", p.TestUnknown); err != nil {
		return err
	}
	if p.MinDoses < 0 || p.MinDoses > 10 {
		return invalid("min_doses", "must be between 0 and 10")
	}
	if p.MinDosesMinAge < 0 || p.MinDosesMinAge > 150 {
		return invalid("min_doses_min_age", "must be between 0 and 150")
	}
	for i, k := range p.DenyMonitoring {
		if k == "" {
			return invalid(indexed("deny_monitoring", i), "must not be empty")
		}
		if containsFold(p.ReviewMonitoring, k) {
			return invalid(indexed("deny_monitoring", i), strconv.Quote(k)+" is also in review_monitoring")
		}
	}
	for i, k := range p.ReviewMonitoring {
		if k == "" {
			return invalid(indexed("review_monitoring", i), "must not be empty")
		}
	}
	if err := validWindows("curfews", p.Curfews); err != nil {
		return err
	}
	if p.Visitors.TestWindow < 0 {
		return invalid("visitors.test_window", "must not be negative")
	}
	if err := validWindows("visitors.hours", p.Visitors.Hours); err != nil {
		return err
	}
	switch p.Strangers {
	case "", Deny, Review:
	default:
		return invalid("strangers", "must be \"deny\" or \"review\"")
	}
	return nil
}

func validAction(field string, a UnknownAction) error {
	switch a {
	case "", UnknownAllow, UnknownReview, UnknownDeny:
		return nil
	}
	return invalid(field, "must be \"allow\", \"review\" or \"deny\"")
}

func validWindows(field string, ws []Window) error {
	for i, w := range ws {
		f := indexed(field, i)
		from, ok := parseClock(w.From)
		if !ok || from >= 24*3600 {
			return invalid(f+".from", "must be a time HH:MM between 00:00 and 23:59")
		}
		to, ok := parseClock(w.To)
		if !ok {
			return invalid(f+".to", "must be a time HH:MM between 00:00 and 24:00")
		}
		if from == to {
			return invalid(f+".to", "must differ from from (use 00:00–24:00 for the whole day)")
		}
	}
	return nil
}

func indexed(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}
