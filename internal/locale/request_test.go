package locale

import "net/http"

func newRequest(cookie, accept string) *http.Request {
	r, _ := http.NewRequest("GET", "/", nil)
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: "lang", Value: cookie})
	}
	if accept != "" {
		r.Header.Set("Accept-Language", accept)
	}
	return r
}
