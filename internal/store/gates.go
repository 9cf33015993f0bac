package store

import (
	"context"
	"database/sql"
	"math"
	"strings"
	"time"

	"shequ/internal/errs"
)

// Gate is an entrance of a compound or village.
type Gate struct {
	ID, CommunityID, SiteID, Code, Name, Kind string
	CommunityPath                             string // filled by queries
}

// Device is a gate's terminal, authenticated by its api account's token.
type Device struct {
	ID, GateID, UserID, Name string
	LastSeen                 time.Time
	Offline                  bool
}

const gateCols = `g.id, g.community_id, COALESCE(g.site_id, ''), g.code, g.name, g.kind, n.path`

func scanGate(sc interface{ Scan(...any) error }) (Gate, error) {
	var g Gate
	err := sc.Scan(&g.ID, &g.CommunityID, &g.SiteID, &g.Code, &g.Name, &g.Kind, &g.CommunityPath)
	return g, err
}

// CreateGate adds a gate.
func (tx *Tx) CreateGate(ctx context.Context, g *Gate) error {
	g.ID = orNew(g.ID)
	_, err := tx.exec(ctx, `INSERT INTO gates (id, community_id, site_id, code, name, kind, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		g.ID, g.CommunityID, nullStr(g.SiteID), g.Code, g.Name, g.Kind, ms(tx.Now()))
	if errs.Is(err, errs.Conflict) {
		return errs.E(errs.Conflict, "err.gate.code_taken", g.Code).OnField("code")
	}
	return err
}

// Gate loads a gate with its community's path.
func (s *Store) Gate(ctx context.Context, id string) (Gate, error) {
	g, err := scanGate(s.queryRow(ctx, `SELECT `+gateCols+` FROM gates g JOIN org_nodes n ON n.id = g.community_id WHERE g.id = $1`, id))
	return g, s.classify(err)
}

// Gates lists the gates of communities at or below the paths, and of the
// community a path below one lies in (a grid's community).
func (s *Store) Gates(ctx context.Context, scopes []string) ([]Gate, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	var cond []string
	var args []any
	for _, sc := range scopes {
		args = append(args, likePrefix(sc), sc)
		cond = append(cond, "n.path LIKE $"+itoa(len(args)-1)+" OR substr($"+itoa(len(args))+", 1, length(n.path)) = n.path")
	}
	rows, err := s.query(ctx, `SELECT `+gateCols+` FROM gates g JOIN org_nodes n ON n.id = g.community_id WHERE `+
		strings.Join(cond, " OR ")+` ORDER BY n.code, g.code`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Gate
	for rows.Next() {
		g, err := scanGate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// CreateDevice registers a device of a gate under an api account.
func (tx *Tx) CreateDevice(ctx context.Context, d *Device) error {
	d.ID = orNew(d.ID)
	_, err := tx.exec(ctx, `INSERT INTO devices (id, gate_id, user_id, name, created_at) VALUES ($1, $2, $3, $4, $5)`,
		d.ID, d.GateID, d.UserID, d.Name, ms(tx.Now()))
	return err
}

const deviceCols = `d.id, d.gate_id, d.user_id, d.name, d.last_seen_at, d.offline`

func scanDevice(sc interface{ Scan(...any) error }, extra ...any) (Device, error) {
	var d Device
	var seen sql.NullInt64
	var off int
	err := sc.Scan(append([]any{&d.ID, &d.GateID, &d.UserID, &d.Name, &seen, &off}, extra...)...)
	d.LastSeen, d.Offline = fromMS(seen), off != 0
	return d, err
}

// DeviceByUser finds the device of an api account, with its gate.
func (s *Store) DeviceByUser(ctx context.Context, userID string) (Device, Gate, error) {
	var g Gate
	d, err := scanDevice(s.queryRow(ctx, `SELECT `+deviceCols+`, `+gateCols+` FROM devices d JOIN gates g ON g.id = d.gate_id
		JOIN org_nodes n ON n.id = g.community_id WHERE d.user_id = $1`, userID),
		&g.ID, &g.CommunityID, &g.SiteID, &g.Code, &g.Name, &g.Kind, &g.CommunityPath)
	return d, g, s.classify(err)
}

// GateDevices lists a gate's devices.
func (s *Store) GateDevices(ctx context.Context, gateID string) ([]Device, error) {
	rows, err := s.query(ctx, `SELECT `+deviceCols+` FROM devices d WHERE d.gate_id = $1 ORDER BY d.name`, gateID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// TouchDevice records that a device was heard from; it reports whether the
// device had been marked offline (so the caller can clear the alarm), and
// hands over (and clears) a pending remote open: when it was asked for, or
// the zero time when none is pending or it has lapsed.
func (tx *Tx) TouchDevice(ctx context.Context, id string, at time.Time) (wasOffline bool, openAsked time.Time, err error) {
	var off int
	var asked sql.NullInt64
	if err := tx.queryRow(ctx, `SELECT offline, open_requested_at FROM devices WHERE id = $1`, id).Scan(&off, &asked); err != nil {
		return false, time.Time{}, tx.s.classify(err)
	}
	_, err = tx.exec(ctx, `UPDATE devices SET last_seen_at = $1, offline = 0, open_requested_at = NULL WHERE id = $2`, ms(at), id)
	if asked.Valid && at.Sub(time.UnixMilli(asked.Int64)) <= OpenRequestTTL {
		openAsked = time.UnixMilli(asked.Int64).UTC()
	}
	return off != 0, openAsked, err
}

// OpenRequestTTL is how long a remote open waits for the device's next
// heartbeat before it lapses.
const OpenRequestTTL = time.Minute

// CloseOfflineAlarms handles the device-offline alarms of a device that is
// heard from again; nobody needs to act on them any more.
func (tx *Tx) CloseOfflineAlarms(ctx context.Context, deviceID string) error {
	_, err := tx.exec(ctx, `UPDATE alarms SET status = 'handled', handled_at = $1
		WHERE device_id = $2 AND kind = 'device_offline' AND status <> 'handled'`, ms(tx.Now()), deviceID)
	return err
}

// RequestOpen marks a remote open, asked for at, for a device's next
// heartbeat.
func (tx *Tx) RequestOpen(ctx context.Context, deviceID string, at time.Time) error {
	_, err := tx.exec(ctx, `UPDATE devices SET open_requested_at = $1 WHERE id = $2`, ms(at), deviceID)
	return err
}

// SilentDevices marks devices not heard from since t as offline and returns
// the ones that just went offline, with their gates.
func (tx *Tx) SilentDevices(ctx context.Context, since time.Time) ([]Device, error) {
	rows, err := tx.tx.QueryContext(ctx, `SELECT `+deviceCols+` FROM devices d WHERE d.offline = 0 AND d.last_seen_at IS NOT NULL AND d.last_seen_at < $1`, ms(since))
	if err != nil {
		return nil, tx.s.classify(err)
	}
	var out []Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, d)
	}
	rows.Close()
	// Only the devices this transaction turned offline: another instance
	// checking at the same moment waits for the row and then finds it
	// offline already, so each silence raises one alarm.
	mine := out[:0]
	for _, d := range out {
		r, err := tx.exec(ctx, `UPDATE devices SET offline = 1 WHERE id = $1 AND offline = 0`, d.ID)
		if err != nil {
			return nil, err
		}
		if n, _ := r.RowsAffected(); n == 1 {
			mine = append(mine, d)
		}
	}
	return mine, nil
}

// nextSeq bumps the credential sync counter.
func (tx *Tx) nextSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := tx.queryRow(ctx, `UPDATE sync_head SET seq = seq + 1 WHERE id = 1 RETURNING seq`).Scan(&seq)
	return seq, tx.s.classify(err)
}

// Credential is a card, plate or face of a person.
type Credential struct {
	ID, PersonID, Kind string
	ValueBidx          string
	ValueEnc           []byte
	ValueMask          string
	Model              string
	PhotoEnc           []byte
	ConsentID          string
	ValidUntil         time.Time
	RevokedAt          time.Time
	Seq                int64
	CreatedAt          time.Time
	CommunityID        string // filled by sync queries
}

// CreateCredential stores a credential and bumps the sync cursor.
func (tx *Tx) CreateCredential(ctx context.Context, c *Credential, actorID string) error {
	c.ID = orNew(c.ID)
	seq, err := tx.nextSeq(ctx)
	if err != nil {
		return err
	}
	c.Seq = seq
	_, err = tx.exec(ctx, `INSERT INTO credentials (id, person_id, kind, value_bidx, value_enc, value_mask, model, photo_enc, consent_id, valid_until, seq, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, c.ID, c.PersonID, c.Kind, nullStr(c.ValueBidx), c.ValueEnc, c.ValueMask,
		c.Model, c.PhotoEnc, nullStr(c.ConsentID), ms(c.ValidUntil), seq, ms(tx.Now()), nullStr(actorID))
	return err
}

// RevokeCredential withdraws a credential (a tombstone for device sync).
// A face goes with its consent, and its descriptor and photo are erased.
func (tx *Tx) RevokeCredential(ctx context.Context, id string) error {
	seq, err := tx.nextSeq(ctx)
	if err != nil {
		return err
	}
	now := ms(tx.Now())
	if _, err = tx.exec(ctx, `UPDATE face_consents SET withdrawn_at = $1
		WHERE id = (SELECT consent_id FROM credentials WHERE id = $2 AND revoked_at IS NULL) AND withdrawn_at IS NULL`, now, id); err != nil {
		return err
	}
	_, err = tx.exec(ctx, `UPDATE credentials SET revoked_at = $1, seq = $2,
		value_enc = CASE WHEN kind = 'face' THEN NULL ELSE value_enc END, photo_enc = NULL
		WHERE id = $3 AND revoked_at IS NULL`, now, seq, id)
	return err
}

const credCols = `c.id, c.person_id, c.kind, COALESCE(c.value_bidx, ''), c.value_enc, c.value_mask, c.model, COALESCE(c.consent_id, ''),
	c.valid_until, c.revoked_at, c.seq, c.created_at`

func scanCred(sc interface{ Scan(...any) error }, extra ...any) (Credential, error) {
	var c Credential
	var vu, rv sql.NullInt64
	var created int64
	err := sc.Scan(append([]any{&c.ID, &c.PersonID, &c.Kind, &c.ValueBidx, &c.ValueEnc, &c.ValueMask, &c.Model, &c.ConsentID, &vu, &rv, &c.Seq, &created}, extra...)...)
	c.ValidUntil, c.RevokedAt, c.CreatedAt = fromMS(vu), fromMS(rv), time.UnixMilli(created).UTC()
	return c, err
}

// CredentialByValue finds a live card or plate by its blind index.
func (s *Store) CredentialByValue(ctx context.Context, kind, bidx string) (Credential, error) {
	c, err := scanCred(s.queryRow(ctx, `SELECT `+credCols+` FROM credentials c WHERE c.kind = $1 AND c.value_bidx = $2 AND c.revoked_at IS NULL
		AND (c.valid_until IS NULL OR c.valid_until > $3) ORDER BY c.created_at DESC LIMIT 1`, kind, bidx, ms(s.now())))
	return c, s.classify(err)
}

// PersonCredentials lists a person's credentials.
func (s *Store) PersonCredentials(ctx context.Context, personID string) ([]Credential, error) {
	return s.credList(ctx, `SELECT `+credCols+`, '' FROM credentials c WHERE c.person_id = $1 ORDER BY c.created_at DESC`, personID)
}

func (s *Store) credList(ctx context.Context, q string, args ...any) ([]Credential, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Credential
	for rows.Next() {
		var comm string
		c, err := scanCred(rows, &comm)
		if err != nil {
			return nil, err
		}
		c.CommunityID = comm
		out = append(out, c)
	}
	return out, rows.Err()
}

// FaceCredentials lists every live face with the community where its
// person lives, for loading the matching index.
func (s *Store) FaceCredentials(ctx context.Context) ([]Credential, error) {
	return s.credList(ctx, `SELECT `+credCols+`, COALESCE((SELECT r.community_id FROM household_members m JOIN households h ON h.id = m.household_id
		JOIN places r ON r.id = h.room_id WHERE m.person_id = c.person_id AND h.ended_at IS NULL ORDER BY m.since DESC LIMIT 1), '')
		FROM credentials c WHERE c.kind = 'face' AND c.revoked_at IS NULL`)
}

// FaceCredential loads one live face credential as FaceCredentials lists
// it (with its holder's community); ok is false when it is revoked, gone
// or not a face.
func (s *Store) FaceCredential(ctx context.Context, id string) (c Credential, ok bool, err error) {
	cs, err := s.credList(ctx, `SELECT `+credCols+`, COALESCE((SELECT r.community_id FROM household_members m JOIN households h ON h.id = m.household_id
		JOIN places r ON r.id = h.room_id WHERE m.person_id = c.person_id AND h.ended_at IS NULL ORDER BY m.since DESC LIMIT 1), '')
		FROM credentials c WHERE c.id = $1 AND c.kind = 'face' AND c.revoked_at IS NULL`, id)
	if err != nil || len(cs) == 0 {
		return Credential{}, false, err
	}
	return cs[0], true, nil
}

// CredentialChange is a credential after a sync cursor with its holder's
// current or coming access to the community the device belongs to.
type CredentialChange struct {
	Credential
	// ResFrom and ResUntil span the holder's current and coming household
	// memberships there ("" when none; ResFrom "0000-00-00" and ResUntil
	// "9999-12-31" when open), as dates in China Standard Time.
	ResFrom, ResUntil string
	// ListFrom and ListUntil span their list entries there that have not
	// ended (zero when none).
	ListFrom, ListUntil time.Time
}

// CredentialChanges pages the changes after a sync cursor to credentials
// of people who live or lived in a community, or are or were on its lists,
// oldest first. A page holds about limit changes and never splits one
// change (credentials resynced together share a seq); more says whether
// another page follows.
func (s *Store) CredentialChanges(ctx context.Context, communityID string, after int64, limit int) (out []CredentialChange, more bool, err error) {
	const linked = `c.person_id IN (SELECT m.person_id FROM household_members m JOIN households h ON h.id = m.household_id
			JOIN places r ON r.id = h.room_id WHERE r.community_id = $2)
		OR c.person_id IN (SELECT person_id FROM access_lists WHERE community_id = $2)`
	cutoff := int64(math.MaxInt64)
	err = s.queryRow(ctx, `SELECT c.seq FROM credentials c WHERE c.seq > $1 AND (`+linked+`) ORDER BY c.seq LIMIT 1 OFFSET $3`,
		after, communityID, limit-1).Scan(&cutoff)
	if err != nil && err != sql.ErrNoRows {
		return nil, false, s.classify(err)
	}
	const members = `FROM household_members m JOIN households h ON h.id = m.household_id JOIN places r ON r.id = h.room_id
		WHERE m.person_id = c.person_id AND r.community_id = $2 AND h.ended_at IS NULL AND (m.until IS NULL OR m.until >= $4)`
	const lists = `FROM access_lists a WHERE a.person_id = c.person_id AND a.community_id = $2 AND a.valid_until > $5`
	rows, err := s.query(ctx, `SELECT `+credCols+`,
		(SELECT MIN(COALESCE(m.since, '0000-00-00')) `+members+`), (SELECT MAX(COALESCE(m.until, '9999-12-31')) `+members+`),
		(SELECT MIN(a.valid_from) `+lists+`), (SELECT MAX(a.valid_until) `+lists+`)
		FROM credentials c WHERE c.seq > $1 AND c.seq <= $3 AND (`+linked+`) ORDER BY c.seq, c.id`,
		after, communityID, cutoff, s.Today(), ms(s.now()))
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var ch CredentialChange
		var rf, ru sql.NullString
		var lf, lu sql.NullInt64
		if ch.Credential, err = scanCred(rows, &rf, &ru, &lf, &lu); err != nil {
			return nil, false, err
		}
		ch.CommunityID, ch.ResFrom, ch.ResUntil, ch.ListFrom, ch.ListUntil = communityID, rf.String, ru.String, fromMS(lf), fromMS(lu)
		out = append(out, ch)
	}
	if err := rows.Err(); err != nil || cutoff == math.MaxInt64 {
		return out, false, err
	}
	err = s.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM credentials c WHERE c.seq > $1 AND (`+linked+`))`, cutoff, communityID).Scan(&more)
	return out, more, s.classify(err)
}

// resync marks people whose right to pass changed (moving in or out, a
// contract ending, a list entry, a merge): when the transaction commits,
// their live credentials get one new sync position together, and devices
// fetch them again with their new access.
func (tx *Tx) resync(personIDs ...string) {
	if tx.resyncIDs == nil {
		tx.resyncIDs = map[string]bool{}
	}
	for _, id := range personIDs {
		tx.resyncIDs[id] = true
	}
}

// touchHousehold marks a household whose members changed: when the
// transaction commits, its room's updated_at moves on, which is the
// version a grid worker's phone compares against (see the visits).
func (tx *Tx) touchHousehold(id string) {
	if tx.touched == nil {
		tx.touched = map[string]bool{}
	}
	tx.touched[id] = true
}

// beforeCommit runs what the transaction collected, just before its commit.
func (tx *Tx) beforeCommit(ctx context.Context) error {
	if err := tx.flushRollups(ctx); err != nil {
		return err
	}
	if err := inChunks(tx.touched, func(ph string, ids []any) error {
		// Always forward, also when the clock has not moved (or went back).
		_, err := tx.exec(ctx, `UPDATE places SET updated_at = CASE WHEN updated_at < $1 THEN $1 ELSE updated_at + 1 END
			WHERE id IN (SELECT room_id FROM households WHERE id IN (`+ph+`))`,
			append([]any{ms(tx.Now())}, ids...)...)
		return err
	}); err != nil {
		return err
	}
	if err := tx.flushResync(ctx); err != nil {
		return err
	}
	return tx.flushHooks(ctx) // last: it locks webhook subscriptions until commit
}

// inChunks calls fn with the set's members 500 at a time, and their
// placeholders numbered from $2.
func inChunks(set map[string]bool, fn func(placeholders string, ids []any) error) error {
	ids := make([]any, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		ph := make([]string, len(chunk))
		for i := range chunk {
			ph[i] = "$" + itoa(i+2)
		}
		if err := fn(strings.Join(ph, ","), chunk); err != nil {
			return err
		}
	}
	return nil
}

// flushResync runs the resyncs marked in the transaction.
func (tx *Tx) flushResync(ctx context.Context) error {
	if len(tx.resyncIDs) == 0 {
		return nil
	}
	seq, err := tx.nextSeq(ctx)
	if err != nil {
		return err
	}
	return inChunks(tx.resyncIDs, func(ph string, ids []any) error {
		_, err := tx.exec(ctx, `UPDATE credentials SET seq = $1 WHERE revoked_at IS NULL AND person_id IN (`+ph+`)`, append([]any{seq}, ids...)...)
		return err
	})
}

// CreateConsent records a face-enrolment consent.
func (tx *Tx) CreateConsent(ctx context.Context, personID, givenBy, guardian, actorID string) (string, error) {
	id := orNew("")
	_, err := tx.exec(ctx, `INSERT INTO face_consents (id, person_id, given_by, guardian, recorded_by, at) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, personID, givenBy, guardian, nullStr(actorID), ms(tx.Now()))
	return id, err
}

// Residence says how a person may live in a community now: "resident"
// (a family household) or "tenant" (a rental household), or "".
func (s *Store) Residence(ctx context.Context, personID, communityID string) (string, error) {
	var kind string
	err := s.queryRow(ctx, `SELECT COALESCE(`+householdKindSQL("$1", "$2", "$3")+`, '')`, personID, communityID, s.Today()).Scan(&kind)
	if err != nil {
		return "", s.classify(err)
	}
	return residenceOf(kind), nil
}

// householdKindSQL is a subquery for the kind of household (family first)
// a person lives in now in a community, NULL when none.
func householdKindSQL(person, community, today string) string {
	return `(SELECT h.kind FROM household_members m JOIN households h ON h.id = m.household_id
		JOIN places r ON r.id = h.room_id WHERE m.person_id = ` + person + ` AND r.community_id = ` + community + ` AND h.ended_at IS NULL
		AND (m.until IS NULL OR m.until >= ` + today + `) AND (m.since IS NULL OR m.since <= ` + today + `)
		ORDER BY CASE h.kind WHEN 'family' THEN 0 ELSE 1 END LIMIT 1)`
}

func residenceOf(householdKind string) string {
	switch householdKind {
	case "":
		return ""
	case "rental":
		return "tenant"
	}
	return "resident"
}

// GateHolder is who holds a card or plate and how they live in the
// community of the gate where it is shown.
type GateHolder struct {
	PersonID, Name, BirthDate string
	Residence                 string // as Residence
}

// GateHolderByCredential finds the holder of a live card or plate and
// their residence in one query: the hot path of a gate decision.
func (s *Store) GateHolderByCredential(ctx context.Context, kind, bidx, communityID string) (GateHolder, error) {
	var h GateHolder
	err := s.queryRow(ctx, `SELECT p.id, p.name, COALESCE(p.birth_date, ''), COALESCE(`+householdKindSQL("p.id", "$3", "$4")+`, '')
		FROM credentials c JOIN persons p ON p.id = c.person_id
		WHERE c.kind = $1 AND c.value_bidx = $2 AND c.revoked_at IS NULL AND (c.valid_until IS NULL OR c.valid_until > $5)
		ORDER BY c.created_at DESC LIMIT 1`, kind, bidx, communityID, s.Today(), ms(s.now())).Scan(&h.PersonID, &h.Name, &h.BirthDate, &h.Residence)
	h.Residence = residenceOf(h.Residence)
	return h, s.classify(err)
}

// ListEntry is a time-boxed right to pass a community's gates.
type ListEntry struct {
	ID, CommunityID, PersonID, Kind, Note string
	ValidFrom, ValidUntil                 time.Time
}

// CreateListEntry adds a time-boxed entry.
func (tx *Tx) CreateListEntry(ctx context.Context, e *ListEntry, actorID string) error {
	e.ID = orNew(e.ID)
	_, err := tx.exec(ctx, `INSERT INTO access_lists (id, community_id, person_id, kind, valid_from, valid_until, note, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, e.ID, e.CommunityID, e.PersonID, e.Kind, ms(e.ValidFrom), ms(e.ValidUntil), e.Note,
		nullStr(actorID), ms(tx.Now()))
	tx.resync(e.PersonID)
	return err
}

// ActiveListEntry finds a person's entry valid now in a community.
func (s *Store) ActiveListEntry(ctx context.Context, personID, communityID string) (ListEntry, bool, error) {
	var e ListEntry
	var from, until int64
	now := ms(s.now())
	err := s.queryRow(ctx, `SELECT id, community_id, person_id, kind, note, valid_from, valid_until FROM access_lists
		WHERE person_id = $1 AND community_id = $2 AND valid_from <= $3 AND valid_until > $3 LIMIT 1`, personID, communityID, now).
		Scan(&e.ID, &e.CommunityID, &e.PersonID, &e.Kind, &e.Note, &from, &until)
	if err == sql.ErrNoRows {
		return e, false, nil
	}
	e.ValidFrom, e.ValidUntil = time.UnixMilli(from).UTC(), time.UnixMilli(until).UTC()
	return e, err == nil, s.classify(err)
}

// ListEntries lists the time-boxed entries of communities that end after t.
func (s *Store) ListEntries(ctx context.Context, communityIDs []string, after time.Time) ([]ListEntry, map[string]string, error) {
	if len(communityIDs) == 0 {
		return nil, nil, nil
	}
	args := []any{ms(after)}
	var ph []string
	for _, id := range communityIDs {
		args = append(args, id)
		ph = append(ph, "$"+itoa(len(args)))
	}
	rows, err := s.query(ctx, `SELECT a.id, a.community_id, a.person_id, a.kind, a.note, a.valid_from, a.valid_until, p.name FROM access_lists a
		JOIN persons p ON p.id = a.person_id WHERE a.valid_until > $1 AND a.community_id IN (`+strings.Join(ph, ",")+`) ORDER BY a.valid_until`, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []ListEntry
	names := map[string]string{}
	for rows.Next() {
		var e ListEntry
		var from, until int64
		var name string
		if err := rows.Scan(&e.ID, &e.CommunityID, &e.PersonID, &e.Kind, &e.Note, &from, &until, &name); err != nil {
			return nil, nil, err
		}
		e.ValidFrom, e.ValidUntil = time.UnixMilli(from).UTC(), time.UnixMilli(until).UTC()
		names[e.ID] = name
		out = append(out, e)
	}
	return out, names, rows.Err()
}
