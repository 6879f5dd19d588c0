package spam

import (
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Date eval functions (HeaderEval's check_for_shifted_date and
// check_outlook_message_id) with SA's lenient RFC 822 date parser.

func init() {
	regEval("check_for_shifted_date", boolEval(evalShiftedDate))
	regEval("check_outlook_message_id", boolEval(evalOutlookMessageID))
}

// tzAbbrev are the zone names SA's Util::parse_rfc822_date knows.
var tzAbbrev = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "WET": 0, "NDT": -230, "AST": -400, "ADT": -300, "NST": -330,
	"EST": -500, "EDT": -400, "CST": -600, "CDT": -500, "MST": -700, "MDT": -600, "PST": -800,
	"PDT": -700, "HST": -1000, "AKST": -900, "AKDT": -800, "HADT": -900, "HAST": -1000,
	"BST": 100, "IST": 100, "WEST": 100, "CET": 100, "CEST": 200, "EET": 200, "EEST": 300,
	"MSK": 300, "MSD": 400, "MET": 100, "MEZ": 100, "MEST": 200, "MESZ": 200, "BRST": -200,
	"BRT": -300, "AEST": 1000, "AEDT": 1100, "ACST": 930, "ACDT": 1030, "AWST": 800,
	"JST": 900, "KST": 900, "HKT": 800, "SGT": 800, "PHT": 800, "NZST": 1200, "NZDT": 1300,
}

var (
	dateDMY    = regexp.MustCompile(`(?i) (\d+) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) `)
	dateMDY    = regexp.MustCompile(`(?i) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +(\d+) \d+:\d+:\d+ (\d{4}) `)
	dateDMY2   = regexp.MustCompile(`(?i) (\d+) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{2,3}) `)
	dateHMS    = regexp.MustCompile(` (\d?\d):(\d\d)(:(\d\d))? `)
	dateTZ     = regexp.MustCompile(` ([-+]\d{4}) `)
	dateTZN    = regexp.MustCompile(`\b([A-Z]{2,4}(?:-DST)?)\b`)
	commaSpace = regexp.MustCompile(`, *`)
	months     = map[string]int{"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12}
)

// parseRFC822Date returns a Unix time, or false when SA could not parse.
func parseRFC822Date(s string) (int64, bool) {
	s = " " + s + " "
	s = commaSpace.ReplaceAllString(s, " ")
	s = squeezeSpace(s)
	var dd, yyyy int
	var mon string
	if mm := dateDMY.FindStringSubmatch(s); mm != nil {
		dd, mon, yyyy = atoiDef(mm[1], 0), mm[2], atoiDef(mm[3], 0)
		s = strings.Replace(s, mm[0], " ", 1)
	} else if mm := dateMDY.FindStringSubmatch(s); mm != nil {
		dd, mon, yyyy = atoiDef(mm[2], 0), mm[1], atoiDef(mm[3], 0)
		s = strings.Replace(s, mm[0], " ", 1)
	} else if mm := dateDMY2.FindStringSubmatch(s); mm != nil {
		dd, mon, yyyy = atoiDef(mm[1], 0), mm[2], atoiDef(mm[3], 0)
		if len(mm[3]) == 2 && yyyy < 50 {
			yyyy += 2000
		} else {
			yyyy += 1900
		}
		s = strings.Replace(s, mm[0], " ", 1)
	} else {
		return 0, false
	}
	var hh, mi, ss int
	if mm := dateHMS.FindStringSubmatch(s); mm != nil {
		hh, mi, ss = atoiDef(mm[1], 0), atoiDef(mm[2], 0), atoiDef(mm[4], 0)
		s = strings.Replace(s, mm[0], " ", 1)
	}
	tz := 0
	if mm := dateTZ.FindStringSubmatch(s); mm != nil {
		tz, _ = strconv.Atoi(mm[1])
	} else if mm := dateTZN.FindStringSubmatch(s); mm != nil {
		tz = tzAbbrev[mm[1]]
	}
	ss, mi, hh = min(ss, 59), min(mi, 59), min(hh, 23)
	mo := months[strings.ToLower(mon)]
	maxDD := time.Date(yyyy, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if dd > maxDD {
		dd, mo = 1, mo+1
		if mo > 12 {
			mo, yyyy = 1, yyyy+1
		}
	}
	yyyy = max(min(yyyy, 2037), 1970)
	t := time.Date(yyyy, time.Month(mo), dd, hh, mi, ss, 0, time.UTC).Unix()
	sign := int64(1)
	if tz < 0 {
		sign, tz = -1, -tz
	}
	t -= sign * int64(tz/100*3600+tz%100*60)
	return t, true
}

var (
	rcvdDateRe   = regexp.MustCompile(`(\s.?\d+ \S\S\S \d+ \d+:\d+:\d+ \S+)`)
	rcvdLocal1   = regexp.MustCompile(`\bfrom (?:localhost\s|(?:\S+ ){1,2}\S*\b127\.0\.0\.1\b)|qmail \d+ invoked by uid \d+`)
	rcvdFetchmal = regexp.MustCompile(`\bby localhost with \w+ \(fetchmail-[\d.]+`)
)

// dateDiff is HeaderEval's _check_date_diff: Date minus the closest
// Received time, skipping local and fetchmail hops.
func (m *msgState) dateDiff() float64 {
	if v, ok := m.evalCache["date_diff"].(float64); ok {
		return v
	}
	d := m.computeDateDiff()
	m.evalCache["date_diff"] = d
	return d
}

func (m *msgState) computeDateDiff() float64 {
	var dateT int64
	found := false
	for _, h := range []string{"Resent-Date", "Date"} {
		for _, v := range m.headerValues(h, nil) {
			if t, ok := parseRFC822Date(strings.TrimSpace(v)); ok {
				dateT, found = t, true
				break
			}
		}
		if found {
			break
		}
	}
	if !found {
		return 0
	}
	var rcvd []string
	for _, l := range strings.Split(m.get("Received"), "\n") {
		if strings.TrimSpace(l) != "" {
			rcvd = append(rcvd, l)
		}
	}
	if len(rcvd) > 0 && rcvdLocal1.MatchString(rcvd[0]) {
		first := rcvd[0]
		rcvd = rcvd[1:]
		if !(len(rcvd) > 0 && rcvdFetchmal.MatchString(rcvd[0])) {
			rcvd = append([]string{first}, rcvd...)
		} else {
			rcvd = rcvd[1:]
		}
	}
	var diffs []float64
	for _, r := range rcvd {
		if mm := rcvdDateRe.FindStringSubmatch(r); mm != nil {
			if t, ok := parseRFC822Date(mm[1]); ok {
				diffs = append(diffs, float64(dateT-t))
			}
		}
	}
	if len(diffs) == 0 {
		return 0
	}
	if len(diffs) > 1 && diffs[len(diffs)-1] == 0 {
		diffs = diffs[:len(diffs)-1]
	}
	sort.SliceStable(diffs, func(i, j int) bool { return math.Abs(diffs[i]) < math.Abs(diffs[j]) })
	return diffs[0]
}

func evalShiftedDate(m *msgState, args []string) bool {
	if len(args) < 2 {
		return false
	}
	d := m.dateDiff()
	return (args[0] == "undef" || d >= 3600*atof(args[0])) && (args[1] == "undef" || d < 3600*atof(args[1]))
}

var outlookMID = regexp.MustCompile(`^<[0-9a-f]{4}([0-9a-f]{8})\$[0-9a-f]{8}\$[0-9a-f]{8}@`)

func evalOutlookMessageID(m *msgState, _ []string) bool {
	mm := outlookMID.FindStringSubmatch(m.get("MESSAGEID"))
	if mm == nil {
		return false
	}
	tok, _ := strconv.ParseUint(mm[1], 16, 64)
	const x, y, fudge = 0.0023283064365387, 27111902.8329849, 250.0
	expect := func(t int64) float64 { return math.Trunc(float64(t)*x + y) }
	dt, _ := parseRFC822Date(m.get("Date"))
	if math.Abs(float64(tok)-expect(dt)) < fudge {
		return false
	}
	var rt int64
	// SA's regex ends in ".*?$" without /m, so only the last Received
	// line (the oldest hop) can match.
	lines := strings.Split(strings.TrimSuffix(m.get("Received"), "\n"), "\n")
	if mm := rcvdDateRe.FindStringSubmatch(lines[len(lines)-1]); mm != nil {
		rt, _ = parseRFC822Date(mm[1])
	}
	return math.Abs(float64(tok)-expect(rt)) >= fudge
}
