package arc

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/gomilter/gomilter/internal/authres"
	"github.com/gomilter/gomilter/internal/mailmsg"
)

// Chain validation statuses (RFC 8617 section 4.4).
const (
	StatusNone = "none"
	StatusPass = "pass"
	StatusFail = "fail"
)

// Result is the chain validation outcome.
type Result struct {
	Status     string   // none, pass or fail
	Instances  int      // number of ARC sets found (0 for none)
	OldestPass int      // lowest instance whose AMS and all newer ones verify; 0 = all
	Sealers    []string // AS d= per instance, oldest first (set when pass)
	Reason     string   // why it failed, for logs and AR comments
	Temporary  bool     // the failure came from a DNS temporary error
}

// Verify validates the ARC chain of m (RFC 8617 section 5.2).
func Verify(ctx context.Context, r Resolver, m *mailmsg.Message) Result {
	c, err := collect(m.Header)
	if err != nil {
		return failed(err)
	}
	if len(c) == 0 {
		return Result{Status: StatusNone}
	}
	res := Result{Status: StatusFail, Instances: len(c)}
	n := len(c)
	if cv := c[n-1].as.tags["cv"]; cv == "fail" {
		res.Reason = "newest ARC-Seal says cv=fail"
		return res
	}
	for i, st := range c {
		if want := map[bool]string{true: "none", false: "pass"}[i == 0]; st.as.tags["cv"] != want {
			res.Reason = fmt.Sprintf("ARC-Seal i=%d has cv=%s, want %s", i+1, st.as.tags["cv"], want)
			return res
		}
	}
	if err := verifyAMS(ctx, r, m, c[n-1].ams); err != nil {
		return withErr(res, fmt.Errorf("AMS i=%d: %w", n, err))
	}
	for i := n; i >= 1; i-- {
		if err := verifySeal(ctx, r, c, i); err != nil {
			return withErr(res, fmt.Errorf("AS i=%d: %w", i, err))
		}
	}
	res.Status, res.Reason = StatusPass, ""
	res.OldestPass = oldestPass(ctx, r, m, c)
	for _, st := range c {
		res.Sealers = append(res.Sealers, st.as.domain())
	}
	return res
}

func failed(err error) Result {
	return withErr(Result{Status: StatusFail}, err)
}

func withErr(res Result, err error) Result {
	res.Status, res.Reason, res.Temporary = StatusFail, err.Error(), errors.Is(err, errTemp)
	return res
}

// oldestPass walks older AMSs (section 5.2 step 6): the result is the
// lowest instance from which every AMS up to the newest verifies, or 0
// when all do.
func oldestPass(ctx context.Context, r Resolver, m *mailmsg.Message, c chain) int {
	for i := len(c) - 1; i >= 1; i-- {
		if verifyAMS(ctx, r, m, c[i-1].ams) != nil {
			return i + 1
		}
	}
	return 0
}

// verifyAMS checks body hash and signature of an AMS (like DKIM, RFC
// 6376 section 6.1.3, with the AMS in place of DKIM-Signature). Without
// c= the RFC 6376 default simple/simple is tried first, then
// relaxed/relaxed, which the reference ARC implementation (dkimpy) uses
// as its default: only the key holder can make either verify.
func verifyAMS(ctx context.Context, r Resolver, m *mailmsg.Message, s *sig) error {
	hr, br, _ := s.canon()
	err := verifyAMSWith(ctx, r, m, s, hr, br)
	if _, explicit := s.tags["c"]; err != nil && !explicit && !errors.Is(err, errTemp) {
		if verifyAMSWith(ctx, r, m, s, true, true) == nil {
			return nil
		}
	}
	return err
}

func verifyAMSWith(ctx context.Context, r Resolver, m *mailmsg.Message, s *sig, hr, br bool) error {
	l := int64(-1)
	if v, ok := s.tags["l"]; ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fmt.Errorf("bad l=%q", v)
		}
		l = n
	}
	bh, _ := base64.StdEncoding.DecodeString(stripFWS(s.tags["bh"]))
	if !bytes.Equal(bh, bodyHash(m.Body, br, l)) {
		return errors.New("body hash mismatch")
	}
	h := newHash()
	for _, f := range pick(m.Header, s.headers()) {
		h.Write([]byte(canonField(f, hr, true)))
	}
	self := mailmsg.Field{Name: s.field.Name, Value: stripB(s.field.Value)}
	h.Write([]byte(canonField(self, hr, false)))
	return checkSig(ctx, r, s, h.Sum(nil))
}

// verifySeal checks AS(i) over sets 1..i (section 5.1.1 step 4).
func verifySeal(ctx context.Context, r Resolver, c chain, i int) error {
	return checkSig(ctx, r, c[i-1].as, sealDigest(c[:i], c[i-1].as.field))
}

// sealDigest hashes AAR, AMS, AS of each set in order, the last AS
// (self) with b= emptied and without its CRLF.
func sealDigest(c chain, self mailmsg.Field) []byte {
	h := newHash()
	for j, st := range c {
		h.Write([]byte(canonField(st.aar, true, true)))
		h.Write([]byte(canonField(st.ams.field, true, true)))
		if j < len(c)-1 {
			h.Write([]byte(canonField(st.as.field, true, true)))
		}
	}
	h.Write([]byte(canonField(mailmsg.Field{Name: self.Name, Value: stripB(self.Value)}, true, false)))
	return h.Sum(nil)
}

func checkSig(ctx context.Context, r Resolver, s *sig, digest []byte) error {
	key, err := lookupKey(ctx, r, s.tags["s"], s.tags["d"])
	if err != nil {
		return err
	}
	return key.verify(s.alg, digest, s.b)
}

func canonField(f mailmsg.Field, relaxed, crlf bool) string {
	if relaxed {
		return relaxedHeader(f.Name, f.Value, crlf)
	}
	return simpleHeader(f.Name, f.Value, crlf)
}

// pick selects, for each name in order, the next unused field of that
// name from the bottom of the header (RFC 6376 section 5.4.2); names
// with no instance left contribute nothing.
func pick(h []mailmsg.Field, names []string) []mailmsg.Field {
	used := map[string]int{}
	var out []mailmsg.Field
	for _, n := range names {
		key := strings.ToLower(n)
		skip := used[key]
		for i := len(h) - 1; i >= 0; i-- {
			if !strings.EqualFold(strings.TrimRight(h[i].Name, " \t"), n) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, h[i])
			break
		}
		used[key]++
	}
	return out
}

// AR returns the arc clause of our Authentication-Results field
// (RFC 8617 section 10.1) for a client address.
func (r Result) AR(remoteIP netip.Addr) authres.Result {
	return authres.ARC(r.Status, remoteIP, r.OldestPass)
}
