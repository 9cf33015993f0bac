package ledgerio

import (
	"fmt"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// ErrorReport returns an .xlsx listing the problems (行号, 列, 值, 问题) for
// the user to download and fix the file with. translate turns a problem's
// key and args into the user's language; nil leaves keys untranslated.
// Values are written as text, exactly as Problem.Value holds them (IDs and
// phones already masked).
func ErrorReport(problems []Problem, translate func(key string, args ...any) string) ([]byte, error) {
	if translate == nil {
		translate = func(key string, args ...any) string {
			if len(args) == 0 {
				return key
			}
			return key + " " + fmt.Sprint(args...)
		}
	}
	f := excelize.NewFile()
	defer f.Close()
	const sh = "导入问题"
	if err := f.SetSheetName("Sheet1", sh); err != nil {
		return nil, err
	}
	head, err := f.NewStyle(&excelize.Style{
		Font: &excelize.Font{Bold: true}, Border: thin,
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EDEDED"}},
	})
	if err != nil {
		return nil, err
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return nil, err
	}
	sw, err := f.NewStreamWriter(sh)
	if err != nil {
		return nil, err
	}
	// Backwards: the stream writer puts each new width first, and Excel
	// wants <col> elements in ascending order.
	widths := []float64{8, 16, 26, 70}
	for i := len(widths) - 1; i >= 0; i-- {
		if err := sw.SetColWidth(i+1, i+1, widths[i]); err != nil {
			return nil, err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	headers := []any{}
	for _, h := range []string{"行号", "列", "值", "问题"} {
		headers = append(headers, excelize.Cell{StyleID: head, Value: h})
	}
	if err := sw.SetRow("A1", headers); err != nil {
		return nil, err
	}
	row := make([]any, 4)
	for i, p := range problems {
		line := any(nil)
		if p.Line > 0 {
			line = p.Line
		}
		row[0] = line
		row[1] = excelize.Cell{StyleID: text, Value: p.Column}
		row[2] = excelize.Cell{StyleID: text, Value: p.Value}
		row[3] = excelize.Cell{StyleID: text, Value: translate(p.Key, p.Args...)}
		if err := sw.SetRow("A"+strconv.Itoa(i+2), row); err != nil {
			return nil, err
		}
	}
	if len(problems) > 0 {
		if err := f.AutoFilter(sh, "A1:D"+strconv.Itoa(len(problems)+1), nil); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
