// Package app wires shequ together: configuration → keys → store → services
// → HTTP, and runs the background jobs. cmd/shequ and the tests build the
// whole program through it.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"shequ/internal/access"
	"shequ/internal/assess"
	"shequ/internal/audit"
	"shequ/internal/auth"
	"shequ/internal/brain"
	"shequ/internal/config"
	"shequ/internal/events"
	"shequ/internal/face"
	"shequ/internal/gate"
	"shequ/internal/gridwork"
	"shequ/internal/leads"
	"shequ/internal/ledger"
	"shequ/internal/locale"
	"shequ/internal/mqttbridge"
	"shequ/internal/notify"
	"shequ/internal/pii"
	"shequ/internal/sharing"
	"shequ/internal/store"
	"shequ/internal/web"
	"shequ/internal/webhook"
)

// Version is set at build time (-ldflags "-X shequ/internal/app.Version=…").
var Version = "dev"

// App is one running shequ.
type App struct {
	Cfg    config.Config
	Log    *slog.Logger
	Store  *store.Store
	Keys   *pii.Keyring
	Audit  *audit.Log
	Auth   *auth.Service
	Ledger *ledger.Service
	Gates  *gate.Service
	Web    *web.Server
	Now    func() time.Time
	// Webhooks sends partners' webhooks (run every few seconds by Serve);
	// its Allowed is the sharing gate, its Client replaceable in tests.
	Webhooks *webhook.Deliverer

	srv *http.Server
	ln  net.Listener
}

// StartupError is a problem that must stop the program before it writes
// anything; Var names the setting at fault.
type StartupError struct {
	Var string
	Err error
}

func (e *StartupError) Error() string { return e.Var + ": " + e.Err.Error() }
func (e *StartupError) Unwrap() error { return e.Err }

const (
	metaKeyCheck = "key_fingerprint"
	metaCipher   = "cipher_suite"
)

// Open opens the database, checks its schema and the key file, migrates,
// and builds the services. now nil means the wall clock.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, now func() time.Time) (*App, error) {
	if now == nil {
		now = time.Now
	}
	s, err := store.Open(ctx, cfg.DB, now)
	if err != nil {
		return nil, &StartupError{Var: "SHEQU_DB", Err: err}
	}
	a := &App{Cfg: cfg, Log: log, Store: s, Now: now}
	if err := a.init(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) init(ctx context.Context) error {
	s := a.Store
	version, err := s.SchemaVersion(ctx)
	if err != nil {
		return &StartupError{Var: "SHEQU_DB", Err: err}
	}
	if version > s.LatestVersion() {
		return &StartupError{Var: "SHEQU_DB", Err: fmt.Errorf("database schema version %d is newer than this binary (%d): upgrade shequ", version, s.LatestVersion())}
	}
	fingerprint, suite := "", a.Cfg.Cipher
	if version > 0 {
		if fingerprint, err = s.Meta(ctx, metaKeyCheck); err != nil {
			return &StartupError{Var: "SHEQU_DB", Err: err}
		}
		if stored, _ := s.Meta(ctx, metaCipher); stored != "" && stored != suite {
			return &StartupError{Var: "SHEQU_CIPHER", Err: fmt.Errorf("this database was created with %s, not %s: the suite cannot change on an existing database", stored, suite)}
		}
	}
	st, err := pii.ParseSuite(suite)
	if err != nil {
		return &StartupError{Var: "SHEQU_CIPHER", Err: err}
	}
	keys, err := pii.LoadKeyFileSuite(a.Cfg.KeyFile, st)
	switch {
	case errors.Is(err, fs.ErrNotExist) && fingerprint == "":
		// A new database: make its key.
		if _, err = pii.CreateKeyFile(a.Cfg.KeyFile); err != nil {
			return &StartupError{Var: "SHEQU_KEY_FILE", Err: err}
		}
		if keys, err = pii.LoadKeyFileSuite(a.Cfg.KeyFile, st); err != nil {
			return &StartupError{Var: "SHEQU_KEY_FILE", Err: err}
		}
		a.Log.Info("created a new data-encryption key; back it up with the database", "file", a.Cfg.KeyFile)
	case errors.Is(err, fs.ErrNotExist):
		return &StartupError{Var: "SHEQU_KEY_FILE", Err: fmt.Errorf("%s is missing, but the database holds data encrypted with key %s: restore the key file", a.Cfg.KeyFile, fingerprint)}
	case err != nil:
		return &StartupError{Var: "SHEQU_KEY_FILE", Err: err}
	}
	if fingerprint != "" && fingerprint != keys.Fingerprint() {
		return &StartupError{Var: "SHEQU_KEY_FILE", Err: fmt.Errorf("%s is not the key of this database (expected key %s, found %s)", a.Cfg.KeyFile, fingerprint, keys.Fingerprint())}
	}
	if _, err := s.Migrate(ctx); err != nil {
		return &StartupError{Var: "SHEQU_DB", Err: err}
	}
	if fingerprint == "" {
		if err := s.Write(ctx, func(tx *store.Tx) error {
			if err := tx.SetMeta(ctx, metaCipher, suite); err != nil {
				return err
			}
			return tx.SetMeta(ctx, metaKeyCheck, keys.Fingerprint())
		}); err != nil {
			return err
		}
	}
	a.Keys = keys
	a.Audit = audit.New(func(b []byte) []byte { return keys.MAC(b, "audit") })
	a.Auth = &auth.Service{Store: s, Keys: keys, Audit: a.Audit, Sender: auth.LogSender{Log: a.Log}, TTL: a.Cfg.SessionTTL}
	a.Ledger = &ledger.Service{Store: s, Keys: keys, Audit: a.Audit}
	a.Gates = &gate.Service{Store: s, Keys: keys, Faces: face.NewIndex(), Hub: gate.NewHub(), Log: a.Log, IDIndex: a.Ledger.IDIndex}
	if err := a.Gates.Start(ctx); err != nil {
		return err
	}
	reports := &leads.Service{Store: s, Keys: keys, Ledger: a.Ledger, Notify: a.notify}
	if a.Cfg.ReportOTP {
		reports.Codes = a.Auth
	}
	evs := &events.Service{Store: s, Keys: keys, Notify: a.message}
	a.Web = &web.Server{Store: s, Auth: a.Auth, Audit: a.Audit, Keys: keys, Ledger: a.Ledger, Imports: ledger.NewImports(a.Ledger), Gates: a.Gates,
		Grid: &gridwork.Service{Store: s, Keys: keys, Ledger: a.Ledger}, Leads: reports, Events: evs, Assess: &assess.Service{Store: s, Audit: a.Audit},
		Sharing: &sharing.Service{Store: s, Audit: a.Audit, Keys: keys}, Cat: locale.MustLoad(), Cfg: a.Cfg,
		Log: a.Log, Version: Version}
	a.Webhooks = &webhook.Deliverer{Store: s, Keys: keys, Allowed: a.Web.Sharing.AllowsHook}
	return nil
}

// Listen binds the configured address (so callers know the port before
// serving; the demo prints its URL first).
func (a *App) Listen() (net.Addr, error) {
	ln, err := net.Listen("tcp", a.Cfg.Addr)
	if err != nil {
		return nil, &StartupError{Var: "SHEQU_ADDR", Err: err}
	}
	a.ln = ln
	return ln.Addr(), nil
}

// Serve answers HTTP until ctx ends, then shuts down gracefully.
func (a *App) Serve(ctx context.Context) error {
	if a.ln == nil {
		if _, err := a.Listen(); err != nil {
			return err
		}
	}
	a.srv = &http.Server{
		Handler:           a.Web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	if err := a.startFanout(ctx); err != nil {
		return err
	}
	go a.jobs(ctx)
	go a.deliver(ctx)
	go a.deliverWebhooks(ctx, 5*time.Second)
	go brain.Run(ctx, a.Store, a.Log, brain.RefreshEvery)
	go a.reloadKeys(ctx)
	go a.Gates.WatchDevices(ctx, 3*time.Minute, 30*time.Second)
	if err := a.startMQTT(ctx); err != nil {
		return err
	}
	errc := make(chan error, 1)
	go func() { errc <- a.srv.Serve(a.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return a.srv.Shutdown(sctx)
}

// startMQTT connects gate devices that speak MQTT to the same gate
// service as the HTTP device API, when configured.
func (a *App) startMQTT(ctx context.Context) error {
	if a.Cfg.MQTTBroker == "" && a.Cfg.MQTTListen == "" {
		return nil
	}
	var password string
	if f := a.Cfg.MQTT.PasswordFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return &StartupError{Var: "SHEQU_MQTT_PASSWORD_FILE", Err: err}
		}
		password = strings.TrimSpace(string(b))
	}
	b, err := mqttbridge.New(mqttbridge.Config{BrokerURL: a.Cfg.MQTTBroker, ListenAddr: a.Cfg.MQTTListen,
		Username: a.Cfg.MQTT.Username, Password: password, SharedGroup: a.Cfg.MQTT.SharedGroup,
		Authenticate: func(ctx context.Context, deviceID, token string) bool {
			p, err := a.Auth.ResolveToken(ctx, token)
			return err == nil && p.UserID == deviceID && p.CanAnywhere(access.DeviceReport)
		}}, a.Gates, a.Log)
	if err != nil {
		return &StartupError{Var: "SHEQU_MQTT_BROKER", Err: err}
	}
	sctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := b.Start(sctx); err != nil {
		return &StartupError{Var: "SHEQU_MQTT_BROKER", Err: err}
	}
	go func() {
		<-ctx.Done()
		b.Close()
	}()
	a.Gates.Commands = b
	a.Log.Info("MQTT bridge started", "broker", a.Cfg.MQTTBroker, "listen", b.Addr())
	return nil
}

// jobs runs housekeeping on a timer.
func (a *App) jobs(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		if err := a.Housekeeping(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("housekeeping", "err", err.Error())
		}
		if n, err := a.Web.Events.Escalate(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("escalating overdue events", "err", err.Error())
		} else if n > 0 {
			a.Log.Info("escalated overdue events", "events", n)
		}
		if workers, leads, err := a.Web.Leads.RemindOverdue(ctx, nil, "", "", a.notify); err != nil && ctx.Err() == nil {
			a.Log.Error("reminding overdue leads", "err", err.Error())
		} else if leads > 0 {
			a.Log.Info("reminded workers of overdue leads", "workers", workers, "leads", leads)
		}
		if ran, purged, err := a.RetentionIfDue(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("retention purge", "err", err.Error())
		} else if ran {
			a.Log.Info("retention purge done", "rows", purged.Total())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// message tells a user something through the outbox: in the app, and by
// SMS when they have a phone (sent by deliver).
func (a *App) message(ctx context.Context, userID, text, link string) {
	u, err := a.Store.User(ctx, userID)
	if err == nil {
		err = a.Store.Write(ctx, func(tx *store.Tx) error { return notify.Tell(ctx, tx, u, text, link) })
	}
	if err != nil {
		a.Log.Error("queueing a message", "err", err.Error())
	}
}

// deliver sends the outbox's text messages every half minute.
func (a *App) deliver(ctx context.Context) {
	send, ok := a.Auth.Sender.(notify.Sender)
	if !ok {
		return
	}
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if sent, failed, err := notify.Deliver(ctx, a.Store, a.Keys, send); err != nil && ctx.Err() == nil {
			a.Log.Error("delivering messages", "err", err.Error())
		} else if failed > 0 {
			a.Log.Warn("messages not delivered, kept for retry", "sent", sent, "failed", failed)
		}
	}
}

// notify tells a staff member something (reminders, transferred leads)
// through the outbox, like every other message.
func (a *App) notify(ctx context.Context, u store.User, text string) error {
	return a.Store.Write(ctx, func(tx *store.Tx) error { return notify.Tell(ctx, tx, u, text, "") })
}

// Housekeeping purges expired sessions, codes, old login failures and
// abandoned uploads.
func (a *App) Housekeeping(ctx context.Context) error {
	return a.Store.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.PurgeExpired(ctx, a.Now().Add(-24*time.Hour)); err != nil {
			return err
		}
		_, err := tx.PurgeImports(ctx, a.Now().Add(-24*time.Hour))
		return err
	})
}

// PurgePasses deletes pass records and decisions older than the
// retention period (PIPL: keep whereabouts no longer than needed).
func (a *App) PurgePasses(ctx context.Context) (int64, error) {
	return a.Store.PurgePasses(ctx, a.Now().Add(-a.Cfg.PassRetention))
}

// reloadKeys takes keys appended to the key file by `shequ keys rotate`.
func (a *App) reloadKeys(ctx context.Context) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			changed, err := a.Keys.Reload(a.Cfg.KeyFile)
			if err != nil {
				a.Log.Error("reloading the key file", "err", err.Error())
			} else if changed {
				a.Log.Info("key file reloaded", "active_key", a.Keys.ActiveID())
			}
		}
	}
}

// Close flushes background writers and releases the database.
func (a *App) Close() error {
	if a.Gates != nil {
		a.Gates.Close()
	}
	return a.Store.Close()
}

// NewLogger makes the JSON structured logger.
func NewLogger(level string, w *os.File) *slog.Logger {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
