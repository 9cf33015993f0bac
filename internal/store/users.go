package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"shequ/internal/errs"
	"shequ/internal/ids"
)

// User kinds.
const (
	KindStaff    = "staff"    // logs in with a password
	KindResident = "resident" // logs in with phone + one-time code
	KindAPI      = "api"      // partner departments and devices: tokens only
)

// User is an account.
type User struct {
	ID           string
	Username     string
	DisplayName  string
	Kind         string
	PasswordHash string
	PhoneEnc     []byte
	PhoneBidx    string
	Lang         string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastLoginAt  time.Time
}

// RoleAssignment gives a user a role over an organisation node and
// everything below it.
type RoleAssignment struct {
	ID       string
	UserID   string
	Role     string
	NodeID   string
	NodePath string
	NodeName string
	NodeCode string
}

const userCols = `id, username, display_name, kind, COALESCE(password_hash, ''), phone_enc, COALESCE(phone_bidx, ''), lang, disabled, created_at, updated_at, last_login_at`

func scanUser(sc interface{ Scan(...any) error }) (User, error) {
	var u User
	var dis int
	var c, up, ll sql.NullInt64
	err := sc.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Kind, &u.PasswordHash, &u.PhoneEnc, &u.PhoneBidx, &u.Lang, &dis, &c, &up, &ll)
	u.Disabled = dis != 0
	u.CreatedAt, u.UpdatedAt, u.LastLoginAt = fromMS(c), fromMS(up), fromMS(ll)
	return u, err
}

// User loads an account by id.
func (s *Store) User(ctx context.Context, id string) (User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	return u, s.classify(err)
}

// UserByUsername loads an account by login name.
func (s *Store) UserByUsername(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE username = $1`, username))
	return u, s.classify(err)
}

// UserByPhone loads a resident account by the blind index of its phone.
func (s *Store) UserByPhone(ctx context.Context, bidx string) (User, error) {
	u, err := scanUser(s.queryRow(ctx, `SELECT `+userCols+` FROM users WHERE phone_bidx = $1`, bidx))
	return u, s.classify(err)
}

// UserFilter selects accounts for a list.
type UserFilter struct {
	ScopePath string // only users with a role at or below this node ("" = all)
	Query     string // part of username or display name
	Kind      string
	Limit     int
	Offset    int
}

// Users lists accounts, with the total for pagination.
func (s *Store) Users(ctx context.Context, f UserFilter) ([]User, int, error) {
	where := `WHERE 1=1`
	args := []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where += " AND " + replaceArg(cond, len(args))
	}
	if f.ScopePath != "" {
		add(`EXISTS (SELECT 1 FROM role_assignments ra JOIN org_nodes n ON n.id = ra.node_id WHERE ra.user_id = users.id AND n.path LIKE $?)`, likePrefix(f.ScopePath))
	}
	if f.Query != "" {
		add(`(username LIKE $? OR display_name LIKE $?)`, "%"+f.Query+"%")
	}
	if f.Kind != "" {
		add(`kind = $?`, f.Kind)
	}
	var total int
	if err := s.queryRow(ctx, `SELECT count(*) FROM users `+where, args...).Scan(&total); err != nil {
		return nil, 0, s.classify(err)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	args = append(args, f.Limit, f.Offset)
	rows, err := s.query(ctx, `SELECT `+userCols+` FROM users `+where+` ORDER BY username LIMIT $`+itoa(len(args)-1)+` OFFSET $`+itoa(len(args)), args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, u)
	}
	return out, total, rows.Err()
}

// CreateUser inserts an account.
func (tx *Tx) CreateUser(ctx context.Context, u *User) error {
	if u.ID == "" {
		u.ID = ids.New()
	}
	now := tx.Now()
	u.CreatedAt, u.UpdatedAt = now, now
	_, err := tx.exec(ctx, `INSERT INTO users (id, username, display_name, kind, password_hash, phone_enc, phone_bidx, lang, disabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		u.ID, u.Username, u.DisplayName, u.Kind, nullStr(u.PasswordHash), u.PhoneEnc, nullStr(u.PhoneBidx), u.Lang, boolInt(u.Disabled), ms(now), ms(now))
	if errs.Is(err, errs.Conflict) {
		return errs.Wrap(err, errs.Conflict, "err.username_taken", u.Username).OnField("username")
	}
	return err
}

// SetPassword replaces an account's password hash and ends its sessions.
func (tx *Tx) SetPassword(ctx context.Context, userID, hash string) error {
	r, err := tx.exec(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, ms(tx.Now()), userID)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "err.not_found")
	}
	_, err = tx.exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	return err
}

// SetDisabled disables or enables an account; disabling ends its sessions.
func (tx *Tx) SetDisabled(ctx context.Context, userID string, disabled bool) error {
	r, err := tx.exec(ctx, `UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3`, boolInt(disabled), ms(tx.Now()), userID)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "err.not_found")
	}
	if disabled {
		if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
			return err
		}
		if _, err = tx.exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`, ms(tx.Now()), userID); err != nil {
			return err
		}
	}
	return tx.syncCoverage(ctx, userID)
}

// SetUserLang stores an account's language choice.
func (tx *Tx) SetUserLang(ctx context.Context, userID, lang string) error {
	_, err := tx.exec(ctx, `UPDATE users SET lang = $1, updated_at = $2 WHERE id = $3`, lang, ms(tx.Now()), userID)
	return err
}

// TouchLogin records a successful login.
func (tx *Tx) TouchLogin(ctx context.Context, userID string) error {
	_, err := tx.exec(ctx, `UPDATE users SET last_login_at = $1 WHERE id = $2`, ms(tx.Now()), userID)
	return err
}

// Assign gives a user a role over a node.
func (tx *Tx) Assign(ctx context.Context, userID, role, nodeID, actorID string) (string, error) {
	id := ids.New()
	_, err := tx.exec(ctx, `INSERT INTO role_assignments (id, user_id, role, node_id, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, userID, role, nodeID, ms(tx.Now()), nullStr(actorID))
	if errs.Is(err, errs.Conflict) {
		return "", errs.Wrap(err, errs.Conflict, "err.role_exists")
	}
	if err != nil {
		return "", err
	}
	return id, tx.syncCoverage(ctx, userID)
}

// Unassign removes a role assignment.
func (tx *Tx) Unassign(ctx context.Context, assignmentID string) (RoleAssignment, error) {
	var a RoleAssignment
	err := tx.queryRow(ctx, `SELECT ra.id, ra.user_id, ra.role, ra.node_id, n.path, n.name, n.code FROM role_assignments ra
		JOIN org_nodes n ON n.id = ra.node_id WHERE ra.id = $1`, assignmentID).
		Scan(&a.ID, &a.UserID, &a.Role, &a.NodeID, &a.NodePath, &a.NodeName, &a.NodeCode)
	if err != nil {
		return a, tx.s.classify(err)
	}
	if _, err = tx.exec(ctx, `DELETE FROM role_assignments WHERE id = $1`, assignmentID); err != nil {
		return a, err
	}
	return a, tx.syncCoverage(ctx, a.UserID)
}

// Assignments lists a user's roles with the nodes they apply to.
func (s *Store) Assignments(ctx context.Context, userID string) ([]RoleAssignment, error) {
	rows, err := s.query(ctx, `SELECT ra.id, ra.user_id, ra.role, ra.node_id, n.path, n.name, n.code
		FROM role_assignments ra JOIN org_nodes n ON n.id = ra.node_id WHERE ra.user_id = $1 ORDER BY ra.role, n.path`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RoleAssignment
	for rows.Next() {
		var a RoleAssignment
		if err := rows.Scan(&a.ID, &a.UserID, &a.Role, &a.NodeID, &a.NodePath, &a.NodeName, &a.NodeCode); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Session is a logged-in browser.
type Session struct {
	TokenHash string
	UserID    string
	ExpiresAt time.Time
	LastSeen  time.Time
}

// CreateSession stores a new session.
func (tx *Tx) CreateSession(ctx context.Context, tokenHash, userID, ip string, ttl time.Duration) error {
	now := tx.Now()
	_, err := tx.exec(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, ip) VALUES ($1, $2, $3, $4, $5, $6)`,
		tokenHash, userID, ms(now), ms(now), ms(now.Add(ttl)), ip)
	return err
}

// Session loads a live session; expired ones are not found.
func (s *Store) Session(ctx context.Context, tokenHash string) (Session, error) {
	var ss Session
	var exp, seen int64
	err := s.queryRow(ctx, `SELECT token_hash, user_id, expires_at, last_seen_at FROM sessions WHERE token_hash = $1 AND expires_at > $2`,
		tokenHash, ms(s.now())).Scan(&ss.TokenHash, &ss.UserID, &exp, &seen)
	ss.ExpiresAt, ss.LastSeen = time.UnixMilli(exp).UTC(), time.UnixMilli(seen).UTC()
	return ss, s.classify(err)
}

// ExtendSession slides a session's expiry.
func (tx *Tx) ExtendSession(ctx context.Context, tokenHash string, ttl time.Duration) error {
	now := tx.Now()
	_, err := tx.exec(ctx, `UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3`, ms(now), ms(now.Add(ttl)), tokenHash)
	return err
}

// DeleteSession ends a session.
func (tx *Tx) DeleteSession(ctx context.Context, tokenHash string) error {
	_, err := tx.exec(ctx, `DELETE FROM sessions WHERE token_hash = $1`, tokenHash)
	return err
}

// PurgeExpired removes expired sessions, one-time codes and old login
// failures; it returns how many rows went.
func (tx *Tx) PurgeExpired(ctx context.Context, failuresOlderThan time.Time) (int64, error) {
	var total int64
	now := ms(tx.Now())
	for _, q := range []struct {
		sql string
		arg any
	}{
		{`DELETE FROM sessions WHERE expires_at <= $1`, now},
		{`DELETE FROM otp_codes WHERE expires_at <= $1`, now},
		{`DELETE FROM login_failures WHERE at < $1`, ms(failuresOlderThan)},
	} {
		r, err := tx.exec(ctx, q.sql, q.arg)
		if err != nil {
			return total, err
		}
		n, _ := r.RowsAffected()
		total += n
	}
	return total, nil
}

// RecordLoginFailure counts a failed login against each key.
func (tx *Tx) RecordLoginFailure(ctx context.Context, keys ...string) error {
	for _, k := range keys {
		if _, err := tx.exec(ctx, `INSERT INTO login_failures (id, key, at) VALUES ($1, $2, $3)`, ids.New(), k, ms(tx.Now())); err != nil {
			return err
		}
	}
	return nil
}

// LoginFailures counts failures for key since t.
func (s *Store) LoginFailures(ctx context.Context, key string, since time.Time) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT count(*) FROM login_failures WHERE key = $1 AND at >= $2`, key, ms(since)).Scan(&n)
	return n, s.classify(err)
}

// ClearLoginFailures forgets failures for key (after a successful login).
func (tx *Tx) ClearLoginFailures(ctx context.Context, key string) error {
	_, err := tx.exec(ctx, `DELETE FROM login_failures WHERE key = $1`, key)
	return err
}

// PutOTP stores (replacing) the one-time code for a phone.
func (tx *Tx) PutOTP(ctx context.Context, phoneBidx, codeHash string, expires time.Time) error {
	_, err := tx.exec(ctx, `INSERT INTO otp_codes (phone_bidx, code_hash, expires_at, attempts) VALUES ($1, $2, $3, 0)
		ON CONFLICT (phone_bidx) DO UPDATE SET code_hash = excluded.code_hash, expires_at = excluded.expires_at, attempts = 0`,
		phoneBidx, codeHash, ms(expires))
	return err
}

// TakeOTP checks a one-time code: it counts the attempt, and a correct code
// is used up. After maxAttempts wrong tries the code is dead.
func (tx *Tx) TakeOTP(ctx context.Context, phoneBidx, codeHash string, maxAttempts int) (bool, error) {
	var stored string
	var attempts int
	err := tx.queryRow(ctx, `SELECT code_hash, attempts FROM otp_codes WHERE phone_bidx = $1 AND expires_at > $2`,
		phoneBidx, ms(tx.Now())).Scan(&stored, &attempts)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, tx.s.classify(err)
	}
	if attempts >= maxAttempts || stored != codeHash {
		_, err := tx.exec(ctx, `UPDATE otp_codes SET attempts = attempts + 1 WHERE phone_bidx = $1`, phoneBidx)
		return false, err
	}
	_, err = tx.exec(ctx, `DELETE FROM otp_codes WHERE phone_bidx = $1`, phoneBidx)
	return err == nil, err
}

// APIToken is a partner's or device's credential (only its hash is kept).
type APIToken struct {
	ID        string
	UserID    string
	Name      string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time
	LastUsed  time.Time
}

// CreateAPIToken stores a token hash for an api user.
func (tx *Tx) CreateAPIToken(ctx context.Context, userID, name, tokenHash string, expires time.Time) (string, error) {
	id := ids.New()
	_, err := tx.exec(ctx, `INSERT INTO api_tokens (id, user_id, token_hash, name, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, userID, tokenHash, name, ms(tx.Now()), ms(expires))
	return id, err
}

// RevokeAPIToken makes a token of userID useless from now on.
func (tx *Tx) RevokeAPIToken(ctx context.Context, userID, id string) error {
	r, err := tx.exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL`, ms(tx.Now()), id, userID)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errs.E(errs.NotFound, "err.not_found")
	}
	return nil
}

// APITokenByHash finds the live token with this hash.
func (s *Store) APITokenByHash(ctx context.Context, hash string) (APIToken, error) {
	var t APIToken
	var c, e, r, l sql.NullInt64
	err := s.queryRow(ctx, `SELECT id, user_id, name, created_at, expires_at, revoked_at, last_used_at FROM api_tokens WHERE token_hash = $1`, hash).
		Scan(&t.ID, &t.UserID, &t.Name, &c, &e, &r, &l)
	t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsed = fromMS(c), fromMS(e), fromMS(r), fromMS(l)
	return t, s.classify(err)
}

func itoa(i int) string {
	const d = "0123456789"
	if i < 10 {
		return d[i : i+1]
	}
	return itoa(i/10) + d[i%10:i%10+1]
}

// replaceArg turns each "$?" in cond into "$n".
func replaceArg(cond string, n int) string {
	out := make([]byte, 0, len(cond)+4)
	for i := 0; i < len(cond); i++ {
		if cond[i] == '$' && i+1 < len(cond) && cond[i+1] == '?' {
			out = append(out, '$')
			out = append(out, itoa(n)...)
			i++
			continue
		}
		out = append(out, cond[i])
	}
	return string(out)
}

// APITokens lists an account's tokens, newest first.
func (s *Store) APITokens(ctx context.Context, userID string) ([]APIToken, error) {
	rows, err := s.query(ctx, `SELECT id, user_id, name, created_at, expires_at, revoked_at, last_used_at FROM api_tokens
		WHERE user_id = $1 ORDER BY created_at DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		var t APIToken
		var c, e, r, l sql.NullInt64
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &c, &e, &r, &l); err != nil {
			return nil, err
		}
		t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsed = fromMS(c), fromMS(e), fromMS(r), fromMS(l)
		out = append(out, t)
	}
	return out, rows.Err()
}

// TouchAPIToken records that a token was used (at most once a minute).
func (tx *Tx) TouchAPIToken(ctx context.Context, id string) error {
	now := tx.Now()
	_, err := tx.exec(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)`,
		ms(now), id, ms(now.Add(-time.Minute)))
	return err
}
