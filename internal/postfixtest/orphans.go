package postfixtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// ownerFile, in an instance's base directory, names the test process that
// owns it ("PID STARTTIME"), so a later test binary can tell an instance
// whose owner was killed (test timeout, SIGKILL) from one in use by a
// concurrently running binary.
const ownerFile = "owner"

var reapOnce sync.Once

// writeOwner records this process as the owner of base.
func writeOwner(base string) error {
	st, ok := procStartTime(os.Getpid())
	if !ok {
		return fmt.Errorf("cannot read own /proc start time")
	}
	return os.WriteFile(filepath.Join(base, ownerFile), []byte(fmt.Sprintf("%d %d\n", os.Getpid(), st)), 0o644)
}

// ownerAlive reports whether the process recorded in base/owner still runs.
// A missing or unreadable file counts as alive: never touch what we cannot
// prove abandoned.
func ownerAlive(base string) bool {
	b, err := os.ReadFile(filepath.Join(base, ownerFile))
	if err != nil {
		return true
	}
	var pid int
	var start uint64
	if _, err := fmt.Sscanf(string(b), "%d %d", &pid, &start); err != nil {
		return true
	}
	st, ok := procStartTime(pid)
	return ok && st == start
}

// reapOrphans stops and removes instances left behind by test binaries
// that died without cleanup. Run once per test binary.
func reapOrphans() {
	reapOnce.Do(func() {
		dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "pftest-*"))
		for _, base := range dirs {
			if _, err := os.Stat(filepath.Join(base, ownerFile)); err != nil || ownerAlive(base) {
				continue
			}
			orphan := &Instance{base: base, queueDir: filepath.Join(base, "spool")}
			if left := orphan.stopProcesses(); len(left) == 0 {
				os.RemoveAll(base)
			}
		}
	})
}

// procStartTime returns field 22 of /proc/PID/stat (start time in clock
// ticks since boot), which tells a PID's reuse apart.
func procStartTime(pid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, false
	}
	f := strings.Fields(s[end+1:])
	// f[0] is field 3 (state), so field 22 is f[19].
	if len(f) < 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	return v, err == nil
}
