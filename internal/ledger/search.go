package ledger

import (
	"context"
	"strings"
	"unicode"

	"shequ/internal/access"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// Query is what a staff member types into the search box plus filters.
type Query struct {
	Text      string
	Residency string
	Tag       string
	Has       string // store.PersonHas
	PlaceID   string
	Node      string // an organisation node: only people living at or below it
	Page      int
	PageSize  int
}

// Search finds people in the principal's scope. The text is read as an
// identity number or a phone (exact, through the blind index) when it
// looks like one, as pinyin initials when it is Latin letters, and as part
// of a name or address otherwise.
func (s *Service) Search(ctx context.Context, p *access.Principal, q Query) ([]store.PersonHit, int, error) {
	f := store.PersonFilter{Scopes: p.Scopes(access.PersonView), Residency: q.Residency, Tag: q.Tag, Has: q.Has, PlaceID: q.PlaceID}
	if q.Node != "" {
		// The part of the principal's scope at or below the node.
		n, err := s.Store.OrgNode(ctx, q.Node)
		if err != nil {
			return nil, 0, err
		}
		var within []string
		for _, sc := range f.Scopes {
			switch {
			case strings.HasPrefix(n.Path, sc):
				within = append(within, n.Path)
			case strings.HasPrefix(sc, n.Path):
				within = append(within, sc)
			}
		}
		f.Scopes = within
	}
	if q.PageSize <= 0 {
		q.PageSize = 50
	}
	if q.Page < 1 {
		q.Page = 1
	}
	f.Limit, f.Offset = q.PageSize, (q.Page-1)*q.PageSize
	text := pii.NormalizeText(q.Text)
	switch {
	case text == "":
	case looksLikeID(text):
		if id, err := pii.ParseID(pii.DocResidentID, text, s.Store.Now()); err == nil {
			f.IDBidx = s.idIndex(pii.DocResidentID, id.Number)
		} else {
			// A number that is not a valid ID matches nobody, rather than
			// everybody.
			f.IDBidx = "-"
		}
	case looksLikePhone(text):
		phone, err := pii.NormalizePhone(text)
		if err != nil {
			f.PhoneBidx = "-"
		} else {
			f.PhoneBidx = s.Keys.BlindIndex(phone, bidxPhone)
		}
	case isLatin(text):
		f.Initials = strings.ToLower(strings.ReplaceAll(text, " ", ""))
	case strings.ContainsAny(text, "号楼单元室村区路街巷") && len([]rune(text)) > 2:
		f.Address = text
	default:
		f.Name = text
	}
	return s.Store.Persons(ctx, f)
}

func looksLikeID(s string) bool {
	if len(s) != 18 && len(s) != 15 {
		return false
	}
	for i, c := range s {
		if !(c >= '0' && c <= '9' || (i == 17 && (c == 'X' || c == 'x'))) {
			return false
		}
	}
	return true
}

func looksLikePhone(s string) bool {
	d := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			d++
		case c == '+' || c == '-' || c == ' ':
		default:
			return false
		}
	}
	return d >= 7 && d <= 14
}

func isLatin(s string) bool {
	for _, c := range s {
		if !(c < unicode.MaxASCII && (unicode.IsLetter(c) || c == ' ')) {
			return false
		}
	}
	return true
}
