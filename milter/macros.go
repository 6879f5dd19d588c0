package milter

// Stage is the protocol step a set of macros was sent for.
type Stage int

// Stages in the order the MTA reaches them. HEADER and EOH macros share
// StageEOH and BODY and end-of-body share StageEOM, as Postfix sends the
// same lists for them (milter_end_of_header_macros, milter_end_of_data_macros).
const (
	StageConnect Stage = iota
	StageHelo
	StageMail
	StageRcpt
	StageData
	StageEOH
	StageEOM
	StageUnknown
	numStages
)

var stageNames = [...]string{"connect", "helo", "mail", "rcpt", "data", "eoh", "eom", "unknown"}

func (s Stage) String() string {
	if s >= 0 && s < numStages {
		return stageNames[s]
	}
	return "stage?"
}

// stageOf maps the command byte of a MACRO packet to its stage.
func stageOf(c Code) (Stage, bool) {
	switch c {
	case CmdConnect:
		return StageConnect, true
	case CmdHelo:
		return StageHelo, true
	case CmdMail:
		return StageMail, true
	case CmdRcpt:
		return StageRcpt, true
	case CmdData:
		return StageData, true
	case CmdHeader, CmdEOH:
		return StageEOH, true
	case CmdBody, CmdEOB:
		return StageEOM, true
	case CmdUnknown:
		return StageUnknown, true
	}
	return 0, false
}

// Macros holds the macros of one milter connection, kept per stage for
// the whole connection: unlike go-milter, values from CONNECT are still
// there at end of message. Keys are exactly as the MTA sends them
// (Postfix: "j", "i", "{auth_authen}" with braces).
//
// A Macros value belongs to its connection's goroutine; the Milter may
// read it during callbacks but must not keep it past Close.
type Macros struct {
	stages [numStages][]string // flat name, value pairs
}

// Get returns the value of name, looking from the newest stage back to
// CONNECT, or "" when unset. A long name may be given with or without
// braces ("auth_authen" finds "{auth_authen}").
func (m *Macros) Get(name string) string {
	v, _ := m.Lookup(name)
	return v
}

// Lookup is Get that also says whether the macro was sent at all.
func (m *Macros) Lookup(name string) (string, bool) {
	if m == nil {
		return "", false
	}
	alt := ""
	if len(name) > 1 && name[0] != '{' {
		alt = "{" + name + "}"
	}
	// The unknown stage is out of order: check it after the others.
	order := [...]Stage{StageEOM, StageEOH, StageData, StageRcpt, StageMail, StageHelo, StageConnect, StageUnknown}
	for _, s := range order {
		kv := m.stages[s]
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == name || (alt != "" && kv[i] == alt) {
				return kv[i+1], true
			}
		}
	}
	return "", false
}

// Stage returns the name/value pairs of one stage as a map (a copy).
func (m *Macros) Stage(s Stage) map[string]string {
	out := map[string]string{}
	if m == nil || s < 0 || s >= numStages {
		return out
	}
	kv := m.stages[s]
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// set replaces the macros of stage s. A stage that starts again (a new
// MAIL after a finished message) invalidates the later stages, so stale
// RCPT or EOM values never leak into the next transaction.
func (m *Macros) set(s Stage, kv []string) {
	m.stages[s] = kv
	if s == StageUnknown {
		return
	}
	for later := s + 1; later < StageUnknown; later++ {
		m.stages[later] = nil
	}
}

// abort drops the per-transaction stages; CONNECT and HELO stay.
func (m *Macros) abort() {
	for s := StageMail; s < numStages; s++ {
		m.stages[s] = nil
	}
}

// reset drops everything (QUIT_NC: a new SMTP connection follows).
func (m *Macros) reset() { m.stages = [numStages][]string{} }
