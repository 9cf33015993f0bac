package config

import (
	"errors"
	"flag"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "shequ.db" || c.Addr != "127.0.0.1:8080" || c.KeyFile != "shequ.key" || c.SessionTTL != 12*time.Hour {
		t.Fatalf("defaults: %+v", c)
	}
	if d, _ := c.Dialect(); d != "sqlite" {
		t.Fatalf("default dialect %q", d)
	}
}

func TestFlagsWinOverEnv(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	Register(fs)
	if err := fs.Parse([]string{"-addr", "127.0.0.1:9999"}); err != nil {
		t.Fatal(err)
	}
	c, err := Load(fs, env(map[string]string{"SHEQU_ADDR": "127.0.0.1:1", "SHEQU_DB": "postgres://x@localhost/db"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9999" {
		t.Errorf("flag did not win: %s", c.Addr)
	}
	if d, _ := c.Dialect(); d != "postgres" {
		t.Errorf("postgres URL selected %q", d)
	}
	if c.KeyFile != "shequ.key" {
		t.Errorf("key file %q", c.KeyFile)
	}
}

func TestBadValuesNameTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"SHEQU_DB":          {"SHEQU_DB": "mysql://root@localhost/x"},
		"SHEQU_ADDR":        {"SHEQU_ADDR": "8080"},
		"SHEQU_SESSION_TTL": {"SHEQU_SESSION_TTL": "forever"},
		"SHEQU_BASE_URL":    {"SHEQU_BASE_URL": "ftp://x"},
		"SHEQU_LOG_LEVEL":   {"SHEQU_LOG_LEVEL": "loud"},
	}
	for want, e := range cases {
		_, err := Load(nil, env(e))
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != want {
			t.Errorf("%v: got %v, want an error naming %s", e, err, want)
		}
	}
}

func TestKeyFileBesideDatabase(t *testing.T) {
	c, err := Load(nil, env(map[string]string{"SHEQU_DB": "/var/lib/shequ/data.db"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.KeyFile != "/var/lib/shequ/data.key" {
		t.Fatalf("key file %q", c.KeyFile)
	}
}

func TestHTTPSBaseURLMakesCookiesSecure(t *testing.T) {
	c, err := Load(nil, env(map[string]string{"SHEQU_BASE_URL": "https://sq.example.cn/"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.SecureCookies || c.BaseURL != "https://sq.example.cn" {
		t.Fatalf("%+v", c)
	}
}
