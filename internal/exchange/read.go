package exchange

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"shequ/internal/errs"
	"shequ/internal/ledgerio"
)

// Limits of an inbound file.
const (
	MaxBytes = 20 << 20
	MaxRows  = 100_000
)

// sheetRow is one non-empty row of a file with its 1-based row number.
type sheetRow struct {
	line  int
	cells []string
}

var china = time.FixedZone("CST", 8*3600)

// readRows reads the rows of a .xlsx (first sheet) or .csv file; the
// format comes from the content. Errors use ledgerio's whole-file keys.
func readRows(name string, data []byte) ([]sheetRow, error) {
	if len(data) > MaxBytes {
		return nil, errs.E(errs.Invalid, ledgerio.KeyTooLarge, MaxBytes>>20)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errs.E(errs.Invalid, ledgerio.KeyEmpty)
	}
	switch {
	case bytes.HasPrefix(data, []byte("PK")):
		return readXLSX(data)
	case bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0}):
		return nil, errs.E(errs.Invalid, ledgerio.KeyXLSUnsupported)
	}
	if n := strings.ToLower(name); strings.HasSuffix(n, ".xlsx") || strings.HasSuffix(n, ".xlsm") {
		return nil, errs.E(errs.Invalid, ledgerio.KeyCorrupt)
	}
	return readCSV(data)
}

func readXLSX(data []byte) ([]sheetRow, error) {
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, errs.Wrap(err, errs.Invalid, ledgerio.KeyCorrupt)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, errs.E(errs.Invalid, ledgerio.KeyEmpty)
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, errs.Wrap(err, errs.Invalid, ledgerio.KeyCorrupt)
	}
	defer rows.Close()
	var out []sheetRow
	line := 0
	for rows.Next() {
		line++
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, errs.Wrap(err, errs.Invalid, ledgerio.KeyCorrupt)
		}
		if blank(cells) {
			continue
		}
		if len(out) > MaxRows {
			return nil, errs.E(errs.Invalid, ledgerio.KeyTooManyRows, MaxRows)
		}
		out = append(out, sheetRow{line: line, cells: cells})
	}
	return out, nil
}

func readCSV(data []byte) ([]sheetRow, error) {
	text, err := ledgerio.DecodeText(data)
	if err != nil {
		return nil, errs.Wrap(err, errs.Invalid, ledgerio.KeyCorrupt)
	}
	if strings.ContainsRune(text, 0) || strings.HasPrefix(strings.TrimSpace(text), "<") {
		return nil, errs.E(errs.Invalid, ledgerio.KeyFormat)
	}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.Comma = ledgerio.SniffComma(text)
	var out []sheetRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, errs.Wrap(err, errs.Invalid, ledgerio.KeyCorrupt)
		}
		if blank(rec) {
			continue
		}
		if len(out) > MaxRows {
			return nil, errs.E(errs.Invalid, ledgerio.KeyTooManyRows, MaxRows)
		}
		line, _ := r.FieldPos(0)
		out = append(out, sheetRow{line: line, cells: rec})
	}
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// Date and time layouts accepted in files, China time.
var timeLayouts = []string{
	"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04",
	"2006/1/2 15:04:05", "2006/1/2 15:04", "2006.1.2 15:04", "2006年1月2日 15:04", "2006年1月2日15:04",
}

var dateLayouts = []string{"2006-01-02", "2006-1-2", "2006/1/2", "2006.1.2", "2006年1月2日", "20060102"}

// parseTime reads a date and time (or a date alone, at midnight) in China
// time, or an Excel serial number.
func parseTime(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, true
	}
	for _, l := range timeLayouts {
		if t, err := time.ParseInLocation(l, v, china); err == nil {
			return t, true
		}
	}
	if t, ok := parseDate(v); ok {
		return t, true
	}
	return time.Time{}, false
}

// parseDate reads a date in China time, or an Excel serial day number.
func parseDate(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, v, china); err == nil {
			return t, true
		}
	}
	return serial(v)
}

// serial reads an Excel date serial (days since 1899-12-30 in the 1900
// system; a fraction is the time of day), as a date cell holds it raw.
func serial(v string) (time.Time, bool) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 1 || f > 2958465 || strings.ContainsAny(v, "eE") {
		return time.Time{}, false
	}
	days := math.Floor(f)
	secs := math.Round((f - days) * 86400)
	base := time.Date(1899, 12, 30, 0, 0, 0, 0, china)
	return base.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second), true
}
