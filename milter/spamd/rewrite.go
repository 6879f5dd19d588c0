package spamd

import (
	"bytes"
	"strings"
)

// rewritten is the message PROCESS returns: the Scorer's own rewrite, or
// the original with the verdict's header fields appended to its header
// block, in the line-end style (CRLF or LF) the message uses.
func rewritten(raw []byte, v *Verdict) []byte {
	if v.Rewritten != nil {
		return v.Rewritten
	}
	end, sepLen := headerEnd(raw)
	nl := "\n"
	if bytes.Contains(raw[:end], []byte("\r\n")) {
		nl = "\r\n"
	}
	var b bytes.Buffer
	b.Grow(len(raw) + 512)
	b.Write(raw[:end])
	if end > 0 && raw[end-1] != '\n' {
		b.WriteString(nl)
	}
	for _, f := range v.Headers {
		val := strings.ReplaceAll(f.Value, "\r\n", "\n")
		if nl == "\r\n" {
			val = strings.ReplaceAll(val, "\n", "\r\n")
		}
		b.WriteString(f.Name + ":" + val + nl)
	}
	if sepLen == 0 {
		b.WriteString(nl)
	}
	b.Write(raw[end:])
	return b.Bytes()
}

// headerEnd returns the offset where the header block ends (the start of
// the empty line separating it from the body, or len(raw)) and the length
// of that empty line (0 when there is none).
func headerEnd(raw []byte) (int, int) {
	for i := 0; i < len(raw); {
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			return len(raw), 0
		}
		line := raw[i : i+j+1]
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return i, len(line)
		}
		i += j + 1
	}
	return len(raw), 0
}

// headerBlock returns the header part of a message, separator included.
func headerBlock(msg []byte) []byte {
	end, sep := headerEnd(msg)
	return msg[:end+sep]
}
