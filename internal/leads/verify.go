package leads

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/ledger"
	"shequ/internal/store"
)

// Outcomes of a verification, methods, and the control measures it can
// apply.
var (
	Outcomes = []string{"found", "left", "not_found", "wrong_info", "handled"}
	Methods  = []string{"visit", "phone"}
	Measures = []string{"none", "health_monitoring", "home_quarantine", "test"}
)

// VerifyInput is a grid worker's verification of a lead.
type VerifyInput struct {
	Method     string `json:"method"`
	Outcome    string `json:"outcome"`
	LeftTo     string `json:"left_to,omitempty"` // outcome "left": where to
	Note       string `json:"note"`
	Photo      []byte `json:"photo,omitempty"`       // proof of a visit
	CallRecord string `json:"call_record,omitempty"` // proof of a call: time and number called, masked
	Measure    string `json:"measure"`
	Days       int    `json:"days,omitempty"` // monitoring or quarantine length (default 7)
}

// mayWork says whether p may verify or route a lead held at path: its
// assignee, or who verifies or manages leads there.
func mayWork(p *access.Principal, l store.Lead, path string) bool {
	return p.UserID == l.AssigneeID || p.Can(access.LeadVerify, path) || p.Can(access.LeadManage, path)
}

// Verify records how a lead was verified, with proof. The control measure
// goes into the person's health records in the same transaction
// (monitoring and quarantine close the gates through the entry policy);
// a self-reported arrival goes into their travel record.
func (s *Service) Verify(ctx context.Context, p *access.Principal, leadID string, in VerifyInput) error {
	l, path, err := s.Store.Lead(ctx, leadID)
	if err != nil {
		return err
	}
	if !mayWork(p, l, path) {
		return errs.E(errs.Forbidden, "err.forbidden")
	}
	if l.Status == "verified" {
		return errs.E(errs.Conflict, "err.lead.verified")
	}
	in.Note, in.LeftTo, in.CallRecord = strings.TrimSpace(in.Note), strings.TrimSpace(in.LeftTo), strings.TrimSpace(in.CallRecord)
	switch {
	case !slices.Contains(Methods, in.Method):
		return errs.E(errs.Invalid, "err.lead.method").OnField("method")
	case !slices.Contains(Outcomes, in.Outcome):
		return errs.E(errs.Invalid, "err.lead.outcome").OnField("outcome")
	case in.Outcome == "left" && in.LeftTo == "":
		return errs.E(errs.Invalid, "err.lead.left_to").OnField("left_to")
	case in.Note == "" || len([]rune(in.Note)) > 2000:
		return errs.E(errs.Invalid, "err.lead.note").OnField("note")
	case in.Method == "visit" && len(in.Photo) == 0:
		return errs.E(errs.Invalid, "err.lead.photo").OnField("photo")
	case in.Method == "phone" && in.CallRecord == "":
		return errs.E(errs.Invalid, "err.lead.call").OnField("call_record")
	case in.Measure == "":
		in.Measure = "none"
	}
	if !slices.Contains(Measures, in.Measure) {
		return errs.E(errs.Invalid, "err.lead.measure").OnField("measure")
	}
	if len(in.Photo) > 0 {
		if len(in.Photo) > 2<<20 {
			return errs.E(errs.Invalid, "err.visit.photo_size", 2).OnField("photo")
		}
		if ct := http.DetectContentType(in.Photo); ct != "image/jpeg" && ct != "image/png" && ct != "image/webp" {
			return errs.E(errs.Invalid, "err.visit.photo_type").OnField("photo")
		}
	}
	a := ledger.Actor{P: p, Source: store.SourceVisit}
	var steps []ledger.Step
	today := s.Store.Today()
	if in.Measure != "none" {
		if l.PersonID == "" || in.Outcome != "found" {
			return errs.E(errs.Invalid, "err.lead.measure_needs_person").OnField("measure")
		}
		var st ledger.Step
		if in.Measure == "test" {
			st, err = s.Ledger.PlanTest(ctx, a, store.HealthTest{PersonID: l.PersonID, Kind: "nucleic", Result: "pending", SampledAt: s.Store.Now()})
		} else {
			days := in.Days
			if days <= 0 || days > 28 {
				days = 7
			}
			end := s.Store.Now().In(cst).AddDate(0, 0, days-1).Format("2006-01-02")
			st, err = s.Ledger.PlanMonitoring(ctx, a, store.Monitoring{PersonID: l.PersonID, Kind: in.Measure, StartDate: today, EndDate: end, Reason: l.Reason})
		}
		if err != nil {
			return err
		}
		steps = append(steps, st)
	}
	if rep, err := s.Store.SelfReportOfLead(ctx, l.ID); err == nil && l.PersonID != "" && in.Outcome == "found" {
		st, err := s.Ledger.PlanTravel(ctx, a, store.TravelDeclaration{PersonID: l.PersonID, FromPlace: rep.FromPlace, ArrivalDate: rep.ArrivalDate,
			Transport: rep.Transport})
		if err != nil {
			return err
		}
		steps = append(steps, st)
	}
	var proof []byte
	if len(in.Photo) > 0 {
		if proof, err = s.Keys.Encrypt(in.Photo, "leads.proof"); err != nil {
			return err
		}
	}
	note := in.Note
	if in.LeftTo != "" {
		note = "去向：" + in.LeftTo + "。" + note
	}
	if in.CallRecord != "" {
		note += "（通话：" + in.CallRecord + "）"
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.VerifyLead(ctx, l.ID, in.Outcome, note, in.Measure, proof, p.UserID); err != nil {
			return err
		}
		for _, st := range steps {
			if err := st(ctx, tx); err != nil {
				return err
			}
		}
		if err := tx.LeadEvent(ctx, l.ID, p.UserID, p.Name, "verified", in.Method+":"+in.Outcome+":"+in.Measure); err != nil {
			return err
		}
		return tx.EmitChange(ctx, store.HookLeadVerified, l.ID, path, "")
	})
}

// Transfer hands a lead to another node of the tree (the community where
// the person really lives, say). Matched to someone living below the new
// node, it goes straight on to their grid worker.
func (s *Service) Transfer(ctx context.Context, p *access.Principal, leadID, toNodeID, reason string) error {
	l, path, err := s.Store.Lead(ctx, leadID)
	if err != nil {
		return err
	}
	if !p.Can(access.LeadManage, path) {
		return errs.E(errs.Forbidden, "err.forbidden")
	}
	to, err := s.Store.OrgNode(ctx, toNodeID)
	if err != nil {
		return errs.E(errs.Invalid, "err.lead.node").OnField("node")
	}
	node, room, assignee := to.ID, l.RoomID, ""
	if l.PersonID != "" {
		homes, err := s.Store.CurrentHomes(ctx, []string{l.PersonID})
		if err != nil {
			return err
		}
		if h, ok := homes[l.PersonID]; ok && strings.HasPrefix(h.Path, to.Path) {
			node, room, assignee = orDefaultStr(h.GridID, h.CommunityID), h.RoomID, s.worker(ctx, h.GridID)
		}
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.RouteLead(ctx, l.ID, node, l.PersonID, room, assignee, l.MatchKind, l.Confidence); err != nil {
			return err
		}
		return tx.LeadEvent(ctx, l.ID, p.UserID, p.Name, "transferred", to.Name+"："+strings.TrimSpace(reason))
	})
	if err == nil && assignee != "" && s.Notify != nil {
		// The receiver learns at once; the lead is also on their phone.
		if u, uerr := s.Store.User(ctx, assignee); uerr == nil {
			_ = s.Notify(ctx, u, "收到一条转交的线索，请在截止日期 "+l.Deadline+" 前核查反馈。")
		}
	}
	return err
}

// MatchByHand settles an unmatched lead on a person found by searching
// the ledger, and sends it to their grid worker when they live below the
// lead's node.
func (s *Service) MatchByHand(ctx context.Context, p *access.Principal, leadID, personID string) error {
	l, path, err := s.Store.Lead(ctx, leadID)
	if err != nil {
		return err
	}
	if !p.Can(access.LeadManage, path) {
		return errs.E(errs.Forbidden, "err.forbidden")
	}
	if _, err := s.Store.Person(ctx, personID); err != nil {
		return errs.E(errs.Invalid, "err.gate.list_person").OnField("person")
	}
	homes, err := s.Store.CurrentHomes(ctx, []string{personID})
	if err != nil {
		return err
	}
	node, room, assignee := l.NodeID, "", ""
	if h, ok := homes[personID]; ok {
		room = h.RoomID
		if strings.HasPrefix(h.Path, path) {
			node, assignee = orDefaultStr(h.GridID, h.CommunityID), s.worker(ctx, h.GridID)
		}
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.RouteLead(ctx, l.ID, node, personID, room, assignee, "manual", 100); err != nil {
			return err
		}
		return tx.LeadEvent(ctx, l.ID, p.UserID, p.Name, "matched", "manual")
	})
}

// Reassign gives a lead to another grid worker of its grid.
func (s *Service) Reassign(ctx context.Context, p *access.Principal, leadID, userID string) error {
	l, path, err := s.Store.Lead(ctx, leadID)
	if err != nil {
		return err
	}
	if !p.Can(access.LeadManage, path) {
		return errs.E(errs.Forbidden, "err.forbidden")
	}
	workers, err := s.Store.GridWorkers(ctx, l.NodeID)
	if err != nil || !slices.Contains(workers, userID) {
		return errs.E(errs.Invalid, "err.grid.leader").OnField("user")
	}
	u, err := s.Store.User(ctx, userID)
	if err != nil {
		return err
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.RouteLead(ctx, l.ID, l.NodeID, l.PersonID, l.RoomID, userID, l.MatchKind, l.Confidence); err != nil {
			return err
		}
		return tx.LeadEvent(ctx, l.ID, p.UserID, p.Name, "reassigned", u.DisplayName)
	})
}

// worker is the first grid worker of a grid, or "".
func (s *Service) worker(ctx context.Context, gridID string) string {
	if gridID == "" {
		return ""
	}
	if ws, err := s.Store.GridWorkers(ctx, gridID); err == nil && len(ws) > 0 {
		return ws[0]
	}
	return ""
}

// Notify tells a worker something (an SMS gateway; the log by default).
type Notify func(ctx context.Context, user store.User, text string) error

// RemindOverdue reminds the workers of overdue leads at or below a node
// (of one batch, or all with batchID ""), once a day per lead: each worker
// gets one message with their count, and each lead a "reminded" line in
// its history. It returns how many workers and leads were reminded.
func (s *Service) RemindOverdue(ctx context.Context, p *access.Principal, batchID, nodeID string, notify Notify) (int, int, error) {
	path := ""
	if nodeID != "" {
		node, err := s.Store.OrgNode(ctx, nodeID)
		if err != nil {
			return 0, 0, err
		}
		path = node.Path
	}
	if p != nil && !p.Can(access.LeadManage, path) {
		return 0, 0, errs.E(errs.Forbidden, "err.forbidden")
	}
	today := s.Store.Today()
	overdue, err := s.Store.OverdueLeads(ctx, batchID, path, today)
	if err != nil {
		return 0, 0, err
	}
	byWorker := map[string]int{}
	actor, actorName := "", "system"
	if p != nil {
		actor, actorName = p.UserID, p.Name
	}
	reminded := 0
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		for _, l := range overdue {
			// Another instance may be sending today's reminders right now:
			// each lead is reminded of once a day.
			ok, err := tx.ClaimReminder(ctx, l.ID, actor, actorName, today)
			if err != nil {
				return err
			}
			if ok {
				byWorker[l.AssigneeID]++
				reminded++
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	for id, n := range byWorker {
		u, err := s.Store.User(ctx, id)
		if err != nil {
			continue
		}
		if err := notify(ctx, u, "您有 "+itoa(n)+" 条线索已超过核查时限，请尽快核查并反馈。"); err != nil {
			return len(byWorker), reminded, err
		}
	}
	return len(byWorker), reminded, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
