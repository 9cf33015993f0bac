package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// The pages' Content-Security-Policy (style-src 'self') makes the browser
// ignore style attributes: a bar drawn with style="width:…" stays empty.
// No template may carry one, nor a <style> element or an inline handler.
func TestTemplatesKeepToTheContentSecurityPolicy(t *testing.T) {
	banned := regexp.MustCompile(`(?i)\sstyle\s*=|<style[\s>]|\son[a-z]+\s*=`)
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := banned.FindString(line); m != "" {
				t.Errorf("%s:%d: %q is ignored or refused under the pages' Content-Security-Policy", path, i+1, strings.TrimSpace(m))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A progress bar is filled to its figure, and stays inside its box.
func TestProgressBar(t *testing.T) {
	for pct, want := range map[int]string{45: `width="45"`, 0: `width="0"`, 130: `width="100"`, -5: `width="0"`} {
		if got := string(progressBar(pct)); !strings.Contains(got, want) || strings.Contains(got, "style") {
			t.Errorf("progressBar(%d) = %s, want a rectangle with %s", pct, got, want)
		}
	}
}
