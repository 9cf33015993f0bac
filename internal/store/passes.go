package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// Visitor is someone let in for a window on a host's invitation or by the
// booth.
type Visitor struct {
	ID, CommunityID, HostRoomID, HostPersonID, PersonID string
	Name                                                string
	IDEnc                                               []byte
	IDBidx, IDMask                                      string
	PhoneEnc                                            []byte
	PhoneMask, Reason                                   string
	ValidFrom, ValidUntil                               time.Time
	RegisteredBy                                        string
	CreatedAt                                           time.Time
}

// CreateVisitor stores a visitor registration.
func (tx *Tx) CreateVisitor(ctx context.Context, v *Visitor, actorID string) error {
	v.ID = orNew(v.ID)
	_, err := tx.exec(ctx, `INSERT INTO visitors (id, community_id, host_room_id, host_person_id, person_id, name, id_enc, id_bidx, id_mask,
		phone_enc, phone_mask, reason, valid_from, valid_until, registered_by, created_by, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		v.ID, v.CommunityID, nullStr(v.HostRoomID), nullStr(v.HostPersonID), nullStr(v.PersonID), v.Name, v.IDEnc, nullStr(v.IDBidx), v.IDMask,
		v.PhoneEnc, v.PhoneMask, v.Reason, ms(v.ValidFrom), ms(v.ValidUntil), v.RegisteredBy, nullStr(actorID), ms(tx.Now()))
	return err
}

const visitorCols = `id, community_id, COALESCE(host_room_id, ''), COALESCE(host_person_id, ''), COALESCE(person_id, ''), name, id_enc,
	COALESCE(id_bidx, ''), id_mask, phone_enc, phone_mask, reason, valid_from, valid_until, registered_by, created_at`

func scanVisitor(sc interface{ Scan(...any) error }) (Visitor, error) {
	var v Visitor
	var from, until, created int64
	err := sc.Scan(&v.ID, &v.CommunityID, &v.HostRoomID, &v.HostPersonID, &v.PersonID, &v.Name, &v.IDEnc, &v.IDBidx, &v.IDMask,
		&v.PhoneEnc, &v.PhoneMask, &v.Reason, &from, &until, &v.RegisteredBy, &created)
	v.ValidFrom, v.ValidUntil, v.CreatedAt = time.UnixMilli(from).UTC(), time.UnixMilli(until).UTC(), time.UnixMilli(created).UTC()
	return v, err
}

// Visitor loads a visitor registration.
func (s *Store) Visitor(ctx context.Context, id string) (Visitor, error) {
	v, err := scanVisitor(s.queryRow(ctx, `SELECT `+visitorCols+` FROM visitors WHERE id = $1`, id))
	return v, s.classify(err)
}

// ActiveVisitorByID finds a visit valid now for an identity number.
func (s *Store) ActiveVisitorByID(ctx context.Context, communityID, bidx string) (Visitor, error) {
	now := ms(s.now())
	v, err := scanVisitor(s.queryRow(ctx, `SELECT `+visitorCols+` FROM visitors WHERE community_id = $1 AND id_bidx = $2
		AND valid_from <= $3 AND valid_until > $3 ORDER BY created_at DESC LIMIT 1`, communityID, bidx, now))
	return v, s.classify(err)
}

// Visitors lists a community's visits that end after t, newest first.
func (s *Store) Visitors(ctx context.Context, communityIDs []string, after time.Time, limit int) ([]Visitor, error) {
	if len(communityIDs) == 0 {
		return nil, nil
	}
	args := []any{ms(after), limit}
	var ph []string
	for _, id := range communityIDs {
		args = append(args, id)
		ph = append(ph, "$"+itoa(len(args)))
	}
	rows, err := s.query(ctx, `SELECT `+visitorCols+` FROM visitors WHERE valid_until > $1 AND community_id IN (`+strings.Join(ph, ",")+`)
		ORDER BY created_at DESC LIMIT $2`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Visitor
	for rows.Next() {
		v, err := scanVisitor(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// PolicyRow is one stored entry policy (the body is the engine's JSON).
type PolicyRow struct {
	ID, ScopeType, ScopeID, Name string
	Version                      int
	Body                         string
	ValidFrom, ValidTo           time.Time
	UpdatedAt                    time.Time
	UpdatedBy                    string
}

// SavePolicy creates a policy or stores a new version of it.
func (tx *Tx) SavePolicy(ctx context.Context, p *PolicyRow, actorID string) error {
	now := ms(tx.Now())
	if p.ID == "" {
		p.ID = orNew("")
		p.Version = 1
		if _, err := tx.exec(ctx, `INSERT INTO policies (id, scope_type, scope_id, name, version, body, valid_from, valid_to, updated_at, updated_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, p.ID, p.ScopeType, p.ScopeID, p.Name, p.Version, p.Body, ms(p.ValidFrom),
			ms(p.ValidTo), now, nullStr(actorID)); err != nil {
			return err
		}
	} else {
		if err := tx.queryRow(ctx, `UPDATE policies SET version = version + 1, name = $1, body = $2, valid_from = $3, valid_to = $4,
			updated_at = $5, updated_by = $6 WHERE id = $7 RETURNING version`, p.Name, p.Body, ms(p.ValidFrom), ms(p.ValidTo), now,
			nullStr(actorID), p.ID).Scan(&p.Version); err != nil {
			return tx.s.classify(err)
		}
	}
	_, err := tx.exec(ctx, `INSERT INTO policy_versions (policy_id, version, body, created_at, created_by) VALUES ($1, $2, $3, $4, $5)`,
		p.ID, p.Version, p.Body, now, nullStr(actorID))
	return err
}

// Policies lists every stored policy.
func (s *Store) Policies(ctx context.Context) ([]PolicyRow, error) {
	rows, err := s.query(ctx, `SELECT id, scope_type, scope_id, name, version, body, valid_from, valid_to, updated_at, COALESCE(updated_by, '')
		FROM policies ORDER BY scope_type, scope_id, valid_from`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PolicyRow
	for rows.Next() {
		var p PolicyRow
		var from, upd int64
		var to sql.NullInt64
		if err := rows.Scan(&p.ID, &p.ScopeType, &p.ScopeID, &p.Name, &p.Version, &p.Body, &from, &to, &upd, &p.UpdatedBy); err != nil {
			return nil, err
		}
		p.ValidFrom, p.ValidTo, p.UpdatedAt = time.UnixMilli(from).UTC(), fromMS(to), time.UnixMilli(upd).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// Decision is one recorded gate decision.
type Decision struct {
	ID, DeviceID, GateID, PersonID, Credential, Outcome, Reason, PolicyID string
	EventID, Direction                                                    string // the device's attempt ("" when it sent none; "in" or "out")
	PolicyVersion                                                         int
	Temperature                                                           float64
	At, DeviceTime                                                        time.Time
}

// InsertDecisions writes a batch of decisions; one the device asked for
// before under the same event id is stored once.
func (tx *Tx) InsertDecisions(ctx context.Context, ds []Decision) error {
	const q = `INSERT INTO decisions (id, device_id, gate_id, person_id, credential, outcome, reason, policy_id, policy_version,
			temperature, at, event_id, direction, device_time) VALUES `
	args := func(d *Decision) []any {
		var temp any
		if d.Temperature > 0 {
			temp = d.Temperature
		}
		dir := d.Direction
		if dir == "" {
			dir = "in"
		}
		return []any{d.ID, d.DeviceID, d.GateID, nullStr(d.PersonID), d.Credential, d.Outcome, d.Reason, d.PolicyID, d.PolicyVersion, temp, ms(d.At),
			nullStr(d.EventID), dir, ms(d.DeviceTime)}
	}
	// As InsertPasses: one statement per row on SQLite (prepared, in the
	// process), one per passRowsPerStatement rows on PostgreSQL.
	per := 1
	if tx.s.Dialect == Postgres {
		per = passRowsPerStatement
	}
	for start := 0; start < len(ds); start += per {
		chunk := ds[start:min(start+per, len(ds))]
		var vals []any
		for i := range chunk {
			vals = append(vals, args(&chunk[i])...)
		}
		if _, err := tx.exec(ctx, q+valuesList(len(chunk), 14)+" ON CONFLICT DO NOTHING", vals...); err != nil {
			return err
		}
	}
	return nil
}

// valuesList is the VALUES rows of a multi-row insert: "($1, …, $cols),
// ($cols+1, …)", rows of them.
func valuesList(rows, cols int) string {
	var b strings.Builder
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteString("$" + itoa(r*cols+c+1))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// PassRecord is one stored pass event.
type PassRecord struct {
	ID, DeviceID, GateID, EventID, PersonID, Credential, Outcome, Reason, Direction string
	Temperature                                                                     float64
	DeviceTime, ReceivedAt                                                          time.Time
	PolicyVersion                                                                   int
	SnapshotEnc                                                                     []byte
	GateName, PersonMask                                                            string // filled by queries
}

// InsertPass stores a pass event unless the device sent the same event id
// before; it reports whether the event is new. The conflict has no target:
// the only unique key a new row can hit is the device's event id, which on
// the monthly-partitioned PostgreSQL layout (scripts/postgres/
// partition-passes.sql) carries the device time as well.
func (tx *Tx) InsertPass(ctx context.Context, p *PassRecord) (bool, error) {
	r, err := tx.exec(ctx, `INSERT INTO pass_events (`+passColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT DO NOTHING`, passArgs(p)...)
	if err != nil {
		return false, err
	}
	n, _ := r.RowsAffected()
	if n == 1 {
		tx.countPass(p)
	}
	return n == 1, nil
}

const passColumns = `id, device_id, gate_id, event_id, person_id, credential, outcome, reason, temperature,
		direction, device_time, received_at, policy_version, snapshot_enc`

// passArgs gives p an id if it has none and returns its values in the
// order of passColumns.
func passArgs(p *PassRecord) []any {
	p.ID = orNew(p.ID)
	var temp, pv any
	if p.Temperature > 0 {
		temp = p.Temperature
	}
	if p.PolicyVersion > 0 {
		pv = p.PolicyVersion
	}
	return []any{p.ID, p.DeviceID, p.GateID, p.EventID, nullStr(p.PersonID), p.Credential, p.Outcome,
		p.Reason, temp, p.Direction, ms(p.DeviceTime), ms(p.ReceivedAt), pv, p.SnapshotEnc}
}

// passRowsPerStatement bounds a multi-row insert of pass events (14
// parameters a row, well under both engines' parameter limits).
const passRowsPerStatement = 200

// InsertPasses stores pass records as InsertPass does and reports which
// were new. An event that is already stored, or that comes twice in ps, is
// new once. On PostgreSQL it sends a statement for up to
// passRowsPerStatement records: one round trip, not one a record. SQLite
// runs in the process, and there the prepared one-row insert is ten times
// faster than parsing and binding one statement of hundreds of rows.
func (tx *Tx) InsertPasses(ctx context.Context, ps []PassRecord) ([]bool, error) {
	isNew := make([]bool, len(ps))
	if tx.s.Dialect == SQLite {
		for i := range ps {
			ok, err := tx.InsertPass(ctx, &ps[i])
			if err != nil {
				return nil, err
			}
			isNew[i] = ok
		}
		return isNew, nil
	}
	for start := 0; start < len(ps); start += passRowsPerStatement {
		chunk := ps[start:min(start+passRowsPerStatement, len(ps))]
		args := make([]any, 0, 14*len(chunk))
		at := map[string]int{}
		for i := range chunk {
			args = append(args, passArgs(&chunk[i])...)
			at[chunk[i].ID] = start + i
		}
		rows, err := tx.query(ctx, `INSERT INTO pass_events (`+passColumns+`) VALUES `+valuesList(len(chunk), 14)+
			` ON CONFLICT DO NOTHING RETURNING id`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, tx.s.classify(err)
			}
			isNew[at[id]] = true
		}
		err = rows.Err()
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, tx.s.classify(err)
		}
	}
	for i := range ps {
		if isNew[i] {
			tx.countPass(&ps[i])
		}
	}
	return isNew, nil
}

// PassFilter selects pass records.
type PassFilter struct {
	GateIDs  []string
	PersonID string
	From, To time.Time
	Limit    int
}

// Passes lists pass records newest first.
func (s *Store) Passes(ctx context.Context, f PassFilter) ([]PassRecord, error) {
	if len(f.GateIDs) == 0 {
		return nil, nil
	}
	var args []any
	var ph []string
	for _, g := range f.GateIDs {
		args = append(args, g)
		ph = append(ph, "$"+itoa(len(args)))
	}
	where := "p.gate_id IN (" + strings.Join(ph, ",") + ")"
	add := func(cond string, v any) {
		args = append(args, v)
		where += " AND " + replaceArg(cond, len(args))
	}
	if f.PersonID != "" {
		add("p.person_id = $?", f.PersonID)
	}
	if !f.From.IsZero() {
		add("p.received_at >= $?", ms(f.From))
	}
	if !f.To.IsZero() {
		add("p.received_at < $?", ms(f.To))
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	args = append(args, f.Limit)
	rows, err := s.query(ctx, `SELECT p.id, p.device_id, p.gate_id, p.event_id, COALESCE(p.person_id, ''), p.credential, p.outcome, p.reason,
		COALESCE(p.temperature, 0), p.direction, p.device_time, p.received_at, COALESCE(p.policy_version, 0), g.name, COALESCE(pe.name, '')
		FROM pass_events p JOIN gates g ON g.id = p.gate_id LEFT JOIN persons pe ON pe.id = p.person_id
		WHERE `+where+` ORDER BY p.received_at DESC LIMIT $`+itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PassRecord
	for rows.Next() {
		var p PassRecord
		var dt, rt int64
		if err := rows.Scan(&p.ID, &p.DeviceID, &p.GateID, &p.EventID, &p.PersonID, &p.Credential, &p.Outcome, &p.Reason, &p.Temperature,
			&p.Direction, &dt, &rt, &p.PolicyVersion, &p.GateName, &p.PersonMask); err != nil {
			return nil, err
		}
		p.DeviceTime, p.ReceivedAt = time.UnixMilli(dt).UTC(), time.UnixMilli(rt).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// HourCount is passes of one gate in one hour.
type HourCount struct {
	GateID string
	Hour   time.Time
	In     int
	Denied int
}

// PassesByHour counts passes per gate and hour between from and to.
func (s *Store) PassesByHour(ctx context.Context, gateIDs []string, from, to time.Time) ([]HourCount, error) {
	if len(gateIDs) == 0 {
		return nil, nil
	}
	args := []any{ms(from), ms(to)}
	var ph []string
	for _, g := range gateIDs {
		args = append(args, g)
		ph = append(ph, "$"+itoa(len(args)))
	}
	rows, err := s.query(ctx, `SELECT gate_id, received_at / 3600000, sum(CASE WHEN outcome = 'allow' THEN 1 ELSE 0 END),
		sum(CASE WHEN outcome <> 'allow' THEN 1 ELSE 0 END) FROM pass_events
		WHERE received_at >= $1 AND received_at < $2 AND gate_id IN (`+strings.Join(ph, ",")+`) GROUP BY 1, 2 ORDER BY 2, 1`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HourCount
	for rows.Next() {
		var h HourCount
		var hour int64
		if err := rows.Scan(&h.GateID, &hour, &h.In, &h.Denied); err != nil {
			return nil, err
		}
		h.Hour = time.UnixMilli(hour * 3600000).UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}

// PurgePasses deletes pass events and decisions received before t (the
// retention period), in batches; it returns how many went.
func (s *Store) PurgePasses(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for _, q := range []string{
		`DELETE FROM pass_events WHERE id IN (SELECT id FROM pass_events WHERE received_at < $1 LIMIT 5000)`,
		`DELETE FROM decisions WHERE id IN (SELECT id FROM decisions WHERE at < $1 LIMIT 5000)`,
	} {
		for {
			var n int64
			err := s.Write(ctx, func(tx *Tx) error {
				r, err := tx.exec(ctx, q, ms(before))
				if err != nil {
					return err
				}
				n, _ = r.RowsAffected()
				return nil
			})
			if err != nil {
				return total, err
			}
			total += n
			if n < 5000 {
				break
			}
		}
	}
	return total, nil
}

// Alarm is something the duty staff must see now.
type Alarm struct {
	ID, GateID, DeviceID, Kind, PersonID, Detail, Status string
	At                                                   time.Time
	AckBy, Note, HandledBy                               string
	AckAt, HandledAt                                     time.Time
	GateName, PersonMask                                 string
}

// CreateAlarm raises an alarm.
func (tx *Tx) CreateAlarm(ctx context.Context, a *Alarm) error {
	a.ID = orNew(a.ID)
	if a.At.IsZero() {
		a.At = tx.Now()
	}
	a.Status = "open"
	_, err := tx.exec(ctx, `INSERT INTO alarms (id, gate_id, device_id, kind, person_id, detail, at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open')`,
		a.ID, a.GateID, nullStr(a.DeviceID), a.Kind, nullStr(a.PersonID), a.Detail, ms(a.At))
	return err
}

// Alarms lists alarms of the gates, open ones first, newest first.
func (s *Store) Alarms(ctx context.Context, gateIDs []string, openOnly bool, limit int) ([]Alarm, error) {
	if len(gateIDs) == 0 {
		return nil, nil
	}
	var args []any
	var ph []string
	for _, g := range gateIDs {
		args = append(args, g)
		ph = append(ph, "$"+itoa(len(args)))
	}
	where := "a.gate_id IN (" + strings.Join(ph, ",") + ")"
	if openOnly {
		where += " AND a.status <> 'handled'"
	}
	args = append(args, limit)
	rows, err := s.query(ctx, `SELECT a.id, a.gate_id, COALESCE(a.device_id, ''), a.kind, COALESCE(a.person_id, ''), a.detail, a.status, a.at,
		COALESCE(a.ack_by, ''), a.note, COALESCE(a.handled_by, ''), a.ack_at, a.handled_at, g.name, COALESCE(pe.name, '')
		FROM alarms a JOIN gates g ON g.id = a.gate_id LEFT JOIN persons pe ON pe.id = a.person_id
		WHERE `+where+` ORDER BY CASE a.status WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END, a.at DESC LIMIT $`+itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Alarm
	for rows.Next() {
		var a Alarm
		var at int64
		var ack, handled sql.NullInt64
		if err := rows.Scan(&a.ID, &a.GateID, &a.DeviceID, &a.Kind, &a.PersonID, &a.Detail, &a.Status, &at, &a.AckBy, &a.Note, &a.HandledBy,
			&ack, &handled, &a.GateName, &a.PersonMask); err != nil {
			return nil, err
		}
		a.At, a.AckAt, a.HandledAt = time.UnixMilli(at).UTC(), fromMS(ack), fromMS(handled)
		out = append(out, a)
	}
	return out, rows.Err()
}

// UpdateAlarm acknowledges or handles an alarm of one of the gates.
func (tx *Tx) UpdateAlarm(ctx context.Context, id, status, actor, note string) error {
	col := "ack"
	if status == "handled" {
		col = "handled"
	}
	r, err := tx.exec(ctx, `UPDATE alarms SET status = $1, `+col+`_by = $2, `+col+`_at = $3, note = CASE WHEN $4 = '' THEN note ELSE $4 END
		WHERE id = $5 AND status <> 'handled'`, status, actor, ms(tx.Now()), note, id)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errNotFound()
	}
	return nil
}

// Alarm loads one alarm.
func (s *Store) Alarm(ctx context.Context, id string) (Alarm, error) {
	var a Alarm
	var at int64
	err := s.queryRow(ctx, `SELECT id, gate_id, kind, status, at FROM alarms WHERE id = $1`, id).Scan(&a.ID, &a.GateID, &a.Kind, &a.Status, &at)
	a.At = time.UnixMilli(at).UTC()
	return a, s.classify(err)
}
