package milter

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
)

// Code is a milter command (MTA to milter, upper case) or reply (milter to
// MTA, lower case and symbols) byte. Names follow libmilter's mfdef.h.
type Code byte

// Commands the MTA sends (SMFIC_*).
const (
	CmdAbort   Code = 'A' // SMFIC_ABORT
	CmdBody    Code = 'B' // SMFIC_BODY
	CmdConnect Code = 'C' // SMFIC_CONNECT
	CmdMacro   Code = 'D' // SMFIC_MACRO
	CmdEOB     Code = 'E' // SMFIC_BODYEOB
	CmdHelo    Code = 'H' // SMFIC_HELO
	CmdQuitNC  Code = 'K' // SMFIC_QUIT_NC
	CmdHeader  Code = 'L' // SMFIC_HEADER
	CmdMail    Code = 'M' // SMFIC_MAIL
	CmdEOH     Code = 'N' // SMFIC_EOH
	CmdOptNeg  Code = 'O' // SMFIC_OPTNEG
	CmdQuit    Code = 'Q' // SMFIC_QUIT
	CmdRcpt    Code = 'R' // SMFIC_RCPT
	CmdData    Code = 'T' // SMFIC_DATA
	CmdUnknown Code = 'U' // SMFIC_UNKNOWN
)

// Replies the milter sends (SMFIR_*).
const (
	RespAddRcpt    Code = '+' // SMFIR_ADDRCPT
	RespDelRcpt    Code = '-' // SMFIR_DELRCPT
	RespAddRcptPar Code = '2' // SMFIR_ADDRCPT_PAR
	RespAccept     Code = 'a' // SMFIR_ACCEPT
	RespReplBody   Code = 'b' // SMFIR_REPLBODY
	RespContinue   Code = 'c' // SMFIR_CONTINUE
	RespDiscard    Code = 'd' // SMFIR_DISCARD
	RespChgFrom    Code = 'e' // SMFIR_CHGFROM
	RespAddHeader  Code = 'h' // SMFIR_ADDHEADER
	RespInsHeader  Code = 'i' // SMFIR_INSHEADER
	RespChgHeader  Code = 'm' // SMFIR_CHGHEADER
	RespProgress   Code = 'p' // SMFIR_PROGRESS
	RespQuarantine Code = 'q' // SMFIR_QUARANTINE
	RespReject     Code = 'r' // SMFIR_REJECT
	RespSkip       Code = 's' // SMFIR_SKIP
	RespTempFail   Code = 't' // SMFIR_TEMPFAIL
	RespReplyCode  Code = 'y' // SMFIR_REPLYCODE
)

// OptAction is the SMFIF_* action mask exchanged in OPTNEG.
type OptAction uint32

// Actions (SMFIF_*).
const (
	ActAddHeader    OptAction = 1 << 0 // SMFIF_ADDHDRS (also insert header)
	ActChangeBody   OptAction = 1 << 1 // SMFIF_CHGBODY
	ActAddRcpt      OptAction = 1 << 2 // SMFIF_ADDRCPT
	ActDelRcpt      OptAction = 1 << 3 // SMFIF_DELRCPT
	ActChangeHeader OptAction = 1 << 4 // SMFIF_CHGHDRS
	ActQuarantine   OptAction = 1 << 5 // SMFIF_QUARANTINE
	ActChangeFrom   OptAction = 1 << 6 // SMFIF_CHGFROM
	ActAddRcptPar   OptAction = 1 << 7 // SMFIF_ADDRCPT_PAR
	ActSetSymList   OptAction = 1 << 8 // SMFIF_SETSYMLIST
)

// OptProtocol is the SMFIP_* protocol mask exchanged in OPTNEG.
type OptProtocol uint32

// Protocol flags (SMFIP_*).
const (
	ProtoNoConnect     OptProtocol = 1 << 0  // SMFIP_NOCONNECT
	ProtoNoHelo        OptProtocol = 1 << 1  // SMFIP_NOHELO
	ProtoNoMail        OptProtocol = 1 << 2  // SMFIP_NOMAIL
	ProtoNoRcpt        OptProtocol = 1 << 3  // SMFIP_NORCPT
	ProtoNoBody        OptProtocol = 1 << 4  // SMFIP_NOBODY
	ProtoNoHeaders     OptProtocol = 1 << 5  // SMFIP_NOHDRS
	ProtoNoEOH         OptProtocol = 1 << 6  // SMFIP_NOEOH
	ProtoNRHeader      OptProtocol = 1 << 7  // SMFIP_NR_HDR
	ProtoNoUnknown     OptProtocol = 1 << 8  // SMFIP_NOUNKNOWN
	ProtoNoData        OptProtocol = 1 << 9  // SMFIP_NODATA
	ProtoSkip          OptProtocol = 1 << 10 // SMFIP_SKIP
	ProtoRcptRej       OptProtocol = 1 << 11 // SMFIP_RCPT_REJ
	ProtoNRConnect     OptProtocol = 1 << 12 // SMFIP_NR_CONN
	ProtoNRHelo        OptProtocol = 1 << 13 // SMFIP_NR_HELO
	ProtoNRMail        OptProtocol = 1 << 14 // SMFIP_NR_MAIL
	ProtoNRRcpt        OptProtocol = 1 << 15 // SMFIP_NR_RCPT
	ProtoNRData        OptProtocol = 1 << 16 // SMFIP_NR_DATA
	ProtoNRUnknown     OptProtocol = 1 << 17 // SMFIP_NR_UNKN
	ProtoNREOH         OptProtocol = 1 << 18 // SMFIP_NR_EOH
	ProtoNRBody        OptProtocol = 1 << 19 // SMFIP_NR_BODY
	ProtoHdrLeadSpc    OptProtocol = 1 << 20 // SMFIP_HDR_LEADSPC
	ProtoNRAll         OptProtocol = ProtoNRHeader | ProtoNRConnect | ProtoNRHelo | ProtoNRMail | ProtoNRRcpt | ProtoNRData | ProtoNRUnknown | ProtoNREOH | ProtoNRBody
	maxProtocolVersion             = 6
	minProtocolVersion             = 2
)

// MaxBodyChunk is the largest body chunk Postfix and libmilter send, and
// the size ReplaceBody splits at (libmilter's MILTER_CHUNK_SIZE).
const MaxBodyChunk = 65535

// Wire errors. A connection that produces one is closed without a reply
// (a reply to garbage only helps an attacker probe the state machine).
var (
	ErrPacketTooLarge = errors.New("milter: packet exceeds size limit")
	ErrEmptyPacket    = errors.New("milter: packet without command byte")
	ErrMalformed      = errors.New("milter: malformed packet")
)

// Packet is one framed milter message: a code and its payload.
type Packet struct {
	Code Code
	Data []byte
}

// ReadPacket reads one packet. The length prefix is checked against max
// before anything is allocated. buf is reused when it is large enough, so
// the returned Data aliases buf and is valid until the next call.
func ReadPacket(r io.Reader, max int, buf []byte) (Packet, []byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Packet{}, buf, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n == 0 {
		return Packet{}, buf, ErrEmptyPacket
	}
	if uint64(n) > uint64(max) {
		return Packet{}, buf, fmt.Errorf("%w: %d > %d bytes", ErrPacketTooLarge, n, max)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return Packet{}, buf, err
	}
	return Packet{Code: Code(buf[0]), Data: buf[1:]}, buf, nil
}

// AppendPacket appends the framed packet code+parts to dst.
func AppendPacket(dst []byte, code Code, parts ...[]byte) []byte {
	n := 1
	for _, p := range parts {
		n += len(p)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, byte(code))
	for _, p := range parts {
		dst = append(dst, p...)
	}
	return dst
}

// EncodeStrings returns the strings each NUL-terminated, as the protocol
// sends argument lists.
func EncodeStrings(s ...string) []byte {
	var b []byte
	for _, x := range s {
		b = append(b, x...)
		b = append(b, 0)
	}
	return b
}

// DecodeStrings splits a payload of NUL-terminated strings. The payload
// must end with a NUL; an empty payload gives no strings.
func DecodeStrings(data []byte) ([]string, error) {
	if len(data) == 0 {
		return nil, nil
	}
	if data[len(data)-1] != 0 {
		return nil, fmt.Errorf("%w: string not NUL-terminated", ErrMalformed)
	}
	out := make([]string, 0, bytes.Count(data, []byte{0}))
	for len(data) > 0 {
		i := bytes.IndexByte(data, 0)
		out = append(out, string(data[:i]))
		data = data[i+1:]
	}
	return out, nil
}

// readCString takes one NUL-terminated string off the front of data.
func readCString(data []byte) (string, []byte, error) {
	i := bytes.IndexByte(data, 0)
	if i < 0 {
		return "", nil, fmt.Errorf("%w: string not NUL-terminated", ErrMalformed)
	}
	return string(data[:i]), data[i+1:], nil
}

// OptNeg is the payload of an OPTNEG packet in either direction. SymLists
// appears only in a milter's reply when SETSYMLIST was negotiated.
type OptNeg struct {
	Version  uint32
	Actions  OptAction
	Protocol OptProtocol
	SymLists map[Stage]string // space-separated macro names per stage
}

// symListStages maps SMFIM_* indexes (the wire numbers in SETSYMLIST)
// to our stages; note SMFIM_EOM (5) comes before SMFIM_EOH (6).
var symListStages = [...]Stage{StageConnect, StageHelo, StageMail, StageRcpt, StageData, StageEOM, StageEOH}

func symListIndex(s Stage) (uint32, bool) {
	for i, st := range symListStages {
		if st == s {
			return uint32(i), true
		}
	}
	return 0, false
}

// DecodeOptNeg parses an OPTNEG payload, including any symbol lists.
func DecodeOptNeg(data []byte) (OptNeg, error) {
	if len(data) < 12 {
		return OptNeg{}, fmt.Errorf("%w: OPTNEG too short (%d bytes)", ErrMalformed, len(data))
	}
	o := OptNeg{
		Version:  binary.BigEndian.Uint32(data[0:]),
		Actions:  OptAction(binary.BigEndian.Uint32(data[4:])),
		Protocol: OptProtocol(binary.BigEndian.Uint32(data[8:])),
	}
	rest := data[12:]
	for len(rest) > 0 {
		if len(rest) < 5 {
			return OptNeg{}, fmt.Errorf("%w: truncated symbol list", ErrMalformed)
		}
		idx := binary.BigEndian.Uint32(rest)
		if idx >= uint32(len(symListStages)) {
			return OptNeg{}, fmt.Errorf("%w: symbol list stage %d", ErrMalformed, idx)
		}
		list, r, err := readCString(rest[4:])
		if err != nil {
			return OptNeg{}, err
		}
		if o.SymLists == nil {
			o.SymLists = map[Stage]string{}
		}
		o.SymLists[symListStages[idx]] = list
		rest = r
	}
	return o, nil
}

// Encode returns the OPTNEG payload. Symbol lists are written in stage
// order so the encoding is deterministic.
func (o OptNeg) Encode() []byte {
	b := binary.BigEndian.AppendUint32(nil, o.Version)
	b = binary.BigEndian.AppendUint32(b, uint32(o.Actions))
	b = binary.BigEndian.AppendUint32(b, uint32(o.Protocol))
	for s := Stage(0); s < numStages; s++ {
		list, ok := o.SymLists[s]
		idx, known := symListIndex(s)
		if !ok || !known {
			continue
		}
		b = binary.BigEndian.AppendUint32(b, idx)
		b = append(b, list...)
		b = append(b, 0)
	}
	return b
}

// Address families in the CONNECT packet (SMFIA_*).
const (
	FamilyUnknown byte = 'U' // SMFIA_UNKNOWN: no port or address follow
	FamilyUnix    byte = 'L' // SMFIA_UNIX: port (0) and socket path follow
	FamilyInet    byte = '4' // SMFIA_INET
	FamilyInet6   byte = '6' // SMFIA_INET6
)

// ConnectInfo is the payload of CONNECT: what the MTA knows of its client.
type ConnectInfo struct {
	Host   string     // verified client name, or "[ip]" when unknown
	Family byte       // FamilyInet, FamilyInet6, FamilyUnix or FamilyUnknown
	Port   uint16     // client port; 0 for unix and unknown
	Addr   netip.Addr // client address; zero for unix and unknown families
	Path   string     // socket path for FamilyUnix, else the raw address text
}

// DecodeConnect parses a CONNECT payload. An address that does not parse
// for an inet family is an error; Postfix always sends a literal.
func DecodeConnect(data []byte) (ConnectInfo, error) {
	host, rest, err := readCString(data)
	if err != nil {
		return ConnectInfo{}, err
	}
	if len(rest) < 1 {
		return ConnectInfo{}, fmt.Errorf("%w: CONNECT without family", ErrMalformed)
	}
	c := ConnectInfo{Host: host, Family: rest[0]}
	rest = rest[1:]
	if c.Family == FamilyUnknown {
		return c, nil // libmilter sends nothing more; tolerate trailing bytes
	}
	if len(rest) < 2 {
		return ConnectInfo{}, fmt.Errorf("%w: CONNECT without port", ErrMalformed)
	}
	c.Port = binary.BigEndian.Uint16(rest)
	addr, rest, err := readCString(rest[2:])
	if err != nil {
		return ConnectInfo{}, err
	}
	if len(rest) != 0 {
		return ConnectInfo{}, fmt.Errorf("%w: trailing bytes after CONNECT", ErrMalformed)
	}
	c.Path = addr
	switch c.Family {
	case FamilyInet, FamilyInet6:
		a, perr := netip.ParseAddr(addr)
		if perr != nil {
			return ConnectInfo{}, fmt.Errorf("%w: CONNECT address %q", ErrMalformed, addr)
		}
		c.Addr = a.Unmap()
		c.Path = ""
	case FamilyUnix:
	default:
		return ConnectInfo{}, fmt.Errorf("%w: CONNECT family %q", ErrMalformed, c.Family)
	}
	return c, nil
}

// Encode returns the CONNECT payload.
func (c ConnectInfo) Encode() []byte {
	b := append([]byte(c.Host), 0, c.Family)
	if c.Family == FamilyUnknown {
		return b
	}
	b = binary.BigEndian.AppendUint16(b, c.Port)
	addr := c.Path
	if c.Family == FamilyInet || c.Family == FamilyInet6 {
		addr = c.Addr.String()
	}
	b = append(b, addr...)
	return append(b, 0)
}

// DecodeMacros parses a MACRO payload: the command byte the macros belong
// to, then name/value pairs. An odd trailing name without value is an error.
func DecodeMacros(data []byte) (Code, []string, error) {
	if len(data) < 1 {
		return 0, nil, fmt.Errorf("%w: empty MACRO", ErrMalformed)
	}
	kv, err := DecodeStrings(data[1:])
	if err != nil {
		return 0, nil, err
	}
	if len(kv)%2 != 0 {
		return 0, nil, fmt.Errorf("%w: MACRO with %d strings", ErrMalformed, len(kv))
	}
	return Code(data[0]), kv, nil
}

// DecodeHeader parses a HEADER payload (name, value).
func DecodeHeader(data []byte) (name, value string, err error) {
	name, rest, err := readCString(data)
	if err != nil {
		return "", "", err
	}
	value, rest, err = readCString(rest)
	if err != nil {
		return "", "", err
	}
	if len(rest) != 0 {
		return "", "", fmt.Errorf("%w: trailing bytes after HEADER", ErrMalformed)
	}
	return name, value, nil
}

// EncodeIndexed returns a payload of a 32-bit index and NUL-terminated
// strings, the shape of SMFIR_INSHEADER and SMFIR_CHGHEADER.
func EncodeIndexed(index uint32, s ...string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, index), EncodeStrings(s...)...)
}

// DecodeIndexed is the inverse of EncodeIndexed for two strings.
func DecodeIndexed(data []byte) (uint32, string, string, error) {
	if len(data) < 4 {
		return 0, "", "", fmt.Errorf("%w: indexed reply too short", ErrMalformed)
	}
	name, value, err := DecodeHeader(data[4:])
	return binary.BigEndian.Uint32(data), name, value, err
}

// String returns the libmilter name of a code, for logs and errors.
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return "code(" + strconv.Quote(string(rune(c))) + ")"
}

var codeNames = map[Code]string{
	CmdAbort: "ABORT", CmdBody: "BODY", CmdConnect: "CONNECT", CmdMacro: "MACRO",
	CmdEOB: "BODYEOB", CmdHelo: "HELO", CmdQuitNC: "QUIT_NC", CmdHeader: "HEADER",
	CmdMail: "MAIL", CmdEOH: "EOH", CmdOptNeg: "OPTNEG", CmdQuit: "QUIT",
	CmdRcpt: "RCPT", CmdData: "DATA", CmdUnknown: "UNKNOWN",
	RespAddRcpt: "ADDRCPT", RespDelRcpt: "DELRCPT", RespAddRcptPar: "ADDRCPT_PAR",
	RespAccept: "ACCEPT", RespReplBody: "REPLBODY", RespContinue: "CONTINUE",
	RespDiscard: "DISCARD", RespChgFrom: "CHGFROM", RespAddHeader: "ADDHEADER",
	RespInsHeader: "INSHEADER", RespChgHeader: "CHGHEADER", RespProgress: "PROGRESS",
	RespQuarantine: "QUARANTINE", RespReject: "REJECT", RespSkip: "SKIP",
	RespTempFail: "TEMPFAIL", RespReplyCode: "REPLYCODE",
}
