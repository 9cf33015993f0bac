package store

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"
	"testing"

	"shequ/internal/errs"
)

// Driver errors that users can act on get a code and a message key; the
// web layer answers them 503 with the translated message (docs/faults.md).
func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, c := range []struct {
		err  error
		code errs.Code
		key  string
	}{
		{fmt.Errorf("failed to connect to `user=postgres`: %w", refused), errs.Unavailable, "err.db_unavailable"},
		{errors.New("FATAL: the database system is starting up (SQLSTATE 57P03)"), errs.Unavailable, "err.db_unavailable"},
		{errors.New("FATAL: terminating connection due to immediate shutdown command (SQLSTATE 57P01)"), errs.Unavailable, "err.db_unavailable"},
		{fmt.Errorf("query: %w", driver.ErrBadConn), errs.Unavailable, "err.db_unavailable"},
		{errors.New("database or disk is full (13)"), errs.Unavailable, "err.disk_full"},
		{errors.New("ERROR: could not extend file: No space left on device (SQLSTATE 53100)"), errs.Unavailable, "err.disk_full"},
		{errors.New("UNIQUE constraint failed: users.username"), errs.Conflict, "err.duplicate"},
		{sql.ErrNoRows, errs.NotFound, "err.not_found"},
	} {
		e, ok := errs.As(Classify(c.err))
		if !ok || e.Code != c.code || e.Key != c.key {
			t.Errorf("Classify(%q) = %v, want %s %s", c.err, Classify(c.err), c.code, c.key)
		}
	}
	other := errors.New("syntax error at or near \"SELEC\"")
	if Classify(other) != other {
		t.Errorf("an error users cannot act on was coded: %v", Classify(other))
	}
	if Classify(nil) != nil {
		t.Error("Classify(nil) is not nil")
	}
}

func TestConnectTimeout(t *testing.T) {
	u, _ := url.Parse(withConnectTimeout("postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=t_1"))
	if q := u.Query(); q.Get("connect_timeout") != connectTimeout || q.Get("search_path") != "t_1" || q.Get("sslmode") != "disable" {
		t.Errorf("default connect_timeout: %s", u)
	}
	if got := withConnectTimeout("postgres://h/db?connect_timeout=30"); got != "postgres://h/db?connect_timeout=30" {
		t.Errorf("a connect_timeout in the URL was changed: %s", got)
	}
}
