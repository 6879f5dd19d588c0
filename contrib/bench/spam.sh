#!/bin/bash
# spam.sh — SpamAssassin 4.0.1 (Debian's spamd, sa-learn) against gomilter
# on the shared training corpus, with no network: accuracy with rules only
# and with Bayes, and speed, printed side by side in one table.
#
# usage (as root): contrib/bench/spam.sh [--quick] [--sa-rerun] [--rev REV] [--keep] [CORPUS_DIR]
#   CORPUS_DIR  holds train/{spam-1,easy-ham-1,hard-ham-1} and
#               sa-results-rules-train.tsv (default: ../shared/testsuites/corpus
#               beside the repository)
#   --quick     development run, a few minutes: 300 messages of fold 0 are
#               scored everywhere, one fold, Bayes trained on the other folds'
#               spam and 400 of their ham
#   --sa-rerun  score the rules-only column with spamd -L here rather than read
#               the reference TSV (it reproduces it: same rules and verdicts);
#               adds spamd's rules-only CPU to the speed part
#   --rev REV   build gomilter from the commit REV (git archive) instead of
#               the working tree, which others may be editing
#   --keep      keep the work directory (every reply, score list and log)
# Needs go, perl, spamd, spamc and sa-learn (apt-get install spamd spamc
# spamassassin). Not run in CI: the full run takes about 10 minutes on 2 idle
# cores (most of it spamd and sa-learn), 20-25 at a load average of 6-8.
# Both filters read the same site configuration: a copy of Debian's
# /etc/spamassassin plus zz-bench.cf (use_bayes, bayes_path per fold,
# bayes_auto_learn 0, use_auto_whitelist 0); rules from /usr/share/spamassassin.
#
# What the figures mean
#   spam recall       share of spam-1 marked spam (score >= required_score 5.0)
#   FP easy/hard/all  share of easy-ham-1, hard-ham-1, and all ham marked spam
#   rule-hit agreement  over (message, rule) pairs where either filter hit
#                     the rule: the share where both did. Only rules gomilter
#                     runs count (gomilter spam check -list-rules); RCVD_IN_*,
#                     URIBL_* (network) and BAYES_* are left out. SpamAssassin's
#                     hits are the reference TSV's (or --sa-rerun's), rules only.
#   With Bayes        5-fold cross-validation. A message's fold is the first four
#                     bytes of the MD5 of its file name, big-endian, mod 5 (the
#                     split internal/bayes's cv_test.go uses). Per fold, each
#                     filter gets a fresh database that learns the four other
#                     folds (sa-learn; gomilter spam learn), then scores the
#                     held-out fold with auto-learn off: the databases' spam/ham
#                     totals are checked unchanged after scoring, so no message
#                     is ever scored by a database that learned it.
#                     bayes_min_spam_num/ham_num, expiry etc. keep their defaults.
#   BAYES_95+         share of spam hitting BAYES_95, BAYES_99 or BAYES_999;
#   BAYES_00          share of ham hitting BAYES_00; "answered": share of
#                     messages with any BAYES_* rule (the database was used).
#   CPU-s per 1000    CPU of the daemon alone while it scores, start-up and
#                     clients excluded: spamd's whole process group (parent and
#                     children, utime+stime+cutime+cstime from /proc) during the
#                     Bayes scoring passes, 2 children, 4 spamc clients in
#                     parallel; gomilter serve (milter with spam scoring and
#                     fold 0's Bayes database) during "gomilter bench milter -c 4"
#                     over the same messages, replayed as Postfix would.
#                     DKIM, SPF, ARC and DMARC are off, and so are network tests.
#   peak RSS          VmHWM: gomilter serve; spamd's parent and largest child.
#   database on disk  fold 0's Bayes files (SA: bayes_toks + bayes_seen).
#   p50/p99           per message as the client saw it, at 4 clients (queueing
#                     on 2 cores included) and, for gomilter, also at 1.
#   spam check CLI    CPU of the one-shot "gomilter spam check" runs above
#                     (rule loading included), for reference.
# The machine may be shared: CPU-seconds move a little with other load, wall
# times and latencies a lot (the load average is printed with the table).
set -eu -o pipefail

QUICK=0 SARERUN=0 KEEP=0 REV=""
while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1 ;;
	--sa-rerun) SARERUN=1 ;;
	--keep) KEEP=1 ;;
	--rev)
		[ $# -ge 2 ] || { echo "spam.sh: --rev needs a commit" >&2; exit 2; }
		REV=$2
		shift
		;;
	-h | --help)
		sed -n '2,/^set -eu/{/^set -eu/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	-*)
		echo "spam.sh: unknown option $1 (see --help)" >&2
		exit 2
		;;
	*) break ;;
	esac
	shift
done

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CORPUS=${1:-$ROOT/../shared/testsuites/corpus}
REF=$CORPUS/sa-results-rules-train.tsv
PATH=$PATH:/usr/sbin:/sbin

die() {
	echo "spam.sh: $*" >&2
	exit 1
}
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found; $2"; }

need go "install Go to build gomilter"
need perl "apt-get install perl"
need spamd "apt-get install spamd (Debian's /usr/sbin/spamd)"
need spamc "apt-get install spamc"
need sa-learn "apt-get install spamassassin"
need setsid "apt-get install util-linux"
SPAMD=$(command -v spamd)
[ -d "$CORPUS/train" ] || die "no $CORPUS/train (give the corpus directory as argument)"
[ -f "$REF" ] || die "no $REF"
[ "$(id -u)" = 0 ] || die "run as root: spamd drops to nobody for each message and needs a private config"

WORK=$(mktemp -d /tmp/gomilter-spam-bench.XXXXXX)
chmod 755 "$WORK" # spamd's children read their Bayes files as nobody
PIDS=""
cleanup() {
	rc=$?
	local kids
	for p in $PIDS; do
		# What our jobs started (sa-learn, gomilter, spamc, spamd's
		# children), found from their parent PIDs before the parents go.
		kids=$(descendants "$p")
		kill "$p" 2>/dev/null || true
		[ -z "$kids" ] || kill $kids 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ $KEEP = 1 ] || { [ $rc != 0 ] && [ $rc != 130 ] && [ $rc != 143 ]; }; then
		echo "spam.sh: work directory kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
descendants() {
	local c
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null || true); do
		echo "$c"
		descendants "$c"
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
. "$HERE/spam-lib.sh"

START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
SRC=$ROOT
if [ -n "$REV" ]; then
	SRC=$WORK/src
	mkdir "$SRC"
	(cd "$ROOT" && git archive "$REV") | tar -x -C "$SRC"
fi
if [ -n "$REV" ]; then
	GMVER=$(cd "$ROOT" && git rev-parse --short "$REV")
else
	GMVER=$(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo "working tree")
fi
log "building gomilter from ${REV:-the working tree} (work directory $WORK)"
(cd "$SRC" && run go build -o "$WORK/gomilter" ./cmd/gomilter) || die "go build failed"
GM=$WORK/gomilter
mkdir -p "$WORK/home"
: >"$WORK/home/prefs"

# all.tsv: path, group, name, fold, sort key (the MD5's first four bytes).
perl -MDigest::MD5=md5 -e '
my $root = shift;
for my $g ("spam-1", "easy-ham-1", "hard-ham-1") {
	opendir(my $d, "$root/$g") or die "$root/$g: $!\n";
	for my $n (sort grep { !/^\./ && -f "$root/$g/$_" } readdir $d) {
		my $k = unpack("N", md5($n));
		print "$root/$g/$n\t$g\t$n\t", $k % 5, "\t$k\n";
	}
}' "$CORPUS/train" >"$WORK/all.tsv"
if [ $QUICK = 1 ]; then
	FOLDS="0"
	awk -F'\t' '$4 == 0' "$WORK/all.tsv" | sort -t"$(printf '\t')" -k5,5n | awk "NR <= 300" >"$WORK/scored.tsv"
	HAMCAP=400
else
	FOLDS="0 1 2 3 4"
	cp "$WORK/all.tsv" "$WORK/scored.tsv"
	HAMCAP=0
fi
cut -f1 "$WORK/scored.tsv" >"$WORK/scored.lst"
NSCORED=$(wc -l <"$WORK/scored.lst")
[ "$NSCORED" -gt 0 ] || die "no messages under $CORPUS/train"

# make_site DIR LINES: Debian's site config (*.pre, local.cf, 65_debian.cf)
# plus zz-bench.cf; both filters read the same directory.
make_site() {
	mkdir -p "$1"
	cp /etc/spamassassin/*.pre /etc/spamassassin/*.cf "$1/"
	printf '%s\n' "$2" \
		"bayes_auto_learn 0" \
		"ifplugin Mail::SpamAssassin::Plugin::AWL" "use_auto_whitelist 0" "endif" >"$1/zz-bench.cf"
}

# ---- rules only -----------------------------------------------------------
log "rules only: gomilter spam check on $NSCORED messages"
"$GM" spam check -list-rules >"$WORK/supported.lst" 2>/dev/null || : >"$WORK/supported.lst"
make_site "$WORK/site-rules" "use_bayes 0"
run cputime "$WORK/gm-check-rules.cpu" "$GM" spam check -site "$WORK/site-rules" $(cat "$WORK/scored.lst") \
	>"$WORK/gm-rules.raw" 2>"$WORK/gm-rules.err" ||
	log "warning: gomilter spam check reported errors (see $WORK/gm-rules.err)"
gm_parse <"$WORK/gm-rules.raw" >"$WORK/rules-gm.tsv"
if [ ! -s "$WORK/supported.lst" ]; then
	# A gomilter older than -list-rules: the rules it hit at least once.
	log "warning: no spam check -list-rules; agreement counts the rules gomilter hit on this corpus"
	cut -f4 "$WORK/rules-gm.tsv" | tr ',' '\n' | sort -u >"$WORK/supported.lst"
fi
if [ $SARERUN = 1 ]; then
	log "rules only: spamd on $NSCORED messages"
	spamd_score "$WORK/site-rules" rules "$WORK/scored.lst" "$WORK/rules-sa.tsv"
	SA_RULES_SRC="spamd -L, here"
else
	awk -F'\t' -v OFS='\t' 'NR > 1 { print $1, $3, ($4 == 1 ? "Yes" : "No"), $5 }' "$REF" >"$WORK/rules-sa.tsv"
	SA_RULES_SRC="reference TSV"
fi

# ---- Bayes, cross-validation ----------------------------------------------
# train_fold K: both databases learn every fold but K (--quick: at most
# HAMCAP ham, lowest sort keys first).
train_fold() {
	local k=$1 F=$WORK/fold$1
	awk -F'\t' -v k="$k" '$4 != k && $2 == "spam-1" { print $1 }' "$WORK/all.tsv" >"$F/spam.lst"
	awk -F'\t' -v k="$k" '$4 != k && $2 != "spam-1"' "$WORK/all.tsv" | sort -t"$(printf '\t')" -k5,5n |
		awk -F'\t' -v cap="$HAMCAP" 'cap == 0 || NR <= cap { print $1 }' >"$F/ham.lst"
	for class in spam ham; do
		HOME=$WORK/home sa-learn -L --siteconfigpath="$F/site" -p "$WORK/home/prefs" --dbpath "$F/sa/bayes" \
			--"$class" -f "$F/$class.lst" >>"$F/learn.log" 2>&1
		"$GM" spam learn --"$class" -store "$F/gm.db" ${LEARN_SITE:+-site "$F/site"} $(cat "$F/$class.lst") >>"$F/learn.log" 2>&1
	done
	chmod -R a+rwX "$F/sa"
}

# spam learn tokenizes with the site config's Bayes settings where it can.
LEARN_SITE=""
case $("$GM" spam learn -h 2>&1 || true) in
*-site*) LEARN_SITE=1 ;;
esac
log "Bayes: training $(echo $FOLDS | wc -w) fold(s), two at a time"
TRAIN_PIDS=""
for k in $FOLDS; do
	F=$WORK/fold$k
	mkdir -p "$F/sa"
	make_site "$F/site" "use_bayes 1
bayes_path $F/sa/bayes
lock_method flock"
	awk -F'\t' -v k="$k" '$4 == k { print $1 }' "$WORK/scored.tsv" >"$F/test.lst"
	if [ "$(echo $TRAIN_PIDS | wc -w)" -ge 2 ]; then
		set -- $TRAIN_PIDS
		wait "$1" || die "training failed (see $WORK/fold*/learn.log)"
		forget "$1"
		shift
		TRAIN_PIDS="$*"
	fi
	train_fold "$k" &
	TRAIN_PIDS="$TRAIN_PIDS $!"
	PIDS="$PIDS $!"
done
for p in $TRAIN_PIDS; do
	wait "$p" || die "training failed (see $WORK/fold*/learn.log)"
	forget "$p"
done

: >"$WORK/bayes-sa.tsv"
: >"$WORK/bayes-gm.tsv"
: >"$WORK/spamd-lat-bayes"
: >"$WORK/gm-check-bayes.cpus"
for k in $FOLDS; do
	F=$WORK/fold$k
	[ -s "$F/test.lst" ] || continue
	sa_before=$(sa_totals "$F/sa/bayes" "$F/site")
	gm_before=$(gm_totals "$F/gm.db")
	log "Bayes fold $k: learned (spam ham) SA $sa_before, gomilter $gm_before; scoring $(wc -l <"$F/test.lst") held-out messages"
	spamd_score "$F/site" "bayes$k" "$F/test.lst" "$F/sa.tsv"
	cat "$F/sa.tsv" >>"$WORK/bayes-sa.tsv"
	cat "$WORK/spamd-lat-bayes$k" >>"$WORK/spamd-lat-bayes"
	run cputime "$F/gm-check.cpu" "$GM" spam check -site "$F/site" -bayes "$F/gm.db" $(cat "$F/test.lst") \
		>"$F/gm.raw" 2>"$F/gm.err" || log "warning: gomilter spam check reported errors (see $F/gm.err)"
	cat "$F/gm-check.cpu" >>"$WORK/gm-check-bayes.cpus"
	gm_parse <"$F/gm.raw" >>"$WORK/bayes-gm.tsv"
	[ "$(sa_totals "$F/sa/bayes" "$F/site")" = "$sa_before" ] || die "fold $k: SpamAssassin's database changed while scoring"
	[ "$(gm_totals "$F/gm.db")" = "$gm_before" ] || die "fold $k: gomilter's database changed while scoring"
done

# ---- speed: gomilter's milter ---------------------------------------------
# bench milter reads one directory: copy the scored messages into one.
mkdir "$WORK/flat"
xargs cp -t "$WORK/flat" <"$WORK/scored.lst"
FIRST=$(echo $FOLDS | cut -d' ' -f1)
cp "$WORK/fold$FIRST/gm.db" "$WORK/bench-bayes.db"
cat >"$WORK/gomilter.yaml" <<EOF
log: {level: warn}
http: {listen: ""}
# Nothing to ask: a closed loopback port fails at once (SpamAssassin: -L).
dns: {servers: ["127.0.0.1:9"], timeout: 1s}
state_dir: $WORK/state
milter:
  enabled: true
  listen: {address: "unix:$WORK/milter.sock"}
  authserv_id: bench.example
  internal_networks: []
  dkim: {enabled: false}
  spf: {enabled: false}
  arc: {enabled: false}
  dmarc: {enabled: false}
  spam:
    enabled: true
    site_dir: $WORK/fold$FIRST/site
    bayes_path: $WORK/bench-bayes.db
policy: {enabled: false}
auth: {enabled: false}
EOF
"$GM" check-config -config "$WORK/gomilter.yaml" >/dev/null || die "bench config refused (see above)"
log "speed: gomilter serve (milter, spam + Bayes), bench milter on $NSCORED messages"
"$GM" serve -config "$WORK/gomilter.yaml" -only milter >"$WORK/serve.log" 2>&1 &
GM_PID=$!
PIDS="$PIDS $GM_PID"
i=0
until [ -S "$WORK/milter.sock" ]; do
	kill -0 "$GM_PID" 2>/dev/null || {
		cat "$WORK/serve.log" >&2
		die "gomilter serve exited"
	}
	i=$((i + 1))
	[ $i -lt 600 ] || die "no milter socket after 60 s"
	sleep 0.1
done
bench() { "$GM" bench milter -addr "unix:$WORK/milter.sock" -dir "$WORK/flat" -client 192.0.2.1 -pid "$GM_PID" "$@"; }
bench -c 1 -n 10 >/dev/null # warm-up: nothing is loaded lazily in the timed runs
run bench -c 4 -n "$NSCORED" >"$WORK/bench-c4.txt" || die "bench milter -c 4 failed: $(cat "$WORK/bench-c4.txt")"
N1=$((NSCORED < 500 ? NSCORED : 500))
run bench -c 1 -n "$N1" >"$WORK/bench-c1.txt" || die "bench milter -c 1 failed: $(cat "$WORK/bench-c1.txt")"
kill "$GM_PID"
wait "$GM_PID" || true
forget "$GM_PID"

# ---- the table --------------------------------------------------------------
bench_field() { # FILE: "cpu1000 rssKiB p50ms p99ms"
	awk '/^latency:/ { p50 = $3; p99 = $7 } /^daemon:/ { cpu = $2; rss = $(NF - 1) }
		function ms(s) { if (s ~ /ms$/) return s + 0; if (s ~ /µs$|us$/) return s / 1000; if (s ~ /s$/) return s * 1000; return s }
		END { printf "%s %s %.1f %.1f\n", cpu, rss, ms(p50), ms(p99) }' "$1"
}
read -r GM_CPU GM_RSS GM_P50_4 GM_P99_4 <<<"$(bench_field "$WORK/bench-c4.txt")"
read -r _ _ GM_P50_1 GM_P99_1 <<<"$(bench_field "$WORK/bench-c1.txt")"
read -r SA_N SA_CPU SA_RSSP SA_RSSC <<<"$(awk '$1 ~ /^bayes/ { n += $2; c += $3; if ($5 > p) p = $5; if ($6 > q) q = $6 }
	END { print n, c, p, q }' "$WORK/spamd-runs")"
read -r SA_P50 SA_P99 <<<"$(latency "$WORK/spamd-lat-bayes")"
SA_RULES_CPU=$(awk '$1 == "rules" { print $3 * 1000 / $2 }' "$WORK/spamd-runs" 2>/dev/null || true)
GM_CHECK_RULES=$(awk -v n="$NSCORED" '{ print $1 * 1000 / n }' "$WORK/gm-check-rules.cpu")
GM_CHECK_BAYES=$(awk -v n="$(wc -l <"$WORK/bayes-gm.tsv")" '{ c += $1 } END { if (n) print c * 1000 / n }' "$WORK/gm-check-bayes.cpus")

MODE="full: all $NSCORED messages, folds $FOLDS"
[ $QUICK = 0 ] || MODE="--quick: $NSCORED messages of fold 0, Bayes trained on the other folds' spam + $HAMCAP ham"
"$HERE/spam-report.sh" "$WORK" \
	mode="$MODE" sa_rules_src="$SA_RULES_SRC" \
	sa_version="$("$SPAMD" --version 2>/dev/null | sed -n '1s/.*version //p')" \
	gm_version="$GMVER" \
	sa_n="$SA_N" sa_cpu="$SA_CPU" sa_rssp="$SA_RSSP" sa_rssc="$SA_RSSC" sa_p50="$SA_P50" sa_p99="$SA_P99" \
	sa_rules_cpu="$SA_RULES_CPU" gm_cpu="$GM_CPU" gm_rss="$GM_RSS" gm_p50_4="$GM_P50_4" gm_p99_4="$GM_P99_4" \
	gm_n1="$N1" gm_p50_1="$GM_P50_1" gm_p99_1="$GM_P99_1" gm_check_rules="$GM_CHECK_RULES" \
	gm_check_bayes="$GM_CHECK_BAYES" \
	loadavg="$LOAD_START -> $(cut -d' ' -f1-3 /proc/loadavg)" cores="$(nproc)" elapsed="$(($(date +%s) - START))" \
	dbsize="$(du -k "$WORK/fold$FIRST/sa/bayes_toks" "$WORK/fold$FIRST/sa/bayes_seen" | awk '{ k += $1 } END { print k }') \
$(du -k "$WORK/fold$FIRST/gm.db" | cut -f1)"
