package exchange

import (
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"shequ/internal/errs"
	"shequ/internal/ledgerio"
)

// Sheet names of the templates.
var formSheets = map[Kind]string{KindTests: "检测结果", KindVaccinations: "疫苗接种", KindTags: "民政名单"}

const helpSheet = "填写说明"

// FileName is the template's download name for a kind.
func FileName(k Kind) string { return formSheets[k] + "导入模板.xlsx" }

// templateRows is how far down the drop-downs and text format reach.
const templateRows = 10001

// Template returns the blank .xlsx of a kind: a header (required columns
// marked *), text format so 18-digit numbers survive, drop-downs for the
// coded columns, and a 填写说明 sheet with one line per column and an
// example.
func Template(k Kind) ([]byte, error) {
	cols := columns(k)
	if cols == nil {
		return nil, errs.E(errs.NotFound, "err.not_found")
	}
	f := excelize.NewFile()
	defer f.Close()
	sh := formSheets[k]
	if err := f.SetSheetName("Sheet1", sh); err != nil {
		return nil, err
	}
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, NumFmt: 49,
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EDEDED"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"}})
	if err != nil {
		return nil, err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49})
	if err != nil {
		return nil, err
	}
	for i, c := range cols {
		col, _ := excelize.ColumnNumberToName(i + 1)
		h := c.header
		if c.required {
			h += "*"
		}
		if err := f.SetCellValue(sh, col+"1", h); err != nil {
			return nil, err
		}
		if err := f.SetColWidth(sh, col, col, c.width); err != nil {
			return nil, err
		}
		if err := f.SetColStyle(sh, col, text); err != nil {
			return nil, err
		}
		if len(c.choices) > 0 {
			dv := excelize.NewDataValidation(true)
			dv.SetSqref(col + "2:" + col + strconv.Itoa(templateRows))
			if err := dv.SetDropList(c.choices); err != nil {
				return nil, err
			}
			if err := f.AddDataValidation(sh, dv); err != nil {
				return nil, err
			}
		}
	}
	last, _ := excelize.ColumnNumberToName(len(cols))
	if err := f.SetCellStyle(sh, "A1", last+"1", head); err != nil {
		return nil, err
	}
	if err := f.SetPanes(sh, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	// The help sheet.
	if _, err := f.NewSheet(helpSheet); err != nil {
		return nil, err
	}
	for i, h := range []string{"列", "必填", "说明", "示例"} {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := f.SetCellValue(helpSheet, col+"1", h); err != nil {
			return nil, err
		}
	}
	if err := f.SetCellStyle(helpSheet, "A1", "D1", head); err != nil {
		return nil, err
	}
	for i, c := range cols {
		req := ""
		if c.required {
			req = "是"
		}
		help := c.help
		if len(c.aliases) > 0 {
			help += "（表头也可以写作：" + strings.Join(c.aliases, "、") + "）"
		}
		if err := f.SetSheetRow(helpSheet, "A"+strconv.Itoa(i+2), &[]any{c.header, req, help, c.example}); err != nil {
			return nil, err
		}
	}
	note := "一个文件只放一种数据。有任何一处问题时整个文件都不会导入；台账中找不到的人单独列出，不影响其他行。"
	if err := f.SetCellValue(helpSheet, "A"+strconv.Itoa(len(cols)+3), note); err != nil {
		return nil, err
	}
	for col, w := range map[string]float64{"A": 14, "B": 6, "C": 80, "D": 30} {
		if err := f.SetColWidth(helpSheet, col, col, w); err != nil {
			return nil, err
		}
	}
	f.SetActiveSheet(0)
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ErrorReport is the downloadable list of problems (行号, 列, 值, 问题),
// translated by translate.
func ErrorReport(problems []Problem, translate func(key string, args ...any) string) ([]byte, error) {
	return ledgerio.ErrorReport(problems, translate)
}
