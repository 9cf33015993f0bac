package exchange

import (
	"strings"

	"shequ/internal/fhir"
)

// column is one column of an inbound file.
type column struct {
	key      string
	header   string   // as the template writes it
	aliases  []string // other headers read as this column
	required bool
	choices  []string // the template's drop-down, when short
	help     string   // the template's 填写说明
	example  string
	width    float64
}

// Column keys.
const (
	colID          = "id_number"
	colName        = "name"
	colTestKind    = "test_kind"
	colResult      = "result"
	colSampledAt   = "sampled_at"
	colResultAt    = "result_at"
	colInstitution = "institution"
	colVaccine     = "vaccine"
	colDose        = "dose"
	colGivenOn     = "given_on"
	colSite        = "site"
	colLot         = "lot"
	colTag         = "tag"
	colChange      = "change"
)

var idColumn = column{key: colID, header: "身份证号码", aliases: []string{"身份证号", "公民身份号码", "证件号码", "居民身份证号码"}, required: true,
	help: "18位居民身份证号码（末位X大小写均可）。本列为文本格式，请勿改成数值。", example: "11010519491231002X", width: 22}

var nameColumn = column{key: colName, header: "姓名", required: true, help: "与身份证上的姓名一致，须与台账中的姓名相同。", example: "张秀英", width: 10}

// codeName is one entry of a file code table: the text written in the
// file and the ledger value.
type codeName struct{ name, value string }

var testKinds = []codeName{{"核酸", "nucleic"}, {"抗原", "antigen"}, {"抗体", "antibody"}}
var testKindAliases = []codeName{{"核酸检测", "nucleic"}, {"PCR", "nucleic"}, {"抗原检测", "antigen"}, {"抗体检测", "antibody"}}

var results = []codeName{{"阴性", "negative"}, {"阳性", "positive"}, {"无效", "invalid"}, {"待出", "pending"}}
var resultAliases = []codeName{{"未检出", "negative"}, {"检出", "positive"}, {"待检", "pending"}, {"检测中", "pending"}, {"-", "negative"}, {"+", "positive"}}

// civilTags are the tags a civil-affairs list may set.
var civilTags = []codeName{{"低保", "subsistence"}, {"特困", "extreme_poverty"}, {"残疾", "disabled"}, {"优抚", "special_care"}, {"独居老人", "elderly_alone"}}
var civilTagAliases = []codeName{{"低保户", "subsistence"}, {"最低生活保障", "subsistence"}, {"城乡低保", "subsistence"},
	{"特困人员", "extreme_poverty"}, {"特困供养", "extreme_poverty"}, {"特困供养人员", "extreme_poverty"},
	{"残疾人", "disabled"}, {"优抚对象", "special_care"}, {"重点优抚对象", "special_care"}}

var changes = []codeName{{"新增", "add"}, {"取消", "remove"}}
var changeAliases = []codeName{{"认定", "add"}, {"纳入", "add"}, {"增加", "add"}, {"退出", "remove"}, {"注销", "remove"}, {"删除", "remove"}}

func names(cs []codeName) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.name
	}
	return out
}

// lookupCode finds a written value in code tables; the ledger values
// themselves are accepted too.
func lookupCode(v string, tables ...[]codeName) (string, bool) {
	v = strings.ReplaceAll(v, " ", "")
	for _, t := range tables {
		for _, c := range t {
			if c.name == v || strings.EqualFold(c.value, v) {
				return c.value, true
			}
		}
	}
	return "", false
}

func vaccineNames() []string {
	out := make([]string, len(fhir.Vaccines))
	for i, v := range fhir.Vaccines {
		out[i] = v.Name
	}
	return out
}

// columns of each kind of file, in template order.
func columns(k Kind) []column {
	switch k {
	case KindTests:
		return []column{idColumn, nameColumn,
			{key: colTestKind, header: "检测类型", aliases: []string{"检测项目", "类型"}, required: true, choices: names(testKinds),
				help: "核酸、抗原或抗体；也可以填 LOINC 代码（如 94500-6）。", example: "核酸", width: 10},
			{key: colResult, header: "检测结果", aliases: []string{"结果"}, required: true, choices: names(results),
				help: "阴性、阳性、无效或待出；也可以填 SNOMED CT 代码（阳性 10828004，阴性 260385009）。", example: "阴性", width: 10},
			{key: colSampledAt, header: "采样时间", aliases: []string{"采样日期"}, required: true,
				help: "如 2026-11-27 08:30；只有日期的按当天 0 点。", example: "2026-11-27 08:30", width: 18},
			{key: colResultAt, header: "报告时间", aliases: []string{"结果时间", "出结果时间", "报告日期"},
				help: "出结果的时间，不能早于采样时间；可不填。", example: "2026-11-27 20:00", width: 18},
			{key: colInstitution, header: "检测机构", aliases: []string{"检测单位", "采样机构"},
				help: "不填时记为上传时填写的来源部门。", example: "咸阳市第一人民医院", width: 24},
		}
	case KindVaccinations:
		return []column{idColumn, nameColumn,
			{key: colVaccine, header: "疫苗名称", aliases: []string{"疫苗", "疫苗代码", "疫苗种类"}, required: true, choices: vaccineNames(),
				help: "从下拉列表选择；也可以填本系统的疫苗代码或 CVX 代码（见 docs/exchange.md）。", example: fhir.Vaccines[0].Name, width: 30},
			{key: colDose, header: "剂次", aliases: []string{"针次", "第几剂"}, required: true,
				help: "1–10 的整数，如 1、2、3（“第2剂”也可以）。", example: "2", width: 8},
			{key: colGivenOn, header: "接种日期", aliases: []string{"接种时间"}, required: true,
				help: "如 2021-06-15。", example: "2021-06-15", width: 12},
			{key: colSite, header: "接种单位", aliases: []string{"接种点", "接种地点"},
				help: "可不填。", example: "秦都区疾控中心接种点", width: 24},
			{key: colLot, header: "疫苗批号", aliases: []string{"批号"},
				help: "可不填。", example: "202106A031", width: 14},
		}
	case KindTags:
		return []column{idColumn, nameColumn,
			{key: colTag, header: "类别", aliases: []string{"标签", "救助类别", "对象类别", "人员类别"}, required: true, choices: names(civilTags),
				help: "低保、特困、残疾、优抚或独居老人；一行一个类别。", example: "低保", width: 12},
			{key: colChange, header: "变动", aliases: []string{"操作", "变动类型"}, choices: names(changes),
				help: "新增或取消；不填视为新增。", example: "新增", width: 8},
		}
	}
	return nil
}

// headerIndex maps every accepted header (without spaces and the * of
// required columns) to its column position.
func headerIndex(cols []column) map[string]int {
	m := map[string]int{}
	for i, c := range cols {
		m[c.header] = i
		m[c.key] = i
		for _, a := range c.aliases {
			m[a] = i
		}
	}
	return m
}

func cleanHeader(h string) string {
	h = strings.TrimSpace(strings.NewReplacer(" ", "", "\u3000", "", "*", "", "＊", "", "\n", "").Replace(h))
	return h
}
