package spam

import "encoding/binary"

// Image dimensions from the first bytes of a GIF, PNG or JPEG file, read
// the way SA's ImageInfo plugin reads them. Nothing is decoded beyond
// the header fields: the parsers get a bounded prefix of the image and
// report ok=false when it holds no usable width and height.

// imgPrefixMax bounds the decoded bytes looked at per image. A JPEG's
// frame header can follow large APPn segments (EXIF, ICC profiles); 256
// KiB covers them in practice, and a size found later is simply missed.
const imgPrefixMax = 256 << 10

// gifSize reads the logical screen size after the GIF87a/GIF89a magic.
func gifSize(b []byte) (w, h int, ok bool) {
	if len(b) < 10 || string(b[:4]) != "GIF8" || (b[4] != '7' && b[4] != '9') || b[5] != 'a' {
		return 0, 0, false
	}
	w, h = int(binary.LittleEndian.Uint16(b[6:])), int(binary.LittleEndian.Uint16(b[8:]))
	return w, h, w > 0 && h > 0
}

var pngMagic = "\x89PNG\r\n\x1a\n"

// pngSize finds the IHDR chunk. SA steps through the file eight bytes at
// a time (length and type) without skipping chunk data, stopping at IHDR
// or IEND; IHDR is the first chunk of every valid PNG, so the odd stride
// only matters for broken files, and it is kept for them.
func pngSize(b []byte) (w, h int, ok bool) {
	if len(b) < 8 || string(b[:8]) != pngMagic {
		return 0, 0, false
	}
	for pos := 8; pos+8 <= len(b); pos += 8 {
		n, typ := binary.BigEndian.Uint32(b[pos:]), string(b[pos+4:pos+8])
		if typ == "IEND" {
			return 0, 0, false
		}
		if typ != "IHDR" || n != 13 {
			continue
		}
		// SA drops the last four bytes it read (the CRC) before reading
		// the fields, so a truncated chunk loses fields from its end.
		data := b[pos+8 : min(pos+8+17, len(b))]
		if len(data) < 4 {
			return 0, 0, false
		}
		data = data[:len(data)-4]
		if len(data) >= 4 {
			w = int(binary.BigEndian.Uint32(data))
		}
		if len(data) >= 8 {
			h = int(binary.BigEndian.Uint32(data[4:]))
		}
		return w, h, w > 0 && h > 0
	}
	return 0, 0, false
}

// jpegSize walks the marker segments after SOI up to the first start of
// frame (SOF0-3, 5-7, 9-11, 13-15), as SA does: a fill byte, SOS, EOI or
// a length under 2 ends the walk.
func jpegSize(b []byte) (w, h int, ok bool) {
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return 0, 0, false
	}
	for pos := 2; pos+4 <= len(b); {
		mark, n := b[pos+1], int(binary.BigEndian.Uint16(b[pos+2:]))
		if b[pos] != 0xFF || mark == 0xDA || mark == 0xD9 || n < 2 {
			return 0, 0, false
		}
		pos += 4
		block := b[pos:min(pos+n-2, len(b))]
		if isSOF(mark) {
			if len(block) >= 3 {
				h = int(binary.BigEndian.Uint16(block[1:]))
			}
			if len(block) >= 5 {
				w = int(binary.BigEndian.Uint16(block[3:]))
			}
			return w, h, w > 0 && h > 0
		}
		pos += len(block)
	}
	return 0, 0, false
}

func isSOF(m byte) bool {
	return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC
}

// imageSize dispatches on the type name SA derives from the MIME type.
func imageSize(typ string, b []byte) (w, h int, ok bool) {
	switch typ {
	case "gif":
		return gifSize(b)
	case "png":
		return pngSize(b)
	case "jpeg":
		return jpegSize(b)
	}
	return 0, 0, false
}

// decodeBase64Prefix decodes at most limit bytes of a base64 body, with
// decodeBase64Lenient's rules (other characters skipped, '=' ends the
// data), so that an image's header is read without decoding the image.
func decodeBase64Prefix(body []byte, limit int) []byte {
	want := (limit + 2) / 3 * 4
	clean := make([]byte, 0, min(len(body), want))
	for _, c := range body {
		if len(clean) == want {
			break
		}
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			clean = append(clean, c)
		} else if c == '=' {
			break
		}
	}
	return decodeBase64Lenient(clean)
}
