package store

import (
	"context"
	"database/sql"
	"time"

	"shequ/internal/ids"
)

// Contract is a rental contract: a landlord lets a room to tenants from a
// start date to an end date. The tenants' household membership ends on the
// end date, so residency (and gate access) ends by itself.
type Contract struct {
	ID          string
	RoomID      string
	LandlordID  string
	HouseholdID string
	StartDate   string
	EndDate     string
	Rent        int    // yuan a month, 0 if not given
	Form        string // the information-collection form, as JSON
	ScanEnc     []byte
	ScanName    string
	ScanType    string
	EndedOn     string
	CreatedAt   time.Time
	// Filled by queries:
	Address      string
	LandlordName string
	TenantNames  string
}

// CreateContract stores a contract and its tenants.
func (tx *Tx) CreateContract(ctx context.Context, c *Contract, tenants []string, actorID string) error {
	if c.ID == "" {
		c.ID = ids.New()
	}
	if c.Form == "" {
		c.Form = "{}"
	}
	now := ms(tx.Now())
	var rent any
	if c.Rent > 0 {
		rent = c.Rent
	}
	if _, err := tx.exec(ctx, `INSERT INTO contracts (id, room_id, landlord_id, household_id, start_date, end_date, rent, form, scan_enc, scan_name, scan_type, created_at, created_by, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		c.ID, c.RoomID, nullStr(c.LandlordID), nullStr(c.HouseholdID), c.StartDate, c.EndDate, rent, c.Form, c.ScanEnc, c.ScanName, c.ScanType,
		now, nullStr(actorID), now); err != nil {
		return err
	}
	for _, t := range tenants {
		if _, err := tx.exec(ctx, `INSERT INTO contract_tenants (contract_id, person_id) VALUES ($1, $2)`, c.ID, t); err != nil {
			return err
		}
	}
	return nil
}

const contractCols = `c.id, c.room_id, COALESCE(c.landlord_id, ''), COALESCE(c.household_id, ''), c.start_date, c.end_date, COALESCE(c.rent, 0),
	c.form, c.scan_name, c.scan_type, COALESCE(c.ended_on, ''), c.created_at, r.address, COALESCE(l.name, ''),
	COALESCE((SELECT string_agg(t.name, '、') FROM contract_tenants ct JOIN persons t ON t.id = ct.person_id WHERE ct.contract_id = c.id), '')`

func (s *Store) contractCols() string {
	if s.Dialect == SQLite {
		return replaceStringAgg(contractCols)
	}
	return contractCols
}

// replaceStringAgg swaps PostgreSQL's string_agg for SQLite's group_concat
// (same meaning: join the values with a separator).
func replaceStringAgg(q string) string {
	out := []byte{}
	for i := 0; i < len(q); i++ {
		if i+11 <= len(q) && q[i:i+11] == "string_agg(" {
			out = append(out, "group_concat("...)
			i += 10
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}

func scanContract(sc interface{ Scan(...any) error }) (Contract, error) {
	var c Contract
	var created int64
	err := sc.Scan(&c.ID, &c.RoomID, &c.LandlordID, &c.HouseholdID, &c.StartDate, &c.EndDate, &c.Rent, &c.Form, &c.ScanName, &c.ScanType,
		&c.EndedOn, &created, &c.Address, &c.LandlordName, &c.TenantNames)
	c.CreatedAt = time.UnixMilli(created).UTC()
	return c, err
}

func (s *Store) contractList(ctx context.Context, where string, args ...any) ([]Contract, error) {
	rows, err := s.query(ctx, `SELECT `+s.contractCols()+` FROM contracts c JOIN places r ON r.id = c.room_id
		LEFT JOIN persons l ON l.id = c.landlord_id `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Contract
	for rows.Next() {
		c, err := scanContract(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Contract loads one contract with the org path of its room.
func (s *Store) Contract(ctx context.Context, id string) (Contract, string, error) {
	cs, err := s.contractList(ctx, `WHERE c.id = $1`, id)
	if err != nil {
		return Contract{}, "", err
	}
	if len(cs) == 0 {
		return Contract{}, "", s.classify(sql.ErrNoRows)
	}
	_, path, err := s.Place(ctx, cs[0].RoomID)
	return cs[0], path, err
}

// ContractScan returns a contract's encrypted scan.
func (s *Store) ContractScan(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := s.queryRow(ctx, `SELECT scan_enc FROM contracts WHERE id = $1`, id).Scan(&b)
	return b, s.classify(err)
}

// RoomContracts lists a room's contracts, newest first.
func (s *Store) RoomContracts(ctx context.Context, roomID string) ([]Contract, error) {
	return s.contractList(ctx, `WHERE c.room_id = $1 ORDER BY c.start_date DESC`, roomID)
}

// PersonContracts lists contracts where a person is landlord or tenant.
func (s *Store) PersonContracts(ctx context.Context, personID string) ([]Contract, error) {
	return s.contractList(ctx, `WHERE c.landlord_id = $1 OR c.id IN (SELECT contract_id FROM contract_tenants WHERE person_id = $1)
		ORDER BY c.start_date DESC`, personID)
}

// ExpiringContracts lists contracts inside the scopes still running that
// end between from and to (inclusive dates).
func (s *Store) ExpiringContracts(ctx context.Context, scopes []string, from, to string) ([]Contract, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	args := []any{from, to}
	cond := ""
	for i, sc := range scopes {
		if i > 0 {
			cond += " OR "
		}
		args = append(args, likePrefix(sc))
		cond += "n.path LIKE $" + itoa(len(args))
	}
	return s.contractList(ctx, `JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id)
		WHERE c.ended_on IS NULL AND c.end_date >= $1 AND c.end_date <= $2 AND (`+cond+`) ORDER BY c.end_date, r.address`, args...)
}

// UnregisteredRooms lists, per landlord, let rooms inside the scopes where
// nobody currently lives on a running contract: occupants not registered.
func (s *Store) UnregisteredRooms(ctx context.Context, scopes []string) ([]Contract, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	today := s.Today()
	args := []any{today}
	cond := ""
	for i, sc := range scopes {
		if i > 0 {
			cond += " OR "
		}
		args = append(args, likePrefix(sc))
		cond += "n.path LIKE $" + itoa(len(args))
	}
	// A row per let room without a running contract; landlord from the
	// room's owners.
	rows, err := s.query(ctx, `SELECT r.id, r.address, COALESCE(o.name, ''), COALESCE(o.id, '') FROM places r
		JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id)
		LEFT JOIN room_owners ro ON ro.room_id = r.id AND ro.until IS NULL
		LEFT JOIN persons o ON o.id = ro.person_id
		WHERE r.kind = 'room' AND r.room_use IN ('rented', 'group_rental') AND (`+cond+`)
		AND NOT EXISTS (SELECT 1 FROM contracts c WHERE c.room_id = r.id AND c.ended_on IS NULL AND c.end_date >= $1 AND c.start_date <= $1)
		ORDER BY o.name, r.address LIMIT 500`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Contract
	for rows.Next() {
		var c Contract
		if err := rows.Scan(&c.RoomID, &c.Address, &c.LandlordName, &c.LandlordID); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// EndContract ends a contract early on a date: the tenants' membership of
// the contract's household ends the same day.
func (tx *Tx) EndContract(ctx context.Context, id, on string) error {
	if _, err := tx.exec(ctx, `UPDATE contracts SET ended_on = $1, end_date = CASE WHEN end_date > $1 THEN $1 ELSE end_date END, updated_at = $2 WHERE id = $3`,
		on, ms(tx.Now()), id); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `UPDATE household_members SET until = $1
		WHERE household_id = (SELECT household_id FROM contracts WHERE id = $2)
		AND person_id IN (SELECT person_id FROM contract_tenants WHERE contract_id = $2)
		AND (until IS NULL OR until > $1)`, on, id); err != nil {
		return err
	}
	var household sql.NullString
	if err := tx.queryRow(ctx, `SELECT household_id FROM contracts WHERE id = $1`, id).Scan(&household); err == nil && household.Valid {
		tx.touchHousehold(household.String)
	}
	rows, err := tx.tx.QueryContext(ctx, `SELECT person_id FROM contract_tenants WHERE contract_id = $1`, id)
	if err != nil {
		return tx.s.classify(err)
	}
	defer rows.Close()
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return err
		}
		tx.resync(p)
	}
	return rows.Err()
}
