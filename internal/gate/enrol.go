package gate

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/face"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// Actor is who changes gate data.
type Actor struct {
	P  *access.Principal // nil: the system (demo, command line)
	IP string
}

func (a Actor) id() string {
	if a.P == nil {
		return ""
	}
	return a.P.UserID
}

// mayEditPerson checks the actor may manage the person's gate data.
func (s *Service) mayEditPerson(ctx context.Context, a Actor, personID string) error {
	if a.P == nil {
		return nil
	}
	paths, err := s.Store.PersonPaths(ctx, personID)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if a.P.Can(access.GateManage, p) || a.P.Can(access.PersonEdit, p) {
			return nil
		}
	}
	return errs.E(errs.Forbidden, "err.forbidden")
}

// EnrolValue gives a person a card or a licence plate.
func (s *Service) EnrolValue(ctx context.Context, a Actor, personID, kind, value string, validUntil time.Time) (store.Credential, error) {
	var c store.Credential
	if kind != CredCard && kind != CredPlate {
		return c, errBadCredential.OnField("kind")
	}
	v := normalizeValue(kind, value)
	if len(v) < 4 || len(v) > 32 {
		return c, errs.E(errs.Invalid, "err.gate.value").OnField("value")
	}
	if err := s.mayEditPerson(ctx, a, personID); err != nil {
		return c, err
	}
	c, err := s.ValueCredential(personID, kind, v, validUntil)
	if err != nil {
		return c, err
	}
	if existing, err := s.Store.CredentialByValue(ctx, kind, c.ValueBidx); err == nil && existing.PersonID != personID {
		return c, errs.E(errs.Conflict, "err.gate.value_taken").OnField("value")
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.CreateCredential(ctx, &c, a.id()); err != nil {
			return err
		}
		return s.logCredential(ctx, tx, a, c, "credential_added")
	})
	return c, err
}

// logCredential records a credential change in the person's history (the
// masked value only).
func (s *Service) logCredential(ctx context.Context, tx *store.Tx, a Actor, c store.Credential, action string) error {
	detail, _ := json.Marshal(map[string]string{"kind": c.Kind, "value": c.ValueMask})
	return tx.LogChange(ctx, &store.Change{EntityType: "person", EntityID: c.PersonID, PersonID: c.PersonID, ActorID: a.id(),
		ActorName: actorName(a), Source: store.SourceUI, Action: action, Changes: string(detail)})
}

// ValueCredential builds (without storing) a card or plate credential:
// the value encrypted, its blind index for lookup, a masked form.
func (s *Service) ValueCredential(personID, kind, value string, validUntil time.Time) (store.Credential, error) {
	v := normalizeValue(kind, value)
	enc, err := s.Keys.EncryptString(v, "credentials.value")
	return store.Credential{PersonID: personID, Kind: kind, ValueBidx: s.Keys.BlindIndex(v, "cred."+kind), ValueEnc: enc,
		ValueMask: pii.MaskText(v), ValidUntil: validUntil}, err
}

// FaceEnrolment is a face taken by staff or the resident in the browser.
type FaceEnrolment struct {
	PersonID   string
	Descriptor []float32
	Model      string
	Photo      []byte // JPEG
	GivenBy    string // "self" or "guardian"
	Guardian   string // the guardian's name, required under 14
}

// MaxPhotoBytes limits an enrolment photo.
const MaxPhotoBytes = 2 << 20

// EnrolFace stores a face with its separate consent. Face is never the
// only way in: it is one credential among cards, pass codes and checks.
func (s *Service) EnrolFace(ctx context.Context, a Actor, in FaceEnrolment) (store.Credential, error) {
	var c store.Credential
	if err := s.mayEditPerson(ctx, a, in.PersonID); err != nil {
		return c, err
	}
	if err := face.Validate(in.Descriptor); err != nil {
		return c, errs.Wrap(err, errs.Invalid, "err.gate.descriptor").OnField("descriptor")
	}
	if in.Model == "" || len(in.Model) > 64 {
		return c, errs.E(errs.Invalid, "err.gate.model").OnField("model")
	}
	if len(in.Photo) == 0 || len(in.Photo) > MaxPhotoBytes || http.DetectContentType(in.Photo) != "image/jpeg" {
		return c, errs.E(errs.Invalid, "err.gate.photo").OnField("photo")
	}
	p, err := s.Store.Person(ctx, in.PersonID)
	if err != nil {
		return c, err
	}
	minor := false
	if b, err := time.Parse("2006-01-02", p.BirthDate); err == nil {
		minor = s.Store.Now().Before(b.AddDate(14, 0, 0))
	}
	switch {
	case in.GivenBy != "self" && in.GivenBy != "guardian":
		return c, errs.E(errs.Invalid, "err.gate.consent").OnField("consent")
	case minor && (in.GivenBy != "guardian" || strings.TrimSpace(in.Guardian) == ""):
		return c, errs.E(errs.Invalid, "err.gate.guardian_consent").OnField("guardian")
	}
	community := ""
	ms, err := s.Store.Memberships(ctx, in.PersonID)
	if err != nil {
		return c, err
	}
	today := s.Store.Today()
	for _, m := range ms {
		if m.Until == "" || m.Until >= today {
			if r, _, err := s.Store.Place(ctx, m.RoomID); err == nil {
				community = r.CommunityID
				break
			}
		}
	}
	if community == "" {
		return c, errs.E(errs.Invalid, "err.gate.no_residence")
	}
	djson, _ := json.Marshal(in.Descriptor)
	if c.ValueEnc, err = s.Keys.Encrypt(djson, "credentials.value"); err != nil {
		return c, err
	}
	if c.PhotoEnc, err = s.Keys.Encrypt(in.Photo, "credentials.photo"); err != nil {
		return c, err
	}
	c.PersonID, c.Kind, c.Model, c.ValueMask = in.PersonID, CredFace, in.Model, "face"
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		cid, err := tx.CreateConsent(ctx, in.PersonID, in.GivenBy, strings.TrimSpace(in.Guardian), a.id())
		if err != nil {
			return err
		}
		c.ConsentID = cid
		if err := tx.CreateCredential(ctx, &c, a.id()); err != nil {
			return err
		}
		return tx.LogChange(ctx, &store.Change{EntityType: "person", EntityID: in.PersonID, PersonID: in.PersonID, ActorID: a.id(),
			ActorName: actorName(a), Source: store.SourceUI, Action: "face_enrolled", Changes: `{"consent":"` + in.GivenBy + `"}`})
	})
	if err != nil {
		return c, err
	}
	if err := s.Faces.Put(community, in.PersonID, c.ID, in.Descriptor, in.Model); err != nil {
		return c, err
	}
	s.tell(TopicFace, faceNote{ID: c.ID})
	return c, nil
}

func actorName(a Actor) string {
	if a.P == nil {
		return "system"
	}
	return a.P.Name
}

// Revoke withdraws a credential (for a face, its consent goes with it).
func (s *Service) Revoke(ctx context.Context, a Actor, c store.Credential) error {
	if err := s.mayEditPerson(ctx, a, c.PersonID); err != nil {
		return err
	}
	err := s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.RevokeCredential(ctx, c.ID); err != nil {
			return err
		}
		return s.logCredential(ctx, tx, a, c, "credential_revoked")
	})
	if err == nil && c.Kind == CredFace {
		s.Faces.Forget(c.ID)
		s.tell(TopicFace, faceNote{ID: c.ID})
	}
	return err
}

// RevokeByID withdraws one of a person's credentials.
func (s *Service) RevokeByID(ctx context.Context, a Actor, personID, credentialID string) error {
	cs, err := s.Store.PersonCredentials(ctx, personID)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.ID == credentialID && c.RevokedAt.IsZero() {
			return s.Revoke(ctx, a, c)
		}
	}
	return errs.E(errs.NotFound, "err.not_found")
}

// ResidentPass makes a short-lived pass code for a person's phone.
func (s *Service) ResidentPass(personID, communityID string, ttl time.Duration) string {
	return SignPass(s.Keys, PassClaims{Kind: "p", ID: personID, CommunityID: communityID, Expires: s.Store.Now().Add(ttl).Unix(), Nonce: newNonce()})
}

// VisitorInput registers a visitor.
type VisitorInput struct {
	CommunityID  string
	HostRoomID   string
	HostPersonID string
	Name         string
	IDNumber     string
	Phone        string
	Reason       string
	From, Until  time.Time
	By           string // resident or booth
}

// RegisterVisitor records a visit and returns its pass code, valid for the
// visit's window.
func (s *Service) RegisterVisitor(ctx context.Context, a Actor, in VisitorInput) (store.Visitor, string, error) {
	var v store.Visitor
	in.Name = pii.NormalizeText(in.Name)
	if in.Name == "" {
		return v, "", errs.E(errs.Invalid, "err.person.name").OnField("name")
	}
	id, err := pii.ParseID(pii.DocResidentID, in.IDNumber, s.Store.Now())
	if err != nil {
		return v, "", errs.E(errs.Invalid, "err.person.id_check").OnField("id_number")
	}
	if in.Until.IsZero() {
		in.Until = in.From.Add(4 * time.Hour)
	}
	if !in.Until.After(in.From) || in.Until.Sub(in.From) > 7*24*time.Hour {
		return v, "", errs.E(errs.Invalid, "err.gate.visit_window").OnField("until")
	}
	v = store.Visitor{CommunityID: in.CommunityID, HostRoomID: in.HostRoomID, HostPersonID: in.HostPersonID, Name: in.Name,
		IDBidx: s.IDIndex(pii.DocResidentID, id.Number), IDMask: pii.MaskID(id.Number), Reason: in.Reason, ValidFrom: in.From,
		ValidUntil: in.Until, RegisteredBy: in.By}
	if v.IDEnc, err = s.Keys.EncryptString(id.Number, "visitors.id_number"); err != nil {
		return v, "", err
	}
	if strings.TrimSpace(in.Phone) != "" {
		phone, err := pii.NormalizePhone(in.Phone)
		if err != nil {
			return v, "", errs.E(errs.Invalid, "err.phone_invalid").OnField("phone")
		}
		if v.PhoneEnc, err = s.Keys.EncryptString(phone, "visitors.phone"); err != nil {
			return v, "", err
		}
		v.PhoneMask = pii.MaskPhone(phone)
	}
	if err := s.Store.Write(ctx, func(tx *store.Tx) error { return tx.CreateVisitor(ctx, &v, a.id()) }); err != nil {
		return v, "", err
	}
	return v, SignPass(s.Keys, PassClaims{Kind: "v", ID: v.ID, CommunityID: v.CommunityID, Expires: v.ValidUntil.Unix()}), nil
}
