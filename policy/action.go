package policy

import (
	"fmt"
	"strings"
)

// Action is the value of a reply's action= attribute: any access(5)
// right-hand side (PROTOCOLS.md section 3.3). Postfix matches verbs
// case-insensitively.
type Action string

// Actions without text.
const (
	Dunno Action = "DUNNO" // continue with the next restriction
	OK    Action = "OK"    // permit this restriction list
)

// GenericDefer is the reply for handler failures, as in the
// SMTPD_POLICY_README example.
const GenericDefer Action = "defer_if_permit Service temporarily unavailable"

func withText(verb, text string) Action {
	if text == "" {
		return Action(verb)
	}
	return Action(verb + " " + text)
}

// Reject rejects with $access_map_reject_code (554 5.7.1) and text.
func Reject(text string) Action { return withText("REJECT", text) }

// Defer defers with $access_map_defer_code (450 4.7.1) and text.
func Defer(text string) Action { return withText("DEFER", text) }

// DeferIfPermit defers only if the final decision would be permit.
func DeferIfPermit(text string) Action { return withText("DEFER_IF_PERMIT", text) }

// DeferIfReject defers only if a later restriction would reject.
func DeferIfReject(text string) Action { return withText("DEFER_IF_REJECT", text) }

// Prepend adds a header field ("Name: value") to the message.
func Prepend(field string) Action { return withText("PREPEND", field) }

// Warn logs text and continues.
func Warn(text string) Action { return withText("WARN", text) }

// Reply answers with an explicit SMTP code (4xx or 5xx), an optional
// enhanced status code whose class digit matches, and text.
func Reply(code int, dsn, text string) Action {
	s := fmt.Sprintf("%d", code)
	if dsn != "" {
		s += " " + dsn
	}
	return withText(s, text)
}

// Verb returns the action's verb in lower case ("dunno", "prepend",
// "defer_if_permit"), "4xx"/"5xx" for numeric replies, "other" for anything
// else; it labels metrics, so its range is bounded.
func (a Action) Verb() string {
	v, _, _ := strings.Cut(strings.TrimSpace(string(a)), " ")
	v = strings.ToLower(v)
	if len(v) == 3 && (v[0] == '4' || v[0] == '5') && isDigits(v) {
		return v[:1] + "xx"
	}
	switch v {
	case "ok", "dunno", "reject", "defer", "defer_if_reject", "defer_if_permit",
		"prepend", "warn", "info", "hold", "discard", "filter", "redirect", "bcc":
		return v
	}
	if isDigits(v) && v != "" {
		return "ok" // all-digits means OK in access(5)
	}
	return "other"
}

// final reports whether the action decides the request, as opposed to
// DUNNO and the informational PREPEND/WARN/INFO that let a Chain go on.
func (a Action) final() bool {
	switch a.Verb() {
	case "dunno", "prepend", "warn", "info":
		return false
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
