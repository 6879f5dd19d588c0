package authres

import (
	"errors"
	"strings"

	"github.com/gomilter/gomilter/internal/mailmsg"
)

// maxField bounds the text we look at; real fields are a few hundred bytes.
const maxField = 64 << 10

// wsp is the only white space left once folding is removed.
const wsp = " \t"

// ErrSyntax is wrapped by every Parse error.
var ErrSyntax = errors.New("authres: syntax error")

// Parse reads an Authentication-Results value (after the colon) into its
// authserv-id and results. Comments are dropped except the first comment
// of each result, which lands in Result.Comment. "; none" gives no results.
func Parse(value string) (authservID string, results []Result, err error) {
	if len(value) > maxField {
		return "", nil, errors.Join(ErrSyntax, errors.New("field too long"))
	}
	parts, comments, err := split(mailmsg.Unfold(value))
	if err != nil {
		return "", nil, err
	}
	id, rest := readValue(strings.Trim(parts[0], wsp))
	if id == "" {
		return "", nil, errors.Join(ErrSyntax, errors.New("missing authserv-id"))
	}
	if rest = strings.Trim(rest, wsp); rest != "" && !allDigits(rest) {
		return id, nil, errors.Join(ErrSyntax, errors.New("junk after authserv-id"))
	}
	for i, p := range parts[1:] {
		p = strings.Trim(p, wsp)
		if i == 0 && len(parts) == 2 && strings.EqualFold(p, "none") {
			return id, nil, nil
		}
		r, err := parseResult(p)
		if err != nil {
			return id, results, err
		}
		r.Comment = comments[i+1]
		results = append(results, r)
	}
	return id, results, nil
}

// split cuts s at ';' outside quoted strings and comments, replacing each
// comment by a space; it returns the first comment text of every part.
func split(s string) (parts, comments []string, err error) {
	var cur strings.Builder
	var comment string
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			end, ok := skipQuoted(s, i)
			if !ok {
				return nil, nil, errors.Join(ErrSyntax, errors.New("unterminated quoted string"))
			}
			cur.WriteString(s[i:end])
			i = end - 1
		case '(':
			end, ok := skipComment(s, i)
			if !ok {
				return nil, nil, errors.Join(ErrSyntax, errors.New("unbalanced comment"))
			}
			if comment == "" {
				comment = strings.TrimSpace(unescape(s[i+1 : end-1]))
			}
			cur.WriteByte(' ')
			i = end - 1
		case ';':
			parts, comments = append(parts, cur.String()), append(comments, comment)
			cur.Reset()
			comment = ""
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, cur.String()), append(comments, comment), nil
}

// skipQuoted returns the index after the quoted string starting at s[i].
func skipQuoted(s string, i int) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1, true
		}
	}
	return 0, false
}

// skipComment returns the index after the (nested) comment at s[i].
func skipComment(s string, i int) (int, bool) {
	depth := 0
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return j + 1, true
			}
		}
	}
	return 0, false
}

// readValue reads a token or quoted string at the start of s.
func readValue(s string) (v, rest string) {
	if strings.HasPrefix(s, `"`) {
		end, ok := skipQuoted(s, 0)
		if !ok {
			return "", s
		}
		return unescape(s[1 : end-1]), s[end:]
	}
	end := strings.IndexAny(s, " \t;\"()=")
	if end < 0 {
		end = len(s)
	}
	return s[:end], s[end:]
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// Clauses splits a field value at top-level ';' (outside comments and
// quoted strings) without removing anything: the authserv-id part (with
// any version) and each result clause, trimmed. ARC sealers copy the
// clauses of their own A-R fields into the ARC-Authentication-Results.
func Clauses(value string) (authservID string, clauses []string) {
	if len(value) > maxField {
		value = value[:maxField]
	}
	var parts []string
	start := 0
	for i := 0; i < len(value); i++ {
		switch value[i] {
		case '"':
			if end, ok := skipQuoted(value, i); ok {
				i = end - 1
			}
		case '(':
			if end, ok := skipComment(value, i); ok {
				i = end - 1
			}
		case ';':
			parts = append(parts, value[start:i])
			start = i + 1
		}
	}
	parts = append(parts, value[start:])
	for _, p := range parts[1:] {
		if p = strings.Trim(p, " \t\r\n"); p != "" && !strings.EqualFold(p, "none") {
			clauses = append(clauses, p)
		}
	}
	return ID(value), clauses
}
