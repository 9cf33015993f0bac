package config

import (
	"fmt"
	"strconv"
	"strings"
)

// RateLimits are the per-client request budgets, in requests a minute, of
// everyone without a staff login (0: no limit). A client may spend a whole
// budget at once; it then refills evenly over the minute.
type RateLimits struct {
	// Login: password and one-time-code logins and code requests, per
	// address.
	Login int
	// Public: anything else a visitor without an account asks for (the
	// self-report form, Open311, the kiosk page, rumours, health checks,
	// static files), per address.
	Public int
	// Resident: a logged-in resident (portal, own reports), per account.
	Resident int
	// Device: a gate device, per device token. A turnstile at the morning
	// peak sends about one decision and one event a second; the default
	// leaves fifty times that.
	Device int
	// API: a partner department or another API client, per token (each
	// sharing agreement has its own, usually lower, limit on top).
	API int
	// AuthFail: requests with an unknown or revoked API token, per
	// address.
	AuthFail int
}

// DefaultRateLimits are the budgets when SHEQU_RATE_LIMITS is not set.
func DefaultRateLimits() RateLimits {
	return RateLimits{Login: 30, Public: 300, Resident: 300, Device: 6000, API: 1200, AuthFail: 20}
}

// rateLimitNames maps the names in SHEQU_RATE_LIMITS to the fields.
func (r *RateLimits) fields() map[string]*int {
	return map[string]*int{"login": &r.Login, "public": &r.Public, "resident": &r.Resident,
		"device": &r.Device, "api": &r.API, "authfail": &r.AuthFail}
}

// ParseRateLimits reads "login=30,device=6000" (requests a minute; names
// not given keep their default) or "off" (no limits at all).
func ParseRateLimits(v string) (RateLimits, error) {
	r := DefaultRateLimits()
	if strings.TrimSpace(v) == "off" {
		return RateLimits{}, nil
	}
	f := r.fields()
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, num, ok := strings.Cut(part, "=")
		p, known := f[strings.TrimSpace(name)]
		if !ok || !known {
			return r, fmt.Errorf("want NAME=REQUESTS_PER_MINUTE with NAME one of login, public, resident, device, api, authfail (or \"off\"), not %q", part)
		}
		n, err := strconv.Atoi(strings.TrimSpace(num))
		if err != nil || n < 0 {
			return r, fmt.Errorf("%s: not a number of requests a minute (0 = no limit): %q", name, num)
		}
		*p = n
	}
	return r, nil
}
