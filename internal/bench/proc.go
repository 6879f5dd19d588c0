package bench

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat. It
// is 100 on every Linux architecture Debian ships (sysconf would need cgo).
const clockTicks = 100

// ProcSample is one reading of a process's CPU time and peak RSS.
type ProcSample struct {
	CPUSeconds float64 // utime + stime
	PeakRSSKiB int64   // VmHWM
}

// ProcDelta is the CPU used between two samples and the later peak RSS.
type ProcDelta = ProcSample

// Sub returns the CPU used since before; PeakRSSKiB is s's.
func (s ProcSample) Sub(before ProcSample) ProcDelta {
	return ProcDelta{CPUSeconds: s.CPUSeconds - before.CPUSeconds, PeakRSSKiB: s.PeakRSSKiB}
}

// ReadProc samples /proc/PID/stat and /proc/PID/status.
func ReadProc(pid int) (ProcSample, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcSample{}, err
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return ProcSample{}, fmt.Errorf("bench: /proc/%d/stat: %w", pid, err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ProcSample{}, err
	}
	return ProcSample{CPUSeconds: cpu, PeakRSSKiB: parseStatusKiB(status, "VmHWM:")}, nil
}

// parseStatCPU reads utime and stime (fields 14 and 15). The command name
// (field 2) may hold spaces and parentheses, so fields are counted from
// the last ')'.
func parseStatCPU(stat []byte) (float64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command field")
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state); utime is field 14 => f[11], stime f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("only %d fields", len(f)+2)
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad utime/stime %q %q", f[11], f[12])
	}
	return float64(ut+st) / clockTicks, nil
}

// parseStatusKiB returns the kB value of a /proc/PID/status line.
func parseStatusKiB(status []byte, key string) int64 {
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}
