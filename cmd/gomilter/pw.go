package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gomilter/gomilter/internal/passwd"
)

func init() {
	register("pw", "generate or test password hashes like doveadm pw (-s SCHEME -p PASSWORD | -t HASH)", runPw)
}

// runPw mirrors "doveadm pw": -s scheme (default CRYPT = bcrypt, as
// Dovecot 2.3), -p password (else read from stdin), -u user (DIGEST-MD5),
// -r rounds, -t hash to verify, -l to list schemes, -V to verify the result.
func runPw(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("pw", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scheme := fs.String("s", "CRYPT", "password scheme (e.g. SHA512-CRYPT, BLF-CRYPT, SSHA.b64)")
	pw := fs.String("p", "", "password (default: read one line from stdin)")
	user := fs.String("u", "", "user name (for DIGEST-MD5)")
	rounds := fs.Int("r", 0, "rounds/cost (0 = scheme default)")
	test := fs.String("t", "", "verify this stored hash against the password instead of generating")
	list := fs.Bool("l", false, "list supported schemes")
	verify := fs.Bool("V", false, "verify the generated hash")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *list {
		fmt.Fprintln(stdout, strings.Join(passwd.Schemes(), " "))
		return 0
	}
	password := *pw
	if !flagSet(fs, "p") {
		var err error
		if password, err = readPassword(os.Stdin); err != nil {
			fmt.Fprintln(stderr, "pw:", err)
			return 1
		}
	}
	if *test != "" {
		return pwTest(*test, *scheme, password, *user, fs, stdout, stderr)
	}
	out, err := passwd.Generate(*scheme, password, *user, passwd.GenOptions{Rounds: *rounds})
	if err != nil {
		fmt.Fprintln(stderr, "pw:", err)
		return 1
	}
	if *verify {
		if ok, err := passwd.Verify(out, "", password, *user); !ok || err != nil {
			fmt.Fprintf(stderr, "pw: %s (verify failed: %v)\n", out, err)
			return 1
		}
		out += " (verified)"
	}
	fmt.Fprintln(stdout, out)
	return 0
}

func pwTest(stored, scheme, password, user string, fs *flag.FlagSet, stdout, stderr io.Writer) int {
	def := ""
	if flagSet(fs, "s") {
		def = scheme
	}
	ok, err := passwd.Verify(stored, def, password, user)
	if err != nil {
		fmt.Fprintln(stderr, "pw:", err)
		return 1
	}
	if !ok {
		fmt.Fprintln(stderr, "Fail")
		return 1
	}
	fmt.Fprintf(stdout, "%s (verified)\n", stored)
	return 0
}

func flagSet(fs *flag.FlagSet, name string) bool {
	found := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name {
			found = true
		}
	})
	return found
}

// readPassword reads one line (the password) from r, bounded to 4 KiB.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("no password given (-p or one line on stdin)")
	}
	return strings.TrimRight(line, "\r\n"), nil
}
