package policy

import (
	"strconv"
	"strings"
	"time"
)

// Explain returns plain-language lines describing the rules, for the
// residents' portal. lang is "en" for English; anything else gives
// Simplified Chinese.
func (p *Policy) Explain(lang string) []string {
	en := strings.EqualFold(lang, "en") || strings.HasPrefix(strings.ToLower(lang), "en-")
	var lines []string
	add := func(zh, e string) {
		if en {
			lines = append(lines, e)
		} else {
			lines = append(lines, zh)
		}
	}

	// Version and validity.
	{
		name := p.Name
		var zh, e string
		if name != "" {
			zh, e = "规则："+name, "Rules: "+name
		} else {
			zh, e = "入口规则", "Entry rules"
		}
		if p.Version > 0 {
			zh += "（第 " + strconv.Itoa(p.Version) + " 版）"
			e += " (version " + strconv.Itoa(p.Version) + ")"
		}
		if !p.ValidFrom.IsZero() {
			zh += "，自 " + localStamp(p.ValidFrom) + " 起施行"
			e += ", in force from " + localStamp(p.ValidFrom)
		}
		if !p.ValidTo.IsZero() {
			zh += "，至 " + localStamp(p.ValidTo) + " 止"
			e += " until " + localStamp(p.ValidTo)
		}
		add(zh, e)
	}

	if p.Strangers == Review {
		add("未登记人员须经值守人员核实后进入", "Unregistered people are checked by the staff on duty before entering")
	} else {
		add("未登记人员不能进入", "Unregistered people may not enter")
	}

	if len(p.Curfews) > 0 {
		ws := windowsText(p.Curfews)
		add("每天 "+ws+" 除工作人员外不能进入", "Every day "+ws+" only staff may enter")
	}

	if p.TempLimitC > 0 {
		t := strconv.FormatFloat(p.TempLimitC, 'f', -1, 64)
		add("体温 "+t+"℃ 及以上不能进入", "A temperature of "+t+" °C or above: no entry")
		switch action(p.TempUnknown, Allow) {
		case Review:
			add("未测得体温的须人工核验", "If no temperature was taken, staff check you")
		case Deny:
			add("未测得体温的不能进入", "If no temperature was taken: no entry")
		}
	} else {
		add("不检查体温", "No temperature check")
	}

	if len(p.DenyMonitoring) > 0 {
		zh, e := monitoringText(p.DenyMonitoring)
		add("处于"+zh+"期间不能进入", "During "+e+": no entry")
	}
	if len(p.ReviewMonitoring) > 0 {
		zh, e := monitoringText(p.ReviewMonitoring)
		add("处于"+zh+"期间须人工核验", "During "+e+": staff check you")
	}

	if len(p.AcceptedColours) > 0 {
		zhc := make([]string, len(p.AcceptedColours))
		enc := make([]string, len(p.AcceptedColours))
		for i, c := range p.AcceptedColours {
			zhc[i], enc[i] = colourText(c)
		}
		add("须出示"+strings.Join(zhc, "或")+"，其他颜色不能进入",
			"Your health code must be "+strings.Join(enc, " or ")+"; other colours: no entry")
		zhAge, enAge := "", ""
		if p.CodeMaxAge > 0 {
			zhAge = "或信息超过 " + durationZh(p.CodeMaxAge) + "未更新"
			enAge = " or older than " + durationEn(p.CodeMaxAge)
		}
		switch action(p.CodeUnknown, Review) {
		case Review:
			add("查不到健康码"+zhAge+"的须人工核验", "Health code not available"+enAge+": staff check you")
		case Deny:
			add("查不到健康码"+zhAge+"的不能进入", "Health code not available"+enAge+": no entry")
		}
	}

	if p.TestWindow > 0 {
		zh, e := testText(p, p.TestWindow)
		switch action(p.TestUnknown, Deny) {
		case Deny:
			add("须持"+zh+"，否则不能进入", "You need "+e+"; otherwise no entry")
		case Review:
			add("须持"+zh+"，否则须人工核验", "You need "+e+"; otherwise staff check you")
		default:
			add("建议持"+zh, "Recommended: "+e)
		}
		if p.TestPendingAllowed {
			add("已采样、结果未出的视同有效", "A test sampled but still pending counts")
		}
		add("最近一次检测结果为阳性的不能进入", "If your latest test was positive: no entry")
	}

	if p.MinDoses > 0 {
		d := strconv.Itoa(p.MinDoses)
		doseWord := "vaccine doses"
		if p.MinDoses == 1 {
			doseWord = "vaccine dose"
		}
		if p.MinDosesMinAge > 0 {
			a := strconv.Itoa(p.MinDosesMinAge)
			add(a+" 岁及以上须至少接种 "+d+" 剂疫苗", "People aged "+a+" and over need at least "+d+" "+doseWord)
		} else {
			add("须至少接种 "+d+" 剂疫苗", "You need at least "+d+" "+doseWord)
		}
	}

	v := &p.Visitors
	if !v.Allowed {
		add("暂不接待访客", "No visitors at present")
	} else {
		if len(v.Hours) > 0 {
			ws := windowsText(v.Hours)
			add("访客接待时间：每天 "+ws, "Visiting hours: every day "+ws)
		}
		if v.NeedHost {
			add("访客须由住户事先登记", "Visitors must be registered by a resident host")
		}
		if v.NeedTest {
			win := v.TestWindow
			if win <= 0 {
				win = p.TestWindow
			}
			if win <= 0 {
				win = DefaultVisitorTestWindow
			}
			zh, e := testText(p, win)
			add("访客须持"+zh, "Visitors need "+e)
		}
	}

	hasHealth := len(p.DenyMonitoring) > 0 || len(p.ReviewMonitoring) > 0 ||
		len(p.AcceptedColours) > 0 || p.TestWindow > 0 || p.MinDoses > 0
	if !p.ApplyToStaff && hasHealth {
		add("物业及工作人员只需测体温", "Property and other staff only have their temperature taken")
	}
	if len(p.Curfews) > 0 {
		add("工作人员不受宵禁时段限制", "Staff are exempt from the curfew hours")
	}
	add("值守人员核验后可以放行", "Staff on duty may let you in after checking")
	return lines
}

func localStamp(t time.Time) string {
	lt := t.In(cst)
	if lt.Hour() == 0 && lt.Minute() == 0 && lt.Second() == 0 {
		return lt.Format("2006-01-02")
	}
	return lt.Format("2006-01-02 15:04")
}

func windowsText(ws []Window) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = w.From + "–" + w.To
	}
	return strings.Join(parts, ", ")
}

func colourText(c string) (zh, en string) {
	switch strings.ToLower(c) {
	case ColourGreen:
		return "绿码", "green"
	case ColourYellow:
		return "黄码", "yellow"
	case ColourRed:
		return "红码", "red"
	case ColourGrey, "gray":
		return "灰码", "grey"
	}
	return c, c
}

func monitoringText(kinds []string) (zh, en string) {
	zs := make([]string, len(kinds))
	es := make([]string, len(kinds))
	for i, k := range kinds {
		switch strings.ToLower(k) {
		case MonitorHomeQuarantine:
			zs[i], es[i] = "居家隔离", "home quarantine"
		case MonitorCentralQuarantine:
			zs[i], es[i] = "集中隔离", "central quarantine"
		case MonitorHealthMonitoring:
			zs[i], es[i] = "居家健康监测", "health monitoring"
		default:
			zs[i], es[i] = k, strings.ReplaceAll(k, "_", " ")
		}
	}
	return strings.Join(zs, "、"), strings.Join(es, " or ")
}

func testKindsText(kinds []string) (zh, en string) {
	if len(kinds) == 0 {
		return "检测", "test"
	}
	zs := make([]string, len(kinds))
	es := make([]string, len(kinds))
	for i, k := range kinds {
		switch strings.ToLower(k) {
		case TestNucleic:
			zs[i], es[i] = "核酸", "nucleic-acid"
		case TestAntigen:
			zs[i], es[i] = "抗原", "antigen"
		default:
			zs[i], es[i] = k, k
		}
	}
	return strings.Join(zs, "或") + "检测", strings.Join(es, " or ") + " test"
}

// testText describes a valid test for window win on p's clock.
func testText(p *Policy, win Duration) (zh, en string) {
	kz, ke := testKindsText(p.TestKinds)
	result, resultEn := "阴性", "negative"
	if p.TestPendingAllowed {
		result, resultEn = "阴性（或已采样待出结果）", "negative (or pending)"
	}
	if p.TestCalendarDays {
		days := int((time.Duration(win) + 24*time.Hour - 1) / (24 * time.Hour))
		d := strconv.Itoa(days)
		return "采样当日起 " + d + " 个自然日内的" + kz + result + "证明",
			"a " + resultEn + " " + ke + " sampled within " + d + " calendar day" + plural(days) + ", counting the sampling day"
	}
	return "采样后 " + durationZh(win) + "内的" + kz + result + "证明",
		"a " + resultEn + " " + ke + " sampled within the last " + durationEn(win)
}

func durationZh(d Duration) string {
	td := time.Duration(d)
	switch {
	case td%time.Hour == 0:
		return strconv.FormatInt(int64(td/time.Hour), 10) + " 小时"
	case td%time.Minute == 0:
		return strconv.FormatInt(int64(td/time.Minute), 10) + " 分钟"
	}
	return d.String()
}

func durationEn(d Duration) string {
	td := time.Duration(d)
	switch {
	case td == time.Hour:
		return "1 hour"
	case td%time.Hour == 0:
		return strconv.FormatInt(int64(td/time.Hour), 10) + " hours"
	case td == time.Minute:
		return "1 minute"
	case td%time.Minute == 0:
		return strconv.FormatInt(int64(td/time.Minute), 10) + " minutes"
	}
	return d.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
