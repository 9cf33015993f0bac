package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"shequ/internal/pii"
	"shequ/internal/store"
)

const keysUsage = `usage:
  shequ keys rotate [--grace 60s]   add a new key, let running servers pick it up, then re-encrypt every protected value
  shequ keys status                 how many protected values still use an older key`

// keysCmd rotates the data-encryption key without downtime: the new key is
// appended to the key file (old keys stay, so everything keeps
// decrypting); running servers reload the file within 30 seconds; after
// the grace period every value is re-encrypted with the new key.
func keysCmd(ctx context.Context, e *Env, args []string) error {
	if len(args) == 0 || (args[0] != "rotate" && args[0] != "status") {
		return errors.New(keysUsage)
	}
	fs := flags(e, "keys "+args[0])
	grace := fs.Duration("grace", time.Minute, "time for running servers to load the new key before values are re-encrypted")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	a, err := open(ctx, e, fs)
	if err != nil {
		return err
	}
	defer a.Close()
	if args[0] == "status" {
		for _, c := range store.EncryptedColumns {
			old := 0
			if _, err := a.Store.Reencrypt(ctx, c, func(ct []byte) ([]byte, bool, error) {
				if a.Keys.NeedsRotation(ct) {
					old++
				}
				return nil, false, nil
			}); err != nil {
				return err
			}
			fmt.Fprintf(e.Stdout, "%s.%s: %d values on an older key\n", c.Table, c.Column, old)
		}
		fmt.Fprintf(e.Stdout, "active key: %s\n", a.Keys.ActiveID())
		return nil
	}
	nk, err := pii.AddKey(a.Cfg.KeyFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "added key %s to %s; back the file up now\n", nk.ActiveID(), a.Cfg.KeyFile)
	if *grace > 0 {
		fmt.Fprintf(e.Stdout, "waiting %s for running servers to load it…\n", *grace)
		select {
		case <-time.After(*grace):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if _, err := a.Keys.Reload(a.Cfg.KeyFile); err != nil {
		return err
	}
	total := 0
	for _, c := range store.EncryptedColumns {
		n, err := a.Store.Reencrypt(ctx, c, func(ct []byte) ([]byte, bool, error) { return a.Keys.Reencrypt(ct, c.Context) })
		if err != nil {
			return fmt.Errorf("%s.%s: %w", c.Table, c.Column, err)
		}
		fmt.Fprintf(e.Stdout, "%s.%s: %d values re-encrypted\n", c.Table, c.Column, n)
		total += n
	}
	fmt.Fprintf(e.Stdout, "rotation done: %d values now use key %s\n", total, a.Keys.ActiveID())
	return nil
}
