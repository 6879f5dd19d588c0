package sieve

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func fuzzSeeds(f *testing.F) {
	scripts, _ := filepath.Glob("testdata/diff/*.sieve")
	for _, p := range scripts {
		b, _ := os.ReadFile(p)
		f.Add(string(b))
	}
	f.Add("require \"variables\"; set \"a\" \"${hex:41}\"; if string :matches \"${a}\" \"*?\" { stop; }")
	f.Add("text:\r\n..x\r\n.\r\n")
	f.Add("if allof(not true, anyof(false)) { } elsif exists \"x\" { keep; } else { discard; }")
}

// FuzzCompile feeds arbitrary text to the lexer, parser and compiler:
// they must never panic, and errors must carry a position.
func FuzzCompile(f *testing.F) {
	fuzzSeeds(f)
	o := Options{Extensions: allCaps()}
	f.Fuzz(func(t *testing.T, src string) {
		_, err := Compile([]byte(src), o)
		if ce, ok := err.(*CompileError); ok {
			for _, e := range ce.Errors {
				if e.Pos.Line < 1 {
					t.Fatalf("error without position: %v", e)
				}
			}
		}
	})
}

// FuzzRun compiles a random script and runs it on a random message with
// tight limits: no panic, and the run is bounded.
func FuzzRun(f *testing.F) {
	scripts, _ := filepath.Glob("testdata/diff/*.sieve")
	msg := "From: a@example.org\r\nTo: b+x@example.com\r\nSubject: hi there\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nbody text\r\n--zz--\r\n"
	for _, p := range scripts {
		b, _ := os.ReadFile(p)
		f.Add(string(b), msg)
	}
	o := Options{Extensions: allCaps(), MaxSteps: 20000}
	f.Fuzz(func(t *testing.T, src, raw string) {
		s, err := Compile([]byte(src), o)
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		start := time.Now()
		res, _ := s.Run(ctx, &Input{Message: ParseMessage([]byte(raw)),
			Envelope: Envelope{From: "a@example.org", To: "b+x@example.com"}})
		if res == nil {
			t.Fatal("nil result")
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Fatalf("run took %v", d)
		}
	})
}

func allCaps() []string {
	var out []string
	for k := range knownExtensions {
		out = append(out, k)
	}
	return out
}
