package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Retention purges: each removes one kind of personal data past its
// period, in batches of purgeBatch rows, each batch its own short
// transaction, so a large purge never holds the writer (SQLite) or long row
// locks (PostgreSQL) for more than a moment. The periods and what starts
// each clock are in docs/privacy.md; internal/app runs the purges daily.

const purgeBatch = 5000

// purgeRows runs a batched DELETE until a batch removes fewer than
// purgeBatch rows. q selects at most purgeBatch rows by itself (its inner
// SELECT carries LIMIT 5000); when returning is set, q ends in RETURNING
// person_id and the people are marked for the rollups.
func (s *Store) purgeRows(ctx context.Context, q string, returning bool, args ...any) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.Write(ctx, func(tx *Tx) error {
			if !returning {
				r, err := tx.exec(ctx, q, args...)
				if err != nil {
					return err
				}
				n, _ = r.RowsAffected()
				return nil
			}
			tx.noteWrite(q)
			rows, err := tx.tx.QueryContext(ctx, q, args...)
			if err != nil {
				return tx.s.classify(err)
			}
			defer rows.Close()
			for rows.Next() {
				var p sql.NullString
				if err := rows.Scan(&p); err != nil {
					return err
				}
				n++
				if p.Valid {
					tx.markPerson(p.String)
				}
			}
			return rows.Err()
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < purgeBatch || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}

// batchDelete is a DELETE of at most purgeBatch rows of table matching cond.
func batchDelete(table, cond string) string {
	return `DELETE FROM ` + table + ` WHERE id IN (SELECT id FROM ` + table + ` WHERE ` + cond + ` LIMIT ` + strconv.Itoa(purgeBatch) + `)`
}

// dateOf is t's date in China, as dates are stored.
func dateOf(t time.Time) string { return t.In(chinaTime).Format("2006-01-02") }

// PurgeHealth deletes test results sampled, health-code snapshots taken and
// travel declarations made before t, and monitoring that ended before t's
// date. It returns the rows deleted.
func (s *Store) PurgeHealth(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	d := dateOf(before)
	for _, q := range []struct {
		sql string
		arg any
	}{
		{batchDelete("health_tests", `sampled_at < $1`) + ` RETURNING person_id`, ms(before)},
		{batchDelete("code_snapshots", `at < $1`) + ` RETURNING person_id`, ms(before)},
		{batchDelete("travel_declarations", `created_at < $1`) + ` RETURNING person_id`, ms(before)},
		{batchDelete("monitoring", `(end_date < $1 OR (lifted_on IS NOT NULL AND lifted_on < $1))`) + ` RETURNING person_id`, d},
	} {
		n, err := s.purgeRows(ctx, q.sql, true, q.arg)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// PurgeVaccinations deletes doses given before t's date.
func (s *Store) PurgeVaccinations(ctx context.Context, before time.Time) (int64, error) {
	return s.purgeRows(ctx, batchDelete("vaccinations", `given_on < $1`)+` RETURNING person_id`, true, dateOf(before))
}

// PurgePartnerAccess deletes the log of partners' reads made before t.
func (s *Store) PurgePartnerAccess(ctx context.Context, before time.Time) (int64, error) {
	return s.purgeRows(ctx, batchDelete("agreement_access", `at < $1`), false, ms(before))
}

// PurgeWebhookDeliveries deletes deliveries made or given up before t
// (pending ones stay, however old: they are still owed).
func (s *Store) PurgeWebhookDeliveries(ctx context.Context, before time.Time) (int64, error) {
	return s.purgeRows(ctx, batchDelete("webhook_deliveries", `status IN ('delivered','dead') AND created_at < $1`), false, ms(before))
}

// PurgeOutbox deletes messages queued before t, sent or not.
func (s *Store) PurgeOutbox(ctx context.Context, before time.Time) (int64, error) {
	return s.purgeRows(ctx, batchDelete("outbox", `created_at < $1`), false, ms(before))
}

// PurgeVisitors deletes visitor registrations whose visit ended before t.
func (s *Store) PurgeVisitors(ctx context.Context, before time.Time) (int64, error) {
	return s.purgeRows(ctx, batchDelete("visitors", `valid_until < $1`), false, ms(before))
}

// PurgeAlarms deletes gate alarms raised before t, whatever their state.
func (s *Store) PurgeAlarms(ctx context.Context, before time.Time) (int64, error) {
	return s.purgeRows(ctx, batchDelete("alarms", `at < $1`), false, ms(before))
}

// PurgeLeads deletes finished lead batches (every lead verified, the last
// before t) with their leads, the leads' history and the self-reports linked
// to them, and self-reports that never became a lead and were last
// submitted before t. Batches that still have open leads stay. It returns
// the leads and the self-reports deleted.
func (s *Store) PurgeLeads(ctx context.Context, before time.Time) (leads, reports int64, err error) {
	for {
		var batches []string
		rows, err := s.query(ctx, `SELECT b.id FROM lead_batches b WHERE b.created_at < $1
			AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.batch_id = b.id AND (l.status <> 'verified' OR l.verified_at IS NULL OR l.verified_at >= $1))
			ORDER BY b.id LIMIT 20`, ms(before))
		if err != nil {
			return leads, reports, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return leads, reports, err
			}
			batches = append(batches, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return leads, reports, err
		}
		for _, b := range batches {
			// A batch's rows in chunks: lead files can be large.
			for {
				var nl, nr int64
				err := s.Write(ctx, func(tx *Tx) error {
					in := `SELECT id FROM leads WHERE batch_id = $1 ORDER BY id LIMIT 1000`
					r, err := tx.exec(ctx, `DELETE FROM self_reports WHERE lead_id IN (`+in+`)`, b)
					if err != nil {
						return err
					}
					nr, _ = r.RowsAffected()
					if _, err := tx.exec(ctx, `DELETE FROM lead_events WHERE lead_id IN (`+in+`)`, b); err != nil {
						return err
					}
					r, err = tx.exec(ctx, `DELETE FROM leads WHERE id IN (`+in+`)`, b)
					if err != nil {
						return err
					}
					nl, _ = r.RowsAffected()
					if nl == 0 {
						_, err = tx.exec(ctx, `DELETE FROM lead_batches WHERE id = $1`, b)
					}
					return err
				})
				if err != nil {
					return leads, reports, err
				}
				leads, reports = leads+nl, reports+nr
				if nl == 0 {
					break
				}
			}
		}
		if len(batches) < 20 {
			break
		}
	}
	n, err := s.purgeRows(ctx, batchDelete("self_reports", `lead_id IS NULL AND updated_at < $1`), false, ms(before))
	return leads, reports + n, err
}

// PurgeFaces revokes the faces of people who moved out before t's date
// (every household membership ended, none current), as a revocation by
// hand does: the consent is withdrawn, descriptor and photo erased, and
// devices told at their next sync. Each is written to the person's history.
// It also erases the stored values of cards and plates revoked before t
// (the tombstone that devices sync stays). It returns the faces revoked,
// so the caller can drop them from the in-memory gallery, and the card and
// plate values erased.
func (s *Store) PurgeFaces(ctx context.Context, before time.Time) (faces []string, erased int64, err error) {
	d := dateOf(before)
	for {
		var batch []string
		rows, err := s.query(ctx, `SELECT c.id, c.person_id FROM credentials c
			WHERE c.kind = 'face' AND c.revoked_at IS NULL
			AND EXISTS (SELECT 1 FROM household_members m WHERE m.person_id = c.person_id)
			AND NOT EXISTS (SELECT 1 FROM household_members m WHERE m.person_id = c.person_id AND (m.until IS NULL OR m.until >= $1))
			ORDER BY c.id LIMIT 500`, d)
		if err != nil {
			return faces, erased, err
		}
		var people []string
		for rows.Next() {
			var id, person string
			if err := rows.Scan(&id, &person); err != nil {
				rows.Close()
				return faces, erased, err
			}
			batch, people = append(batch, id), append(people, person)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return faces, erased, err
		}
		if len(batch) > 0 {
			err := s.Write(ctx, func(tx *Tx) error {
				for i, id := range batch {
					if err := tx.RevokeCredential(ctx, id); err != nil {
						return err
					}
					if err := tx.LogChange(ctx, &Change{EntityType: "person", EntityID: people[i], PersonID: people[i], ActorName: "system",
						Source: SourceRetention, Action: "credential_revoked", Reason: "retention",
						Changes: `{"kind":"face","credential":"` + id + `"}`}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return faces, erased, err
			}
			faces = append(faces, batch...)
		}
		if len(batch) < 500 {
			break
		}
	}
	erased, err = s.purgeRows(ctx, `UPDATE credentials SET value_enc = NULL, value_bidx = NULL, photo_enc = NULL
		WHERE id IN (SELECT id FROM credentials WHERE revoked_at < $1 AND (value_enc IS NOT NULL OR value_bidx IS NOT NULL OR photo_enc IS NOT NULL) LIMIT `+strconv.Itoa(purgeBatch)+`)`, false, ms(before))
	return faces, erased, err
}

// SourceRetention marks changes made by a retention purge.
const SourceRetention = "retention"

const metaAuditAnchor = "audit_anchor"

// AuditAnchor is where the verifiable audit chain starts after a retention
// purge removed its beginning: the last removed entry's sequence number and
// hash, and a seal over both (a MAC with the audit key, so the start cannot
// be moved without the key). Seq 0 means nothing was removed.
type AuditAnchor struct {
	Seq  int64
	Hash string
	Seal string
}

// AuditAnchor reads the anchor.
func (s *Store) AuditAnchor(ctx context.Context) (AuditAnchor, error) {
	v, err := s.Meta(ctx, metaAuditAnchor)
	if err != nil || v == "" {
		return AuditAnchor{}, err
	}
	return parseAnchor(v)
}

func parseAnchor(v string) (AuditAnchor, error) {
	f := strings.Fields(v)
	if len(f) != 3 {
		return AuditAnchor{}, fmt.Errorf("malformed audit anchor %q", v)
	}
	seq, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return AuditAnchor{}, fmt.Errorf("malformed audit anchor %q", v)
	}
	return AuditAnchor{Seq: seq, Hash: f[1], Seal: f[2]}, nil
}

// PurgeAudit removes audit entries made before t from the start of the
// chain, in batches, and moves the anchor past them in the same
// transaction; seal seals the new anchor. Only a contiguous start is
// removed: the first entry made at or after t ends the purge. It returns
// the entries removed.
func (s *Store) PurgeAudit(ctx context.Context, before time.Time, seal func(seq int64, hash string) string) (int64, error) {
	var total int64
	for {
		var n int64
		err := s.Write(ctx, func(tx *Tx) error {
			var a AuditAnchor
			var v string
			err := tx.queryRow(ctx, `SELECT value FROM meta WHERE key = $1`, metaAuditAnchor).Scan(&v)
			switch {
			case err == sql.ErrNoRows:
			case err != nil:
				return tx.s.classify(err)
			default:
				if a, err = parseAnchor(v); err != nil {
					return err
				}
			}
			var keep, last sql.NullInt64
			if err := tx.queryRow(ctx, `SELECT MIN(seq) FROM audit_log WHERE seq > $1 AND at >= $2`, a.Seq, ms(before)).Scan(&keep); err != nil {
				return tx.s.classify(err)
			}
			if err := tx.queryRow(ctx, `SELECT MAX(seq) FROM audit_log`).Scan(&last); err != nil {
				return tx.s.classify(err)
			}
			cut := min(last.Int64, a.Seq+purgeBatch)
			if keep.Valid {
				cut = min(cut, keep.Int64-1)
			}
			if cut <= a.Seq {
				return nil
			}
			var hash string
			if err := tx.queryRow(ctx, `SELECT hash FROM audit_log WHERE seq = $1`, cut).Scan(&hash); err != nil {
				return tx.s.classify(err)
			}
			r, err := tx.exec(ctx, `DELETE FROM audit_log WHERE seq > $1 AND seq <= $2`, a.Seq, cut)
			if err != nil {
				return err
			}
			n, _ = r.RowsAffected()
			return tx.SetMeta(ctx, metaAuditAnchor, fmt.Sprintf("%d %s %s", cut, hash, seal(cut, hash)))
		})
		if err != nil {
			return total, err
		}
		total += n
		if n < purgeBatch || ctx.Err() != nil {
			return total, ctx.Err()
		}
	}
}
