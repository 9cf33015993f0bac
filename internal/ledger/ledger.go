// Package ledger keeps the population ledger (人员信息台账): people,
// households, rooms, tenants and contracts, health records, the change
// history, duplicates, search, reveal of protected fields, and imports and
// exports. Identity numbers and phones are stored only encrypted, found
// through a blind index and shown masked.
package ledger

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/audit"
	"shequ/internal/errs"
	"shequ/internal/pii"
	"shequ/internal/pinyin"
	"shequ/internal/store"
)

// Encryption contexts and blind-index contexts of ledger fields.
const (
	ctxIDNumber = "persons.id_number"
	ctxPhone    = "persons.phone"
	ctxScan     = "contracts.scan"
	bidxID      = "id_number"
	bidxPhone   = "phone"
)

// idErrorKeys translates pii's reasons into messages.
var idErrorKeys = map[string]string{
	pii.ReasonEmpty: "err.person.id_empty", pii.ReasonLength: "err.person.id_length", pii.ReasonChars: "err.person.id_chars",
	pii.ReasonRegion: "err.person.id_region", pii.ReasonBirth: "err.person.id_birth", pii.ReasonCheck: "err.person.id_check",
	pii.ReasonType: "err.person.id_type",
}

// Service is the ledger's logic over the store.
type Service struct {
	Store *store.Store
	Keys  *pii.Keyring
	Audit *audit.Log
}

// Residency values.
var Residencies = []string{"registered", "permanent", "floating"}

// Tags for people who need care. extreme_poverty (特困供养) and
// special_care (优抚对象) usually arrive on civil-affairs lists
// (internal/exchange).
var Tags = []string{"elderly_alone", "disabled", "chronic", "pregnant", "infant", "subsistence", "extreme_poverty", "special_care"}

// RoomUses of a room.
var RoomUses = []string{"self", "rented", "group_rental", "vacant", "shop"}

// Relations are the GB/T 4761-2008 relation-to-head codes offered in forms.
var Relations = []string{"02", "10", "11", "12", "20", "30", "41", "42", "51", "52", "70", "97", "99"}

// PersonInput is a person as typed into a form or read from an import.
type PersonInput struct {
	Name              string
	DocType           pii.DocType
	IDNumber          string
	Sex               int
	BirthDate         string
	Ethnicity         string
	Phone             string
	Residency         string
	RegisteredAddress string
	Workplace         string
	Tags              []string
	Notes             string
}

// Normalize validates in and builds the stored person: encrypted identity
// number and phone, blind indexes, masks, pinyin initials, and sex and
// birth date from a resident ID.
func (s *Service) Normalize(in PersonInput, now time.Time) (store.Person, error) {
	var p store.Person
	in.Name = pii.NormalizeText(in.Name)
	if in.Name == "" || len([]rune(in.Name)) > 40 {
		return p, errs.E(errs.Invalid, "err.person.name").OnField("name")
	}
	if in.DocType == "" {
		in.DocType = pii.DocResidentID
	}
	id, err := pii.ParseID(in.DocType, in.IDNumber, now)
	if err != nil {
		key := "err.person.id_check"
		if ie, ok := err.(*pii.IDError); ok && idErrorKeys[ie.Reason] != "" {
			key = idErrorKeys[ie.Reason]
		}
		return p, errs.E(errs.Invalid, key).OnField("id_number")
	}
	if !contains(Residencies, in.Residency) {
		return p, errs.E(errs.Invalid, "err.person.residency").OnField("residency")
	}
	for _, t := range in.Tags {
		if !contains(Tags, t) {
			return p, errs.E(errs.Invalid, "err.person.tag", t).OnField("tags")
		}
	}
	p = store.Person{Name: in.Name, IDType: string(in.DocType), Sex: in.Sex, BirthDate: in.BirthDate,
		Ethnicity: in.Ethnicity, Residency: in.Residency, RegisteredAddr: pii.NormalizeText(in.RegisteredAddress),
		Workplace: pii.NormalizeText(in.Workplace), Tags: strings.Join(in.Tags, ","), Notes: strings.TrimSpace(in.Notes),
		NameInitials: pinyin.Initials(in.Name)}
	if !id.Birth.IsZero() {
		if in.BirthDate != "" && in.BirthDate != id.Birth.Format("2006-01-02") {
			return p, errs.E(errs.Invalid, "err.person.birth_mismatch").OnField("birth_date")
		}
		p.BirthDate = id.Birth.Format("2006-01-02")
	}
	if id.Sex != 0 {
		if in.Sex != 0 && in.Sex != id.Sex {
			return p, errs.E(errs.Invalid, "err.person.sex_mismatch").OnField("sex")
		}
		p.Sex = id.Sex
	}
	if id.Region != "" {
		p.RegisteredRegion = id.Region
	}
	if p.BirthDate != "" {
		if _, err := time.Parse("2006-01-02", p.BirthDate); err != nil {
			return p, errs.E(errs.Invalid, "err.person.birth").OnField("birth_date")
		}
	}
	if p.IDEnc, err = s.Keys.EncryptString(id.Number, ctxIDNumber); err != nil {
		return p, err
	}
	p.IDBidx = s.idIndex(in.DocType, id.Number)
	p.IDMask = pii.MaskID(id.Number)
	if strings.TrimSpace(in.Phone) != "" {
		phone, err := pii.NormalizePhone(in.Phone)
		if err != nil {
			return p, errs.E(errs.Invalid, "err.phone_invalid").OnField("phone")
		}
		if p.PhoneEnc, err = s.Keys.EncryptString(phone, ctxPhone); err != nil {
			return p, err
		}
		p.PhoneBidx = s.Keys.BlindIndex(phone, bidxPhone)
		p.PhoneMask = pii.MaskPhone(phone)
	}
	return p, nil
}

// idIndex is the blind index of an identity document: the type is part of
// it, so a passport number never matches a resident ID by accident.
func (s *Service) idIndex(t pii.DocType, number string) string {
	if t == "" || t == pii.DocResidentID {
		return s.Keys.BlindIndex(number, bidxID)
	}
	return s.Keys.BlindIndex(string(t)+":"+number, bidxID)
}

// IDIndex is the blind index used to find an identity number.
func (s *Service) IDIndex(t pii.DocType, number string) string { return s.idIndex(t, number) }

// PhoneIndex is the blind index used to find a phone number.
func (s *Service) PhoneIndex(phone string) string { return s.Keys.BlindIndex(phone, bidxPhone) }

// MayView reports whether p may do a on the person: some room the person
// lives in or owns must be in p's scope.
func (s *Service) MayView(ctx context.Context, p *access.Principal, a access.Action, personID string) (bool, error) {
	paths, err := s.Store.PersonPaths(ctx, personID)
	if err != nil {
		return false, err
	}
	for _, path := range paths {
		if p.Can(a, path) {
			return true, nil
		}
	}
	return false, nil
}

// Reveal decrypts a protected field of a person for someone allowed to see
// it, and records who, whose, which field and why.
func (s *Service) Reveal(ctx context.Context, p *access.Principal, personID, field, reason, ip string) (string, error) {
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) < 2 {
		return "", errs.E(errs.Invalid, "err.reveal.reason").OnField("reason")
	}
	ok, err := s.MayView(ctx, p, access.PIIReveal, personID)
	if err != nil {
		return "", err
	}
	person, err := s.Store.Person(ctx, personID)
	if err != nil {
		return "", err
	}
	if !ok {
		s.Audit.Record(ctx, s.Store, &store.AuditEntry{ActorID: p.UserID, ActorName: p.Name, Action: "pii.reveal", Outcome: audit.Denied,
			TargetType: "person", TargetID: personID, IP: ip, Detail: audit.Detail("field", field)})
		return "", errs.E(errs.Forbidden, "err.forbidden")
	}
	var ct []byte
	var c string
	switch field {
	case "id_number":
		ct, c = person.IDEnc, ctxIDNumber
	case "phone":
		ct, c = person.PhoneEnc, ctxPhone
	default:
		return "", errs.E(errs.Invalid, "err.reveal.field")
	}
	plain, err := s.Keys.DecryptString(ct, c)
	if err != nil {
		return "", err
	}
	node := ""
	if paths, _ := s.Store.PersonPaths(ctx, personID); len(paths) > 0 {
		node = lastID(paths[0])
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := s.Audit.Append(ctx, tx, &store.AuditEntry{ActorID: p.UserID, ActorName: p.Name, Action: "pii.reveal",
			TargetType: "person", TargetID: personID, NodeID: node, IP: ip, Detail: audit.Detail("field", field, "reason", reason)}); err != nil {
			return err
		}
		return tx.LogChange(ctx, &store.Change{EntityType: "person", EntityID: personID, PersonID: personID, ActorID: p.UserID,
			ActorName: p.Name, Source: store.SourceUI, Action: "reveal", Reason: reason, Changes: jsonOf(map[string]any{"field": field})})
	})
	return plain, err
}

// diff lists the changed fields between two versions of a person, with
// protected values masked.
func diff(old, new store.Person) map[string][2]string {
	d := map[string][2]string{}
	add := func(field, a, b string) {
		if a != b {
			d[field] = [2]string{a, b}
		}
	}
	add("name", old.Name, new.Name)
	add("id_number", old.IDMask, new.IDMask)
	if old.IDBidx != new.IDBidx && old.IDMask == new.IDMask {
		d["id_number"] = [2]string{old.IDMask, new.IDMask + " *"}
	}
	add("phone", old.PhoneMask, new.PhoneMask)
	add("birth_date", old.BirthDate, new.BirthDate)
	add("residency", old.Residency, new.Residency)
	add("ethnicity", old.Ethnicity, new.Ethnicity)
	add("registered_address", old.RegisteredAddr, new.RegisteredAddr)
	add("workplace", old.Workplace, new.Workplace)
	add("tags", old.Tags, new.Tags)
	add("notes", old.Notes, new.Notes)
	return d
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// lastID is the node id at the end of a path "/a/b/c/".
func lastID(path string) string {
	p := strings.TrimSuffix(path, "/")
	return p[strings.LastIndexByte(p, '/')+1:]
}
