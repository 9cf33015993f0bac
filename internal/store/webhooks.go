package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"shequ/internal/ids"
)

// Kinds of change a partner may subscribe to (and the test ping).
const (
	HookPersonChanged = "person.changed"
	HookLeadVerified  = "lead.verified"
	HookAlarmRaised   = "alarm.raised"
	HookEventClosed   = "event.closed"
	HookPing          = "ping"
)

// HookKinds lists the kinds a subscription may choose, in the order the
// page offers them.
var HookKinds = []string{HookPersonChanged, HookLeadVerified, HookAlarmRaised, HookEventClosed}

// hookRecords names each kind's record type and the open-API path a
// partner fetches it from (what its agreement allows).
var hookRecords = map[string]struct{ typ, link string }{
	HookPersonChanged: {"person", "/api/v1/persons/"},
	HookLeadVerified:  {"lead", "/api/v1/leads/"},
	HookAlarmRaised:   {"alarm", "/api/v1/alarms/"},
	HookEventClosed:   {"event", "/api/v1/events/"},
	HookPing:          {"ping", ""},
}

// Delivery states.
const (
	HookPending   = "pending"
	HookDelivered = "delivered"
	HookDead      = "dead"
)

// WebhookSubscription is a partner's URL for some kinds of change.
type WebhookSubscription struct {
	ID, PartnerID, URL string
	SecretEnc          []byte
	Events             []string
	Active             bool
	CreatedBy          string
	CreatedAt          time.Time
	PartnerName        string
}

// Wants reports whether the subscription takes changes of kind.
func (w WebhookSubscription) Wants(kind string) bool { return slices.Contains(w.Events, kind) }

// WebhookPayload is the JSON body of a delivery: which record changed and
// where to fetch it, never its personal fields.
type WebhookPayload struct {
	ID     string        `json:"id"` // the delivery id (also X-Shequ-Delivery)
	Event  string        `json:"event"`
	Seq    int64         `json:"seq"` // per subscription, increasing in commit order
	At     string        `json:"at"`  // RFC 3339, UTC
	Node   string        `json:"node,omitempty"`
	Record WebhookRecord `json:"record"`
	Link   string        `json:"link,omitempty"`
}

// WebhookRecord names the record a payload is about.
type WebhookRecord struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Ref  string `json:"ref,omitempty"`
}

// WebhookDelivery is one event queued for one subscription.
type WebhookDelivery struct {
	ID, SubscriptionID, Kind, RecordKey, NodePath string
	Seq                                           int64
	Payload                                       string
	Status                                        string
	Attempts                                      int
	NextAt, WindowFrom, CreatedAt, DeliveredAt    time.Time
	LastError                                     string
	// from the subscription
	URL, PartnerID string
	SecretEnc      []byte
}

const subCols = `s.id, s.partner_id, s.url, s.secret_enc, s.events, s.active, COALESCE(s.created_by, ''), s.created_at, u.display_name`

func scanSub(sc interface{ Scan(...any) error }) (WebhookSubscription, error) {
	var w WebhookSubscription
	var events string
	var active int
	var at int64
	err := sc.Scan(&w.ID, &w.PartnerID, &w.URL, &w.SecretEnc, &events, &active, &w.CreatedBy, &at, &w.PartnerName)
	w.Events = splitEvents(events)
	w.Active, w.CreatedAt = active != 0, time.UnixMilli(at).UTC()
	return w, err
}

func splitEvents(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}

// CreateWebhookSubscription stores a subscription (its secret already
// encrypted).
func (tx *Tx) CreateWebhookSubscription(ctx context.Context, w *WebhookSubscription) error {
	w.ID = orNew(w.ID)
	w.CreatedAt, w.Active = tx.Now(), true
	tx.hookSubs = nil
	_, err := tx.exec(ctx, `INSERT INTO webhook_subscriptions (id, partner_id, url, secret_enc, events, active, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $7)`,
		w.ID, w.PartnerID, w.URL, w.SecretEnc, ","+strings.Join(w.Events, ",")+",", nullStr(w.CreatedBy), ms(w.CreatedAt))
	return err
}

// SetWebhookActive turns a subscription on or off. An inactive one
// queues nothing; what it had queued waits (and expires).
func (tx *Tx) SetWebhookActive(ctx context.Context, id string, active bool) error {
	tx.hookSubs = nil
	r, err := tx.exec(ctx, `UPDATE webhook_subscriptions SET active = $1, updated_at = $2 WHERE id = $3`, boolInt(active), ms(tx.Now()), id)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errNotFound()
	}
	return nil
}

// WebhookSubscription loads one subscription.
func (s *Store) WebhookSubscription(ctx context.Context, id string) (WebhookSubscription, error) {
	w, err := scanSub(s.queryRow(ctx, `SELECT `+subCols+` FROM webhook_subscriptions s JOIN users u ON u.id = s.partner_id WHERE s.id = $1`, id))
	return w, s.classify(err)
}

// WebhookSubscriptions lists a partner's subscriptions, newest first.
func (s *Store) WebhookSubscriptions(ctx context.Context, partnerID string) ([]WebhookSubscription, error) {
	rows, err := s.query(ctx, `SELECT `+subCols+` FROM webhook_subscriptions s JOIN users u ON u.id = s.partner_id
		WHERE s.partner_id = $1 ORDER BY s.created_at DESC, s.id DESC`, partnerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []WebhookSubscription
	for rows.Next() {
		w, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// WebhookPartner is a partner account with its webhook figures.
type WebhookPartner struct {
	ID, Username, Name string
	NodePath           string // the node of its partner role (the first, when several)
	Subscriptions      int
	Dead               int
}

// WebhookPartners lists the API accounts with the partner role at or
// below one of the scopes.
func (s *Store) WebhookPartners(ctx context.Context, scopes []string) ([]WebhookPartner, error) {
	if len(scopes) == 0 {
		return nil, nil
	}
	var args []any
	var conds []string
	for _, sc := range scopes {
		args = append(args, likePrefix(sc))
		conds = append(conds, "n.path LIKE $"+itoa(len(args)))
	}
	rows, err := s.query(ctx, `SELECT u.id, u.username, u.display_name, MIN(n.path),
		(SELECT count(*) FROM webhook_subscriptions w WHERE w.partner_id = u.id AND w.active = 1),
		(SELECT count(*) FROM webhook_deliveries d JOIN webhook_subscriptions w ON w.id = d.subscription_id WHERE w.partner_id = u.id AND d.status = 'dead')
		FROM users u JOIN role_assignments ra ON ra.user_id = u.id AND ra.role = 'partner' JOIN org_nodes n ON n.id = ra.node_id
		WHERE u.kind = 'api' AND (`+strings.Join(conds, " OR ")+`)
		GROUP BY u.id, u.username, u.display_name ORDER BY u.username`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []WebhookPartner
	for rows.Next() {
		var p WebhookPartner
		if err := rows.Scan(&p.ID, &p.Username, &p.Name, &p.NodePath, &p.Subscriptions, &p.Dead); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// PartnerPaths lists the nodes where the account holds the partner role.
func (s *Store) PartnerPaths(ctx context.Context, userID string) ([]string, error) {
	return s.column(ctx, `SELECT n.path FROM role_assignments ra JOIN org_nodes n ON n.id = ra.node_id
		WHERE ra.user_id = $1 AND ra.role = 'partner' ORDER BY n.path`, userID)
}

// EmitChange queues an event about a record for every active subscription
// that wants its kind, in the caller's transaction: a change that rolls
// back sends nothing. recordKey is the record's id (deliveries of one
// record go out in order); nodePath is the record's node, for the sharing
// gate ("" when unknown); ref is what people call the record (an event's
// number) or "". The payload carries no personal field. The deliveries are
// written just before commit, after everything else the transaction does.
func (tx *Tx) EmitChange(ctx context.Context, kind, recordKey, nodePath, ref string) error {
	subs, err := tx.hookSubscriptions(ctx)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if sub.Wants(kind) {
			tx.hooks = append(tx.hooks, hookEvent{kind: kind, key: recordKey, path: nodePath, ref: ref})
			break
		}
	}
	return nil
}

// hookEvent is an event waiting for the commit; sub set means for that
// subscription only (a ping).
type hookEvent struct {
	kind, key, path, ref string
	sub, id              string
}

// QueueWebhookPing queues a test event for one subscription (active or
// not: a ping checks the receiver) and returns its delivery id.
func (tx *Tx) QueueWebhookPing(ctx context.Context, subID string) (string, error) {
	id := ids.New()
	tx.hooks = append(tx.hooks, hookEvent{kind: HookPing, key: id, sub: subID, id: id})
	return id, nil
}

// flushHooks writes the transaction's events, one delivery per wanting
// subscription. It runs last before commit and takes the subscriptions'
// sequence numbers in id order: their rows stay locked until commit, so
// numbers follow the order in which changes commit, and two transactions
// cannot deadlock on them.
func (tx *Tx) flushHooks(ctx context.Context) error {
	if err := tx.notePeopleEvents(ctx); err != nil || len(tx.hooks) == 0 {
		return err
	}
	subs, err := tx.hookSubscriptions(ctx)
	if err != nil {
		return err
	}
	type item struct {
		ev   hookEvent
		node string
	}
	per := map[string][]item{}
	nodes := map[string]string{}
	var order []string
	for _, ev := range tx.hooks {
		node, ok := nodes[ev.path]
		if !ok && ev.path != "" {
			if node, err = tx.communityOf(ctx, ev.path); err != nil {
				return err
			}
			nodes[ev.path] = node
		}
		add := func(sub string) {
			if per[sub] == nil {
				order = append(order, sub)
			}
			per[sub] = append(per[sub], item{ev, node})
		}
		if ev.sub != "" {
			add(ev.sub)
			continue
		}
		for _, sub := range subs {
			if sub.Wants(ev.kind) {
				add(sub.ID)
			}
		}
	}
	tx.hooks = nil
	slices.Sort(order)
	now := tx.Now()
	for _, sub := range order {
		items := per[sub]
		if _, err := tx.exec(ctx, `UPDATE webhook_subscriptions SET last_seq = last_seq + $1 WHERE id = $2`, len(items), sub); err != nil {
			return err
		}
		var last int64
		if err := tx.queryRow(ctx, `SELECT last_seq FROM webhook_subscriptions WHERE id = $1`, sub).Scan(&last); err != nil {
			return tx.s.classify(err)
		}
		seq := last - int64(len(items))
		for _, it := range items {
			seq++
			if err := tx.insertDelivery(ctx, sub, it.ev, it.node, seq, now); err != nil {
				return err
			}
		}
	}
	return nil
}

func (tx *Tx) insertDelivery(ctx context.Context, sub string, ev hookEvent, node string, seq int64, now time.Time) error {
	rec := hookRecords[ev.kind]
	p := WebhookPayload{ID: orNew(ev.id), Event: ev.kind, Seq: seq, At: now.UTC().Format(time.RFC3339Nano), Node: node,
		Record: WebhookRecord{Type: rec.typ, ID: ev.key, Ref: ev.ref}}
	if rec.link != "" {
		p.Link = rec.link + ev.key
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = tx.exec(ctx, `INSERT INTO webhook_deliveries (id, subscription_id, kind, record_key, node_path, seq, payload, status, next_at, window_from, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8, $8)`, p.ID, sub, ev.kind, ev.key, ev.path, seq, string(body), ms(now))
	return err
}

// hookSubscriptions reads the active subscriptions once per transaction
// (an import may emit thousands of changes).
func (tx *Tx) hookSubscriptions(ctx context.Context) ([]WebhookSubscription, error) {
	if tx.hookSubs != nil {
		return *tx.hookSubs, nil
	}
	rows, err := tx.tx.QueryContext(ctx, `SELECT s.id, s.events FROM webhook_subscriptions s JOIN users u ON u.id = s.partner_id
		WHERE s.active = 1 AND u.disabled = 0 ORDER BY s.id`)
	if err != nil {
		return nil, tx.s.classify(err)
	}
	defer rows.Close()
	subs := []WebhookSubscription{}
	for rows.Next() {
		var w WebhookSubscription
		var events string
		if err := rows.Scan(&w.ID, &events); err != nil {
			return nil, err
		}
		w.Events = splitEvents(events)
		subs = append(subs, w)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	tx.hookSubs = &subs
	return subs, nil
}

// communityOf is the community a node path lies in (its own last node
// when it lies above any community).
func (tx *Tx) communityOf(ctx context.Context, path string) (string, error) {
	var id string
	err := tx.queryRow(ctx, `SELECT id FROM org_nodes WHERE level = 'community' AND $1 LIKE path || '%' ORDER BY length(path) DESC LIMIT 1`, path).Scan(&id)
	if err == sql.ErrNoRows {
		parts := strings.Split(strings.Trim(path, "/"), "/")
		return parts[len(parts)-1], nil
	}
	return id, tx.s.classify(err)
}

// notePersonChanged remembers a person whose ledger record changed in
// this transaction; one person.changed event each is written before
// commit.
func (tx *Tx) notePersonChanged(id string) {
	if id == "" {
		return
	}
	if tx.changedPeople == nil {
		tx.changedPeople = map[string]bool{}
	}
	tx.changedPeople[id] = true
}

// notePeopleEvents turns the people noted as changed into person.changed
// events, one each (before the events are written).
func (tx *Tx) notePeopleEvents(ctx context.Context) error {
	if len(tx.changedPeople) == 0 {
		return nil
	}
	subs, err := tx.hookSubscriptions(ctx)
	if err != nil || !slices.ContainsFunc(subs, func(w WebhookSubscription) bool { return w.Wants(HookPersonChanged) }) {
		return err
	}
	people := make([]string, 0, len(tx.changedPeople))
	for id := range tx.changedPeople {
		people = append(people, id)
	}
	tx.changedPeople = nil
	slices.Sort(people)
	for _, id := range people {
		path, err := tx.personPath(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.EmitChange(ctx, HookPersonChanged, id, path, ""); err != nil {
			return err
		}
	}
	return nil
}

// personPath is the node (grid, else community) of the room a person
// lives in, else lived in last, else owns; "" when none.
func (tx *Tx) personPath(ctx context.Context, personID string) (string, error) {
	var path string
	err := tx.queryRow(ctx, `SELECT n.path FROM household_members m JOIN households h ON h.id = m.household_id
		JOIN places r ON r.id = h.room_id JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id)
		WHERE m.person_id = $1
		ORDER BY CASE WHEN h.ended_at IS NULL AND m.until IS NULL THEN 0 ELSE 1 END, COALESCE(m.until, '9999') DESC, COALESCE(m.since, '') DESC
		LIMIT 1`, personID).Scan(&path)
	if err == sql.ErrNoRows {
		err = tx.queryRow(ctx, `SELECT n.path FROM room_owners o JOIN places r ON r.id = o.room_id
			JOIN org_nodes n ON n.id = COALESCE(r.grid_id, r.community_id) WHERE o.person_id = $1 LIMIT 1`, personID).Scan(&path)
	}
	if err == sql.ErrNoRows {
		return "", nil
	}
	return path, tx.s.classify(err)
}

const deliveryCols = `d.id, d.subscription_id, d.kind, d.record_key, d.node_path, d.seq, d.payload, d.status, d.attempts, d.next_at, d.window_from,
	d.created_at, d.delivered_at, d.last_error, s.url, s.partner_id, s.secret_enc`

func scanDelivery(sc interface{ Scan(...any) error }) (WebhookDelivery, error) {
	var d WebhookDelivery
	var next, from, created int64
	var done sql.NullInt64
	err := sc.Scan(&d.ID, &d.SubscriptionID, &d.Kind, &d.RecordKey, &d.NodePath, &d.Seq, &d.Payload, &d.Status, &d.Attempts, &next, &from,
		&created, &done, &d.LastError, &d.URL, &d.PartnerID, &d.SecretEnc)
	d.NextAt, d.WindowFrom, d.CreatedAt, d.DeliveredAt = time.UnixMilli(next).UTC(), time.UnixMilli(from).UTC(), time.UnixMilli(created).UTC(), fromMS(done)
	return d, err
}

func (s *Store) deliveries(ctx context.Context, q string, args ...any) ([]WebhookDelivery, error) {
	rows, err := s.query(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id `+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []WebhookDelivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DueWebhookDeliveries lists deliveries whose turn has come: pending,
// not waiting out a back-off, not being sent by another deliverer, of an
// active subscription of an enabled partner, and the first still pending
// of their record (so each record's events go out in order, while other
// records go on).
func (s *Store) DueWebhookDeliveries(ctx context.Context, now time.Time, limit int) ([]WebhookDelivery, error) {
	return s.deliveries(ctx, `JOIN users u ON u.id = s.partner_id
		WHERE d.status = 'pending' AND d.next_at <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1)
		AND (s.active = 1 AND u.disabled = 0 OR d.kind = 'ping')
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.subscription_id = d.subscription_id AND e.record_key = d.record_key
			AND e.seq < d.seq AND e.status = 'pending')
		ORDER BY d.seq LIMIT $2`, ms(now), limit)
}

// ClaimWebhookDelivery takes a due delivery for one deliverer until
// leaseUntil; false when another took it (or it is no longer due). The
// attempt is counted here, so a deliverer that dies mid-send still
// counts it.
func (tx *Tx) ClaimWebhookDelivery(ctx context.Context, id string, leaseUntil time.Time) (bool, error) {
	now := ms(tx.Now())
	r, err := tx.exec(ctx, `UPDATE webhook_deliveries SET lease_until = $1, attempts = attempts + 1
		WHERE id = $2 AND status = 'pending' AND next_at <= $3 AND (lease_until IS NULL OR lease_until <= $3)
		AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.subscription_id = webhook_deliveries.subscription_id
			AND e.record_key = webhook_deliveries.record_key AND e.seq < webhook_deliveries.seq AND e.status = 'pending')`,
		ms(leaseUntil), id, now)
	if err != nil {
		return false, err
	}
	n, _ := r.RowsAffected()
	return n == 1, nil
}

// WebhookDelivered marks a delivery received.
func (tx *Tx) WebhookDelivered(ctx context.Context, id string) error {
	_, err := tx.exec(ctx, `UPDATE webhook_deliveries SET status = 'delivered', delivered_at = $1, lease_until = NULL, last_error = '' WHERE id = $2`,
		ms(tx.Now()), id)
	return err
}

// WebhookFailed records a failed try: the delivery waits until next, or
// is given up on (dead) with the reason.
func (tx *Tx) WebhookFailed(ctx context.Context, id, why string, next time.Time, dead bool) error {
	if len(why) > 500 {
		why = why[:500]
	}
	status := HookPending
	if dead {
		status = HookDead
	}
	_, err := tx.exec(ctx, `UPDATE webhook_deliveries SET status = $1, last_error = $2, next_at = $3, lease_until = NULL WHERE id = $4`,
		status, why, ms(next), id)
	return err
}

// ExpireWebhookDeliveries gives up on pending deliveries whose window
// opened before the cut-off (a receiver gone for days, a subscription
// switched off); it returns how many.
func (tx *Tx) ExpireWebhookDeliveries(ctx context.Context, before time.Time, why string) (int64, error) {
	r, err := tx.exec(ctx, `UPDATE webhook_deliveries SET status = 'dead', lease_until = NULL,
		last_error = CASE WHEN last_error = '' THEN CAST($1 AS TEXT) ELSE CAST($1 AS TEXT) || ' (' || last_error || ')' END
		WHERE status = 'pending' AND window_from < $2 AND (lease_until IS NULL OR lease_until <= $3)`, why, ms(before), ms(tx.Now()))
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}

// RetryWebhookDelivery puts a dead delivery back in the queue, due now,
// with a fresh window.
func (tx *Tx) RetryWebhookDelivery(ctx context.Context, id string) error {
	now := ms(tx.Now())
	r, err := tx.exec(ctx, `UPDATE webhook_deliveries SET status = 'pending', next_at = $1, window_from = $1, lease_until = NULL WHERE id = $2 AND status = 'dead'`, now, id)
	if err != nil {
		return err
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return errNotFound()
	}
	return nil
}

// WebhookDelivery loads one delivery.
func (s *Store) WebhookDelivery(ctx context.Context, id string) (WebhookDelivery, error) {
	ds, err := s.deliveries(ctx, `WHERE d.id = $1`, id)
	if err != nil {
		return WebhookDelivery{}, err
	}
	if len(ds) == 0 {
		return WebhookDelivery{}, errNotFound()
	}
	return ds[0], nil
}

// WebhookDeliveries lists a partner's deliveries, newest first; status ""
// means all.
func (s *Store) WebhookDeliveries(ctx context.Context, partnerID, status string, limit int) ([]WebhookDelivery, error) {
	return s.deliveries(ctx, `WHERE s.partner_id = $1 AND (CAST($2 AS TEXT) = '' OR d.status = $2) ORDER BY d.created_at DESC, d.seq DESC LIMIT $3`,
		partnerID, status, limit)
}

// EmitAlarm emits alarm.raised for an alarm just created, at its gate's
// community.
func (tx *Tx) EmitAlarm(ctx context.Context, a *Alarm) error {
	subs, err := tx.hookSubscriptions(ctx)
	if err != nil || !slices.ContainsFunc(subs, func(w WebhookSubscription) bool { return w.Wants(HookAlarmRaised) }) {
		return err
	}
	var path string
	if err := tx.queryRow(ctx, `SELECT n.path FROM gates g JOIN org_nodes n ON n.id = g.community_id WHERE g.id = $1`, a.GateID).Scan(&path); err != nil && err != sql.ErrNoRows {
		return tx.s.classify(err)
	}
	return tx.EmitChange(ctx, HookAlarmRaised, a.ID, path, "")
}
