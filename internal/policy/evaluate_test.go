package policy

import (
	"slices"
	"testing"
	"time"
)

// Beijing time without tzdata.
var shanghai = time.FixedZone("CST", 8*3600)

func at(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, shanghai)
}

// now is the default moment of every case: Saturday 2026-11-28 10:00 in Shanghai.
var now = at(2026, 11, 28, 10, 0)

// healthy is a resident who passes the Outbreak preset.
func healthy() Input {
	return Input{
		Subject: Subject{
			Kind:       KindResident,
			Authorised: true,
			Age:        30,
			Codes:      []CodeSnapshot{{Colour: "green", At: now.Add(-time.Hour)}},
			Tests:      []Test{{Kind: "nucleic", Result: "negative", SampledAt: now.Add(-24 * time.Hour), ResultAt: now.Add(-12 * time.Hour)}},
			Doses:      3,
		},
		TemperatureC: 36.5,
		Now:          now,
	}
}

func def() *Policy    { p := Default(); return &p }
func outbrk() *Policy { p := Outbreak(); return &p }

func with(p *Policy, f func(*Policy)) *Policy { f(p); return p }

func in(f func(*Input)) Input { i := healthy(); f(&i); return i }

func nucleic(result string, sampled time.Time) Test {
	return Test{Kind: "nucleic", Result: result, SampledAt: sampled, ResultAt: sampled.Add(6 * time.Hour)}
}

type evalCase struct {
	name    string
	policy  *Policy
	input   Input
	outcome Outcome
	reason  string
	reasons []string // nil = none
}

func runCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Evaluate(c.policy, c.input)
			if d.Outcome != c.outcome || d.Reason != c.reason || !slices.Equal(d.Reasons, c.reasons) {
				t.Errorf("got %s/%s %v, want %s/%s %v", d.Outcome, d.Reason, d.Reasons, c.outcome, c.reason, c.reasons)
			}
			if c.policy != nil && (d.PolicyID != c.policy.ID || d.PolicyVersion != c.policy.Version) {
				t.Errorf("policy %q v%d, want %q v%d", d.PolicyID, d.PolicyVersion, c.policy.ID, c.policy.Version)
			}
		})
	}
}

func r(s ...string) []string { return s }

func TestTemperature(t *testing.T) {
	runCases(t, []evalCase{
		{"healthy resident, default policy", def(), healthy(), Allow, ReasonOK, nil},
		{"healthy resident, outbreak policy", outbrk(), healthy(), Allow, ReasonOK, nil},
		{"exactly at the limit 37.3 denies", def(), in(func(i *Input) { i.TemperatureC = 37.3 }), Deny, ReasonFever, r(ReasonFever)},
		{"just below the limit 37.2 allows", def(), in(func(i *Input) { i.TemperatureC = 37.2 }), Allow, ReasonOK, nil},
		{"float32 37.3 from a device denies", def(), in(func(i *Input) { i.TemperatureC = float64(float32(37.3)) }), Deny, ReasonFever, r(ReasonFever)},
		{"39.0 denies", def(), in(func(i *Input) { i.TemperatureC = 39 }), Deny, ReasonFever, r(ReasonFever)},
		{"limit 0 does not check", with(def(), func(p *Policy) { p.TempLimitC = 0 }), in(func(i *Input) { i.TemperatureC = 39 }), Allow, ReasonOK, nil},
		{"limit 0 ignores a missing temperature", with(def(), func(p *Policy) { p.TempLimitC = 0; p.TempUnknown = UnknownDeny }), in(func(i *Input) { i.TemperatureC = 0 }), Allow, ReasonOK, nil},
		{"unknown temperature, default action allows", def(), in(func(i *Input) { i.TemperatureC = 0 }), Allow, ReasonOK, nil},
		{"unknown temperature, empty action means allow", with(def(), func(p *Policy) { p.TempUnknown = "" }), in(func(i *Input) { i.TemperatureC = 0 }), Allow, ReasonOK, nil},
		{"unknown temperature, allow", with(def(), func(p *Policy) { p.TempUnknown = UnknownAllow }), in(func(i *Input) { i.TemperatureC = 0 }), Allow, ReasonOK, nil},
		{"unknown temperature, review", with(def(), func(p *Policy) { p.TempUnknown = UnknownReview }), in(func(i *Input) { i.TemperatureC = 0 }), Review, ReasonTemperatureUnknown, r(ReasonTemperatureUnknown)},
		{"unknown temperature, deny", with(def(), func(p *Policy) { p.TempUnknown = UnknownDeny }), in(func(i *Input) { i.TemperatureC = 0 }), Deny, ReasonTemperatureUnknown, r(ReasonTemperatureUnknown)},
		{"custom limit 38.0: 37.9 allows", with(def(), func(p *Policy) { p.TempLimitC = 38 }), in(func(i *Input) { i.TemperatureC = 37.9 }), Allow, ReasonOK, nil},
	})
}

func TestCodes(t *testing.T) {
	colour := func(c string) Input {
		return in(func(i *Input) { i.Subject.Codes = []CodeSnapshot{{Colour: c, At: now.Add(-time.Hour)}} })
	}
	runCases(t, []evalCase{
		{"red with green-only", outbrk(), colour("red"), Deny, ReasonCodeColour, r(ReasonCodeColour)},
		{"yellow with green-only", outbrk(), colour("yellow"), Deny, ReasonCodeColour, r(ReasonCodeColour)},
		{"grey with green-only", outbrk(), colour("grey"), Deny, ReasonCodeColour, r(ReasonCodeColour)},
		{"Green in capitals passes", outbrk(), colour("Green"), Allow, ReasonOK, nil},
		{"yellow accepted when listed", with(outbrk(), func(p *Policy) { p.AcceptedColours = []string{"green", "yellow"} }), colour("yellow"), Allow, ReasonOK, nil},
		{"gray spelling matches grey", with(outbrk(), func(p *Policy) { p.AcceptedColours = []string{"grey"} }), colour("gray"), Allow, ReasonOK, nil},
		{"codes not checked by default", def(), colour("red"), Allow, ReasonOK, nil},
		{"snapshot 25h old with 24h max age → review", outbrk(),
			in(func(i *Input) { i.Subject.Codes = []CodeSnapshot{{Colour: "green", At: now.Add(-25 * time.Hour)}} }),
			Review, ReasonCodeUnknown, r(ReasonCodeUnknown)},
		{"snapshot exactly 24h old is still valid", outbrk(),
			in(func(i *Input) { i.Subject.Codes = []CodeSnapshot{{Colour: "green", At: now.Add(-24 * time.Hour)}} }),
			Allow, ReasonOK, nil},
		{"any age when max age is 0", with(outbrk(), func(p *Policy) { p.CodeMaxAge = 0 }),
			in(func(i *Input) { i.Subject.Codes = []CodeSnapshot{{Colour: "green", At: now.Add(-30 * 24 * time.Hour)}} }),
			Allow, ReasonOK, nil},
		{"no snapshot → review", outbrk(), in(func(i *Input) { i.Subject.Codes = nil }), Review, ReasonCodeUnknown, r(ReasonCodeUnknown)},
		{"no snapshot, rule deny", with(outbrk(), func(p *Policy) { p.CodeUnknown = UnknownDeny }), in(func(i *Input) { i.Subject.Codes = nil }), Deny, ReasonCodeUnknown, r(ReasonCodeUnknown)},
		{"no snapshot, rule allow", with(outbrk(), func(p *Policy) { p.CodeUnknown = UnknownAllow }), in(func(i *Input) { i.Subject.Codes = nil }), Allow, ReasonOK, nil},
		{"empty colour counts as unknown", outbrk(), colour(""), Review, ReasonCodeUnknown, r(ReasonCodeUnknown)},
		{"newest is picked: older red listed first, newer green", outbrk(),
			in(func(i *Input) {
				i.Subject.Codes = []CodeSnapshot{{Colour: "red", At: now.Add(-5 * time.Hour)}, {Colour: "green", At: now.Add(-time.Hour)}}
			}), Allow, ReasonOK, nil},
		{"newest is picked: newer red listed last", outbrk(),
			in(func(i *Input) {
				i.Subject.Codes = []CodeSnapshot{{Colour: "green", At: now.Add(-5 * time.Hour)}, {Colour: "red", At: now.Add(-10 * time.Minute)}}
			}), Deny, ReasonCodeColour, r(ReasonCodeColour)},
		{"snapshot dated an hour in the future is ignored", outbrk(),
			in(func(i *Input) { i.Subject.Codes = []CodeSnapshot{{Colour: "green", At: now.Add(time.Hour)}} }),
			Review, ReasonCodeUnknown, r(ReasonCodeUnknown)},
	})
}

func TestTestWindows(t *testing.T) {
	p48 := with(outbrk(), func(p *Policy) { p.TestWindow = Duration(48 * time.Hour) })
	sampled := func(ago time.Duration, result string) Input {
		return in(func(i *Input) { i.Subject.Tests = []Test{nucleic(result, now.Add(-ago))} })
	}
	// Calendar days: sampled Friday 2026-11-27 23:50 Beijing time.
	late := at(2026, 11, 27, 23, 50)
	cal := func(window time.Duration) *Policy {
		return with(outbrk(), func(p *Policy) { p.TestWindow = Duration(window); p.TestCalendarDays = true })
	}
	calAt := func(t time.Time) Input {
		return in(func(i *Input) {
			i.Now = t
			i.Subject.Codes = []CodeSnapshot{{Colour: "green", At: t.Add(-time.Minute)}}
			i.Subject.Tests = []Test{nucleic("negative", late)}
		})
	}
	missing := r(ReasonTestMissing)
	runCases(t, []evalCase{
		{"48h: sampled 47h59m ago is valid", p48, sampled(47*time.Hour+59*time.Minute, "negative"), Allow, ReasonOK, nil},
		{"48h: sampled exactly 48h ago is valid", p48, sampled(48*time.Hour, "negative"), Allow, ReasonOK, nil},
		{"48h: sampled 48h01m ago is invalid", p48, sampled(48*time.Hour+time.Minute, "negative"), Deny, ReasonTestMissing, missing},
		{"48h: counted from sampling, not result", p48,
			in(func(i *Input) {
				i.Subject.Tests = []Test{{Kind: "nucleic", Result: "negative", SampledAt: now.Add(-50 * time.Hour), ResultAt: now.Add(-30 * time.Hour)}}
			}), Deny, ReasonTestMissing, missing},
		{"72h outbreak: 71h ago valid", outbrk(), sampled(71*time.Hour, "negative"), Allow, ReasonOK, nil},
		{"72h outbreak: 73h ago invalid", outbrk(), sampled(73*time.Hour, "negative"), Deny, ReasonTestMissing, missing},
		{"no tests at all", outbrk(), in(func(i *Input) { i.Subject.Tests = nil }), Deny, ReasonTestMissing, missing},
		{"no test, rule review", with(outbrk(), func(p *Policy) { p.TestUnknown = UnknownReview }), in(func(i *Input) { i.Subject.Tests = nil }), Review, ReasonTestMissing, missing},
		{"no test, rule allow", with(outbrk(), func(p *Policy) { p.TestUnknown = UnknownAllow }), in(func(i *Input) { i.Subject.Tests = nil }), Allow, ReasonOK, nil},
		{"tests not required by default", def(), in(func(i *Input) { i.Subject.Tests = nil }), Allow, ReasonOK, nil},
		{"invalid result does not count", outbrk(), sampled(time.Hour, "invalid"), Deny, ReasonTestMissing, missing},
		{"test without sampling time does not count", outbrk(),
			in(func(i *Input) {
				i.Subject.Tests = []Test{{Kind: "nucleic", Result: "negative", ResultAt: now.Add(-time.Hour)}}
			}),
			Deny, ReasonTestMissing, missing},
		{"sampled 5 minutes in the future (clock skew) counts", outbrk(), sampled(-5*time.Minute, "negative"), Allow, ReasonOK, nil},
		{"sampled 2h in the future is ignored", outbrk(), sampled(-2*time.Hour, "negative"), Deny, ReasonTestMissing, missing},

		{"calendar 1 day: same evening 23:59 valid", cal(24 * time.Hour), calAt(at(2026, 11, 27, 23, 59)), Allow, ReasonOK, nil},
		{"calendar 1 day: midnight 11-28 00:00 invalid", cal(24 * time.Hour), calAt(at(2026, 11, 28, 0, 0)), Deny, ReasonTestMissing, missing},
		{"calendar 1 day: midnight given in UTC is still invalid", cal(24 * time.Hour), calAt(time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)), Deny, ReasonTestMissing, missing},
		{"calendar 1 day: 15:59 UTC is 23:59 Beijing, valid", cal(24 * time.Hour), calAt(time.Date(2026, 11, 27, 15, 59, 0, 0, time.UTC)), Allow, ReasonOK, nil},
		{"calendar 2 days: 11-28 23:59 valid", cal(48 * time.Hour), calAt(at(2026, 11, 28, 23, 59)), Allow, ReasonOK, nil},
		{"calendar 2 days: 11-29 00:00 invalid", cal(48 * time.Hour), calAt(at(2026, 11, 29, 0, 0)), Deny, ReasonTestMissing, missing},
		{"calendar 25h rounds up to 2 days: 11-28 23:59 valid", cal(25 * time.Hour), calAt(at(2026, 11, 28, 23, 59)), Allow, ReasonOK, nil},
		{"hours 24h (not calendar): 11-28 23:49 valid", with(outbrk(), func(p *Policy) { p.TestWindow = Duration(24 * time.Hour) }), calAt(at(2026, 11, 28, 23, 49)), Allow, ReasonOK, nil},

		{"pending inside the window, allowed", with(outbrk(), func(p *Policy) { p.TestPendingAllowed = true }), sampled(2*time.Hour, "pending"), Allow, ReasonOK, nil},
		{"pending inside the window, not allowed", outbrk(), sampled(2*time.Hour, "pending"), Deny, ReasonTestMissing, missing},
		{"pending outside the window, allowed rule", with(outbrk(), func(p *Policy) { p.TestPendingAllowed = true }), sampled(80*time.Hour, "pending"), Deny, ReasonTestMissing, missing},
		{"empty result counts as pending", with(outbrk(), func(p *Policy) { p.TestPendingAllowed = true }), sampled(2*time.Hour, ""), Allow, ReasonOK, nil},

		{"positive latest with an older negative → deny", outbrk(),
			in(func(i *Input) {
				i.Subject.Tests = []Test{nucleic("negative", now.Add(-30*time.Hour)), nucleic("positive", now.Add(-6*time.Hour))}
			}), Deny, ReasonTestPositive, r(ReasonTestPositive)},
		{"negative newer than a positive → allow", outbrk(),
			in(func(i *Input) {
				i.Subject.Tests = []Test{nucleic("negative", now.Add(-6*time.Hour)), nucleic("positive", now.Add(-30*time.Hour))}
			}), Allow, ReasonOK, nil},
		{"same sampling time, negative and positive → positive wins", outbrk(),
			in(func(i *Input) {
				i.Subject.Tests = []Test{nucleic("negative", now.Add(-6*time.Hour)), nucleic("positive", now.Add(-6*time.Hour))}
			}), Deny, ReasonTestPositive, r(ReasonTestPositive)},
		{"pending after a positive does not hide it", with(outbrk(), func(p *Policy) { p.TestPendingAllowed = true }),
			in(func(i *Input) {
				i.Subject.Tests = []Test{nucleic("pending", now.Add(-time.Hour)), nucleic("positive", now.Add(-30*time.Hour))}
			}), Deny, ReasonTestPositive, r(ReasonTestPositive)},
		{"positive only: positive and missing", outbrk(), sampled(6*time.Hour, "positive"), Deny, ReasonTestPositive, r(ReasonTestPositive, ReasonTestMissing)},
		{"positive of a kind the policy ignores", outbrk(),
			in(func(i *Input) {
				i.Subject.Tests = append(i.Subject.Tests, Test{Kind: "antigen", Result: "positive", SampledAt: now.Add(-time.Hour)})
			}), Allow, ReasonOK, nil},
		{"only an antigen negative when nucleic is required", outbrk(),
			in(func(i *Input) {
				i.Subject.Tests = []Test{{Kind: "antigen", Result: "negative", SampledAt: now.Add(-time.Hour)}}
			}),
			Deny, ReasonTestMissing, missing},
		{"any kind when TestKinds empty", with(outbrk(), func(p *Policy) { p.TestKinds = nil }),
			in(func(i *Input) {
				i.Subject.Tests = []Test{{Kind: "antigen", Result: "negative", SampledAt: now.Add(-time.Hour)}}
			}),
			Allow, ReasonOK, nil},
		{"positive ignored when tests are not required", def(), sampled(time.Hour, "positive"), Allow, ReasonOK, nil},
	})
}

func TestVaccinationAndMonitoring(t *testing.T) {
	doses := func(age, n int) Input {
		return in(func(i *Input) { i.Subject.Age = age; i.Subject.Doses = n })
	}
	mon := func(ms ...Monitoring) Input { return in(func(i *Input) { i.Subject.Monitoring = ms }) }
	// Today is 2026-11-28.
	runCases(t, []evalCase{
		{"age 2 exempt from 1 dose from age 3", outbrk(), doses(2, 0), Allow, ReasonOK, nil},
		{"age 3 without a dose", outbrk(), doses(3, 0), Deny, ReasonVaccination, r(ReasonVaccination)},
		{"age 3 with one dose", outbrk(), doses(3, 1), Allow, ReasonOK, nil},
		{"unknown age without a dose → review", outbrk(), doses(-1, 0), Review, ReasonVaccination, r(ReasonVaccination)},
		{"no age threshold: infant needs the doses too", with(outbrk(), func(p *Policy) { p.MinDosesMinAge = 0 }), doses(0, 0), Deny, ReasonVaccination, r(ReasonVaccination)},
		{"3 doses required, 2 given", with(outbrk(), func(p *Policy) { p.MinDoses = 3 }), doses(40, 2), Deny, ReasonVaccination, r(ReasonVaccination)},
		{"no requirement by default", def(), doses(40, 0), Allow, ReasonOK, nil},

		{"home quarantine active → deny", def(), mon(Monitoring{Kind: "home_quarantine", StartDate: "2026-11-25", EndDate: "2026-12-01"}), Deny, ReasonMonitoring, r(ReasonMonitoring)},
		{"central quarantine open-ended → deny", def(), mon(Monitoring{Kind: "central_quarantine", StartDate: "2026-11-20"}), Deny, ReasonMonitoring, r(ReasonMonitoring)},
		{"quarantine ended yesterday → allow", def(), mon(Monitoring{Kind: "home_quarantine", StartDate: "2026-11-21", EndDate: "2026-11-27"}), Allow, ReasonOK, nil},
		{"quarantine ends today → still deny", def(), mon(Monitoring{Kind: "home_quarantine", StartDate: "2026-11-21", EndDate: "2026-11-28"}), Deny, ReasonMonitoring, r(ReasonMonitoring)},
		{"quarantine starts tomorrow → allow", def(), mon(Monitoring{Kind: "home_quarantine", StartDate: "2026-11-29", EndDate: "2026-12-05"}), Allow, ReasonOK, nil},
		{"lifted early today → allow", def(), mon(Monitoring{Kind: "home_quarantine", StartDate: "2026-11-25", EndDate: "2026-12-01", LiftedOn: "2026-11-28"}), Allow, ReasonOK, nil},
		{"lifted from tomorrow → deny today", def(), mon(Monitoring{Kind: "home_quarantine", StartDate: "2026-11-25", EndDate: "2026-12-01", LiftedOn: "2026-11-29"}), Deny, ReasonMonitoring, r(ReasonMonitoring)},
		{"health monitoring → review", def(), mon(Monitoring{Kind: "health_monitoring", StartDate: "2026-11-26", EndDate: "2026-11-30"}), Review, ReasonMonitoring, r(ReasonMonitoring)},
		{"review and deny kinds both active → deny", def(), mon(
			Monitoring{Kind: "health_monitoring", StartDate: "2026-11-26", EndDate: "2026-11-30"},
			Monitoring{Kind: "home_quarantine", StartDate: "2026-11-26", EndDate: "2026-11-30"}), Deny, ReasonMonitoring, r(ReasonMonitoring)},
		{"unknown monitoring kind is ignored", def(), mon(Monitoring{Kind: "travel_watch", StartDate: "2026-11-26"}), Allow, ReasonOK, nil},
		{"malformed end date fails closed", def(), mon(Monitoring{Kind: "home_quarantine", StartDate: "2026-11-01", EndDate: "11/27"}), Deny, ReasonMonitoring, r(ReasonMonitoring)},
		{"date is Beijing's: 2026-11-27 17:00 UTC is already 11-28", def(),
			in(func(i *Input) {
				i.Now = time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC)
				i.Subject.Monitoring = []Monitoring{{Kind: "home_quarantine", StartDate: "2026-11-21", EndDate: "2026-11-27"}}
			}), Allow, ReasonOK, nil},
	})
}

func TestCurfewVisitorsStrangers(t *testing.T) {
	curfew := with(def(), func(p *Policy) { p.Curfews = []Window{{From: "23:00", To: "05:00"}} })
	atClock := func(kind string, h, mi int) Input {
		return in(func(i *Input) {
			i.Subject.Kind = kind
			i.Now = at(2026, 11, 28, h, mi)
		})
	}
	hours := with(def(), func(p *Policy) { p.Visitors.Hours = []Window{{From: "08:00", To: "20:00"}} })
	visitor := func(f func(*Input)) Input {
		return in(func(i *Input) {
			i.Subject.Kind = KindVisitor
			i.Subject.HostConfirmed = true
			if f != nil {
				f(i)
			}
		})
	}
	vt := func(ago time.Duration) func(*Input) {
		return func(i *Input) { i.Subject.Tests = []Test{nucleic("negative", now.Add(-ago))} }
	}
	testOnly := with(def(), func(p *Policy) { p.Visitors.NeedTest = true; p.Visitors.TestWindow = Duration(48 * time.Hour) })
	stranger := func(f func(*Input)) Input {
		return in(func(i *Input) {
			i.Subject = Subject{Kind: KindStranger, Age: -1}
			if f != nil {
				f(i)
			}
		})
	}
	strangerReview := with(outbrk(), func(p *Policy) { p.Strangers = Review })

	runCases(t, []evalCase{
		{"curfew 23:30 resident → deny", curfew, atClock(KindResident, 23, 30), Deny, ReasonCurfew, r(ReasonCurfew)},
		{"curfew 23:00 sharp → deny", curfew, atClock(KindResident, 23, 0), Deny, ReasonCurfew, r(ReasonCurfew)},
		{"curfew 04:59 tenant → deny", curfew, atClock(KindTenant, 4, 59), Deny, ReasonCurfew, r(ReasonCurfew)},
		{"curfew ends 05:00 → allow", curfew, atClock(KindResident, 5, 0), Allow, ReasonOK, nil},
		{"22:59 before curfew → allow", curfew, atClock(KindResident, 22, 59), Allow, ReasonOK, nil},
		{"curfew 23:30 staff exempt", curfew, atClock(KindStaff, 23, 30), Allow, ReasonOK, nil},
		{"curfew 23:30 staff exempt even when health rules apply", with(curfew, func(p *Policy) { p.ApplyToStaff = true }), atClock(KindStaff, 23, 30), Allow, ReasonOK, nil},
		{"curfew 23:30 visitor → deny", curfew, in(func(i *Input) {
			i.Subject.Kind = KindVisitor
			i.Now = at(2026, 11, 28, 23, 30)
		}), Deny, ReasonCurfew, r(ReasonCurfew)},
		{"curfew from a UTC clock: 15:30Z is 23:30 Beijing", curfew, in(func(i *Input) { i.Now = time.Date(2026, 11, 28, 15, 30, 0, 0, time.UTC) }), Deny, ReasonCurfew, r(ReasonCurfew)},

		{"visitor inside hours", hours, visitor(nil), Allow, ReasonOK, nil},
		{"visitor at 20:30 outside hours", hours, visitor(func(i *Input) { i.Now = at(2026, 11, 28, 20, 30) }), Deny, ReasonVisitorRule, r(ReasonVisitorRule)},
		{"visitor at 07:59 outside hours", hours, visitor(func(i *Input) { i.Now = at(2026, 11, 28, 7, 59) }), Deny, ReasonVisitorRule, r(ReasonVisitorRule)},
		{"resident at 20:30 not bound by visiting hours", hours, in(func(i *Input) { i.Now = at(2026, 11, 28, 20, 30) }), Allow, ReasonOK, nil},
		{"visitors not admitted", with(def(), func(p *Policy) { p.Visitors.Allowed = false }), visitor(nil), Deny, ReasonVisitorRule, r(ReasonVisitorRule)},
		{"visitor outside the visit window → not authorised", def(), visitor(func(i *Input) { i.Subject.Authorised = false }), Deny, ReasonNotAuthorised, r(ReasonNotAuthorised)},
		{"visitor needs a host", with(def(), func(p *Policy) { p.Visitors.NeedHost = true }), visitor(func(i *Input) { i.Subject.HostConfirmed = false }), Deny, ReasonVisitorRule, r(ReasonVisitorRule)},
		{"visitor with host", with(def(), func(p *Policy) { p.Visitors.NeedHost = true }), visitor(nil), Allow, ReasonOK, nil},
		{"visitor test 47h ago under 48h rule", testOnly, visitor(vt(47 * time.Hour)), Allow, ReasonOK, nil},
		{"visitor test 49h ago under 48h rule", testOnly, visitor(vt(49 * time.Hour)), Deny, ReasonVisitorRule, r(ReasonVisitorRule)},
		{"visitor without test", testOnly, visitor(func(i *Input) { i.Subject.Tests = nil }), Deny, ReasonVisitorRule, r(ReasonVisitorRule)},
		{"resident without test where only visitors need one", testOnly, in(func(i *Input) { i.Subject.Tests = nil }), Allow, ReasonOK, nil},
		{"visitor positive where only visitors need a test", testOnly, visitor(func(i *Input) { i.Subject.Tests = []Test{nucleic("positive", now.Add(-time.Hour))} }),
			Deny, ReasonTestPositive, r(ReasonTestPositive, ReasonVisitorRule)},
		{"visitor window defaults to 48h", with(def(), func(p *Policy) { p.Visitors.NeedTest = true }), visitor(vt(49 * time.Hour)), Deny, ReasonVisitorRule, r(ReasonVisitorRule)},
		{"outbreak visitor: 50h test fails visitor 48h but meets resident 72h", outbrk(), visitor(vt(50 * time.Hour)), Deny, ReasonVisitorRule, r(ReasonVisitorRule)},
		{"outbreak visitor: 47h test passes both", outbrk(), visitor(vt(47 * time.Hour)), Allow, ReasonOK, nil},
		{"outbreak visitor: 80h test fails both", outbrk(), visitor(vt(80 * time.Hour)), Deny, ReasonTestMissing, r(ReasonTestMissing, ReasonVisitorRule)},

		{"stranger, default deny", def(), stranger(nil), Deny, ReasonUnknownPerson, r(ReasonUnknownPerson)},
		{"empty kind is a stranger", def(), in(func(i *Input) { i.Subject.Kind = "" }), Deny, ReasonUnknownPerson, r(ReasonUnknownPerson)},
		{"stranger, review policy", strangerReview, stranger(func(i *Input) { i.TemperatureC = 36.4 }), Review, ReasonUnknownPerson, r(ReasonUnknownPerson)},
		{"stranger, review policy, fever → deny fever", strangerReview, stranger(func(i *Input) { i.TemperatureC = 38.1 }), Deny, ReasonFever, r(ReasonUnknownPerson, ReasonFever)},
		{"stranger: no other rule applies (curfew, code, tests)", with(strangerReview, func(p *Policy) { p.Curfews = []Window{{From: "00:00", To: "24:00"}} }),
			stranger(func(i *Input) { i.TemperatureC = 0 }), Review, ReasonUnknownPerson, r(ReasonUnknownPerson)},
		{"stranger with an invalid strangers value → deny", with(def(), func(p *Policy) { p.Strangers = "maybe" }), stranger(nil), Deny, ReasonUnknownPerson, r(ReasonUnknownPerson)},
	})
}

func TestAuthorisationStaffOverrideCombination(t *testing.T) {
	staffRelaxed := with(outbrk(), func(p *Policy) { p.ApplyToStaff = false })
	sickStaff := func(temp float64) Input {
		return in(func(i *Input) {
			i.Subject.Kind = KindStaff
			i.Subject.Codes = []CodeSnapshot{{Colour: "red", At: now.Add(-time.Hour)}}
			i.Subject.Tests = nil
			i.Subject.Doses = 0
			i.Subject.Monitoring = []Monitoring{{Kind: "home_quarantine", StartDate: "2026-11-20"}}
			i.TemperatureC = temp
		})
	}
	everything := in(func(i *Input) {
		i.TemperatureC = 0 // outbreak: review
		i.Subject.Monitoring = []Monitoring{{Kind: "health_monitoring", StartDate: "2026-11-26", EndDate: "2026-11-30"}}
		i.Subject.Codes = []CodeSnapshot{{Colour: "red", At: now.Add(-time.Hour)}}
		i.Subject.Tests = nil
		i.Subject.Doses = 0
	})
	reviewsOnly := in(func(i *Input) {
		i.TemperatureC = 0
		i.Subject.Codes = nil
	})
	reviewThenDeny := in(func(i *Input) {
		i.Subject.Monitoring = []Monitoring{{Kind: "health_monitoring", StartDate: "2026-11-26"}}
		i.Subject.Tests = nil
	})
	override := func(i Input) Input { i.StaffOverride = true; return i }
	versioned := with(outbrk(), func(p *Policy) { p.ID = "pol-42"; p.Version = 7 })

	runCases(t, []evalCase{
		{"not authorised → deny", def(), in(func(i *Input) { i.Subject.Authorised = false }), Deny, ReasonNotAuthorised, r(ReasonNotAuthorised)},
		{"not authorised with fever lists both", def(), in(func(i *Input) { i.Subject.Authorised = false; i.TemperatureC = 38 }), Deny, ReasonNotAuthorised, r(ReasonNotAuthorised, ReasonFever)},
		{"staff skip health rules when ApplyToStaff is false", staffRelaxed, sickStaff(36.6), Allow, ReasonOK, nil},
		{"staff still temperature-checked", staffRelaxed, sickStaff(37.5), Deny, ReasonFever, r(ReasonFever)},
		{"staff follow health rules when ApplyToStaff", outbrk(), sickStaff(36.6), Deny, ReasonMonitoring, r(ReasonMonitoring, ReasonCodeColour, ReasonTestMissing, ReasonVaccination)},
		{"unrecognised kind gets resident rules", outbrk(), in(func(i *Input) { i.Subject.Kind = "courier"; i.Subject.Tests = nil }), Deny, ReasonTestMissing, r(ReasonTestMissing)},

		{"override after a deny", outbrk(), override(in(func(i *Input) { i.Subject.Codes[0].Colour = "red" })), Allow, ReasonOverride, r(ReasonCodeColour)},
		{"override after a review", outbrk(), override(reviewsOnly), Allow, ReasonOverride, r(ReasonTemperatureUnknown, ReasonCodeUnknown)},
		{"override with nothing to override stays ok", outbrk(), override(healthy()), Allow, ReasonOK, nil},

		{"many failures: deny wins, reason is the first deny", outbrk(), everything, Deny, ReasonCodeColour,
			r(ReasonTemperatureUnknown, ReasonMonitoring, ReasonCodeColour, ReasonTestMissing, ReasonVaccination)},
		{"reviews only: review, first review", outbrk(), reviewsOnly, Review, ReasonTemperatureUnknown, r(ReasonTemperatureUnknown, ReasonCodeUnknown)},
		{"an earlier review does not hide a later deny", outbrk(), reviewThenDeny, Deny, ReasonTestMissing, r(ReasonMonitoring, ReasonTestMissing)},
		{"full order", with(outbrk(), func(p *Policy) { p.Curfews = []Window{{From: "09:00", To: "11:00"}} }),
			in(func(i *Input) {
				i.Subject.Kind = KindVisitor
				i.Subject.Authorised = false
				i.Subject.Age = 70
				i.TemperatureC = 38.5
				i.Subject.Monitoring = []Monitoring{{Kind: "home_quarantine", StartDate: "2026-11-26"}}
				i.Subject.Tests = []Test{nucleic("positive", now.Add(-time.Hour))}
				i.Subject.Codes = []CodeSnapshot{{Colour: "yellow", At: now}}
				i.Subject.Doses = 0
			}), Deny, ReasonNotAuthorised,
			r(ReasonNotAuthorised, ReasonCurfew, ReasonFever, ReasonMonitoring, ReasonTestPositive, ReasonCodeColour, ReasonTestMissing, ReasonVaccination, ReasonVisitorRule)},
		{"decision names the policy version", versioned, healthy(), Allow, ReasonOK, nil},
		{"decision names the policy version on deny", versioned, in(func(i *Input) { i.TemperatureC = 40 }), Deny, ReasonFever, r(ReasonFever)},
	})
}

func TestNilPolicyIsDefault(t *testing.T) {
	d := Evaluate(nil, in(func(i *Input) { i.TemperatureC = 37.3 }))
	if d.Outcome != Deny || d.Reason != ReasonFever || d.PolicyID != "default" || d.PolicyVersion != 1 {
		t.Fatalf("nil policy: %+v", d)
	}
}

func TestEvaluateDoesNotModifyInputs(t *testing.T) {
	p := Outbreak()
	i := healthy()
	i.Subject.Codes = append(i.Subject.Codes, CodeSnapshot{Colour: "red", At: now.Add(-2 * time.Hour)})
	before := i.Subject.Codes[0]
	_ = Evaluate(&p, i)
	if i.Subject.Codes[0] != before || p.AcceptedColours[0] != "green" || p.Version != 1 {
		t.Fatal("Evaluate modified its inputs")
	}
}

func TestEvaluateAllocations(t *testing.T) {
	p := Outbreak()
	p.Curfews = []Window{{From: "23:00", To: "05:00"}}
	ok := benchInput()
	if n := testing.AllocsPerRun(200, func() { _ = Evaluate(&p, ok) }); n != 0 {
		t.Errorf("passing evaluation allocates %v objects, want 0", n)
	}
	bad := benchInput()
	bad.TemperatureC = 38
	bad.Subject.Tests = nil
	if n := testing.AllocsPerRun(200, func() { _ = Evaluate(&p, bad) }); n > 1 {
		t.Errorf("failing evaluation allocates %v objects, want at most 1", n)
	}
}

func TestSelectAndApplies(t *testing.T) {
	from := at(2026, 12, 7, 0, 0)
	to := at(2027, 1, 8, 0, 0)
	p := Policy{ValidFrom: from, ValidTo: to}
	for _, c := range []struct {
		t    time.Time
		want bool
	}{
		{from.Add(-time.Second), false}, // before ValidFrom
		{from, true},
		{to.Add(-time.Second), true},
		{to, false}, // ValidTo is exclusive
		{time.Date(2026, 12, 6, 16, 0, 0, 0, time.UTC), true}, // = 12-07 00:00 Beijing
	} {
		if got := p.Applies(c.t); got != c.want {
			t.Errorf("Applies(%v) = %v, want %v", c.t, got, c.want)
		}
	}
	open := Policy{}
	if !open.Applies(time.Time{}) || !open.Applies(now) {
		t.Error("open-ended policy should always apply")
	}

	ps := []Policy{
		{ID: "a", Version: 1, ValidFrom: at(2026, 1, 1, 0, 0)},
		{ID: "a", Version: 3, ValidFrom: at(2026, 12, 7, 0, 0)},
		{ID: "a", Version: 2, ValidFrom: at(2026, 11, 1, 0, 0), ValidTo: at(2026, 12, 1, 0, 0)},
	}
	for _, c := range []struct {
		t    time.Time
		want int
	}{
		{at(2026, 6, 1, 0, 0), 1},
		{at(2026, 11, 15, 0, 0), 2},
		{at(2026, 12, 3, 0, 0), 1},
		{at(2026, 12, 8, 0, 0), 3},
	} {
		got := Select(ps, c.t)
		if got == nil || got.Version != c.want {
			t.Errorf("Select(%v) = %+v, want version %d", c.t, got, c.want)
		}
	}
	if Select(ps, at(2025, 1, 1, 0, 0)) != nil {
		t.Error("Select before every policy should be nil")
	}
}

// benchInput is a realistic outbreak-time resident: several codes and tests,
// a finished monitoring period.
func benchInput() Input {
	return Input{
		Subject: Subject{
			Kind:       KindResident,
			Authorised: true,
			Age:        42,
			Codes: []CodeSnapshot{
				{Colour: "green", At: now.Add(-3 * time.Hour)},
				{Colour: "green", At: now.Add(-10 * time.Minute)},
				{Colour: "yellow", At: now.Add(-72 * time.Hour)},
			},
			Tests: []Test{
				nucleic("negative", now.Add(-100*time.Hour)),
				{Kind: "antigen", Result: "negative", SampledAt: now.Add(-2 * time.Hour)},
				nucleic("negative", now.Add(-30*time.Hour)),
				nucleic("pending", now.Add(-2*time.Hour)),
			},
			Doses:      3,
			Monitoring: []Monitoring{{Kind: "health_monitoring", StartDate: "2026-11-10", EndDate: "2026-11-17"}},
		},
		TemperatureC: 36.6,
		Now:          now,
	}
}

func BenchmarkEvaluate(b *testing.B) {
	p := Outbreak()
	p.Curfews = []Window{{From: "23:00", To: "05:00"}}
	b.Run("allow", func(b *testing.B) {
		i := benchInput()
		b.ReportAllocs()
		for b.Loop() {
			_ = Evaluate(&p, i)
		}
	})
	b.Run("deny", func(b *testing.B) {
		i := benchInput()
		i.TemperatureC = 38.2
		i.Subject.Tests = i.Subject.Tests[:2]
		b.ReportAllocs()
		for b.Loop() {
			_ = Evaluate(&p, i)
		}
	})
	b.Run("default", func(b *testing.B) {
		d := Default()
		i := benchInput()
		b.ReportAllocs()
		for b.Loop() {
			_ = Evaluate(&d, i)
		}
	})
}

// Leaving is free except under monitoring: nobody is shut in by a fever,
// a missing test or not being known, but home quarantine keeps people in.
func TestExit(t *testing.T) {
	out := func(f func(*Input)) Input { return in(func(i *Input) { i.Exit = true; f(i) }) }
	quarantine := Monitoring{Kind: "home_quarantine", StartDate: "2026-11-25", EndDate: "2026-12-01"}
	runCases(t, []evalCase{
		{"healthy resident leaves", outbrk(), out(func(i *Input) {}), Allow, ReasonOK, nil},
		{"fever on the way out", outbrk(), out(func(i *Input) { i.TemperatureC = 38.5 }), Allow, ReasonOK, nil},
		{"stranger leaves", outbrk(), out(func(i *Input) { i.Subject = Subject{Kind: KindStranger, Age: -1} }), Allow, ReasonOK, nil},
		{"no test, red code, not authorised", outbrk(), out(func(i *Input) {
			i.Subject.Tests, i.Subject.Authorised = nil, false
			i.Subject.Codes = []CodeSnapshot{{Colour: "red", At: now.Add(-time.Hour)}}
		}), Allow, ReasonOK, nil},
		{"curfew does not keep people in", with(def(), func(p *Policy) { p.Curfews = []Window{{From: "00:00", To: "23:59"}} }), out(func(i *Input) {}), Allow, ReasonOK, nil},
		{"home quarantine may not go out", def(), out(func(i *Input) { i.Subject.Monitoring = []Monitoring{quarantine} }), Deny, ReasonMonitoring, r(ReasonMonitoring)},
		{"health monitoring going out → review", def(), out(func(i *Input) {
			i.Subject.Monitoring = []Monitoring{{Kind: "health_monitoring", StartDate: "2026-11-26", EndDate: "2026-11-30"}}
		}), Review, ReasonMonitoring, r(ReasonMonitoring)},
		{"quarantined staff exempt unless the policy says so", def(), out(func(i *Input) {
			i.Subject.Kind, i.Subject.Monitoring = KindStaff, []Monitoring{quarantine}
		}), Allow, ReasonOK, nil},
		{"staff override lets a quarantined person out", def(), out(func(i *Input) {
			i.Subject.Monitoring, i.StaffOverride = []Monitoring{quarantine}, true
		}), Allow, ReasonOverride, r(ReasonMonitoring)},
	})
}
