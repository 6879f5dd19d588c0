package spamd

import (
	"bytes"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
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

// Rewrite returns raw with the header fields named in remove deleted
// (case-insensitively, folded lines included), the Subject value replaced
// when subject is not "", and add appended to the header block. A Scorer
// uses it to fill Verdict.Rewritten when the engine asks for more than
// added fields. Line ends follow the message's own style.
func Rewrite(raw []byte, add []mailmsg.Field, remove []string, subject string) []byte {
	end, sep := headerEnd(raw)
	var kept bytes.Buffer
	skipping := false
	for _, line := range bytes.SplitAfter(raw[:end], []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if !skipping {
				kept.Write(line)
			}
			continue
		}
		name, _, _ := bytes.Cut(line, []byte(":"))
		skipping = false
		for _, r := range remove {
			skipping = skipping || strings.EqualFold(string(name), r)
		}
		if subject != "" && strings.EqualFold(string(name), "Subject") {
			nl := line[len(bytes.TrimRight(line, "\r\n")):]
			kept.WriteString("Subject: " + subject + string(nl))
			skipping = true // drop the old value's continuation lines
			continue
		}
		if !skipping {
			kept.Write(line)
		}
	}
	msg := append(kept.Bytes(), raw[end:end+sep]...)
	msg = append(msg, raw[end+sep:]...)
	return rewritten(msg, &Verdict{Headers: add})
}
