#!/bin/sh
# DKIM signing and verifying throughput: Debian's OpenDKIM 2.11 against
# gomilter, same RSA-2048 key, relaxed/relaxed, driven by
# "gomilter bench milter" at 1, 8 and 32 concurrent connections.
#
# usage (as root, from the repository root): contrib/bench/dkim.sh [N]
# Both daemons read the same opendkim.conf: OpenDKIM, and "gomilter serve
# -only milter" (milter.dkim.opendkim_conf, SPF/ARC/DMARC off so the work
# is the same).
#   N      messages per run (default 2000)
#   CORPUS message directory (default ../shared/testsuites/corpus/train/easy-ham-1)
#
# Signing = mail from 127.0.0.1 (an InternalHosts address); verifying =
# messages pre-signed with the same key, sent from 192.0.2.1. Keys are
# served from a TestPublicKeys file, so no DNS is involved. Reported per
# run by bench milter: messages/s and the daemon's CPU-ms per message
# (-pid), the figure the targets are stated in.
set -eu
N=${1:-2000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CORPUS=${CORPUS:-$ROOT/../shared/testsuites/corpus/train/easy-ham-1}
# OpenDKIM refuses keys below a world-writable directory such as /tmp.
WORK=$(mktemp -d /root/gomilter-dkim-bench.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

cd "$ROOT"
go build ${GOFLAGS_BENCH:-} -o "$WORK/gomilter" ./cmd/gomilter
GM=$WORK/gomilter
$GM dkim keygen -d example.com -s bench -t rsa -b 2048 -dir "$WORK" >/dev/null
printf 'bench example.com:bench:%s/bench.private\n' "$WORK" >"$WORK/keytable"
printf '* bench\n' >"$WORK/signingtable"
printf 'bench._domainkey.example.com %s\n' \
	"$(sed -n 's/.*"\(.*\)".*/\1/p' "$WORK/bench.txt" | tr -d '\n' | sed 's/" *"//g')" >"$WORK/pubkeys"
cat >"$WORK/opendkim.conf" <<CONF
Syslog no
Background no
Mode sv
Socket local:$WORK/opendkim.sock
PidFile $WORK/opendkim.pid
KeyTable file:$WORK/keytable
SigningTable refile:$WORK/signingtable
TestPublicKeys $WORK/pubkeys
Canonicalization relaxed/relaxed
InternalHosts 127.0.0.1
OversignHeaders From
CONF

mkdir "$WORK/signed"
$GM dkim sign -conf "$WORK/opendkim.conf" -out "$WORK/signed" "$CORPUS"/* >/dev/null
$GM dkim verify -conf "$WORK/opendkim.conf" "$WORK/signed"/* | grep -vc 'dkim=pass' |
	sed 's/^/signatures not passing in the verify set (want 0): /'

wait_socket() {
	i=0
	until [ -S "$1" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || { echo "no socket $1" >&2; exit 1; }
		sleep 0.05
	done
}

run_all() { # name socket pid
	for c in 1 8 32; do
		echo "== $1 sign c=$c"
		$GM bench milter -addr "unix:$2" -dir "$CORPUS" -c $c -n "$N" -client 127.0.0.1 -pid "$3"
		echo "== $1 verify c=$c"
		$GM bench milter -addr "unix:$2" -dir "$WORK/signed" -c $c -n "$N" -client 192.0.2.1 -pid "$3"
	done
}

opendkim -f -x "$WORK/opendkim.conf" &
OD=$!
PIDS="$PIDS $OD"
wait_socket "$WORK/opendkim.sock"
run_all opendkim "$WORK/opendkim.sock" "$OD"
kill "$OD"

# gomilter reads the same opendkim.conf through its milter pipeline, with
# SPF/ARC/DMARC off so both daemons do the same job.
cat >"$WORK/gomilter.yaml" <<CONF
state_dir: $WORK/state
http:
  listen: ""
milter:
  listen:
    address: unix:$WORK/serve.sock
  dkim:
    opendkim_conf: $WORK/opendkim.conf
  spf:
    enabled: false
  arc:
    enabled: false
  dmarc:
    enabled: false
policy:
  enabled: false
auth:
  enabled: false
CONF
$GM serve -only milter -config "$WORK/gomilter.yaml" 2>"$WORK/serve.log" &
GSP=$!
PIDS="$PIDS $GSP"
wait_socket "$WORK/serve.sock"
run_all gomilter "$WORK/serve.sock" "$GSP"
