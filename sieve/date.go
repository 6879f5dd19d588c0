package sieve

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// date and currentdate tests (RFC 5260).

func dateSpecs() []*Spec {
	zone := []TagDef{{Name: "zone", Param: TString, Group: "zone"}, {Name: "originalzone", Group: "zone"}}
	return []*Spec{
		{Name: "date", Ext: "date", IsTest: true, Tags: tags(matchTags, zone, indexTags, mimeTags),
			Args: []ValType{TString, TString, TStringList}, Check: checkDate, Eval: evalDate},
		{Name: "currentdate", Ext: "date", IsTest: true, Tags: tags(matchTags, zone[:1]),
			Args: []ValType{TString, TStringList}, Check: checkDate, Eval: evalCurrentDate},
	}
}

var dateParts = map[string]bool{"year": true, "month": true, "day": true, "date": true,
	"julian": true, "hour": true, "minute": true, "second": true, "time": true,
	"iso8601": true, "std11": true, "zone": true, "weekday": true}

func checkDate(c *Compiler, n *Node) {
	pi := len(n.Args) - 2
	if p := n.Args[pi].Str(); c.ConstString(p) && !dateParts[strings.ToLower(p)] {
		c.Errorf(n.Args[pi].Pos, "the %s test: invalid date part '%s'", n.Spec.Name, p)
	}
	if z := n.TagValue("zone"); z != nil && c.ConstString(z.Str()) {
		if _, ok := parseZone(z.Str()); !ok {
			c.Errorf(z.Pos, "the %s test: invalid time zone '%s'", n.Spec.Name, z.Str())
		}
	}
	if n.Spec.Name == "date" {
		checkIndex(c, n)
		if h := n.Args[0].Str(); c.ConstString(h) && !validFieldName(h) {
			c.Errorf(n.Args[0].Pos, "the date test: specified header field name '%s' is invalid", h)
		}
	}
	c.compileMatch(n, len(n.Args)-1)
}

// parseZone parses "+hhmm"/"-hhmm".
func parseZone(z string) (*time.Location, bool) {
	if len(z) != 5 || (z[0] != '+' && z[0] != '-') {
		return nil, false
	}
	h, err1 := strconv.Atoi(z[1:3])
	m, err2 := strconv.Atoi(z[3:5])
	if err1 != nil || err2 != nil || h > 23 || m > 59 {
		return nil, false
	}
	off := (h*60 + m) * 60
	if z[0] == '-' {
		off = -off
	}
	return time.FixedZone(z, off), true
}

// parseDateHeader parses an RFC 5322 date; Received takes the part after
// the last semicolon.
func parseDateHeader(name, v string) (time.Time, bool) {
	if strings.EqualFold(name, "received") {
		i := strings.LastIndexByte(v, ';')
		if i < 0 {
			return time.Time{}, false
		}
		v = v[i+1:]
	}
	v = strings.TrimSpace(v)
	if t, err := mail.ParseDate(v); err == nil {
		return t, true
	}
	// Tolerate a trailing comment or zone name the mail package refuses.
	if i := strings.IndexByte(v, '('); i > 0 {
		if t, err := mail.ParseDate(strings.TrimSpace(v[:i])); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (r *Runtime) dateZone(n *Node, orig time.Time) (time.Time, bool) {
	if z := n.TagValue("zone"); z != nil {
		loc, ok := parseZone(r.String(z))
		if !ok {
			return time.Time{}, false
		}
		return orig.In(loc), true
	}
	if n.Tag("originalzone") {
		return orig, true
	}
	return orig.In(time.Local), true
}

func evalDate(r *Runtime, n *Node) (bool, error) {
	name := r.String(n.Args[0])
	part := strings.ToLower(r.String(n.Args[1]))
	var vals []string
	for _, h := range r.headerLists(n) {
		for _, raw := range indexed(n, fieldValues(h, name, false)) {
			t, ok := parseDateHeader(name, raw)
			if !ok {
				continue
			}
			if t, ok = r.dateZone(n, t); ok {
				if v, ok := datePart(t, part); ok {
					vals = append(vals, v)
				}
			}
		}
	}
	if len(vals) == 0 && n.match.typ != "count" {
		return false, nil
	}
	return r.matchValues(n, vals, n.Args[2].Strs)
}

func evalCurrentDate(r *Runtime, n *Node) (bool, error) {
	t, ok := r.dateZone(n, r.now)
	if !ok {
		return false, nil
	}
	v, ok := datePart(t, strings.ToLower(r.String(n.Args[0])))
	if !ok {
		return false, nil
	}
	return r.matchValues(n, []string{v}, n.Args[1].Strs)
}

func datePart(t time.Time, part string) (string, bool) {
	switch part {
	case "year":
		return fmt.Sprintf("%04d", t.Year()), true
	case "month":
		return fmt.Sprintf("%02d", int(t.Month())), true
	case "day":
		return fmt.Sprintf("%02d", t.Day()), true
	case "date":
		return t.Format("2006-01-02"), true
	case "julian":
		mjd := time.Date(1858, 11, 17, 0, 0, 0, 0, time.UTC)
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return strconv.Itoa(int(d.Sub(mjd).Hours() / 24)), true
	case "hour":
		return fmt.Sprintf("%02d", t.Hour()), true
	case "minute":
		return fmt.Sprintf("%02d", t.Minute()), true
	case "second":
		return fmt.Sprintf("%02d", t.Second()), true
	case "time":
		return t.Format("15:04:05"), true
	case "iso8601":
		return t.Format("2006-01-02T15:04:05-07:00"), true
	case "std11":
		return t.Format("Mon, 02 Jan 2006 15:04:05 -0700"), true
	case "zone":
		return t.Format("-0700"), true
	case "weekday":
		return strconv.Itoa(int(t.Weekday())), true
	}
	return "", false
}
