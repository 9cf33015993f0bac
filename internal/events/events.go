// Package events handles what is reported in a community (by grid
// workers, residents, gates, patrols and Open311 clients) through one
// lifecycle, with joint handling by the community's functional groups,
// SLAs on a working-time calendar, and escalation when they run out.
package events

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"net/http"
	"slices"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/locale"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// Service is the events logic over the store.
type Service struct {
	Store *store.Store
	Keys  *pii.Keyring
	// Notify tells people about their events (the outbox in the app).
	Notify func(ctx context.Context, userID, text, link string)
}

// Statuses, in lifecycle order.
const (
	Reported   = "reported"
	Accepted   = "accepted"
	Rejected   = "rejected"
	Dispatched = "dispatched"
	InProgress = "in_progress"
	Returned   = "returned"
	Resolved   = "resolved"
	Verified   = "verified"
	Reopened   = "reopened"
	Closed     = "closed"
	Evaluated  = "evaluated"
)

// Statuses lists them for pages and filters.
var Statuses = []string{Reported, Accepted, Rejected, Dispatched, InProgress, Returned, Resolved, Verified, Reopened, Closed, Evaluated}

// moves says, per action, from which status an event may go to which.
// Task actions (start, finish, return) act on a group's part and move the
// event as a consequence.
var moves = map[string]map[string]string{
	"accept":   {Reported: Accepted},
	"reject":   {Reported: Rejected},
	"dispatch": {Accepted: Dispatched, Returned: Dispatched, Reopened: Dispatched},
	"start":    {Dispatched: InProgress, InProgress: InProgress},
	"finish":   {Dispatched: InProgress, InProgress: InProgress},
	"return":   {Dispatched: Returned, InProgress: Returned},
	"verify":   {Resolved: Verified},
	"reopen":   {Resolved: Reopened, Verified: Reopened, Closed: Reopened, Evaluated: Reopened},
	"close":    {Verified: Closed},
	"evaluate": {Closed: Evaluated},
}

// ReopenWindow is how long after closing a reporter may reopen.
const ReopenWindow = 7 * 24 * time.Hour

// DefaultGroups are the functional groups a community starts with.
var DefaultGroups = []store.EventGroup{{Code: "grid_leader", Name: "网格长"}, {Code: "building_chief", Name: "楼栋长"},
	{Code: "property", Name: "物业公司"}, {Code: "health_station", Name: "社区卫生服务站"}, {Code: "police", Name: "派出所联络员"}}

// EnsureGroups gives a community its default groups if it has none.
func (s *Service) EnsureGroups(ctx context.Context, communityID string) ([]store.EventGroup, error) {
	gs, err := s.Store.EventGroups(ctx, communityID)
	if err != nil || len(gs) > 0 {
		return gs, err
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		for _, g := range DefaultGroups {
			g.CommunityID = communityID
			if err := tx.CreateEventGroup(ctx, &g); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.Store.EventGroups(ctx, communityID)
}

// Photo is a photo sent with a report or a step.
type Photo struct{ Data []byte }

// MaxPhotos and MaxPhotoBytes bound what a step carries.
const (
	MaxPhotos     = 4
	MaxPhotoBytes = 2 << 20
)

func checkPhotos(ps []Photo) error {
	if len(ps) > MaxPhotos {
		return errs.E(errs.Invalid, "err.visit.photo_count", MaxPhotos).OnField("photos")
	}
	for _, p := range ps {
		if len(p.Data) > MaxPhotoBytes {
			return errs.E(errs.Invalid, "err.visit.photo_size", MaxPhotoBytes>>20).OnField("photos")
		}
		if ct := http.DetectContentType(p.Data); ct != "image/jpeg" && ct != "image/png" && ct != "image/webp" {
			return errs.E(errs.Invalid, "err.visit.photo_type").OnField("photos")
		}
	}
	return nil
}

// Input is a new event.
type Input struct {
	CommunityID, Category, Title, Description, Address, PlaceID string
	Lat, Lng                                                    float64
	Source, SourceRef                                           string
	Photos                                                      []Photo
}

// Report stores a new event: reported, waiting to be accepted. p nil is
// the system (a gate alarm, a patrol finding, an Open311 client, named by
// reporterName).
func (s *Service) Report(ctx context.Context, p *access.Principal, reporterName string, in Input) (store.Event, error) {
	comm, err := s.Store.OrgNode(ctx, in.CommunityID)
	if err != nil || comm.Level != store.LevelCommunity {
		return store.Event{}, errs.E(errs.Invalid, "err.import.community").OnField("community")
	}
	if p != nil && !p.CanAtOrBelow(access.EventReport, comm.Path) {
		return store.Event{}, errs.E(errs.Forbidden, "err.forbidden")
	}
	cats, err := s.Store.EventCategories(ctx, comm.ID)
	if err != nil {
		return store.Event{}, err
	}
	i := slices.IndexFunc(cats, func(c store.EventCategory) bool { return c.Code == in.Category })
	in.Title, in.Description, in.Address = strings.TrimSpace(in.Title), strings.TrimSpace(in.Description), strings.TrimSpace(in.Address)
	switch {
	case i < 0:
		return store.Event{}, errs.E(errs.Invalid, "err.event.category").OnField("category")
	case in.Description == "" || len([]rune(in.Description)) > 2000:
		return store.Event{}, errs.E(errs.Invalid, "err.event.description").OnField("description")
	case len([]rune(in.Title)) > 100 || len([]rune(in.Address)) > 200:
		return store.Event{}, errs.E(errs.Invalid, "err.event.title").OnField("title")
	}
	if err := checkPhotos(in.Photos); err != nil {
		return store.Event{}, err
	}
	if in.Title == "" {
		in.Title = cats[i].Name
	}
	e := store.Event{Ref: newRef(), CommunityID: comm.ID, CategoryID: cats[i].ID, Title: in.Title, Description: in.Description, Address: in.Address,
		Lat: in.Lat, Lng: in.Lng, Source: in.Source, SourceRef: in.SourceRef, ReporterName: reporterName, Status: Reported}
	filedAt := ""
	if in.PlaceID != "" {
		pl, _, err := s.Store.Place(ctx, in.PlaceID)
		if err != nil {
			return e, errs.E(errs.Invalid, "err.report.room").OnField("place")
		}
		if pl.CommunityID != comm.ID {
			// Handled anywhere (全域通办): filed in one community about a
			// place of another, it goes to the community responsible.
			if e, err = s.routeTo(ctx, e, pl.CommunityID, cats[i].Code); err != nil {
				return e, err
			}
			filedAt = comm.Name
		}
		e.PlaceID, e.GridID = pl.ID, pl.GridID
		if e.Address == "" {
			e.Address = pl.Address
		}
	}
	actor := ""
	if p != nil {
		e.ReporterID, actor = p.UserID, p.UserID
		if reporterName == "" {
			e.ReporterName = p.Name
		}
	}
	photos, err := s.encrypt(in.Photos)
	if err != nil {
		return e, err
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateEvent(ctx, &e); err != nil {
			return err
		}
		step, err := tx.AddEventStep(ctx, e.ID, actor, e.ReporterName, "report", "", Reported, in.Description)
		if err != nil {
			return err
		}
		if filedAt != "" {
			if _, err := tx.AddEventStep(ctx, e.ID, "", "system", "route", Reported, Reported, filedAt); err != nil {
				return err
			}
		}
		return s.addPhotos(ctx, tx, e.ID, step, photos, in.Photos)
	})
	return e, err
}

// routeTo gives a new event to another community of the same instance,
// under its category of the same code.
func (s *Service) routeTo(ctx context.Context, e store.Event, communityID, category string) (store.Event, error) {
	cats, err := s.Store.EventCategories(ctx, communityID)
	if err != nil {
		return e, err
	}
	i := slices.IndexFunc(cats, func(c store.EventCategory) bool { return c.Code == category })
	if i < 0 {
		return e, errs.E(errs.Invalid, "err.event.route_category").OnField("category")
	}
	e.CommunityID, e.CategoryID = communityID, cats[i].ID
	return e, nil
}

func (s *Service) encrypt(ps []Photo) ([][]byte, error) {
	var out [][]byte
	for _, p := range ps {
		enc, err := s.Keys.Encrypt(p.Data, "event_photos.photo")
		if err != nil {
			return nil, err
		}
		out = append(out, enc)
	}
	return out, nil
}

func (s *Service) addPhotos(ctx context.Context, tx *store.Tx, eventID, stepID string, enc [][]byte, ps []Photo) error {
	for i, e := range enc {
		if err := tx.AddEventPhoto(ctx, eventID, stepID, http.DetectContentType(ps[i].Data), e); err != nil {
			return err
		}
	}
	return nil
}

// Action is a step someone takes on an event.
type Action struct {
	Name   string   // accept, reject, dispatch, start, finish, return, verify, reopen, close, evaluate
	Note   string   // why, what was done
	Groups []string // dispatch: the groups (codes) that handle it together
	Group  string   // start, finish, return: whose part
	Rating int      // evaluate: 1–5
	Photos []Photo
}

// Act moves an event one step, checking who may and whether the event's
// state allows it (an illegal move is refused with the reason, and
// nothing changes).
func (s *Service) Act(ctx context.Context, p *access.Principal, idOrRef string, a Action) (store.Event, error) {
	e, path, err := s.Store.Event(ctx, idOrRef)
	if err != nil {
		return e, err
	}
	to, ok := moves[a.Name][e.Status]
	if _, known := moves[a.Name]; !known {
		return e, errs.E(errs.Invalid, "err.event.action").OnField("action")
	}
	if !ok {
		return e, errs.E(errs.Conflict, "err.event.illegal", locale.Key("event.action."+a.Name), locale.Key("event.status."+e.Status))
	}
	a.Note = strings.TrimSpace(a.Note)
	if len([]rune(a.Note)) > 2000 {
		return e, errs.E(errs.Invalid, "err.event.description").OnField("note")
	}
	if err := checkPhotos(a.Photos); err != nil {
		return e, err
	}
	manage := p.Can(access.EventManage, path)
	now := s.Store.Now()
	set := map[string]any{}
	var group store.EventGroup
	switch a.Name {
	case "accept", "reject", "dispatch", "verify", "close":
		if !manage {
			return e, errs.E(errs.Forbidden, "err.forbidden")
		}
	case "start", "finish", "return":
		if group, err = s.memberGroup(ctx, p, e, a.Group); err != nil {
			return e, err
		}
	case "reopen":
		reporter := p.UserID == e.ReporterID
		if !manage && !reporter {
			return e, errs.E(errs.Forbidden, "err.forbidden")
		}
		if reporter && !manage && !e.ClosedAt.IsZero() && now.Sub(e.ClosedAt) > ReopenWindow {
			return e, errs.E(errs.Conflict, "err.event.reopen_window", int(ReopenWindow.Hours()/24))
		}
		if a.Note == "" {
			return e, errs.E(errs.Invalid, "err.event.note").OnField("note")
		}
		set["reopens"] = e.Reopens + 1
	case "evaluate":
		if p.UserID != e.ReporterID {
			return e, errs.E(errs.Forbidden, "err.event.not_yours")
		}
		if a.Rating < 1 || a.Rating > 5 {
			return e, errs.E(errs.Invalid, "err.event.rating").OnField("rating")
		}
		set["rating"], set["rating_note"] = a.Rating, a.Note
	}
	var groups []store.EventGroup
	switch a.Name {
	case "reject", "return":
		if a.Note == "" {
			return e, errs.E(errs.Invalid, "err.event.note").OnField("note")
		}
	case "accept":
		cats, err := s.Store.EventCategories(ctx, e.CommunityID)
		if err != nil {
			return e, err
		}
		for _, c := range cats {
			if c.ID == e.CategoryID {
				set["due_at"] = dueAt(now, c).UnixMilli()
			}
		}
	case "dispatch":
		all, err := s.EnsureGroups(ctx, e.CommunityID)
		if err != nil {
			return e, err
		}
		if len(a.Groups) == 0 {
			return e, errs.E(errs.Invalid, "err.event.no_group").OnField("groups")
		}
		for _, code := range a.Groups {
			i := slices.IndexFunc(all, func(g store.EventGroup) bool { return g.Code == code || g.ID == code })
			if i < 0 {
				return e, errs.E(errs.Invalid, "err.event.group", code).OnField("groups")
			}
			groups = append(groups, all[i])
		}
	case "close":
		set["closed_at"] = now.UnixMilli()
	}
	photos, err := s.encrypt(a.Photos)
	if err != nil {
		return e, err
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		switch a.Name {
		case "dispatch":
			for _, g := range groups {
				if err := tx.CreateEventTask(ctx, e.ID, g.ID); err != nil {
					return err
				}
			}
		case "start":
			if err := tx.SetEventTask(ctx, e.ID, group.ID, "working", a.Note, ""); err != nil {
				return err
			}
		case "return":
			if err := tx.SetEventTask(ctx, e.ID, group.ID, "returned", a.Note, p.UserID); err != nil {
				return err
			}
		case "finish":
			if err := tx.SetEventTask(ctx, e.ID, group.ID, "done", a.Note, p.UserID); err != nil {
				return err
			}
			if open, _, err := tx.EventTasks(ctx, e.ID); err != nil {
				return err
			} else if open == 0 {
				to = Resolved // every group has done its part
				set["resolved_at"] = now.UnixMilli()
			}
		}
		if err := tx.SetEventStatus(ctx, e.ID, e.Status, to, set); err != nil {
			return err
		}
		if to == Closed {
			if err := tx.EmitChange(ctx, store.HookEventClosed, e.ID, path, e.Ref); err != nil {
				return err
			}
		}
		note := a.Note
		if group.Name != "" {
			note = strings.TrimSpace(group.Name + "：" + note)
		}
		step, err := tx.AddEventStep(ctx, e.ID, p.UserID, p.Name, a.Name, e.Status, to, note)
		if err != nil {
			return err
		}
		return s.addPhotos(ctx, tx, e.ID, step, photos, a.Photos)
	})
	if err != nil {
		return e, err
	}
	s.tellReporter(ctx, e, to)
	e.Status = to
	return e, nil
}

// memberGroup finds the group (by code) whose part p acts on: p must be
// in it, and the event must have a part for it.
func (s *Service) memberGroup(ctx context.Context, p *access.Principal, e store.Event, code string) (store.EventGroup, error) {
	tasks, err := s.Store.EventTasks(ctx, e.ID)
	if err != nil {
		return store.EventGroup{}, err
	}
	mine, err := s.Store.UserGroups(ctx, p.UserID)
	if err != nil {
		return store.EventGroup{}, err
	}
	groups, err := s.Store.EventGroups(ctx, e.CommunityID)
	if err != nil {
		return store.EventGroup{}, err
	}
	for _, t := range tasks {
		for _, g := range groups {
			if g.ID == t.GroupID && (code == "" || g.Code == code || g.ID == code) && mine[g.ID] {
				return g, nil
			}
		}
	}
	return store.EventGroup{}, errs.E(errs.Forbidden, "err.event.not_your_group")
}

// tellReporter tells the person who reported an event what became of it.
func (s *Service) tellReporter(ctx context.Context, e store.Event, to string) {
	if s.Notify == nil || e.ReporterID == "" {
		return
	}
	switch to {
	case Accepted, Rejected, Resolved, Closed:
		s.Notify(ctx, e.ReporterID, "您反映的问题（"+e.Ref+"）："+statusText[to], "/me/reports/"+e.Ref)
	}
}

var statusText = map[string]string{Accepted: "已受理", Rejected: "未受理", Resolved: "已处理完毕，请查看", Closed: "已办结，欢迎评价"}

// Escalate raises the events whose SLA ran out: from the grid leader to
// the community, then to the street, each time with a fresh SLA and a
// line in the history. It returns how many it raised.
func (s *Service) Escalate(ctx context.Context) (int, error) {
	now := s.Store.Now()
	overdue, err := s.Store.OverdueEvents(ctx, now, 2)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range overdue {
		cats, err := s.Store.EventCategories(ctx, e.CommunityID)
		if err != nil {
			return n, err
		}
		var due time.Time
		for _, c := range cats {
			if c.ID == e.CategoryID {
				due = dueAt(now, c)
			}
		}
		level := e.Level + 1
		mine := false
		err = s.Store.Write(ctx, func(tx *store.Tx) error {
			// Another instance may be escalating the same event right now.
			if ok, err := tx.ClaimEscalation(ctx, e.ID, e.Level); err != nil || !ok {
				return err
			}
			mine = true
			if err := tx.SetEventStatus(ctx, e.ID, e.Status, e.Status, map[string]any{"level": level, "due_at": due.UnixMilli()}); err != nil {
				return err
			}
			_, err := tx.AddEventStep(ctx, e.ID, "", "system", "escalate", e.Status, e.Status, levelName[level])
			return err
		})
		if err != nil {
			return n, err
		}
		if mine {
			n++
		}
	}
	return n, nil
}

var levelName = map[int]string{1: "升级到社区", 2: "升级到街道"}

// newRef is an event's public number: date-free, short, unambiguous.
func newRef() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return "E" + base32.NewEncoding("ABCDEFGHJKLMNPQRSTUVWXYZ23456789").WithPadding(base32.NoPadding).EncodeToString(b)
}

// alarmCategory is the event category an alarm of a gate becomes.
var alarmCategory = map[string]string{"fever": "fever", "stranger": "arrival", "code_colour": "monitoring_violated", "policy_deny": "monitoring_violated",
	"device_offline": "repair"}

// FromAlarm opens an event for a gate alarm.
func (s *Service) FromAlarm(ctx context.Context, p *access.Principal, a store.Alarm, g store.Gate, note string) (store.Event, error) {
	cat := alarmCategory[a.Kind]
	if cat == "" {
		cat = "hazard"
	}
	desc := strings.TrimSpace(g.Name + "：" + a.Kind + "告警。" + note)
	return s.Report(ctx, p, "", Input{CommunityID: g.CommunityID, Category: cat, Title: "门禁告警 · " + g.Name, Description: desc, Address: g.Name,
		Source: "gate", SourceRef: a.ID})
}

// FromPatrol opens an event for a problem found on patrol.
func (s *Service) FromPatrol(ctx context.Context, p *access.Principal, t store.Patrol, communityID string) (store.Event, error) {
	return s.Report(ctx, p, "", Input{CommunityID: communityID, Category: "hazard", Title: "巡查发现 · " + t.PointName, Description: t.Problem,
		Address: t.PointName, Source: "patrol", SourceRef: t.ID})
}

// AddCategory adds (or, with a default's code, replaces) a category of a
// community.
func (s *Service) AddCategory(ctx context.Context, p *access.Principal, communityID string, c store.EventCategory) error {
	comm, err := s.Store.OrgNode(ctx, communityID)
	if err != nil || comm.Level != store.LevelCommunity {
		return errs.E(errs.Invalid, "err.import.community").OnField("community")
	}
	if !p.Can(access.EventManage, comm.Path) {
		return errs.E(errs.Forbidden, "err.forbidden")
	}
	c.CommunityID, c.Code, c.Name = comm.ID, strings.TrimSpace(strings.ToLower(c.Code)), strings.TrimSpace(c.Name)
	groups, err := s.EnsureGroups(ctx, comm.ID)
	if err != nil {
		return err
	}
	switch {
	case c.Code == "" || len(c.Code) > 30 || strings.Trim(c.Code, "abcdefghijklmnopqrstuvwxyz0123456789_") != "":
		return errs.E(errs.Invalid, "err.event.code").OnField("code")
	case c.Name == "" || len([]rune(c.Name)) > 30:
		return errs.E(errs.Invalid, "err.org_name_required").OnField("name")
	case c.Kind != "outbreak" && c.Kind != "life":
		return errs.E(errs.Invalid, "err.event.kind").OnField("kind")
	case c.SLAHours < 1 || c.SLAHours > 720:
		return errs.E(errs.Invalid, "err.event.sla").OnField("sla_hours")
	case !slices.ContainsFunc(groups, func(g store.EventGroup) bool { return g.Code == c.DefaultGroup }):
		return errs.E(errs.Invalid, "err.event.group", c.DefaultGroup).OnField("default_group")
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error { return tx.CreateEventCategory(ctx, &c) })
}
