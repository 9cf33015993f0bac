package synth

import (
	"math/rand/v2"
	"strings"
)

// Word lists for invented workplace and shop names. The trade names are
// scenic or auspicious words combined at random; they are not meant to name
// any real business.
var (
	companyPlaces = strings.Fields("陕西 西安 咸阳 宝鸡 渭南 杨凌 关中 秦都 渭城 兴平")
	// Geographic/poetic trade names of the Guanzhong region.
	companyGeoWords = strings.Fields("秦川 渭河 泾渭 长乐 丰泽 汉唐 华岳 三秦 终南 沣水 周原 五陵 古渡 秦岭 渭滨 北塬 毕塬 乾陵 太白 灞柳 曲江 骊峰 泾河 咸宁")
	// First and second characters of auspicious two-character trade names.
	companyFirst  = []rune("鑫瑞博恒宏华丰泰晟润嘉德盛源诚汇中天金正安永新卓百合远益")
	companySecond = []rune("达远通盛源信诚德业安泰宇辉祥茂隆邦和利兴川峰腾康晟鸿翔")
	companyTrades = strings.Fields("机械制造 机械 建筑工程 商贸 物流 电子科技 食品 纺织 医药 软件技术 建材 汽车销售服务 物业管理 餐饮管理 装饰工程 信息技术 农业科技 环保科技 新能源科技 印务 家政服务 文化传媒 电力工程 果业 仪器仪表 化工 钢结构 劳务 教育咨询 乳业")
	companyForms  = []string{"有限公司", "有限公司", "有限公司", "有限公司", "有限责任公司", "有限责任公司", "股份有限公司"}

	shopWords       = strings.Fields("便民 邻里 万家 福顺 顺心 鑫源 如意 康乐 益民 吉祥 和顺 百姓 惠邻 佳和 安康 同心 福满 乐邻 家和 兴隆 金泰 华联 长兴 瑞丰")
	pharmacyWords   = strings.Fields("康泰 益民 济安 百草 仁寿 众康 惠民 长寿 德济 广济 安泰 同济 寿康 福康 济生 仁心")
	clinicKinds     = []string{"诊所", "诊所", "诊所", "中医诊所", "口腔诊所", "社区诊所"}
	groceryKinds    = []string{"便利店", "便利店", "超市", "超市", "生鲜超市", "便民超市", "百货超市"}
	restaurantFoods = strings.Fields("面馆 肉夹馍 凉皮 泡馍馆 饺子馆 火锅 快餐 烧烤 砂锅 米线 面庄 小炒 蒸饺 饸饹面 家常菜馆 臊子面 油泼面")
	restaurantWords = strings.Fields("秦味 关中 渭水 老街 长安 乡味 秦香 西府 古城 老陕 家乡 醉香 味道 一品 福满")
)

func pick(r *rand.Rand, list []string) string { return list[index(r, len(list))] }

// tradeName returns an invented two-character trade name.
func tradeName(r *rand.Rand) string {
	if unit(r) < 0.4 {
		return pick(r, companyGeoWords)
	}
	a := index(r, len(companyFirst))
	b := index(r, len(companySecond))
	if companyFirst[a] == companySecond[b] {
		b = (b + 1) % len(companySecond)
	}
	return string(companyFirst[a]) + string(companySecond[b])
}

// CompanyName returns a plausible invented workplace name such as
// "咸阳秦川机械制造有限公司" or "鑫达商贸有限责任公司".
func CompanyName(r *rand.Rand) string {
	var b strings.Builder
	b.Grow(48)
	if unit(r) < 0.75 {
		b.WriteString(pick(r, companyPlaces))
	}
	b.WriteString(tradeName(r))
	b.WriteString(pick(r, companyTrades))
	b.WriteString(pick(r, companyForms))
	return b.String()
}

// ShopName returns an invented name for a neighbourhood shop of the given
// kind: "pharmacy" (…大药房), "grocery" (…便利店 / …超市), "clinic" (…诊所),
// "restaurant" (…面馆, 老X家…, X记…). Any other kind gives a general
// store name (…商店 / …商行).
func ShopName(r *rand.Rand, kind string) string {
	switch kind {
	case "pharmacy":
		w := pick(r, pharmacyWords)
		switch u := unit(r); {
		case u < 0.7:
			return w + "大药房"
		case u < 0.85:
			return w + "堂大药房"
		default:
			return w + "医药"
		}
	case "grocery":
		if unit(r) < 0.15 {
			if s := FamilyName(r); len([]rune(s)) == 1 {
				return "老" + s + "便利店"
			}
		}
		return pick(r, shopWords) + pick(r, groceryKinds)
	case "clinic":
		if unit(r) < 0.4 { // named after the doctor
			sex := 1
			if unit(r) < 0.4 {
				sex = 2
			}
			a, b := givenParts(r, sex, era1960s70s)
			return FamilyName(r) + a + b + pick(r, clinicKinds)
		}
		return pick(r, shopWords) + pick(r, clinicKinds)
	case "restaurant":
		food := pick(r, restaurantFoods)
		switch u := unit(r); {
		case u < 0.3:
			return FamilyName(r) + "记" + food
		case u < 0.55:
			if s := FamilyName(r); len([]rune(s)) == 1 {
				return "老" + s + "家" + food
			}
			return pick(r, restaurantWords) + food
		default:
			return pick(r, restaurantWords) + food
		}
	default:
		if unit(r) < 0.5 {
			return pick(r, shopWords) + "商店"
		}
		return pick(r, shopWords) + "商行"
	}
}
