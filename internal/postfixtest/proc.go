package postfixtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Stop stops Postfix, kills whatever of this instance is left, closes the
// sink and removes the instance tree. It is idempotent and registered with
// tb.Cleanup by Start; a test calls it itself to check what happens after.
func (i *Instance) Stop() {
	i.stopOnce.Do(func() {
		if i.tb.Failed() && i.base != "" {
			i.tb.Logf("postfixtest: maillog of %s:\n%s", i.base, tail(i.Log(), 80))
		}
		if left := i.stopProcesses(); len(left) > 0 {
			i.tb.Errorf("postfixtest: processes of %s survive SIGKILL: %v", i.base, left)
		}
		if i.sink != nil {
			i.sink.Close()
		}
		if i.base != "" {
			if err := os.RemoveAll(i.base); err != nil {
				i.tb.Errorf("postfixtest: %v", err)
			}
		}
	})
}

// stopProcesses terminates master (which terminates its children), waits,
// then SIGKILLs anything of this instance still alive. It returns the PIDs
// that survived even that.
func (i *Instance) stopProcesses() []int {
	if i.base == "" {
		return nil
	}
	if master := i.master(); master > 0 {
		syscall.Kill(master, syscall.SIGTERM)
	}
	if i.waitGone(3 * time.Second) {
		return nil
	}
	for _, pid := range i.PIDs() {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if i.waitGone(2 * time.Second) {
		return nil
	}
	return i.PIDs()
}

// waitGone polls until the instance has no live process.
func (i *Instance) waitGone(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if len(i.PIDs()) == 0 {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// master returns the PID of this instance's master if it is alive and
// really ours (its cwd or MAIL_CONFIG is in the instance tree), so a
// reused PID is never signalled. 0 otherwise.
func (i *Instance) master() int {
	for _, pid := range []int{i.readMasterPID(), i.masterPID} {
		if pid > 0 && i.refersToInstance(pid) {
			return pid
		}
	}
	return 0
}

// PIDs lists the live processes of this instance: master, its children,
// and any process whose working directory or MAIL_CONFIG lies in the
// instance tree (Postfix daemons chdir to queue_directory, and children
// outlive a killed master). Zombies are left out: they are already dead.
func (i *Instance) PIDs() []int {
	master := i.master()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		state, ppid, ok := procStat(pid)
		if !ok || state == 'Z' || state == 'X' {
			continue
		}
		if (master > 0 && (pid == master || ppid == master)) || i.refersToInstance(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// refersToInstance reports whether pid's cwd or MAIL_CONFIG lies in the
// instance tree.
func (i *Instance) refersToInstance(pid int) bool {
	state, _, ok := procStat(pid)
	if !ok || state == 'Z' || state == 'X' {
		return false
	}
	if cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd"); err == nil && within(cwd, i.base) {
		return true
	}
	env, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	for _, kv := range strings.Split(string(env), "\x00") {
		if v, ok := strings.CutPrefix(kv, "MAIL_CONFIG="); ok && within(v, i.base) {
			return true
		}
	}
	return false
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// procStat returns the state letter and parent PID from /proc/PID/stat.
func procStat(pid int) (state byte, ppid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// "pid (comm) S ppid ...": comm may hold spaces and parens, so
	// split after the last ')'.
	s := string(b)
	end := strings.LastIndexByte(s, ')')
	if end < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	ppid, err = strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], ppid, true
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
