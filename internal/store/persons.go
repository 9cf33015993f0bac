package store

import (
	"context"
	"strings"
	"time"
)

const personCols = `pe.id, pe.name, pe.id_type, pe.id_enc, COALESCE(pe.id_bidx, ''), pe.id_mask, COALESCE(pe.birth_date, ''), pe.sex,
	pe.phone_enc, COALESCE(pe.phone_bidx, ''), pe.phone_mask, pe.ethnicity, pe.residency, pe.registered_region, pe.registered_address,
	pe.workplace, pe.tags, pe.notes, pe.name_initials, COALESCE(pe.merged_into, ''), pe.created_at, pe.updated_at`

func scanPerson(sc interface{ Scan(...any) error }, extra ...any) (Person, error) {
	var p Person
	var c, u int64
	dest := []any{&p.ID, &p.Name, &p.IDType, &p.IDEnc, &p.IDBidx, &p.IDMask, &p.BirthDate, &p.Sex, &p.PhoneEnc, &p.PhoneBidx,
		&p.PhoneMask, &p.Ethnicity, &p.Residency, &p.RegisteredRegion, &p.RegisteredAddr, &p.Workplace, &p.Tags, &p.Notes,
		&p.NameInitials, &p.MergedInto, &c, &u}
	err := sc.Scan(append(dest, extra...)...)
	p.CreatedAt, p.UpdatedAt = time.UnixMilli(c).UTC(), time.UnixMilli(u).UTC()
	return p, err
}

// Person loads a person.
func (s *Store) Person(ctx context.Context, id string) (Person, error) {
	p, err := scanPerson(s.queryRow(ctx, `SELECT `+personCols+` FROM persons pe WHERE pe.id = $1`, id))
	return p, s.classify(err)
}

// PersonPaths lists the org-node paths a person belongs to: the grids (or
// communities) of the rooms they live in now or own. Scope checks use it.
func (s *Store) PersonPaths(ctx context.Context, personID string) ([]string, error) {
	return s.column(ctx, `SELECT DISTINCT n.path FROM places r JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id)
		WHERE r.id IN (
			SELECT h.room_id FROM household_members m JOIN households h ON h.id = m.household_id
			WHERE m.person_id = $1 AND h.ended_at IS NULL AND (m.until IS NULL OR m.until >= $2)
			UNION SELECT o.room_id FROM room_owners o WHERE o.person_id = $1 AND (o.until IS NULL OR o.until >= $2)
			UNION SELECT c.room_id FROM contracts c WHERE c.landlord_id = $1 AND c.ended_on IS NULL)`, personID, s.Today())
}

// PersonFilter selects people for lists and search.
type PersonFilter struct {
	Scopes    []string // org paths the viewer may see (required: no scopes, no rows)
	Name      string   // part of the name
	Initials  string   // pinyin initials prefix
	IDBidx    string   // exact identity number
	PhoneBidx string   // exact phone
	Residency string
	Tag       string
	Has       string // one of PersonHas: monitoring, vaccinated, unvaccinated, tested7d, tenant
	Address   string // part of the room's address
	PlaceID   string // a building, house, unit or room
	Limit     int
	Offset    int
}

// PersonHas are the conditions a person list can be narrowed to (what
// the big screen's figures count).
var PersonHas = []string{"monitoring", "vaccinated", "unvaccinated", "tested7d", "tenant"}

// PersonHit is one row of a person list: the person and where they live.
type PersonHit struct {
	Person
	RoomID   string
	Address  string
	Relation string
	Path     string
}

// Persons lists people living (now) in rooms inside the filter's scopes.
func (s *Store) Persons(ctx context.Context, f PersonFilter) ([]PersonHit, int, error) {
	if len(f.Scopes) == 0 {
		return nil, 0, nil
	}
	args := []any{s.Today()}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + itoa(len(args))
	}
	var scope []string
	for _, sc := range f.Scopes {
		scope = append(scope, "n.path LIKE "+arg(likePrefix(sc)))
	}
	where := []string{"pe.merged_into IS NULL", "h.ended_at IS NULL", "(m.until IS NULL OR m.until >= $1)", "(" + strings.Join(scope, " OR ") + ")"}
	if f.Name != "" {
		where = append(where, "pe.name LIKE "+arg("%"+f.Name+"%"))
	}
	if f.Initials != "" {
		where = append(where, "pe.name_initials LIKE "+arg(f.Initials+"%"))
	}
	if f.IDBidx != "" {
		where = append(where, "pe.id_bidx = "+arg(f.IDBidx))
	}
	if f.PhoneBidx != "" {
		where = append(where, "pe.phone_bidx = "+arg(f.PhoneBidx))
	}
	if f.Residency != "" {
		where = append(where, "pe.residency = "+arg(f.Residency))
	}
	if f.Tag != "" {
		where = append(where, "(',' || pe.tags || ',') LIKE "+arg("%,"+f.Tag+",%"))
	}
	switch f.Has {
	case "monitoring":
		where = append(where, "EXISTS (SELECT 1 FROM monitoring mo WHERE mo.person_id = pe.id AND mo.lifted_on IS NULL AND mo.start_date <= $1 AND mo.end_date >= $1)")
	case "vaccinated":
		where = append(where, "EXISTS (SELECT 1 FROM vaccinations va WHERE va.person_id = pe.id)")
	case "unvaccinated":
		where = append(where, "NOT EXISTS (SELECT 1 FROM vaccinations va WHERE va.person_id = pe.id)")
	case "tested7d":
		where = append(where, "EXISTS (SELECT 1 FROM health_tests ht WHERE ht.person_id = pe.id AND ht.sampled_at >= "+arg(s.now().AddDate(0, 0, -7).UnixMilli())+")")
	case "tenant":
		where = append(where, "h.kind = 'rental'")
	}
	if f.Address != "" {
		where = append(where, "r.address LIKE "+arg("%"+f.Address+"%"))
	}
	if f.PlaceID != "" {
		a := arg(f.PlaceID)
		where = append(where, "(r.id = "+a+" OR r.parent_id = "+a+" OR r.parent_id IN (SELECT id FROM places WHERE parent_id = "+a+"))")
	}
	from := ` FROM persons pe JOIN household_members m ON m.person_id = pe.id JOIN households h ON h.id = m.household_id
		JOIN places r ON r.id = h.room_id JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id)
		WHERE ` + strings.Join(where, " AND ")
	var total int
	if err := s.queryRow(ctx, `SELECT count(*)`+from, args...).Scan(&total); err != nil {
		return nil, 0, s.classify(err)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	lim, off := arg(f.Limit), arg(f.Offset)
	rows, err := s.query(ctx, `SELECT `+personCols+`, r.id, r.address, m.relation, n.path`+from+
		` ORDER BY r.address, m.relation, pe.birth_date LIMIT `+lim+` OFFSET `+off, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []PersonHit
	for rows.Next() {
		var h PersonHit
		p, err := scanPerson(rows, &h.RoomID, &h.Address, &h.Relation, &h.Path)
		if err != nil {
			return nil, 0, err
		}
		h.Person = p
		out = append(out, h)
	}
	return out, total, rows.Err()
}

// PersonsByIDBidx finds people (in any scope) with this identity number.
func (s *Store) PersonsByIDBidx(ctx context.Context, bidx string) ([]Person, error) {
	return s.personList(ctx, `SELECT `+personCols+` FROM persons pe WHERE pe.id_bidx = $1 AND pe.merged_into IS NULL`, bidx)
}

func (s *Store) personList(ctx context.Context, q string, args ...any) ([]Person, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Person
	for rows.Next() {
		p, err := scanPerson(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// ExistingIDBidx returns which of the given blind indexes are already in
// the ledger (for import duplicate checks), in batches.
func (s *Store) ExistingIDBidx(ctx context.Context, bidx []string) (map[string]string, error) {
	out := map[string]string{}
	for len(bidx) > 0 {
		n := min(len(bidx), 500)
		batch := bidx[:n]
		bidx = bidx[n:]
		ph := make([]string, len(batch))
		args := make([]any, len(batch))
		for i, b := range batch {
			ph[i] = "$" + itoa(i+1)
			args[i] = b
		}
		rows, err := s.query(ctx, `SELECT id_bidx, id FROM persons WHERE merged_into IS NULL AND id_bidx IN (`+strings.Join(ph, ",")+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var b, id string
			if err := rows.Scan(&b, &id); err != nil {
				rows.Close()
				return nil, err
			}
			out[b] = id
		}
		rows.Close()
	}
	return out, nil
}

// Membership is one household a person belongs to.
type Membership struct {
	HouseholdID string
	Kind        string
	RoomID      string
	Address     string
	Relation    string
	Since       string
	Until       string
	Path        string
}

// Memberships lists a person's households, current ones first.
func (s *Store) Memberships(ctx context.Context, personID string) ([]Membership, error) {
	rows, err := s.query(ctx, `SELECT h.id, h.kind, r.id, r.address, m.relation, COALESCE(m.since, ''), COALESCE(m.until, ''), n.path
		FROM household_members m JOIN households h ON h.id = m.household_id JOIN places r ON r.id = h.room_id
		JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id)
		WHERE m.person_id = $1 ORDER BY (m.until IS NULL) DESC, m.until DESC`, personID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Membership
	for rows.Next() {
		var m Membership
		if err := rows.Scan(&m.HouseholdID, &m.Kind, &m.RoomID, &m.Address, &m.Relation, &m.Since, &m.Until, &m.Path); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// HouseholdMember is a person in a household list.
type HouseholdMember struct {
	Person
	Relation string
	Since    string
	Until    string
}

// RoomHouseholds lists the households of a room with their members.
func (s *Store) RoomHouseholds(ctx context.Context, roomID string) ([]Household, map[string][]HouseholdMember, error) {
	rows, err := s.query(ctx, `SELECT h.id, h.room_id, COALESCE(h.head_id, ''), h.kind FROM households h
		WHERE h.room_id = $1 AND h.ended_at IS NULL ORDER BY h.created_at`, roomID)
	if err != nil {
		return nil, nil, err
	}
	var hs []Household
	for rows.Next() {
		var h Household
		if err := rows.Scan(&h.ID, &h.RoomID, &h.HeadID, &h.Kind); err != nil {
			rows.Close()
			return nil, nil, err
		}
		hs = append(hs, h)
	}
	rows.Close()
	members := map[string][]HouseholdMember{}
	for _, h := range hs {
		mrows, err := s.query(ctx, `SELECT `+personCols+`, m.relation, COALESCE(m.since, ''), COALESCE(m.until, '')
			FROM household_members m JOIN persons pe ON pe.id = m.person_id
			WHERE m.household_id = $1 ORDER BY m.relation, pe.birth_date`, h.ID)
		if err != nil {
			return nil, nil, err
		}
		for mrows.Next() {
			var hm HouseholdMember
			p, err := scanPerson(mrows, &hm.Relation, &hm.Since, &hm.Until)
			if err != nil {
				mrows.Close()
				return nil, nil, err
			}
			hm.Person = p
			members[h.ID] = append(members[h.ID], hm)
		}
		mrows.Close()
	}
	return hs, members, nil
}

// Owners lists the owners of a room.
func (s *Store) Owners(ctx context.Context, roomID string) ([]Person, error) {
	return s.personList(ctx, `SELECT `+personCols+` FROM room_owners o JOIN persons pe ON pe.id = o.person_id
		WHERE o.room_id = $1 AND (o.until IS NULL OR o.until >= $2)`, roomID, s.Today())
}

// AddOwner records that a person owns a room.
func (tx *Tx) AddOwner(ctx context.Context, roomID, personID, since string) error {
	_, err := tx.exec(ctx, `INSERT INTO room_owners (room_id, person_id, since) VALUES ($1, $2, $3)
		ON CONFLICT (room_id, person_id) DO UPDATE SET until = NULL`, roomID, personID, nullStr(since))
	return err
}

// UpdatePerson writes a person's editable fields.
func (tx *Tx) UpdatePerson(ctx context.Context, p *Person) error {
	_, err := tx.exec(ctx, `UPDATE persons SET name = $1, id_type = $2, id_enc = $3, id_bidx = $4, id_mask = $5, birth_date = $6, sex = $7,
		phone_enc = $8, phone_bidx = $9, phone_mask = $10, ethnicity = $11, residency = $12, registered_region = $13, registered_address = $14,
		workplace = $15, tags = $16, notes = $17, name_initials = $18, updated_at = $19 WHERE id = $20`,
		p.Name, p.IDType, p.IDEnc, nullStr(p.IDBidx), p.IDMask, nullStr(p.BirthDate), p.Sex, p.PhoneEnc, nullStr(p.PhoneBidx), p.PhoneMask,
		p.Ethnicity, p.Residency, p.RegisteredRegion, p.RegisteredAddr, p.Workplace, p.Tags, p.Notes, p.NameInitials, ms(tx.Now()), p.ID)
	tx.markPerson(p.ID)
	return err
}

// PersonTx loads a person inside a transaction.
func (tx *Tx) Person(ctx context.Context, id string) (Person, error) {
	p, err := scanPerson(tx.queryRow(ctx, `SELECT `+personCols+` FROM persons pe WHERE pe.id = $1`, id))
	return p, tx.s.classify(err)
}

// EndMembership ends a person's membership of a household on a date.
func (tx *Tx) EndMembership(ctx context.Context, householdID, personID, until string) error {
	_, err := tx.exec(ctx, `UPDATE household_members SET until = $1 WHERE household_id = $2 AND person_id = $3`, until, householdID, personID)
	tx.resync(personID)
	tx.touchHousehold(householdID)
	return err
}

// PersonsByPhoneBidx finds people (in any scope) with this phone.
func (s *Store) PersonsByPhoneBidx(ctx context.Context, bidx string) ([]Person, error) {
	return s.personList(ctx, `SELECT `+personCols+` FROM persons pe WHERE pe.phone_bidx = $1 AND pe.merged_into IS NULL`, bidx)
}
