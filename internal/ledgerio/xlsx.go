package ledgerio

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"path"
	"strings"

	"github.com/xuri/excelize/v2"

	"shequ/internal/errs"
)

// FormSheet is the name of the form's sheet in the template. Parse reads
// this sheet when the workbook has it and the first sheet otherwise.
const FormSheet = "人员信息采集表"

// maxUnzipped bounds the decompressed size of an uploaded workbook (a zip
// bomb guard); 20 MiB of real .xlsx expands to a few hundred MiB at most.
const maxUnzipped = 1 << 30

// xlsxOptions open uploads. A worksheet bigger than UnzipXMLSizeLimit is
// decompressed to a temporary file and read back through a small buffer,
// which costs about a fifth more time than reading it from memory; 128 MiB
// keeps sheets of up to about 150,000 form rows in memory and still bounds
// memory for larger ones.
var xlsxOptions = excelize.Options{UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: 128 << 20}

func (p *parser) readXLSX(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return errs.Wrap(err, errs.Invalid, KeyCorrupt)
	}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
	}
	if total > maxUnzipped {
		return invalid(KeyTooLarge, (p.lim.MaxBytes+1<<20-1)>>20)
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), xlsxOptions)
	if err != nil {
		return errs.Wrap(err, errs.Invalid, KeyCorrupt)
	}
	defer f.Close()
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		p.date1904 = *props.Date1904
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return invalid(KeyCorrupt)
	}
	sheet := sheets[0]
	for _, s := range sheets {
		if s == FormSheet {
			sheet = s
		}
	}

	// Formulas: excelize's row iterator returns a formula's cached value
	// without saying it came from a formula, and GetCellFormula first
	// unmarshals the whole worksheet into memory, which the streaming read
	// exists to avoid. So the sheet's XML is scanned for <f> elements
	// separately, on the other core, while the rows are validated.
	type scanResult struct {
		cells []formulaCell
		err   error
	}
	scanned := make(chan scanResult, 1)
	if zf := sheetFile(zr, sheet); zf != nil {
		go func() {
			cells, err := scanFormulas(zf)
			scanned <- scanResult{cells, err}
		}()
	} else {
		scanned <- scanResult{}
	}

	rows, err := f.Rows(sheet)
	if err != nil {
		<-scanned
		return errs.Wrap(err, errs.Invalid, KeyCorrupt)
	}
	opts := excelize.Options{RawCellValue: true}
	line := 0
	for rows.Next() {
		line++
		cells, err := rows.Columns(opts)
		if err == nil {
			err = p.add(line, cells)
		}
		if err != nil {
			rows.Close()
			<-scanned
			if _, ok := errs.As(err); ok {
				return err
			}
			return errs.Wrap(err, errs.Invalid, KeyCorrupt)
		}
	}
	err = rows.Close()
	res := <-scanned
	if err != nil {
		return errs.Wrap(err, errs.Invalid, KeyCorrupt)
	}
	if res.err != nil {
		return errs.Wrap(res.err, errs.Invalid, KeyCorrupt)
	}
	if p.headerLine != 0 {
		p.addFormulas(res.cells)
	}
	return nil
}

// formulaCell is a cell that holds a formula: spreadsheet row, 1-based
// column, and the formula text ("" for a shared-formula reference).
type formulaCell struct {
	line, col int
	text      string
}

// addFormulas turns formula cells in the form's columns into problems,
// drops the other problems of those cells (they are about the formula's
// cached result) and takes their rows out of the valid rows.
func (p *parser) addFormulas(cells []formulaCell) {
	byCell := map[[2]int]bool{} // line, column index
	badLine := map[int]bool{}
	var added []Problem
	for _, fc := range cells {
		if fc.line <= p.headerLine {
			continue
		}
		for i, idx := range p.col {
			if idx != fc.col-1 {
				continue
			}
			if byCell[[2]int{fc.line, i}] {
				break
			}
			byCell[[2]int{fc.line, i}] = true
			badLine[fc.line] = true
			value := ""
			if fc.text != "" {
				value = "=" + fc.text
			}
			added = append(added, cellProblem(fc.line, i, KeyFormula, value))
			break
		}
	}
	if len(added) == 0 {
		return
	}
	colIndex := map[string]int{}
	for i, c := range columns {
		colIndex[c.Header] = i
	}
	kept := p.problems[:0]
	for _, pr := range p.problems {
		if i, ok := colIndex[pr.Column]; ok && pr.Line > p.headerLine && byCell[[2]int{pr.Line, i}] {
			continue
		}
		kept = append(kept, pr)
	}
	// Both lists are in row order; merge them, formula problems first
	// within a row.
	merged := make([]Problem, 0, len(kept)+len(added))
	a, b := 0, 0
	for a < len(kept) || b < len(added) {
		if b < len(added) && (a == len(kept) || added[b].Line <= kept[a].Line) {
			merged = append(merged, added[b])
			b++
		} else {
			merged = append(merged, kept[a])
			a++
		}
	}
	p.problems = merged
	p.collect()
	rows := p.rows[:0]
	for _, r := range p.rows {
		if !badLine[r.Line] {
			rows = append(rows, r)
		}
	}
	p.rows = rows
}

// sheetFile finds the zip entry of the named worksheet through the
// workbook's relationships.
func sheetFile(zr *zip.Reader, sheet string) *zip.File {
	files := make(map[string]*zip.File, len(zr.File))
	for _, f := range zr.File {
		files[strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(f.Name, `\`, "/"), "/"))] = f
	}
	var rels struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	wbPath := "xl/workbook.xml"
	if readXML(files["_rels/.rels"], &rels) == nil {
		for _, r := range rels.Rel {
			if strings.HasSuffix(r.Type, "/officeDocument") {
				wbPath = resolve("", r.Target)
			}
		}
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	if err := readXML(files[strings.ToLower(wbPath)], &wb); err != nil {
		return nil
	}
	rels.Rel = nil
	dir, base := path.Split(wbPath)
	if err := readXML(files[strings.ToLower(dir+"_rels/"+base+".rels")], &rels); err != nil {
		return nil
	}
	for _, s := range wb.Sheets {
		if s.Name != sheet {
			continue
		}
		for _, r := range rels.Rel {
			if r.ID == s.RID {
				return files[strings.ToLower(resolve(dir, r.Target))]
			}
		}
	}
	return nil
}

func resolve(dir, target string) string {
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(path.Clean(target), "/")
	}
	return strings.TrimPrefix(path.Clean("/"+dir+target), "/")
}

func readXML(f *zip.File, v any) error {
	if f == nil {
		return errors.New("ledgerio: missing workbook part")
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return xml.NewDecoder(io.LimitReader(rc, 16<<20)).Decode(v)
}

// maxFormulaText bounds the formula text kept for the report.
const maxFormulaText = 100

// scanFormulas lists the cells of a worksheet that hold a formula. It is a
// byte scanner, not an XML parser: it only looks at the names and r
// attributes of <row>, <c> and <f> start tags (with or without a namespace
// prefix), which is enough because text content cannot contain '<'.
func scanFormulas(zf *zip.File) ([]formulaCell, error) {
	// Most uploads have no formula at all: a plain byte search proves that
	// in a third of the time the tag scan takes.
	if found, err := mayHaveFormula(zf); err != nil || !found {
		return nil, err
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	var (
		out     []formulaCell
		line    int
		col     int
		inSheet bool
	)
	for {
		_, err := br.ReadSlice('<')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		// A tag longer than the buffer is skipped: the next '<' starts a
		// new tag, since attribute values cannot contain '<'.
		tag, err := br.ReadSlice('>')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		name := tag
		if i := bytes.IndexAny(tag, " \t\r\n/>"); i >= 0 {
			name = tag[:i]
		}
		closing := false
		if len(tag) > 0 && tag[0] == '/' {
			closing = true
			name = tag[1:]
			if i := bytes.IndexAny(name, " \t\r\n>"); i >= 0 {
				name = name[:i]
			}
		}
		if i := bytes.IndexByte(name, ':'); i >= 0 {
			name = name[i+1:]
		}
		switch string(name) {
		case "sheetData":
			if closing {
				return out, nil
			}
			inSheet = !bytes.HasSuffix(tag, []byte("/>"))
		case "row":
			if closing || !inSheet {
				continue
			}
			if r, ok := attr(tag, "r"); ok {
				if n, ok := digits(string(r)); ok {
					line = n
				} else {
					line++
				}
			} else {
				line++
			}
			col = 0
		case "c":
			if closing || !inSheet {
				continue
			}
			col++
			if r, ok := attr(tag, "r"); ok {
				if c := refColumn(r); c > 0 {
					col = c
				}
			}
		case "f":
			if closing || !inSheet {
				continue
			}
			fc := formulaCell{line: line, col: col}
			if !bytes.HasSuffix(tag, []byte("/>")) {
				text, err := br.ReadSlice('<')
				if err != nil && err != bufio.ErrBufferFull {
					return nil, err
				}
				text = bytes.TrimSuffix(text, []byte{'<'})
				fc.text = truncate(html.UnescapeString(string(text)), maxFormulaText)
				if err == nil {
					// The '<' of </f> is consumed; skip its name so the
					// next read does not take "/f>" for text.
					if _, err := br.ReadSlice('>'); err != nil && err != bufio.ErrBufferFull {
						return nil, err
					}
				}
			}
			out = append(out, fc)
		}
	}
}

// mayHaveFormula reports whether the part contains something that could
// start an <f> element, with or without a namespace prefix. Text cannot
// contain '<', so "no" is certain; "yes" may be a false alarm (":f " in a
// cell's text), which only costs the full scan.
func mayHaveFormula(zf *zip.File) (bool, error) {
	rc, err := zf.Open()
	if err != nil {
		return false, err
	}
	defer rc.Close()
	const keep = 2 // bytes carried over so a match may straddle two reads
	buf := make([]byte, 256<<10)
	carry := 0
	for {
		n, err := rc.Read(buf[carry:])
		window := buf[:carry+n]
		if formulaStart(window) {
			return true, nil
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		carry = min(keep, len(window))
		copy(buf, window[len(window)-carry:])
	}
}

var formulaLeads = [][]byte{[]byte("<f"), []byte(":f")}

func formulaStart(b []byte) bool {
	for _, lead := range formulaLeads {
		for i := 0; ; {
			j := bytes.Index(b[i:], lead)
			if j < 0 {
				break
			}
			k := i + j + len(lead) // the byte after "<f"
			if k >= len(b) {
				break // decided in the next window, which repeats "<f"
			}
			switch b[k] {
			case '>', '/', ' ', '\t', '\r', '\n':
				return true
			}
			i = k
		}
	}
	return false
}

// attr returns the value of attribute name in a start tag's bytes.
func attr(tag []byte, name string) ([]byte, bool) {
	for i := 0; i < len(tag); {
		j := bytes.Index(tag[i:], []byte(name))
		if j < 0 {
			return nil, false
		}
		j += i
		k := j + len(name)
		if j > 0 && isXMLSpace(tag[j-1]) && k+1 < len(tag) && tag[k] == '=' && (tag[k+1] == '"' || tag[k+1] == '\'') {
			q := tag[k+1]
			end := bytes.IndexByte(tag[k+2:], q)
			if end < 0 {
				return nil, false
			}
			return tag[k+2 : k+2+end], true
		}
		i = k
	}
	return nil, false
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// refColumn returns the 1-based column of a cell reference such as "AB12".
func refColumn(ref []byte) int {
	col := 0
	for _, c := range ref {
		switch {
		case c >= 'A' && c <= 'Z':
			col = col*26 + int(c-'A') + 1
		case c >= 'a' && c <= 'z':
			col = col*26 + int(c-'a') + 1
		default:
			return col
		}
		if col > 1<<20 {
			return 0
		}
	}
	return col
}
