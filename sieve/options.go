package sieve

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is returned by an IncludeResolver for a missing script.
var ErrNotFound = errors.New("sieve: script not found")

// IncludeResolver finds scripts named by the include command (RFC 6609).
// global selects the :global location (Pigeonhole's sieve_global) instead
// of the user's :personal one. id identifies the script for :once and for
// loop detection (a path, for instance).
type IncludeResolver interface {
	Include(name string, global bool) (src []byte, id string, err error)
}

// Options configure compilation and the run-time limits of a script. The
// zero value gives Pigeonhole's defaults.
type Options struct {
	// Name names the script in error messages.
	Name string
	// Extensions lists the capabilities scripts may require; nil means the
	// Pigeonhole defaults (no editheader, spamtest, vacation-seconds...).
	Extensions []string
	// Extra adds non-standard extensions (used by the test suite).
	Extra []*Extension
	// Include resolves include commands; nil makes include an error.
	Include IncludeResolver

	MaxScriptSize   int // bytes; default 1 MiB (sieve_max_script_size)
	MaxNesting      int // block/test nesting; default 32
	MaxActions      int // default 32 (sieve_max_actions)
	MaxRedirects    int // default 4 (sieve_max_redirects)
	MaxIncludeDepth int // default 10 (sieve_include_max_nesting_depth)
	MaxIncludes     int // default 255 (sieve_include_max_includes)
	MaxVariableSize int // bytes; default 4096 (sieve_variables_max_variable_size)
	MaxVariables    int // per scope; default 255 (sieve_variables_max_scope_size)
	MaxRegexLen     int // bytes of one pattern; default 8192
	MaxSteps        int // commands+tests evaluated per run; default 1_000_000
	// MaxCPUTime bounds the wall-clock time of one run (Pigeonhole's
	// sieve_max_cpu_time); default 30s.
	MaxCPUTime time.Duration

	// RecipientDelimiter separates user and detail (subaddress); each
	// character is a delimiter. Default "+".
	RecipientDelimiter string

	// Vacation periods (RFC 5230/6131). Defaults: min 1 day, max 90 days,
	// default 7 days.
	VacationMinPeriod, VacationMaxPeriod, VacationDefaultPeriod time.Duration
	// VacationUseOriginalRecipient and friends follow the Pigeonhole
	// settings of the same names.
	VacationUseOriginalRecipient bool
	VacationDontCheckRecipient   bool
	VacationSendFromRecipient    bool
	// VacationDefaultSubject and VacationDefaultSubjectTemplate ("%$" is
	// the original subject) replace "Auto: <subject>"; subjects are cut to
	// VacationMaxSubjectCodepoints (default 256).
	VacationDefaultSubject         string
	VacationDefaultSubjectTemplate string
	VacationMaxSubjectCodepoints   int
	VacationToHeaderIgnoreEnvelope bool

	// Spam/virus test configuration (RFC 5235, Pigeonhole settings
	// sieve_spamtest_* and sieve_virustest_*).
	SpamTest, VirusTest ScoreConfig

	// EditheaderProtected lists headers editheader may neither add nor
	// delete; EditheaderForbidAdd/ForbidDelete forbid one of the two.
	// Fixed rules come first: Subject is always editable,
	// X-Sieve-Redirected-From never, Received and Auto-Submitted may be
	// added but not deleted. EditheaderMaxHeaderSize bounds one added
	// header (default 2048).
	EditheaderProtected     []string
	EditheaderMaxHeaderSize int
	EditheaderForbidAdd     []string
	EditheaderForbidDelete  []string

	// UserEmail is the user's own address (sieve_user_email).
	UserEmail string
	// RedirectEnvelopeFrom is Pigeonhole's sieve_redirect_envelope_from.
	RedirectEnvelopeFrom string
	// NotifyEnvelopeFrom is sieve_notify_mailto_envelope_from.
	NotifyEnvelopeFrom string
}

// ScoreConfig describes where spamtest/virustest find their score.
type ScoreConfig struct {
	StatusHeader     string // "Header-Name[: regexp]"
	StatusType       string // "score", "strlen" or "text"
	MaxHeader        string // "Header-Name[: regexp]"
	MaxValue         string
	TextValues       [11]string // index 0..10 for StatusType "text"
	TextValueDefined [11]bool
}

func (o *Options) withDefaults() Options {
	d := *o
	def := func(p *int, v int) {
		if *p <= 0 {
			*p = v
		}
	}
	def(&d.MaxScriptSize, 1<<20)
	def(&d.MaxNesting, 32)
	def(&d.MaxActions, 32)
	def(&d.MaxRedirects, 4)
	def(&d.MaxIncludeDepth, 10)
	def(&d.MaxIncludes, 255)
	def(&d.MaxVariableSize, 4096)
	def(&d.MaxVariables, 255)
	def(&d.MaxRegexLen, 8192)
	def(&d.MaxSteps, 1000000)
	def(&d.EditheaderMaxHeaderSize, 2048)
	if d.MaxCPUTime <= 0 {
		d.MaxCPUTime = 30 * time.Second
	}
	if d.RecipientDelimiter == "" {
		d.RecipientDelimiter = "+"
	}
	if d.VacationMinPeriod == 0 {
		d.VacationMinPeriod = 24 * time.Hour
	}
	if d.VacationMaxPeriod == 0 {
		d.VacationMaxPeriod = 90 * 24 * time.Hour
	}
	if d.VacationDefaultPeriod == 0 {
		d.VacationDefaultPeriod = 7 * 24 * time.Hour
	}
	return d
}

// enabled reports whether the capability may be required.
func (o *Options) enabled(ext string) bool {
	for _, x := range o.Extra {
		if x.Name == ext {
			return true
		}
	}
	if o.Extensions == nil {
		return knownExtensions[ext]
	}
	if _, ok := knownExtensions[ext]; !ok {
		return false
	}
	for _, e := range o.Extensions {
		if e == ext {
			return true
		}
	}
	return strings.HasPrefix(ext, "comparator-i;") // the built-in comparators
}

// SetExtensions applies a Pigeonhole sieve_extensions value: a list of
// names, or "+name"/"-name" changes to the current set.
func (o *Options) SetExtensions(v string) {
	cur := map[string]bool{}
	for name, on := range knownExtensions {
		if o.Extensions == nil && on {
			cur[name] = true
		}
	}
	for _, e := range o.Extensions {
		cur[e] = true
	}
	fields := strings.Fields(v)
	relative := len(fields) > 0 && (fields[0][0] == '+' || fields[0][0] == '-')
	if !relative {
		cur = map[string]bool{}
	}
	for _, f := range fields {
		switch f[0] {
		case '+':
			cur[f[1:]] = true
		case '-':
			delete(cur, f[1:])
		default:
			cur[f] = true
		}
	}
	o.Extensions = []string{}
	for name := range cur {
		o.Extensions = append(o.Extensions, name)
	}
}

// Set applies one Pigeonhole plugin setting by its name (e.g.
// "sieve_max_actions", "sieve_spamtest_status_header"). Unknown keys are
// an error; an empty value resets a setting to its default.
func (o *Options) Set(key, value string) error {
	if strings.HasPrefix(key, "sieve_spamtest_") || strings.HasPrefix(key, "sieve_virustest_") {
		return o.setScore(key, value)
	}
	set, ok := settings[key]
	if !ok {
		return fmt.Errorf("sieve: unknown setting %q", key)
	}
	if err := set(o, value); err != nil {
		return fmt.Errorf("sieve: %s: %v", key, err)
	}
	// An emptied setting falls back to its default, also in a running
	// script's options.
	ext := o.Extensions
	*o = o.withDefaults()
	o.Extensions = ext
	return nil
}

type setter func(o *Options, v string) error

func intSetting(field func(o *Options) *int) setter {
	return func(o *Options, v string) error {
		if v == "" {
			*field(o) = 0
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return fmt.Errorf("invalid number %q", v)
		}
		*field(o) = n
		return nil
	}
}

func durSetting(field func(o *Options) *time.Duration) setter {
	return func(o *Options, v string) error {
		if v == "" {
			*field(o) = 0
			return nil
		}
		d, err := parsePeriod(v)
		*field(o) = d
		return err
	}
}

func boolSetting(field func(o *Options) *bool) setter {
	return func(o *Options, v string) error { *field(o) = v == "yes" || v == "true"; return nil }
}

func strSetting(field func(o *Options) *string) setter {
	return func(o *Options, v string) error { *field(o) = v; return nil }
}

func listSetting(field func(o *Options) *[]string) setter {
	return func(o *Options, v string) error { *field(o) = strings.Fields(v); return nil }
}

// settings maps Pigeonhole setting names to Options fields.
var settings = map[string]setter{
	"sieve_extensions":                         func(o *Options, v string) error { o.SetExtensions(v); return nil },
	"sieve_max_script_size":                    intSetting(func(o *Options) *int { return &o.MaxScriptSize }),
	"sieve_max_actions":                        intSetting(func(o *Options) *int { return &o.MaxActions }),
	"sieve_max_redirects":                      intSetting(func(o *Options) *int { return &o.MaxRedirects }),
	"sieve_max_cpu_time":                       durSetting(func(o *Options) *time.Duration { return &o.MaxCPUTime }),
	"sieve_include_max_nesting_depth":          intSetting(func(o *Options) *int { return &o.MaxIncludeDepth }),
	"sieve_include_max_includes":               intSetting(func(o *Options) *int { return &o.MaxIncludes }),
	"sieve_variables_max_variable_size":        intSetting(func(o *Options) *int { return &o.MaxVariableSize }),
	"sieve_variables_max_scope_size":           intSetting(func(o *Options) *int { return &o.MaxVariables }),
	"recipient_delimiter":                      strSetting(func(o *Options) *string { return &o.RecipientDelimiter }),
	"sieve_vacation_min_period":                durSetting(func(o *Options) *time.Duration { return &o.VacationMinPeriod }),
	"sieve_vacation_max_period":                durSetting(func(o *Options) *time.Duration { return &o.VacationMaxPeriod }),
	"sieve_vacation_default_period":            durSetting(func(o *Options) *time.Duration { return &o.VacationDefaultPeriod }),
	"sieve_vacation_use_original_recipient":    boolSetting(func(o *Options) *bool { return &o.VacationUseOriginalRecipient }),
	"sieve_vacation_dont_check_recipient":      boolSetting(func(o *Options) *bool { return &o.VacationDontCheckRecipient }),
	"sieve_vacation_send_from_recipient":       boolSetting(func(o *Options) *bool { return &o.VacationSendFromRecipient }),
	"sieve_vacation_to_header_ignore_envelope": boolSetting(func(o *Options) *bool { return &o.VacationToHeaderIgnoreEnvelope }),
	"sieve_vacation_default_subject":           strSetting(func(o *Options) *string { return &o.VacationDefaultSubject }),
	"sieve_vacation_default_subject_template":  strSetting(func(o *Options) *string { return &o.VacationDefaultSubjectTemplate }),
	"sieve_vacation_max_subject_codepoints":    intSetting(func(o *Options) *int { return &o.VacationMaxSubjectCodepoints }),
	"sieve_editheader_protected":               listSetting(func(o *Options) *[]string { return &o.EditheaderProtected }),
	"sieve_editheader_forbid_add":              listSetting(func(o *Options) *[]string { return &o.EditheaderForbidAdd }),
	"sieve_editheader_forbid_delete":           listSetting(func(o *Options) *[]string { return &o.EditheaderForbidDelete }),
	"sieve_editheader_max_header_size":         intSetting(func(o *Options) *int { return &o.EditheaderMaxHeaderSize }),
	"sieve_user_email":                         strSetting(func(o *Options) *string { return &o.UserEmail }),
	"sieve_redirect_envelope_from":             strSetting(func(o *Options) *string { return &o.RedirectEnvelopeFrom }),
	"sieve_notify_mailto_envelope_from":        strSetting(func(o *Options) *string { return &o.NotifyEnvelopeFrom }),
}

func (o *Options) setScore(key, value string) error {
	sc := &o.SpamTest
	rest := strings.TrimPrefix(key, "sieve_spamtest_")
	if strings.HasPrefix(key, "sieve_virustest_") {
		sc, rest = &o.VirusTest, strings.TrimPrefix(key, "sieve_virustest_")
	}
	switch rest {
	case "status_header":
		sc.StatusHeader = value
	case "status_type":
		sc.StatusType = value
	case "max_header":
		sc.MaxHeader = value
	case "max_value":
		sc.MaxValue = value
	default:
		if i, ok := strings.CutPrefix(rest, "text_value"); ok {
			n, err := strconv.Atoi(i)
			if err != nil || n < 0 || n > 10 {
				return fmt.Errorf("sieve: unknown setting %q", key)
			}
			sc.TextValues[n], sc.TextValueDefined[n] = value, value != ""
			return nil
		}
		return fmt.Errorf("sieve: unknown setting %q", key)
	}
	return nil
}

// parsePeriod parses Dovecot time intervals: "7d", "1h", "30 secs", "0".
func parsePeriod(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(v[:i], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid interval %q", v)
	}
	unit := strings.ToLower(strings.TrimSpace(v[i:]))
	mult := time.Second
	switch {
	case unit == "" || strings.HasPrefix(unit, "s"):
	case strings.HasPrefix(unit, "mi") || unit == "m":
		mult = time.Minute
	case strings.HasPrefix(unit, "h"):
		mult = time.Hour
	case strings.HasPrefix(unit, "d"):
		mult = 24 * time.Hour
	case strings.HasPrefix(unit, "w"):
		mult = 7 * 24 * time.Hour
	default:
		return 0, fmt.Errorf("invalid interval %q", v)
	}
	return time.Duration(n) * mult, nil
}
