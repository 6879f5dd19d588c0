package arc

import (
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gomilter/gomilter/internal/authres"
	"github.com/gomilter/gomilter/internal/mailmsg"
)

// DefaultHeaders is the AMS h= list when Sealer.Headers is empty: the
// RFC 6376 section 5.4.1 recommendation plus MIME fields and the
// DKIM-Signature (RFC 8617 section 4.1.2 asks to cover it).
var DefaultHeaders = []string{"from", "to", "cc", "subject", "date", "message-id",
	"reply-to", "in-reply-to", "references", "mime-version", "content-type",
	"content-transfer-encoding", "list-id", "list-post", "list-unsubscribe", "dkim-signature"}

// Errors of Seal.
var (
	// ErrChainFailed: the newest seal already says cv=fail, so no set is
	// added (RFC 8617 section 5.1.2).
	ErrChainFailed = errors.New("arc: chain already failed, not sealing")
	// ErrTooMany: the message already has MaxInstance sets.
	ErrTooMany = errors.New("arc: too many ARC sets")
	// ErrTemporary: the arrival check failed on a DNS error; sealing now
	// would write cv=fail for good, so the caller should tempfail or skip.
	ErrTemporary = errors.New("arc: chain status unknown (DNS), not sealing")
)

// Sealer adds our ARC set (RFC 8617 section 5.1). Key is an
// *rsa.PrivateKey (>= 1024 bits; 2048 recommended) or ed25519.PrivateKey.
type Sealer struct {
	Domain   string
	Selector string
	Key      crypto.Signer
	Headers  []string         // AMS h=; DefaultHeaders when empty
	Now      func() time.Time // t=; time.Now when nil
}

// Seal returns the new set, top to bottom as it must be prepended:
// ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results. chain is
// what Verify said on arrival; clauses are our own A-R result clauses
// (see ARPayload) under authservID. The message must already carry every
// change and signature we make (sealing comes last).
func (s *Sealer) Seal(m *mailmsg.Message, chain Result, authservID string, clauses []string) ([]mailmsg.Field, error) {
	if s.Key == nil || !validDomain(s.Domain) || s.Selector == "" {
		return nil, errors.New("arc: sealer needs a key, a domain and a selector")
	}
	if chain.Temporary {
		return nil, ErrTemporary
	}
	n, newestFail := highestInstance(m.Header)
	if newestFail {
		return nil, ErrChainFailed
	}
	if n++; n > MaxInstance {
		return nil, ErrTooMany
	}
	cv := chainValue(n, chain)
	aar := mailmsg.Field{Name: HeaderAAR, Value: aarValue(n, authservID, clauses)}
	ams, err := s.messageSignature(m, aar, n)
	if err != nil {
		return nil, err
	}
	as, err := s.seal(m, aar, ams, n, cv)
	if err != nil {
		return nil, err
	}
	return []mailmsg.Field{as, ams, aar}, nil
}

// chainValue is the cv= of our seal: none for the first set, else the
// status found on arrival (anything but pass is fail).
func chainValue(n int, chain Result) string {
	switch {
	case n == 1:
		return StatusNone
	case chain.Status == StatusPass:
		return StatusPass
	}
	return StatusFail
}

func aarValue(n int, id string, clauses []string) string {
	if len(clauses) == 0 {
		return fmt.Sprintf(" i=%d; %s; none", n, id)
	}
	return fmt.Sprintf(" i=%d; %s; %s", n, id, strings.Join(clauses, ";\r\n\t"))
}

// ARPayload collects the result clauses of every Authentication-Results
// field with authservID, in header order, for the AAR.
func ARPayload(h []mailmsg.Field, authservID string) []string {
	var out []string
	for _, f := range h {
		if !strings.EqualFold(strings.TrimRight(f.Name, " \t"), authres.HeaderName) {
			continue
		}
		if id, cl := authres.Clauses(f.Value); authres.SameID(id, authservID) {
			out = append(out, cl...)
		}
	}
	return out
}

// highestInstance scans ARC-Seal fields leniently: the highest i= seen
// and whether that seal says cv=fail.
func highestInstance(h []mailmsg.Field) (int, bool) {
	max, fail := 0, false
	for _, f := range h {
		name := strings.TrimRight(f.Name, " \t")
		if !strings.EqualFold(name, HeaderSeal) && !strings.EqualFold(name, HeaderAMS) && !strings.EqualFold(name, HeaderAAR) {
			continue
		}
		i, err := instanceOf(f)
		if err != nil || i < max {
			continue
		}
		if i > max {
			max, fail = i, false
		}
		if strings.EqualFold(name, HeaderSeal) {
			if tags, err := parseTags(f.Value); err == nil && tags["cv"] == StatusFail {
				fail = true
			}
		}
	}
	return max, fail
}

func instanceOf(f mailmsg.Field) (int, error) {
	if strings.EqualFold(strings.TrimRight(f.Name, " \t"), HeaderAAR) {
		return aarInstance(f.Value)
	}
	tags, err := parseTags(f.Value)
	if err != nil {
		return 0, err
	}
	return instance(tags["i"])
}

func (s *Sealer) now() string {
	t := time.Now()
	if s.Now != nil {
		t = s.Now()
	}
	return strconv.FormatInt(t.Unix(), 10)
}

// signField signs the relaxed canonical form of hashed + the new field
// (b= empty), then returns the field with b= filled in and folded.
func (s *Sealer) signField(name string, tags [][2]string, hashed []string) (mailmsg.Field, error) {
	unsigned := mailmsg.Field{Name: name, Value: fold(tags, "")}
	h := newHash()
	for _, x := range hashed {
		h.Write([]byte(x))
	}
	h.Write([]byte(relaxedHeader(unsigned.Name, unsigned.Value, false)))
	b, err := sign(s.Key, h.Sum(nil))
	if err != nil {
		return mailmsg.Field{}, err
	}
	return mailmsg.Field{Name: name, Value: fold(tags, base64.StdEncoding.EncodeToString(b))}, nil
}
