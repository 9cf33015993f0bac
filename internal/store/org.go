package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"shequ/internal/errs"
	"shequ/internal/ids"
)

// Level is a level of the organisation tree.
type Level string

const (
	LevelProvince  Level = "province"
	LevelCity      Level = "city"
	LevelDistrict  Level = "district"
	LevelStreet    Level = "street"
	LevelCommunity Level = "community"
	LevelGrid      Level = "grid"
)

// Levels in order from the top.
var Levels = []Level{LevelProvince, LevelCity, LevelDistrict, LevelStreet, LevelCommunity, LevelGrid}

// Depth is the level's position from the top (province = 0).
func (l Level) Depth() int {
	for i, x := range Levels {
		if x == l {
			return i
		}
	}
	return -1
}

// OrgNode is one node of the organisation tree. Path lists the ids from the
// root ("/a/b/c/"), so "inside node X" is a prefix test.
type OrgNode struct {
	ID        string
	ParentID  string
	Level     Level
	Code      string // 12-digit division code; grids: community code + 3-digit number
	Name      string
	Path      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OrgHistory is one recorded change of a node.
type OrgHistory struct {
	At                       time.Time
	ActorID, ActorName       string
	Action                   string
	OldParentID, NewParentID string
	OldCode, NewCode         string
	OldName, NewName         string
}

const orgCols = `id, COALESCE(parent_id, ''), level, code, name, path, created_at, updated_at`

func scanOrg(sc interface{ Scan(...any) error }) (OrgNode, error) {
	var n OrgNode
	var c, u sql.NullInt64
	err := sc.Scan(&n.ID, &n.ParentID, &n.Level, &n.Code, &n.Name, &n.Path, &c, &u)
	n.CreatedAt, n.UpdatedAt = fromMS(c), fromMS(u)
	return n, err
}

// OrgNode loads a node by id.
func (s *Store) OrgNode(ctx context.Context, id string) (OrgNode, error) {
	n, err := scanOrg(s.queryRow(ctx, `SELECT `+orgCols+` FROM org_nodes WHERE id = $1`, id))
	return n, s.classify(err)
}

// OrgNodeByCode loads a node by its division or grid code.
func (s *Store) OrgNodeByCode(ctx context.Context, code string) (OrgNode, error) {
	n, err := scanOrg(s.queryRow(ctx, `SELECT `+orgCols+` FROM org_nodes WHERE code = $1`, code))
	return n, s.classify(err)
}

func (s *Store) orgList(ctx context.Context, q string, args ...any) ([]OrgNode, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OrgNode
	for rows.Next() {
		n, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// OrgChildren lists a node's children by code; parentID "" lists the roots.
func (s *Store) OrgChildren(ctx context.Context, parentID string) ([]OrgNode, error) {
	if parentID == "" {
		return s.orgList(ctx, `SELECT `+orgCols+` FROM org_nodes WHERE parent_id IS NULL ORDER BY code`)
	}
	return s.orgList(ctx, `SELECT `+orgCols+` FROM org_nodes WHERE parent_id = $1 ORDER BY code`, parentID)
}

// OrgSubtree lists a node and everything below it depth first, parents
// before children and siblings in code order.
func (s *Store) OrgSubtree(ctx context.Context, path string) ([]OrgNode, error) {
	nodes, err := s.orgList(ctx, `SELECT `+orgCols+` FROM org_nodes WHERE path LIKE $1 ORDER BY code`, likePrefix(path))
	if err != nil || len(nodes) == 0 {
		return nodes, err
	}
	children := map[string][]OrgNode{}
	var root OrgNode
	for _, n := range nodes {
		if n.Path == path {
			root = n
			continue
		}
		children[n.ParentID] = append(children[n.ParentID], n)
	}
	out := make([]OrgNode, 0, len(nodes))
	var walk func(n OrgNode)
	walk = func(n OrgNode) {
		out = append(out, n)
		for _, c := range children[n.ID] {
			walk(c)
		}
	}
	walk(root)
	return out, nil
}

// NodesAt lists the nodes of a level at or below any of the paths, each
// once, in code order.
func (s *Store) NodesAt(ctx context.Context, scopes []string, level Level) ([]OrgNode, error) {
	var out []OrgNode
	seen := map[string]bool{}
	for _, scope := range scopes {
		nodes, err := s.OrgSubtree(ctx, scope)
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			if n.Level == level && !seen[n.ID] {
				seen[n.ID] = true
				out = append(out, n)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

// OrgAncestors lists the nodes on a path, top first.
func (s *Store) OrgAncestors(ctx context.Context, path string) ([]OrgNode, error) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	out := make([]OrgNode, 0, len(parts))
	for _, id := range parts {
		if id == "" {
			continue
		}
		n, err := s.OrgNode(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// OrgHistory lists the recorded changes of a node, newest first.
func (s *Store) OrgHistory(ctx context.Context, nodeID string) ([]OrgHistory, error) {
	rows, err := s.query(ctx, `SELECT h.at, COALESCE(h.actor_id, ''), COALESCE(u.display_name, ''), h.action,
		COALESCE(h.old_parent_id, ''), COALESCE(h.new_parent_id, ''), COALESCE(h.old_code, ''), COALESCE(h.new_code, ''),
		COALESCE(h.old_name, ''), COALESCE(h.new_name, '')
		FROM org_node_history h LEFT JOIN users u ON u.id = h.actor_id
		WHERE h.node_id = $1 ORDER BY h.at DESC, h.id DESC`, nodeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []OrgHistory
	for rows.Next() {
		var h OrgHistory
		var at int64
		if err := rows.Scan(&at, &h.ActorID, &h.ActorName, &h.Action, &h.OldParentID, &h.NewParentID,
			&h.OldCode, &h.NewCode, &h.OldName, &h.NewName); err != nil {
			return nil, err
		}
		h.At = time.UnixMilli(at).UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}

// likePrefix makes a LIKE pattern matching strings that start with p.
// Paths hold only ids and slashes, so no escaping is needed.
func likePrefix(p string) string { return p + "%" }

// CreateOrgNode adds a node under parentID ("" for a root) and records it.
func (tx *Tx) CreateOrgNode(ctx context.Context, n *OrgNode, actorID string) error {
	if n.ID == "" {
		n.ID = ids.New()
	}
	n.Path = "/" + n.ID + "/"
	if n.ParentID != "" {
		p, err := tx.orgNode(ctx, n.ParentID)
		if err != nil {
			return err
		}
		n.Path = p.Path + n.ID + "/"
	}
	now := tx.Now()
	n.CreatedAt, n.UpdatedAt = now, now
	_, err := tx.exec(ctx, `INSERT INTO org_nodes (id, parent_id, level, code, name, path, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		n.ID, nullStr(n.ParentID), n.Level, n.Code, n.Name, n.Path, ms(now), ms(now))
	if err != nil {
		if errs.Is(err, errs.Conflict) {
			return errs.Wrap(err, errs.Conflict, "err.org_code_taken", n.Code).OnField("code")
		}
		return err
	}
	return tx.orgHistory(ctx, n.ID, actorID, "create", "", n.ParentID, "", n.Code, "", n.Name)
}

// RenameOrgNode changes a node's name and code.
func (tx *Tx) RenameOrgNode(ctx context.Context, id, name, code, actorID string) error {
	n, err := tx.orgNode(ctx, id)
	if err != nil {
		return err
	}
	if n.Name == name && n.Code == code {
		return nil
	}
	if _, err := tx.exec(ctx, `UPDATE org_nodes SET name = $1, code = $2, updated_at = $3 WHERE id = $4`,
		name, code, ms(tx.Now()), id); err != nil {
		if errs.Is(err, errs.Conflict) {
			return errs.Wrap(err, errs.Conflict, "err.org_code_taken", code).OnField("code")
		}
		return err
	}
	return tx.orgHistory(ctx, id, actorID, "rename", n.ParentID, n.ParentID, n.Code, code, n.Name, name)
}

// MoveOrgNode re-parents a node (and its subtree) and gives it a new code.
// Records keep pointing at the node's id, so nothing that belongs to it is
// lost; the move itself is kept in the node's history.
func (tx *Tx) MoveOrgNode(ctx context.Context, id, newParentID, newCode, actorID string) error {
	n, err := tx.orgNode(ctx, id)
	if err != nil {
		return err
	}
	p, err := tx.orgNode(ctx, newParentID)
	if err != nil {
		return err
	}
	if strings.HasPrefix(p.Path, n.Path) {
		return errs.E(errs.Invalid, "err.org_move_into_self")
	}
	newPath := p.Path + n.ID + "/"
	now := ms(tx.Now())
	// Rewrite the subtree's paths: new prefix + the part below the node.
	if _, err := tx.exec(ctx, `UPDATE org_nodes SET path = $1 || substr(path, $2), updated_at = $3 WHERE path LIKE $4`,
		newPath, len(n.Path)+1, now, likePrefix(n.Path)); err != nil {
		return err
	}
	if _, err := tx.exec(ctx, `UPDATE org_nodes SET parent_id = $1, code = $2 WHERE id = $3`, p.ID, newCode, id); err != nil {
		if errs.Is(err, errs.Conflict) {
			return errs.Wrap(err, errs.Conflict, "err.org_code_taken", newCode).OnField("code")
		}
		return err
	}
	return tx.orgHistory(ctx, id, actorID, "move", n.ParentID, p.ID, n.Code, newCode, n.Name, n.Name)
}

func (tx *Tx) orgNode(ctx context.Context, id string) (OrgNode, error) {
	n, err := scanOrg(tx.queryRow(ctx, `SELECT `+orgCols+` FROM org_nodes WHERE id = $1`, id))
	if err != nil {
		return n, tx.s.classify(err)
	}
	return n, nil
}

// OrgNode loads a node inside the transaction.
func (tx *Tx) OrgNode(ctx context.Context, id string) (OrgNode, error) { return tx.orgNode(ctx, id) }

// OrgNodeByCode loads a node by code inside the transaction.
func (tx *Tx) OrgNodeByCode(ctx context.Context, code string) (OrgNode, error) {
	n, err := scanOrg(tx.queryRow(ctx, `SELECT `+orgCols+` FROM org_nodes WHERE code = $1`, code))
	return n, tx.s.classify(err)
}

func (tx *Tx) orgHistory(ctx context.Context, nodeID, actorID, action, oldParent, newParent, oldCode, newCode, oldName, newName string) error {
	_, err := tx.exec(ctx, `INSERT INTO org_node_history (id, node_id, at, actor_id, action, old_parent_id, new_parent_id, old_code, new_code, old_name, new_name)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		ids.New(), nodeID, ms(tx.Now()), nullStr(actorID), action, nullStr(oldParent), nullStr(newParent),
		nullStr(oldCode), nullStr(newCode), nullStr(oldName), nullStr(newName))
	return err
}

// CountOrgNodes counts nodes per level below path (all when path is "").
func (s *Store) CountOrgNodes(ctx context.Context, path string) (map[Level]int, error) {
	rows, err := s.query(ctx, `SELECT level, count(*) FROM org_nodes WHERE path LIKE $1 GROUP BY level`, likePrefix(path))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[Level]int{}
	for rows.Next() {
		var l Level
		var n int
		if err := rows.Scan(&l, &n); err != nil {
			return nil, err
		}
		out[l] = n
	}
	return out, rows.Err()
}

// NextGridCode proposes the next free grid code inside a community.
func (tx *Tx) NextGridCode(ctx context.Context, communityID string) (string, error) {
	return nextGridCode(ctx, tx.tx, tx.s, communityID)
}

// NextGridCode proposes the next free grid code inside a community.
func (s *Store) NextGridCode(ctx context.Context, communityID string) (string, error) {
	return nextGridCode(ctx, s.r, s, communityID)
}

func nextGridCode(ctx context.Context, q queryer, s *Store, communityID string) (string, error) {
	c, err := scanOrg(q.QueryRowContext(ctx, `SELECT `+orgCols+` FROM org_nodes WHERE id = $1`, communityID))
	if err != nil {
		return "", s.classify(err)
	}
	var max sql.NullString
	if err := q.QueryRowContext(ctx, `SELECT max(code) FROM org_nodes WHERE code LIKE $1 AND level = 'grid'`, c.Code+"%").Scan(&max); err != nil {
		return "", s.classify(err)
	}
	next := 1
	if max.Valid && len(max.String) == 15 {
		fmt.Sscanf(max.String[12:], "%d", &next)
		next++
	}
	return fmt.Sprintf("%s%03d", c.Code, next), nil
}
