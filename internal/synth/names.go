package synth

import (
	"math/rand/v2"
	"strings"
)

// surnameFreq lists surnames with approximate shares of the mainland
// population in units of 0.01 % (national household-registration rankings,
// rounded; a few surnames common in Shaanxi such as 党, 惠, 权, 同 and 雷 are
// included). The list covers roughly nine tenths of the population and is
// renormalised when sampling.
var surnameFreq = []struct {
	s string
	w float64
}{
	{"王", 712}, {"李", 700}, {"张", 674}, {"刘", 510}, {"陈", 461},
	{"杨", 322}, {"黄", 245}, {"赵", 219}, {"吴", 200}, {"周", 195},
	{"徐", 145}, {"孙", 138}, {"马", 129}, {"朱", 128}, {"胡", 116},
	{"郭", 113}, {"何", 106}, {"林", 102}, {"高", 100}, {"罗", 95},
	{"郑", 92}, {"梁", 88}, {"谢", 82}, {"宋", 79}, {"唐", 78},
	{"许", 74}, {"韩", 72}, {"冯", 69}, {"邓", 68}, {"曹", 67},
	{"彭", 63}, {"曾", 62}, {"肖", 60}, {"田", 59}, {"董", 58},
	{"袁", 55}, {"潘", 54}, {"于", 53}, {"蒋", 52}, {"蔡", 51},
	{"余", 50}, {"杜", 49}, {"叶", 48}, {"程", 47}, {"苏", 46},
	{"魏", 45}, {"吕", 44}, {"丁", 43}, {"任", 42}, {"沈", 41},
	{"姚", 40}, {"卢", 39}, {"姜", 38}, {"崔", 37}, {"钟", 36},
	{"谭", 35}, {"陆", 34}, {"汪", 33}, {"范", 32}, {"金", 31},
	{"石", 30}, {"廖", 29}, {"贾", 29}, {"夏", 28}, {"韦", 28},
	{"付", 27}, {"方", 27}, {"白", 26}, {"邹", 26}, {"孟", 25},
	{"熊", 25}, {"秦", 24}, {"邱", 24}, {"江", 23}, {"尹", 23},
	{"薛", 22}, {"闫", 22}, {"段", 21}, {"雷", 21}, {"侯", 20},
	{"龙", 20}, {"史", 19}, {"陶", 19}, {"黎", 18}, {"贺", 18},
	{"顾", 17}, {"毛", 17}, {"郝", 17}, {"龚", 16}, {"邵", 16},
	{"万", 16}, {"钱", 15}, {"严", 15}, {"覃", 15}, {"武", 15},
	{"戴", 14}, {"莫", 14}, {"孔", 14}, {"向", 14}, {"汤", 13},
	{"常", 13}, {"温", 12}, {"康", 12}, {"施", 12}, {"文", 12},
	{"牛", 12}, {"樊", 11}, {"葛", 11}, {"邢", 11}, {"安", 10},
	{"齐", 10}, {"易", 10}, {"乔", 10}, {"伍", 10}, {"庞", 10},
	{"颜", 9}, {"倪", 9}, {"庄", 9}, {"聂", 9}, {"章", 9},
	{"鲁", 8}, {"岳", 8}, {"翟", 8}, {"殷", 8}, {"詹", 8},
	{"申", 8}, {"欧", 7}, {"耿", 7}, {"关", 7}, {"兰", 7},
	{"焦", 7}, {"俞", 7}, {"左", 7}, {"柳", 6}, {"甘", 6},
	{"祝", 6}, {"包", 6}, {"宁", 6}, {"尚", 6}, {"符", 6},
	{"舒", 6}, {"阮", 6}, {"柯", 5}, {"纪", 5}, {"梅", 5},
	{"童", 5}, {"凌", 5}, {"毕", 5}, {"单", 5}, {"季", 5},
	{"裴", 5}, {"霍", 5}, {"涂", 5}, {"成", 5}, {"苗", 5},
	{"谷", 5}, {"盛", 5}, {"曲", 5}, {"翁", 5}, {"冉", 4},
	{"骆", 4}, {"蓝", 4}, {"路", 4}, {"游", 4}, {"辛", 4},
	{"靳", 4}, {"管", 4}, {"柴", 4}, {"蒙", 4}, {"鲍", 4},
	{"华", 4}, {"喻", 4}, {"祁", 4}, {"蒲", 4}, {"房", 4},
	{"滕", 4}, {"屈", 4}, {"饶", 4}, {"解", 4}, {"牟", 4},
	{"艾", 4}, {"尤", 4}, {"时", 4}, {"穆", 4}, {"党", 4},
	{"司", 3}, {"卓", 3}, {"古", 3}, {"吉", 3}, {"缪", 3},
	{"车", 3}, {"项", 3}, {"连", 3}, {"褚", 3}, {"娄", 3},
	{"窦", 3}, {"戚", 3}, {"景", 3}, {"宫", 3}, {"费", 3},
	{"卜", 3}, {"冷", 3}, {"晏", 3}, {"席", 3}, {"卫", 3},
	{"米", 3}, {"柏", 3}, {"宗", 3}, {"惠", 2}, {"姬", 2},
	{"师", 2}, {"寇", 2}, {"权", 2}, {"同", 1}, {"巩", 2},
	{"苟", 2}, {"边", 2}, {"卞", 2}, {"仇", 2}, {"桂", 2},
	{"全", 2}, {"佟", 2}, {"应", 2}, {"臧", 2}, {"闵", 2},
	{"荣", 2}, {"郎", 2}, {"甄", 2}, {"仲", 2}, {"虞", 2},
	{"敖", 2}, {"池", 2}, {"苑", 2}, {"迟", 2}, {"麻", 2},
	// Two-character surnames: rare.
	{"欧阳", 0.8}, {"司马", 0.2}, {"上官", 0.2}, {"司徒", 0.2},
	{"皇甫", 0.2}, {"诸葛", 0.1}, {"令狐", 0.1}, {"东方", 0.1},
	{"慕容", 0.05}, {"尉迟", 0.05},
}

var (
	surnames     []string
	surnameTable alias
)

// Era buckets for given names, by birth year.
const (
	eraPre1960 = iota
	era1960s70s
	era1980s90s
	era2000s
	numEras
)

func eraOf(year int) int {
	switch {
	case year < 1960:
		return eraPre1960
	case year < 1980:
		return era1960s70s
	case year < 2000:
		return era1980s90s
	default:
		return era2000s
	}
}

// nameStyle describes how given names of one sex and era are formed.
// classic: whole given names typical of the era, most common first.
// chars: characters combined freely, most common first.
type nameStyle struct {
	classic    string  // space-separated
	chars      string  // one rune each
	pClassic   float64 // share of names taken from classic
	pSingle    float64 // share of one-character given names (of the rest)
	classicTab []string
	charTab    []string
	classicA   alias
	charA      alias
}

// nameStyles[sex-1][era]
var nameStyles = [2][numEras]nameStyle{
	{ // male
		eraPre1960: {
			classic:  "建国 建华 国强 国庆 志强 志明 建军 德明 文华 振华 保国 永福 福生 树林 长生 明德 玉明 海生 春生 金宝 忠诚 卫国 新民 得胜 胜利 宝山 建平 世杰 庆华 援朝 和平 铁柱 秋生 满仓 有才 文斌",
			chars:    "国建明华德文志福生荣贵宝金忠学海春林山成祥云玉发永长树庆兴民军平义富仁顺广安根全友良新财武正清才银",
			pClassic: 0.45, pSingle: 0.12,
		},
		era1960s70s: {
			classic:  "建军 卫东 卫国 红军 向东 建伟 建平 志刚 志勇 国华 立新 永红 小平 新华 建新 学军 海军 建设 卫红 东升 朝阳 红旗 振国 跃进 晓明 建民",
			chars:    "建军伟勇刚强斌涛平辉明东卫红新志海波林峰华国文立兵锋亮永宏利武忠杰宁安民军健斌宝俊彬晓",
			pClassic: 0.3, pSingle: 0.3,
		},
		era1980s90s: {
			classic:  "俊杰 晓东 文博 志伟 海涛 家豪 宇航 鹏飞 浩然 伟 磊 涛 鹏 超 杰 浩 亮 勇 强 斌 晨 博 龙 阳 帅 凯 宇 飞 旭 明杰 建华 振宇 晓飞 志远 子健",
			chars:    "伟磊涛鹏超杰浩亮勇军强斌俊晓东文博志海宇飞龙峰阳明辉刚建华凯健帅旭晨波林坤鑫航泽昊康毅江",
			pClassic: 0.3, pSingle: 0.28,
		},
		era2000s: {
			classic:  "子轩 浩宇 宇轩 浩然 俊熙 梓睿 一鸣 博文 宇航 子豪 皓轩 俊宇 天佑 子墨 沐宸 奕辰 宇泽 梓豪 铭轩 嘉懿 煜祺 睿泽 思源 子睿 弘毅",
			chars:    "子轩浩宇然俊熙梓睿一鸣博文航豪皓天佑墨沐宸奕辰泽铭煜诚晨阳嘉昊瑞恒凯锦琛翰逸",
			pClassic: 0.35, pSingle: 0.08,
		},
	},
	{ // female
		eraPre1960: {
			classic:  "秀英 桂英 秀兰 玉兰 桂兰 淑珍 凤英 玉珍 玉英 秀珍 桂芳 淑英 凤兰 素珍 玉梅 秀梅 兰英 桂珍 翠花 玉芳 金凤 秀芝 玉华 淑华 凤琴 秀云 桂香 月英",
			chars:    "秀英兰桂玉珍芳凤淑梅华琴素云莲翠芝霞金月花香荣惠彩菊娥贞兰爱",
			pClassic: 0.5, pSingle: 0.1,
		},
		era1960s70s: {
			classic:  "丽华 红梅 秀梅 海燕 丽娟 春梅 红霞 玉梅 小红 建华 彩霞 秀琴 冬梅 雪梅 红艳 晓红 卫红 丽萍 美玲 春燕 丽 红 燕 霞 芳 萍 敏 静",
			chars:    "红丽霞燕梅芳萍敏静艳娟英华玲春秀玉小晓莉琴慧凤云荣平杰宁",
			pClassic: 0.35, pSingle: 0.3,
		},
		era1980s90s: {
			classic:  "婷婷 晓燕 雪梅 丽娜 佳佳 静 婷 丽 娟 敏 燕 艳 倩 雪 颖 丹 琳 晶 佳 欣 璐 蕾 娜 晓丽 文静 思思 梦洁 雅琪 佳琪 晓雪",
			chars:    "婷静丽娟敏燕艳倩雪颖丹琳晶佳欣晓慧璐蕾娜莉霞芳月琪瑶洁薇妮楠宁红岚",
			pClassic: 0.3, pSingle: 0.28,
		},
		era2000s: {
			classic:  "欣怡 梓涵 诗涵 雨萱 梓萱 子涵 一诺 可馨 思涵 欣妍 雨桐 若曦 紫涵 佳怡 梦琪 依诺 语桐 思琪 雨涵 芷若 安琪 沐晴 诗琪 可欣 悦彤",
			chars:    "欣怡梓涵诗雨萱子一诺可馨思妍桐若曦紫佳梦琪依彤悦语嘉然瑶婧晴菲",
			pClassic: 0.35, pSingle: 0.08,
		},
	},
}

// eraMix is used by GivenName, which has no birth year: the rough age mix of
// a residential community's registered population.
var eraMixTable alias

func init() {
	surnames = make([]string, len(surnameFreq))
	w := make([]float64, len(surnameFreq))
	for i, e := range surnameFreq {
		surnames[i] = e.s
		w[i] = e.w
	}
	surnameTable = newAlias(w)

	for s := range nameStyles {
		for e := range nameStyles[s] {
			st := &nameStyles[s][e]
			st.classicTab = strings.Fields(st.classic)
			st.classicA = newAlias(rankWeights(len(st.classicTab), 4))
			seen := map[rune]bool{}
			for _, c := range st.chars {
				if !seen[c] {
					seen[c] = true
					st.charTab = append(st.charTab, string(c))
				}
			}
			st.charA = newAlias(rankWeights(len(st.charTab), 8))
		}
	}
	eraMixTable = newAlias([]float64{0.18, 0.30, 0.32, 0.20})
}

// FamilyName returns one surname drawn by approximate real frequency.
func FamilyName(r *rand.Rand) string {
	return surnames[surnameTable.draw(r)]
}

// GivenName returns a one- or two-character given name leaning towards the
// sex (1 male, 2 female; anything else picks one at random) for a randomly
// chosen generation.
func GivenName(r *rand.Rand, sex int) string {
	sex = normSex(r, sex)
	a, b := givenParts(r, sex, eraMixTable.draw(r))
	return a + b
}

func normSex(r *rand.Rand, sex int) int {
	if sex == 1 || sex == 2 {
		return sex
	}
	return 1 + int(r.Uint64()&1)
}

// givenParts returns the given name as up to two pieces (b may be empty),
// so that the caller can concatenate surname and given name with a single
// allocation. All pieces are precomputed strings.
func givenParts(r *rand.Rand, sex, era int) (string, string) {
	st := &nameStyles[sex-1][era]
	u := unit(r)
	if u < st.pClassic {
		return st.classicTab[st.classicA.draw(r)], ""
	}
	first := st.charA.draw(r)
	if u < st.pClassic+(1-st.pClassic)*st.pSingle {
		return st.charTab[first], ""
	}
	second := st.charA.draw(r)
	if second == first { // no accidental reduplication
		second = st.charA.draw(r)
		if second == first {
			second = (first + 1) % len(st.charTab)
		}
	}
	return st.charTab[first], st.charTab[second]
}
