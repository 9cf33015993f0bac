// Package leads clears epidemic leads to zero: batches sent down the
// organisation tree, matching against the ledger, the grid worker who
// verifies each, and residents' own reports through self-report codes.
package leads

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/ledger"
	"shequ/internal/pii"
	"shequ/internal/ratelimit"
	"shequ/internal/store"
)

// Service is the leads logic over the store and the ledger.
type Service struct {
	Store  *store.Store
	Keys   *pii.Keyring
	Ledger *ledger.Service
	// Limits of the public form: submissions per address a minute, and per
	// phone an hour (0: the defaults).
	PerAddress, PerPhone int
	// Codes, when set, makes the form ask for a one-time code sent to the
	// reporter's phone.
	Codes PhoneCodes
	// Notify, when set, texts workers about leads handed to them.
	Notify Notify

	limits limiter
}

// Default limits of the public form: a family on one home connection
// reports together; a flood from one address is not a family.
const (
	DefaultPerAddress = 30
	DefaultPerPhone   = 5
)

// CodeKinds are the places a self-report code is put up.
var CodeKinds = []string{"community", "gate", "shop", "group", "other"}

// Transports and health states offered by the form.
var (
	Transports = []string{"train", "plane", "bus", "car", "other"}
	Healths    = []string{"well", "fever", "cough", "other"}
)

// token is a code's id and a MAC over it: a forged or altered code is
// refused before anything is looked up.
func (s *Service) token(codeID string) string {
	return codeID + "." + base64.RawURLEncoding.EncodeToString(s.Keys.MAC([]byte(codeID), "report-code")[:12])
}

// codeOf checks a token and loads its code.
func (s *Service) codeOf(ctx context.Context, token string) (store.ReportCode, error) {
	id, sig, ok := strings.Cut(token, ".")
	if ok {
		mac, err := base64.RawURLEncoding.DecodeString(sig)
		ok = err == nil && hmac.Equal(mac, s.Keys.MAC([]byte(id), "report-code")[:12])
	}
	if !ok {
		return store.ReportCode{}, errs.E(errs.NotFound, "err.report.code")
	}
	c, _, err := s.Store.ReportCode(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return c, errs.E(errs.NotFound, "err.report.code")
	}
	return c, err
}

// Code checks a token and returns its code with its community.
func (s *Service) Code(ctx context.Context, token string) (store.ReportCode, store.OrgNode, error) {
	c, err := s.codeOf(ctx, token)
	if err != nil {
		return c, store.OrgNode{}, err
	}
	comm, err := s.Store.OrgNode(ctx, c.CommunityID)
	return c, comm, err
}

// CreateCode makes a self-report code for a place of a community and
// returns it with its token.
func (s *Service) CreateCode(ctx context.Context, p *access.Principal, communityID, place, kind string) (store.ReportCode, string, error) {
	comm, err := s.Store.OrgNode(ctx, communityID)
	if err != nil || comm.Level != store.LevelCommunity {
		return store.ReportCode{}, "", errs.E(errs.Invalid, "err.import.community").OnField("community")
	}
	if p != nil && !p.Can(access.LeadManage, comm.Path) {
		return store.ReportCode{}, "", errs.E(errs.Forbidden, "err.forbidden")
	}
	c := store.ReportCode{CommunityID: comm.ID, Place: strings.TrimSpace(place), Kind: kind}
	switch {
	case c.Place == "" || len([]rune(c.Place)) > 50:
		return c, "", errs.E(errs.Invalid, "err.report.place").OnField("place")
	case !slices.Contains(CodeKinds, kind):
		return c, "", errs.E(errs.Invalid, "err.report.kind").OnField("kind")
	}
	c.ID = newID()
	tok := s.token(c.ID)
	actor := ""
	if p != nil {
		actor = p.UserID
	}
	return c, tok, s.Store.Write(ctx, func(tx *store.Tx) error { return tx.CreateReportCode(ctx, &c, tok, actor) })
}

// Token is the token of a stored code (for its poster).
func (s *Service) Token(c store.ReportCode) string { return s.token(c.ID) }

// PhoneCodes sends and checks one-time codes (auth.Service).
type PhoneCodes interface {
	SendPhoneCode(ctx context.Context, purpose, phone string) error
	CheckPhoneCode(ctx context.Context, purpose, phone, code string) (bool, error)
}

// SendCode sends the one-time code of the form to a phone, within the
// same limits as the reports.
func (s *Service) SendCode(ctx context.Context, token, rawPhone, ip string) error {
	if _, err := s.codeOf(ctx, token); err != nil {
		return err
	}
	if s.Codes == nil {
		return errs.E(errs.NotFound, "err.not_found")
	}
	phone, err := pii.NormalizePhone(rawPhone)
	if err != nil {
		return errs.E(errs.Invalid, "err.phone_invalid").OnField("phone")
	}
	now := s.Store.Now()
	if !s.limits.allow("ip:"+ip, orDefault(s.PerAddress, DefaultPerAddress), time.Minute, now) ||
		!s.limits.allow("code:"+s.Keys.BlindIndex(phone, "phone"), orDefault(s.PerPhone, DefaultPerPhone), time.Hour, now) {
		return errs.E(errs.TooMany, "err.report.too_many")
	}
	return s.Codes.SendPhoneCode(ctx, "report", phone)
}

// ReportInput is the public form.
type ReportInput struct {
	Name, IDNumber, Phone, FromPlace, ArrivalDate, RoomID, Transport, Health string
	Code                                                                     string // the one-time code, when the form asks for one
	Consent                                                                  bool
	IP                                                                       string
}

// Receipt is what the reporter is shown.
type Receipt struct {
	Ref    string
	Merged bool // the same person had reported this arrival before
}

// Submit stores a self-report from the public form. It is matched to the
// ledger and becomes a lead with the grid worker of the room the reporter
// chose. The same person reporting the same arrival again merges into the
// first report (same reference). Floods from one address or one phone are
// throttled (errs.TooMany) without affecting anyone else.
func (s *Service) Submit(ctx context.Context, token string, in ReportInput) (Receipt, error) {
	code, err := s.codeOf(ctx, token)
	if err != nil {
		return Receipt{}, err
	}
	now := s.Store.Now()
	if !s.limits.allow("ip:"+in.IP, orDefault(s.PerAddress, DefaultPerAddress), time.Minute, now) {
		return Receipt{}, errs.E(errs.TooMany, "err.report.too_many")
	}
	r, person, err := s.check(ctx, code, in, now)
	if err != nil {
		return Receipt{}, err
	}
	if !s.limits.allow("phone:"+r.PhoneBidx, orDefault(s.PerPhone, DefaultPerPhone), time.Hour, now) {
		return Receipt{}, errs.E(errs.TooMany, "err.report.too_many")
	}
	if s.Codes != nil {
		phone, _ := pii.NormalizePhone(in.Phone)
		if ok, err := s.Codes.CheckPhoneCode(ctx, "report", phone, in.Code); err != nil {
			return Receipt{}, err
		} else if !ok {
			return Receipt{}, errs.E(errs.Invalid, "err.report.code_wrong").OnField("code")
		}
	}
	var merged bool
	for attempt := 0; attempt < 2; attempt++ { // a twin submission racing this one: the second try merges
		merged, err = s.save(ctx, code, &r, person)
		if !errs.Is(err, errs.Conflict) {
			break
		}
	}
	return Receipt{Ref: r.Ref, Merged: merged}, err
}

// check validates the form into a report, and finds who it is in the
// ledger by identity number.
func (s *Service) check(ctx context.Context, code store.ReportCode, in ReportInput, now time.Time) (store.SelfReport, string, error) {
	r := store.SelfReport{CodeID: code.ID, CommunityID: code.CommunityID, Ref: newRef(), FromPlace: strings.TrimSpace(pii.NormalizeText(in.FromPlace)),
		ArrivalDate: strings.TrimSpace(in.ArrivalDate), RoomID: in.RoomID, Transport: in.Transport, Health: in.Health}
	if !in.Consent {
		return r, "", errs.E(errs.Invalid, "err.report.consent").OnField("consent")
	}
	if strings.TrimSpace(in.Phone) == "" {
		return r, "", errs.E(errs.Invalid, "err.phone_invalid").OnField("phone")
	}
	p, err := s.Ledger.Normalize(ledger.PersonInput{Name: in.Name, DocType: pii.DocResidentID, IDNumber: in.IDNumber, Phone: in.Phone, Residency: "floating"}, now)
	if err != nil {
		return r, "", err
	}
	r.Name, r.IDEnc, r.IDBidx, r.IDMask, r.PhoneEnc, r.PhoneBidx, r.PhoneMask = p.Name, p.IDEnc, p.IDBidx, p.IDMask, p.PhoneEnc, p.PhoneBidx, p.PhoneMask
	arrival, err := time.Parse("2006-01-02", r.ArrivalDate)
	switch {
	case r.FromPlace == "" || len([]rune(r.FromPlace)) > 100:
		return r, "", errs.E(errs.Invalid, "err.report.from").OnField("from_place")
	case err != nil:
		return r, "", errs.E(errs.Invalid, "err.date").OnField("arrival_date")
	case arrival.After(now.Add(24*time.Hour)) || arrival.Before(now.AddDate(0, -3, 0)):
		return r, "", errs.E(errs.Invalid, "err.report.arrival").OnField("arrival_date")
	case r.Transport != "" && !slices.Contains(Transports, r.Transport):
		return r, "", errs.E(errs.Invalid, "err.report.transport").OnField("transport")
	case r.Health != "" && !slices.Contains(Healths, r.Health):
		return r, "", errs.E(errs.Invalid, "err.report.health").OnField("health")
	}
	comm, _, _, err := s.Store.RoomGrid(ctx, r.RoomID)
	if err != nil || comm != code.CommunityID {
		return r, "", errs.E(errs.Invalid, "err.report.room").OnField("room")
	}
	ps, err := s.Store.PersonsByIDBidx(ctx, p.IDBidx)
	if err != nil || len(ps) == 0 {
		return r, "", err
	}
	return r, ps[0].ID, nil
}

// save stores the report and, the first time, its lead with the grid
// worker of the chosen room.
func (s *Service) save(ctx context.Context, code store.ReportCode, r *store.SelfReport, personID string) (bool, error) {
	_, grid, address, err := s.Store.RoomGrid(ctx, r.RoomID)
	if err != nil {
		return false, err
	}
	assignee := s.worker(ctx, grid)
	var merged bool
	err = s.Store.Write(ctx, func(tx *store.Tx) error {
		if merged, err = tx.SaveSelfReport(ctx, r); err != nil || merged {
			return err
		}
		batch, err := tx.SelfReportBatch(ctx, code.CommunityID, "自主报备")
		if err != nil {
			return err
		}
		l := store.Lead{BatchID: batch, Name: r.Name, IDEnc: r.IDEnc, IDBidx: r.IDBidx, IDMask: r.IDMask, PhoneEnc: r.PhoneEnc, PhoneBidx: r.PhoneBidx,
			PhoneMask: r.PhoneMask, Address: address, Reason: "自主报备：" + r.FromPlace + "，" + r.ArrivalDate + " 抵达", RoomID: r.RoomID,
			PersonID: personID, MatchKind: "room", Confidence: 100, NodeID: orDefaultStr(grid, code.CommunityID), AssigneeID: assignee, Status: "open",
			Deadline: s.Store.Now().In(cst).AddDate(0, 0, 1).Format("2006-01-02")}
		if personID != "" {
			l.MatchKind = "id"
		}
		if assignee != "" {
			l.Status = "assigned"
		}
		if err := tx.CreateLead(ctx, &l); err != nil {
			return err
		}
		if err := tx.LeadEvent(ctx, l.ID, "", "", "created", "selfreport:"+code.Place); err != nil {
			return err
		}
		return tx.LinkReportLead(ctx, r.ID, l.ID)
	})
	return merged, err
}

var cst = time.FixedZone("CST", 8*3600)

// limiter counts events per key in fixed windows.
// limiter is the shared request limiter with the form's budgets.
type limiter struct{ r ratelimit.Limiter }

func (l *limiter) allow(key string, max int, per time.Duration, now time.Time) bool {
	ok, _ := l.r.Allow(key, ratelimit.Limit{N: max, Per: per}, now)
	return ok
}

// newRef is a reference number a reporter can read out on the phone:
// eight letters and digits without look-alikes.
func newRef() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	s := base32.NewEncoding("ABCDEFGHJKLMNPQRSTUVWXYZ23456789").WithPadding(base32.NoPadding).EncodeToString(b)
	return s[:4] + "-" + s[4:]
}

func newID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

func orDefaultStr(v, d string) string {
	if v == "" {
		return d
	}
	return v
}
