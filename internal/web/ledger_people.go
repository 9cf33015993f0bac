package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/ledger"
	"shequ/internal/pii"
	"shequ/internal/store"
)

func (s *Server) actor(r *http.Request) ledger.Actor {
	rq := reqOf(r)
	return ledger.Actor{P: rq.p, Source: store.SourceUI, IP: rq.ip}
}

// room shows a room: who lives there, who owns it, its contracts and
// history, with forms to record a move-in and the survey.
func (s *Server) room(w http.ResponseWriter, r *http.Request) {
	s.renderRoom(w, r, nil, nil)
}

func (s *Server) renderRoom(w http.ResponseWriter, r *http.Request, formErr error, form url.Values) {
	room, path, ok := s.loadPlace(w, r, access.PersonView)
	if !ok {
		return
	}
	ctx := r.Context()
	rq := reqOf(r)
	hs, members, err := s.Store.RoomHouseholds(ctx, room.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	owners, err := s.Store.Owners(ctx, room.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	contracts, err := s.Store.RoomContracts(ctx, room.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	changes, err := s.Store.EntityChanges(ctx, "room", room.ID, 50)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	trail, err := s.Store.PlaceAncestors(ctx, room)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	visits, err := s.Store.RoomVisits(ctx, room.ID, 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Room": room, "Households": hs, "Visits": visits, "Members": members, "Owners": owners, "Contracts": contracts,
		"Changes": changes, "Trail": trail, "Today": s.Store.Today(), "CanEdit": rq.p.Can(access.PersonEdit, path),
		"Relations": ledger.Relations, "Residencies": ledger.Residencies, "RoomUses": ledger.RoomUses, "Form": form}
	if formErr != nil {
		data["Error"] = message(rq, formErr)
		if e, ok := errs.As(formErr); ok {
			data["ErrorField"] = e.Field
		}
		w.WriteHeader(statusOf(formErr))
	}
	s.render(w, r, "room", data)
}

// ledgerFormError shows a form error on the page it came from, or fails.
func (s *Server) ledgerFormError(w http.ResponseWriter, r *http.Request, err error, again func(error)) {
	switch {
	case errs.CodeOf(err) == errs.Forbidden:
		s.deny(w, r, "person.edit", "", r.PathValue("id"), "")
	case statusOf(err) >= 500 || errs.CodeOf(err) == errs.NotFound:
		s.fail(w, r, err)
	default:
		again(err)
	}
}

func personInput(f url.Values) ledger.PersonInput {
	sex, _ := strconv.Atoi(f.Get("sex"))
	var tags []string
	for _, t := range f["tags"] {
		if t != "" {
			tags = append(tags, t)
		}
	}
	return ledger.PersonInput{Name: f.Get("name"), DocType: pii.DocType(f.Get("doc_type")), IDNumber: f.Get("id_number"), Sex: sex,
		BirthDate: f.Get("birth_date"), Ethnicity: f.Get("ethnicity"), Phone: f.Get("phone"), Residency: f.Get("residency"),
		RegisteredAddress: f.Get("registered_address"), Workplace: f.Get("workplace"), Tags: tags, Notes: f.Get("notes")}
}

func (s *Server) roomMoveIn(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	_, err := s.Ledger.MoveIn(r.Context(), s.actor(r), r.PathValue("id"), r.PostForm.Get("household"), personInput(r.PostForm),
		r.PostForm.Get("relation"), r.PostForm.Get("since"))
	if err != nil {
		s.ledgerFormError(w, r, err, func(err error) { s.renderRoom(w, r, err, r.PostForm) })
		return
	}
	http.Redirect(w, r, "/ledger/rooms/"+r.PathValue("id"), http.StatusSeeOther)
}

func (s *Server) roomUpdate(w http.ResponseWriter, r *http.Request) {
	err := s.Ledger.SetRoom(r.Context(), s.actor(r), r.PathValue("id"), r.PostFormValue("room_use"), r.PostFormValue("survey"), r.PostFormValue("reason"))
	if err != nil {
		s.ledgerFormError(w, r, err, func(err error) { s.renderRoom(w, r, err, nil) })
		return
	}
	http.Redirect(w, r, "/ledger/rooms/"+r.PathValue("id"), http.StatusSeeOther)
}

// persons is the search page.
func (s *Server) persons(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	if !rq.p.CanAnywhere(access.PersonView) {
		s.deny(w, r, "person.view", "", "", "")
		return
	}
	q := r.URL.Query()
	page := max(atoiDefault(q.Get("page"), 1), 1)
	hits, total, err := s.Ledger.Search(r.Context(), rq.p, ledger.Query{Text: q.Get("q"), Residency: q.Get("residency"),
		Tag: q.Get("tag"), Has: q.Get("has"), PlaceID: q.Get("place"), Node: q.Get("node"), Page: page, PageSize: pageSize})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "persons", map[string]any{"Hits": hits, "Total": total, "Page": page, "HasNext": page*pageSize < total,
		"Q": q, "Residencies": ledger.Residencies, "Tags": ledger.Tags, "CanExport": rq.p.CanAnywhere(access.DataExport)})
}

// loadPerson loads the person in the path if the principal may see them.
func (s *Server) loadPerson(w http.ResponseWriter, r *http.Request, a access.Action) (store.Person, bool) {
	p, err := s.Store.Person(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return p, false
	}
	ok, err := s.Ledger.MayView(r.Context(), reqOf(r).p, a, p.ID)
	if err != nil {
		s.fail(w, r, err)
		return p, false
	}
	if !ok {
		s.deny(w, r, string(a), "person", p.ID, "")
		return p, false
	}
	return p, true
}

func (s *Server) person(w http.ResponseWriter, r *http.Request) {
	s.renderPerson(w, r, nil, nil)
}

func (s *Server) renderPerson(w http.ResponseWriter, r *http.Request, formErr error, extra map[string]any) {
	p, ok := s.loadPerson(w, r, access.PersonView)
	if !ok {
		return
	}
	if p.MergedInto != "" {
		http.Redirect(w, r, "/ledger/persons/"+p.MergedInto, http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	rq := reqOf(r)
	ms, err := s.Store.Memberships(ctx, p.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	health, err := s.Store.Health(ctx, p.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	contracts, err := s.Store.PersonContracts(ctx, p.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	timeline, err := s.Store.Timeline(ctx, p.ID, 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	canEdit, _ := s.Ledger.MayView(ctx, rq.p, access.PersonEdit, p.ID)
	canReveal, _ := s.Ledger.MayView(ctx, rq.p, access.PIIReveal, p.ID)
	today := s.Store.Today()
	var active []store.Monitoring
	for _, m := range health.Monitoring {
		if m.Active(today) {
			active = append(active, m)
		}
	}
	data := map[string]any{"Person": p, "Masked": pii.MaskName(p.Name), "Memberships": ms, "Health": health, "Contracts": contracts,
		"Timeline": timeline, "CanEdit": canEdit, "CanReveal": canReveal, "Today": today, "ActiveMonitoring": active,
		"Residencies": ledger.Residencies, "Tags": ledger.Tags, "TagSet": tagSet(p.Tags), "Age": age(p.BirthDate, s.Store.Now()),
		"TestKinds": ledger.TestKinds, "TestResults": ledger.TestResults, "Colours": ledger.CodeColours,
		"MonitoringKinds": ledger.MonitoringKinds, "Now": s.Store.Now().In(shanghai).Format("2006-01-02T15:04"),
		"Revealed": map[string]string{}, "RegionName": s.regionName(ctx, p.RegisteredRegion)}
	for k, v := range extra {
		data[k] = v
	}
	if formErr != nil {
		data["Error"] = message(rq, formErr)
		if e, ok := errs.As(formErr); ok {
			data["ErrorField"] = e.Field
		}
		w.WriteHeader(statusOf(formErr))
	}
	s.render(w, r, "person", data)
}

func tagSet(tags string) map[string]bool {
	m := map[string]bool{}
	for _, t := range strings.Split(tags, ",") {
		if t != "" {
			m[t] = true
		}
	}
	return m
}

func age(birth string, now time.Time) int {
	b, err := time.Parse("2006-01-02", birth)
	if err != nil {
		return -1
	}
	n := now.In(shanghai)
	a := n.Year() - b.Year()
	if n.YearDay() < b.YearDay() {
		a--
	}
	return a
}

// personReveal shows one protected field in the clear, once, after the
// user has said why; the reveal is audited.
func (s *Server) personReveal(w http.ResponseWriter, r *http.Request) {
	rq := reqOf(r)
	field := r.PostFormValue("field")
	plain, err := s.Ledger.Reveal(r.Context(), rq.p, r.PathValue("id"), field, r.PostFormValue("reason"), rq.ip)
	if err != nil {
		if errs.CodeOf(err) == errs.Forbidden {
			s.fail(w, r, err)
			return
		}
		s.ledgerFormError(w, r, err, func(err error) { s.renderPerson(w, r, err, nil) })
		return
	}
	s.renderPerson(w, r, nil, map[string]any{"Revealed": map[string]string{field: plain}})
}

func (s *Server) personUpdate(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	err := s.Ledger.Update(r.Context(), s.actor(r), r.PathValue("id"), personInput(r.PostForm), r.PostForm.Get("reason"))
	if err != nil {
		s.ledgerFormError(w, r, err, func(err error) { s.renderPerson(w, r, err, nil) })
		return
	}
	http.Redirect(w, r, "/ledger/persons/"+r.PathValue("id"), http.StatusSeeOther)
}

func (s *Server) personMoveOut(w http.ResponseWriter, r *http.Request) {
	err := s.Ledger.MoveOut(r.Context(), s.actor(r), r.PathValue("id"), r.PostFormValue("household"), r.PostFormValue("on"), r.PostFormValue("reason"))
	if err != nil {
		s.ledgerFormError(w, r, err, func(err error) { s.renderPerson(w, r, err, nil) })
		return
	}
	http.Redirect(w, r, "/ledger/persons/"+r.PathValue("id"), http.StatusSeeOther)
}

// personHealth records a health record of the kind in the path.
func (s *Server) personHealth(w http.ResponseWriter, r *http.Request) {
	ctx, a, id := r.Context(), s.actor(r), r.PathValue("id")
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	var err error
	switch r.PathValue("kind") {
	case "test":
		err = s.Ledger.AddTest(ctx, a, store.HealthTest{PersonID: id, Kind: f("kind"), Result: f("result"), SampledAt: parseLocal(f("sampled_at")),
			ResultAt: parseLocal(f("result_at")), Institution: f("institution")})
	case "vaccination":
		dose, _ := strconv.Atoi(f("dose"))
		err = s.Ledger.AddVaccination(ctx, a, store.Vaccination{PersonID: id, Vaccine: f("vaccine"), Dose: dose, GivenOn: f("given_on"),
			Site: f("site"), Lot: f("lot")})
	case "code":
		err = s.Ledger.AddCode(ctx, a, store.CodeSnapshot{PersonID: id, Colour: f("colour")})
	case "travel":
		err = s.Ledger.AddTravel(ctx, a, store.TravelDeclaration{PersonID: id, FromPlace: f("from_place"), ArrivalDate: f("arrival_date"),
			Transport: f("transport")})
	case "monitoring":
		err = s.Ledger.StartMonitoring(ctx, a, store.Monitoring{PersonID: id, Kind: f("kind"), StartDate: f("start_date"),
			EndDate: f("end_date"), Reason: f("reason")})
	case "lift":
		err = s.Ledger.LiftMonitoring(ctx, a, id, f("monitoring"))
	default:
		err = errNotFound
	}
	if err != nil {
		s.ledgerFormError(w, r, err, func(err error) { s.renderPerson(w, r, err, nil) })
		return
	}
	http.Redirect(w, r, "/ledger/persons/"+id+"#health", http.StatusSeeOther)
}

// regionName names a 6-digit county code from the organisation tree's
// division table ("" when the table does not hold it).
func (s *Server) regionName(ctx context.Context, code string) string {
	if len(code) != 6 {
		return ""
	}
	n, err := s.Store.OrgNodeByCode(ctx, code+"000000")
	if err != nil {
		return ""
	}
	return n.Name
}
