package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/gomilter/gomilter/sieve"
)

// sieveActionJSON is one action as `gomilter sieve test -json` prints it.
func sieveActionJSON(a *sieve.Action) map[string]any {
	m := map[string]any{"action": string(a.Kind)}
	switch a.Kind {
	case sieve.ActKeep:
		if len(a.Flags) > 0 {
			m["flags"] = a.Flags
		}
	case sieve.ActFileinto:
		flags := a.Flags
		if flags == nil {
			flags = []string{}
		}
		m["mailbox"], m["copy"], m["flags"] = a.Mailbox, a.Copy, flags
		if a.Create {
			m["create"] = true
		}
	case sieve.ActRedirect:
		m["address"] = a.Address
		if a.Copy {
			m["copy"] = true
		}
	case sieve.ActReject, sieve.ActEreject:
		m["reason"] = a.Reason
	case sieve.ActVacation:
		v := a.Vacation
		m["to"], m["subject"], m["reason"] = v.To, v.Subject, v.Reason
		m["seconds"] = int64(v.Period.Seconds())
		if v.From != "" {
			m["from"] = v.From
		}
	case sieve.ActNotify:
		m["method"], m["message"] = a.Notify.Method, a.Notify.Message
	}
	return m
}

func errorJSON(err error) map[string]any {
	m := map[string]any{"error": err.Error()}
	var ce *sieve.CompileError
	var e *sieve.Error
	switch {
	case errors.As(err, &ce) && len(ce.Errors) > 0:
		m["error"], m["line"] = ce.Errors[0].Msg, ce.Errors[0].Pos.Line
	case errors.As(err, &e):
		m["error"], m["line"] = e.Msg, e.Pos.Line
	}
	return m
}

func printSieveResult(stdout, stderr io.Writer, asJSON bool, res *sieve.Result, err error) int {
	if asJSON {
		var out []map[string]any
		if err != nil {
			out = append(out, errorJSON(err))
		}
		if res != nil {
			for _, a := range res.Actions {
				out = append(out, sieveActionJSON(a))
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(out); encErr != nil {
			fmt.Fprintln(stderr, encErr)
			return 1
		}
	} else {
		if err != nil {
			fmt.Fprintf(stderr, "error: %v\n", err)
		}
		if res != nil {
			fmt.Fprintln(stdout, "Performed actions:")
			for _, a := range res.Actions {
				fmt.Fprintf(stdout, " * %s\n", describeAction(a))
			}
		}
	}
	if err != nil {
		return 1
	}
	return 0
}

func describeAction(a *sieve.Action) string {
	switch a.Kind {
	case sieve.ActKeep:
		if a.Implicit {
			return fmt.Sprintf("keep (implicit) flags=%v", a.Flags)
		}
		return fmt.Sprintf("keep flags=%v", a.Flags)
	case sieve.ActFileinto:
		return fmt.Sprintf("fileinto %q copy=%v create=%v flags=%v", a.Mailbox, a.Copy, a.Create, a.Flags)
	case sieve.ActRedirect:
		return fmt.Sprintf("redirect %s copy=%v", a.Address, a.Copy)
	case sieve.ActReject, sieve.ActEreject:
		return fmt.Sprintf("%s %q", a.Kind, a.Reason)
	case sieve.ActVacation:
		return fmt.Sprintf("vacation to=%s subject=%q period=%s", a.Vacation.To, a.Vacation.Subject, a.Vacation.Period)
	case sieve.ActNotify:
		return fmt.Sprintf("notify %s", a.Notify.Method)
	}
	return string(a.Kind)
}
