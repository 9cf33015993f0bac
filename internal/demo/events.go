package demo

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"

	"shequ/internal/access"
	"shequ/internal/auth"
	"shequ/internal/events"
	"shequ/internal/store"
)

// buildEvents gives both communities their functional groups with members
// and the village events in every state of the lifecycle, one of them
// handled jointly by three groups; and an Open311 client key.
func buildEvents(ctx context.Context, env Env, res *Result) error {
	svc := &events.Service{Store: env.Store, Keys: env.Keys}
	who := func(username string) (*access.Principal, error) {
		u, err := env.Store.UserByUsername(ctx, username)
		if err != nil {
			return nil, err
		}
		return env.Auth.Principal(ctx, u)
	}
	staff, err := who("staff")
	if err != nil {
		return err
	}
	grid, err := who("grid")
	if err != nil {
		return err
	}
	property, err := who("property")
	if err != nil {
		return err
	}
	resident, err := who("resident")
	if err != nil {
		return err
	}
	village := res.Communities[1]
	for _, comm := range res.Communities {
		groups, err := svc.EnsureGroups(ctx, comm.ID)
		if err != nil {
			return err
		}
		err = env.Store.Write(ctx, func(tx *store.Tx) error {
			for _, g := range groups {
				var members []string
				switch g.Code {
				case "grid_leader":
					for _, gr := range res.Grids {
						if gr.ParentID == comm.ID {
							ws, err := env.Store.GridWorkers(ctx, gr.ID)
							if err != nil {
								return err
							}
							members = append(members, ws...)
						}
					}
				case "property":
					members = []string{property.UserID}
				case "health_station":
					members = []string{staff.UserID}
				}
				for _, m := range members {
					if err := tx.AddGroupMember(ctx, g.ID, m); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	// The property company serves the village's compound-like blocks too.
	type step struct {
		who *access.Principal
		a   events.Action
	}
	accept := step{staff, events.Action{Name: "accept"}}
	dispatch := func(groups ...string) step {
		return step{staff, events.Action{Name: "dispatch", Groups: groups, Note: "请尽快处置"}}
	}
	finish := func(p *access.Principal, group, note string) step {
		return step{p, events.Action{Name: "finish", Group: group, Note: note}}
	}
	story := []struct {
		by       *access.Principal
		source   string
		category string
		text     string
		steps    []step
	}{
		{grid, "grid", "hazard", "丰乐西村12号楼道电动车充电，飞线私拉", nil},
		{resident, "resident", "sanitation", "村口垃圾桶满了两天没人清运", nil},
		{grid, "grid", "supplies", "独居老人王奶奶家中缺米缺油", []step{accept}},
		{grid, "grid", "repair", "15号门前路灯不亮", []step{accept, dispatch("property")}},
		{resident, "resident", "dispute", "楼上装修噪音，晚上十点后还在施工", []step{accept, dispatch("grid_leader"), {grid, events.Action{Name: "start", Group: "grid_leader", Note: "已联系双方"}}}},
		{grid, "grid", "elderly", "李大爷腿脚不便，需要上门送药", []step{accept, dispatch("health_station"), {staff, events.Action{Name: "return", Group: "health_station", Note: "不在服务范围，请改派网格长"}}}},
		{grid, "grid", "hazard", "菜市场消防通道被占用", []step{accept, dispatch("property"), finish(property, "property", "已清理占道物品")}},
		{grid, "grid", "sanitation", "公共厕所无人保洁", []step{accept, dispatch("property"), finish(property, "property", "已安排保洁"), {staff, events.Action{Name: "verify", Note: "现场核验已干净"}}}},
		{resident, "resident", "repair", "单元门禁坏了，关不上", []step{accept, dispatch("property"), finish(property, "property", "已换新锁"),
			{staff, events.Action{Name: "verify"}}, {staff, events.Action{Name: "close"}}, {resident, events.Action{Name: "evaluate", Rating: 5, Note: "修得很快，谢谢"}}}},
		{grid, "grid", "dispute", "重复反映：同一噪音问题", []step{{staff, events.Action{Name: "reject", Note: "已并入前一件办理"}}}},
		{grid, "grid", "elderly", "独居老人张爷爷需要代购药品", []step{accept, dispatch("grid_leader"), finish(grid, "grid_leader", "已代购送达"),
			{staff, events.Action{Name: "verify"}}, {staff, events.Action{Name: "close"}}}},
		{resident, "resident", "sanitation", "下水道反味", []step{accept, dispatch("property"), finish(property, "property", "已疏通"),
			{staff, events.Action{Name: "verify"}}, {staff, events.Action{Name: "close"}}, {resident, events.Action{Name: "reopen", Note: "又开始反味了"}}}},
		// Joint handling by three groups: one has finished.
		{grid, "grid", "hazard", "出租屋群租，楼内堆放易燃物，住户情绪激动", []step{accept, dispatch("grid_leader", "property", "police"),
			finish(property, "property", "易燃物已清走")}},
	}
	for i, s := range story {
		e, err := svc.Report(ctx, s.by, "", events.Input{CommunityID: village.ID, Category: s.category, Description: s.text, Source: s.source,
			Address: fmt.Sprintf("丰乐西村%d号", 3+i)})
		if err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		for _, st := range s.steps {
			if _, err := svc.Act(ctx, st.who, e.Ref, st.a); err != nil {
				return fmt.Errorf("event %d, %s: %w", i, st.a.Name, err)
			}
		}
	}
	if err := buildPortal(ctx, env, res); err != nil {
		return err
	}
	key := make([]byte, 20)
	_, _ = rand.Read(key)
	res.Open311Key = "o311_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(key))
	return env.Store.Write(ctx, func(tx *store.Tx) error {
		return tx.CreateOpen311Client(ctx, &store.Open311Client{CommunityID: village.ID, Name: "市民热线 Open311 接口"}, auth.HashToken(res.Open311Key))
	})
}

// buildPortal fills the residents' portal: news and outbreak updates,
// rumours and the facts, nearby services.
func buildPortal(ctx context.Context, env Env, res *Result) error {
	now := env.Store.Now()
	return env.Store.Write(ctx, func(tx *store.Tx) error {
		posts := []store.Post{
			{Kind: "outbreak", Title: "渭滨街道疫情防控通告（第12号）", Body: "即日起，进入小区须测量体温、出示健康码；近7天有外地旅居史的居民请扫码自主报备。", Author: "渭滨街道"},
			{Kind: "news", Title: "周六上午社区义诊", Body: "本周六9:00–11:30在社区服务中心门前开展义诊，量血压、测血糖，欢迎老年居民参加。", Author: "社区居委会"},
			{Kind: "news", Title: "楼道杂物集中清理", Body: "为消除消防隐患，本月15日前请各户清理楼道杂物，物业将统一清运。", Author: "物业服务中心"},
		}
		for i, p := range posts {
			p.PublishedAt = now.AddDate(0, 0, -i)
			if i > 0 {
				p.CommunityID = res.Communities[i%2].ID
			}
			if err := tx.CreatePost(ctx, &p); err != nil {
				return err
			}
		}
		rumours := []store.Rumour{
			{Claim: "喝高度白酒能预防感染", Verdict: "false", Explanation: "饮酒不能杀灭体内病毒，反而损害健康。预防请戴口罩、勤洗手、接种疫苗。", Source: "市卫健委"},
			{Claim: "小区明天全面封闭，要赶紧囤菜", Verdict: "false", Explanation: "社区没有发布封闭通知，生活物资供应正常。请以社区公告为准，不信谣、不传谣。", Source: "渭滨街道"},
			{Claim: "抗原检测阴性就一定没有感染", Verdict: "misleading", Explanation: "抗原检测灵敏度低于核酸检测，有症状时应及时进行核酸检测或就医。", Source: "社区卫生服务站"},
		}
		for i, r := range rumours {
			r.PublishedOn = now.AddDate(0, 0, -2*i).In(cstZone).Format("2006-01-02")
			if err := tx.CreateRumour(ctx, &r); err != nil {
				return err
			}
		}
		for _, comm := range res.Communities {
			for _, v := range []store.Service{
				{Kind: "pharmacy", Name: "康民大药房", Hours: "8:00–22:00", Phone: "029-33201188", Address: comm.Name + "东门"},
				{Kind: "clinic", Name: "社区卫生服务站", Hours: "8:00–17:30", Phone: "029-33205120", Address: comm.Name + "服务中心一楼"},
				{Kind: "testing", Name: "便民核酸采样点", Hours: "7:30–11:30, 14:00–17:00", Address: comm.Name + "广场"},
				{Kind: "grocery", Name: "惠民生鲜超市", Hours: "7:00–21:00", Phone: "029-33208866", Address: comm.Name + "南门"},
			} {
				v.CommunityID = comm.ID
				if err := tx.CreateService(ctx, &v); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
