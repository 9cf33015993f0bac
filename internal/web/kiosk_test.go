package web_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"shequ/internal/apptest"
	"shequ/internal/testutil"
)

func TestKioskFilesAreServedWithTheirPolicy(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "web", "kiosk")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@vladmandic", "face-api")); err != nil {
		testutil.SkipOrFail(t, "web/kiosk/node_modules is missing: run npm ci --prefix web/kiosk")
	}
	e := apptest.Start(t, "sqlite")
	e.App.Web.Cfg.KioskDir = dir
	c := e.Client()
	for path, want := range map[string]int{
		"/kiosk/":             200,
		"/kiosk/kiosk.js":     200,
		"/kiosk/package.json": 404,
		"/kiosk/node_modules/@vladmandic/face-api/package.json": 404,
		"/kiosk/lib/face-api/dist/face-api.esm.js":              200,
		"/kiosk/lib/face-api/model/":                            404,
		"/kiosk/lib/tfjs-wasm/tfjs-backend-wasm-simd.wasm":      200,
	} {
		status, _, hdr := doGet(t, c, e.Server.URL+path)
		if status != want {
			t.Errorf("%s: %d, want %d", path, status, want)
		}
		if status == 200 && !strings.Contains(hdr.Get("Content-Security-Policy"), "wasm-unsafe-eval") {
			t.Errorf("%s: CSP %q", path, hdr.Get("Content-Security-Policy"))
		}
	}
}
