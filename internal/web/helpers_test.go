package web_test

import (
	"io"
	"net/http"
	"strings"

	"shequ/internal/ledger"
	"shequ/internal/store"
)

func systemActor() ledger.Actor { return ledger.Actor{Source: store.SourceUI} }

func httpNewRequest(method, url, body string) (*http.Request, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	return http.NewRequest(method, url, r)
}

func ioCopy(w io.Writer, r io.Reader) (int64, error) { return io.Copy(w, r) }

func doGet(t interface{ Fatal(...any) }, c *http.Client, u string) (int, string, http.Header) {
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}
