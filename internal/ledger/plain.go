package ledger

import "shequ/internal/store"

// PlainID decrypts a person's identity number for a caller that has already
// decided it may be revealed (a data-exchange export under an agreement).
// It checks nothing and records nothing: Reveal is the path for staff.
func (s *Service) PlainID(p store.Person) (string, error) {
	if len(p.IDEnc) == 0 {
		return "", nil
	}
	return s.Keys.DecryptString(p.IDEnc, ctxIDNumber)
}

// PlainPhone decrypts a person's phone, on the same terms as PlainID.
func (s *Service) PlainPhone(p store.Person) (string, error) {
	if len(p.PhoneEnc) == 0 {
		return "", nil
	}
	return s.Keys.DecryptString(p.PhoneEnc, ctxPhone)
}
