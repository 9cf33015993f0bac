// Package config reads shequ's settings from flags and SHEQU_* environment
// variables into one typed struct. A flag given on the command line wins over
// the environment; a bad value stops start-up with a message naming it.
package config

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is everything a shequ process needs to start.
type Config struct {
	DB       string // SQLite file path (default shequ.db) or postgres:// URL
	Addr     string // listen address
	KeyFile  string // data-encryption key file
	BaseURL  string // public URL, used for links in QR codes and for secure cookies
	LogLevel string // debug, info, warn, error
	// Cipher is the field-encryption suite: aes-gcm (AES-256-GCM with
	// HMAC-SHA-256) or sm4-gcm (SM4-GCM with HMAC-SM3, for deployments that
	// must pass a commercial-cryptography assessment). Chosen when a
	// database is created.
	Cipher string
	// SessionTTL is how long an idle session stays valid.
	SessionTTL time.Duration
	// SecureCookies forces the Secure cookie attribute; it is on by itself
	// when BaseURL is https.
	SecureCookies bool
	// MQTTBroker connects the MQTT bridge for gate devices to an external
	// broker (tcp://host:1883); MQTTListen runs the embedded broker on an
	// address instead. Both empty: no MQTT.
	MQTTBroker string
	MQTTListen string
	// MQTT is the bridge's login and sharing on the external broker
	// (mqtt.go).
	MQTT MQTTClient
	// PassRetention is how long pass events and gate decisions are kept.
	PassRetention time.Duration
	// Retention holds the periods of the other kinds of personal data
	// (retention.go).
	Retention Retention
	// KioskDir holds the gate kiosk page and its npm-installed face library.
	KioskDir string
	// TrustProxy makes X-Forwarded-For / X-Forwarded-Proto count (behind a
	// reverse proxy only).
	TrustProxy bool
	// ReportOTP makes the public self-report form ask for a one-time code
	// sent to the reporter's phone.
	ReportOTP bool
	// RateLimits are the request budgets of clients without a staff login.
	RateLimits RateLimits
}

// Default returns the settings used when nothing is given.
func Default() Config {
	return Config{
		DB:            "shequ.db",
		Addr:          "127.0.0.1:8080",
		LogLevel:      "info",
		Cipher:        "aes-gcm",
		KioskDir:      "web/kiosk",
		PassRetention: 90 * 24 * time.Hour,
		Retention:     DefaultRetention(),
		SessionTTL:    12 * time.Hour,
		RateLimits:    DefaultRateLimits(),
	}
}

// Error names the variable (or flag) whose value is bad.
type Error struct {
	Var string
	Msg string
}

func (e *Error) Error() string { return e.Var + ": " + e.Msg }

type setting struct {
	env, flag, usage string
	apply            func(c *Config, v string) error
}

var settings = []setting{
	{"SHEQU_DB", "db", "SQLite file path or postgres:// URL", func(c *Config, v string) error { c.DB = v; return nil }},
	{"SHEQU_ADDR", "addr", "listen address HOST:PORT", func(c *Config, v string) error { c.Addr = v; return nil }},
	{"SHEQU_KEY_FILE", "key-file", "data-encryption key file (default: next to the SQLite file)", func(c *Config, v string) error { c.KeyFile = v; return nil }},
	{"SHEQU_BASE_URL", "base-url", "public URL of this server, e.g. https://shequ.example.cn", func(c *Config, v string) error { c.BaseURL = v; return nil }},
	{"SHEQU_CIPHER", "cipher", "field encryption: aes-gcm or sm4-gcm (set when the database is created)", func(c *Config, v string) error {
		switch v {
		case "aes-gcm", "sm4-gcm":
			c.Cipher = v
			return nil
		}
		return fmt.Errorf("must be aes-gcm or sm4-gcm, not %q", v)
	}},
	{"SHEQU_MQTT_BROKER", "mqtt-broker", "external MQTT broker for gate devices, e.g. tcp://127.0.0.1:1883", func(c *Config, v string) error {
		if !strings.HasPrefix(v, "tcp://") && !strings.HasPrefix(v, "ssl://") && !strings.HasPrefix(v, "tls://") && !strings.HasPrefix(v, "mqtt://") {
			return fmt.Errorf("must be a tcp:// or ssl:// broker URL, not %q", v)
		}
		c.MQTTBroker = v
		return nil
	}},
	{"SHEQU_MQTT_LISTEN", "mqtt-listen", "run the embedded MQTT broker for gate devices on HOST:PORT", func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("not HOST:PORT: %q", v)
		}
		c.MQTTListen = v
		return nil
	}},
	{"SHEQU_PASS_RETENTION", "pass-retention", "how long pass records are kept, e.g. 2160h (90 days)", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 24*time.Hour {
			return fmt.Errorf("a duration of at least 24h, not %q", v)
		}
		c.PassRetention = d
		return nil
	}},
	{"SHEQU_REPORT_OTP", "report-otp", "the self-report form asks for a code sent to the phone (true/false)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("true or false, not %q", v)
		}
		c.ReportOTP = b
		return nil
	}},
	{"SHEQU_RATE_LIMITS", "rate-limits", "requests a minute per client without a staff login, e.g. login=30,public=300,resident=300,device=6000,api=1200,authfail=20 (0 = no limit; \"off\" = none)", func(c *Config, v string) error {
		r, err := ParseRateLimits(v)
		if err != nil {
			return err
		}
		c.RateLimits = r
		return nil
	}},
	{"SHEQU_KIOSK_DIR", "kiosk-dir", "folder of the gate kiosk page and its face library (npm ci there)", func(c *Config, v string) error { c.KioskDir = v; return nil }},
	{"SHEQU_LOG_LEVEL", "log-level", "debug, info, warn or error", func(c *Config, v string) error { c.LogLevel = v; return nil }},
	{"SHEQU_SESSION_TTL", "session-ttl", "idle session lifetime, e.g. 12h", func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("not a duration (e.g. 12h): %q", v)
		}
		c.SessionTTL = d
		return nil
	}},
	{"SHEQU_SECURE_COOKIES", "secure-cookies", "always mark cookies Secure (true/false)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("not true or false: %q", v)
		}
		c.SecureCookies = b
		return nil
	}},
	{"SHEQU_TRUST_PROXY", "trust-proxy", "trust X-Forwarded-* headers from a reverse proxy (true/false)", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("not true or false: %q", v)
		}
		c.TrustProxy = b
		return nil
	}},
}

// Register adds a flag for every setting to fs. Load reads them back.
func Register(fs *flag.FlagSet) {
	for _, s := range settings {
		fs.String(s.flag, "", s.usage+" (env "+s.env+")")
	}
}

// Load builds the configuration: defaults, then the environment, then flags
// that were set on fs. getenv is os.Getenv outside tests.
func Load(fs *flag.FlagSet, getenv func(string) string) (Config, error) {
	c := Default()
	set := map[string]string{}
	if fs != nil {
		fs.Visit(func(f *flag.Flag) { set[f.Name] = f.Value.String() })
	}
	for _, s := range settings {
		name, v := s.env, getenv(s.env)
		if fv, ok := set[s.flag]; ok {
			name, v = "-"+s.flag, fv
		}
		if v == "" {
			continue
		}
		if err := s.apply(&c, strings.TrimSpace(v)); err != nil {
			return c, &Error{Var: name, Msg: err.Error()}
		}
	}
	return c, c.validate()
}

// FromEnv is Load without flags.
func FromEnv() (Config, error) { return Load(nil, os.Getenv) }

func (c *Config) validate() error {
	if _, err := c.Dialect(); err != nil {
		return &Error{Var: "SHEQU_DB", Msg: err.Error()}
	}
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return &Error{Var: "SHEQU_ADDR", Msg: fmt.Sprintf("not HOST:PORT: %q", c.Addr)}
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return &Error{Var: "SHEQU_ADDR", Msg: fmt.Sprintf("bad port %q", port)}
	}
	_ = host
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &Error{Var: "SHEQU_BASE_URL", Msg: fmt.Sprintf("not an http(s) URL: %q", c.BaseURL)}
		}
		c.BaseURL = strings.TrimRight(c.BaseURL, "/")
		if u.Scheme == "https" {
			c.SecureCookies = true
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return &Error{Var: "SHEQU_LOG_LEVEL", Msg: fmt.Sprintf("must be debug, info, warn or error, not %q", c.LogLevel)}
	}
	if c.SessionTTL < time.Minute {
		return &Error{Var: "SHEQU_SESSION_TTL", Msg: "must be at least 1m"}
	}
	if c.KeyFile == "" {
		c.KeyFile = c.DefaultKeyFile()
	}
	return nil
}

// Dialect is "sqlite" or "postgres", decided by the form of DB.
func (c *Config) Dialect() (string, error) {
	return DialectOf(c.DB)
}

// DialectOf tells which engine a database setting selects.
func DialectOf(db string) (string, error) {
	if db == "" {
		return "", fmt.Errorf("empty")
	}
	if i := strings.Index(db, "://"); i > 0 {
		switch scheme := db[:i]; scheme {
		case "postgres", "postgresql":
			return "postgres", nil
		case "file", "sqlite":
			return "sqlite", nil
		default:
			return "", fmt.Errorf("unsupported database scheme %q: give a SQLite file path or a postgres:// URL", scheme)
		}
	}
	if strings.HasPrefix(db, "file:") {
		return "sqlite", nil
	}
	return "sqlite", nil
}

// SQLitePath is the file behind a SQLite setting.
func SQLitePath(db string) string {
	for _, p := range []string{"sqlite://", "file://", "file:"} {
		if strings.HasPrefix(db, p) {
			db = strings.TrimPrefix(db, p)
			break
		}
	}
	if i := strings.IndexByte(db, '?'); i >= 0 {
		db = db[:i]
	}
	return db
}

// DefaultKeyFile is where the key lives when SHEQU_KEY_FILE is not set:
// next to a SQLite file, with the same name, else shequ.key.
func (c *Config) DefaultKeyFile() string {
	if d, _ := c.Dialect(); d == "sqlite" {
		p := SQLitePath(c.DB)
		return filepath.Join(filepath.Dir(p), strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))+".key")
	}
	return "shequ.key"
}
