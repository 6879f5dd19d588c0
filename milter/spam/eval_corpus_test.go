package spam

import (
	"context"
	"sort"
	"strings"
	"testing"
)

// subruleHits runs every rule of the default score set on raw and
// returns all hits, "__" subrules included.
func subruleHits(e *Engine, raw string) map[string]bool {
	m := newMsgState(e, nil, []byte(raw))
	m.ctx = context.Background()
	m.set = e.sets[0]
	e.runRules(m)
	out := map[string]bool{}
	for n := range m.hits {
		out[n] = true
	}
	return out
}

// evalSubrules are the rules built on the eval functions of
// eval_forged.go, eval_image.go, eval_vbounce.go, eval_uri_extra.go and
// eval_dkim.go (with Debian's rules).
var evalSubrules = strings.Fields(`__FORGED_JUNO_RCVD __FORGED_EUDORAMAIL_RCVD FORGED_GMAIL_RCVD
	__FORGED_RCVD_TRAIL __JPEG_ATTACH_1 __JPEG_ATTACH_2P __GIF_ATTACH_1 __GIF_ATTACH_2P
	__PNG_ATTACH_1 __PNG_ATTACH_2P __ONE_IMG __IMG_LE_300K __GIF_AREA_180K __PNG_AREA_180K
	__DC_IMG_HTML_RATIO __DC_IMG_TEXT_RATIO __MY_SERVERS_FOUND __HAVE_BOUNCE_RELAYS
	HTTPS_HTTP_MISMATCH PDS_OTHER_BAD_TLD T_PDS_PRO_TLD __PDS_CASHSHORTENER __DKIM_DEPENDABLE`)

// TestEvalSubrulesCorpus compares those rules on corpus messages with
// the hits SpamAssassin 4.0.1 logged for them (spamassassin -L -D rules,
// Bayes off): webmail forgeries, and every message with a GIF, PNG or
// JPEG part.
func TestEvalSubrulesCorpus(t *testing.T) {
	e := systemEngine(t)
	for _, tc := range []struct {
		group, file string
		sa          string // SA's hits among evalSubrules
	}{
		{"spam-1", "00425.1434e0ab4e5235b64825b4c2a0999d76.eml", "__FORGED_JUNO_RCVD"},
		{"spam-1", "00453.456abc0bc83034492888f63725796d5b.eml", "__FORGED_JUNO_RCVD"},
		{"spam-1", "00476.af3a29817853a5c56bae5257c2d4b742.eml", "__FORGED_JUNO_RCVD"},
		{"spam-1", "00065.6203de135559b319326445aafd68dbca.eml", "__FORGED_EUDORAMAIL_RCVD"},
		{"spam-1", "00081.123b29a781b2e8c83763e5d440e672a3.eml", "__FORGED_EUDORAMAIL_RCVD"},
		{"spam-1", "00221.c4dfeecf0cacc9469540337f5baf69db.eml", "__FORGED_EUDORAMAIL_RCVD"},
		{"spam-1", "00256.edd9bfb44729edf3c4f177814fd8c9e1.eml", "__JPEG_ATTACH_1 __ONE_IMG"},
		{"spam-1", "00260.c75ce8b8d8bfc55723426979d260bf61.eml", "__JPEG_ATTACH_1 __ONE_IMG"},
		{"spam-1", "00307.7ed50c6d80c6e37c8cc1b132f4a19e4d.eml", "__DC_IMG_HTML_RATIO __DC_IMG_TEXT_RATIO __JPEG_ATTACH_1 __ONE_IMG"},
		{"spam-1", "00330.c5f7346dec1e6fe6ed324d8e78a2b46e.eml", "__JPEG_ATTACH_1 __ONE_IMG"},
		{"spam-1", "00341.99b463b92346291f5848137f4a253966.eml", "__DC_IMG_HTML_RATIO __GIF_ATTACH_1 __IMG_LE_300K __ONE_IMG"},
	} {
		t.Run(tc.file[:5], func(t *testing.T) {
			hits := subruleHits(e, corpusMessage(t, tc.group, tc.file))
			var got []string
			for _, r := range evalSubrules {
				if hits[r] {
					got = append(got, r)
				}
			}
			sort.Strings(got)
			want := strings.Fields(tc.sa)
			sort.Strings(want)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("hits %v, SpamAssassin %v", got, want)
			}
		})
	}
}
