package store

import (
	"cmp"
	"context"
	"time"

	"shequ/internal/ids"
)

// Place kinds.
const (
	PlaceCompound = "compound" // 小区
	PlaceVillage  = "village"  // 城中村
	PlaceBuilding = "building" // 楼栋
	PlaceHouse    = "house"    // 自建房 (urban village)
	PlaceUnit     = "unit"     // 单元
	PlaceRoom     = "room"     // 户室
)

// Place is a node of a community's standard addresses.
type Place struct {
	ID          string
	CommunityID string
	GridID      string
	ParentID    string
	Kind        string
	Name        string
	Address     string
	Floors      int
	Floor       int
	Seq         int
	RoomUse     string
	Survey      string
	LastVisitAt time.Time
}

// Person is one resident in the ledger. Identity numbers and phones are
// held only encrypted, with a blind index for lookup and a masked form for
// display.
type Person struct {
	ID               string
	Name             string
	IDType           string
	IDEnc            []byte
	IDBidx           string
	IDMask           string
	BirthDate        string
	Sex              int
	PhoneEnc         []byte
	PhoneBidx        string
	PhoneMask        string
	Ethnicity        string
	Residency        string // registered 户籍, permanent 常住, floating 流动
	RegisteredRegion string
	RegisteredAddr   string
	Workplace        string
	Tags             string // comma-separated care tags (ledger.Tags)
	Notes            string
	NameInitials     string // pinyin initials, for search
	MergedInto       string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Household lives in one room.
type Household struct {
	ID     string
	RoomID string
	HeadID string
	Kind   string
}

// Member links a person to a household with a GB/T 4761 relation code.
type Member struct {
	HouseholdID, PersonID, Relation, Since string
}

// CreatePlace inserts a place.
func (tx *Tx) CreatePlace(ctx context.Context, p *Place) error {
	if p.ID == "" {
		p.ID = ids.New()
	}
	if p.Survey == "" {
		p.Survey = "pending"
	}
	now := ms(tx.Now())
	_, err := tx.exec(ctx, `INSERT INTO places (id, community_id, grid_id, parent_id, kind, name, address, floors, floor, seq, room_use, survey, last_visit_at, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
		p.ID, p.CommunityID, nullStr(p.GridID), nullStr(p.ParentID), p.Kind, p.Name, p.Address, nullInt(p.Floors), nullInt(p.Floor),
		p.Seq, nullStr(p.RoomUse), p.Survey, ms(p.LastVisitAt), now, now)
	if p.Kind == PlaceRoom {
		tx.markNode(cmp.Or(p.GridID, p.CommunityID))
	}
	return err
}

// CreatePerson inserts a person.
func (tx *Tx) CreatePerson(ctx context.Context, p *Person) error {
	if p.ID == "" {
		p.ID = ids.New()
	}
	if p.IDType == "" {
		p.IDType = "resident_id"
	}
	now := ms(tx.Now())
	_, err := tx.exec(ctx, `INSERT INTO persons (id, name, id_type, id_enc, id_bidx, id_mask, birth_date, sex, phone_enc, phone_bidx, phone_mask,
		ethnicity, residency, registered_region, workplace, tags, notes, created_at, updated_at, name_initials, registered_address)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
		p.ID, p.Name, p.IDType, p.IDEnc, nullStr(p.IDBidx), p.IDMask, nullStr(p.BirthDate), p.Sex, p.PhoneEnc, nullStr(p.PhoneBidx), p.PhoneMask,
		p.Ethnicity, p.Residency, p.RegisteredRegion, p.Workplace, p.Tags, p.Notes, now, now, p.NameInitials, p.RegisteredAddr)
	return err
}

// CreateHousehold inserts a household.
func (tx *Tx) CreateHousehold(ctx context.Context, h *Household) error {
	if h.ID == "" {
		h.ID = ids.New()
	}
	if h.Kind == "" {
		h.Kind = "family"
	}
	now := ms(tx.Now())
	_, err := tx.exec(ctx, `INSERT INTO households (id, room_id, head_id, kind, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		h.ID, h.RoomID, nullStr(h.HeadID), h.Kind, now, now)
	tx.markRoom(h.RoomID)
	return err
}

// AddMember puts a person into a household.
func (tx *Tx) AddMember(ctx context.Context, m Member) error {
	_, err := tx.exec(ctx, `INSERT INTO household_members (household_id, person_id, relation, since) VALUES ($1, $2, $3, $4)`,
		m.HouseholdID, m.PersonID, m.Relation, nullStr(m.Since))
	tx.resync(m.PersonID)
	tx.touchHousehold(m.HouseholdID)
	return err
}

// Population counts the people living (in a current household) in rooms of
// communities at or below path, by residency, with households and rooms.
type Population struct {
	Registered, Permanent, Floating int
	Households, Rooms               int
}

// Today is the store clock's date in China (Asia/Shanghai, UTC+8), the
// date that "until" and "end_date" columns are compared with.
func (s *Store) Today() string { return s.now().In(chinaTime).Format("2006-01-02") }

var chinaTime = time.FixedZone("CST", 8*3600)

// CountPopulation sums the ledger below a node path.
func (s *Store) CountPopulation(ctx context.Context, path string) (Population, error) {
	var p Population
	rows, err := s.query(ctx, `SELECT pe.residency, count(DISTINCT pe.id)
		FROM household_members m
		JOIN households h ON h.id = m.household_id AND h.ended_at IS NULL
		JOIN persons pe ON pe.id = m.person_id AND pe.merged_into IS NULL
		JOIN places r ON r.id = h.room_id
		JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id)
		WHERE (m.until IS NULL OR m.until >= $2) AND n.path LIKE $1
		GROUP BY pe.residency`, likePrefix(path), s.Today())
	if err != nil {
		return p, err
	}
	defer rows.Close()
	for rows.Next() {
		var res string
		var n int
		if err := rows.Scan(&res, &n); err != nil {
			return p, err
		}
		switch res {
		case "registered":
			p.Registered = n
		case "permanent":
			p.Permanent = n
		case "floating":
			p.Floating = n
		}
	}
	if err := rows.Err(); err != nil {
		return p, err
	}
	err = s.queryRow(ctx, `SELECT count(DISTINCT h.id), count(DISTINCT r.id)
		FROM places r JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id)
		LEFT JOIN households h ON h.room_id = r.id AND h.ended_at IS NULL
		WHERE r.kind = 'room' AND n.path LIKE $1`, likePrefix(path)).Scan(&p.Households, &p.Rooms)
	return p, s.classify(err)
}

func nullInt(i int) any {
	if i == 0 {
		return nil
	}
	return i
}
