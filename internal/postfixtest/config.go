package postfixtest

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// staticMainCF is the instance-independent part of the harness's main.cf.
var staticMainCF = map[string]string{
	"compatibility_level": "3.6",
	"daemon_directory":    "/usr/lib/postfix/sbin",
	"command_directory":   "/usr/sbin",
	"meta_directory":      "/etc/postfix",
	"shlib_directory":     "/usr/lib/postfix",
	"mail_owner":          "postfix",
	"setgid_group":        "postdrop",
	// Identity without DNS.
	"mydomain":               "test.example",
	"myorigin":               "$myhostname",
	"mydestination":          "",
	"relay_domains":          "",
	"local_recipient_maps":   "",
	"alias_maps":             "",
	"alias_database":         "",
	"append_dot_mydomain":    "no",
	"biff":                   "no",
	"inet_protocols":         "ipv4",
	"inet_interfaces":        "127.0.0.1",
	"smtp_dns_support_level": "disabled",
	"smtp_host_lookup":       "native",
	// Clear text to the sink; no restrictions beyond relay control.
	"smtp_tls_security_level":             "none",
	"smtpd_tls_security_level":            "none",
	"smtp_helo_name":                      "$myhostname",
	"disable_mime_output_conversion":      "yes",
	"smtpd_relay_restrictions":            "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination",
	"smtpd_client_restrictions":           "",
	"smtpd_helo_restrictions":             "",
	"smtpd_sender_restrictions":           "",
	"smtpd_recipient_restrictions":        "",
	"smtpd_banner":                        "$myhostname ESMTP",
	"smtpd_error_sleep_time":              "0",
	"smtpd_soft_error_limit":              "1000",
	"smtpd_hard_error_limit":              "1000",
	"smtpd_client_connection_rate_limit":  "0",
	"smtpd_client_connection_count_limit": "0",
	"anvil_rate_time_unit":                "60s",
	// Tests want mail to move now, and deferred mail to come back fast.
	"in_flow_delay":          "0",
	"queue_run_delay":        "1s",
	"minimal_backoff_time":   "1s",
	"maximal_backoff_time":   "2s",
	"smtp_connect_timeout":   "5s",
	"delay_warning_time":     "0",
	"notify_classes":         "",
	"daemon_timeout":         "60s",
	"ipc_timeout":            "30s",
	"milter_connect_timeout": "5s",
	"milter_command_timeout": "10s",
	"milter_content_timeout": "30s",
	"message_size_limit":     "52428800",
	"smtpd_milter_maps":      "",
	"smtputf8_enable":        "yes",
}

// defaultMainCF is the harness's main.cf before the test's overrides:
// staticMainCF plus the paths, names and ports of this instance.
func (i *Instance) defaultMainCF() map[string]string {
	mynetworks := "127.0.0.0/8"
	if i.opts.NoLocalNetworks {
		// TEST-NET-1: nothing on this machine connects from there.
		mynetworks = "192.0.2.0/24"
	}
	cf := map[string]string{
		"config_directory": i.confDir,
		"queue_directory":  i.queueDir,
		"data_directory":   i.dataDir,
		// No syslog here: postlogd writes the log file itself.
		"maillog_file":          i.logFile,
		"maillog_file_prefixes": "/var, /dev/stdout, " + i.base,
		"myhostname":            i.opts.Hostname,
		"mynetworks":            mynetworks,
		// Everything goes to the sink; brackets: no MX lookup.
		"relayhost": "[127.0.0.1]:" + strconv.Itoa(i.sink.Port()),
	}
	for k, v := range staticMainCF {
		cf[k] = v
	}
	if len(i.opts.VirtualDomains) > 0 {
		cf["virtual_mailbox_domains"] = strings.Join(i.opts.VirtualDomains, ", ")
	}
	return cf
}

// mainCF renders main.cf: defaults overridden by Options.MainCF, sorted so
// the file is stable and diffable when a test fails.
func (i *Instance) mainCF() string {
	cf := i.defaultMainCF()
	for k, v := range i.opts.MainCF {
		cf[k] = v
	}
	keys := make([]string, 0, len(cf))
	for k := range cf {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("# written by internal/postfixtest\n")
	for _, k := range keys {
		// A newline in a value would start a new setting: fold it.
		v := strings.ReplaceAll(cf[k], "\n", "\n ")
		fmt.Fprintf(&b, "%s = %s\n", k, v)
	}
	return b.String()
}

// standardServices are Debian's master.cf services with chroot off (column
// 5 = n), so every socket and map path is a real path.
var standardServices = []string{
	"pickup    unix  n       -       n       60      1       pickup",
	"cleanup   unix  n       -       n       -       0       cleanup",
	"qmgr      unix  n       -       n       300     1       qmgr",
	"tlsmgr    unix  -       -       n       1000?   1       tlsmgr",
	"rewrite   unix  -       -       n       -       -       trivial-rewrite",
	"bounce    unix  -       -       n       -       0       bounce",
	"defer     unix  -       -       n       -       0       bounce",
	"trace     unix  -       -       n       -       0       bounce",
	"verify    unix  -       -       n       -       1       verify",
	"flush     unix  n       -       n       1000?   0       flush",
	"proxymap  unix  -       -       n       -       -       proxymap",
	"proxywrite unix -       -       n       -       1       proxymap",
	"smtp      unix  -       -       n       -       -       smtp",
	"relay     unix  -       -       n       -       -       smtp",
	"showq     unix  n       -       n       -       -       showq",
	"error     unix  -       -       n       -       -       error",
	"retry     unix  -       -       n       -       -       error",
	"discard   unix  -       -       n       -       -       discard",
	"local     unix  -       n       n       -       -       local",
	"virtual   unix  -       n       n       -       -       virtual",
	"lmtp      unix  -       -       n       -       -       lmtp",
	"anvil     unix  -       -       n       -       1       anvil",
	"scache    unix  -       -       n       -       1       scache",
	"postlog   unix-dgram n  -       n       -       1       postlogd",
}

func (i *Instance) masterCF() string {
	var b strings.Builder
	b.WriteString("# written by internal/postfixtest\n")
	fmt.Fprintf(&b, "127.0.0.1:%d inet n - n - - smtpd\n", i.smtpPort)
	for _, o := range i.opts.SMTPOverrides {
		fmt.Fprintf(&b, "  -o %s\n", o)
	}
	if i.subPort != 0 {
		fmt.Fprintf(&b, "127.0.0.1:%d inet n - n - - smtpd\n", i.subPort)
		for _, o := range i.submissionOverrides() {
			fmt.Fprintf(&b, "  -o %s\n", o)
		}
	}
	for _, l := range standardServices {
		b.WriteString(l + "\n")
	}
	for _, l := range i.opts.MasterCF {
		b.WriteString(l + "\n")
	}
	return b.String()
}

func (i *Instance) submissionOverrides() []string {
	o := []string{
		"syslog_name=postfix/submission",
		"smtpd_sasl_auth_enable=yes",
		"smtpd_tls_auth_only=no",
		"smtpd_relay_restrictions=permit_sasl_authenticated,reject",
		"milter_macro_daemon_name=ORIGINATING",
	}
	return append(o, i.opts.SubmissionOverrides...)
}

func (i *Instance) writeConfig() error {
	if err := writeOld(filepath.Join(i.confDir, "main.cf"), i.mainCF()); err != nil {
		return err
	}
	return writeOld(filepath.Join(i.confDir, "master.cf"), i.masterCF())
}

// writeOld writes a config file and backdates its mtime: Postfix programs
// that find main.cf modified in the current second sleep 300 ms and reread
// it until it is older, which costs up to a second per command.
func writeOld(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		return err
	}
	old := time.Now().Add(-10 * time.Second)
	return os.Chtimes(path, old, old)
}

// queueDirs are the queue_directory subdirectories of postfix-files with
// owner "postfix" (else root), group postdrop or not, and mode. Making them
// here and touching "quick-start" lets "postfix start" skip post-install
// and its integrity checks, which take 1-10 s on a loaded 2-core machine.
var queueDirs = []struct {
	name     string
	postfix  bool
	postdrop bool
	mode     os.FileMode
}{
	{"active", true, false, 0o700}, {"bounce", true, false, 0o700},
	{"corrupt", true, false, 0o700}, {"defer", true, false, 0o700},
	{"deferred", true, false, 0o700}, {"flush", true, false, 0o700},
	{"hold", true, false, 0o700}, {"incoming", true, false, 0o700},
	{"private", true, false, 0o700}, {"maildrop", true, true, 0o730},
	{"public", true, true, 0o710}, {"pid", false, false, 0o755},
	{"saved", true, false, 0o700}, {"trace", true, false, 0o700},
}

func (i *Instance) makeQueueDirs() error {
	ids, err := lookupIDs()
	if err != nil {
		return err
	}
	for _, d := range queueDirs {
		p := filepath.Join(i.queueDir, d.name)
		if err := os.Mkdir(p, d.mode); err != nil && !os.IsExist(err) {
			return err
		}
		uid, gid := 0, 0
		if d.postfix {
			uid, gid = ids.uid, ids.gid
		}
		if d.postdrop {
			gid = ids.postdrop
		}
		if err := os.Chown(p, uid, gid); err != nil {
			return err
		}
		// Mkdir's mode is filtered by the umask.
		if err := os.Chmod(p, d.mode); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(i.queueDir, "quick-start"), nil, 0o644)
}

type postfixIDs struct{ uid, gid, postdrop int }

// lookupIDs finds the postfix user and the postdrop group.
func lookupIDs() (postfixIDs, error) {
	var ids postfixIDs
	u, err := user.Lookup("postfix")
	if err != nil {
		return ids, fmt.Errorf("user postfix: %w", err)
	}
	g, err := user.LookupGroup("postdrop")
	if err != nil {
		return ids, fmt.Errorf("group postdrop: %w", err)
	}
	if ids.uid, err = strconv.Atoi(u.Uid); err != nil {
		return ids, err
	}
	if ids.gid, err = strconv.Atoi(u.Gid); err != nil {
		return ids, err
	}
	ids.postdrop, err = strconv.Atoi(g.Gid)
	return ids, err
}

// chownPostfix gives path to the postfix user and group, as data_directory
// must be.
func chownPostfix(path string) error {
	ids, err := lookupIDs()
	if err != nil {
		return err
	}
	return os.Chown(path, ids.uid, ids.gid)
}
