package ledgerio

import (
	"strings"

	"shequ/internal/pii"
)

// Column describes one column of the collection form (人员信息采集表).
// Header is what the user sees; Key is the stable English id used in code.
// Choices, when set, are the values offered in the template's drop-down.
type Column struct {
	Key      string
	Header   string
	Required bool
	Choices  []string
}

// Column keys, in form order.
const (
	colName              = "name"
	colDocType           = "doc_type"
	colIDNumber          = "id_number"
	colSex               = "sex"
	colBirthDate         = "birth_date"
	colEthnicity         = "ethnicity"
	colPhone             = "phone"
	colResidency         = "residency"
	colRegisteredAddress = "registered_address"
	colBuilding          = "building"
	colUnit              = "unit"
	colRoom              = "room"
	colRelation          = "relation"
	colRoomUse           = "room_use"
	colWorkplace         = "workplace"
	colTags              = "tags"
	colSince             = "since"
	colNotes             = "notes"
)

// code is one entry of a code table: the text a user types or picks and the
// value stored.
type code struct{ name, value string }

// docTypes maps the form's document names to pii document types. The first
// entry is the default for an empty cell.
var docTypes = []code{
	{"居民身份证", string(pii.DocResidentID)},
	{"护照", string(pii.DocPassport)},
	{"港澳居民来往内地通行证", string(pii.DocHKMacaoPermit)},
	{"台湾居民来往大陆通行证", string(pii.DocTaiwanPermit)},
	{"外国人永久居留身份证", string(pii.DocForeignPR)},
}

// docTypeAliases are the short names people actually write.
var docTypeAliases = []code{
	{"身份证", string(pii.DocResidentID)},
	{"二代身份证", string(pii.DocResidentID)},
	{"港澳通行证", string(pii.DocHKMacaoPermit)},
	{"回乡证", string(pii.DocHKMacaoPermit)},
	{"台胞证", string(pii.DocTaiwanPermit)},
	{"台湾居民来往大陆通行证(台胞证)", string(pii.DocTaiwanPermit)},
	{"外国人永久居留证", string(pii.DocForeignPR)},
	{"永居证", string(pii.DocForeignPR)},
}

// sexes follow GB/T 2261.1 (1 male, 2 female).
var sexes = []code{{"男", "1"}, {"女", "2"}}

var sexAliases = []code{{"男性", "1"}, {"女性", "2"}, {"1", "1"}, {"2", "2"}}

// ethnicities is GB 3304-1991 (names and Roman-alphabet order codes), with
// 97 for 其他 (other, e.g. not yet recognised groups).
var ethnicities = []code{
	{"汉族", "01"}, {"蒙古族", "02"}, {"回族", "03"}, {"藏族", "04"},
	{"维吾尔族", "05"}, {"苗族", "06"}, {"彝族", "07"}, {"壮族", "08"},
	{"布依族", "09"}, {"朝鲜族", "10"}, {"满族", "11"}, {"侗族", "12"},
	{"瑶族", "13"}, {"白族", "14"}, {"土家族", "15"}, {"哈尼族", "16"},
	{"哈萨克族", "17"}, {"傣族", "18"}, {"黎族", "19"}, {"傈僳族", "20"},
	{"佤族", "21"}, {"畲族", "22"}, {"高山族", "23"}, {"拉祜族", "24"},
	{"水族", "25"}, {"东乡族", "26"}, {"纳西族", "27"}, {"景颇族", "28"},
	{"柯尔克孜族", "29"}, {"土族", "30"}, {"达斡尔族", "31"}, {"仫佬族", "32"},
	{"羌族", "33"}, {"布朗族", "34"}, {"撒拉族", "35"}, {"毛南族", "36"},
	{"仡佬族", "37"}, {"锡伯族", "38"}, {"阿昌族", "39"}, {"普米族", "40"},
	{"塔吉克族", "41"}, {"怒族", "42"}, {"乌孜别克族", "43"}, {"俄罗斯族", "44"},
	{"鄂温克族", "45"}, {"德昂族", "46"}, {"保安族", "47"}, {"裕固族", "48"},
	{"京族", "49"}, {"塔塔尔族", "50"}, {"独龙族", "51"}, {"鄂伦春族", "52"},
	{"赫哲族", "53"}, {"门巴族", "54"}, {"珞巴族", "55"}, {"基诺族", "56"},
	{"其他", "97"},
}

// ethnicityAliases accepts the GB 3304 entry for people of foreign origin
// with Chinese nationality, which the drop-down does not offer.
var ethnicityAliases = []code{{"外国血统中国籍人士", "98"}, {"外国血统", "98"}}

// relations is GB/T 4761-2008 (family relationship codes). Two-digit codes
// ending in 0 are the group entries.
var relations = []code{
	{"本人", "01"}, {"户主", "02"},
	{"配偶", "10"}, {"夫", "11"}, {"妻", "12"},
	{"子", "20"}, {"独生子", "21"}, {"长子", "22"}, {"次子", "23"}, {"三子", "24"},
	{"四子", "25"}, {"五子", "26"}, {"养子或继子", "27"}, {"女婿", "28"}, {"其他儿子", "29"},
	{"女", "30"}, {"独生女", "31"}, {"长女", "32"}, {"次女", "33"}, {"三女", "34"},
	{"四女", "35"}, {"五女", "36"}, {"养女或继女", "37"}, {"儿媳", "38"}, {"其他女儿", "39"},
	{"孙子、孙女或外孙子、外孙女", "40"}, {"孙子", "41"}, {"孙女", "42"}, {"外孙子", "43"},
	{"外孙女", "44"}, {"孙媳妇或外孙媳妇", "45"}, {"孙女婿或外孙女婿", "46"},
	{"曾孙子或外曾孙子", "47"}, {"曾孙女或外曾孙女", "48"},
	{"其他孙子、孙女或外孙子、外孙女", "49"},
	{"父母", "50"}, {"父亲", "51"}, {"母亲", "52"}, {"公公", "53"}, {"婆婆", "54"},
	{"岳父", "55"}, {"岳母", "56"}, {"继父或养父", "57"}, {"继母或养母", "58"},
	{"其他父母关系", "59"},
	{"祖父母或外祖父母", "60"}, {"祖父", "61"}, {"祖母", "62"}, {"外祖父", "63"},
	{"外祖母", "64"}, {"配偶的祖父母或外祖父母", "65"}, {"曾祖父", "66"},
	{"曾祖母", "67"}, {"配偶的曾祖父母或外曾祖父母", "68"}, {"其他祖父母或外祖父母关系", "69"},
	{"兄弟姐妹", "70"}, {"兄", "71"}, {"嫂", "72"}, {"弟", "73"}, {"弟媳", "74"},
	{"姐姐", "75"}, {"姐夫", "76"}, {"妹妹", "77"}, {"妹夫", "78"}, {"其他兄弟姐妹", "79"},
	{"其他", "80"}, {"伯父", "81"}, {"伯母", "82"}, {"叔父", "83"}, {"婶母", "84"},
	{"舅父", "85"}, {"舅母", "86"}, {"姨父", "87"}, {"姨母", "88"}, {"姑父", "89"},
	{"姑母", "90"}, {"堂兄弟、堂姐妹", "91"}, {"表兄弟、表姐妹", "92"}, {"侄子", "93"},
	{"侄女", "94"}, {"外甥", "95"}, {"外甥女", "96"}, {"其他亲属", "97"},
	{"非亲属", "99"},
}

// relationAliases are everyday words for entries of GB/T 4761.
var relationAliases = []code{
	{"儿子", "20"}, {"女儿", "30"}, {"父", "51"}, {"母", "52"}, {"爸爸", "51"},
	{"妈妈", "52"}, {"丈夫", "11"}, {"妻子", "12"}, {"哥哥", "71"}, {"弟弟", "73"},
	{"姐", "75"}, {"妹", "77"}, {"儿媳妇", "38"},
	{"租户", "99"}, {"租客", "99"}, {"保姆", "99"}, {"朋友", "99"}, {"无关系", "99"},
}

var residencies = []code{{"户籍", "registered"}, {"常住", "permanent"}, {"流动", "floating"}}

var residencyAliases = []code{
	{"户籍人口", "registered"}, {"户籍人员", "registered"},
	{"常住人口", "permanent"}, {"常住人员", "permanent"},
	{"流动人口", "floating"}, {"流动人员", "floating"},
}

var roomUses = []code{
	{"自住", "self"}, {"出租", "rented"}, {"群租", "group_rental"},
	{"空置", "vacant"}, {"商铺", "shop"},
}

var tags = []code{
	{"独居老人", "elderly_alone"}, {"残疾人", "disabled"}, {"慢性病", "chronic"},
	{"孕产妇", "pregnant"}, {"婴幼儿", "infant"}, {"低保", "subsistence"},
	{"特困", "extreme_poverty"}, {"优抚", "special_care"},
}

var tagAliases = []code{{"低保户", "subsistence"}, {"孕妇", "pregnant"}, {"残疾", "disabled"},
	{"特困人员", "extreme_poverty"}, {"特困供养", "extreme_poverty"}, {"优抚对象", "special_care"}}

func names(cs []code) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.name
	}
	return out
}

// lookup builds a name → value map from code tables; keys are compared
// without spaces. withValues also accepts the stored value itself.
func lookup(withValues bool, tables ...[]code) map[string]string {
	m := map[string]string{}
	for _, t := range tables {
		for _, c := range t {
			m[strings.ReplaceAll(c.name, " ", "")] = c.value
			if withValues {
				m[c.value] = c.value
			}
		}
	}
	return m
}

var (
	docTypeByName   = lookup(true, docTypes, docTypeAliases)
	sexByName       = lookup(false, sexes, sexAliases)
	ethnicityByName = ethnicityLookup()
	relationByName  = lookup(true, relations, relationAliases)
	residencyByName = lookup(true, residencies, residencyAliases)
	roomUseByName   = lookup(true, roomUses)
	tagByName       = lookup(true, tags, tagAliases)
)

// ethnicityLookup also accepts names without the trailing 族 ("汉", "蒙古")
// and one-digit codes whose leading zero Excel dropped ("1" for "01").
func ethnicityLookup() map[string]string {
	m := lookup(true, ethnicities, ethnicityAliases)
	for _, c := range ethnicities {
		if short, ok := strings.CutSuffix(c.name, "族"); ok && short != "" {
			m[short] = c.value
		}
		if c.value[0] == '0' {
			m[c.value[1:]] = c.value
		}
	}
	return m
}

// Columns is the collection form, in order. It is a copy: the parser uses
// its own table, so a caller changing this slice cannot break parsing.
var Columns = cloneColumns(columns[:])

var columns = [...]Column{
	{Key: colName, Header: "姓名", Required: true},
	{Key: colDocType, Header: "证件类型", Choices: names(docTypes)},
	{Key: colIDNumber, Header: "证件号码", Required: true},
	{Key: colSex, Header: "性别", Choices: names(sexes)},
	{Key: colBirthDate, Header: "出生日期"},
	{Key: colEthnicity, Header: "民族", Choices: names(ethnicities)},
	{Key: colPhone, Header: "手机号码"},
	{Key: colResidency, Header: "人员类别", Required: true, Choices: names(residencies)},
	{Key: colRegisteredAddress, Header: "户籍地址"},
	{Key: colBuilding, Header: "楼栋或门牌", Required: true},
	{Key: colUnit, Header: "单元"},
	{Key: colRoom, Header: "房号", Required: true},
	{Key: colRelation, Header: "与户主关系", Required: true, Choices: names(relations)},
	{Key: colRoomUse, Header: "房屋用途", Choices: names(roomUses)},
	{Key: colWorkplace, Header: "工作单位或学校"},
	{Key: colTags, Header: "关怀标签", Choices: names(tags)},
	{Key: colSince, Header: "入住日期"},
	{Key: colNotes, Header: "备注"},
}

// column indexes into Columns, fixed at init so the row parser can use
// array slots instead of map look-ups.
const (
	iName = iota
	iDocType
	iIDNumber
	iSex
	iBirthDate
	iEthnicity
	iPhone
	iResidency
	iRegisteredAddress
	iBuilding
	iUnit
	iRoom
	iRelation
	iRoomUse
	iWorkplace
	iTags
	iSince
	iNotes
	numColumns
)

// maxLen bounds free-text cells (in runes) so one pasted essay cannot
// overflow a database column.
var maxLen = [numColumns]int{
	iName: 50, iRegisteredAddress: 200, iBuilding: 50, iUnit: 20, iRoom: 20,
	iWorkplace: 100, iNotes: 500,
}

// The array length check makes a column added without an index a compile
// error.
var _ [numColumns]Column = columns

func cloneColumns(cs []Column) []Column {
	out := make([]Column, len(cs))
	for i, c := range cs {
		c.Choices = append([]string(nil), c.Choices...)
		out[i] = c
	}
	return out
}

// EthnicityName names a GB 3304 code ("01" → "汉族"); "" when unknown.
func EthnicityName(code string) string {
	for _, c := range ethnicities {
		if c.value == code {
			return c.name
		}
	}
	for _, c := range ethnicityAliases {
		if c.value == code {
			return c.name
		}
	}
	return ""
}
