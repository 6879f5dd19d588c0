package main

import (
	"fmt"
	"io"
	"runtime/debug"
)

// version is set at link time (-ldflags "-X main.version=...").
var version = "devel"

func init() {
	register("version", "print the version", func(_ []string, stdout, _ io.Writer) int {
		v := version
		if bi, ok := debug.ReadBuildInfo(); ok && v == "devel" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		fmt.Fprintf(stdout, "gomilter %s\n", v)
		return 0
	})
}
