package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/store"
	"shequ/internal/synth"
	"shequ/internal/training"
)

// buildTraining gives both communities their courses with a year of
// attendance (most staff and grid workers trained, a few missing a course
// or with an expired pass), and a register of volunteers and party
// members, some mobilised into the village's campaign and an event, with
// their hours.
func buildTraining(ctx context.Context, env Env, rng *rand.Rand, res *Result) error {
	svc := &training.Service{Store: env.Store, Keys: env.Keys}
	who := func(username string) (*access.Principal, error) {
		u, err := env.Store.UserByUsername(ctx, username)
		if err != nil {
			return nil, err
		}
		return env.Auth.Principal(ctx, u)
	}
	admin, err := who("admin")
	if err != nil {
		return err
	}
	staff, err := who("staff")
	if err != nil {
		return err
	}
	today, _ := time.Parse("2006-01-02", env.Store.Today())
	day := func(daysAgo int) string { return today.AddDate(0, 0, -daysAgo).Format("2006-01-02") }
	for ci, comm := range res.Communities {
		p := admin
		if ci == 1 {
			p = staff // the village's own staff keep its records
		}
		if err := demoCourses(ctx, svc, p, comm, rng, day); err != nil {
			return fmt.Errorf("%s courses: %w", comm.Name, err)
		}
		if err := demoVolunteers(ctx, env, svc, p, comm, rng, day); err != nil {
			return fmt.Errorf("%s volunteers: %w", comm.Name, err)
		}
	}
	return nil
}

func demoCourses(ctx context.Context, svc *training.Service, p *access.Principal, comm store.OrgNode, rng *rand.Rand, day func(int) string) error {
	courses := []training.CourseInput{
		{Name: "网格员岗前培训", Hours: "8", ValidMonths: "0", Roles: []string{"grid"}, Description: "网格职责、入户走访规范、信息采集与台账维护、手机端使用。"},
		{Name: "个人信息保护培训", Hours: "2", ValidMonths: "12", Roles: []string{"grid", "staff"}, Description: "《个人信息保护法》要点，台账数据的查看、导出与脱敏要求，每年复训。"},
		{Name: "应急处置培训", Hours: "4", ValidMonths: "24", Roles: []string{"grid", "property"}, Description: "突发事件报告流程、疏散引导、防汛与消防初期处置。"},
		{Name: "社区志愿服务组织实务", Hours: "1.5", Description: "志愿者招募、派遣与服务时长记录（选修）。"},
	}
	var made []store.Course
	for _, in := range courses {
		in.CommunityID = comm.ID
		c, err := svc.CreateCourse(ctx, p, in)
		if err != nil {
			return err
		}
		made = append(made, c)
	}
	rep, err := svc.Missing(ctx, p, comm.ID)
	if err != nil {
		return err
	}
	for i, pe := range rep.Everyone {
		for ci, c := range made {
			required := false
			for _, r := range c.Roles {
				for _, have := range pe.Roles {
					required = required || r == have
				}
			}
			held, passed := day(20+rng.IntN(300)), true
			switch {
			case !required && rng.IntN(3) != 0:
				continue
			case ci == 1 && i%4 == 3:
				continue // never took the yearly course: listed as missing
			case ci == 1 && i%5 == 1:
				held = day(380 + rng.IntN(60)) // passed more than a year ago: expired
			case ci == 1 && i%5 == 2:
				held = day(340) // expires within the month
			case ci == 2 && i%3 == 2:
				passed = false // failed the assessment: still missing
			}
			if _, err := svc.RecordAttendance(ctx, p, training.AttendanceInput{CourseID: c.ID, HeldOn: held,
				Attendees: []training.Attendee{{UserID: pe.UserID, Passed: passed}}}); err != nil {
				return err
			}
		}
	}
	return nil
}

func demoVolunteers(ctx context.Context, env Env, svc *training.Service, p *access.Principal, comm store.OrgNode, rng *rand.Rand, day func(int) string) error {
	hits, _, err := env.Store.Persons(ctx, store.PersonFilter{Scopes: []string{comm.Path}, Residency: "registered", Limit: 40})
	if err != nil {
		return err
	}
	skills := []string{"医护", "电工", "法律咨询", "心理疏导", "摄影宣传", "驾驶", "手语", "水电维修", "理发", "书法", ""}
	branches := []string{comm.Name + "第一党支部", comm.Name + "第二党支部", comm.Name + "退休党员支部"}
	n := 12 + rng.IntN(7)
	var ids []string
	for i := 0; i < n; i++ {
		in := training.VolunteerInput{CommunityID: comm.ID, Kind: "volunteer", Skills: skills[rng.IntN(len(skills))], JoinedOn: day(30 + rng.IntN(900))}
		if i < len(hits) && i%2 == 0 {
			h := hits[i]
			in.Name, in.PersonID = h.Name, h.ID
			if len(h.PhoneEnc) > 0 {
				if in.Phone, err = env.Keys.DecryptString(h.PhoneEnc, "persons.phone"); err != nil {
					return err
				}
			}
		}
		if in.Phone == "" {
			sp := synth.NewPerson(rng, synth.Profile{MinAge: 20, MaxAge: 72})
			in.Name, in.Phone, in.PersonID = sp.Name, sp.Phone, ""
		}
		switch i % 3 {
		case 1:
			in.Kind, in.PartyBranch = "party", branches[rng.IntN(len(branches))]
		case 2:
			if rng.IntN(2) == 0 {
				in.Kind, in.PartyBranch = "both", branches[rng.IntN(len(branches))]
			}
		}
		v, err := svc.RegisterVolunteer(ctx, p, in)
		if e, ok := errs.As(err); ok && e.Key == "err.volunteer.duplicate" {
			continue // two draws with one phone: keep the first
		}
		if err != nil {
			return err
		}
		if i == n-1 {
			if err := svc.SetVolunteerActive(ctx, p, v.ID, false); err != nil { // moved away
				return err
			}
			continue
		}
		ids = append(ids, v.ID)
	}
	pick := func(k int) []string {
		out := append([]string(nil), ids...)
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		return out[:min(k, len(out))]
	}
	hours := func() string { return []string{"2", "2.5", "3", "4", "1.5"}[rng.IntN(5)] }
	tasks := []string{"疫苗接种点秩序维护", "敬老院慰问", "垃圾分类宣传", "小区环境整治", "防汛值守", "反诈宣传进楼栋"}
	for k, task := range tasks {
		if _, err := svc.Mobilise(ctx, p, training.MobiliseInput{CommunityID: comm.ID, VolunteerIDs: pick(2 + rng.IntN(4)), Target: "task", Task: task,
			OnDate: day(5 + k*23 + rng.IntN(10)), Hours: hours()}); err != nil {
			return err
		}
	}
	// The village's campaign and an open event get volunteers too; the
	// latest duties still wait for their hours.
	camps, err := env.Store.Campaigns(ctx, []string{comm.ID})
	if err != nil {
		return err
	}
	for _, c := range camps {
		if c.Status != "open" {
			continue
		}
		for d, h := range []string{hours(), ""} {
			if _, err := svc.Mobilise(ctx, p, training.MobiliseInput{CommunityID: comm.ID, VolunteerIDs: pick(3), Target: "campaign", CampaignID: c.ID,
				OnDate: day(2 - 2*d), Hours: h}); err != nil {
				return err
			}
		}
		break
	}
	events, err := env.Store.RecentEvents(ctx, comm.ID, 5)
	if err != nil {
		return err
	}
	if len(events) > 0 {
		if _, err := svc.Mobilise(ctx, p, training.MobiliseInput{CommunityID: comm.ID, VolunteerIDs: pick(2), Target: "event", EventID: events[0].ID,
			OnDate: day(1), Hours: hours()}); err != nil {
			return err
		}
	}
	_, err = svc.Mobilise(ctx, p, training.MobiliseInput{CommunityID: comm.ID, VolunteerIDs: pick(4), Target: "task", Task: "周末小区环境整治", OnDate: day(-2)})
	return err
}
