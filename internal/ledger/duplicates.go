package ledger

import (
	"context"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/store"
)

// Duplicates lists likely duplicate groups the principal may act on: every
// person of the group must be inside their edit scope.
func (s *Service) Duplicates(ctx context.Context, p *access.Principal) ([]store.DuplicateGroup, error) {
	groups, err := s.Store.DuplicateGroups(ctx, 200)
	if err != nil {
		return nil, err
	}
	var out []store.DuplicateGroup
	for _, g := range groups {
		all := true
		for _, person := range g.Persons {
			ok, err := s.MayView(ctx, p, access.PersonEdit, person.ID)
			if err != nil {
				return nil, err
			}
			all = all && ok
		}
		if all {
			out = append(out, g)
		}
	}
	return out, nil
}

// Merge folds drop into keep: households, ownerships, contracts, health
// records and history all move to keep, and drop is kept as merged.
func (s *Service) Merge(ctx context.Context, a Actor, keepID, dropID, reason string) error {
	if keepID == dropID {
		return errs.E(errs.Invalid, "err.merge.same")
	}
	keep, err := s.Store.Person(ctx, keepID)
	if err != nil {
		return err
	}
	drop, err := s.Store.Person(ctx, dropID)
	if err != nil {
		return err
	}
	if keep.MergedInto != "" || drop.MergedInto != "" {
		return errs.E(errs.Conflict, "err.merge.already")
	}
	for _, id := range []string{keepID, dropID} {
		if err := s.mayEditPerson(ctx, a, id); err != nil {
			return err
		}
	}
	return s.Store.Write(ctx, func(tx *store.Tx) error {
		if err := tx.MergePersons(ctx, keepID, dropID); err != nil {
			return err
		}
		for _, c := range []*store.Change{
			{EntityType: "person", EntityID: keepID, PersonID: keepID, Action: "merge", Changes: jsonOf(map[string]any{"merged": dropID, "name": drop.Name, "id_number": drop.IDMask})},
			{EntityType: "person", EntityID: dropID, Action: "merged_into", Changes: jsonOf(map[string]any{"into": keepID})},
		} {
			c.ActorID, c.ActorName, c.Source, c.Reason = a.id(), a.name(), a.source(), reason
			if err := tx.LogChange(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
}
