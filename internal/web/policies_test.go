package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"shequ/internal/access"
	"shequ/internal/apptest"
	"shequ/internal/gate"
)

func TestPolicyEditorPreviewAndVersions(t *testing.T) {
	e := apptest.Start(t, "sqlite")
	staff := e.Login(t, access.Staff)
	comm, _ := e.App.Store.OrgNodeByCode(context.Background(), "610402011002")
	card, _ := aCard(t, e)
	tok := deviceToken(t, e, "FL-S-TURNSTILE")
	decide := func() gate.DecideResponse { return decideAt(t, e, tok, gate.Credential{Kind: "card", Value: card}) }
	if r := decide(); r.Outcome != "allow" {
		t.Fatalf("under the default policy: %+v", r)
	}
	form := url.Values{"name": {"疫情期间"}, "scope_id": {comm.ID}, "edited": {"1"}, "temp_limit": {"37.3"}, "temp_unknown": {"allow"},
		"colours": {"green"}, "code_max_age_h": {"24"}, "code_unknown": {"deny"}, "test_window_h": {"0"}, "test_unknown": {"deny"},
		"deny_monitoring": {"home_quarantine"}, "strangers": {"deny"}, "visitors_allowed": {"1"},
		"try_gate": {gateID(t, e, "FL-S-TURNSTILE")}, "try_input": {card}, "try_temperature": {"36.5"}}
	// Preview first: what would happen, nothing saved.
	status, body, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/gates/policies/preview", form, nil)
	if status != 200 || !strings.Contains(body, `id="preview" data-outcome="deny" data-reason="code_unknown"`) {
		t.Fatalf("preview: %d\n%s", status, snippet(body))
	}
	if r := decide(); r.Outcome != "allow" {
		t.Fatal("a preview changed the gate's answer")
	}
	// Bad values are refused with the field named.
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("temp_limit", "50")
	if status, body, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/gates/policies", bad, nil); status != 400 || !strings.Contains(body, "temp_limit_c") {
		t.Fatalf("bad limit: %d", status)
	}
	// Saved: the gate answers by the new rules, naming the version.
	if status, _, _ := apptest.Do(t, staff, "POST", e.Server.URL+"/gates/policies", form, nil); status != 303 {
		t.Fatalf("save: %d", status)
	}
	r := decide()
	if r.Outcome != "deny" || r.Reason != "code_unknown" || r.PolicyVersion != 1 {
		t.Fatalf("after saving: %+v", r)
	}
	// A grid worker cannot change rules.
	if status, _, _ := apptest.Do(t, e.Login(t, access.Grid), "POST", e.Server.URL+"/gates/policies", form, nil); status != 403 {
		t.Fatalf("grid worker saved a policy: %d", status)
	}
	_, body, _ = apptest.Do(t, staff, "GET", e.Server.URL+"/gates/policies", nil, nil)
	if !strings.Contains(body, "疫情期间") || !strings.Contains(body, "v1") || !strings.Contains(body, "37.3") {
		t.Fatalf("policy list:\n%s", snippet(body))
	}
}
