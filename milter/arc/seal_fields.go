package arc

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// messageSignature builds the AMS over the body (relaxed) and the h=
// fields, the new AAR included (it is in the header when the AMS is
// verified, and h= may name it).
func (s *Sealer) messageSignature(m *mailmsg.Message, aar mailmsg.Field, n int) (mailmsg.Field, error) {
	names := s.Headers
	if len(names) == 0 {
		names = DefaultHeaders
	}
	var keep []string
	for _, h := range names {
		if !strings.EqualFold(h, HeaderSeal) && !strings.EqualFold(h, authresName) {
			keep = append(keep, strings.ToLower(h))
		}
	}
	header := append([]mailmsg.Field{aar}, m.Header...)
	var hashed []string
	for _, f := range pick(header, keep) {
		hashed = append(hashed, relaxedHeader(f.Name, f.Value, true))
	}
	tags := [][2]string{{"a", algorithm(s.Key)}, {"b", ""},
		{"bh", base64.StdEncoding.EncodeToString(bodyHash(m.Body, true, -1))},
		{"c", "relaxed/relaxed"}, {"d", s.Domain}, {"h", strings.Join(keep, ":")},
		{"i", strconv.Itoa(n)}, {"s", s.Selector}, {"t", s.now()}}
	return s.signField(HeaderAMS, tags, hashed)
}

const authresName = "authentication-results"

// seal builds the AS over every set in order; with cv=fail only our own
// set is covered (RFC 8617 section 5.1.1).
func (s *Sealer) seal(m *mailmsg.Message, aar, ams mailmsg.Field, n int, cv string) (mailmsg.Field, error) {
	var hashed []string
	if cv != StatusFail {
		c, err := collect(m.Header)
		if err != nil {
			return mailmsg.Field{}, err
		}
		for _, st := range c {
			hashed = append(hashed, relaxedHeader(st.aar.Name, st.aar.Value, true),
				relaxedHeader(st.ams.field.Name, st.ams.field.Value, true),
				relaxedHeader(st.as.field.Name, st.as.field.Value, true))
		}
	}
	hashed = append(hashed, relaxedHeader(aar.Name, aar.Value, true), relaxedHeader(ams.Name, ams.Value, true))
	tags := [][2]string{{"a", algorithm(s.Key)}, {"b", ""}, {"cv", cv}, {"d", s.Domain},
		{"i", strconv.Itoa(n)}, {"s", s.Selector}, {"t", s.now()}}
	return s.signField(HeaderSeal, tags, hashed)
}

// fold writes "k=v; k=v" as a field value, starting a new line before a
// tag that would pass 72 columns. b= gets its own lines: 70 characters
// after "b=", then 72 per line, as dkimpy (the suite's reference signer)
// folds it. That layout matters: an AS hashes the earlier AMS and AS
// fields b= included, so where a verifier sees spaces inside b= has to be
// what we signed; copying the common layout keeps our signatures
// byte-identical to the reference.
func fold(tags [][2]string, b string) string {
	var out strings.Builder
	col := 16 // room for the field name
	for i, t := range tags {
		v := t[1]
		if t[0] == "b" {
			v = chunk(b)
		}
		item := t[0] + "=" + v
		if i < len(tags)-1 {
			item += ";"
		}
		switch {
		case i > 0 && (t[0] == "b" && b != "" || col+1+len(item) > 72):
			out.WriteString("\r\n ")
			col = 1
		default:
			out.WriteString(" ")
			col++
		}
		out.WriteString(item)
		col += len(item)
		if t[0] == "b" && b != "" {
			col = 72 // the next tag starts a new line
		}
	}
	return out.String()
}

// chunk breaks a b= value after 70 characters, then every 72.
func chunk(s string) string {
	var parts []string
	n := 70
	for len(s) > n {
		parts = append(parts, s[:n])
		s, n = s[n:], 72
	}
	return strings.Join(append(parts, s), "\r\n ")
}
