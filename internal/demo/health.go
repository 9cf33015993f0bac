package demo

import (
	"strings"
	"time"

	"shequ/internal/store"
	"shequ/internal/synth"
)

// tags gives people the care tags a survey would record.
func (l *ledger) tags(sp synth.Person) string {
	var t []string
	age := l.now.Sub(sp.Birth).Hours() / 24 / 365.25
	switch {
	case age < 3:
		t = append(t, "infant")
	case age >= 60 && l.rng.IntN(100) < 18:
		t = append(t, "chronic")
	}
	if age >= 40 && l.rng.IntN(100) < 2 {
		t = append(t, "disabled")
	}
	if age >= 20 && age <= 40 && sp.Sex == 2 && l.rng.IntN(100) < 3 {
		t = append(t, "pregnant")
	}
	if l.rng.IntN(100) < 1 {
		t = append(t, "subsistence")
	}
	return strings.Join(t, ",")
}

// health records a plausible history: vaccine doses in 2021–2022, a recent
// test for most people, a green code, and for a few people a monitoring
// period running now.
func (l *ledger) health(p *store.Person, sp synth.Person) error {
	age := l.now.Sub(sp.Birth).Hours() / 24 / 365.25
	if age >= 3 && l.rng.IntN(100) < 92 {
		doses := 1 + l.rng.IntN(3)
		if age >= 18 && l.rng.IntN(100) < 70 {
			doses = 3
		}
		day := time.Date(2021, 3, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, l.rng.IntN(200))
		for d := 1; d <= doses; d++ {
			vaccine := []string{"新冠病毒灭活疫苗（Vero细胞）", "重组新冠病毒疫苗（CHO细胞）"}[l.rng.IntN(2)]
			if err := l.tx.AddVaccination(l.ctx, &store.Vaccination{PersonID: p.ID, Vaccine: vaccine, Dose: d,
				GivenOn: day.Format("2006-01-02"), Site: "秦都区疾控中心接种点", Source: store.SourceDemo}); err != nil {
				return err
			}
			day = day.AddDate(0, 1+l.rng.IntN(6), l.rng.IntN(20))
		}
	}
	if l.rng.IntN(100) < 55 {
		sampled := l.now.Add(-time.Duration(2+l.rng.IntN(70)) * time.Hour)
		result := "negative"
		if l.rng.IntN(1000) == 0 {
			result = "positive"
		}
		if err := l.tx.AddTest(l.ctx, &store.HealthTest{PersonID: p.ID, Kind: "nucleic", SampledAt: sampled,
			ResultAt: sampled.Add(time.Duration(6+l.rng.IntN(12)) * time.Hour), Result: result,
			Institution: []string{"咸阳市第一人民医院", "秦都区人民医院", "渭滨街道社区卫生服务中心"}[l.rng.IntN(3)], Source: store.SourceDemo}); err != nil {
			return err
		}
	}
	if l.rng.IntN(100) < 30 {
		if err := l.tx.AddCodeSnapshot(l.ctx, &store.CodeSnapshot{PersonID: p.ID, Colour: "green",
			At: l.now.Add(-time.Duration(l.rng.IntN(48)) * time.Hour), Source: store.SourceDemo}); err != nil {
			return err
		}
	}
	if l.monitoring < l.monitoringTarget && p.Residency == "floating" && l.rng.IntN(60) == 0 {
		l.monitoring++
		kind := "health_monitoring"
		if l.monitoring%3 == 0 {
			kind = "home_quarantine"
		}
		start := l.now.AddDate(0, 0, -l.rng.IntN(5))
		if err := l.tx.AddTravel(l.ctx, &store.TravelDeclaration{PersonID: p.ID, FromPlace: []string{"西安市雁塔区", "宝鸡市渭滨区", "兰州市城关区", "郑州市金水区"}[l.rng.IntN(4)],
			ArrivalDate: start.Format("2006-01-02"), Transport: []string{"高铁", "自驾", "长途汽车"}[l.rng.IntN(3)], Source: store.SourceDemo}); err != nil {
			return err
		}
		if err := l.tx.AddMonitoring(l.ctx, &store.Monitoring{PersonID: p.ID, Kind: kind, StartDate: start.Format("2006-01-02"),
			EndDate: start.AddDate(0, 0, 7).Format("2006-01-02"), Reason: "外地返回", Source: store.SourceDemo}); err != nil {
			return err
		}
	}
	return nil
}
