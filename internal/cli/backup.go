package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"shequ/internal/config"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// backupCmd writes an online, consistent copy of the SQLite database
// while the server keeps writing (store.BackupFile).
func backupCmd(ctx context.Context, e *Env, args []string) error {
	fset := flags(e, "backup")
	to := fset.String("to", "", "file to write the backup to (must not exist)")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if *to == "" && fset.NArg() == 1 {
		*to = fset.Arg(0)
	}
	if *to == "" || fset.NArg() > 1 {
		return errors.New("usage: shequ backup --to FILE [flags]")
	}
	cfg, err := config.Load(fset, e.Getenv)
	if err != nil {
		return err
	}
	// The store only: a backup must not migrate, load galleries or start
	// anything next to a running server.
	s, err := store.Open(ctx, cfg.DB, nil)
	if err != nil {
		return err
	}
	defer s.Close()
	info, err := s.BackupFile(ctx, *to)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "backup written to %s (%d bytes, schema version %d, integrity ok)\n", info.Path, info.Bytes, info.Version)
	fmt.Fprintf(e.Stdout, "protected fields in it are encrypted with key %s: keep a copy of the key file %s, apart from the backup\n", info.KeyFingerprint, cfg.KeyFile)
	return nil
}

// restoreCmd puts a backup in place of the SQLite database, after checking
// its integrity, its schema version and that the key file opens it.
func restoreCmd(ctx context.Context, e *Env, args []string) error {
	fset := flags(e, "restore")
	from := fset.String("from", "", "backup file written by shequ backup")
	force := fset.Bool("force", false, "overwrite an existing database, even one a running server has open")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if *from == "" || fset.NArg() > 0 {
		return errors.New("usage: shequ restore --from FILE [--force] [flags]")
	}
	cfg, err := config.Load(fset, e.Getenv)
	if err != nil {
		return err
	}
	info, err := store.Restore(ctx, *from, cfg.DB, store.RestoreOptions{Force: *force, Accept: func(info store.BackupInfo) error {
		return keyOpens(cfg, info)
	}})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.Stdout, "restored %s into %s (schema version %d, integrity ok, key %s)\n", *from, config.SQLitePath(cfg.DB), info.Version, info.KeyFingerprint)
	return nil
}

// keyOpens checks that the configured key file is the key the backup's
// data was encrypted with: a restore without it would bring back data
// nobody can read.
func keyOpens(cfg config.Config, info store.BackupInfo) error {
	if info.KeyFingerprint == "" {
		return nil // nothing was ever encrypted
	}
	suite := info.Cipher
	if suite == "" {
		suite = cfg.Cipher
	}
	st, err := pii.ParseSuite(suite)
	if err != nil {
		return err
	}
	keys, err := pii.LoadKeyFileSuite(cfg.KeyFile, st)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the key file %s is missing: put back the key file saved with the backup first (key %s); without it the restored data cannot be read", cfg.KeyFile, info.KeyFingerprint)
	}
	if err != nil {
		return fmt.Errorf("SHEQU_KEY_FILE: %w", err)
	}
	if keys.Fingerprint() != info.KeyFingerprint {
		return fmt.Errorf("the key file %s holds key %s, but the backup was encrypted with key %s: use the key file saved with the backup", cfg.KeyFile, keys.Fingerprint(), info.KeyFingerprint)
	}
	return nil
}
