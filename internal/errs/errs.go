// Package errs gives application errors a code (what kind of failure) and a
// message key (what to tell the user, translated by the web layer). The HTTP
// status for each code is decided in exactly one place: web.statusOf.
package errs

import (
	"errors"
	"fmt"
)

// Code is the kind of failure.
type Code string

const (
	Invalid      Code = "invalid"
	NotFound     Code = "not_found"
	Conflict     Code = "conflict"
	Forbidden    Code = "forbidden"
	Unauthorized Code = "unauthorized"
	TooMany      Code = "too_many"
	Unavailable  Code = "unavailable"
	Internal     Code = "internal"
)

// Error is an application error. Key names a translation ("err.login_failed");
// Args fill its placeholders; Field names the form field or column at fault.
type Error struct {
	Code  Code
	Key   string
	Args  []any
	Field string
	Err   error // the underlying cause, never shown to users
}

func (e *Error) Error() string {
	s := string(e.Code) + ": " + e.Key
	if len(e.Args) > 0 {
		s += fmt.Sprint(e.Args...)
	}
	if e.Field != "" {
		s += " (" + e.Field + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an error with a code and a message key.
func E(code Code, key string, args ...any) *Error {
	return &Error{Code: code, Key: key, Args: args}
}

// Wrap keeps cause for the logs while the user sees key.
func Wrap(cause error, code Code, key string, args ...any) *Error {
	return &Error{Code: code, Key: key, Args: args, Err: cause}
}

// OnField returns a copy of e that names the field at fault.
func (e *Error) OnField(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

// CodeOf reports the code of err, Internal for errors without one.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the application error inside err, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err carries code.
func Is(err error, code Code) bool {
	e, ok := As(err)
	return ok && e.Code == code
}
