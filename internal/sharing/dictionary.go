// Package sharing is how shequ shares data with other departments without
// leaking it: the published data standard (every dataset and field it
// exchanges, with code tables and sensitivity), sharing agreements that
// say which fields of which datasets a partner may read where and until
// when, and the projection of records onto an agreement, with masking,
// rate limits and a log of every record served.
package sharing

// Sharing types of a dataset (GB/T 21063-style "共享类型").
const (
	Unconditional = "unconditional" // 无条件共享
	Conditional   = "conditional"   // 有条件共享: under an agreement
	None          = "none"          // 不予共享
)

// Field is one field of a dataset as the standard publishes it.
type Field struct {
	Name      string `json:"name"`
	ZH        string `json:"name_zh"`
	EN        string `json:"name_en"`
	Type      string `json:"type"` // string, integer, date (YYYY-MM-DD), datetime (Unix ms), code, list (comma-separated codes)
	CodeTable string `json:"code_table,omitempty"`
	Level     int    `json:"sensitivity"`      // 1 public, 2 internal, 3 personal, 4 sensitive personal
	Masked    bool   `json:"masked,omitempty"` // served masked unless the agreement lists it as unmasked
	Note      string `json:"note,omitempty"`
}

// Dataset is a set of records shequ exchanges.
type Dataset struct {
	Name    string  `json:"name"`
	ZH      string  `json:"name_zh"`
	EN      string  `json:"name_en"`
	Source  string  `json:"source"`
	Cycle   string  `json:"update_cycle"`
	Sharing string  `json:"sharing"`
	Path    string  `json:"api_path"`
	Fields  []Field `json:"fields"`
}

// Code tables the fields refer to.
var CodeTables = map[string]string{
	"GB/T 2261.1-2003": "人的性别代码 Codes for sex of human: 0 unknown, 1 male, 2 female, 9 unspecified",
	"GB/T 3304-1991":   "中国各民族名称的罗马字母拼写法和代码 Names of ethnic groups in China and their codes (two digits, 01 汉族 …)",
	"GB/T 4761-2008":   "家庭关系代码 Codes for family relationships (02 spouse, 1x child, 99 other …)",
	"GB 11643-1999":    "公民身份号码 Citizen identification number (18 characters, ISO 7064 MOD 11-2 check)",
	"GB/T 2260":        "中华人民共和国行政区划代码 Administrative division codes; shequ extends them to 12 digits for streets and communities and 15 for grids",
	"shequ:id_type":    "resident_id, passport, hkmo_permit, tw_permit, foreign_pr",
	"shequ:residency":  "registered 户籍, permanent 常住, floating 流动",
	"shequ:tags":       "elderly_alone 独居老人, disabled 残疾, subsistence 低保, special_care 优抚, … (docs/data-standard.md)",
	"shequ:household":  "family, rental, collective",
	"shequ:place_kind": "compound, village, building, house, unit, room",
	"shequ:room_use":   "self, rented, group_rental, vacant, shop",
	"shequ:test_kind":  "pcr, antigen, antibody",
	"shequ:result":     "pending, negative, positive, invalid",
	"shequ:vaccine":    "vaccine product names as recorded",
	"shequ:lead":       "status open, assigned, verified; match id, phone, room, fuzzy, manual, none",
	"shequ:event":      "categories and statuses of docs/events.md",
}

// Dictionary lists every dataset the open API serves. The store's
// ShareSpecs hold the same fields as SQL; a test keeps them equal, and
// the API serves nothing that is not in both.
var Dictionary = []Dataset{
	{Name: "persons", ZH: "实有人口", EN: "Residents", Source: "社区人口台账 community population ledger", Cycle: "real time", Sharing: Conditional, Path: "/api/v1/persons",
		Fields: []Field{
			{"id", "人员标识", "Person id", "string", "", 2, false, "stable across merges"},
			{"name", "姓名", "Name", "string", "", 3, false, ""},
			{"sex", "性别", "Sex", "code", "GB/T 2261.1-2003", 3, false, ""},
			{"birth_date", "出生日期", "Date of birth", "date", "", 3, false, ""},
			{"id_type", "证件类型", "Document type", "code", "shequ:id_type", 2, false, ""},
			{"id_number", "证件号码", "Document number", "string", "GB 11643-1999", 4, true, "masked 6101**********1234 unless agreed"},
			{"phone", "联系电话", "Phone", "string", "", 4, true, "masked 138****5678 unless agreed"},
			{"ethnicity", "民族", "Ethnicity", "code", "GB/T 3304-1991", 3, false, ""},
			{"residency", "人口类型", "Residency", "code", "shequ:residency", 3, false, ""},
			{"tags", "人员标签", "Tags", "list", "shequ:tags", 4, false, ""},
			{"room_id", "居住房屋", "Room", "string", "", 2, false, ""},
			{"address", "居住地址", "Address", "string", "", 3, false, ""},
			{"relation", "与户主关系", "Relation to the head", "code", "GB/T 4761-2008", 3, false, ""},
			{"community_code", "社区代码", "Community code", "code", "GB/T 2260", 1, false, ""},
			{"grid_code", "网格代码", "Grid code", "code", "GB/T 2260", 1, false, ""},
			{"updated_at", "更新时间", "Updated", "datetime", "", 1, false, ""},
		}},
	{Name: "households", ZH: "家庭户", EN: "Households", Source: "社区人口台账", Cycle: "real time", Sharing: Conditional, Path: "/api/v1/households",
		Fields: []Field{
			{"id", "户标识", "Household id", "string", "", 2, false, ""},
			{"room_id", "房屋", "Room", "string", "", 2, false, ""},
			{"kind", "户类型", "Kind", "code", "shequ:household", 2, false, ""},
			{"head_person_id", "户主", "Head of household", "string", "", 3, false, ""},
			{"members", "在住人数", "Members", "integer", "", 2, false, ""},
			{"address", "地址", "Address", "string", "", 3, false, ""},
			{"community_code", "社区代码", "Community code", "code", "GB/T 2260", 1, false, ""},
			{"grid_code", "网格代码", "Grid code", "code", "GB/T 2260", 1, false, ""},
			{"updated_at", "更新时间", "Updated", "datetime", "", 1, false, ""},
		}},
	{Name: "places", ZH: "房屋与楼栋", EN: "Places", Source: "楼盘表 building tables", Cycle: "real time", Sharing: Unconditional, Path: "/api/v1/places",
		Fields: []Field{
			{"id", "地点标识", "Place id", "string", "", 1, false, ""},
			{"parent_id", "上级地点", "Parent", "string", "", 1, false, ""},
			{"kind", "类型", "Kind", "code", "shequ:place_kind", 1, false, ""},
			{"name", "名称", "Name", "string", "", 1, false, ""},
			{"address", "地址", "Address", "string", "", 2, false, ""},
			{"room_use", "房屋用途", "Use", "code", "shequ:room_use", 2, false, ""},
			{"community_code", "社区代码", "Community code", "code", "GB/T 2260", 1, false, ""},
			{"grid_code", "网格代码", "Grid code", "code", "GB/T 2260", 1, false, ""},
			{"updated_at", "更新时间", "Updated", "datetime", "", 1, false, ""},
		}},
	{Name: "health_tests", ZH: "检测记录", EN: "Test results", Source: "卫健部门与社区录入 health side and community entry", Cycle: "real time", Sharing: Conditional, Path: "/api/v1/health/tests",
		Fields: []Field{
			{"id", "记录标识", "Record id", "string", "", 2, false, ""},
			{"person_id", "人员标识", "Person id", "string", "", 3, false, ""},
			{"kind", "检测类型", "Kind", "code", "shequ:test_kind", 3, false, ""},
			{"sampled_at", "采样时间", "Sampled", "datetime", "", 3, false, ""},
			{"result", "结果", "Result", "code", "shequ:result", 4, false, ""},
			{"result_at", "出结果时间", "Result time", "datetime", "", 3, false, "0 while pending"},
			{"institution", "检测机构", "Institution", "string", "", 2, false, ""},
			{"source", "来源", "Source", "string", "", 2, false, ""},
			{"community_code", "社区代码", "Community code", "code", "GB/T 2260", 1, false, ""},
			{"updated_at", "更新时间", "Updated", "datetime", "", 1, false, ""},
		}},
	{Name: "vaccinations", ZH: "疫苗接种", EN: "Vaccinations", Source: "卫健部门与社区录入", Cycle: "daily", Sharing: Conditional, Path: "/api/v1/health/vaccinations",
		Fields: []Field{
			{"id", "记录标识", "Record id", "string", "", 2, false, ""},
			{"person_id", "人员标识", "Person id", "string", "", 3, false, ""},
			{"vaccine", "疫苗", "Vaccine", "code", "shequ:vaccine", 3, false, ""},
			{"dose", "剂次", "Dose", "integer", "", 3, false, ""},
			{"given_on", "接种日期", "Given on", "date", "", 3, false, ""},
			{"lot", "批号", "Lot", "string", "", 2, false, ""},
			{"source", "来源", "Source", "string", "", 2, false, ""},
			{"community_code", "社区代码", "Community code", "code", "GB/T 2260", 1, false, ""},
			{"updated_at", "更新时间", "Updated", "datetime", "", 1, false, ""},
		}},
	{Name: "leads", ZH: "协查线索", EN: "Epidemic leads", Source: "上级下发 sent down by the epidemic command", Cycle: "real time", Sharing: Conditional, Path: "/api/v1/leads",
		Fields: []Field{
			{"id", "线索标识", "Lead id", "string", "", 2, false, ""},
			{"batch_id", "批次", "Batch", "string", "", 2, false, ""},
			{"status", "状态", "Status", "code", "shequ:lead", 2, false, ""},
			{"deadline", "核查时限", "Deadline", "date", "", 2, false, ""},
			{"match_kind", "匹配方式", "Matched by", "code", "shequ:lead", 2, false, ""},
			{"outcome", "核查结果", "Outcome", "string", "", 3, false, ""},
			{"measure", "管控措施", "Measure", "string", "", 3, false, ""},
			{"verified_at", "核查时间", "Verified", "datetime", "", 2, false, "0 while open"},
			{"person_id", "人员标识", "Person id", "string", "", 3, false, ""},
			{"node_code", "所在网格或社区代码", "Grid or community code", "code", "GB/T 2260", 1, false, ""},
			{"updated_at", "更新时间", "Updated", "datetime", "", 1, false, ""},
		}},
	{Name: "events", ZH: "事件", EN: "Events", Source: "居民、网格员、门禁与巡查上报", Cycle: "real time", Sharing: Conditional, Path: "/api/v1/events",
		Fields: []Field{
			{"id", "事件标识", "Event id", "string", "", 1, false, ""},
			{"ref", "事件编号", "Reference", "string", "", 1, false, ""},
			{"category", "类别", "Category", "code", "shequ:event", 1, false, ""},
			{"title", "标题", "Title", "string", "", 2, false, ""},
			{"status", "状态", "Status", "code", "shequ:event", 1, false, ""},
			{"source", "来源", "Source", "code", "shequ:event", 1, false, ""},
			{"created_at", "上报时间", "Reported", "datetime", "", 1, false, ""},
			{"due_at", "办理时限", "Due", "datetime", "", 1, false, "0 before acceptance"},
			{"resolved_at", "处置时间", "Resolved", "datetime", "", 1, false, ""},
			{"closed_at", "办结时间", "Closed", "datetime", "", 1, false, ""},
			{"rating", "居民评价", "Rating", "integer", "", 2, false, "1–5, 0 not rated"},
			{"community_code", "社区代码", "Community code", "code", "GB/T 2260", 1, false, ""},
			{"grid_code", "网格代码", "Grid code", "code", "GB/T 2260", 1, false, ""},
			{"updated_at", "更新时间", "Updated", "datetime", "", 1, false, ""},
		}},
	{Name: "aggregates", ZH: "社区汇总指标", EN: "Community aggregates", Source: "computed from the ledger, gates, leads and events", Cycle: "real time", Sharing: Unconditional, Path: "/api/v1/aggregates",
		Fields: []Field{
			{"community_code", "社区代码", "Community code", "code", "GB/T 2260", 1, false, ""},
			{"community_name", "社区名称", "Community", "string", "", 1, false, ""},
			{"population", "实有人口", "Population", "integer", "", 1, false, ""},
			{"registered", "户籍人口", "Registered", "integer", "", 1, false, ""},
			{"floating", "流动人口", "Floating", "integer", "", 1, false, ""},
			{"households", "户数", "Households", "integer", "", 1, false, ""},
			{"rooms_surveyed", "已核查房屋", "Rooms surveyed", "integer", "", 1, false, ""},
			{"rooms", "房屋", "Rooms", "integer", "", 1, false, ""},
			{"leads_open", "未核查线索", "Open leads", "integer", "", 1, false, ""},
			{"events_open", "在办事件", "Open events", "integer", "", 1, false, ""},
			{"alarms_open", "未处理告警", "Open alarms", "integer", "", 1, false, ""},
		}},
}

// DatasetByName finds a dataset of the dictionary.
func DatasetByName(name string) (Dataset, bool) {
	for _, d := range Dictionary {
		if d.Name == name {
			return d, true
		}
	}
	return Dataset{}, false
}

// Has tells whether a dataset has a field.
func (d Dataset) Has(field string) bool {
	for _, f := range d.Fields {
		if f.Name == field {
			return true
		}
	}
	return false
}
