package spamd

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

// FuzzReadRequest: any input either decodes within the limits or fails
// with an *Error or an I/O error; nothing panics and bodies never exceed
// the size limit.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		"CHECK SPAMC/1.5\r\nUser: root\r\nContent-length: 18\r\n\r\nSubject: hi\n\nbody\n",
		"TELL SPAMC/1.5\r\nMessage-class: spam\r\nSet: local\r\nUser: root\r\nContent-length: 18\r\n\r\nSubject: hi\n\nbody\n",
		"TELL SPAMC/1.5\r\nRemove: local\r\nUser: root\r\nContent-length: 18\r\n\r\nSubject: hi\n\nbody\n",
		"PING SPAMC/1.5\r\n\r\n",
		"PROCESS SPAMC/1.2\r\nCompress: zlib\r\nContent-length: 10\r\n\r\nx\x9c\xcbH\xcd\xc9\xc9\a\x00\x06",
		"CHECK SPAMC/1.0\r\n\r\nno length",
	} {
		f.Add([]byte(s))
	}
	lim := Limits{MaxMessageSize: 4096, MaxHeaderLines: 8}
	f.Fuzz(func(t *testing.T, in []byte) {
		req, err := ReadRequest(bufio.NewReaderSize(bytes.NewReader(in), maxLine), lim)
		if err != nil {
			var pe *Error
			if errors.As(err, &pe) && (pe.Code == 0 || pe.Text == "") {
				t.Fatalf("empty protocol error %+v", pe)
			}
			return
		}
		if len(req.Body) > lim.MaxMessageSize {
			t.Fatalf("body of %d bytes exceeds limit", len(req.Body))
		}
		if !knownCommand(string(req.Command)) {
			t.Fatalf("unknown command %q accepted", req.Command)
		}
		resp := errorResponse(&Error{Code: ExProtocol, Text: req.User})
		if bytes.Count(resp.encode(), []byte("\n")) != 2 {
			t.Fatalf("error reply with injected line breaks: %q", resp.encode())
		}
	})
}
