package ledgerio

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Sheet describes an exported list: Title goes above the header row (e.g.
// "丰乐社区 3号楼 人员名单"), Footer below the data and into the printed
// page footer and the document's Creator property (e.g. "导出人：张三
// 2026-11-28 10:00 · 含个人信息，注意保密").
type Sheet struct {
	Title   string
	Headers []string
	Footer  string
}

// Export writes an .xlsx list row by row with excelize's stream writer, so
// memory stays flat however long the list. Call Row for each data row and
// Close once; the workbook reaches w only in Close.
type Export struct {
	w      io.Writer
	f      *excelize.File
	sw     *excelize.StreamWriter
	s      Sheet
	sheet  string
	ncol   int
	next   int     // next spreadsheet row to write
	buf    [][]any // the first rows, held back to size the columns
	start  bool
	closed bool
	err    error

	textStyle, numStyle, dateStyle, timeStyle, headStyle, titleStyle, footStyle int
}

// widthSampleRows is how many rows are held back to choose column widths:
// the stream writer needs widths before the first row.
const widthSampleRows = 100

// ErrExportClosed is returned by Row and Close after Close.
var ErrExportClosed = errors.New("ledgerio: export closed")

// NewExport starts an export to w.
func NewExport(w io.Writer, s Sheet) (*Export, error) {
	e := &Export{w: w, s: s, f: excelize.NewFile(), ncol: max(len(s.Headers), 1), next: 1}
	e.sheet = sheetName(s.Title)
	if err := e.init(); err != nil {
		e.f.Close()
		return nil, err
	}
	return e, nil
}

func (e *Export) init() error {
	f := e.f
	if e.sheet != "Sheet1" {
		if err := f.SetSheetName("Sheet1", e.sheet); err != nil {
			return err
		}
	}
	var err error
	style := func(s *excelize.Style) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(s)
		return id
	}
	dateFmt, timeFmt := "yyyy-mm-dd", "yyyy-mm-dd hh:mm"
	e.textStyle = style(&excelize.Style{NumFmt: 49, Border: thin})
	e.numStyle = style(&excelize.Style{Border: thin})
	e.dateStyle = style(&excelize.Style{CustomNumFmt: &dateFmt, Border: thin})
	e.timeStyle = style(&excelize.Style{CustomNumFmt: &timeFmt, Border: thin})
	e.headStyle = style(&excelize.Style{
		Font: &excelize.Font{Bold: true}, Border: thin, NumFmt: 49,
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"EDEDED"}},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true},
	})
	e.titleStyle = style(&excelize.Style{
		Font: &excelize.Font{Bold: true, Size: 14}, NumFmt: 49,
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center"},
	})
	e.footStyle = style(&excelize.Style{
		Font: &excelize.Font{Italic: true, Size: 9, Color: "808080"}, NumFmt: 49,
	})
	if err != nil {
		return err
	}
	e.sw, err = f.NewStreamWriter(e.sheet)
	return err
}

// sheetName makes a worksheet name from a title: at most 31 characters,
// none of []:*?/\.
func sheetName(title string) string {
	name := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) || unicode.IsControl(r) {
			return ' '
		}
		return r
	}, title)
	name = strings.Trim(strings.TrimSpace(name), "'")
	if utf8.RuneCountInString(name) > 31 {
		name = string([]rune(name)[:31])
	}
	if name = strings.TrimSpace(name); name == "" {
		return "Sheet1"
	}
	return name
}

// Row appends a data row. Strings are written as text cells, so "0502" or
// an 18-digit number stays exactly as given and "=…" is never a formula;
// numbers and bools stay numbers and bools; time.Time becomes a date (or
// date and time when it has a clock time); nil is an empty cell. IDs and
// phones must already be masked by the caller.
func (e *Export) Row(cells ...any) error {
	if e.closed {
		return ErrExportClosed
	}
	if e.err != nil {
		return e.err
	}
	row := make([]any, len(cells))
	for i, c := range cells {
		row[i] = e.cell(c)
	}
	if !e.start {
		e.buf = append(e.buf, row)
		if len(e.buf) < widthSampleRows {
			return nil
		}
		return e.begin()
	}
	return e.write(row)
}

func (e *Export) cell(v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case excelize.Cell:
		return v
	case string:
		return excelize.Cell{StyleID: e.textStyle, Value: v}
	case time.Time:
		if v.IsZero() {
			return nil
		}
		if h, m, s := v.Clock(); h == 0 && m == 0 && s == 0 {
			return excelize.Cell{StyleID: e.dateStyle, Value: v}
		}
		return excelize.Cell{StyleID: e.timeStyle, Value: v}
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, bool:
		return excelize.Cell{StyleID: e.numStyle, Value: v}
	case fmt.Stringer: // after time.Time, which is one too
		return excelize.Cell{StyleID: e.textStyle, Value: v.String()}
	default:
		return excelize.Cell{StyleID: e.textStyle, Value: fmt.Sprint(v)}
	}
}

func (e *Export) write(row []any) error {
	if err := e.sw.SetRow("A"+strconv.Itoa(e.next), row); err != nil {
		e.err = err
		return err
	}
	e.next++
	return nil
}

// begin sizes the columns from the header and the held-back rows, then
// writes the title, the header and those rows.
func (e *Export) begin() error {
	e.start = true
	widths := make([]float64, e.ncol)
	measure := func(i int, s string) {
		if i >= len(widths) {
			return
		}
		w := 2.0
		for _, r := range s {
			if r >= 0x2E80 {
				w += 2.1
			} else {
				w += 1.1
			}
		}
		widths[i] = max(widths[i], min(w, 50))
	}
	for i, h := range e.s.Headers {
		measure(i, h)
	}
	for _, row := range e.buf {
		for i, c := range row {
			if c, ok := c.(excelize.Cell); ok {
				switch v := c.Value.(type) {
				case string:
					measure(i, v)
				case time.Time:
					measure(i, "2006-01-02 15:04")
				default:
					measure(i, fmt.Sprint(v))
				}
			}
		}
	}
	// Backwards: the stream writer puts each new width first, and Excel
	// wants <col> elements in ascending order.
	for i := len(widths) - 1; i >= 0; i-- {
		if err := e.sw.SetColWidth(i+1, i+1, max(widths[i], 8)); err != nil {
			return e.fail(err)
		}
	}
	top := 1
	if e.s.Title != "" {
		top = 2
	}
	if len(e.s.Headers) > 0 {
		if err := e.sw.SetPanes(&excelize.Panes{
			Freeze: true, YSplit: top, TopLeftCell: "A" + strconv.Itoa(top+1), ActivePane: "bottomLeft",
		}); err != nil {
			return e.fail(err)
		}
	}
	if e.s.Title != "" {
		if err := e.sw.SetRow("A1", []any{excelize.Cell{StyleID: e.titleStyle, Value: e.s.Title}},
			excelize.RowOpts{Height: 26}); err != nil {
			return e.fail(err)
		}
		if e.ncol > 1 {
			if err := e.sw.MergeCell("A1", cellName(e.ncol, 1)); err != nil {
				return e.fail(err)
			}
		}
		e.next = 2
	}
	if len(e.s.Headers) > 0 {
		head := make([]any, len(e.s.Headers))
		for i, h := range e.s.Headers {
			head[i] = excelize.Cell{StyleID: e.headStyle, Value: h}
		}
		if err := e.write(head); err != nil {
			return err
		}
		// Print the title and header on every page.
		if err := e.f.SetDefinedName(&excelize.DefinedName{
			Name: "_xlnm.Print_Titles", Scope: e.sheet,
			RefersTo: fmt.Sprintf("'%s'!$1:$%d", e.sheet, e.next-1),
		}); err != nil {
			return e.fail(err)
		}
	}
	for _, row := range e.buf {
		if err := e.write(row); err != nil {
			return err
		}
	}
	e.buf = nil
	return nil
}

func (e *Export) fail(err error) error {
	e.err = err
	return err
}

func cellName(col, row int) string {
	n, _ := excelize.CoordinatesToCellName(col, row)
	return n
}

// Close writes the footer, the document properties and the workbook to w.
func (e *Export) Close() error {
	if e.closed {
		return ErrExportClosed
	}
	e.closed = true
	defer e.f.Close()
	if e.err != nil {
		return e.err
	}
	if !e.start {
		if err := e.begin(); err != nil {
			return err
		}
	}
	if e.s.Footer != "" {
		// One empty row between the data and the footer.
		r := e.next + 1
		if err := e.sw.SetRow("A"+strconv.Itoa(r), []any{excelize.Cell{StyleID: e.footStyle, Value: e.s.Footer}}); err != nil {
			return err
		}
		if e.ncol > 1 {
			if err := e.sw.MergeCell(cellName(1, r), cellName(e.ncol, r)); err != nil {
				return err
			}
		}
	}
	if e.s.Footer != "" {
		// The printed footer repeats the notice on every page; "&" starts
		// a code there and must be doubled. It is part of the worksheet,
		// so it is set before Flush writes the sheet.
		text := strings.ReplaceAll(truncate(e.s.Footer, 100), "&", "&&")
		if err := e.f.SetHeaderFooter(e.sheet, &excelize.HeaderFooterOptions{
			OddFooter: "&L" + text + "&R第 &P 页，共 &N 页",
		}); err != nil {
			return err
		}
	}
	if err := e.sw.Flush(); err != nil {
		return err
	}
	stamp := time.Now().UTC().Format(time.RFC3339)
	if err := e.f.SetDocProps(&excelize.DocProperties{
		Title: e.s.Title, Creator: e.s.Footer, LastModifiedBy: e.s.Footer, Language: "zh-CN",
		Created: stamp, Modified: stamp,
	}); err != nil {
		return err
	}
	return e.f.Write(e.w)
}
