package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/gate"
	"shequ/internal/store"
)

// gateScopes lists the gates the principal may see for action a.
func (s *Server) gatesFor(r *http.Request, a access.Action) ([]store.Gate, error) {
	return s.Store.Gates(r.Context(), reqOf(r).p.Scopes(a))
}

// gatesPage is the gates overview: every gate with its devices, today's
// passes by hour, the latest passes and the open alarms.
func (s *Server) gatesPage(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.GateView) && !rq.p.CanAnywhere(access.GateOperate) {
		s.deny(w, r, "gate.view", "", "", "")
		return
	}
	gates, err := s.gatesFor(r, access.GateView)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(gates) == 0 {
		if gates, err = s.gatesFor(r, access.GateOperate); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	ctx := r.Context()
	type gateView struct {
		Gate    store.Gate
		Devices []store.Device
		In, Out int
	}
	var views []gateView
	var ids []string
	for _, g := range gates {
		ds, err := s.Store.GateDevices(ctx, g.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		views = append(views, gateView{Gate: g, Devices: ds})
		ids = append(ids, g.ID)
	}
	now := s.Store.Now().In(shanghai)
	dayStart := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, shanghai)
	hours, err := s.Store.PassesByHour(ctx, ids, dayStart, dayStart.AddDate(0, 0, 1))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	byHour := make([]int, 24)
	deniedByHour := make([]int, 24)
	for _, h := range hours {
		hr := h.Hour.In(shanghai).Hour()
		byHour[hr] += h.In
		deniedByHour[hr] += h.Denied
		for i := range views {
			if views[i].Gate.ID == h.GateID {
				views[i].In += h.In
				views[i].Out += h.Denied
			}
		}
	}
	maxH := 1
	for _, n := range byHour {
		maxH = max(maxH, n)
	}
	passes, err := s.Store.Passes(ctx, store.PassFilter{GateIDs: ids, Limit: 30})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	alarms, err := s.Store.Alarms(ctx, ids, true, 30)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "gates", map[string]any{"Gates": views, "ByHour": byHour, "DeniedByHour": deniedByHour, "MaxHour": maxH,
		"Passes": passes, "Alarms": alarms, "CanManage": rq.p.CanAnywhere(access.GateManage), "CanOperate": rq.p.CanAnywhere(access.GateOperate)})
}

// checkpoint is the staffed booth's phone page: type or scan, see the
// facts and the decision, record the pass, register a visitor.
func (s *Server) checkpoint(w http.ResponseWriter, r *http.Request) {
	s.renderCheckpoint(w, r, nil, nil)
}

func (s *Server) renderCheckpoint(w http.ResponseWriter, r *http.Request, res *gate.CheckResult, formErr error) {
	rq := reqOf(r)
	gates, err := s.gatesFor(r, access.GateOperate)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(gates) == 0 {
		s.deny(w, r, "gate.operate", "", "", "")
		return
	}
	sel := r.FormValue("gate")
	if sel == "" {
		if c, err := r.Cookie("checkpoint_gate"); err == nil {
			sel = c.Value
		}
	}
	var current store.Gate
	for _, g := range gates {
		if g.ID == sel || (sel == "" && g.Kind == "booth") {
			current = g
			break
		}
	}
	if current.ID == "" {
		current = gates[0]
	}
	data := map[string]any{"Gates": gates, "Gate": current, "Result": res, "Temp": r.FormValue("temperature"),
		"Now": s.Store.Now().In(shanghai).Format("2006-01-02T15:04"), "Later": s.Store.Now().Add(4 * time.Hour).In(shanghai).Format("2006-01-02T15:04")}
	if formErr != nil {
		data["Error"] = message(rq, formErr)
		w.WriteHeader(statusOf(formErr))
	}
	s.render(w, r, "checkpoint", data)
}

func (s *Server) checkpointCheck(w http.ResponseWriter, r *http.Request) {
	temp, _ := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("temperature")), 64)
	res, err := s.Gates.Check(r.Context(), reqOf(r).p, r.PostFormValue("gate"), r.PostFormValue("input"), r.PostFormValue("person"), temp,
		r.PostFormValue("override") == "1")
	if err != nil {
		if errs.CodeOf(err) == errs.Forbidden {
			s.deny(w, r, "gate.operate", "gate", r.PostFormValue("gate"), "")
			return
		}
		if statusOf(err) >= 500 {
			s.fail(w, r, err)
			return
		}
		s.renderCheckpoint(w, r, nil, err)
		return
	}
	c := s.cookie("checkpoint_gate", res.GateID, 30*24*3600)
	s.setCookie(w, r, c)
	if r.PostFormValue("override") == "1" {
		rq := reqOf(r)
		s.Audit.Record(r.Context(), s.Store, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "gate.override",
			TargetType: "person", TargetID: res.PersonID, IP: rq.ip, Detail: audit.Detail("gate", res.GateID, "reasons", res.Reasons, "note", r.PostFormValue("note"))})
	}
	s.renderCheckpoint(w, r, &res, nil)
}

func (s *Server) checkpointRecord(w http.ResponseWriter, r *http.Request) {
	temp, _ := strconv.ParseFloat(r.PostFormValue("temperature"), 64)
	err := s.Gates.Record(r.Context(), reqOf(r).p, r.PostFormValue("gate"), r.PostFormValue("decision"), r.PostFormValue("person"),
		r.PostFormValue("credential"), r.PostFormValue("outcome"), r.PostFormValue("reason"), temp)
	if err != nil {
		if errs.CodeOf(err) == errs.Forbidden {
			s.deny(w, r, "gate.operate", "gate", r.PostFormValue("gate"), "")
			return
		}
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/gates/checkpoint?gate="+r.PostFormValue("gate")+"&recorded=1", http.StatusSeeOther)
}

// visitorRegister registers a visitor at the booth and shows the pass.
func (s *Server) visitorRegister(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	g, err := s.Store.Gate(r.Context(), r.PostFormValue("gate"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !rq.p.CanAtOrBelow(access.GateOperate, g.CommunityPath) {
		s.deny(w, r, "gate.operate", "gate", g.ID, g.CommunityID)
		return
	}
	from, until := s.visitWindow(r)
	v, code, err := s.Gates.RegisterVisitor(r.Context(), gate.Actor{P: rq.p, IP: rq.ip}, gate.VisitorInput{CommunityID: g.CommunityID,
		Name: r.PostFormValue("name"), IDNumber: r.PostFormValue("id_number"), Phone: r.PostFormValue("phone"),
		Reason: r.PostFormValue("reason") + " " + r.PostFormValue("host"), From: from, Until: until, By: "booth"})
	if err != nil {
		if statusOf(err) >= 500 {
			s.fail(w, r, err)
			return
		}
		s.renderCheckpoint(w, r, nil, err)
		return
	}
	qr, err := qrDataURL(code)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.Audit.Record(r.Context(), s.Store, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "visitor.register",
		TargetType: "visitor", TargetID: v.ID, NodeID: g.CommunityID, IP: rq.ip})
	s.render(w, r, "visitor_pass", map[string]any{"Visitor": v, "Code": code, "QR": qr, "Gate": g})
}

// alarmsPage is the duty page: alarms live through server-sent events.
func (s *Server) alarmsPage(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	gates, err := s.gatesFor(r, access.GateView)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ops, err := s.gatesFor(r, access.GateOperate); err == nil {
		gates = append(gates, ops...)
	}
	if len(gates) == 0 {
		s.deny(w, r, "gate.view", "", "", "")
		return
	}
	var ids []string
	for _, g := range gates {
		ids = append(ids, g.ID)
	}
	alarms, err := s.Store.Alarms(r.Context(), ids, r.URL.Query().Get("all") == "", 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_ = rq
	s.render(w, r, "alarms", map[string]any{"Alarms": alarms})
}

// alarmStream sends alarms of the principal's gates as they happen.
func (s *Server) alarmStream(w http.ResponseWriter, r *http.Request) {
	p := reqOf(r).p
	scopes := append(p.Scopes(access.GateView), p.Scopes(access.GateOperate)...)
	if len(scopes) == 0 {
		s.fail(w, r, errForbidden)
		return
	}
	comms := map[string]bool{}
	gates, _ := s.Store.Gates(r.Context(), scopes)
	for _, g := range gates {
		comms[g.CommunityID] = true
	}
	ch, stop := s.Gates.Hub.Subscribe(func(e gate.AlarmEvent) bool { return comms[e.CommunityID] })
	defer stop()
	es, ok := s.openStream(w, r)
	if !ok {
		return
	}
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ping.C:
			es.ping()
		case e := <-ch:
			es.send("alarm", alarmData(reqOf(r).pr, e))
		}
	}
}

// alarmUpdate acknowledges or handles an alarm, with a note.
func (s *Server) alarmUpdate(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	a, err := s.Store.Alarm(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	g, err := s.Store.Gate(r.Context(), a.GateID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !rq.p.CanAtOrBelow(access.GateOperate, g.CommunityPath) && !rq.p.Can(access.GateManage, g.CommunityPath) {
		s.deny(w, r, "alarm.update", "alarm", a.ID, g.CommunityID)
		return
	}
	status, back := "acknowledged", "/gates/alarms"
	note := strings.TrimSpace(r.PostFormValue("note"))
	switch r.PostFormValue("action") {
	case "handle":
		status = "handled"
	case "event":
		// The alarm becomes an event ticket, and is handled by that.
		ev, err := s.Events.FromAlarm(r.Context(), rq.p, a, g, note)
		if err != nil {
			s.formDone(w, r, "/gates/alarms", "", err)
			return
		}
		status, note, back = "handled", strings.TrimSpace(rq.pr.T("alarms.to_event", ev.Ref)+" "+note), "/events/"+ev.Ref
	}
	if err := s.Store.Write(r.Context(), func(tx *store.Tx) error {
		return tx.UpdateAlarm(r.Context(), a.ID, status, rq.p.Name, note)
	}); err != nil {
		s.fail(w, r, err)
		return
	}
	s.Gates.Hub.Publish(gate.AlarmEvent{ID: a.ID, Kind: a.Kind, GateID: g.ID, Gate: g.Name, CommunityID: g.CommunityID, Status: status, At: a.At})
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// remoteOpen asks a device to open at its next heartbeat.
func (s *Server) remoteOpen(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	g, err := s.Store.Gate(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !rq.p.Can(access.GateOperate, g.CommunityPath) {
		s.deny(w, r, "gate.open", "gate", g.ID, g.CommunityID)
		return
	}
	ds, err := s.Store.GateDevices(r.Context(), g.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var push func()
	err = s.Store.Write(r.Context(), func(tx *store.Tx) error {
		if push, err = s.Gates.RequestOpen(r.Context(), tx, ds); err != nil {
			return err
		}
		return s.Audit.Append(r.Context(), tx, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "gate.remote_open",
			TargetType: "gate", TargetID: g.ID, NodeID: g.CommunityID, IP: rq.ip, Detail: audit.Detail("reason", r.PostFormValue("reason"))})
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	push()
	http.Redirect(w, r, "/gates", http.StatusSeeOther)
}

// passesPage searches pass records by person (ID number), gate and time.
func (s *Server) passesPage(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	gates, err := s.gatesFor(r, access.GateView)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(gates) == 0 {
		s.deny(w, r, "gate.view", "", "", "")
		return
	}
	q := r.URL.Query()
	f := store.PassFilter{Limit: 200}
	for _, g := range gates {
		if q.Get("gate") == "" || q.Get("gate") == g.ID {
			f.GateIDs = append(f.GateIDs, g.ID)
		}
	}
	if t, ok := parseDate(q.Get("from")); ok {
		f.From = t
	}
	if t, ok := parseDate(q.Get("to")); ok {
		f.To = t.AddDate(0, 0, 1)
	}
	var errMsg string
	if id := strings.TrimSpace(q.Get("person")); id != "" {
		hits, _, err := s.Ledger.Search(r.Context(), rq.p, ledgerQuery(id))
		switch {
		case err != nil:
			s.fail(w, r, err)
			return
		case len(hits) == 0:
			errMsg = rq.pr.T("passes.no_person")
			f.GateIDs = nil
		default:
			f.PersonID = hits[0].ID
		}
	}
	passes, err := s.Store.Passes(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if f.PersonID != "" {
		s.Audit.Record(r.Context(), s.Store, &store.AuditEntry{ActorID: rq.p.UserID, ActorName: rq.p.Name, Action: "passes.search",
			TargetType: "person", TargetID: f.PersonID, IP: rq.ip})
	}
	s.render(w, r, "passes", map[string]any{"Passes": passes, "Gates": gates, "Q": q, "Error": errMsg})
}
