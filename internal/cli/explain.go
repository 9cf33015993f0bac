package cli

import (
	"errors"

	"shequ/internal/errs"
	"shequ/internal/locale"
)

// english prints messages on the command line, whose other output is
// English too.
var english = locale.MustLoad().Printer("en")

// explain turns an application error into its message.
func explain(err error) error {
	e, ok := errs.As(err)
	if !ok || e.Code == errs.Internal {
		return err
	}
	msg := english.T(e.Key, e.Args...)
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	return errors.New(msg)
}
