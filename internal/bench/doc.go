// Package bench holds the load generators behind "gomilter bench <kind>".
// The shared part (this file's Run, Report, message loading and /proc
// sampling) is kind-neutral; each kind (milter.go here; policy, auth, lmtp
// by their owners) adds one file with its own Options and a Run<Kind>
// function built on Run.
package bench
