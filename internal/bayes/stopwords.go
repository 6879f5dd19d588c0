package bayes

// stopwords are common English words that say nothing about spamminess;
// tokens equal to one of them (case-insensitively) are dropped in every
// region. The list is SpamAssassin 4.0's default (bayes_stopword_languages
// en, 60_bayes_stopwords.cf), written out as words.
var stopwords = makeSet(
	"able", "already", "all", "and", "any", "are", "because", "both", "can", "come",
	"each", "email", "even", "few", "first", "for", "from", "give", "have", "has", "http",
	"information", "into", "it's", "just", "know", "like", "long", "look",
	"made", "mail", "mailing", "mailto", "make", "many", "more", "most", "much",
	"need", "not", "now", "number", "off", "only", "one", "out", "own", "people", "place",
	"right", "same", "see", "such", "that", "this", "through", "the", "time", "using",
	"web", "where", "why", "with", "without", "world", "work",
	"year", "years", "you", "you're", "your",
)

func makeSet(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// isStopword reports whether tok is a stopword, ignoring ASCII case.
func isStopword(tok string) bool {
	if len(tok) == 0 || len(tok) > len("information") || stopLens[tok[0]|0x20]&(1<<len(tok)) == 0 {
		return false
	}
	var b [len("information")]byte
	return stopwords[string(appendLower(b[:0], tok))]
}

// stopLens[c] has bit n set when a stopword of length n starts with c:
// it rules out most words without a map lookup.
var stopLens = func() (t [256]uint16) {
	for w := range stopwords {
		t[w[0]] |= 1 << len(w)
	}
	return t
}()
