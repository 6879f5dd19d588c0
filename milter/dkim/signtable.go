package dkim

import (
	"context"
	"net/mail"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// fromAddress returns the local part and lower-cased domain of the single
// address in the single From: field. Several From: fields or addresses
// make the author ambiguous: OpenDKIM does not sign those.
func fromAddress(m *mailmsg.Message) (user, domain string, ok bool) {
	froms := m.All("From")
	if len(froms) != 1 {
		return "", "", false
	}
	v := mailmsg.Unfold(froms[0].Value)
	var addr string
	if list, err := mail.ParseAddressList(v); err == nil {
		if len(list) != 1 {
			return "", "", false
		}
		addr = list[0].Address
	} else {
		addr = looseAddress(v)
	}
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", "", false
	}
	return addr[:at], strings.ToLower(strings.TrimSuffix(addr[at+1:], ".")), true
}

// looseAddress takes what is inside <...>, or the last word with an '@',
// for From: values net/mail rejects (8-bit display names, odd quoting).
func looseAddress(v string) string {
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return strings.TrimSpace(v[i+1 : i+j])
		}
	}
	for _, w := range strings.Fields(v) {
		if strings.Contains(w, "@") {
			return strings.Trim(w, "<>\"(),;")
		}
	}
	return ""
}

// lookupSigningTable applies OpenDKIM's SigningTable rules: refile:
// patterns in file order against user@domain; other tables are queried
// with user@host, host, user@.parent..., .parent..., user@*, * in turn.
// The first match wins unless MultipleSignatures is on.
func (s *Signer) lookupSigningTable(user, domain string) []SignRequest {
	st := s.opts.SigningTable
	addr := user + "@" + domain
	var out []SignRequest
	add := func(r SigningRule) bool {
		out = append(out, s.request(r, domain))
		return !s.opts.MultipleSignatures
	}
	if st.Wildcard {
		for _, r := range st.Rules {
			if wildcardMatch(r.Pattern, addr) && add(r) {
				return out
			}
		}
		return out
	}
	for _, key := range lookupKeys(user, domain) {
		for _, r := range st.Rules {
			if strings.EqualFold(r.Pattern, key) && add(r) {
				return out
			}
		}
	}
	return out
}

func lookupKeys(user, domain string) []string {
	keys := []string{user + "@" + domain, domain}
	var parents []string
	for d := domain; ; {
		i := strings.IndexByte(d, '.')
		if i < 0 {
			break
		}
		d = d[i+1:]
		parents = append(parents, d)
	}
	for _, p := range parents {
		keys = append(keys, user+"@."+p)
	}
	for _, p := range parents {
		keys = append(keys, "."+p)
	}
	return append(keys, user+"@*", "*")
}

// request resolves '%' in the key's domain and the signer, and drops an
// i= whose domain is not d= or below it (opendkim.conf(5) SigningTable).
func (s *Signer) request(r SigningRule, fromDomain string) SignRequest {
	req := SignRequest{KeyName: r.KeyName}
	if k := (*s.keys.Load())[r.KeyName]; k != nil {
		req.Domain, req.Selector = k.spec.Domain, k.spec.Selector
	}
	if req.Domain == "%" || req.Domain == "" {
		req.Domain = fromDomain
	}
	if r.Signer != "" {
		id := strings.ReplaceAll(r.Signer, "%", fromDomain)
		at := strings.LastIndexByte(id, '@')
		dom := strings.ToLower(id[at+1:])
		if dom == req.Domain || strings.HasSuffix(dom, "."+req.Domain) {
			req.Identity = id
		}
	}
	return req
}

// pickKey applies the publication check to the key a request names.
func (s *Signer) pickKey(ctx context.Context, k *signingKey, req SignRequest) *signingKey {
	if k == nil || k.err != nil {
		if k != nil {
			s.log.Error("dkim: message left unsigned: key unusable", "key", req.KeyName, "err", k.err)
		} else {
			s.log.Error("dkim: message left unsigned: key not in KeyTable", "key", req.KeyName)
		}
		s.metrics.keyError("unusable")
		return nil
	}
	if s.opts.KeyCheck == KeyCheckOff {
		return k
	}
	res := s.checker.check(ctx, req.Domain, req.Selector, k.pub)
	if res != checkMismatch && res != checkMissing {
		return k
	}
	s.log.Warn("dkim: published key does not match the signing key", "key", req.KeyName,
		"record", req.Selector+"._domainkey."+req.Domain, "problem", res.String())
	switch s.opts.KeyCheck {
	case KeyCheckPrevious:
		if k.prev != nil && s.checker.check(ctx, req.Domain, req.Selector, k.prev.pub) == checkMatch {
			return k.prev
		}
		return k
	case KeyCheckDontSign:
		return nil
	}
	return k
}
