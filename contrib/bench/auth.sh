#!/bin/sh
# Benchmark: gomilter's Dovecot-auth server against Dovecot 2.3's own auth
# service, same passwd-file (1,000 users), AUTH PLAIN over the auth-client
# protocol as Postfix sends it, at c=1, 8, 32, for the schemes PLAIN,
# SHA512-CRYPT and BLF-CRYPT (cost 5), plus gomilter with the
# verified-credential cache on. One run each; figures go to stdout.
#
# usage: contrib/bench/auth.sh [N]      (N = authentications per run)
#        GOMILTER_BIN=/path/to/gomilter contrib/bench/auth.sh   (skip the build)
# needs: go, dovecot, doveadm (Debian 12: dovecot-core)
set -eu
N=${1:-4000}
echo "# $(date -u +%FT%TZ) $(nproc) CPUs, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d /tmp/gomilter-bench-auth.XXXXXX)
chmod 0755 "$WORK"
BIN=${GOMILTER_BIN:-$WORK/gomilter}
DOVECOT_PID=""
GOMILTER_PID=""
cleanup() {
	[ -n "$GOMILTER_PID" ] && kill "$GOMILTER_PID" 2>/dev/null || true
	[ -n "$DOVECOT_PID" ] && kill "$DOVECOT_PID" 2>/dev/null || true
	sleep 0.5
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

[ -n "${GOMILTER_BIN:-}" ] || (cd "$ROOT" && go build -o "$BIN" ./cmd/gomilter)

# users file: user0..user999@example.org, one hash per scheme (made by the
# real doveadm) shared by all users: the cost per verification is the same.
mkusers() { # scheme file
	h=$(doveadm pw -s "$1" -p benchpw)
	i=0
	: >"$2"
	while [ $i -lt 1000 ]; do
		echo "user$i@example.org:$h:1000:1000::/tmp::" >>"$2"
		i=$((i + 1))
	done
}

start_dovecot() { # users-file
	d="$WORK/dovecot"
	rm -rf "$d"
	mkdir -p "$d/run" "$d/state"
	chmod 0755 "$d" "$d/run"
	cat >"$d/dovecot.conf" <<CONF
instance_name = gomilter-bench-auth
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
protocols =
listen = 127.0.0.1
ssl = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = $1
}
userdb {
  driver = static
  args = uid=1000 gid=1000 home=/tmp
}
service auth {
  unix_listener bench-auth {
    mode = 0666
  }
}
CONF
	dovecot -F -c "$d/dovecot.conf" &
	DOVECOT_PID=$!
	i=0
	while [ ! -S "$d/run/bench-auth" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	DOVECOT_SOCK="$d/run/bench-auth"
}

stop_dovecot() {
	kill "$DOVECOT_PID" 2>/dev/null || true
	wait "$DOVECOT_PID" 2>/dev/null || true
	DOVECOT_PID=""
}

start_gomilter() { # users-file [cache-ttl]
	sock="$WORK/gomilter-auth.sock"
	"$BIN" bench auth-server -listen "unix:$sock" -passwd-file "$1" -verify-cache "${2:-0}" >/dev/null &
	GOMILTER_PID=$!
	i=0
	while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	GOMILTER_SOCK="$sock"
}

stop_gomilter() {
	kill "$GOMILTER_PID" 2>/dev/null || true
	wait "$GOMILTER_PID" 2>/dev/null || true
	GOMILTER_PID=""
}

# dovecot's auth work happens in its "auth" child process: find its PID.
auth_child() { pgrep -P "$DOVECOT_PID" -x auth || true; }

run() { # label socket pid scheme
	for c in 1 8 32; do
		n=$N
		case "$4" in PLAIN) n=$((N * 5)) ;; esac
		[ "$c" = 1 ] && n=$((n / 4))
		out=$("$BIN" bench auth -addr "unix:$2" -c $c -n $n -pid "${3:-0}" -password benchpw)
		rate=$(echo "$out" | sed -n 's/.* \([0-9.]*\) ops\/s$/\1/p')
		p99=$(echo "$out" | sed -n 's/.*p99 \([^ ]*\) .*/\1/p')
		cpu=$(echo "$out" | sed -n 's/^daemon: \([0-9.]*\) CPU-s per 1000 ops.*/\1/p')
		# Load-independent estimate: Dovecot verifies in its single auth
		# process (one core); gomilter uses every core.
		cores=$(nproc)
		case "$1" in dovecot*) cores=1 ;; esac
		cap=$(awk -v c="${cpu:-0}" -v k="$cores" 'BEGIN { if (c > 0) printf "%.0f", k * 1000 / c; else print "?" }')
		printf '%-22s %-13s c=%-3s n=%-6s %10s auths/s  p99 %-9s daemon CPU-s/1000 %-6s est. capacity %s/s\n' \
			"$1" "$4" "$c" "$n" "$rate" "$p99" "${cpu:-?}" "$cap"
	done
}

for scheme in PLAIN SHA512-CRYPT BLF-CRYPT; do
	users="$WORK/users-$scheme"
	mkusers "$scheme" "$users"
	start_dovecot "$users"
	# one warm-up login so the auth child exists
	"$BIN" bench auth -addr "unix:$DOVECOT_SOCK" -c 1 -n 1 >/dev/null
	run "dovecot-2.3" "$DOVECOT_SOCK" "$(auth_child)" "$scheme"
	stop_dovecot
	start_gomilter "$users"
	run "gomilter" "$GOMILTER_SOCK" "$GOMILTER_PID" "$scheme"
	stop_gomilter
	if [ "$scheme" = SHA512-CRYPT ]; then
		start_gomilter "$users" 10m
		# fill the cache: every user logs in once before the measured runs
		"$BIN" bench auth -addr "unix:$GOMILTER_SOCK" -c 8 -n 1000 >/dev/null
		run "gomilter+verify-cache" "$GOMILTER_SOCK" "$GOMILTER_PID" "$scheme"
		stop_gomilter
	fi
done
