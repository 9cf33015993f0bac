package ledgerio

import (
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Sheet names of the template.
const (
	helpSheet  = "填写说明"
	codesSheet = "代码表"
)

// columnHelp is the one-line explanation and example of each column on the
// 填写说明 sheet, and the width of its column on the form.
var columnHelp = [numColumns]struct {
	text, example string
	width         float64
}{
	iName:              {"与证件上的姓名一致。", "李秀英", 10},
	iDocType:           {"从下拉列表选择；不填视为居民身份证。", "居民身份证", 24},
	iIDNumber:          {"18位公民身份号码（末位X大小写均可，15位旧号码会自动升级）；其他证件照证件填写。同一文件中不能重复。本列已设为文本，请勿改成数值。", "11010519491231002X", 22},
	iSex:               {"男或女。填了居民身份证号码的可以不填，由号码得出；填了则必须与号码一致。", "女", 7},
	iBirthDate:         {"如 1990-01-01、1990/1/1、1990年1月1日 或 19900101。填了居民身份证号码的可以不填；填了则必须与号码一致。", "1949-12-31", 12},
	iEthnicity:         {"按 GB 3304 从下拉列表选择，如汉族、回族；列表中没有的选“其他”。", "汉族", 11},
	iPhone:             {"11位手机号码，或带区号的固定电话，如 029-88886666。", "13800138000", 15},
	iResidency:         {"户籍、常住或流动。", "户籍", 10},
	iRegisteredAddress: {"户口簿上的住址。", "北京市朝阳区建国路1号", 30},
	iBuilding:          {"楼房填楼号，如“3号楼”；平房或城中村填门牌，如“丰乐西村12号”。", "3号楼", 14},
	iUnit:              {"如“2单元”，只填数字“2”也可以；没有单元的不填。", "2单元", 8},
	iRoom:              {"房间号，如“1502”（写成“1502室”也可以）。", "1502", 8},
	iRelation:          {"按 GB/T 4761 从下拉列表选择，如户主、配偶、子、女、父亲、母亲、非亲属；也可以填两位代码（户主为02）。", "户主", 12},
	iRoomUse:           {"自住、出租、群租、空置或商铺。", "自住", 10},
	iWorkplace:         {"在职人员填工作单位，学生填学校。", "", 24},
	iTags:              {"需要社区关怀的情况，可填多个，用顿号、逗号、分号或空格隔开：" + strings.Join(names(tags), "、") + "。", "独居老人、慢性病", 20},
	iSince:             {"搬入本房屋的日期，写法同出生日期。", "2015-06-01", 12},
	iNotes:             {"其他需要说明的情况。", "", 24},
}

// templateRows is how far down the drop-downs and column formats reach.
const templateRows = DefaultMaxRows + 1

// Template returns the blank collection form as .xlsx: the form sheet with
// a frozen bold header (required columns marked with a red * and a
// coloured fill), drop-down lists fed from a hidden code sheet, text
// format on every column except the two dates (so 18-digit numbers and
// leading zeros survive), and a 填写说明 sheet with one line per column and
// an example row.
func Template() ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", FormSheet); err != nil {
		return nil, err
	}
	// The help sheet is created first so that it comes before the hidden
	// code sheet that buildForm adds.
	if _, err := f.NewSheet(helpSheet); err != nil {
		return nil, err
	}
	if err := buildForm(f); err != nil {
		return nil, err
	}
	if err := buildHelp(f); err != nil {
		return nil, err
	}
	f.SetActiveSheet(0)
	if err := f.SetDocProps(&excelize.DocProperties{Title: FormSheet, Creator: "shequ", Language: "zh-CN"}); err != nil {
		return nil, err
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func colLetter(i int) string {
	n, _ := excelize.ColumnNumberToName(i + 1)
	return n
}

var thin = []excelize.Border{
	{Type: "left", Color: "BFBFBF", Style: 1}, {Type: "right", Color: "BFBFBF", Style: 1},
	{Type: "top", Color: "BFBFBF", Style: 1}, {Type: "bottom", Color: "BFBFBF", Style: 1},
}

func buildForm(f *excelize.File) error {
	const sh = FormSheet
	header := func(fill string) (int, error) {
		return f.NewStyle(&excelize.Style{
			Font:      &excelize.Font{Bold: true},
			Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{fill}},
			Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true},
			Border:    thin,
			NumFmt:    49,
		})
	}
	reqStyle, err := header("FCE4D6")
	if err != nil {
		return err
	}
	optStyle, err := header("EDEDED")
	if err != nil {
		return err
	}
	textStyle, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return err
	}
	dateFmt := "yyyy-mm-dd"
	dateStyle, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}

	// The code lists live on a hidden sheet: a list typed into the
	// validation itself may not exceed 255 characters, and the ethnicity
	// and relation lists do.
	if _, err := f.NewSheet(codesSheet); err != nil {
		return err
	}
	codeCol := 0
	for i, c := range columns {
		col := colLetter(i)
		if c.Key == colBirthDate || c.Key == colSince {
			err = f.SetColStyle(sh, col, dateStyle)
		} else {
			err = f.SetColStyle(sh, col, textStyle)
		}
		if err != nil {
			return err
		}
		if err := f.SetColWidth(sh, col, col, columnHelp[i].width); err != nil {
			return err
		}
		cell := col + "1"
		runs := []excelize.RichTextRun{{Text: c.Header, Font: &excelize.Font{Bold: true, Size: 11}}}
		style := optStyle
		if c.Required {
			runs = append(runs, excelize.RichTextRun{Text: "*", Font: &excelize.Font{Bold: true, Size: 11, Color: "FF0000"}})
			style = reqStyle
		}
		if err := f.SetCellRichText(sh, cell, runs); err != nil {
			return err
		}
		if err := f.SetCellStyle(sh, cell, cell, style); err != nil {
			return err
		}

		dv := excelize.NewDataValidation(true)
		dv.SetSqref(fmt.Sprintf("%s2:%s%d", col, col, templateRows))
		switch {
		case len(c.Choices) > 0:
			cc := colLetter(codeCol)
			codeCol++
			if err := f.SetCellValue(codesSheet, cc+"1", c.Header); err != nil {
				return err
			}
			for j, v := range c.Choices {
				if err := f.SetCellValue(codesSheet, fmt.Sprintf("%s%d", cc, j+2), v); err != nil {
					return err
				}
			}
			dv.SetSqrefDropList(fmt.Sprintf("'%s'!$%s$2:$%s$%d", codesSheet, cc, cc, len(c.Choices)+1))
			switch c.Key {
			case colTags:
				// Several tags may share a cell, so the list is only a
				// suggestion.
				dv.ShowErrorMessage = false
			case colRelation:
				// Two-digit codes are accepted too.
				dv.SetError(excelize.DataValidationErrorStyleWarning, "与户主关系", "请从下拉列表选择，或填写 GB/T 4761 两位代码。")
				dv.ShowErrorMessage = true
			default:
				dv.SetError(excelize.DataValidationErrorStyleStop, c.Header, "请从下拉列表中选择。")
				dv.ShowErrorMessage = true
			}
		case c.Key == colIDNumber || c.Key == colPhone || c.Key == colBirthDate || c.Key == colSince:
			// An input prompt only: no list, no restriction.
		default:
			continue
		}
		if p := columnHelp[i].text; len([]rune(p)) <= 250 {
			dv.SetInput(c.Header, p)
		}
		if err := f.AddDataValidation(sh, dv); err != nil {
			return fmt.Errorf("ledgerio: validation for %s: %w", c.Key, err)
		}
	}
	if err := f.SetRowHeight(sh, 1, 28); err != nil {
		return err
	}
	if err := f.SetPanes(sh, &excelize.Panes{
		Freeze: true, XSplit: 1, YSplit: 1, TopLeftCell: "B2", ActivePane: "bottomRight",
		Selection: []excelize.Selection{{SQRef: "B2", ActiveCell: "B2", Pane: "bottomRight"}},
	}); err != nil {
		return err
	}
	if err := f.SetColWidth(codesSheet, "A", colLetter(codeCol), 26); err != nil {
		return err
	}
	return f.SetSheetVisible(codesSheet, false)
}

func buildHelp(f *excelize.File) error {
	const sh = helpSheet
	title, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	if err != nil {
		return err
	}
	head, err := f.NewStyle(&excelize.Style{
		Font: &excelize.Font{Bold: true}, Border: thin,
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EDEDED"}},
	})
	if err != nil {
		return err
	}
	wrap, err := f.NewStyle(&excelize.Style{
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}, Border: thin, NumFmt: 49,
	})
	if err != nil {
		return err
	}
	set := func(cell string, v any, style int) error {
		if err := f.SetCellValue(sh, cell, v); err != nil {
			return err
		}
		if style == 0 {
			return nil
		}
		return f.SetCellStyle(sh, cell, cell, style)
	}
	if err := set("A1", "人员信息采集表 填写说明", title); err != nil {
		return err
	}
	notes := []string{
		"1. 在“" + FormSheet + "”工作表填写，每行一人；第一行表头不要修改或删除，列的顺序可以调整。带红色 * 的列必须填写。",
		"2. 证件号码、手机号码等列已设为文本格式，请直接输入；不要改成数值，否则 18 位号码会变成 6.1E+17 这样的科学计数法，末尾几位永久丢失。",
		"3. 带下拉箭头的列请从列表中选择。请不要使用公式，也不要合并单元格。",
		"4. 支持 .xlsx 和 .csv（UTF-8 或 GBK 编码）文件，不支持 .xls，也不要给文件加密码；一个文件最多 200000 人、20 MB。",
		"5. 上传后系统会逐行检查；有问题的行不会导入，可下载问题清单，按行号和列名修改后重新上传。",
	}
	for i, n := range notes {
		if err := set(fmt.Sprintf("A%d", i+2), n, 0); err != nil {
			return err
		}
	}
	row := len(notes) + 3
	for j, h := range []string{"列名", "必填", "填写说明", "示例"} {
		if err := set(fmt.Sprintf("%s%d", colLetter(j), row), h, head); err != nil {
			return err
		}
	}
	for i, c := range columns {
		r := row + 1 + i
		req := ""
		if c.Required {
			req = "是"
		}
		for j, v := range []string{c.Header, req, columnHelp[i].text, columnHelp[i].example} {
			if err := set(fmt.Sprintf("%s%d", colLetter(j), r), v, wrap); err != nil {
				return err
			}
		}
	}
	// The example as a row of the form, ready to copy.
	row += len(columns) + 3
	if err := set(fmt.Sprintf("A%d", row-1), "示例行（可复制到“"+FormSheet+"”第2行后修改）：", title); err != nil {
		return err
	}
	for i, c := range columns {
		if err := set(fmt.Sprintf("%s%d", colLetter(i), row), c.Header, head); err != nil {
			return err
		}
		if err := set(fmt.Sprintf("%s%d", colLetter(i), row+1), columnHelp[i].example, wrap); err != nil {
			return err
		}
	}
	for col, w := range map[string]float64{"A": 18, "B": 8, "C": 70, "D": 22} {
		if err := f.SetColWidth(sh, col, col, w); err != nil {
			return err
		}
	}
	return f.SetColWidth(sh, "E", colLetter(len(columns)-1), 14)
}
