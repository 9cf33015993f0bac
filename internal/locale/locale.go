// Package locale holds shequ's translations (Simplified Chinese first,
// English complete) and picks a language for each request.
package locale

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"sort"

	"golang.org/x/text/language"
)

//go:embed translations/*.json
var files embed.FS

// Languages shequ speaks; the first is the default.
var Languages = []string{"zh", "en"}

var tags = []language.Tag{language.SimplifiedChinese, language.English}

var matcher = language.NewMatcher(tags)

// Catalog is every message in every language.
type Catalog struct {
	msgs map[string]map[string]string // lang → key → text
}

// Load reads the embedded translations: for each language, <lang>.json
// and any <lang>.<area>.json beside it (one file per area of the product
// keeps the catalogues reviewable). A key defined twice is an error.
func Load() (*Catalog, error) {
	c := &Catalog{msgs: map[string]map[string]string{}}
	for _, lang := range Languages {
		names, err := fs.Glob(files, "translations/"+lang+".*json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, name := range names {
			b, err := files.ReadFile(name)
			if err != nil {
				return nil, err
			}
			part := map[string]string{}
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("%s: key %q is defined twice", name, k)
				}
				m[k] = v
			}
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("translations/%s.json: missing", lang)
		}
		c.msgs[lang] = m
	}
	return c, nil
}

// MustLoad is Load for program start-up.
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Keys lists the keys of one language, sorted.
func (c *Catalog) Keys(lang string) []string {
	var ks []string
	for k := range c.msgs[lang] {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Has reports whether lang has key.
func (c *Catalog) Has(lang, key string) bool {
	_, ok := c.msgs[lang][key]
	return ok
}

// Printer translates into one language.
type Printer struct {
	Lang string
	c    *Catalog
}

// Printer returns a printer for lang (the default language if unknown).
func (c *Catalog) Printer(lang string) *Printer {
	if _, ok := c.msgs[lang]; !ok {
		lang = Languages[0]
	}
	return &Printer{Lang: lang, c: c}
}

// Key is an argument that is itself translated before it fills a verb
// (an error naming a status or an action).
type Key string

// T translates key, filling fmt verbs with args (Keys translated). An
// unknown key comes back as itself, so a gap is visible instead of blank.
func (p *Printer) T(key string, args ...any) string {
	s, ok := p.c.msgs[p.Lang][key]
	if !ok {
		s, ok = p.c.msgs[Languages[0]][key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		for i, a := range args {
			if k, ok := a.(Key); ok {
				args = append([]any(nil), args...)
				args[i] = p.T(string(k))
			}
		}
		return fmt.Sprintf(s, args...)
	}
	return s
}

// HTMLLang is the value for <html lang>.
func (p *Printer) HTMLLang() string {
	if p.Lang == "zh" {
		return "zh-CN"
	}
	return p.Lang
}

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Pick chooses a language: the account's choice, then the cookie, then
// the browser's Accept-Language, then Chinese.
func Pick(userLang string, r *http.Request) string {
	if Supported(userLang) {
		return userLang
	}
	if c, err := r.Cookie("lang"); err == nil && Supported(c.Value) {
		return c.Value
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		_, i, conf := matcher.Match(parseAccept(al)...)
		if conf != language.No {
			return Languages[i]
		}
	}
	return Languages[0]
}

func parseAccept(s string) []language.Tag {
	t, _, err := language.ParseAcceptLanguage(s)
	if err != nil {
		return nil
	}
	return t
}
