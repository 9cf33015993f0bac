package store

import (
	"context"
	"database/sql/driver"
)

// Alone runs fn unless another process sharing the PostgreSQL database is
// running the job of the same name at this moment; ran says whether fn ran.
// It serialises background jobs whose rounds read before they write (the
// big screen's refresher), so two instances never interleave them. The lock
// is a session advisory lock held on one connection while fn runs, keyed by
// the schema and the name; it goes with the connection if the process
// dies. On SQLite there is one process and fn always runs.
func (s *Store) Alone(ctx context.Context, name string, fn func(ctx context.Context) error) (ran bool, err error) {
	if s.Dialect != Postgres {
		return true, fn(ctx)
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return false, s.classify(err)
	}
	defer conn.Close()
	const key = `hashtextextended(current_schema() || ':' || $1, 0)`
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(`+key+`)`, name).Scan(&got); err != nil || !got {
		return false, s.classify(err)
	}
	defer func() {
		if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(`+key+`)`, name); uerr != nil {
			// Not unlocked: the connection must not go back to the pool
			// holding the lock (a lost one has released it already).
			conn.Raw(func(any) error { return driver.ErrBadConn })
			if err == nil {
				err = s.classify(uerr)
			}
		}
	}()
	return true, fn(ctx)
}
