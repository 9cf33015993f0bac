package leads

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// BatchInput is a batch of leads arriving at a node of the tree.
type BatchInput struct {
	NodeID    string
	Name      string
	Deadline  string     // YYYY-MM-DD: when every lead must be verified (a row may set its own)
	Source    string     // import or api
	File      []byte     // a sheet or CSV
	Table     [][]string // or the rows themselves, a header first (the API)
	KeyID     string     // the agreement its keyed identifiers use
	ValidOnly bool       // import the good rows and skip the ones with problems
}

// ImportResult says what became of a batch.
type ImportResult struct {
	Batch                                                 store.LeadBatch
	Rows, ByID, ByPhone, Fuzzy, Assigned, Unmatched, Away int
	Problems                                              []Problem
}

// ImportBatch reads a lead file and stores its leads, matched against the
// ledger and sent down the tree: a lead matched to someone living below
// the batch's node goes to the grid of their room and its worker; the rest
// wait at the node, unmatched for manual search, or matched to someone
// living elsewhere, to be transferred. With problems in the file nothing
// is stored unless ValidOnly.
func (s *Service) ImportBatch(ctx context.Context, p *access.Principal, in BatchInput) (ImportResult, error) {
	var res ImportResult
	node, err := s.Store.OrgNode(ctx, in.NodeID)
	if err != nil {
		return res, errs.E(errs.Invalid, "err.lead.node").OnField("node")
	}
	if p != nil && !p.Can(access.LeadManage, node.Path) {
		return res, errs.E(errs.Forbidden, "err.forbidden")
	}
	name := strings.TrimSpace(in.Name)
	d, derr := time.Parse("2006-01-02", in.Deadline)
	switch {
	case name == "" || len([]rune(name)) > 100:
		return res, errs.E(errs.Invalid, "err.org_name_required").OnField("name")
	case derr != nil:
		return res, errs.E(errs.Invalid, "err.date").OnField("deadline")
	case d.Format("2006-01-02") < s.Store.Today():
		return res, errs.E(errs.Invalid, "err.campaign.past_deadline").OnField("deadline")
	}
	var lf LeadFile
	if in.Table != nil {
		lf, err = parseTable(in.Table, s.Store.Now())
	} else {
		lf, err = ParseLeadFile(in.File, s.Store.Now())
	}
	if err != nil {
		return res, err
	}
	res.Problems = lf.Problems
	if len(lf.Problems) > 0 && !in.ValidOnly {
		return res, errs.E(errs.Invalid, "err.lead.problems", len(lf.Problems))
	}
	layout, _ := json.Marshal(lf.Header)
	b := store.LeadBatch{NodeID: node.ID, Name: name, Source: orDefaultStr(in.Source, "import"), Deadline: in.Deadline, Layout: string(layout), KeyID: in.KeyID}
	var keyed map[string]string
	for _, r := range lf.Rows {
		if r.HMAC != "" && keyed == nil {
			if in.KeyID == "" {
				return res, errs.E(errs.Invalid, "err.lead.key").OnField("key_id")
			}
			if keyed, err = s.keyedPeople(ctx, in.KeyID, node); err != nil {
				return res, err
			}
		}
	}
	if p != nil {
		b.CreatedBy = p.UserID
	}
	leads, err := s.match(ctx, lf.Rows, node, keyed, &res)
	if err != nil {
		return res, err
	}
	actor, actorName := "", "system"
	if p != nil {
		actor, actorName = p.UserID, p.Name
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateBatch(ctx, &b); err != nil {
			return err
		}
		for i := range leads {
			l := &leads[i]
			l.BatchID = b.ID
			if l.Deadline == "" {
				l.Deadline = b.Deadline
			}
			if err := tx.CreateLead(ctx, l); err != nil {
				return err
			}
			if err := tx.LeadEvent(ctx, l.ID, actor, actorName, "created", l.MatchKind); err != nil {
				return err
			}
		}
		return nil
	})
	res.Batch, res.Rows = b, len(leads)
	return res, err
}

// match finds each row's person and where the lead goes.
func (s *Service) match(ctx context.Context, rows []LeadRow, node store.OrgNode, keyed map[string]string, res *ImportResult) ([]store.Lead, error) {
	leads := make([]store.Lead, len(rows))
	var idB, phoneB, names []string
	for i, r := range rows {
		l := store.Lead{RowNo: r.Line, Name: r.Name, Address: r.Address, Reason: r.Reason, Deadline: r.Deadline, NodeID: node.ID, Status: "open", MatchKind: "none",
			IDHMAC: r.HMAC}
		cells, _ := json.Marshal(r.Cells)
		var err error
		if l.CellsEnc, err = s.Keys.Encrypt(cells, "leads.cells"); err != nil {
			return nil, err
		}
		if r.ID != "" && !r.IDPartial {
			l.IDBidx = s.Ledger.IDIndex(pii.DocResidentID, r.ID)
			l.IDMask = pii.MaskID(r.ID)
			if l.IDEnc, err = s.Keys.EncryptString(r.ID, "persons.id_number"); err != nil {
				return nil, err
			}
			idB = append(idB, l.IDBidx)
		} else if r.IDPartial {
			l.IDMask = r.ID
		}
		if r.Phone != "" && !r.PhonePartial {
			l.PhoneBidx = s.Ledger.PhoneIndex(r.Phone)
			l.PhoneMask = pii.MaskPhone(r.Phone)
			if l.PhoneEnc, err = s.Keys.EncryptString(r.Phone, "persons.phone"); err != nil {
				return nil, err
			}
			phoneB = append(phoneB, l.PhoneBidx)
		} else if r.PhonePartial {
			l.PhoneMask = r.Phone
		}
		leads[i] = l
		if l.IDBidx == "" && r.HMAC == "" {
			names = append(names, r.Name)
		}
	}
	byID, err := s.Store.PersonsByBidxes(ctx, "id_bidx", idB)
	if err != nil {
		return nil, err
	}
	byPhone, err := s.Store.PersonsByBidxes(ctx, "phone_bidx", phoneB)
	if err != nil {
		return nil, err
	}
	named, err := s.Store.PersonsNamed(ctx, names)
	if err != nil {
		return nil, err
	}
	candidates := map[string][]store.PersonHint{}
	for _, h := range named {
		candidates[h.Name] = append(candidates[h.Name], h)
	}
	var matched []string
	for i := range leads {
		l := &leads[i]
		switch ids := byID[l.IDBidx]; {
		case l.IDHMAC != "":
			if p, ok := keyed[l.IDHMAC]; ok {
				l.PersonID, l.MatchKind, l.Confidence = p, "hmac", 100
				if person, err := s.Store.Person(ctx, p); err == nil { // one of ours: we know them already
					l.IDMask = person.IDMask
					l.Name = orDefaultStr(l.Name, person.Name)
				}
				res.ByID++
			}
		case l.IDBidx != "" && len(ids) > 0:
			l.PersonID, l.MatchKind, l.Confidence = ids[0], "id", 100
			res.ByID++
		case l.PhoneBidx != "" && len(byPhone[l.PhoneBidx]) == 1:
			l.PersonID, l.MatchKind, l.Confidence = byPhone[l.PhoneBidx][0], "phone", 90
			res.ByPhone++
		case l.IDBidx == "" && l.Name != "":
			if id, conf := fuzzy(l, candidates[l.Name]); id != "" {
				l.PersonID, l.MatchKind, l.Confidence = id, "fuzzy", conf
				res.Fuzzy++
			}
		}
		if l.PersonID != "" {
			matched = append(matched, l.PersonID)
		} else {
			res.Unmatched++
		}
	}
	homes, err := s.Store.CurrentHomes(ctx, matched)
	if err != nil {
		return nil, err
	}
	workers := map[string]string{} // grid → its worker, asked once
	for i := range leads {
		l := &leads[i]
		h, ok := homes[l.PersonID]
		switch {
		case l.PersonID == "":
		case !ok:
			// Matched, but living nowhere in the ledger now: the node decides.
		case !strings.HasPrefix(h.Path, node.Path):
			res.Away++ // lives in another part of the tree: to be transferred
			l.RoomID = h.RoomID
		default:
			l.RoomID, l.NodeID = h.RoomID, orDefaultStr(h.GridID, h.CommunityID)
			w, asked := workers[h.GridID]
			if !asked {
				w = s.worker(ctx, h.GridID)
				workers[h.GridID] = w
			}
			if w != "" {
				l.AssigneeID, l.Status = w, "assigned"
				res.Assigned++
			}
		}
	}
	return leads, nil
}

// fuzzy picks the one person named like the lead whose masked identity
// number and phone agree with what the sender left visible, with a
// confidence in percent; none when two fit as well, or nothing agrees.
func fuzzy(l *store.Lead, people []store.PersonHint) (string, int) {
	best, bestScore, tie := "", 0, false
	for _, h := range people {
		idAgree, idOK := agree(l.IDMask, h.IDMask)
		phoneAgree, phoneOK := agree(l.PhoneMask, h.PhoneMask)
		if !idOK || !phoneOK {
			continue // a visible digit differs: someone else
		}
		score := 40 + min(idAgree, 10)*4
		if phoneAgree >= 7 {
			score += 15
		}
		score = min(score, 95)
		switch {
		case score > bestScore:
			best, bestScore, tie = h.ID, score, false
		case score == bestScore:
			tie = true
		}
	}
	if tie || bestScore < 60 {
		return "", 0
	}
	return best, bestScore
}

// agree compares two masked strings where both show a character: how many
// agree, and false if any differ (or the lengths do).
func agree(a, b string) (int, bool) {
	if a == "" || b == "" {
		return 0, true
	}
	if len(a) != len(b) {
		return 0, true // different masking schemes: no evidence either way
	}
	n := 0
	for i := 0; i < len(a); i++ {
		if a[i] == '*' || b[i] == '*' {
			continue
		}
		if a[i] != b[i] {
			return n, false
		}
		n++
	}
	return n, true
}

// Board is a batch's progress seen from one node: the node itself and
// each part of the tree below it.
type Board struct {
	Batch store.LeadBatch
	Node  store.OrgNode
	Total store.LeadCount
	Here  store.LeadCount // waiting at the node itself (unmatched, to transfer)
	Parts []BoardPart     // one per child node with leads
}

// BoardPart is a child node's share.
type BoardPart struct {
	Node store.OrgNode
	store.LeadCount
}

// Board counts a batch's leads at and below a node p may see.
func (s *Service) Board(ctx context.Context, p *access.Principal, batchID, nodeID string) (Board, error) {
	var bd Board
	b, _, err := s.Store.Batch(ctx, batchID)
	if err != nil {
		return bd, err
	}
	node, err := s.Store.OrgNode(ctx, nodeID)
	if err != nil {
		return bd, err
	}
	if !p.CanAtOrBelow(access.LeadView, node.Path) {
		return bd, errs.E(errs.Forbidden, "err.forbidden")
	}
	counts, err := s.Store.BatchCounts(ctx, b.ID, node.Path, s.Store.Today())
	if err != nil {
		return bd, err
	}
	children, err := s.Store.OrgChildren(ctx, node.ID)
	if err != nil {
		return bd, err
	}
	parts := map[string]*BoardPart{}
	for _, c := range counts {
		add(&bd.Total, c)
		if c.Path == node.Path {
			add(&bd.Here, c)
			continue
		}
		for _, ch := range children {
			if strings.HasPrefix(c.Path, ch.Path) {
				bp := parts[ch.ID]
				if bp == nil {
					bp = &BoardPart{Node: ch}
					parts[ch.ID] = bp
				}
				add(&bp.LeadCount, c)
			}
		}
	}
	for _, bp := range parts {
		bd.Parts = append(bd.Parts, *bp)
	}
	sort.Slice(bd.Parts, func(i, j int) bool { return bd.Parts[i].Node.Code < bd.Parts[j].Node.Code })
	bd.Batch, bd.Node = b, node
	return bd, nil
}

func add(to *store.LeadCount, c store.LeadCount) {
	to.Total += c.Total
	to.Matched += c.Matched
	to.Assigned += c.Assigned
	to.Verified += c.Verified
	to.Overdue += c.Overdue
	to.Remain += c.Remain
}

// ReportRow is one lead as reported back up: the sender's own cells and
// the result of the verification.
type ReportRow struct {
	Cells                                    []string
	Status, Outcome, Note, Measure, Verified string
	Node                                     string
}

// Report gives a batch's leads at or below a node p may see, with the
// sender's header, for the report back in the sender's layout.
func (s *Service) Report(ctx context.Context, p *access.Principal, batchID, nodeID string) (store.LeadBatch, []string, []ReportRow, error) {
	b, _, err := s.Store.Batch(ctx, batchID)
	if err != nil {
		return b, nil, nil, err
	}
	node, err := s.Store.OrgNode(ctx, nodeID)
	if err != nil {
		return b, nil, nil, err
	}
	if !p.Can(access.LeadView, node.Path) {
		return b, nil, nil, errs.E(errs.Forbidden, "err.forbidden")
	}
	var header []string
	_ = json.Unmarshal([]byte(b.Layout), &header)
	ls, err := s.Store.BatchLeads(ctx, b.ID, node.Path)
	if err != nil {
		return b, nil, nil, err
	}
	names := map[string]string{}
	var out []ReportRow
	for _, l := range ls {
		var cells []string
		if len(l.CellsEnc) > 0 {
			plain, err := s.Keys.Decrypt(l.CellsEnc, "leads.cells")
			if err != nil {
				return b, nil, nil, err
			}
			_ = json.Unmarshal(plain, &cells)
		}
		if _, ok := names[l.NodeID]; !ok {
			if n, err := s.Store.OrgNode(ctx, l.NodeID); err == nil {
				names[l.NodeID] = n.Name
			}
		}
		r := ReportRow{Cells: cells, Status: l.Status, Outcome: l.Outcome, Note: l.OutcomeNote, Measure: l.Measure, Node: names[l.NodeID]}
		if !l.VerifiedAt.IsZero() {
			r.Verified = l.VerifiedAt.In(cst).Format("2006-01-02 15:04")
		}
		out = append(out, r)
	}
	return b, header, out, nil
}
