package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/gate"
	"shequ/internal/policy"
	"shequ/internal/store"
)

// policyForm reads the editor's fields into rules.
func policyForm(f url.Values) policy.Policy {
	p := policy.Default()
	switch f.Get("preset") {
	case "outbreak":
		p = policy.Outbreak()
	}
	num := func(k string, d float64) float64 {
		if v, err := strconv.ParseFloat(strings.TrimSpace(f.Get(k)), 64); err == nil {
			return v
		}
		return d
	}
	hours := func(k string, d policy.Duration) policy.Duration {
		if v, err := strconv.ParseFloat(strings.TrimSpace(f.Get(k)), 64); err == nil {
			return policy.Duration(time.Duration(v * float64(time.Hour)))
		}
		return d
	}
	if f.Get("edited") == "1" {
		p.TempLimitC = num("temp_limit", p.TempLimitC)
		p.TempUnknown = policy.UnknownAction(f.Get("temp_unknown"))
		p.AcceptedColours = f["colours"]
		p.CodeMaxAge = hours("code_max_age_h", 0)
		p.CodeUnknown = policy.UnknownAction(f.Get("code_unknown"))
		p.TestWindow = hours("test_window_h", 0)
		p.TestKinds = f["test_kinds"]
		p.TestUnknown = policy.UnknownAction(f.Get("test_unknown"))
		p.MinDoses = int(num("min_doses", 0))
		p.MinDosesMinAge = int(num("min_doses_age", 0))
		p.DenyMonitoring = f["deny_monitoring"]
		p.ReviewMonitoring = f["review_monitoring"]
		p.Curfews = nil
		if from, to := f.Get("curfew_from"), f.Get("curfew_to"); from != "" && to != "" {
			p.Curfews = []policy.Window{{From: from, To: to}}
		}
		p.Visitors.Allowed = f.Get("visitors_allowed") == "1"
		p.Visitors.NeedTest = f.Get("visitors_need_test") == "1"
		p.Strangers = policy.Outcome(f.Get("strangers"))
	}
	p.ValidFrom, p.ValidTo = parseLocal(f.Get("valid_from")), parseLocal(f.Get("valid_to"))
	return p
}

func (s *Server) policiesPage(w http.ResponseWriter, r *http.Request) {
	s.renderPolicies(w, r, nil, nil, nil)
}

// renderPolicies shows the list, the editor (a stored policy, a draft
// with errors, or a new one) and a preview result.
func (s *Server) renderPolicies(w http.ResponseWriter, r *http.Request, draft *policy.Policy, formErr error, preview map[string]any) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.GateManage) && !rq.p.CanAnywhere(access.GateView) {
		s.deny(w, r, "gate.view", "", "", "")
		return
	}
	rows, err := s.Gates.PoliciesFor(r.Context(), rq.p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var nodes []store.OrgNode
	for _, sc := range rq.p.Scopes(access.GateManage) {
		ns, err := s.Store.OrgSubtree(r.Context(), sc)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, n := range ns {
			if n.Level != store.LevelGrid {
				nodes = append(nodes, n)
			}
		}
	}
	gates, _ := s.gatesFor(r, access.GateManage)
	edit := store.PolicyRow{}
	p := policy.Default()
	if id := r.FormValue("id"); id != "" {
		if row, rules, ok := s.Gates.Policy(id); ok {
			edit, p = row, rules
		}
	}
	if draft != nil {
		p = *draft
		edit.ID, edit.Name, edit.ScopeType, edit.ScopeID = r.FormValue("id"), r.FormValue("name"), r.FormValue("scope_type"), r.FormValue("scope_id")
	}
	data := map[string]any{"Policies": rows, "Nodes": nodes, "GateList": gates, "Edit": edit, "Rules": p, "Explain": p.Explain(rq.pr.Lang),
		"CanManage": rq.p.CanAnywhere(access.GateManage), "Preview": preview, "Colours": []string{"green", "yellow", "red", "grey"},
		"MonitoringKinds": []string{"health_monitoring", "home_quarantine", "central_quarantine"}, "Has": stringSet}
	if formErr != nil {
		data["Error"] = message(rq, formErr)
		w.WriteHeader(statusOf(formErr))
	}
	s.render(w, r, "policies", data)
}

func stringSet(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (s *Server) policySave(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	r.ParseForm()
	rules := policyForm(r.PostForm)
	scopeType, scopeID := "node", r.PostFormValue("scope_id")
	if strings.HasPrefix(scopeID, "gate:") {
		scopeType, scopeID = "gate", strings.TrimPrefix(scopeID, "gate:")
	}
	_, err := s.Gates.SavePolicy(r.Context(), gate.Actor{P: rq.p, IP: rq.ip}, gate.PolicyInput{ID: r.PostFormValue("id"), ScopeType: scopeType,
		ScopeID: scopeID, Name: r.PostFormValue("name"), Rules: rules})
	if err != nil {
		if errs.CodeOf(err) == errs.Forbidden {
			s.deny(w, r, "policy.save", "policy", r.PostFormValue("id"), "")
			return
		}
		if statusOf(err) >= 500 {
			s.fail(w, r, err)
			return
		}
		s.renderPolicies(w, r, &rules, err, nil)
		return
	}
	s.Audit.Record(r.Context(), s.Store, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "policy.save",
		TargetType: "policy", TargetID: r.PostFormValue("id"), IP: rq.ip, NodeID: scopeID})
	http.Redirect(w, r, "/gates/policies", http.StatusSeeOther)
}

// policyPreview tries the form's draft on one person at one gate.
func (s *Server) policyPreview(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	r.ParseForm()
	rules := policyForm(r.PostForm)
	temp, _ := strconv.ParseFloat(r.PostFormValue("try_temperature"), 64)
	d, who, err := s.Gates.Preview(r.Context(), rq.p, rules, r.PostFormValue("try_gate"), r.PostFormValue("try_input"), temp)
	if err != nil {
		if errs.CodeOf(err) == errs.Forbidden {
			s.deny(w, r, "policy.preview", "gate", r.PostFormValue("try_gate"), "")
			return
		}
		s.renderPolicies(w, r, &rules, err, nil)
		return
	}
	s.renderPolicies(w, r, &rules, nil, map[string]any{"Decision": d, "Person": maskedName(gate.PreviewName(who))})
}
