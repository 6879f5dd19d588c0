package dmarc

import (
	"errors"
	"net/mail"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// Errors of FromDomain: DMARC cannot be evaluated (RFC 9989 section
// 4.10 leaves the handling to local policy; the milter reports permerror).
var (
	ErrNoFrom       = errors.New("dmarc: no From header field")
	ErrMultipleFrom = errors.New("dmarc: more than one From field or address")
	ErrBadFrom      = errors.New("dmarc: From field does not parse")
)

// FromDomain returns the RFC5322.From domain (the Author Domain): the
// message must have exactly one From field with exactly one address.
func FromDomain(m *mailmsg.Message) (string, error) {
	fs := m.All("From")
	switch {
	case len(fs) == 0:
		return "", ErrNoFrom
	case len(fs) > 1:
		return "", ErrMultipleFrom
	}
	v := mailmsg.Unfold(fs[0].Value)
	list, err := mail.ParseAddressList(v)
	if err != nil {
		return fallbackDomain(v)
	}
	if len(list) != 1 {
		return "", ErrMultipleFrom
	}
	return domainOf(list[0].Address)
}

// fallbackDomain copes with From fields net/mail rejects (odd display
// names, 8-bit text) by taking the one <addr-spec> or the bare address.
func fallbackDomain(v string) (string, error) {
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		j := strings.IndexByte(v[i:], '>')
		if j < 0 || strings.Count(v, "<") != 1 {
			return "", ErrBadFrom
		}
		return domainOf(v[i+1 : i+j])
	}
	if strings.ContainsAny(v, " ,;\t") {
		return "", ErrBadFrom
	}
	return domainOf(v)
}

func domainOf(addr string) (string, error) {
	i := strings.LastIndexByte(addr, '@')
	if i < 0 {
		return "", ErrBadFrom
	}
	d := normalize(strings.Trim(addr[i+1:], "[]"))
	if !validDomain(d) {
		return "", ErrBadFrom
	}
	return d, nil
}
