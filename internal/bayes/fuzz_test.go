package bayes

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzTokenize feeds arbitrary bytes through the message parser, the MIME
// walk, the HTML renderer and the tokenizer: nothing may panic, every token
// must be non-empty and its key must be its hash.
func FuzzTokenize(f *testing.F) {
	f.Add([]byte(sampleMsg))
	f.Add([]byte("Subject: x\n\n\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97 caf\xe9 www.a.b"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: text/html\r\n\r\n<a href=http://x.y>z</a>\r\n--x--"))
	for _, g := range []string{"spam-1", "easy-ham-1"} {
		files, _ := filepath.Glob(filepath.Join(corpusDir(f), "train", g, "0000*.eml"))
		for _, p := range files {
			if raw, err := os.ReadFile(p); err == nil {
				f.Add(raw)
			}
		}
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		msg := ParseMessage(raw)
		for h, s := range Tokenize(msg) {
			if s == "" || HashToken(s) != h {
				t.Fatalf("bad token %q", s)
			}
		}
	})
}

// FuzzTokenizeLine checks the line tokenizer's invariants on any input.
func FuzzTokenizeLine(f *testing.F) {
	for _, s := range []string{"Hello World...foo", "FREE!!! bob@x.example.com", "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80x", "a--b---c"} {
		f.Add(s, 1)
	}
	f.Fuzz(func(t *testing.T, line string, region int) {
		region = ((region % 3) + 3) % 3
		for _, tok := range tokenizeLine(line, "H:", region) {
			if len(tok) <= len("H:") && region == regionHeader {
				t.Fatalf("empty header token from %q", line)
			}
		}
		_ = utf8.ValidString(line)
	})
}

// squeezeParagraphs does in one pass what the two regexes it replaced did.
func FuzzSqueezeParagraphs(f *testing.F) {
	for _, s := range []string{"", "a\n\nb", " a \n \n\t b ", "x\n \n \ny", "a\x00b", "\n", "\n\n", " \n\r\n \f"} {
		f.Add(s)
	}
	para, space := regexp.MustCompile(`\n+\s*\n+`), regexp.MustCompile(`\s+`)
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.ReplaceAll(space.ReplaceAllString(para.ReplaceAllString(s, "\x00"), " "), "\x00", "\n")
		if got := squeezeParagraphs(s); got != want {
			t.Fatalf("squeezeParagraphs(%q) = %q, want %q", s, got, want)
		}
	})
}

// lowerTitleCase does by hand what this regexp substitution did.
func FuzzLowerTitleCase(f *testing.F) {
	for _, s := range []string{"", "Hello world", "HELLO", "a. Bc d. EF. Gh", "x.  \tYy\n", ".\fA!B", "Ab. Cd. ", "A", "A\xe4b \xff. Q\u00e4 R"} {
		f.Add(s)
	}
	titleRE := regexp.MustCompile(`(?:^|\.\s+)([A-Z])([^A-Z]+)(?:\s|$)`)
	f.Fuzz(func(t *testing.T, s string) {
		want := s
		if strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			want = titleRE.ReplaceAllStringFunc(s, func(m string) string {
				sm := titleRE.FindStringSubmatch(m)
				return " " + strings.ToLower(sm[1]) + sm[2] + " "
			})
		}
		if got := lowerTitleCase(s); got != want {
			t.Fatalf("lowerTitleCase(%q) = %q, want %q", s, got, want)
		}
	})
}

// spreadRuns does by hand what these regexp substitutions did.
func FuzzSpreadRuns(f *testing.F) {
	for _, s := range []string{"", "a...b", "a..b", "a.......b", "a...b...c", "x--y---z", "_------_", "a...\xe4", "1....2.. 3...-4"} {
		f.Add(s)
	}
	dotsRE := regexp.MustCompile(`(\w)(\.{3,6})(\w)`)
	dashesRE := regexp.MustCompile(`(\w)(-{2,6})(\w)`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := spreadRuns(s, '.', 3), dotsRE.ReplaceAllString(s, "$1 $2 $3"); got != want {
			t.Fatalf("spreadRuns(%q, '.') = %q, want %q", s, got, want)
		}
		if got, want := spreadRuns(s, '-', 2), dashesRE.ReplaceAllString(s, "$1 $2 $3"); got != want {
			t.Fatalf("spreadRuns(%q, '-') = %q, want %q", s, got, want)
		}
	})
}

// receivedSeeds adds example Received values, from the corpus and made
// up to reach every step, to a fuzz target.
func receivedSeeds(f *testing.F) {
	for _, s := range []string{
		"from a (a [10.1.2.3]) by b with ESMTP id 4F2AB19C3D; Mon, 1 Jul 2002 10:00:00 +0000",
		"from x by y (8.11.6/8.11.6) with SMTP id g7MCJiZ060431 for <a@b>; Thu,\t22 Aug 2002 13:19:44 +0100 (IST)",
		"by mx with esmtp id 1abcDEf-000123-0X; Sat, 24 Aug 02 09:42:10 -0700 (PDT) EST UTCT ESTT",
		"from 1234.5.6.7 [1.2.3.4a] (255.255.255.255) 1.2.3.4_ 001.2.3.4567 with idx id_ x ESMTPS fromfor",
		"for  5 Jan 1999 23:59 GMT) ( -0000 ) Tue, 31 Dec 20 00:00:00\n\n(",
	} {
		f.Add(s)
	}
	files, _ := filepath.Glob(filepath.Join(corpusDir(f), "train", "*", "00001*.eml"))
	for _, p := range files {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, fl := range ParseMessage(raw).All("Received") {
			f.Add(unfold(fl.Value))
		}
	}
}

// The Received steps of chewReceived do by hand what these regexp
// substitutions did.
func FuzzReceivedIDs(f *testing.F) {
	receivedSeeds(f)
	sendm1 := regexp.MustCompile(`\swith\sSMTP\sid\sg[\dA-Z]{10,12}\s`)
	sendm2 := regexp.MustCompile(`\swith\sESMTP\sid\s[\dA-F]{10,12}\s`)
	queueID := regexp.MustCompile(`\bid\s[a-zA-Z0-9]{7,20}\b`)
	eximID := regexp.MustCompile(`\bid\s[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-0[A-Za-z0-9]`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range []struct {
			name      string
			got, want string
		}{
			{"SMTP", dropSendmailID(s, "SMTP", "g", isDigitOrUpper), sendm1.ReplaceAllString(s, " ")},
			{"ESMTP", dropSendmailID(s, "ESMTP", "", isDigitOrUpperHex), sendm2.ReplaceAllString(s, " ")},
			{"queue", dropQueueID(s), queueID.ReplaceAllString(s, " ")},
			{"exim", dropEximID(s), eximID.ReplaceAllString(s, " ")},
		} {
			if c.got != c.want {
				t.Fatalf("%s id of %q: got %q, want %q", c.name, s, c.got, c.want)
			}
		}
	})
}

func FuzzReceivedDates(f *testing.F) {
	receivedSeeds(f)
	date := regexp.MustCompile(`(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),\s)?[0-3\s]?[0-9]\s(?:Jan|Feb|Ma[ry]|Apr|Ju[nl]|Aug|Sep|Oct|Nov|Dec)\s(?:19|20)?[0-9]{2}\s[0-2][0-9](?::[0-5][0-9]){1,2}\s(?:\s*\(|\)|\s*(?:[+-][0-9]{4})|\s*(?:UT|[A-Z]{2,3}T))*`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := dropDates(s), date.ReplaceAllString(s, ""); got != want {
			t.Fatalf("dropDates(%q) = %q, want %q", s, got, want)
		}
	})
}

func FuzzReceivedIPv4(f *testing.F) {
	receivedSeeds(f)
	ip := regexp.MustCompile(`\b(\d{1,3}\.)(\d{1,3}\.)(\d{1,3})(\.\d{1,3})\b`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := splitIPv4(s), ip.ReplaceAllString(s, "$1$2$3 ip*$1$2$3$4 "); got != want {
			t.Fatalf("splitIPv4(%q) = %q, want %q", s, got, want)
		}
	})
}

func FuzzDropWords(f *testing.F) {
	receivedSeeds(f)
	f.Add("text/plain; charset=us-ascii; xtext charset_ texts text")
	noise := regexp.MustCompile(`\b(?:with|from|for|SMTP|ESMTP)\b`)
	ctWords := regexp.MustCompile(`\b(?:text|charset)\b`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := dropWords(s, "with", "from", "for", "SMTP", "ESMTP"), noise.ReplaceAllString(s, " "); got != want {
			t.Fatalf("dropWords(%q) = %q, want %q", s, got, want)
		}
		if got, want := dropWords(s, "text", "charset"), ctWords.ReplaceAllString(s, " "); got != want {
			t.Fatalf("dropWords(%q) = %q, want %q", s, got, want)
		}
	})
}

// chewMessageID skips regexps whose literals are missing and replaces
// the last by hand.
func FuzzMessageID(f *testing.F) {
	for _, s := range []string{
		"<1a2b3c4d5e6f$7a8b9c0d$1234abcd@host.example>", "<1abcDEf-000123-0X@mx>", "<20020822131941.ABCDEF0123@x>",
		"<12345.abc@sender.example.org>", "<x\xe4\xb8\xad\xff_y@z>", "<a-0b$c<20@d>",
	} {
		f.Add(s)
	}
	midOutlook := regexp.MustCompile(`<([0-9a-f]{4})[0-9a-f]{4}[0-9a-f]{4}\$([0-9a-f]{4})[0-9a-f]{4}\$([0-9a-f]{8})@(\S+)>`)
	midExim := regexp.MustCompile(`<[A-Za-z0-9]{7}-[A-Za-z0-9]{6}-0[A-Za-z0-9]@`)
	midDated := regexp.MustCompile(`<20\d\d[01]\d[0123]\d[012]\d[012345]\d[012345]\d\.[A-F0-9]{10,12}@`)
	midNonWord := regexp.MustCompile(`[^_A-Za-z0-9]`)
	f.Fuzz(func(t *testing.T, s string) {
		v := midOutlook.ReplaceAllString(s, " OEA$1 OEB$2 OEC$3 $4 ")
		v = midExim.ReplaceAllString(v, "")
		v = midDated.ReplaceAllString(v, "")
		if got, want := chewMessageID(s), midNonWord.ReplaceAllString(v, " "); got != want {
			t.Fatalf("chewMessageID(%q) = %q, want %q", s, got, want)
		}
	})
}

func FuzzRelayKeys(f *testing.F) {
	for _, s := range []string{"[ ip=1.2.3.4 rdns=a.example helo=b by=c ident= envfrom= intl=0 id= auth= msa=0 ]", " a= b=c  =d Ab=x  x", " ab"} {
		f.Add(s)
	}
	keys := regexp.MustCompile(` [a-z]+=`)
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := dropRelayKeys(s), keys.ReplaceAllString(s, " "); got != want {
			t.Fatalf("dropRelayKeys(%q) = %q, want %q", s, got, want)
		}
	})
}

func FuzzUnfold(f *testing.F) {
	for _, s := range []string{"", " a\r\n\tb ", "a\n b\r\nc\rd\r\r\n \t e\n", "\r\n", "x\n\n  y\r"} {
		f.Add(s)
	}
	fold := regexp.MustCompile(`\r?\n[ \t]+`)
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.TrimSpace(strings.NewReplacer("\r\n", "", "\n", "").Replace(fold.ReplaceAllString(s, " ")))
		if got := unfold(s); got != want {
			t.Fatalf("unfold(%q) = %q, want %q", s, got, want)
		}
	})
}

// findURIs does by hand what these regexps did.
func FuzzFindURIs(f *testing.F) {
	for _, s := range []string{
		"see http://a.example/x?y=1, HTTPS://B.example. or www.c.example/(z) ftp://d/e",
		"xhttp://no _www.no www. http:// httpſ://long.s httpS://x hTtP:/x Www.x.y",
		"mail a.b+c@d-e.example.org, x@y, @z.w, _x@y.z@q.r.s a@b.c_d@e.f..g a@b..c a@-.-",
		"\xe2www.x \xff@a.b http://\xe4\xb8\xad.cn<x>",
		strings.Repeat("www.x a@b.c ", 210),
	} {
		f.Add([]byte(s))
	}
	uriRE := regexp.MustCompile(`(?i)\b(?:(?:https?|ftp)://|www\.)[^\s<>"'()\[\]{}]+`)
	emailRE := regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`)
	f.Fuzz(func(t *testing.T, b []byte) {
		var want []string
		for _, m := range uriRE.FindAll(b, 200) {
			want = append(want, strings.TrimRight(string(m), ".,;:!?"))
		}
		for _, m := range emailRE.FindAll(b, 200) {
			want = append(want, "mailto:"+strings.TrimRight(string(m), ".-"))
		}
		if got := findURIs(b); !slices.Equal(got, want) {
			t.Fatalf("findURIs(%q) = %q, want %q", b, got, want)
		}
	})
}
