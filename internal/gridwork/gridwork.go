// Package gridwork is the grid workers' side of the ledger: their grids
// and households as a phone needs them (also offline), household visits
// that update the ledger, patrols of grid points, grid-block
// investigation campaigns, and who staffs each grid.
package gridwork

import (
	"context"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/ledger"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// Service is grid work over the store and the ledger.
type Service struct {
	Store  *store.Store
	Keys   *pii.Keyring
	Ledger *ledger.Service
}

// Needs a household can be found to have during a visit.
var Needs = []string{"medicine", "elderly_care", "food", "medical_visit", "disability_care", "psychological", "other"}

// MyGrids lists the grids where p does grid work: the grids of their
// assignments, and every grid below a broader one.
func (s *Service) MyGrids(ctx context.Context, p *access.Principal) ([]store.OrgNode, error) {
	return s.Store.NodesAt(ctx, p.Scopes(access.GridWork), store.LevelGrid)
}

// Bundle is what a grid worker's home page draws and the phone keeps for
// working offline: their grids' rooms (with how many live there), open
// campaign tasks (overdue first), patrol points and checklists. Who lives
// in each room comes separately (Households), after the page is drawn.
type Bundle struct {
	GeneratedAt time.Time        `json:"generated_at"`
	Today       string           `json:"today"`
	Worker      string           `json:"worker"`
	UserID      string           `json:"user_id"` // the phone sends only this worker's queued records
	Grids       []BundleGrid     `json:"grids"`
	Rooms       []BundleRoom     `json:"rooms"`
	Leads       []BundleLead     `json:"leads"` // epidemic leads to verify, the most urgent work
	Tasks       []BundleTask     `json:"tasks"`
	Points      []BundlePoint    `json:"points"`
	Checklists  []BundleChecklst `json:"checklists"`
	Needs       []string         `json:"needs"`
}

// BundleGrid is one of the worker's grids.
type BundleGrid struct {
	ID   string `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
}

// BundleRoom is a household address with who lives there.
type BundleRoom struct {
	ID          string            `json:"id"`
	GridID      string            `json:"grid_id"`
	Address     string            `json:"address"`
	Building    string            `json:"building"`
	Survey      string            `json:"survey"`
	Use         string            `json:"use,omitempty"`
	LastVisit   time.Time         `json:"last_visit,omitzero"`
	LastVisitBy string            `json:"last_visit_by,omitempty"`
	LastNote    string            `json:"last_note,omitempty"`
	Version     int64             `json:"version"`
	People      int               `json:"people"`               // living there now
	Households  []BundleHousehold `json:"households,omitempty"` // only in Households and RoomSnapshot
}

// BundleHousehold is a household living in a room.
type BundleHousehold struct {
	ID      string         `json:"id"`
	Kind    string         `json:"kind"`
	Members []BundleMember `json:"members"`
}

// BundleMember is a household member, masked.
type BundleMember struct {
	PersonID   string    `json:"person_id"`
	Name       string    `json:"name"`
	Relation   string    `json:"relation"`
	Age        int       `json:"age"` // -1 unknown
	Sex        int       `json:"sex"`
	Residency  string    `json:"residency"`
	Doses      int       `json:"doses"`
	TestResult string    `json:"test_result,omitempty"`
	TestAt     time.Time `json:"test_at,omitzero"`
	Monitoring string    `json:"monitoring,omitempty"`
}

// BundleTask is a household a campaign asks the worker to check.
type BundleTask struct {
	CampaignID  string `json:"campaign_id"`
	Campaign    string `json:"campaign"`
	ChecklistID string `json:"checklist_id,omitempty"`
	Deadline    string `json:"deadline"`
	Overdue     bool   `json:"overdue"`
	RoomID      string `json:"room_id"`
	Address     string `json:"address"`
}

// BundleLead is a lead assigned to the worker, masked.
type BundleLead struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	IDMask   string `json:"id_mask"`
	Phone    string `json:"phone_mask"`
	RoomID   string `json:"room_id,omitempty"`
	Address  string `json:"address"`
	Reason   string `json:"reason"`
	Deadline string `json:"deadline"`
	Overdue  bool   `json:"overdue"`
	Person   bool   `json:"person"` // matched to the ledger: measures can be applied
}

// BundlePoint is a patrol point of the worker's grids.
type BundlePoint struct {
	ID          string    `json:"id"`
	Token       string    `json:"token"`
	Name        string    `json:"name"`
	Kind        string    `json:"kind"`
	ChecklistID string    `json:"checklist_id,omitempty"`
	LastAt      time.Time `json:"last_at,omitzero"`
	LastStatus  string    `json:"last_status,omitempty"`
}

// BundleChecklst is a checklist.
type BundleChecklst struct {
	ID    string   `json:"id"`
	Name  string   `json:"name"`
	Items []string `json:"items"`
}

// maxTasks bounds the tasks a phone carries.
const maxTasks = 2000

// Bundle gathers a grid worker's offline bundle.
func (s *Service) Bundle(ctx context.Context, p *access.Principal) (Bundle, error) {
	now := s.Store.Now()
	b := Bundle{GeneratedAt: now, Today: s.Store.Today(), Worker: p.Name, UserID: p.UserID, Grids: []BundleGrid{}, Rooms: []BundleRoom{}, Leads: []BundleLead{}, Tasks: []BundleTask{},
		Points: []BundlePoint{}, Checklists: []BundleChecklst{}, Needs: Needs}
	grids, err := s.MyGrids(ctx, p)
	if err != nil || len(grids) == 0 {
		return b, err
	}
	var ids []string
	comms := map[string]bool{}
	for _, g := range grids {
		ids = append(ids, g.ID)
		comms[g.ParentID] = true
		b.Grids = append(b.Grids, BundleGrid{ID: g.ID, Code: g.Code, Name: g.Name})
	}
	rooms, err := s.Store.GridRooms(ctx, ids)
	if err != nil {
		return b, err
	}
	last, err := s.Store.LastVisits(ctx, ids)
	if err != nil {
		return b, err
	}
	for _, r := range rooms {
		br := BundleRoom{ID: r.ID, GridID: r.GridID, Address: r.Address, Building: r.Building, Survey: r.Survey, Use: r.Use,
			LastVisit: r.LastVisit, Version: r.Version, People: r.People}
		if v, ok := last[r.ID]; ok {
			br.LastVisitBy, br.LastNote = v.UserName, v.Notes
		}
		b.Rooms = append(b.Rooms, br)
	}
	leads, err := s.Store.AssignedLeads(ctx, p.UserID, maxTasks)
	if err != nil {
		return b, err
	}
	addresses := map[string]string{}
	for _, r := range b.Rooms {
		addresses[r.ID] = r.Address
	}
	for _, l := range leads {
		bl := BundleLead{ID: l.ID, Name: pii.MaskName(l.Name), IDMask: l.IDMask, Phone: l.PhoneMask, RoomID: l.RoomID, Address: l.Address,
			Reason: l.Reason, Deadline: l.Deadline, Overdue: l.Deadline < b.Today, Person: l.PersonID != ""}
		if a, ok := addresses[l.RoomID]; ok {
			bl.Address = a
		}
		b.Leads = append(b.Leads, bl)
	}
	tasks, err := s.Store.OpenTasks(ctx, ids, maxTasks)
	if err != nil {
		return b, err
	}
	for _, t := range tasks {
		b.Tasks = append(b.Tasks, BundleTask{CampaignID: t.CampaignID, Campaign: t.CampaignName, ChecklistID: t.ChecklistID, Deadline: t.Deadline,
			Overdue: t.Deadline < b.Today, RoomID: t.RoomID, Address: t.Address})
	}
	points, err := s.Store.PatrolPoints(ctx, nil, ids)
	if err != nil {
		return b, err
	}
	for _, pt := range points {
		b.Points = append(b.Points, BundlePoint{ID: pt.ID, Token: pt.Token, Name: pt.Name, Kind: pt.Kind, ChecklistID: pt.ChecklistID,
			LastAt: pt.LastAt, LastStatus: pt.LastStatus})
	}
	var commIDs []string
	for c := range comms {
		commIDs = append(commIDs, c)
	}
	lists, err := s.Store.Checklists(ctx, commIDs)
	if err != nil {
		return b, err
	}
	for _, c := range lists {
		b.Checklists = append(b.Checklists, BundleChecklst{ID: c.ID, Name: c.Name, Items: c.Items})
	}
	return b, nil
}

// Households gives, per room of the worker's grids, the households living
// there with their members, masked: the second half of the offline bundle,
// fetched after the home page is drawn.
func (s *Service) Households(ctx context.Context, p *access.Principal) (map[string][]BundleHousehold, error) {
	out := map[string][]BundleHousehold{}
	grids, err := s.MyGrids(ctx, p)
	if err != nil || len(grids) == 0 {
		return out, err
	}
	var ids []string
	for _, g := range grids {
		ids = append(ids, g.ID)
	}
	members, err := s.Store.GridMembers(ctx, ids, s.Store.Today())
	if err != nil {
		return out, err
	}
	now := s.Store.Now()
	for _, m := range members {
		hs := out[m.RoomID]
		if len(hs) == 0 || hs[len(hs)-1].ID != m.HouseholdID {
			hs = append(hs, BundleHousehold{ID: m.HouseholdID, Kind: m.HouseholdKind})
		}
		hs[len(hs)-1].Members = append(hs[len(hs)-1].Members, member(m, now))
		out[m.RoomID] = hs
	}
	return out, nil
}

func member(m store.GridMember, now time.Time) BundleMember {
	return BundleMember{PersonID: m.PersonID, Name: pii.MaskName(m.Name), Relation: m.Relation, Age: age(m.BirthDate, now), Sex: m.Sex,
		Residency: m.Residency, Doses: m.Doses, TestResult: m.TestResult, TestAt: m.TestAt, Monitoring: m.Monitoring}
}

// RoomSnapshot is one room as the bundle shows it, for a worker allowed
// there (after a conflict, the phone shows it beside the worker's record).
func (s *Service) RoomSnapshot(ctx context.Context, p *access.Principal, roomID string) (BundleRoom, error) {
	room, path, err := s.Store.Place(ctx, roomID)
	if err != nil {
		return BundleRoom{}, err
	}
	if !p.Can(access.GridWork, path) || room.GridID == "" {
		return BundleRoom{}, errs.E(errs.Forbidden, "err.forbidden")
	}
	rooms, err := s.Store.GridRooms(ctx, []string{room.GridID})
	if err != nil {
		return BundleRoom{}, err
	}
	members, err := s.Store.GridMembers(ctx, []string{room.GridID}, s.Store.Today())
	if err != nil {
		return BundleRoom{}, err
	}
	for _, r := range rooms {
		if r.ID != roomID {
			continue
		}
		br := BundleRoom{ID: r.ID, GridID: r.GridID, Address: r.Address, Building: r.Building, Survey: r.Survey, Use: r.Use,
			LastVisit: r.LastVisit, Version: r.Version, Households: []BundleHousehold{}}
		for _, m := range members {
			if m.RoomID != roomID {
				continue
			}
			if len(br.Households) == 0 || br.Households[len(br.Households)-1].ID != m.HouseholdID {
				br.Households = append(br.Households, BundleHousehold{ID: m.HouseholdID, Kind: m.HouseholdKind})
			}
			h := &br.Households[len(br.Households)-1]
			h.Members = append(h.Members, member(m, s.Store.Now()))
			br.People++
		}
		return br, nil
	}
	return BundleRoom{}, errs.E(errs.NotFound, "err.not_found")
}

func age(birth string, now time.Time) int {
	b, err := time.Parse("2006-01-02", birth)
	if err != nil {
		return -1
	}
	n := now.In(cst)
	a := n.Year() - b.Year()
	if n.Month() < b.Month() || (n.Month() == b.Month() && n.Day() < b.Day()) {
		a--
	}
	return a
}

var cst = time.FixedZone("CST", 8*3600)

func trimmed(s string, max int) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > max {
		return string(r[:max])
	}
	return s
}
