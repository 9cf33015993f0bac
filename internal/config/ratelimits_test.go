package config

import (
	"strings"
	"testing"
)

func TestRateLimitsSetting(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "SHEQU_RATE_LIMITS" {
				return v
			}
			return ""
		}
	}
	c, err := Load(nil, env(""))
	if err != nil || c.RateLimits != DefaultRateLimits() || c.RateLimits.Device < 3000 {
		t.Fatalf("defaults: %+v, %v", c.RateLimits, err)
	}
	c, err = Load(nil, env("login=5, device=0"))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultRateLimits()
	want.Login, want.Device = 5, 0
	if c.RateLimits != want {
		t.Fatalf("got %+v, want %+v", c.RateLimits, want)
	}
	if c, err = Load(nil, env("off")); err != nil || c.RateLimits != (RateLimits{}) {
		t.Fatalf("off: %+v, %v", c.RateLimits, err)
	}
	for _, bad := range []string{"login", "logins=5", "device=-1", "api=many"} {
		_, err := Load(nil, env(bad))
		if err == nil || !strings.Contains(err.Error(), "SHEQU_RATE_LIMITS") {
			t.Errorf("%q: error %v, want one naming SHEQU_RATE_LIMITS", bad, err)
		}
	}
}
