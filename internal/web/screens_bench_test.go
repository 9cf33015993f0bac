package web_test

import (
	"testing"

	"shequ/internal/access"
	"shequ/internal/apptest"
)

// BenchmarkBigScreenPages draws the pages a big screen and a street's desk
// load (the demo street: two communities, about 5,000 people, a morning of
// passes) through the whole handler stack, next to the limit: the smallest
// authenticated page (/api/v1/whoami) through the same stack in the same
// run. An open screen redraws its panels every 10 s from the same figures.
func BenchmarkBigScreenPages(b *testing.B) {
	e := apptest.Start(b, "sqlite")
	staff := getAs(b, e, access.Staff)
	official := getAs(b, e, access.Official)
	for _, c := range []struct {
		name, path, want string
		get              func(path, want string)
	}{
		{"brain_community", "/brain", "brain", staff},
		{"brain_street", "/brain", "brain", official},
		{"overview_street", "/overview", "overview", official},
		{"limit_whoami", "/api/v1/whoami", "user_id", staff},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.get(c.path, c.want)
			}
		})
	}
}
