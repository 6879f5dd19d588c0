#!/bin/sh
# Benchmark the SPF policy service: Debian's policyd-spf
# (postfix-policyd-spf-python) started once per SMTP session, the way
# Postfix's spawn(8) runs it, against gomilter's policy SPF check. Both get
# the same requests and the same local DNS server, in one run of
# "gomilter bench policy".
#
# policyd-spf resolves through dnspython's default resolver, which reads
# /etc/resolv.conf; a tiny wrapper points it at the benchmark's DNS server
# instead (the machine's resolver configuration is left alone) and then
# runs policyd-spf's own main() with its stock configuration.
#
# Usage: contrib/bench/policy.sh [gomilter binary] [extra bench flags]
# Three runs, 2 sessions in parallel: 1, 50 and 1000 requests per session.
set -eu

GOMILTER=${1:-}
[ $# -gt 0 ] && shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ -z "$GOMILTER" ]; then
	here=$(cd "$(dirname "$0")/../.." && pwd)
	(cd "$here" && go build -o "$tmp/gomilter" ./cmd/gomilter)
	GOMILTER=$tmp/gomilter
fi
PATH=$PATH:/usr/sbin:/usr/bin
command -v policyd-spf >/dev/null || { echo "policyd-spf not installed (apt-get install postfix-policyd-spf-python)" >&2; exit 1; }

cat >"$tmp/policyd-spf-dns.py" <<'PY'
# Run policyd-spf with its DNS library aimed at argv[1] (host:port).
# Debian's spf.py uses dnspython if installed, else pydns (python3-dns);
# both are handled. Everything else is policyd-spf unchanged.
import sys
host, port = sys.argv[1].rsplit(":", 1)
import spf  # picks the DNS library and reads /etc/resolv.conf
try:
    import dns.resolver
    r = dns.resolver.Resolver(configure=False)
    r.nameservers = [host]
    r.port = int(port)
    dns.resolver.default_resolver = r
except ImportError:
    import DNS
    DNS.defaults["server"] = [host]
    DNS.defaults["port"] = int(port)
sys.argv = ["policyd-spf"]
from spf_engine.policyd_spf import main
sys.exit(main())
PY

# policyd-spf's own interpreter, not whatever python3 is first in PATH.
PY=$(head -1 "$(command -v policyd-spf)" | sed 's/^#! *//')

# per-session:requests pairs. One request per session is Postfix's common
# case (one recipient per SMTP session, a new policyd-spf process each);
# 1000 per session shows policyd-spf warm.
for run in 1:300 50:1000 1000:2000; do
	per=${run%%:*}
	n=${run##*:}
	echo "### requests per session: $per"
	"$GOMILTER" bench policy -spawn "$PY $tmp/policyd-spf-dns.py {dns}" \
		-n "$n" -c 2 -per-conn "$per" "$@"
	echo
done
