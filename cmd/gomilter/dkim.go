package main

import (
	"context"
	"crypto"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gomilter/gomilter/internal/config"
	"github.com/gomilter/gomilter/internal/dns"
	"github.com/gomilter/gomilter/milter/dkim"
)

func init() {
	register("dkim", "DKIM tools: keygen (like opendkim-genkey), check (key vs DNS), sign, verify, milter (DKIM only)", runDKIM)
}

func runDKIM(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "keygen":
			return runDKIMKeygen(args[1:], stdout, stderr)
		case "check":
			return runDKIMCheck(args[1:], stdout, stderr)
		case "sign":
			return runDKIMSign(args[1:], stdout, stderr)
		case "verify":
			return runDKIMVerify(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintln(stderr, "usage: gomilter dkim keygen -d DOMAIN -s SELECTOR [-t rsa|ed25519] [-b BITS] [-dir DIR]")
	fmt.Fprintln(stderr, "       gomilter dkim check -d DOMAIN -s SELECTOR [-key FILE] [-config FILE] [-dns HOST:PORT]")
	fmt.Fprintln(stderr, "       gomilter dkim sign -conf opendkim.conf -out DIR FILE...")
	fmt.Fprintln(stderr, "       gomilter dkim verify [-conf opendkim.conf] [-config FILE] [-dns HOST:PORT] FILE...")
	return 2
}

// runDKIMKeygen writes DIR/SELECTOR.private (0600) and DIR/SELECTOR.txt,
// and prints the TXT record, as opendkim-genkey does.
func runDKIMKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dkim keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	domain := fs.String("d", "", "signing domain (d=)")
	sel := fs.String("s", "default", "selector (s=)")
	typ := fs.String("t", "rsa", "key type: rsa or ed25519")
	bits := fs.Int("b", 2048, "RSA key size (1024..4096)")
	dir := fs.String("dir", ".", "directory for SELECTOR.private and SELECTOR.txt")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *domain == "" || *sel == "" {
		fmt.Fprintln(stderr, "gomilter dkim keygen: -d and -s are required")
		return 2
	}
	key, err := dkim.GenerateKey(*typ, *bits)
	if err == nil {
		var zone string
		if zone, err = dkim.WriteKeyFiles(*dir, *sel, *domain, key); err == nil {
			fmt.Fprint(stdout, zone)
			return 0
		}
	}
	fmt.Fprintln(stderr, "gomilter dkim keygen:", err)
	return 1
}

// runDKIMCheck looks the record up through the configured resolver and
// compares it with the private key: exit 0 match/published, 1 otherwise.
func runDKIMCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dkim check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	domain := fs.String("d", "", "signing domain (d=)")
	sel := fs.String("s", "", "selector (s=)")
	keyPath := fs.String("key", "", "private key file to compare with the record")
	cfgPath := fs.String("config", "", "gomilter config file (for its DNS servers)")
	server := fs.String("dns", "", "DNS server host:port (overrides the config)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *domain == "" || *sel == "" {
		fmt.Fprintln(stderr, "gomilter dkim check: -d and -s are required")
		return 2
	}
	r, err := checkResolver(*cfgPath, *server)
	if err != nil {
		fmt.Fprintln(stderr, "gomilter dkim check:", err)
		return 1
	}
	var pub any
	if *keyPath != "" {
		data, err := os.ReadFile(*keyPath)
		if err == nil {
			var k crypto.Signer
			if k, err = dkim.ParsePrivateKey(data); err == nil {
				pub = k.Public()
			}
		}
		if err != nil {
			fmt.Fprintln(stderr, "gomilter dkim check:", err)
			return 1
		}
	}
	rep := dkim.CheckKey(context.Background(), r, *sel, *domain, pub)
	return printKeyReport(stdout, rep)
}

func checkResolver(cfgPath, server string) (*dns.Resolver, error) {
	if server != "" {
		return dns.New(dns.Options{Servers: []string{server}})
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, err
	}
	return newResolver(cfg, nil)
}

func printKeyReport(w io.Writer, rep dkim.KeyReport) int {
	fmt.Fprintf(w, "%s: %s\n", rep.Name, rep.Status)
	for _, t := range rep.Records {
		fmt.Fprintf(w, "  record: %s\n", t)
	}
	if k := rep.Record; k != nil {
		fmt.Fprintf(w, "  key: k=%s, %d bits%s\n", k.KeyType, k.Bits, map[bool]string{true: ", testing (t=y)"}[k.Testing()])
	}
	if rep.Problem != "" {
		fmt.Fprintf(w, "  problem: %s\n", rep.Problem)
	}
	if rep.Status == "match" || rep.Status == "published" {
		return 0
	}
	if strings.HasPrefix(rep.Status, "temp") {
		return 3
	}
	return 1
}
