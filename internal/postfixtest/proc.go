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
	master := i.readMasterPID()
	if master == 0 {
		master = i.masterPID
	}
	if master > 0 && i.ownsPID(master, master) {
		syscall.Kill(master, syscall.SIGTERM)
	}
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if len(i.PIDs()) == 0 {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, pid := range i.PIDs() {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline = time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		if len(i.PIDs()) == 0 {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return i.PIDs()
}

// PIDs lists the live processes of this instance: master, its children,
// and any process whose working directory or MAIL_CONFIG lies in the
// instance tree (Postfix daemons chdir to queue_directory, and children
// outlive a killed master). Zombies are left out: they are already dead.
func (i *Instance) PIDs() []int {
	master := i.readMasterPID()
	if master == 0 {
		master = i.masterPID
	}
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
		if i.ownsPID(pid, master) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ownsPID reports whether pid is a live process of this instance.
func (i *Instance) ownsPID(pid, master int) bool {
	state, ppid, ok := procStat(pid)
	if !ok || state == 'Z' || state == 'X' {
		return false
	}
	if master > 0 && (pid == master || ppid == master) {
		return true
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
