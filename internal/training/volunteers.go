package training

import (
	"context"
	"slices"
	"strings"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/pinyin"
	"shequ/internal/store"
)

// Kinds of register entries: a volunteer, a party member, or both.
var Kinds = []string{"volunteer", "party", "both"}

// Mobilisation targets.
var Targets = []string{"campaign", "event", "task"}

// Encryption and blind-index contexts of a volunteer's phone. The blind
// index is the ledger's, so the same phone finds both.
const (
	ctxPhone  = "volunteers.phone"
	bidxPhone = "phone"
)

// VolunteerInput is a register entry as a form gives it.
type VolunteerInput struct {
	CommunityID string
	Name        string
	Phone       string // on update, "" keeps the stored number
	Kind        string
	PartyBranch string // required of party members
	Skills      string
	PersonID    string // optional link to the ledger
	JoinedOn    string // "" today
	Note        string
}

func (s *Service) checkVolunteer(ctx context.Context, in VolunteerInput, v *store.Volunteer, creating bool) error {
	v.Name, v.Kind, v.PartyBranch = trimmed(in.Name, 30), in.Kind, trimmed(in.PartyBranch, 60)
	v.Skills, v.Note = trimmed(in.Skills, 200), trimmed(in.Note, 500)
	if v.Name == "" {
		return errs.E(errs.Invalid, "err.volunteer.name").OnField("name")
	}
	if strings.TrimSpace(in.Phone) == "" && creating {
		return errs.E(errs.Invalid, "err.volunteer.phone").OnField("phone")
	}
	if strings.TrimSpace(in.Phone) != "" {
		phone, err := pii.NormalizePhone(in.Phone)
		if err != nil {
			return errs.E(errs.Invalid, "err.phone_invalid").OnField("phone")
		}
		if v.PhoneEnc, err = s.Keys.EncryptString(phone, ctxPhone); err != nil {
			return err
		}
		v.PhoneBidx, v.PhoneMask = s.Keys.BlindIndex(phone, bidxPhone), pii.MaskPhone(phone)
	}
	if !slices.Contains(Kinds, v.Kind) {
		return errs.E(errs.Invalid, "err.volunteer.kind").OnField("kind")
	}
	if v.Kind != "volunteer" && v.PartyBranch == "" {
		return errs.E(errs.Invalid, "err.volunteer.branch").OnField("party_branch")
	}
	v.JoinedOn = s.Store.Today()
	if strings.TrimSpace(in.JoinedOn) != "" {
		d, ok := parseDate(in.JoinedOn)
		if !ok {
			return errs.E(errs.Invalid, "err.date").OnField("joined_on")
		}
		if d > s.Store.Today() {
			return errs.E(errs.Invalid, "err.volunteer.joined_future").OnField("joined_on")
		}
		v.JoinedOn = d
	}
	v.PersonID = in.PersonID
	if v.PersonID != "" {
		if _, err := s.Store.Person(ctx, v.PersonID); err != nil {
			return errs.E(errs.Invalid, "err.volunteer.person").OnField("id_number")
		}
	}
	return nil
}

// RegisterVolunteer adds a volunteer or party member to a community's
// register; a phone is registered once per community.
func (s *Service) RegisterVolunteer(ctx context.Context, p *access.Principal, in VolunteerInput) (store.Volunteer, error) {
	comm, err := s.community(ctx, p, in.CommunityID, access.AssessManage)
	if err != nil {
		return store.Volunteer{}, err
	}
	v := store.Volunteer{CommunityID: comm.ID, CreatedBy: p.UserID}
	if err := s.checkVolunteer(ctx, in, &v, true); err != nil {
		return v, err
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if other, err := tx.VolunteerByPhone(ctx, comm.ID, v.PhoneBidx); err != nil || other != "" {
			if err == nil {
				err = errs.E(errs.Invalid, "err.volunteer.duplicate").OnField("phone")
			}
			return err
		}
		if err := tx.CreateVolunteer(ctx, &v); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "volunteer.register", "volunteer", v.ID, comm.ID, "kind", v.Kind)
	})
	return v, err
}

// UpdateVolunteer changes a register entry.
func (s *Service) UpdateVolunteer(ctx context.Context, p *access.Principal, id string, in VolunteerInput) (store.Volunteer, error) {
	v, err := s.Store.Volunteer(ctx, id)
	if err != nil {
		return v, err
	}
	comm, err := s.community(ctx, p, v.CommunityID, access.AssessManage)
	if err != nil {
		return v, err
	}
	if err := s.checkVolunteer(ctx, in, &v, false); err != nil {
		return v, err
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if other, err := tx.VolunteerByPhone(ctx, comm.ID, v.PhoneBidx); err != nil || (other != "" && other != v.ID) {
			if err == nil {
				err = errs.E(errs.Invalid, "err.volunteer.duplicate").OnField("phone")
			}
			return err
		}
		if err := tx.UpdateVolunteer(ctx, &v); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "volunteer.update", "volunteer", v.ID, comm.ID, "kind", v.Kind, "phone_changed", strings.TrimSpace(in.Phone) != "")
	})
	return v, err
}

// SetVolunteerActive takes a volunteer off the register (no longer
// mobilised; their hours stay) or back on it.
func (s *Service) SetVolunteerActive(ctx context.Context, p *access.Principal, id string, active bool) error {
	v, err := s.Store.Volunteer(ctx, id)
	if err != nil {
		return err
	}
	comm, err := s.community(ctx, p, v.CommunityID, access.AssessManage)
	if err != nil {
		return err
	}
	v.Active = active
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateVolunteer(ctx, &v); err != nil {
			return err
		}
		action := "volunteer.deactivate"
		if active {
			action = "volunteer.reactivate"
		}
		return s.audit(ctx, tx, p, action, "volunteer", v.ID, comm.ID)
	})
}

// MobiliseInput sends volunteers to a campaign, an event or a task on a
// day; hours may be given at once for a day already past.
type MobiliseInput struct {
	CommunityID  string
	VolunteerIDs []string
	Target       string // campaign, event, task
	CampaignID   string
	EventID      string
	Task         string
	OnDate       string
	Hours        string // optional: the hours each served
}

// Mobilise gives each chosen active volunteer of the community a duty; a
// volunteer already on the same duty that day is not added twice. It
// returns how many duties it made.
func (s *Service) Mobilise(ctx context.Context, p *access.Principal, in MobiliseInput) (int, error) {
	comm, err := s.community(ctx, p, in.CommunityID, access.AssessManage)
	if err != nil {
		return 0, err
	}
	d := store.Duty{CommunityID: comm.ID, CreatedBy: p.UserID}
	var ok bool
	if len(in.VolunteerIDs) == 0 {
		return 0, errs.E(errs.Invalid, "err.volunteer.none_chosen").OnField("volunteers")
	}
	switch in.Target {
	case "campaign":
		c, _, err := s.Store.Campaign(ctx, in.CampaignID)
		if err != nil || c.CommunityID != comm.ID {
			return 0, errs.E(errs.Invalid, "err.volunteer.campaign").OnField("campaign")
		}
		d.CampaignID = c.ID
	case "event":
		owner, err := s.Store.EventCommunity(ctx, in.EventID)
		if err != nil || owner != comm.ID {
			return 0, errs.E(errs.Invalid, "err.volunteer.event").OnField("event")
		}
		d.EventID = in.EventID
	case "task":
		if d.Task = trimmed(in.Task, 100); d.Task == "" {
			return 0, errs.E(errs.Invalid, "err.volunteer.task").OnField("task")
		}
	default:
		return 0, errs.E(errs.Invalid, "err.volunteer.target").OnField("target")
	}
	if d.OnDate, ok = parseDate(in.OnDate); !ok {
		return 0, errs.E(errs.Invalid, "err.date").OnField("on_date")
	}
	if strings.TrimSpace(in.Hours) != "" {
		if d.Minutes, ok = parseHours(in.Hours, 24); !ok {
			return 0, errs.E(errs.Invalid, "err.volunteer.hours").OnField("hours")
		}
		if d.OnDate > s.Store.Today() {
			return 0, errs.E(errs.Invalid, "err.volunteer.hours_future").OnField("hours")
		}
		d.RecordedBy, d.RecordedAt = p.UserID, s.Store.Now()
	}
	var chosen []string
	for _, id := range in.VolunteerIDs {
		v, err := s.Store.Volunteer(ctx, id)
		if err != nil || v.CommunityID != comm.ID {
			return 0, errs.E(errs.Invalid, "err.volunteer.unknown").OnField("volunteers")
		}
		if !v.Active {
			return 0, errs.E(errs.Invalid, "err.volunteer.inactive", v.Name).OnField("volunteers")
		}
		if !slices.Contains(chosen, id) {
			chosen = append(chosen, id)
		}
	}
	made := 0
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		for _, id := range chosen {
			duty := d
			duty.VolunteerID = id
			dup, err := tx.DutyExists(ctx, &duty)
			if err != nil {
				return err
			}
			if dup {
				continue
			}
			if err := tx.InsertDuty(ctx, &duty); err != nil {
				return err
			}
			made++
		}
		return s.audit(ctx, tx, p, "volunteer.mobilise", "community", comm.ID, comm.ID, "target", in.Target, "campaign", d.CampaignID,
			"event", d.EventID, "on_date", d.OnDate, "volunteers", made)
	})
	return made, err
}

// RecordHours records the hours a volunteer served on a duty (0: did not
// come); a duty in the future has none yet.
func (s *Service) RecordHours(ctx context.Context, p *access.Principal, dutyID, hours string) error {
	d, err := s.Store.Duty(ctx, dutyID)
	if err != nil {
		return err
	}
	comm, err := s.community(ctx, p, d.CommunityID, access.AssessManage)
	if err != nil {
		return err
	}
	minutes, ok := parseHours(hours, 24)
	if !ok || strings.TrimSpace(hours) == "" {
		return errs.E(errs.Invalid, "err.volunteer.hours").OnField("hours")
	}
	if d.OnDate > s.Store.Today() {
		return errs.E(errs.Invalid, "err.volunteer.hours_future").OnField("hours")
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.SetDutyMinutes(ctx, d.ID, minutes, p.UserID); err != nil {
			return err
		}
		return s.audit(ctx, tx, p, "volunteer.hours", "duty", d.ID, comm.ID, "volunteer", d.VolunteerID, "minutes", minutes, "before", d.Minutes)
	})
}

// Period is a span of days, both ends included.
type Period struct{ From, To string }

// Year is the calendar year so far of today (YYYY-MM-DD).
func Year(today string) Period { return Period{From: today[:4] + "-01-01", To: today} }

// RegisterFilter selects the register as the page shows it.
type RegisterFilter struct {
	CommunityID string
	Kind        string
	Name        string
	Inactive    bool
	From, To    string // "" the year so far
}

// Register is a community's register with hours in a period, the duties
// waiting for their hours and the latest ones, and what volunteers can be
// mobilised into.
type Register struct {
	Community  store.OrgNode
	Period     Period
	Volunteers []store.Volunteer
	Minutes    int // all hours in the period
	Duties     []store.Duty
	Campaigns  []store.Campaign
	Events     []store.EventChoice
}

// Hours is all the time served in the period, in hours.
func (r Register) Hours() string { return store.HoursText(r.Minutes) }

// Register lists a community's register with each one's hours in a
// period (the year so far unless given).
func (s *Service) Register(ctx context.Context, p *access.Principal, f RegisterFilter) (Register, error) {
	comm, err := s.community(ctx, p, f.CommunityID, access.AssessView)
	if err != nil {
		return Register{}, err
	}
	r := Register{Community: comm, Period: Year(s.Store.Today())}
	if f.From != "" || f.To != "" {
		from, ok1 := parseDate(f.From)
		to, ok2 := parseDate(f.To)
		switch {
		case !ok1:
			return r, errs.E(errs.Invalid, "err.date").OnField("from")
		case !ok2:
			return r, errs.E(errs.Invalid, "err.date").OnField("to")
		case from > to:
			return r, errs.E(errs.Invalid, "err.volunteer.period").OnField("from")
		}
		r.Period = Period{From: from, To: to}
	}
	if !slices.Contains([]string{"", "volunteer", "party"}, f.Kind) {
		return r, errs.E(errs.Invalid, "err.volunteer.kind").OnField("kind")
	}
	r.Volunteers, err = s.Store.Volunteers(ctx, store.VolunteerFilter{CommunityID: comm.ID, Kind: f.Kind, Name: trimmed(f.Name, 30),
		Inactive: f.Inactive, From: r.Period.From, To: r.Period.To})
	if err != nil {
		return r, err
	}
	slices.SortStableFunc(r.Volunteers, func(a, b store.Volunteer) int {
		if a.Active != b.Active {
			return boolOrder(a.Active)
		}
		return pinyin.Compare(a.Name, b.Name)
	})
	for _, v := range r.Volunteers {
		r.Minutes += v.Minutes
	}
	if r.Duties, err = s.Store.Duties(ctx, comm.ID, "", 60); err != nil {
		return r, err
	}
	camps, err := s.Store.Campaigns(ctx, []string{comm.ID})
	if err != nil {
		return r, err
	}
	for _, c := range camps {
		if c.Status == "open" {
			r.Campaigns = append(r.Campaigns, c)
		}
	}
	r.Events, err = s.Store.RecentEvents(ctx, comm.ID, 50)
	return r, err
}

// VolunteerView is one volunteer with their duties and hours.
type VolunteerView struct {
	Volunteer store.Volunteer
	Community store.OrgNode
	Duties    []store.Duty
	Minutes   int // all recorded time
	Year      int // recorded time this year
}

// TotalHours and YearHours show the recorded time in hours.
func (v VolunteerView) TotalHours() string { return store.HoursText(v.Minutes) }

// YearHours is the time recorded this year, in hours.
func (v VolunteerView) YearHours() string { return store.HoursText(v.Year) }

// Volunteer shows one volunteer of a community p may see.
func (s *Service) Volunteer(ctx context.Context, p *access.Principal, id string) (VolunteerView, error) {
	v, err := s.Store.Volunteer(ctx, id)
	if err != nil {
		return VolunteerView{}, err
	}
	comm, err := s.community(ctx, p, v.CommunityID, access.AssessView)
	if err != nil {
		return VolunteerView{}, err
	}
	vv := VolunteerView{Volunteer: v, Community: comm}
	if vv.Duties, err = s.Store.Duties(ctx, comm.ID, v.ID, 500); err != nil {
		return vv, err
	}
	year := Year(s.Store.Today())
	for _, d := range vv.Duties {
		vv.Minutes += d.Minutes
		if d.OnDate >= year.From && d.OnDate <= year.To {
			vv.Year += d.Minutes
		}
	}
	return vv, nil
}

// Totals gives each active volunteer's minutes in a period (by id).
func (s *Service) Totals(ctx context.Context, p *access.Principal, communityID string, period Period) (map[string]int, error) {
	r, err := s.Register(ctx, p, RegisterFilter{CommunityID: communityID, From: period.From, To: period.To, Inactive: true})
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, v := range r.Volunteers {
		out[v.ID] = v.Minutes
	}
	return out, nil
}

// boolOrder puts true first.
func boolOrder(first bool) int {
	if first {
		return -1
	}
	return 1
}
