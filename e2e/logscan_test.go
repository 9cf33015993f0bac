package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"shequ/internal/pii"
)

// Every demo the tests start is remembered, so that after the whole run
// its output (the JSON logs on standard error and what it printed) can be
// searched for personal data: docs/security.md, "No personal data in
// logs".
var (
	demosMu sync.Mutex
	demos   []*demo
)

func rememberDemo(d *demo) {
	demosMu.Lock()
	demos = append(demos, d)
	demosMu.Unlock()
}

// printedForTheOperator are lines the demo prints on purpose before it
// serves, not log lines: the resident's phone to log in with.
var printedForTheOperator = []string{"# resident: log in at /login/resident with "}

// personalDataInLogs lists, masked, every line of every demo's output
// that holds a valid resident ID number or a mainland mobile number.
func personalDataInLogs() []string {
	demosMu.Lock()
	defer demosMu.Unlock()
	var bad []string
	now := time.Now()
	for i, d := range demos {
	lines:
		for n, line := range strings.Split(d.Output(), "\n") {
			for _, p := range printedForTheOperator {
				if strings.HasPrefix(line, p) {
					continue lines
				}
			}
			found := pii.FindPersonal(line, now)
			if len(found) == 0 {
				continue
			}
			masked := line
			for _, f := range found {
				masked = maskFound(masked, f)
			}
			if len(masked) > 300 {
				masked = masked[:300] + "…"
			}
			bad = append(bad, fmt.Sprintf("demo %d, line %d (%s %s): %s", i+1, n+1, found[0].Kind, found[0].Masked, masked))
		}
	}
	return bad
}

// maskFound hides a found number in a line before it is printed: the test
// report must not become the leak.
func maskFound(line string, f pii.Found) string {
	head, tail := 3, 4
	if f.Kind == "id" {
		head, tail = 6, 4
	}
	var out strings.Builder
	run := 0
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c >= '0' && c <= '9' || c == 'X' || c == 'x' {
			run++
			continue
		}
		out.WriteString(maskRun(line[i-run:i], head, tail))
		run = 0
		out.WriteByte(c)
	}
	out.WriteString(maskRun(line[len(line)-run:], head, tail))
	return out.String()
}

func maskRun(s string, head, tail int) string {
	if len(s) < 11 {
		return s
	}
	return s[:head] + strings.Repeat("*", len(s)-head-tail) + s[len(s)-tail:]
}

// The report of a leak masks what it found.
func TestLeakReportIsMasked(t *testing.T) {
	line := `{"level":"INFO","msg":"x","phone":"13812345678","id":"11010519491231002X"}`
	found := pii.FindPersonal(line, time.Now())
	if len(found) != 2 {
		t.Fatalf("found %v in %s", found, line)
	}
	masked := line
	for _, f := range found {
		masked = maskFound(masked, f)
	}
	if strings.Contains(masked, "13812345678") || strings.Contains(masked, "11010519491231002X") || len(pii.FindPersonal(masked, time.Now())) > 0 {
		t.Fatalf("the report shows the numbers: %s", masked)
	}
}
