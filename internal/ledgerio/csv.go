package ledgerio

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"shequ/internal/errs"
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// decodeText returns CSV bytes as UTF-8. Excel on Chinese Windows saves
// "CSV" in GBK (GB18030 is its superset), "CSV UTF-8" with a BOM, and
// "Unicode text" as UTF-16 with a BOM; anything that is not valid UTF-8 is
// taken to be GB18030.
func decodeText(b []byte) (string, error) {
	switch {
	case bytes.HasPrefix(b, bomUTF8):
		return strings.ToValidUTF8(string(b[len(bomUTF8):]), "\uFFFD"), nil
	case bytes.HasPrefix(b, bomUTF16LE), bytes.HasPrefix(b, bomUTF16BE):
		out, err := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(b)
		return string(out), err
	case utf8.Valid(b):
		return string(b), nil
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	return string(out), err
}

// DecodeText is decodeText for other importers (lead batches).
func DecodeText(b []byte) (string, error) { return decodeText(b) }

// SniffComma is sniffComma for other importers.
func SniffComma(text string) rune { return sniffComma(text) }

func (p *parser) readCSV(data []byte) error {
	text, err := decodeText(data)
	if err != nil {
		return errs.Wrap(err, errs.Invalid, KeyCorrupt)
	}
	if strings.TrimSpace(text) == "" {
		return invalid(KeyEmpty)
	}
	// Binary files (PDF, images, old .et/.wps) and HTML or XML "Excel"
	// files some systems export are not CSV.
	if strings.ContainsRune(text, 0) || strings.HasPrefix(strings.TrimSpace(text), "<") {
		return invalid(KeyFormat)
	}
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	r.Comma = sniffComma(text)

	// Excel shows a CSV's blank lines as empty rows but csv.Reader skips
	// them, so rows are counted from physical line numbers: a record
	// starts on the row after the previous one plus the blank lines in
	// between, and a quoted cell with line breaks stays on one row.
	var (
		line, prevEnd int
		scanned       int // bytes of text whose newlines are counted in nl
		nl            int
	)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errs.Wrap(err, errs.Invalid, KeyCorrupt)
		}
		start, _ := r.FieldPos(0)
		line += start - prevEnd
		if off := int(r.InputOffset()); off > scanned {
			nl += strings.Count(text[scanned:off-1], "\n")
			scanned = off - 1
		}
		prevEnd = nl + 1
		if err := p.add(line, rec); err != nil {
			return err
		}
	}
}

// sniffComma picks the delimiter of the first line: comma unless tabs or
// semicolons are more frequent.
func sniffComma(text string) rune {
	first, _, _ := strings.Cut(text, "\n")
	comma, best := ',', strings.Count(first, ",")
	for _, c := range []rune{'\t', ';'} {
		if n := strings.Count(first, string(c)); n > best {
			comma, best = c, n
		}
	}
	return comma
}
