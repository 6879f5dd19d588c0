# spam-lib.sh — functions for spam.sh (sourced, not run): spamd start/stop,
# the spamc load driver, CPU and RSS readings from /proc, and parsers that
# turn both filters' outputs into one format:
#     name<TAB>score<TAB>Yes|No<TAB>RULE,RULE,...
# Expects WORK, GM and PIDS from spam.sh, and its die/log functions.

CLK_TCK=$(getconf CLK_TCK)

# pgcpu PGID: CPU-seconds of a process group. Live members' utime+stime,
# plus their cutime+cstime, which holds children already reaped (spamd
# respawns a child after --max-conn-per-child). The command name may hold
# spaces ("spamd child"), so fields are counted after its ')'.
pgcpu() {
	{ cat /proc/[0-9]*/stat 2>/dev/null || true; } | sed 's/^[0-9]* (.*) //' |
		awk -v g="$1" -v hz="$CLK_TCK" '$3 == g { t += $12 + $13 + $14 + $15 } END { printf "%.2f\n", t / hz }'
}

# pgrss PGID: "parent_KiB max_child_KiB children" from VmHWM.
pgrss() {
	local pid parent=0 child=0 n=0 hwm
	for pid in $(ps -o pid= -g "$1"); do
		hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
		[ -n "$hwm" ] || continue
		if [ "$pid" = "$1" ]; then
			parent=$hwm
		else
			n=$((n + 1))
			[ "$hwm" -le "$child" ] || child=$hwm
		fi
	done
	echo "$parent $child $n"
}

freeport() {
	perl -MIO::Socket::IP -e 'print IO::Socket::IP->new(LocalHost => "127.0.0.1", LocalPort => 0, Listen => 1)->sockport'
}

# spamd_start SITEDIR TAG: Debian's spamd, local tests only (-L), no user
# configs (-x), 2 children, on a free loopback port, in its own process
# group (setsid) so that its CPU can be read as one. Sets SPAMD_PID and
# SPAMD_PORT. spamd drops to nobody for each message, so WORK must be
# readable (and Bayes files writable, for its token-touch journal).
spamd_start() {
	local site=$1 tag=$2 i=0
	SPAMD_PORT=$(freeport)
	HOME=$WORK/home setsid "$SPAMD" -L -x --siteconfigpath="$site" -i "127.0.0.1:$SPAMD_PORT" -A 127.0.0.1 \
		--max-children 2 --min-children 2 --pidfile "$WORK/spamd-$tag.pid" -s "$WORK/spamd-$tag.log" \
		>"$WORK/spamd-$tag.out" 2>&1 &
	SPAMD_PID=$!
	PIDS="$PIDS $SPAMD_PID"
	until spamc -d 127.0.0.1 -p "$SPAMD_PORT" --connect-retries=1 -K >/dev/null 2>&1; do
		if ! kill -0 "$SPAMD_PID" 2>/dev/null; then
			tail -20 "$WORK/spamd-$tag.out" "$WORK/spamd-$tag.log" >&2 || true
			die "spamd ($tag) exited during start-up"
		fi
		i=$((i + 1))
		[ $i -lt 900 ] || die "spamd ($tag) not answering PING after 180 s"
		sleep 0.2
	done
	[ "$(ps -o pgid= -p "$SPAMD_PID" | tr -d ' ')" = "$SPAMD_PID" ] ||
		die "spamd ($tag) is not its own process group leader; its CPU cannot be read"
	# Both children forked before the clock starts.
	i=0
	until [ "$(ps -o pid= -g "$SPAMD_PID" | wc -l)" -ge 3 ] || [ $i -ge 100 ]; do
		i=$((i + 1))
		sleep 0.1
	done
}

# spamd_stop: TERM to the spamd we started (it ends its children), then
# forget its PID.
spamd_stop() {
	kill "$SPAMD_PID" 2>/dev/null || true
	wait "$SPAMD_PID" 2>/dev/null || true
	forget "$SPAMD_PID"
}

# run CMD...: CMD in the background, waited for, so that a TERM to spam.sh
# is handled at once (bash runs traps only between foreground commands)
# and cleanup can end CMD. Its exit code is CMD's. Stdin is /dev/null.
run() {
	local p rc=0
	"$@" &
	p=$!
	PIDS="$PIDS $p"
	wait "$p" || rc=$?
	forget "$p"
	return $rc
}

forget() { PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ' || true); }

# spamc_drive PORT CLIENTS OUTDIR LIST: CLIENTS processes each run spamc
# (PROCESS, as spamass-milter does) on their share of the listed files and
# write each reply to OUTDIR/<file name>; OUTDIR/.times* get
# "name<TAB>seconds<TAB>spamc exit code" per message. -x: an unreachable
# spamd is an error, not a message passed through unscored.
spamc_drive() {
	perl -e '
use strict; use warnings; use Time::HiRes qw(time);
my ($port, $p, $out, $list) = @ARGV;
open(my $l, "<", $list) or die "$list: $!"; my @f = <$l>; chomp @f;
my @kids;
for my $w (0 .. $p - 1) {
	my $pid = fork // die "fork: $!";
	if (!$pid) {
		open(my $t, ">", "$out/.times$w") or die "$out: $!";
		for (my $i = $w; $i < @f; $i += $p) {
			(my $n = $f[$i]) =~ s{.*/}{};
			my $t0 = time;
			my $c = fork // die "fork: $!";
			if (!$c) {
				open(STDIN, "<", $f[$i]) or die "$f[$i]: $!";
				open(STDOUT, ">", "$out/$n") or die "$out/$n: $!";
				exec("spamc", "-x", "-d", "127.0.0.1", "-p", $port, "-s", "67108864") or die "spamc: $!";
			}
			waitpid($c, 0);
			printf $t "%s\t%.6f\t%d\n", $n, time - $t0, $? >> 8;
		}
		exit 0;
	}
	push @kids, $pid;
}
my $bad = 0;
for (@kids) { waitpid($_, 0); $bad ||= $?; }
exit($bad ? 1 : 0);
' "$@"
}

# spamd_score SITEDIR TAG LIST OUT.tsv: start spamd, score LIST with 4
# spamc clients, stop it. Appends "tag n cpu wall rss_parent rss_child children"
# to WORK/spamd-runs and the latencies to WORK/spamd-lat-TAG.
spamd_score() {
	local site=$1 tag=$2 list=$3 out=$4 c0 c1 t0 t1
	spamd_start "$site" "$tag"
	mkdir -p "$WORK/sa-out-$tag"
	c0=$(pgcpu "$SPAMD_PID")
	t0=$(date +%s.%N)
	run spamc_drive "$SPAMD_PORT" 4 "$WORK/sa-out-$tag" "$list" || die "spamc driver failed ($tag)"
	t1=$(date +%s.%N)
	c1=$(pgcpu "$SPAMD_PID")
	awk -v tag="$tag" -v n="$(wc -l <"$list")" -v c0="$c0" -v c1="$c1" -v t0="$t0" -v t1="$t1" -v rss="$(pgrss "$SPAMD_PID")" \
		'BEGIN { print tag, n, c1 - c0, t1 - t0, rss }' >>"$WORK/spamd-runs"
	spamd_stop
	cat "$WORK/sa-out-$tag"/.times* | cut -f2 >"$WORK/spamd-lat-$tag"
	sa_parse "$WORK/sa-out-$tag" >"$out"
}

# sa_parse DIR: each reply's last X-Spam-Status field (SpamAssassin
# removes the ones a message brought), unfolded. Replies without one
# (spamc failed) are left out and so count as missing.
sa_parse() {
	perl -e '
use strict; use warnings;
my $dir = shift;
opendir(my $d, $dir) or die "$dir: $!";
for my $n (sort grep { !/^\./ } readdir $d) {
	open(my $f, "<", "$dir/$n") or die "$dir/$n: $!";
	my ($hdr, $status) = ("");
	while (<$f>) { last if /^\r?$/; $hdr .= $_; }
	$hdr =~ s/\r?\n[ \t]+/ /g;
	$status = $1 while $hdr =~ /^X-Spam-Status:[ \t]*(.*)$/mig;
	next unless defined $status;
	my ($yes, $score) = $status =~ /^(Yes|No), score=(-?[\d.]+)/ or next;
	# SpamAssassin folds the list after commas.
	my ($tests) = $status =~ /tests=(.*?)(?:\s+autolearn=|\s+version=|$)/;
	$tests = "" unless defined $tests;
	$tests =~ s/\s+//g;
	$tests = "" if $tests eq "none";
	print "$n\t$score\t$yes\t$tests\n";
}' "$1"
}

# gm_parse < spam-check-output: path -> file name.
gm_parse() {
	awk -F'\t' -v OFS='\t' '{ n = split($1, p, "/"); $1 = p[n]; print }'
}

# cputime OUT CMD...: run CMD, write its children's CPU-seconds (user+sys)
# to OUT; the exit code is CMD's.
cputime() {
	local out=$1
	shift
	perl -e 'my $out = shift; system(@ARGV); my $rc = $? == -1 ? 127 : $? >> 8; my @t = times;
		open(my $f, ">", $out) or die; printf $f "%.2f\n", $t[2] + $t[3]; exit $rc' "$out" "$@"
}

# sa_totals PREFIX SITEDIR: "nspam nham" of a SpamAssassin Bayes database.
sa_totals() {
	HOME=$WORK/home sa-learn -L --siteconfigpath="$2" -p "$WORK/home/prefs" --dbpath "$1" --dump magic 2>/dev/null |
		awk '/non-token data: nspam/ { s = $3 } /non-token data: nham/ { h = $3 } END { print s + 0, h + 0 }'
}

gm_totals() {
	"$GM" spam learn -stats -store "$1" | awk '/^nspam/ { s = $2 } /^nham/ { h = $2 } END { print s + 0, h + 0 }'
}

# latency FILE (seconds, one a line): "p50_ms p99_ms", nearest rank.
latency() {
	sort -g "$1" | awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "- -"; exit }
		i50 = int(0.50 * NR + 0.5); i99 = int(0.99 * NR + 0.5); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
		printf "%.1f %.1f\n", v[i50] * 1000, v[i99] * 1000 }'
}
