package synth

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
)

//go:embed shaanxi_divisions.csv
var shaanxiDivisionsCSV []byte

// ShaanxiDivisionsCSV returns a copy of the embedded table of Shaanxi's
// province, prefecture-level cities and county-level divisions (current
// GB/T 2260 codes, written as 12-digit statistical division codes). Header:
// code,name,level; level is one of province, city, district.
func ShaanxiDivisionsCSV() []byte {
	return bytes.Clone(shaanxiDivisionsCSV)
}

// ShaanxiCounties holds the 6-digit codes of every county-level division of
// Shaanxi (districts, counties and county-level cities of all ten
// prefecture-level cities), in code order. It is derived from the embedded
// CSV, so every entry appears there with level "district".
var ShaanxiCounties = countiesFromCSV(shaanxiDivisionsCSV)

func countiesFromCSV(data []byte) []string {
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		panic(fmt.Sprintf("synth: embedded divisions CSV: %v", err))
	}
	var out []string
	for _, row := range rows[1:] {
		if len(row) == 3 && row[2] == "district" {
			out = append(out, row[0][:6])
		}
	}
	return out
}

// otherProvinceCounties are county-level codes of neighbouring and
// labour-exporting provinces, used for residents registered outside Shaanxi.
var otherProvinceCounties = []string{
	// 河南 (郑州, 洛阳, 开封, 三门峡, 南阳, 许昌, 周口, 商丘, 信阳, 驻马店)
	"410102", "410103", "410104", "410105", "410108", "410181", "410182",
	"410184", "410185", "410302", "410303", "410304", "410305", "410311",
	"410202", "410203", "411202", "411281", "411282", "411302", "411303",
	"411002", "411602", "411402", "411403", "411502", "411702",
	// 甘肃 (兰州, 天水, 庆阳, 平凉, 定西, 武威, 张掖, 陇南, 白银, 酒泉)
	"620102", "620103", "620104", "620105", "620111", "620502", "620503",
	"621002", "620802", "621102", "620602", "620702", "621202", "620402",
	"620902",
	// 四川 (成都, 绵阳, 南充, 广元, 达州, 巴中, 遂宁, 德阳, 泸州)
	"510104", "510105", "510106", "510107", "510108", "510703", "511302",
	"510802", "511702", "511902", "510903", "510603", "510502",
	// 山西 (太原, 运城, 临汾, 晋中, 吕梁, 阳泉, 晋城)
	"140105", "140106", "140107", "140108", "140109", "140110", "140802",
	"141002", "140702", "141102", "140302", "140502", "140213", "140403",
	// 重庆
	"500101", "500102", "500103", "500104", "500105", "500106", "500107",
	"500108", "500109", "500112", "500113",
	// 宁夏 (银川), 湖北 (武汉, 十堰)
	"640104", "640105", "640106", "420102", "420103", "420106", "420302",
}
