package leads

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"shequ/internal/access"
	"shequ/internal/errs"
	"shequ/internal/store"
)

// Keyed identifiers (docs/leads.md): instead of an identity number, an
// upper level may send HMAC-SHA256(key, "shequ-lead-v1" || 0x00 || number)
// in unpadded base64url, under the key of a sharing agreement. Only the
// people of this ledger can be recognised; for anyone else the community
// holds a value it cannot turn back into a number without guessing it.

// hmacLabel separates these identifiers from any other use of the key.
const hmacLabel = "shequ-lead-v1\x00"

// IDHMAC is the keyed identifier of a resident identity number (18
// characters, upper-case X) under an agreement's key.
func IDHMAC(key []byte, number string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(hmacLabel + strings.ToUpper(strings.TrimSpace(number))))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CreateKey makes the key of a sharing agreement at a node (a district,
// a street) and returns it once, in base64, to hand to the upper level.
func (s *Service) CreateKey(ctx context.Context, p *access.Principal, nodeID, name string) (store.LeadKey, string, error) {
	node, err := s.Store.OrgNode(ctx, nodeID)
	if err != nil {
		return store.LeadKey{}, "", errs.E(errs.Invalid, "err.lead.node").OnField("node")
	}
	if p != nil && !p.Can(access.LeadManage, node.Path) {
		return store.LeadKey{}, "", errs.E(errs.Forbidden, "err.forbidden")
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return store.LeadKey{}, "", err
	}
	enc, err := s.Keys.Encrypt(key, "lead_keys.key")
	if err != nil {
		return store.LeadKey{}, "", err
	}
	k := store.LeadKey{NodeID: node.ID, Name: strings.TrimSpace(name), KeyEnc: enc}
	if k.Name == "" {
		return k, "", errs.E(errs.Invalid, "err.org_name_required").OnField("name")
	}
	actor := ""
	if p != nil {
		actor = p.UserID
	}
	err = s.Store.Write(ctx, func(tx *store.Tx) error { return tx.CreateLeadKey(ctx, &k, actor) })
	return k, base64.StdEncoding.EncodeToString(key), err
}

// keyedPeople maps the keyed identifiers of everyone living at or below a
// node to their person ids, under an agreement the node may use.
func (s *Service) keyedPeople(ctx context.Context, keyID string, node store.OrgNode) (map[string]string, error) {
	k, keyPath, err := s.Store.LeadKey(ctx, keyID)
	if err != nil {
		return nil, errs.E(errs.Invalid, "err.lead.key").OnField("key_id")
	}
	// The agreement is the node's own or an ancestor's (a district's key
	// serves its streets).
	if !strings.HasPrefix(node.Path, keyPath) {
		return nil, errs.E(errs.Invalid, "err.lead.key").OnField("key_id")
	}
	key, err := s.Keys.Decrypt(k.KeyEnc, "lead_keys.key")
	if err != nil {
		return nil, err
	}
	ids, err := s.Store.LivingIDs(ctx, node.Path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(ids))
	for person, enc := range ids {
		number, err := s.Keys.DecryptString(enc, "persons.id_number")
		if err != nil {
			return nil, err
		}
		out[IDHMAC(key, number)] = person
	}
	return out, nil
}
