package authres

import (
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		" mx.google.com;\r\n       dkim=pass header.i=@example.com header.s=20230601 header.b=XoJ1VX4v;\r\n       spf=pass (google.com: domain of a@b.example designates 1.2.3.4 as permitted sender) smtp.mailfrom=a@b.example;\r\n       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=example.com",
		" spf.protection.outlook.com; spf=pass (sender IP is 40.107.1.1) smtp.mailfrom=example.com; dkim=pass (signature was verified) header.d=example.com;dmarc=pass action=none header.from=example.com;compauth=pass reason=100",
		"example.net 1; none",
		"(c) \"q\\\"id\" ; auth=pass smtp.auth=user@example",
		"mx; arc=pass (i=2 spf=pass) smtp.remote-ip=2001:db8::1 header.oldest-pass=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, rs, err := Parse(s)
		claimed := ID(s)
		if err == nil && !strings.EqualFold(id, claimed) {
			t.Fatalf("Parse id %q != ID %q for %q", id, claimed, s)
		}
		if err != nil || !isToken(id) {
			return
		}
		for _, r := range rs {
			if r.Method == "" || strings.ContainsAny(r.Method+r.Value, " \t=;\"()") {
				return // not representable through Format; skip round trip
			}
		}
		// Formatting what we parsed must parse back to the same thing.
		id2, rs2, err := Parse(Format(id, rs))
		if err != nil || id2 != id || len(rs2) != len(rs) {
			t.Fatalf("round trip of %q: %q %d %v (had %d)", s, id2, len(rs2), err, len(rs))
		}
	})
}
