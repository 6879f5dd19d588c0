package dovecotauth

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
)

// Wire commands and reply words (auth protocol 1.2).
const (
	cmdVersion = "VERSION"
	cmdCPID    = "CPID"
	cmdAuth    = "AUTH"
	cmdCont    = "CONT"
	cmdUser    = "USER"
	cmdPass    = "PASS"
	cmdList    = "LIST"

	replyOK       = "OK"
	replyFail     = "FAIL"
	replyNotFound = "NOTFOUND"

	protoMajor = 1
	protoMinor = 2
	// masterMinor is what Dovecot's auth-master socket announces.
	masterMinor = 1
)

// errSyntax marks a malformed line from the client: the connection is closed
// (Dovecot logs a BUG and disconnects; answering garbage helps nobody).
var errSyntax = errors.New("dovecotauth: protocol syntax error")

// splitLine splits a received line (without its LF) into TAB-separated
// fields.
func splitLine(line string) []string { return strings.Split(line, "\t") }

// escapeValue applies Dovecot's tab-escaping to a value we send.
func escapeValue(s string) string {
	if !strings.ContainsAny(s, "\x01\t\r\n") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0x01:
			b.WriteString("\x011")
		case '\t':
			b.WriteString("\x01t")
		case '\r':
			b.WriteString("\x01r")
		case '\n':
			b.WriteString("\x01n")
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// unescapeValue reverses escapeValue for values clients send.
func unescapeValue(s string) string {
	if !strings.Contains(s, "\x01") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != 0x01 || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case '1':
			b.WriteByte(0x01)
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// authCommand is a parsed AUTH line.
type authCommand struct {
	id      uint32
	mech    string
	info    RequestInfo
	resp    string // initial response, base64; valid only if hasResp
	hasResp bool
	noLogin bool
}

// parseID reads a request id: a positive 32-bit decimal number.
func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, errSyntax
	}
	return uint32(n), nil
}

// parseAuth decodes "AUTH\t<id>\t<mech>\t<params...>" (fields without the
// command word). Unknown parameters are ignored; "resp=" ends the list.
func parseAuth(f []string) (authCommand, error) {
	var a authCommand
	if len(f) < 2 || f[1] == "" {
		return a, errSyntax
	}
	id, err := parseID(f[0])
	if err != nil {
		return a, err
	}
	a.id, a.mech = id, strings.ToUpper(f[1])
	for _, p := range f[2:] {
		k, v, _ := strings.Cut(p, "=")
		if k == "resp" {
			a.resp, a.hasResp = v, true
			break
		}
		a.applyParam(k, unescapeValue(v))
	}
	if a.info.Service == "" {
		return a, errSyntax
	}
	return a, nil
}

func (a *authCommand) applyParam(k, v string) {
	switch k {
	case "service":
		a.info.Service = v
	case "lip":
		a.info.LocalIP, _ = netip.ParseAddr(v)
	case "rip":
		a.info.RemoteIP, _ = netip.ParseAddr(v)
	case "lport":
		a.info.LocalPort, _ = strconv.Atoi(v)
	case "rport":
		a.info.RemotePort, _ = strconv.Atoi(v)
	case "secured":
		a.info.Secured = true
	case "nologin":
		a.noLogin = true
	}
}

// formatLine joins fields into one reply line with a trailing LF; values
// must already be escaped where they come from outside.
func formatLine(fields ...string) []byte {
	n := len(fields)
	for _, f := range fields {
		n += len(f)
	}
	b := make([]byte, 0, n)
	for i, f := range fields {
		if i > 0 {
			b = append(b, '\t')
		}
		b = append(b, f...)
	}
	return append(b, '\n')
}
