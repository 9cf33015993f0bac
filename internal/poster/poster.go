// Package poster draws a self-report code's A4 poster as a PNG: the
// community, a title, instructions, the QR code and the place, in a
// Chinese font found on the server.
package poster

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"shequ/internal/errs"
)

// Poster is what the page shows.
type Poster struct {
	Community, Title, Lead, Place, URL string
	Steps                              []string
	QR                                 image.Image
}

// FontPaths are where a Chinese font is looked for, in order (Debian's
// fonts-droid-fallback, fonts-noto-cjk). WenQuanYi's collection is not
// among them: Go's font parser refuses its table layout.
var FontPaths = []string{
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
}

var (
	fontOnce sync.Once
	cjk      *opentype.Font
	latin, _ = opentype.Parse(goregular.TTF) // digits and letters the CJK font may lack
)

func loadFont() *opentype.Font {
	fontOnce.Do(func() {
		for _, p := range FontPaths {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			if c, err := opentype.ParseCollection(b); err == nil && c.NumFonts() > 0 {
				if f, err := c.Font(0); err == nil {
					cjk = f
					return
				}
			}
			if f, err := opentype.Parse(b); err == nil {
				cjk = f
				return
			}
		}
	})
	return cjk
}

// A4 at 150 dpi.
const width, height = 1240, 1754

// PNG draws the poster. Without a Chinese font on the server it answers
// Unavailable, naming the package to install.
func PNG(w io.Writer, p Poster) error {
	f := loadFont()
	if f == nil {
		return errs.E(errs.Unavailable, "err.poster.font")
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	red := color.RGBA{0xc0, 0x39, 0x2b, 0xff}
	ink := color.RGBA{0x1d, 0x27, 0x33, 0xff}
	grey := color.RGBA{0x5f, 0x6b, 0x7a, 0xff}
	draw.Draw(img, image.Rect(0, 0, width, 24), &image.Uniform{red}, image.Point{}, draw.Src)
	y := 140
	line := func(text string, size float64, c color.Color, gap int) {
		m, err := newMixed(size, f, latin)
		if err != nil {
			return
		}
		defer m.close()
		for _, l := range m.wrap(text, width-160) {
			m.draw(img, c, (width-m.measure(l))/2, y, l)
			y += int(size * 1.4)
		}
		y += gap
	}
	line(p.Community, 48, grey, 30)
	line(p.Title, 92, red, 30)
	line(p.Lead, 40, ink, 40)
	if p.QR != nil {
		size := 720
		qr := image.NewRGBA(image.Rect(0, 0, size, size))
		b := p.QR.Bounds()
		for yy := 0; yy < size; yy++ {
			for xx := 0; xx < size; xx++ {
				qr.Set(xx, yy, p.QR.At(b.Min.X+xx*b.Dx()/size, b.Min.Y+yy*b.Dy()/size))
			}
		}
		x0 := (width - size) / 2
		draw.Draw(img, image.Rect(x0, y, x0+size, y+size), qr, image.Point{}, draw.Src)
		y += size + 70
	}
	for i, s := range p.Steps {
		line(string(rune('1'+i))+"．"+s, 36, ink, 6)
	}
	y += 30
	line(p.Place, 44, ink, 20)
	line(p.URL, 24, grey, 0)
	return png.Encode(w, img)
}

// mixed draws with the first of its faces that has each character.
type mixed struct{ faces []font.Face }

func newMixed(size float64, fonts ...*opentype.Font) (mixed, error) {
	var m mixed
	for _, f := range fonts {
		face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			m.close()
			return m, err
		}
		m.faces = append(m.faces, face)
	}
	return m, nil
}

func (m mixed) close() {
	for _, f := range m.faces {
		f.Close()
	}
}

func (m mixed) face(r rune) (font.Face, int) {
	for _, f := range m.faces {
		if adv, ok := f.GlyphAdvance(r); ok {
			return f, adv.Round()
		}
	}
	adv, _ := m.faces[0].GlyphAdvance(r)
	return m.faces[0], adv.Round()
}

func (m mixed) measure(s string) int {
	w := 0
	for _, r := range s {
		_, adv := m.face(r)
		w += adv
	}
	return w
}

func (m mixed) draw(dst draw.Image, c color.Color, x, y int, s string) {
	for _, r := range s {
		f, adv := m.face(r)
		d := &font.Drawer{Dst: dst, Src: &image.Uniform{c}, Face: f, Dot: fixed.P(x, y)}
		d.DrawString(string(r))
		x += adv
	}
}

// wrap breaks text into lines no wider than max pixels.
func (m mixed) wrap(text string, max int) []string {
	var out []string
	var cur strings.Builder
	w := 0
	for _, r := range text {
		_, adv := m.face(r)
		if w+adv > max && cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
			w = 0
		}
		cur.WriteRune(r)
		w += adv
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}
