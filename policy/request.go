package policy

import "net/netip"

// Request is one policy request with the attributes of SMTPD_POLICY_README
// (Postfix 3.7) typed. Postfix sends every attribute, empty when unknown.
// Attrs holds all attributes as received, including ones not listed here.
type Request struct {
	ProtocolState          string // CONNECT EHLO HELO MAIL RCPT DATA END-OF-MESSAGE VRFY ETRN
	ProtocolName           string // SMTP or ESMTP
	HeloName               string
	QueueID                string
	Sender                 string // without <>; "" for the null sender
	Recipient              string
	RecipientCount         int64 // non-zero only in DATA and END-OF-MESSAGE
	ClientAddress          netip.Addr
	ClientName             string // verified name or "unknown"
	ReverseClientName      string
	Instance               string // constant for one message on one connection
	SASLMethod             string
	SASLUsername           string // non-empty when the client authenticated
	SASLSender             string
	Size                   int64
	CCertSubject           string // xtext-encoded, as sent
	CCertIssuer            string
	CCertFingerprint       string
	CCertPubkeyFingerprint string
	EncryptionProtocol     string
	EncryptionCipher       string
	EncryptionKeysize      int64
	ETRNDomain             string
	Stress                 bool // "yes" under smtpd stress
	ClientPort             int64
	PolicyContext          string
	ServerAddress          netip.Addr
	ServerPort             int64
	// Attrs maps every attribute name to its raw value.
	Attrs map[string]string
}

func (r *Request) fill() {
	a := r.Attrs
	r.ProtocolState = a["protocol_state"]
	r.ProtocolName = a["protocol_name"]
	r.HeloName = a["helo_name"]
	r.QueueID = a["queue_id"]
	r.Sender = a["sender"]
	r.Recipient = a["recipient"]
	r.RecipientCount = atoi(a["recipient_count"])
	r.ClientAddress = parseAddr(a["client_address"])
	r.ClientName = a["client_name"]
	r.ReverseClientName = a["reverse_client_name"]
	r.Instance = a["instance"]
	r.SASLMethod = a["sasl_method"]
	r.SASLUsername = a["sasl_username"]
	r.SASLSender = a["sasl_sender"]
	r.Size = atoi(a["size"])
	r.CCertSubject = a["ccert_subject"]
	r.CCertIssuer = a["ccert_issuer"]
	r.CCertFingerprint = a["ccert_fingerprint"]
	r.CCertPubkeyFingerprint = a["ccert_pubkey_fingerprint"]
	r.EncryptionProtocol = a["encryption_protocol"]
	r.EncryptionCipher = a["encryption_cipher"]
	r.EncryptionKeysize = atoi(a["encryption_keysize"])
	r.ETRNDomain = a["etrn_domain"]
	r.Stress = a["stress"] == "yes"
	r.ClientPort = atoi(a["client_port"])
	r.PolicyContext = a["policy_context"]
	r.ServerAddress = parseAddr(a["server_address"])
	r.ServerPort = atoi(a["server_port"])
}
