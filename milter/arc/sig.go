package arc

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

var errSig = errors.New("arc: bad signature field")

// common checks the tags AMS and AS share (RFC 8617 sections 4.1.2, 4.1.3).
func (s *sig) common() error {
	t := s.tags
	s.alg = t["a"]
	if s.alg != "rsa-sha256" && s.alg != "ed25519-sha256" {
		return fmt.Errorf("%w: a=%q", errSig, s.alg)
	}
	b, err := base64.StdEncoding.DecodeString(stripFWS(t["b"]))
	if err != nil || len(b) == 0 {
		return fmt.Errorf("%w: b= missing or not base64", errSig)
	}
	s.b = b
	if !validDomain(t["d"]) {
		return fmt.Errorf("%w: d=%q", errSig, t["d"])
	}
	if t["s"] == "" {
		return fmt.Errorf("%w: s= missing", errSig)
	}
	if v, ok := t["t"]; ok && !allDigits(v) {
		return fmt.Errorf("%w: t=%q", errSig, v)
	}
	return nil
}

func (s *sig) checkAMS() error {
	if err := s.common(); err != nil {
		return err
	}
	t := s.tags
	bh, err := base64.StdEncoding.DecodeString(stripFWS(t["bh"]))
	if err != nil || len(bh) == 0 {
		return fmt.Errorf("%w: bh= missing or not base64", errSig)
	}
	if _, _, err := s.canon(); err != nil {
		return err
	}
	if _, ok := t["h"]; !ok {
		return fmt.Errorf("%w: h= missing", errSig)
	}
	for _, n := range s.headers() {
		// The seal is added after the AMS and changes with every hop.
		if strings.EqualFold(n, HeaderSeal) {
			return fmt.Errorf("%w: h= lists ARC-Seal", errSig)
		}
	}
	return nil
}

func (s *sig) checkSeal() error {
	if err := s.common(); err != nil {
		return err
	}
	if _, ok := s.tags["h"]; ok {
		return fmt.Errorf("%w: ARC-Seal has h=", errSig)
	}
	switch s.tags["cv"] {
	case "none", "pass", "fail":
		return nil
	}
	return fmt.Errorf("%w: cv=%q", errSig, s.tags["cv"])
}

// canon returns the header and body canonicalizations (c=, default
// simple/simple); true means relaxed.
func (s *sig) canon() (hdrRelaxed, bodyRelaxed bool, err error) {
	c, ok := s.tags["c"]
	if !ok {
		return false, false, nil
	}
	h, b, hasBody := strings.Cut(c, "/")
	if !hasBody {
		b = "simple"
	}
	isR := func(v string) (bool, bool) { return v == "relaxed", v == "relaxed" || v == "simple" }
	hr, ok1 := isR(h)
	br, ok2 := isR(b)
	if !ok1 || !ok2 {
		return false, false, fmt.Errorf("%w: c=%q", errSig, c)
	}
	return hr, br, nil
}

// headers returns the h= names, whitespace removed.
func (s *sig) headers() []string {
	h := stripFWS(s.tags["h"])
	if h == "" {
		return nil
	}
	return strings.Split(h, ":")
}

func (s *sig) domain() string { return strings.ToLower(s.tags["d"]) }
