package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/gomilter/gomilter/internal/config"
)

func init() {
	register("check-config", "validate a config file and print the effective config", runCheckConfig)
}

// runCheckConfig prints every error of the file at once (file:line: key:
// problem) and exits 1, or prints the effective config with secrets masked.
func runCheckConfig(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (default: the embedded default)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	c, err := config.Load(*path)
	if err != nil {
		if es, ok := config.AsErrors(err); ok {
			for _, e := range es {
				fmt.Fprintln(stderr, e)
			}
		} else {
			fmt.Fprintln(stderr, err)
		}
		return 1
	}
	c.WriteEffective(stdout)
	return 0
}
