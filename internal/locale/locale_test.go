package locale

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"shequ/internal/access"
	"shequ/internal/ledger"
	"shequ/internal/policy"
	"shequ/internal/store"
)

func TestEveryLanguageHasEveryKey(t *testing.T) {
	c := MustLoad()
	zh := c.Keys("zh")
	if len(zh) < 100 {
		t.Fatalf("only %d Chinese messages loaded", len(zh))
	}
	for _, lang := range Languages {
		for _, k := range zh {
			if !c.Has(lang, k) {
				t.Errorf("%s: missing %q", lang, k)
			}
		}
		for _, k := range c.Keys(lang) {
			if !c.Has("zh", k) {
				t.Errorf("%s has %q, which Chinese lacks", lang, k)
			}
			if strings.TrimSpace(c.Printer(lang).T(k)) == "" {
				t.Errorf("%s: %q is empty", lang, k)
			}
		}
	}
}

// TestEveryUsedKeyExists scans templates and Go code for message keys, and
// lists the keys built at run time (roles, levels …).
func TestEveryUsedKeyExists(t *testing.T) {
	c := MustLoad()
	used := map[string]string{}
	tmplKey := regexp.MustCompile(`\{\{t "([a-z0-9_.]+)"`)
	goKey := regexp.MustCompile(`errs\.(?:E|Wrap)\([^"]*"(err\.[a-z0-9_.]+)"|\.T\("([a-z0-9_.]*[a-z0-9_])"[,)]`)
	root := filepath.Join("..")
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if !strings.HasSuffix(path, ".html") && !(strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range tmplKey.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = path
		}
		for _, m := range goKey.FindAllStringSubmatch(string(b), -1) {
			k := m[1] + m[2]
			used[k] = path
		}
		return nil
	})
	for _, r := range access.Roles {
		used["role."+string(r)] = "dynamic"
	}
	for _, l := range store.Levels {
		used["level."+string(l)] = "dynamic"
	}
	for prefix, values := range map[string][]string{
		"residency.": ledger.Residencies, "tag.": ledger.Tags, "use.": ledger.RoomUses, "rel.": ledger.Relations,
		"status.room.": ledger.Statuses, "test.": ledger.TestKinds, "result.": ledger.TestResults, "colour.": ledger.CodeColours,
		"monitoring.": ledger.MonitoringKinds, "survey.": {"pending", "surveyed", "flagged"}, "sex.": {"0", "1", "2", "9"},
		"household.": {"family", "rental", "collective"}, "dup.reason.": {"id", "name_birth_phone"},
		"doc.":           {"resident_id", "passport", "hkmo_permit", "tw_permit", "foreign_pr"},
		"source.":        {"ui", "import", "visit", "self_report", "device", "partner", "demo"},
		"err.person.id_": {"empty", "length", "chars", "region", "birth", "check", "type"},
		"reason.": {policy.ReasonOK, policy.ReasonOverride, policy.ReasonUnknownPerson, policy.ReasonNotAuthorised, policy.ReasonFever,
			policy.ReasonCodeColour, policy.ReasonCodeUnknown, policy.ReasonTestMissing, policy.ReasonTestPositive, policy.ReasonVaccination,
			policy.ReasonMonitoring, policy.ReasonCurfew, policy.ReasonVisitorRule, policy.ReasonTemperatureUnknown},
		"cred.":         {"face", "card", "qr", "plate", "idcard"},
		"gatekind.":     {"turnstile", "temp_door", "vehicle", "booth"},
		"outcome.gate.": {"allow", "deny", "review"}, "verdict.": {"allow", "deny", "review"},
		"subject.":     {"resident", "tenant", "staff", "visitor", "stranger"},
		"alarm.":       {"fever", "stranger", "code_colour", "policy_deny", "device_offline"},
		"alarmstatus.": {"open", "acknowledged", "handled"},
	} {
		for _, v := range values {
			used[prefix+v] = "dynamic"
		}
	}
	for _, k := range []string{"kind.staff", "kind.resident", "kind.api", "outcome.ok", "outcome.denied", "outcome.failed",
		"org.action.create", "org.action.rename", "org.action.move"} {
		used[k] = "dynamic"
	}
	if len(used) < 80 {
		t.Fatalf("the scan found only %d keys: is it looking in the right place?", len(used))
	}
	for k, where := range used {
		for _, lang := range Languages {
			if !c.Has(lang, k) {
				t.Errorf("%s: %q used in %s has no translation", lang, k, where)
			}
		}
	}
}

func TestPick(t *testing.T) {
	cases := []struct{ user, cookie, accept, want string }{
		{"", "", "", "zh"},
		{"", "", "en-US,en;q=0.9", "en"},
		{"", "", "zh-CN,zh;q=0.9,en;q=0.5", "zh"},
		{"", "en", "zh-CN", "en"},
		{"zh", "en", "en-US", "zh"},
		{"", "fr", "de-DE", "zh"},
	}
	for _, c := range cases {
		r := newRequest(c.cookie, c.accept)
		if got := Pick(c.user, r); got != c.want {
			t.Errorf("Pick(user=%q cookie=%q accept=%q) = %q, want %q", c.user, c.cookie, c.accept, got, c.want)
		}
	}
}

func TestPrinterFormatsAndFallsBack(t *testing.T) {
	c := MustLoad()
	if got := c.Printer("en").T("home.welcome", "Li"); got != "Hello, Li" {
		t.Errorf("got %q", got)
	}
	if got := c.Printer("zh").T("no.such.key"); got != "no.such.key" {
		t.Errorf("unknown key: %q", got)
	}
	if c.Printer("xx").Lang != "zh" {
		t.Error("unknown language did not fall back to Chinese")
	}
}
