package policy

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzPolicyJSON reads entry-policy rules as they are stored (and as a
// partner or an import would send them). Rules that read and validate
// must survive being stored and read again unchanged, or a saved policy
// would silently stop applying when the gates reload their rules; and
// evaluating them must give a known outcome.
func FuzzPolicyJSON(f *testing.F) {
	for _, p := range []Policy{Default(), Outbreak()} {
		b, _ := json.Marshal(p)
		f.Add(b)
	}
	for _, s := range []string{
		`{"test_window":259200,"code_max_age":"86400","visitors":{"allowed":true,"need_test":true,"test_window":"48h"}}`,
		`{"test_window":"9223372036.854775807","code_max_age":9223372036.854775808}`,
		`{"test_window":-1e-9,"code_max_age":"1.5","curfews":[{"from":"23:00","to":"24:00"},{"from":"0:00","to":"5:00"}]}`,
		`{"temp_limit_c":37.3,"temp_unknown":"review","accepted_colours":["green","grey"],"deny_monitoring":["home_quarantine"],"review_monitoring":["HOME_QUARANTINE"]}`,
		`{"valid_from":"2022-11-11T00:00:00+08:00","valid_to":"2022-11-11T00:00:00Z","strangers":"review","min_doses":3,"min_doses_min_age":18}`,
		`{"test_window":"2562047h47m16.854775807s"}`, `{"test_window":null}`, `{"test_window":1e300}`, `{"test_window":"NaN"}`,
	} {
		f.Add([]byte(s))
	}
	at := time.Date(2026, 11, 28, 1, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		var p Policy
		if err := json.Unmarshal(data, &p); err != nil {
			return
		}
		for _, d := range []Duration{p.CodeMaxAge, p.TestWindow, p.Visitors.TestWindow} {
			var back Duration
			b, err := json.Marshal(d)
			if err != nil || json.Unmarshal(b, &back) != nil || back != d {
				t.Fatalf("duration %d written as %s reads back as %d", int64(d), b, int64(back))
			}
		}
		err := p.Validate()
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field == "" || ve.Reason == "" {
				t.Fatalf("Validate: %v is not a ValidationError naming a field", err)
			}
			return
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("a valid policy cannot be stored: %v", err)
		}
		var back Policy
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("a stored policy cannot be read: %v\n%s", err, b)
		}
		if !back.ValidFrom.Equal(p.ValidFrom) || !back.ValidTo.Equal(p.ValidTo) {
			t.Fatalf("validity changed: %v–%v, was %v–%v", back.ValidFrom, back.ValidTo, p.ValidFrom, p.ValidTo)
		}
		back.ValidFrom, back.ValidTo = p.ValidFrom, p.ValidTo
		if !reflect.DeepEqual(back, p) {
			t.Fatalf("storing changed the policy:\n got %+v\nwant %+v", back, p)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("stored policy no longer valid: %v", err)
		}
		for _, kind := range []string{KindResident, "visitor", KindStaff, "stranger"} {
			for _, exit := range []bool{false, true} {
				d := Evaluate(&p, Input{Subject: Subject{Kind: kind, Authorised: true, Age: 30}, TemperatureC: 36.5, Now: at, Exit: exit})
				if d.Outcome != Allow && d.Outcome != Deny && d.Outcome != Review || (d.Outcome != Allow && d.Reason == "") {
					t.Fatalf("%s: decision %+v", kind, d)
				}
			}
		}
	})
}

// FuzzDuration reads one duration as the rules write it: a Go duration
// string or a number of seconds (bare or quoted). What reads keeps its
// sign and reads back the same after being written.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{`"48h"`, `"1h30m"`, `259200`, `"86400"`, `1.5`, `-1`, `"-2562047h47m16.854775808s"`,
		`9223372036.854775807`, `9223372036.854775808`, `-9223372036.854775808`, `1e300`, `"NaN"`, `"+Inf"`, `null`, `true`, `"0"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var d Duration
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			return
		}
		var num string
		if json.Unmarshal([]byte(s), &num) != nil {
			num = s
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(num), 64); err == nil && (v > 0 && d < 0 || v < 0 && d > 0) {
			t.Fatalf("%s seconds read as %v", s, time.Duration(d))
		}
		var back Duration
		b, err := json.Marshal(d)
		if err != nil || json.Unmarshal(b, &back) != nil || back != d {
			t.Fatalf("%s read as %d, written as %s, reads back as %d", s, int64(d), b, int64(back))
		}
	})
}
