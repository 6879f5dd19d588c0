package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gomilter/gomilter/internal/mailmsg"
	"github.com/gomilter/gomilter/milter/dkim"
)

// runDKIMSign signs message files with an opendkim.conf's keys as if they
// were submitted locally, writing the signed copies to -out (the way
// opendkim-testmsg signs; the benchmark uses it to make verify input).
func runDKIMSign(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dkim sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conf := fs.String("conf", "/etc/opendkim.conf", "opendkim.conf with KeyTable/SigningTable or Domain/KeyFile")
	out := fs.String("out", "", "directory for the signed copies")
	if err := fs.Parse(args); err != nil || *out == "" {
		fmt.Fprintln(stderr, "gomilter dkim sign: -out DIR and message files are required")
		return 2
	}
	opts, warns, err := dkim.LoadOpenDKIMConf(*conf)
	for _, w := range warns {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	opts.KeyCheck = dkim.KeyCheckOff
	s, err := dkim.NewSigner(opts)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	failed := 0
	for _, path := range fs.Args() {
		if err := signFile(s, path, *out); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", path, err)
			failed++
		}
	}
	fmt.Fprintf(stdout, "signed %d of %d messages\n", len(fs.Args())-failed, len(fs.Args()))
	return min(failed, 1)
}

func signFile(s *dkim.Signer, path, outDir string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	m, err := dkim.ReadMessage(raw)
	if err != nil {
		return err
	}
	reqs := s.ShouldSign(&mailmsg.Envelope{Local: true}, m)
	if reqs == nil {
		return fmt.Errorf("not covered by the signing configuration")
	}
	fields, err := s.Sign(context.Background(), m, reqs)
	if err != nil {
		return err
	}
	m.Header = append(fields, m.Header...)
	f, err := os.Create(filepath.Join(outDir, filepath.Base(path)))
	if err != nil {
		return err
	}
	for _, h := range m.Header {
		io.WriteString(f, h.Raw())
	}
	io.WriteString(f, "\r\n")
	f.Write(m.Body)
	return f.Close()
}

// runDKIMVerify prints one line per signature of each file.
func runDKIMVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dkim verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conf := fs.String("conf", "", "opendkim.conf (for TestPublicKeys, MinimumKeyBits...)")
	cfgPath := fs.String("config", "", "gomilter config file (for its DNS servers)")
	server := fs.String("dns", "", "DNS server host:port (overrides the config)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opts := dkim.DefaultOptions()
	if *conf != "" {
		var err error
		if opts, _, err = dkim.LoadOpenDKIMConf(*conf); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	var r dkim.TXTResolver
	if opts.TestPublicKeys == "" {
		dr, err := checkResolver(*cfgPath, *server)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		r = dr
	}
	r, err := opts.TXTResolver(r)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	v := dkim.NewVerifier(r, opts.VerifyOptions(nil))
	bad := 0
	for _, path := range fs.Args() {
		raw, err := os.ReadFile(path)
		var m *mailmsg.Message
		if err == nil {
			m, err = dkim.ReadMessage(raw)
		}
		if err != nil {
			fmt.Fprintf(stdout, "%s: %v\n", path, err)
			bad++
			continue
		}
		res := v.Verify(context.Background(), m)
		if len(res) == 0 {
			fmt.Fprintf(stdout, "%s: dkim=none\n", path)
		}
		for _, x := range res {
			fmt.Fprintf(stdout, "%s: dkim=%s header.d=%s header.s=%s header.b=%s %s\n", path, x.Status, x.Domain, x.Selector, x.HeaderB(), x.Reason)
			if x.Status != dkim.StatusPass {
				bad++
			}
		}
	}
	return min(bad, 1)
}
