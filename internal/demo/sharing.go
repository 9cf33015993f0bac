package demo

import (
	"context"
	"encoding/json"

	"shequ/internal/access"
	"shequ/internal/auth"
	"shequ/internal/store"
)

// PartnerName is the demo's partner department.
const PartnerName = "秦都区卫生健康局"

// buildPartner gives the district health bureau an API account over the
// street with a token, and an agreement for a year: residents (masked, no
// phone), test results and vaccinations (which it may also send in, as
// FHIR), and the community aggregates.
func buildPartner(ctx context.Context, env Env, res *Result) error {
	u, err := env.Auth.CreateUser(ctx, nil, auth.NewUser{Username: "qindu-health", DisplayName: PartnerName, Kind: store.KindAPI,
		Role: access.Partner, NodeID: res.Street.ID}, "")
	if err != nil {
		return err
	}
	if res.PartnerToken, err = env.Auth.IssueToken(ctx, nil, u.ID, "demo", ""); err != nil {
		return err
	}
	res.PartnerName = PartnerName
	grants, _ := json.Marshal(map[string]any{
		"persons": map[string]any{"fields": []string{"id", "name", "sex", "birth_date", "id_type", "id_number", "residency", "room_id",
			"address", "community_code", "grid_code", "updated_at"}},
		"health_tests": map[string]any{"fields": []string{"id", "person_id", "kind", "sampled_at", "result", "result_at", "institution", "source",
			"community_code", "updated_at"}, "write": true},
		"vaccinations": map[string]any{"fields": []string{"id", "person_id", "vaccine", "dose", "given_on", "lot", "source", "community_code", "updated_at"},
			"write": true},
		"aggregates": map[string]any{"fields": []string{"community_code", "community_name", "population", "registered", "floating", "households",
			"rooms_surveyed", "rooms", "leads_open", "events_open", "alarms_open"}},
	})
	return env.Store.Write(ctx, func(tx *store.Tx) error {
		return tx.SaveAgreement(ctx, &store.Agreement{PartnerID: u.ID, Department: "health", Name: "疫情防控数据共享协议",
			Purpose: "核酸检测、疫苗接种与流调协查：区卫健局查询辖区居民（脱敏）与健康记录", NodeID: res.Street.ID, Grants: string(grants),
			RateLimit: 600, ExpiresOn: env.Store.Now().AddDate(1, 0, 0).In(cstZone).Format("2006-01-02")}, "")
	})
}
