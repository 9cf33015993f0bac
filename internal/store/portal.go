package store

import (
	"context"
	"time"
)

// Post is a piece of community news or an outbreak update.
type Post struct {
	ID, CommunityID, Kind, Title, Body, Author string
	PublishedAt                                time.Time
}

// CreatePost publishes a post.
func (tx *Tx) CreatePost(ctx context.Context, p *Post) error {
	p.ID = orNew(p.ID)
	if p.PublishedAt.IsZero() {
		p.PublishedAt = tx.Now()
	}
	_, err := tx.exec(ctx, `INSERT INTO posts (id, community_id, kind, title, body, author, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		p.ID, nullStr(p.CommunityID), p.Kind, p.Title, p.Body, p.Author, ms(p.PublishedAt))
	return err
}

// Posts lists a community's posts and the street-wide ones, newest first.
func (s *Store) Posts(ctx context.Context, communityID string, limit int) ([]Post, error) {
	rows, err := s.query(ctx, `SELECT id, COALESCE(community_id, ''), kind, title, body, author, published_at FROM posts
		WHERE community_id = $1 OR community_id IS NULL ORDER BY published_at DESC LIMIT $2`, communityID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Post
	for rows.Next() {
		var p Post
		var at int64
		if err := rows.Scan(&p.ID, &p.CommunityID, &p.Kind, &p.Title, &p.Body, &p.Author, &at); err != nil {
			return nil, err
		}
		p.PublishedAt = time.UnixMilli(at).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// Rumour is a claim going round and the truth about it.
type Rumour struct {
	ID, Claim, Verdict, Explanation, Source, PublishedOn string
}

// CreateRumour adds an entry to the register.
func (tx *Tx) CreateRumour(ctx context.Context, r *Rumour) error {
	r.ID = orNew(r.ID)
	_, err := tx.exec(ctx, `INSERT INTO rumours (id, claim, verdict, explanation, source, published_on) VALUES ($1, $2, $3, $4, $5, $6)`,
		r.ID, r.Claim, r.Verdict, r.Explanation, r.Source, r.PublishedOn)
	return err
}

// Rumours searches the register (claim or explanation), newest first.
func (s *Store) Rumours(ctx context.Context, q string, limit int) ([]Rumour, error) {
	rows, err := s.query(ctx, `SELECT id, claim, verdict, explanation, source, published_on FROM rumours
		WHERE $1 = '' OR claim LIKE $2 OR explanation LIKE $2 ORDER BY published_on DESC, id LIMIT $3`, q, "%"+q+"%", limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Rumour
	for rows.Next() {
		var r Rumour
		if err := rows.Scan(&r.ID, &r.Claim, &r.Verdict, &r.Explanation, &r.Source, &r.PublishedOn); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Rumour loads one entry.
func (s *Store) Rumour(ctx context.Context, id string) (Rumour, error) {
	var r Rumour
	err := s.queryRow(ctx, `SELECT id, claim, verdict, explanation, source, published_on FROM rumours WHERE id = $1`, id).
		Scan(&r.ID, &r.Claim, &r.Verdict, &r.Explanation, &r.Source, &r.PublishedOn)
	return r, s.classify(err)
}

// Service is a place nearby residents may need.
type Service struct {
	ID, CommunityID, Kind, Name, Hours, Phone, Address string
}

// CreateService lists a service.
func (tx *Tx) CreateService(ctx context.Context, v *Service) error {
	v.ID = orNew(v.ID)
	_, err := tx.exec(ctx, `INSERT INTO services (id, community_id, kind, name, hours, phone, address) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		v.ID, v.CommunityID, v.Kind, v.Name, v.Hours, v.Phone, v.Address)
	return err
}

// Services lists a community's services by kind.
func (s *Store) Services(ctx context.Context, communityID string) ([]Service, error) {
	rows, err := s.query(ctx, `SELECT id, community_id, kind, name, hours, phone, address FROM services WHERE community_id = $1 ORDER BY kind, name`, communityID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Service
	for rows.Next() {
		var v Service
		if err := rows.Scan(&v.ID, &v.CommunityID, &v.Kind, &v.Name, &v.Hours, &v.Phone, &v.Address); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
