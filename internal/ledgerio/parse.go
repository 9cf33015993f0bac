// Package ledgerio reads and writes the population ledger's collection form
// (人员信息采集表) as .xlsx and .csv: the blank template, parsing with
// validation of every row, a downloadable error report, and streaming
// exports of name lists. It does no database work: the caller checks the
// parsed rows against stored people and writes them.
package ledgerio

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"shequ/internal/errs"
	"shequ/internal/pii"
)

// Row is one valid person from the form. Code-table columns hold their
// stored codes: DocType a pii document type, Ethnicity the GB 3304 code
// ("01"; "97" other), Residency registered|permanent|floating, Relation the
// GB/T 4761 code ("02" head of household), RoomUse self|rented|
// group_rental|vacant|shop, Tags elderly_alone|disabled|chronic|pregnant|
// infant|subsistence|extreme_poverty|special_care. Sex is GB/T 2261.1 (0 unknown, 1 male, 2 female);
// BirthDate and Since are YYYY-MM-DD or "".
type Row struct {
	Line               int // 1-based spreadsheet row
	Name               string
	DocType            pii.DocType
	ID                 pii.ID
	Sex                int
	BirthDate          string
	Ethnicity          string
	Phone              string
	Residency          string
	RegisteredAddress  string
	Building, Unit     string
	Room, Relation     string
	RoomUse, Workplace string
	Tags               []string
	Since              string
	Notes              string
}

// Problem is one thing wrong with the file. Key is a translation key under
// "err.import." (see MESSAGES.md), Args fill its %v placeholders in order.
type Problem struct {
	Line   int    // 1-based spreadsheet row; the header is row 1
	Column string // the Chinese header, or "" for whole-file problems
	Key    string
	Args   []any
	Value  string // the offending cell; IDs and phones are masked
}

// Limits bound what Parse accepts. Zero fields take the defaults.
type Limits struct {
	MaxBytes int64
	MaxRows  int
}

// Default limits.
const (
	DefaultMaxBytes = 20 << 20
	DefaultMaxRows  = 200_000
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxRows <= 0 {
		l.MaxRows = DefaultMaxRows
	}
	return l
}

// Message keys of whole-file errors and of problems. MESSAGES.md has the
// texts.
const (
	KeyTooLarge       = "err.import.too_large"
	KeyCorrupt        = "err.import.corrupt"
	KeyEmpty          = "err.import.empty"
	KeyFormat         = "err.import.format"
	KeyXLSUnsupported = "err.import.xls_unsupported"
	KeyEncrypted      = "err.import.encrypted"
	KeyColumns        = "err.import.columns"
	KeyTooManyRows    = "err.import.too_many_rows"

	KeyColumnsIgnored  = "err.import.columns_ignored"
	KeyColumnDuplicate = "err.import.column_duplicate"
	KeyRequired        = "err.import.required"
	KeyTooLong         = "err.import.too_long"
	KeyChoice          = "err.import.choice"
	KeyEthnicity       = "err.import.ethnicity"
	KeyRelation        = "err.import.relation"
	KeyTag             = "err.import.tag"
	KeyPhone           = "err.import.phone"
	KeyDate            = "err.import.date"
	KeyDateFuture      = "err.import.date_future"
	KeyDateTooFar      = "err.import.date_too_far"
	KeyDateTooEarly    = "err.import.date_too_early"
	KeyIDScientific    = "err.import.id_scientific"
	KeySexMismatch     = "err.import.sex_mismatch"
	KeyBirthMismatch   = "err.import.birth_mismatch"
	KeyDuplicateInFile = "err.import.duplicate_in_file"
	KeyFormula         = "err.import.formula"
)

// KeyID returns the key for a pii.IDError reason: "err.import.id_check" etc.
func KeyID(reason string) string { return "err.import.id_" + reason }

var (
	zipMagic = []byte("PK")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	// encryptedPackage is the stream name, in the UTF-16LE of CFB directory
	// entries, that ECMA-376 agile and standard encryption put the real
	// .xlsx into.
	encryptedPackage = utf16le("EncryptedPackage")
)

func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return b
}

func invalid(key string, args ...any) *errs.Error { return errs.E(errs.Invalid, key, args...) }

// Parse reads a filled-in collection form (.xlsx or .csv; the format comes
// from the content, not the name) and validates every row. rows holds only
// the rows without problems; problems lists every problem of every other
// row, in row order. err, always an *errs.Error with code errs.Invalid,
// reports a file that cannot be read at all (too large, corrupt, .xls,
// encrypted, empty, required columns missing, too many rows).
//
// now fixes "today" (its calendar date in its own location) for the
// birth-date and move-in-date checks.
func Parse(r io.Reader, filename string, now time.Time, lim Limits) (rows []Row, problems []Problem, err error) {
	lim = lim.withDefaults()
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, nil, errs.Wrap(err, errs.Invalid, KeyCorrupt)
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, nil, invalid(KeyTooLarge, (lim.MaxBytes+1<<20-1)>>20)
	}
	p := newParser(now, lim)
	switch {
	case bytes.HasPrefix(data, zipMagic):
		err = p.readXLSX(data)
	case bytes.HasPrefix(data, oleMagic):
		if bytes.Contains(data, encryptedPackage) {
			return nil, nil, invalid(KeyEncrypted)
		}
		return nil, nil, invalid(KeyXLSUnsupported)
	default:
		if ext := strings.ToLower(filename); strings.HasSuffix(ext, ".xlsx") || strings.HasSuffix(ext, ".xlsm") {
			// Named .xlsx but not a zip: a damaged download or a renamed file.
			if len(bytes.TrimSpace(data)) == 0 {
				return nil, nil, invalid(KeyEmpty)
			}
			return nil, nil, invalid(KeyCorrupt)
		}
		err = p.readCSV(data)
	}
	if err == nil {
		err = p.finish()
	}
	p.collect()
	if err != nil {
		return nil, nil, err
	}
	return p.rows, p.problems, nil
}

// parser turns a stream of spreadsheet rows into Rows and Problems. The
// xlsx and CSV readers feed it through add.
type parser struct {
	now      time.Time
	today    time.Time
	sinceMax time.Time
	lim      Limits

	headerLine int
	col        [numColumns]int // cell index of each column, -1 if absent
	firstLine  int             // first non-empty row, the header fallback
	firstCells []string
	candidates int // non-empty rows examined while looking for the header

	dataRows int
	rows     []Row // filled by finish from chunks
	chunks   [][]Row
	problems []Problem
	ids      map[string]int // doc type + number → first line
	vals     [numColumns]string
	rowBad   bool
	date1904 bool // the workbook counts date serials from 1904
}

// headerSearchRows is how many non-empty rows may precede the header (a
// title row such as "人员信息采集表" is common).
const headerSearchRows = 5

var (
	earliestBirth = time.Date(1880, 1, 1, 0, 0, 0, 0, time.UTC)
	earliestSince = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
)

func newParser(now time.Time, lim Limits) *parser {
	t := today(now)
	return &parser{
		now: now, today: t, sinceMax: t.AddDate(1, 0, 0), lim: lim,
		ids: map[string]int{},
	}
}

// add takes one spreadsheet row. A non-nil error ends the parse.
func (p *parser) add(line int, cells []string) error {
	if p.headerLine == 0 {
		return p.findHeader(line, cells)
	}
	return p.row(line, cells)
}

// finish reports a file in which no header was found.
func (p *parser) finish() error {
	if p.headerLine != 0 {
		return nil
	}
	if p.firstCells == nil {
		return invalid(KeyEmpty)
	}
	// Nothing looked like a header: judge the first non-empty row, so the
	// user sees which columns are missing.
	return p.setHeader(p.firstLine, p.firstCells)
}

// headerAliases are column titles found on older forms.
var headerAliases = map[string]string{
	"身份证号码": colIDNumber, "身份证号": colIDNumber, "公民身份号码": colIDNumber,
	"证件号": colIDNumber, "手机号": colPhone, "手机": colPhone, "联系电话": colPhone,
	"电话": colPhone, "电话号码": colPhone, "楼栋": colBuilding, "楼号": colBuilding,
	"楼栋号": colBuilding, "门牌": colBuilding, "门牌号": colBuilding,
	"房间号": colRoom, "室号": colRoom, "人口类别": colResidency, "人员类型": colResidency,
	"与户主的关系": colRelation, "户主关系": colRelation, "工作单位": colWorkplace,
	"工作单位/学校": colWorkplace, "学校": colWorkplace, "入住时间": colSince,
	"出生年月日": colBirthDate, "标签": colTags, "户籍地": colRegisteredAddress,
	"户籍所在地": colRegisteredAddress, "单元号": colUnit,
}

var headerIndex = func() map[string]int {
	m := map[string]int{}
	for i, c := range columns {
		m[c.Header] = i
		m[c.Key] = i
	}
	for alias, key := range headerAliases {
		for i, c := range columns {
			if c.Key == key {
				m[alias] = i
			}
		}
	}
	return m
}()

// normalizeHeader folds a header cell: full-width to half-width, no spaces,
// and without the required-column markers "*" and "(必填)".
func normalizeHeader(s string) string {
	s = strings.ReplaceAll(pii.NormalizeText(s), " ", "")
	for {
		t := strings.TrimSuffix(strings.TrimSuffix(s, "*"), "(必填)")
		t = strings.TrimPrefix(t, "*")
		if t == s {
			return s
		}
		s = t
	}
}

func (p *parser) findHeader(line int, cells []string) error {
	if isEmpty(cells) {
		return nil
	}
	if p.firstCells == nil {
		p.firstLine, p.firstCells = line, slices.Clone(cells)
	}
	known := 0
	for _, c := range cells {
		if _, ok := headerIndex[normalizeHeader(c)]; ok {
			known++
		}
	}
	if known >= 2 {
		return p.setHeader(line, cells)
	}
	p.candidates++
	if p.candidates >= headerSearchRows {
		return p.setHeader(p.firstLine, p.firstCells)
	}
	return nil
}

func (p *parser) setHeader(line int, cells []string) error {
	p.headerLine = line
	for i := range p.col {
		p.col[i] = -1
	}
	var unknown []string
	for idx, c := range cells {
		h := normalizeHeader(c)
		if h == "" {
			continue
		}
		i, ok := headerIndex[h]
		switch {
		case !ok:
			unknown = append(unknown, pii.NormalizeText(c))
		case p.col[i] >= 0:
			p.problems = append(p.problems, Problem{Line: line, Column: columns[i].Header,
				Key: KeyColumnDuplicate, Args: []any{columns[i].Header}, Value: pii.NormalizeText(c)})
		default:
			p.col[i] = idx
		}
	}
	var missing []string
	for i, c := range columns {
		if c.Required && p.col[i] < 0 {
			missing = append(missing, c.Header)
		}
	}
	if len(missing) > 0 {
		return invalid(KeyColumns, strings.Join(missing, "、"), expectedHeaders)
	}
	if len(unknown) > 0 {
		p.problems = append(p.problems, Problem{Line: line, Key: KeyColumnsIgnored,
			Args: []any{strings.Join(unknown, "、")}})
	}
	return nil
}

var expectedHeaders = func() string {
	h := make([]string, len(columns))
	for i, c := range columns {
		h[i] = c.Header
	}
	return strings.Join(h, "、")
}()

func isEmpty(cells []string) bool {
	for _, c := range cells {
		if strings.TrimFunc(c, unicode.IsSpace) != "" {
			return false
		}
	}
	return true
}

// norm is pii.NormalizeText without the allocation for the common case of a
// cell that is already clean.
func norm(s string) string {
	if s == "" {
		return s
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' {
				return pii.NormalizeText(s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r >= 0xFF01 && r <= 0xFF5E) || unicode.IsSpace(r) {
			return pii.NormalizeText(s)
		}
		i += size
	}
	return s
}

// problem records a problem with column i of the current row.
func (p *parser) problem(line, i int, key, value string, args ...any) {
	p.rowBad = true
	p.problems = append(p.problems, cellProblem(line, i, key, value, args...))
}

// cellProblem builds a problem with column i, masking IDs and phones.
func cellProblem(line, i int, key, value string, args ...any) Problem {
	switch i {
	case iIDNumber:
		value = pii.MaskID(value)
	case iPhone:
		value = pii.MaskPhone(value)
	default:
		value = truncate(value, maxValueRunes)
	}
	return Problem{Line: line, Column: columns[i].Header, Key: key, Args: args, Value: value}
}

var (
	docTypeList   = strings.Join(names(docTypes), "、")
	sexList       = strings.Join(names(sexes), "、")
	residencyList = strings.Join(names(residencies), "、")
	roomUseList   = strings.Join(names(roomUses), "、")
	tagList       = strings.Join(names(tags), "、")
)

func (p *parser) row(line int, cells []string) error {
	empty := true
	for i, idx := range p.col {
		v := ""
		if idx >= 0 && idx < len(cells) {
			v = norm(cells[idx])
		}
		p.vals[i] = v
		if v != "" {
			empty = false
		}
	}
	if empty {
		return nil
	}
	p.dataRows++
	if p.dataRows > p.lim.MaxRows {
		return invalid(KeyTooManyRows, p.lim.MaxRows)
	}
	p.rowBad = false
	v := &p.vals
	r := Row{Line: line}

	for _, i := range [...]int{iName, iIDNumber, iResidency, iBuilding, iRoom, iRelation} {
		if v[i] == "" {
			p.problem(line, i, KeyRequired, "")
		}
	}
	for i, n := range maxLen {
		if n > 0 && len(v[i]) > n && utf8.RuneCountInString(v[i]) > n {
			p.problem(line, i, KeyTooLong, v[i], n)
		}
	}
	r.Name = v[iName]

	// Document type and number.
	docOK := true
	r.DocType = pii.DocResidentID
	if s := v[iDocType]; s != "" {
		if t, ok := docTypeByName[strings.ReplaceAll(s, " ", "")]; ok {
			r.DocType = pii.DocType(t)
		} else {
			docOK = false
			p.problem(line, iDocType, KeyChoice, s, docTypeList)
		}
	}
	idOK := false
	if s := v[iIDNumber]; s != "" && docOK {
		if isScientific(s) {
			p.problem(line, iIDNumber, KeyIDScientific, s)
		} else if id, err := pii.ParseID(r.DocType, s, p.now); err != nil {
			p.problem(line, iIDNumber, idKey(err, r.DocType, s), s)
		} else {
			r.ID, idOK = id, true
			key := string(id.Type) + "|" + id.Number
			if first, dup := p.ids[key]; dup {
				p.problem(line, iIDNumber, KeyDuplicateInFile, s, first)
			} else {
				p.ids[key] = line
			}
		}
	}
	fromID := idOK && r.DocType == pii.DocResidentID

	// Sex and birth date, checked against a resident ID.
	if s := v[iSex]; s != "" {
		if sex, ok := sexByName[s]; !ok {
			p.problem(line, iSex, KeyChoice, s, sexList)
		} else {
			r.Sex = int(sex[0] - '0')
			if fromID && r.Sex != r.ID.Sex {
				p.problem(line, iSex, KeySexMismatch, s)
			}
		}
	}
	if s := v[iBirthDate]; s != "" {
		if d, ok := parseDateIn(s, p.date1904); !ok {
			p.problem(line, iBirthDate, KeyDate, s)
		} else if d.After(p.today) {
			p.problem(line, iBirthDate, KeyDateFuture, s)
		} else if d.Before(earliestBirth) {
			p.problem(line, iBirthDate, KeyDateTooEarly, s)
		} else {
			r.BirthDate = d.Format(time.DateOnly)
			if fromID && !d.Equal(r.ID.Birth) {
				p.problem(line, iBirthDate, KeyBirthMismatch, s, r.ID.Birth.Format(time.DateOnly))
			}
		}
	}
	if fromID {
		r.Sex = r.ID.Sex
		r.BirthDate = r.ID.Birth.Format(time.DateOnly)
	}

	if s := v[iEthnicity]; s != "" {
		if c, ok := ethnicityByName[strings.ReplaceAll(s, " ", "")]; ok {
			r.Ethnicity = c
		} else {
			p.problem(line, iEthnicity, KeyEthnicity, s)
		}
	}
	if s := v[iPhone]; s != "" {
		if ph, err := pii.NormalizePhone(s); err != nil {
			p.problem(line, iPhone, KeyPhone, s)
		} else {
			r.Phone = ph
		}
	}
	if s := v[iResidency]; s != "" {
		if c, ok := residencyByName[strings.ReplaceAll(s, " ", "")]; ok {
			r.Residency = c
		} else {
			p.problem(line, iResidency, KeyChoice, s, residencyList)
		}
	}
	r.RegisteredAddress = v[iRegisteredAddress]
	r.Building = v[iBuilding]
	r.Unit = v[iUnit]
	if _, ok := digits(r.Unit); ok {
		r.Unit += "单元"
	}
	r.Room = strings.TrimSpace(strings.TrimSuffix(v[iRoom], "室"))
	if v[iRoom] != "" && r.Room == "" {
		p.problem(line, iRoom, KeyRequired, v[iRoom])
	}
	if s := v[iRelation]; s != "" {
		if c, ok := relationByName[strings.ReplaceAll(s, " ", "")]; ok {
			r.Relation = c
		} else {
			p.problem(line, iRelation, KeyRelation, s)
		}
	}
	if s := v[iRoomUse]; s != "" {
		if c, ok := roomUseByName[strings.ReplaceAll(s, " ", "")]; ok {
			r.RoomUse = c
		} else {
			p.problem(line, iRoomUse, KeyChoice, s, roomUseList)
		}
	}
	r.Workplace = v[iWorkplace]
	if s := v[iTags]; s != "" {
		for _, t := range strings.FieldsFunc(s, isTagSep) {
			c, ok := tagByName[t]
			switch {
			case !ok:
				p.problem(line, iTags, KeyTag, s, t, tagList)
			case !slices.Contains(r.Tags, c):
				r.Tags = append(r.Tags, c)
			}
		}
	}
	if s := v[iSince]; s != "" {
		if d, ok := parseDateIn(s, p.date1904); !ok {
			p.problem(line, iSince, KeyDate, s)
		} else if d.After(p.sinceMax) {
			p.problem(line, iSince, KeyDateTooFar, s)
		} else if d.Before(earliestSince) {
			p.problem(line, iSince, KeyDateTooEarly, s)
		} else {
			r.Since = d.Format(time.DateOnly)
		}
	}
	r.Notes = v[iNotes]

	if !p.rowBad {
		// Rows are collected in fixed-size chunks: growing one slice of
		// large structs to 100,000 entries copies it over and over.
		if n := len(p.chunks); n == 0 || len(p.chunks[n-1]) == cap(p.chunks[n-1]) {
			p.chunks = append(p.chunks, make([]Row, 0, rowChunk))
		}
		c := &p.chunks[len(p.chunks)-1]
		*c = append(*c, r)
	}
	return nil
}

const rowChunk = 4096

// collect joins the row chunks into p.rows.
func (p *parser) collect() {
	n := 0
	for _, c := range p.chunks {
		n += len(c)
	}
	if n == 0 {
		return
	}
	p.rows = make([]Row, 0, n)
	for _, c := range p.chunks {
		p.rows = append(p.rows, c...)
	}
	p.chunks = nil
}

func isTagSep(r rune) bool {
	switch r {
	case ';', '；', ',', '，', '、', ' ', '/':
		return true
	}
	return false
}

// isScientific reports a number Excel shows in scientific notation,
// "6.10402E+17": the cell was a number, and every digit after the 15th is
// gone.
func isScientific(s string) bool {
	mant, exp, ok := strings.Cut(strings.ToUpper(s), "E")
	if !ok || mant == "" || exp == "" {
		return false
	}
	exp = strings.TrimPrefix(exp, "+")
	if _, ok := digits(exp); !ok {
		return false
	}
	whole, frac, _ := strings.Cut(mant, ".")
	if _, ok := digits(whole); !ok {
		return false
	}
	if frac != "" {
		for i := 0; i < len(frac); i++ {
			if frac[i] < '0' || frac[i] > '9' {
				return false
			}
		}
	}
	return true
}

// idKey maps a pii.ParseID error to a message key. An 18-digit resident
// number that fails its check and ends in 000 was almost certainly stored
// as a number: Excel keeps 15 significant digits and zero-fills the rest.
func idKey(err error, t pii.DocType, s string) string {
	var ie *pii.IDError
	if !errors.As(err, &ie) {
		return KeyID(pii.ReasonChars)
	}
	if ie.Reason == pii.ReasonCheck && t == pii.DocResidentID {
		n := strings.ReplaceAll(s, " ", "")
		if len(n) == 18 && strings.HasSuffix(n, "000") {
			return KeyIDScientific
		}
	}
	return KeyID(ie.Reason)
}

// maxValueRunes bounds Problem.Value so that a pasted essay does not end up
// in every error report line.
const maxValueRunes = 100

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}
