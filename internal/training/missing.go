package training

import (
	"context"
	"slices"
	"strings"

	"shequ/internal/access"
	"shequ/internal/pinyin"
	"shequ/internal/store"
)

// Person is someone holding a role in the community (an active staff
// account with an assignment at the community or below it).
type Person struct {
	UserID, Name string
	Roles        []string // distinct, sorted
	Where        []string // the nodes of their assignments
}

// Gap is a person's standing in a course they must take, when it is not
// plainly valid.
type Gap struct {
	CourseID, CourseName string
	State                string // never, expired, expiring
	PassedOn, ExpiresOn  string
}

// PersonGaps is a person with the courses they are missing (never passed
// or expired) and those about to expire.
type PersonGaps struct {
	Person
	Missing  []Gap
	Expiring []Gap
}

// Holder is a person's standing in one course.
type Holder struct {
	UserID, Name        string
	State               string
	PassedOn, ExpiresOn string
}

// CourseGap is a course with how many must take it, how many hold a valid
// pass, who is missing it and whose pass expires soon.
type CourseGap struct {
	Course   store.Course
	Required int
	Valid    int // including expiring
	Missing  []Holder
	Expiring []Holder
}

// Report answers "who is missing which" for a community.
type Report struct {
	Community store.OrgNode
	Today     string
	Courses   []store.Course
	Everyone  []Person
	Required  int          // people some active course is required of
	Complete  int          // of them, those missing nothing
	People    []PersonGaps // those missing something or expiring, by name
	ByCourse  []CourseGap  // active courses with requirements, by name
}

// Missing reports, for a community, every active account holding a role
// in its subtree that an active course requires, without a valid pass of
// that course: per person the missing courses, per course the missing
// people. A pass is valid from the day it was recorded until its course's
// validity runs out (ExpiresOn); passes about to run out are listed apart.
func (s *Service) Missing(ctx context.Context, p *access.Principal, communityID string) (Report, error) {
	comm, err := s.community(ctx, p, communityID, access.AssessView)
	if err != nil {
		return Report{}, err
	}
	return s.report(ctx, comm)
}

func (s *Service) report(ctx context.Context, comm store.OrgNode) (Report, error) {
	r := Report{Community: comm, Today: s.Store.Today()}
	var err error
	if r.Courses, err = s.Store.Courses(ctx, comm.ID); err != nil {
		return r, err
	}
	slices.SortStableFunc(r.Courses, func(a, b store.Course) int {
		if a.Active != b.Active {
			if a.Active {
				return -1
			}
			return 1
		}
		return pinyin.Compare(a.Name, b.Name)
	})
	holders, err := s.Store.RoleHolders(ctx, comm.Path)
	if err != nil {
		return r, err
	}
	for _, h := range holders {
		if n := len(r.Everyone); n == 0 || r.Everyone[n-1].UserID != h.UserID {
			r.Everyone = append(r.Everyone, Person{UserID: h.UserID, Name: h.Name})
		}
		pe := &r.Everyone[len(r.Everyone)-1]
		if !slices.Contains(pe.Roles, h.Role) {
			pe.Roles = append(pe.Roles, h.Role)
		}
		if !slices.Contains(pe.Where, h.NodeName) {
			pe.Where = append(pe.Where, h.NodeName)
		}
	}
	for i := range r.Everyone {
		slices.Sort(r.Everyone[i].Roles)
	}
	slices.SortStableFunc(r.Everyone, func(a, b Person) int {
		if c := pinyin.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.UserID, b.UserID)
	})
	passes, err := s.Store.CoursePasses(ctx, comm.ID)
	if err != nil {
		return r, err
	}
	gaps := map[string]*PersonGaps{}
	required := map[string]bool{}
	for _, c := range r.Courses {
		if !c.Active || len(c.Roles) == 0 {
			continue
		}
		cg := CourseGap{Course: c}
		for _, pe := range r.Everyone {
			if !overlaps(pe.Roles, c.Roles) {
				continue
			}
			required[pe.UserID] = true
			cg.Required++
			st, exp := state(passes[c.ID][pe.UserID], c.ValidMonths, r.Today)
			h := Holder{UserID: pe.UserID, Name: pe.Name, State: st, PassedOn: passes[c.ID][pe.UserID], ExpiresOn: exp}
			g := Gap{CourseID: c.ID, CourseName: c.Name, State: st, PassedOn: h.PassedOn, ExpiresOn: exp}
			pg := gaps[pe.UserID]
			if pg == nil && st != Valid {
				pg = &PersonGaps{Person: pe}
				gaps[pe.UserID] = pg
			}
			switch st {
			case Valid:
				cg.Valid++
			case Expiring:
				cg.Valid++
				cg.Expiring = append(cg.Expiring, h)
				pg.Expiring = append(pg.Expiring, g)
			default:
				cg.Missing = append(cg.Missing, h)
				pg.Missing = append(pg.Missing, g)
			}
		}
		r.ByCourse = append(r.ByCourse, cg)
	}
	r.Required = len(required)
	for _, pe := range r.Everyone {
		pg := gaps[pe.UserID]
		if pg == nil {
			continue
		}
		r.People = append(r.People, *pg)
	}
	for id := range required {
		if pg := gaps[id]; pg == nil || len(pg.Missing) == 0 {
			r.Complete++
		}
	}
	return r, nil
}

// MissingCount is the number of people missing at least one course.
func (r Report) MissingCount() int {
	n := 0
	for _, p := range r.People {
		if len(p.Missing) > 0 {
			n++
		}
	}
	return n
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
