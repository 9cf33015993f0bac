package gridwork

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/store"
)

// PointKinds are the kinds of patrol points.
var PointKinds = []string{"entrance", "shop", "rental", "key_place", "other"}

// PatrolInput is a check-in at a patrol point as the phone sends it.
type PatrolInput struct {
	ClientID string            `json:"client_id"`
	PointID  string            `json:"point_id"`
	At       time.Time         `json:"at"`
	Answers  map[string]string `json:"answers"` // checklist item → ok, problem or na
	Problem  string            `json:"problem"` // what is wrong, to be followed up
}

// PatrolResult is what the phone learns back.
type PatrolResult struct {
	PatrolID  string `json:"patrol_id"`
	Duplicate bool   `json:"duplicate"`
	Status    string `json:"status"` // ok or problem
}

// RecordPatrol stores a check-in; a point outside the worker's grids is
// Forbidden (the caller audits it). Any "problem" answer or a described
// problem makes it a problem for staff to follow up.
func (s *Service) RecordPatrol(ctx context.Context, p *access.Principal, in PatrolInput) (PatrolResult, error) {
	pt, path, err := s.Store.PatrolPointByID(ctx, in.PointID)
	if errs.Is(err, errs.NotFound) {
		return PatrolResult{}, errs.E(errs.Invalid, "err.patrol.point").OnField("point_id")
	}
	if err != nil {
		return PatrolResult{}, err
	}
	if !p.CanAtOrBelow(access.GridWork, path) {
		return PatrolResult{}, errs.E(errs.Forbidden, "err.visit.not_my_grid")
	}
	now := s.Store.Now()
	switch {
	case in.ClientID == "" || len(in.ClientID) > 64:
		return PatrolResult{}, errs.E(errs.Invalid, "err.visit.client_id").OnField("client_id")
	case in.At.After(now.Add(time.Hour)):
		return PatrolResult{}, errs.E(errs.Invalid, "err.visit.at").OnField("at")
	case len([]rune(in.Problem)) > maxText:
		return PatrolResult{}, errs.E(errs.Invalid, "err.visit.notes", maxText).OnField("problem")
	}
	if in.At.IsZero() {
		in.At = now
	}
	status := "ok"
	if strings.TrimSpace(in.Problem) != "" {
		status = "problem"
	}
	for _, a := range in.Answers {
		switch a {
		case "problem":
			status = "problem"
		case "ok", "na":
		default:
			return PatrolResult{}, errs.E(errs.Invalid, "err.visit.answer").OnField("answers")
		}
	}
	answers, _ := json.Marshal(in.Answers)
	rec := store.Patrol{PointID: pt.ID, UserID: p.UserID, ClientID: in.ClientID, At: in.At, ReceivedAt: now, Answers: string(answers),
		Problem: trimmed(in.Problem, maxText), Status: status}
	var isNew bool
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		isNew, err = tx.InsertPatrol(ctx, &rec)
		return err
	})
	return PatrolResult{PatrolID: rec.ID, Duplicate: !isNew, Status: rec.Status}, err
}

// PointInput is a new patrol point.
type PointInput struct {
	CommunityID, GridID, Name, Kind, ChecklistID string
}

// AddPoint creates a patrol point with a fresh sticker token; staff of the
// community only.
func (s *Service) AddPoint(ctx context.Context, p *access.Principal, in PointInput) (store.PatrolPoint, error) {
	comm, err := s.community(ctx, p, in.CommunityID)
	if err != nil {
		return store.PatrolPoint{}, err
	}
	pt := store.PatrolPoint{CommunityID: comm.ID, GridID: in.GridID, Name: trimmed(in.Name, 100), Kind: in.Kind, ChecklistID: in.ChecklistID, Token: newToken()}
	switch {
	case pt.Name == "":
		return pt, errs.E(errs.Invalid, "err.org_name_required").OnField("name")
	case !slices.Contains(PointKinds, pt.Kind):
		return pt, errs.E(errs.Invalid, "err.patrol.kind").OnField("kind")
	}
	if pt.GridID != "" {
		if g, err := s.Store.OrgNode(ctx, pt.GridID); err != nil || g.ParentID != comm.ID || g.Level != store.LevelGrid {
			return pt, errs.E(errs.Invalid, "err.patrol.grid").OnField("grid")
		}
	}
	return pt, s.Store.Write(ctx, func(tx *store.Tx) error { return tx.CreatePatrolPoint(ctx, &pt) })
}

// community loads a community p manages.
func (s *Service) community(ctx context.Context, p *access.Principal, id string) (store.OrgNode, error) {
	n, err := s.Store.OrgNode(ctx, id)
	if err != nil || n.Level != store.LevelCommunity {
		return n, errs.E(errs.Invalid, "err.import.community").OnField("community")
	}
	if !p.Can(access.OrgManage, n.Path) {
		return n, errs.E(errs.Forbidden, "err.forbidden")
	}
	return n, nil
}

// AddChecklist stores a checklist of a community: one question per line.
func (s *Service) AddChecklist(ctx context.Context, p *access.Principal, communityID, name, items string) (store.Checklist, error) {
	comm, err := s.community(ctx, p, communityID)
	if err != nil {
		return store.Checklist{}, err
	}
	c := store.Checklist{CommunityID: comm.ID, Name: trimmed(name, 100)}
	for _, it := range strings.Split(items, "\n") {
		if it = trimmed(it, 200); it != "" {
			c.Items = append(c.Items, it)
		}
	}
	switch {
	case c.Name == "":
		return c, errs.E(errs.Invalid, "err.org_name_required").OnField("name")
	case len(c.Items) == 0 || len(c.Items) > 50:
		return c, errs.E(errs.Invalid, "err.checklist.items").OnField("items")
	}
	return c, s.Store.Write(ctx, func(tx *store.Tx) error { return tx.CreateChecklist(ctx, &c) })
}

// newToken is a sticker token: 80 random bits, easy to type if a QR fails.
func newToken() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}
