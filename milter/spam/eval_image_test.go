package spam

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"slices"
	"strings"
	"testing"
)

// encodeImage makes a real w x h image file of type typ with the
// standard library's encoders.
func encodeImage(t testing.TB, typ string, w, h int) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.White, color.Black})
	var b bytes.Buffer
	var err error
	switch typ {
	case "gif":
		err = gif.Encode(&b, img, nil)
	case "png":
		err = png.Encode(&b, img)
	case "jpeg":
		err = jpeg.Encode(&b, img, nil)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestImageSize(t *testing.T) {
	for _, typ := range imageTypes {
		for _, d := range [][2]int{{1, 1}, {640, 480}, {3, 1000}} {
			data := encodeImage(t, typ, d[0], d[1])
			w, h, ok := imageSize(typ, data)
			if !ok || w != d[0] || h != d[1] {
				t.Errorf("imageSize(%s %dx%d) = %d, %d, %v", typ, d[0], d[1], w, h, ok)
			}
			// A prefix holding the header is enough; less is no size.
			if _, _, ok := imageSize(typ, data[:min(len(data), 40)]); !ok && typ != "jpeg" {
				t.Errorf("%s: 40-byte prefix gives no size", typ)
			}
			if _, _, ok := imageSize(typ, data[:9]); ok {
				t.Errorf("%s: 9-byte prefix gives a size", typ)
			}
		}
	}
	for _, tc := range []struct {
		name, typ string
		data      []byte
	}{
		{"gif bad magic", "gif", []byte("GIF88a\x10\x00\x10\x00\x00\x00\x00")},
		{"gif zero width", "gif", []byte("GIF89a\x00\x00\x10\x00\x00\x00\x00")},
		{"png no IHDR before IEND", "png", []byte(pngMagic + "\x00\x00\x00\x00IEND\xaeB`\x82")},
		{"png IHDR wrong length", "png", []byte(pngMagic + "\x00\x00\x00\x0cIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x00\x00\x00\x00")},
		{"jpeg SOS before SOF", "jpeg", []byte("\xff\xd8\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00")},
		{"jpeg length under 2", "jpeg", []byte("\xff\xd8\xff\xe0\x00\x01")},
		{"jpeg not a marker", "jpeg", []byte("\xff\xd8\x00\xe0\x00\x10")},
		{"jpeg DHT is no frame", "jpeg", []byte("\xff\xd8\xff\xc4\x00\x07\x08\x00\x10\x00\x10")},
	} {
		if w, h, ok := imageSize(tc.typ, tc.data); ok {
			t.Errorf("%s: imageSize = %d, %d, true; want no size", tc.name, w, h)
		}
	}
	// SA reads a PNG IHDR that follows another chunk only when it lands on
	// its eight-byte stride; here the first chunk has 8 data bytes.
	odd := []byte(pngMagic + "\x00\x00\x00\x08tEXtab\x00cdefg" + "\x00\x00\x00\x0dIHDR\x00\x00\x01\x00\x00\x00\x00\x80\x08\x00\x00\x00\x00CRC!")
	if w, h, ok := pngSize(odd); !ok || w != 256 || h != 128 {
		t.Errorf("pngSize(IHDR after tEXt) = %d, %d, %v; want 256, 128", w, h, ok)
	}
	// A JPEG frame after an APP segment, and a progressive frame (SOF2).
	app := []byte("\xff\xd8\xff\xe1\x00\x06Exif\xff\xc2\x00\x0b\x08\x00\x20\x00\x40\x01\x01\x11\x00")
	if w, h, ok := jpegSize(app); !ok || w != 64 || h != 32 {
		t.Errorf("jpegSize(APP1 + SOF2) = %d, %d, %v; want 64, 32", w, h, ok)
	}
}

func TestDecodeBase64Prefix(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000)
	enc := base64.StdEncoding.EncodeToString(data)
	var folded strings.Builder
	for i := 0; i < len(enc); i += 76 {
		folded.WriteString(enc[i:min(i+76, len(enc))] + "\n")
	}
	for _, limit := range []int{1, 13, 100, 9999, 20000} {
		got := decodeBase64Prefix([]byte(folded.String()), limit)
		n := min(limit, len(data))
		if len(got) < n || len(got) > n+2 || !bytes.Equal(got, data[:len(got)]) {
			t.Errorf("decodeBase64Prefix(limit %d) = %d bytes, want %d..%d of the data", limit, len(got), n, n+2)
		}
	}
}

// imageMessage builds a multipart message with a text part and the
// given images (type, width, height), each base64 encoded.
func imageMessage(t testing.TB, text string, imgs ...struct {
	typ  string
	w, h int
}) string {
	var b strings.Builder
	b.WriteString("From: a@example.com\nTo: b@example.com\nSubject: pics\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=BND\n\n--BND\nContent-Type: text/plain\n\n" + text + "\n")
	for i, im := range imgs {
		mt := "image/" + im.typ
		if im.typ == "jpg" {
			mt, im.typ = "image/jpg", "jpeg"
		}
		enc := base64.StdEncoding.EncodeToString(encodeImage(t, im.typ, im.w, im.h))
		b.WriteString("--BND\nContent-Type: " + mt + "; name=\"img" + string(rune('0'+i)) + "." + im.typ + "\"\n" +
			"Content-Transfer-Encoding: base64\n\n")
		for j := 0; j < len(enc); j += 76 {
			b.WriteString(enc[j:min(j+76, len(enc))] + "\n")
		}
	}
	b.WriteString("--BND--\n")
	return b.String()
}

type img = struct {
	typ  string
	w, h int
}

const imageCF = `
body GIF1    eval:image_count('gif','1','1')
body GIF2P   eval:image_count('gif','2')
body PNG1    eval:image_count('png',1,1)
body JPEG1   eval:image_count('jpeg',1,1)
body ALL3    eval:image_count('all',3,3)
body GIFBIG  eval:pixel_coverage('gif','180000','475000')
body ALLAREA eval:pixel_coverage('all',62500,300000)
body TXTR    eval:image_to_text_ratio('all', '0.000', '0.008')
rawbody RAWR eval:image_to_text_ratio('all', '0.000', '0.008')
body EXACT   eval:image_size_exact('png',200,300)
body RANGE   eval:image_size_range('jpeg',100,100,200,200)
body NAMED   eval:image_named('img0.gif')
body NAMERE  eval:image_name_regex('/^IMG\d\.PNG$/i')
body BADTYPE eval:image_count('bmp',0)
`

func TestImageEvals(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  string
		want string
	}{
		{"one large gif", imageMessage(t, "see", img{"gif", 600, 400}), "GIF1 GIFBIG ALLAREA NAMED TXTR RAWR"},
		{"two gifs", imageMessage(t, "see", img{"gif", 100, 100}, img{"gif", 200, 200}), "GIF2P NAMED TXTR RAWR"},
		{"png jpg gif", imageMessage(t, strings.Repeat("words ", 400), img{"png", 300, 200}, img{"jpg", 150, 150}, img{"gif", 100, 100}),
			"GIF1 PNG1 JPEG1 ALL3 ALLAREA EXACT RANGE NAMERE"},
		{"no images", imageMessage(t, "plain"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := ruleHits(t, imageCF, tc.msg)
			var got []string
			for _, r := range strings.Fields("GIF1 GIF2P PNG1 JPEG1 ALL3 GIFBIG ALLAREA TXTR RAWR EXACT RANGE NAMED NAMERE BADTYPE") {
				if hits[r] {
					got = append(got, r)
				}
			}
			if want := strings.Fields(tc.want); !sameSet(got, want) {
				t.Errorf("hits %v, want %v", got, want)
			}
		})
	}
}

// TestImageRatioKinds: body and rawbody rules measure different text. A
// long HTML source renders to little text, so only the body ratio is low.
func TestImageRatioKinds(t *testing.T) {
	html := "<html><body>" + strings.Repeat(`<a href="http://example.com/"></a>`, 200) + "hi</body></html>"
	enc := base64.StdEncoding.EncodeToString(encodeImage(t, "gif", 500, 500))
	msg := "From: a@example.com\nSubject: x\nContent-Type: multipart/mixed; boundary=B\n\n--B\n" +
		"Content-Type: text/html\n\n" + html + "\n--B\nContent-Type: image/gif\nContent-Transfer-Encoding: base64\n\n" + enc + "\n--B--\n"
	hits := ruleHits(t, `
body    TXTR eval:image_to_text_ratio('all', '0.000', '0.001')
rawbody RAWR eval:image_to_text_ratio('all', '0.000', '0.001')
`, msg)
	if !hits["TXTR"] || hits["RAWR"] {
		t.Errorf("TXTR = %v, RAWR = %v; want true, false", hits["TXTR"], hits["RAWR"])
	}
}

func TestImageNotBase64(t *testing.T) {
	raw := encodeImage(t, "png", 400, 400)
	msg := "From: a@example.com\nSubject: x\nContent-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain\n\nx\n" +
		"--B\nContent-Type: image/png\nContent-Transfer-Encoding: 8bit\n\n" + string(raw) + "\n--B--\n"
	if hits := ruleHits(t, imageCF, msg); hits["PNG1"] {
		t.Error("an image that is not base64 encoded was counted (SA counts base64 parts only)")
	}
}

// sameSet compares two lists of rule names as sets.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
