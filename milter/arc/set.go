package arc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// Header field names (RFC 8617 section 4.1).
const (
	HeaderAAR  = "ARC-Authentication-Results"
	HeaderAMS  = "ARC-Message-Signature"
	HeaderSeal = "ARC-Seal"
)

// MaxInstance is the highest instance allowed (RFC 8617 section 4.2.1).
const MaxInstance = 50

// sig is a parsed AMS or AS.
type sig struct {
	field mailmsg.Field
	tags  tagList
	b     []byte
	alg   string
}

// set is one ARC set.
type set struct {
	aar mailmsg.Field
	ams *sig
	as  *sig
}

// chain is the sets of a message indexed by instance-1.
type chain []set

var errStructure = errors.New("arc: broken set structure")

// collect finds and parses every ARC field; any syntax error, duplicate,
// gap or missing member fails the whole chain (RFC 8617 section 5.2 step 1-3).
func collect(h []mailmsg.Field) (chain, error) {
	byI := map[int]*set{}
	max := 0
	for _, f := range h {
		name := strings.TrimRight(f.Name, " \t")
		kind := 0
		switch {
		case strings.EqualFold(name, HeaderAAR):
			kind = 1
		case strings.EqualFold(name, HeaderAMS):
			kind = 2
		case strings.EqualFold(name, HeaderSeal):
			kind = 3
		default:
			continue
		}
		i, s, err := parseField(kind, f)
		if err != nil {
			return nil, err
		}
		if byI[i] == nil {
			byI[i] = &set{}
		}
		if err := byI[i].add(kind, f, s); err != nil {
			return nil, err
		}
		max = maxInt(max, i)
	}
	return assemble(byI, max)
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func (st *set) add(kind int, f mailmsg.Field, s *sig) error {
	switch {
	case kind == 1 && st.aar.Name == "":
		st.aar = f
	case kind == 2 && st.ams == nil:
		st.ams = s
	case kind == 3 && st.as == nil:
		st.as = s
	default:
		return fmt.Errorf("%w: duplicate %s", errStructure, f.Name)
	}
	return nil
}

func assemble(byI map[int]*set, max int) (chain, error) {
	if max > MaxInstance {
		return nil, fmt.Errorf("%w: more than %d sets", errStructure, MaxInstance)
	}
	c := make(chain, max)
	for i := 1; i <= max; i++ {
		st := byI[i]
		if st == nil || st.aar.Name == "" || st.ams == nil || st.as == nil {
			return nil, fmt.Errorf("%w: set %d incomplete", errStructure, i)
		}
		c[i-1] = *st
	}
	return c, nil
}

// parseField returns the instance of an ARC field and, for AMS/AS, the
// checked signature.
func parseField(kind int, f mailmsg.Field) (int, *sig, error) {
	if kind == 1 {
		i, err := aarInstance(f.Value)
		return i, nil, err
	}
	tags, err := parseTags(f.Value)
	if err != nil {
		return 0, nil, err
	}
	i, err := instance(tags["i"])
	if err != nil {
		return 0, nil, err
	}
	s := &sig{field: f, tags: tags}
	if kind == 2 {
		err = s.checkAMS()
	} else {
		err = s.checkSeal()
	}
	return i, s, err
}

// aarInstance reads the mandatory leading "i=<n>;" of an AAR.
func aarInstance(v string) (int, error) {
	k, rest, ok := strings.Cut(v, "=")
	if !ok || strings.Trim(k, " \t\r\n") != "i" {
		return 0, fmt.Errorf("%w: AAR does not start with i=", errStructure)
	}
	n, _, ok := strings.Cut(rest, ";")
	if !ok {
		return 0, fmt.Errorf("%w: AAR i= not followed by ';'", errStructure)
	}
	return instance(strings.Trim(n, " \t\r\n"))
}

func instance(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || !allDigits(s) || n < 1 || n > MaxInstance {
		return 0, fmt.Errorf("%w: bad instance %q", errStructure, s)
	}
	return n, nil
}
