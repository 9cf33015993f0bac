package gridwork

import (
	"context"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/store"
)

// CampaignInput launches a grid-block investigation.
type CampaignInput struct {
	CommunityID string
	Name        string
	GridIDs     []string
	Deadline    string // YYYY-MM-DD, today or later
	ChecklistID string
}

// CreateCampaign launches a campaign: every room with a household in the
// grids becomes a task for its grid worker. It refuses an empty scope (no
// grid, or grids without households) and a deadline in the past.
func (s *Service) CreateCampaign(ctx context.Context, p *access.Principal, in CampaignInput) (store.Campaign, error) {
	comm, err := s.community(ctx, p, in.CommunityID)
	if err != nil {
		return store.Campaign{}, err
	}
	c := store.Campaign{CommunityID: comm.ID, Name: trimmed(in.Name, 100), ChecklistID: in.ChecklistID, Deadline: in.Deadline, CreatedBy: p.UserID}
	d, derr := time.Parse("2006-01-02", in.Deadline)
	switch {
	case c.Name == "":
		return c, errs.E(errs.Invalid, "err.org_name_required").OnField("name")
	case len(in.GridIDs) == 0:
		return c, errs.E(errs.Invalid, "err.campaign.no_grid").OnField("grids")
	case derr != nil:
		return c, errs.E(errs.Invalid, "err.date").OnField("deadline")
	case d.Format("2006-01-02") < s.Store.Today():
		return c, errs.E(errs.Invalid, "err.campaign.past_deadline").OnField("deadline")
	}
	for _, id := range in.GridIDs {
		if g, err := s.Store.OrgNode(ctx, id); err != nil || g.ParentID != comm.ID || g.Level != store.LevelGrid {
			return c, errs.E(errs.Invalid, "err.patrol.grid").OnField("grids")
		}
	}
	if c.ChecklistID != "" {
		lists, err := s.Store.Checklists(ctx, []string{comm.ID})
		if err != nil {
			return c, err
		}
		found := false
		for _, l := range lists {
			found = found || l.ID == c.ChecklistID
		}
		if !found {
			return c, errs.E(errs.Invalid, "err.campaign.checklist").OnField("checklist")
		}
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		n, err := tx.CreateCampaign(ctx, &c, in.GridIDs)
		if err == nil && n == 0 {
			return errs.E(errs.Invalid, "err.campaign.empty").OnField("grids")
		}
		c.Total = n
		return err
	})
	return c, err
}

// CampaignReport is a campaign with its progress per grid and what is
// overdue.
type CampaignReport struct {
	store.Campaign
	Grids   []store.CampaignProgress
	Overdue []store.CampaignTask // undone after the deadline
	Pending []store.CampaignTask // undone, deadline not reached
}

// Campaign reports on a campaign p may see.
func (s *Service) Campaign(ctx context.Context, p *access.Principal, id string) (CampaignReport, error) {
	c, path, err := s.Store.Campaign(ctx, id)
	if err != nil {
		return CampaignReport{}, err
	}
	if !p.CanAtOrBelow(access.GridWork, path) && !p.Can(access.OrgManage, path) {
		return CampaignReport{}, errs.E(errs.Forbidden, "err.forbidden")
	}
	r := CampaignReport{Campaign: c}
	if r.Grids, err = s.Store.CampaignProgressByGrid(ctx, id); err != nil {
		return r, err
	}
	undone, err := s.Store.OverdueTasks(ctx, id, 500)
	if err != nil {
		return r, err
	}
	if c.Deadline < s.Store.Today() {
		r.Overdue = undone
	} else {
		r.Pending = undone
	}
	return r, nil
}

// Percent is the share of households accounted for.
func (r CampaignReport) Percent() int {
	if r.Total == 0 {
		return 0
	}
	return r.Done * 100 / r.Total
}
