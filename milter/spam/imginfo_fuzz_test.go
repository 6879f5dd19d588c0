package spam

import (
	"bytes"
	"image"
	_ "image/gif" // registered for image.DecodeConfig
	_ "image/jpeg"
	_ "image/png"
	"testing"
)

// fuzzImageSize seeds f with real files of typ and checks the header
// parser on arbitrary bytes: no panic, a found size is positive and
// bounded by the field widths, and where the standard library reads the
// same file's header it agrees (when agree is set).
func fuzzImageSize(f *testing.F, typ string, parse func([]byte) (int, int, bool), agree bool) {
	for _, d := range [][2]int{{1, 1}, {320, 200}, {17, 4000}} {
		f.Add(encodeImage(f, typ, d[0], d[1]))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		w, h, ok := parse(b)
		if !ok {
			return
		}
		if w <= 0 || h <= 0 || (typ != "png" && (w > 0xFFFF || h > 0xFFFF)) {
			t.Fatalf("size %d x %d", w, h)
		}
		if !agree {
			return
		}
		if cfg, format, err := image.DecodeConfig(bytes.NewReader(b)); err == nil && format == typ && (cfg.Width != w || cfg.Height != h) {
			t.Errorf("%s header %d x %d, image.DecodeConfig %d x %d", typ, w, h, cfg.Width, cfg.Height)
		}
	})
}

func FuzzGIFSize(f *testing.F) { fuzzImageSize(f, "gif", gifSize, true) }

func FuzzPNGSize(f *testing.F) { fuzzImageSize(f, "png", pngSize, true) }

// FuzzJPEGSize does not compare with image/jpeg: SA's walk stops at fill
// bytes and other oddities that the real decoder skips, on purpose.
func FuzzJPEGSize(f *testing.F) { fuzzImageSize(f, "jpeg", jpegSize, false) }
