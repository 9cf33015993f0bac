package policy

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPresetsAreValid(t *testing.T) {
	for name, p := range map[string]Policy{"default": Default(), "outbreak": Outbreak()} {
		if err := p.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	d := Default()
	if d.TempLimitC != 37.3 || len(d.AcceptedColours) != 0 || d.TestWindow != 0 || !d.Visitors.Allowed || d.Strangers != Deny {
		t.Errorf("Default() = %+v", d)
	}
	o := Outbreak()
	if !reflect.DeepEqual(o.AcceptedColours, []string{"green"}) || o.TestWindow != Duration(72*time.Hour) ||
		o.MinDoses != 1 || o.MinDosesMinAge != 3 || !o.Visitors.NeedTest || o.Visitors.TestWindow != Duration(48*time.Hour) {
		t.Errorf("Outbreak() = %+v", o)
	}
	// Presets return fresh slices: editing one must not change the next.
	o.AcceptedColours[0] = "red"
	if Outbreak().AcceptedColours[0] != "green" {
		t.Error("Outbreak() shares its slices")
	}
}

func TestValidate(t *testing.T) {
	from := at(2026, 12, 7, 0, 0)
	cases := []struct {
		name  string
		edit  func(*Policy)
		field string // "" = valid
	}{
		{"default is valid", func(*Policy) {}, ""},
		{"limit 0 means no check", func(p *Policy) { p.TempLimitC = 0 }, ""},
		{"limit 35 ok", func(p *Policy) { p.TempLimitC = 35 }, ""},
		{"limit 42 ok", func(p *Policy) { p.TempLimitC = 42 }, ""},
		{"limit 34.9", func(p *Policy) { p.TempLimitC = 34.9 }, "temp_limit_c"},
		{"limit 42.1", func(p *Policy) { p.TempLimitC = 42.1 }, "temp_limit_c"},
		{"limit negative", func(p *Policy) { p.TempLimitC = -1 }, "temp_limit_c"},
		{"unknown colour", func(p *Policy) { p.AcceptedColours = []string{"green", "purple"} }, "accepted_colours[1]"},
		{"all four colours", func(p *Policy) { p.AcceptedColours = []string{"green", "yellow", "red", "grey"} }, ""},
		{"negative code max age", func(p *Policy) { p.CodeMaxAge = Duration(-time.Hour) }, "code_max_age"},
		{"negative test window", func(p *Policy) { p.TestWindow = Duration(-time.Hour) }, "test_window"},
		{"negative visitor window", func(p *Policy) { p.Visitors.TestWindow = Duration(-time.Hour) }, "visitors.test_window"},
		{"bad curfew from", func(p *Policy) { p.Curfews = []Window{{From: "25:00", To: "05:00"}} }, "curfews[0].from"},
		{"bad curfew to", func(p *Policy) { p.Curfews = []Window{{From: "23:00", To: "5pm"}} }, "curfews[0].to"},
		{"bad minutes", func(p *Policy) { p.Curfews = []Window{{From: "23:00", To: "05:00"}, {From: "12:60", To: "13:00"}} }, "curfews[1].from"},
		{"empty window", func(p *Policy) { p.Curfews = []Window{{From: "23:00", To: "23:00"}} }, "curfews[0].to"},
		{"24:00 as end is fine", func(p *Policy) { p.Curfews = []Window{{From: "22:00", To: "24:00"}} }, ""},
		{"single-digit hour is fine", func(p *Policy) { p.Curfews = []Window{{From: "23:00", To: "5:00"}} }, ""},
		{"bad visiting hours", func(p *Policy) { p.Visitors.Hours = []Window{{From: "8", To: "20:00"}} }, "visitors.hours[0].from"},
		{"valid_to before valid_from", func(p *Policy) { p.ValidFrom = from; p.ValidTo = from.Add(-time.Hour) }, "valid_to"},
		{"valid_to equal to valid_from", func(p *Policy) { p.ValidFrom = from; p.ValidTo = from }, "valid_to"},
		{"valid range", func(p *Policy) { p.ValidFrom = from; p.ValidTo = from.Add(time.Hour) }, ""},
		{"open-ended", func(p *Policy) { p.ValidFrom = from }, ""},
		{"bad temp_unknown", func(p *Policy) { p.TempUnknown = "ignore" }, "temp_unknown"},
		{"bad code_unknown", func(p *Policy) { p.CodeUnknown = "Allow" }, "code_unknown"},
		{"bad test_unknown", func(p *Policy) { p.TestUnknown = "maybe" }, "test_unknown"},
		{"empty actions take defaults", func(p *Policy) { p.TempUnknown, p.CodeUnknown, p.TestUnknown = "", "", "" }, ""},
		{"strangers allow not accepted", func(p *Policy) { p.Strangers = Allow }, "strangers"},
		{"strangers review", func(p *Policy) { p.Strangers = Review }, ""},
		{"strangers unknown", func(p *Policy) { p.Strangers = "block" }, "strangers"},
		{"min doses 11", func(p *Policy) { p.MinDoses = 11 }, "min_doses"},
		{"min doses 10", func(p *Policy) { p.MinDoses = 10 }, ""},
		{"min doses negative", func(p *Policy) { p.MinDoses = -1 }, "min_doses"},
		{"min age negative", func(p *Policy) { p.MinDosesMinAge = -3 }, "min_doses_min_age"},
		{"kind both deny and review", func(p *Policy) { p.ReviewMonitoring = append(p.ReviewMonitoring, "home_quarantine") }, "deny_monitoring[0]"},
		{"empty test kind", func(p *Policy) { p.TestKinds = []string{""} }, "test_kinds[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := Default()
			c.edit(&p)
			err := p.Validate()
			if c.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError for %s, got %v", c.field, err)
			}
			if ve.Field != c.field || ve.Reason == "" {
				t.Fatalf("field %q reason %q, want field %q", ve.Field, ve.Reason, c.field)
			}
			if !strings.Contains(err.Error(), c.field) {
				t.Errorf("message %q does not name the field", err.Error())
			}
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	p := Outbreak()
	p.ID, p.Version = "pol-7", 4
	p.ValidFrom = at(2022, 11, 11, 0, 0)
	p.ValidTo = at(2022, 12, 7, 0, 0)
	p.Curfews = []Window{{From: "23:00", To: "05:00"}}
	p.TestCalendarDays = true
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"test_window":"72h"`, `"code_max_age":"24h"`, `"test_window":"48h"`, `"accepted_colours":["green"]`,
		`"curfews":[{"from":"23:00","to":"05:00"}]`, `"strangers":"deny"`, `"valid_from":"2022-11-11T00:00:00+08:00"`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s:\n%s", want, s)
		}
	}
	var back Policy
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	// time.Time round-trips to an equal instant but a different *Location.
	if !back.ValidFrom.Equal(p.ValidFrom) || !back.ValidTo.Equal(p.ValidTo) {
		t.Fatalf("times changed: %v %v", back.ValidFrom, back.ValidTo)
	}
	back.ValidFrom, back.ValidTo = p.ValidFrom, p.ValidTo
	if !reflect.DeepEqual(back, p) {
		t.Fatalf("round trip changed the policy:\n got %+v\nwant %+v", back, p)
	}

	// Seconds as a number or a numeric string, and durations with units.
	var q Policy
	src := `{"id":"x","version":2,"temp_limit_c":37.3,"test_window":259200,"code_max_age":"86400","visitors":{"allowed":true,"need_test":true,"test_window":"48h"}}`
	if err := json.Unmarshal([]byte(src), &q); err != nil {
		t.Fatal(err)
	}
	if q.TestWindow != Duration(72*time.Hour) || q.CodeMaxAge != Duration(24*time.Hour) || q.Visitors.TestWindow != Duration(48*time.Hour) {
		t.Fatalf("durations: %v %v %v", q.TestWindow, q.CodeMaxAge, q.Visitors.TestWindow)
	}
	if err := q.Validate(); err != nil {
		t.Fatal(err)
	}

	for _, bad := range []string{`{"test_window":"two days"}`, `{"test_window":true}`, `{"test_window":1e300}`} {
		var r Policy
		if err := json.Unmarshal([]byte(bad), &r); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

func TestDurationString(t *testing.T) {
	for d, want := range map[time.Duration]string{
		72 * time.Hour:                 "72h",
		90 * time.Minute:               "1h30m",
		30 * time.Minute:               "30m",
		90 * time.Second:               "1m30s",
		time.Hour + 30*time.Second:     "1h0m30s",
		0:                              "0s",
		1500 * time.Millisecond:        "1.5s",
		-48 * time.Hour:                "-48h",
		10*time.Minute + time.Second*0: "10m",
	} {
		if got := Duration(d).String(); got != want {
			t.Errorf("%v: got %q want %q", d, got, want)
		}
		if back, err := time.ParseDuration(Duration(d).String()); err != nil || back != d {
			t.Errorf("%v does not parse back: %v %v", d, back, err)
		}
	}
}

func TestExplain(t *testing.T) {
	for _, lang := range []string{"zh", "en", ""} {
		for name, p := range map[string]Policy{"default": Default(), "outbreak": Outbreak()} {
			lines := p.Explain(lang)
			if len(lines) < 3 {
				t.Fatalf("%s/%s: too few lines %q", name, lang, lines)
			}
			all := strings.Join(lines, "\n")
			if !strings.Contains(all, "37.3") {
				t.Errorf("%s/%s does not mention 37.3:\n%s", name, lang, all)
			}
			for _, l := range lines {
				if strings.TrimSpace(l) == "" {
					t.Errorf("%s/%s: empty line", name, lang)
				}
			}
		}
	}
	o := Outbreak()
	zh := strings.Join(o.Explain("zh"), "\n")
	for _, want := range []string{"体温 37.3℃ 及以上不能进入", "绿码", "72 小时", "核酸", "居家隔离", "3 岁及以上", "48 小时"} {
		if !strings.Contains(zh, want) {
			t.Errorf("zh lacks %q:\n%s", want, zh)
		}
	}
	en := strings.Join(o.Explain("en"), "\n")
	for _, want := range []string{"37.3 °C", "green", "72 hours", "nucleic-acid", "home quarantine", "aged 3", "48 hours"} {
		if !strings.Contains(en, want) {
			t.Errorf("en lacks %q:\n%s", want, en)
		}
	}
	if strings.Contains(en, "绿") || !strings.Contains(strings.Join(o.Explain("fr"), ""), "绿码") {
		t.Error("language selection is wrong")
	}
	c := Default()
	c.Curfews = []Window{{From: "23:00", To: "05:00"}}
	c.TestWindow = Duration(48 * time.Hour)
	c.TestCalendarDays = true
	zh = strings.Join(c.Explain("zh"), "\n")
	if !strings.Contains(zh, "23:00–05:00") || !strings.Contains(zh, "2 个自然日") {
		t.Errorf("curfew/calendar days missing:\n%s", zh)
	}
}
