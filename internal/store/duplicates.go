package store

import (
	"context"
	"strings"
)

// DuplicateGroup is a set of person records that look like one person.
type DuplicateGroup struct {
	Reason  string // "id" (same identity number) or "name_birth_phone"
	Persons []Person
}

// DuplicateGroups finds likely duplicates among people who are not merged:
// the same identity number, or the same name, birth date and phone.
func (s *Store) DuplicateGroups(ctx context.Context, limit int) ([]DuplicateGroup, error) {
	var out []DuplicateGroup
	for _, g := range []struct{ reason, key string }{
		{"id", "pe.id_bidx"},
		{"name_birth_phone", "pe.name || '|' || COALESCE(pe.birth_date, '') || '|' || COALESCE(pe.phone_bidx, '')"},
	} {
		rows, err := s.query(ctx, `SELECT `+personCols+`, `+g.key+` FROM persons pe WHERE pe.merged_into IS NULL AND `+g.key+` IN (
			SELECT `+g.key+` FROM persons pe WHERE pe.merged_into IS NULL AND `+g.key+` IS NOT NULL
			GROUP BY `+g.key+` HAVING count(*) > 1 LIMIT $1) ORDER BY `+g.key+`, pe.created_at`, limit)
		if err != nil {
			return nil, err
		}
		last := ""
		for rows.Next() {
			var key string
			p, err := scanPerson(rows, &key)
			if err != nil {
				rows.Close()
				return nil, err
			}
			if g.reason == "name_birth_phone" && strings.HasSuffix(key, "|") {
				continue // no phone: too weak to call a duplicate
			}
			if key != last {
				out = append(out, DuplicateGroup{Reason: g.reason})
				last = key
			}
			out[len(out)-1].Persons = append(out[len(out)-1].Persons, p)
		}
		rows.Close()
	}
	// Groups found by both rules appear once, under the stronger reason.
	seen := map[string]bool{}
	var uniq []DuplicateGroup
	for _, g := range out {
		if len(g.Persons) < 2 {
			continue
		}
		ids := make([]string, len(g.Persons))
		for i, p := range g.Persons {
			ids[i] = p.ID
		}
		k := strings.Join(ids, ",")
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, g)
		}
	}
	return uniq, nil
}

// MergePersons moves everything that points at drop onto keep and marks
// drop as merged into keep. Nothing is deleted: drop stays as a record of
// the merge.
func (tx *Tx) MergePersons(ctx context.Context, keep, drop string) error {
	tx.markPerson(keep)
	tx.markPerson(drop)
	stmts := []string{
		// A household both belong to keeps keep's membership.
		`DELETE FROM household_members WHERE person_id = $2 AND household_id IN (SELECT household_id FROM household_members WHERE person_id = $1)`,
		`UPDATE household_members SET person_id = $1 WHERE person_id = $2`,
		`UPDATE households SET head_id = $1 WHERE head_id = $2`,
		`DELETE FROM room_owners WHERE person_id = $2 AND room_id IN (SELECT room_id FROM room_owners WHERE person_id = $1)`,
		`UPDATE room_owners SET person_id = $1 WHERE person_id = $2`,
		`DELETE FROM contract_tenants WHERE person_id = $2 AND contract_id IN (SELECT contract_id FROM contract_tenants WHERE person_id = $1)`,
		`UPDATE contract_tenants SET person_id = $1 WHERE person_id = $2`,
		`UPDATE contracts SET landlord_id = $1 WHERE landlord_id = $2`,
		`UPDATE health_tests SET person_id = $1 WHERE person_id = $2`,
		`UPDATE vaccinations SET person_id = $1 WHERE person_id = $2`,
		`UPDATE code_snapshots SET person_id = $1 WHERE person_id = $2`,
		`UPDATE travel_declarations SET person_id = $1 WHERE person_id = $2`,
		`UPDATE monitoring SET person_id = $1 WHERE person_id = $2`,
		`UPDATE change_log SET person_id = $1 WHERE person_id = $2`,
		`UPDATE face_consents SET person_id = $1 WHERE person_id = $2`,
		`UPDATE credentials SET person_id = $1 WHERE person_id = $2`,
		`UPDATE access_lists SET person_id = $1 WHERE person_id = $2`,
		`UPDATE visitors SET host_person_id = $1 WHERE host_person_id = $2`,
		`UPDATE visitors SET person_id = $1 WHERE person_id = $2`,
		`UPDATE pass_events SET person_id = $1 WHERE person_id = $2`,
		`UPDATE decisions SET person_id = $1 WHERE person_id = $2`,
		`UPDATE alarms SET person_id = $1 WHERE person_id = $2`,
		`UPDATE persons SET merged_into = $1 WHERE id = $2`,
		`UPDATE persons SET merged_into = $1 WHERE merged_into = $2`,
	}
	for _, q := range stmts {
		if _, err := tx.exec(ctx, q, keep, drop); err != nil {
			return err
		}
	}
	tx.resync(keep) // devices learn that the credentials are keep's now
	return nil
}
