#!/usr/bin/env bash
# spam-instr.sh — instructions the spam engine executes per message, counted
# by valgrind (callgrind) on a sample of the training corpus, after a warm-up
# pass, with the garbage collector off. Unlike CPU time, the count does not
# move when the machine is busy, so two revisions can be compared on a
# shared machine.
#
# usage: contrib/bench/spam-instr.sh [-step N] [REV...]
#   -step N   every Nth corpus message (default 25: 125 messages, ~4 min)
#   REV       git revisions to compare (default: the working tree); each is
#             built from `git archive` into a temporary directory, with the
#             working tree's milter/spam/bench_test.go, so that every
#             revision is measured the same way
set -euo pipefail
STEP=25
if [ "${1:-}" = -step ]; then STEP=$2; shift 2; fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
command -v valgrind >/dev/null || { echo "valgrind missing (apt-get install valgrind)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/gomilter-instr.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

count() { # SRC LABEL
	(cd "$1" && go test -c -o "$WORK/$2.test" ./milter/spam) || return 1
	# The test binary finds the corpus from its package directory.
	(cd "$ROOT/milter/spam" && GOGC=off GODEBUG=asyncpreemptoff=1 SPAM_BENCH_STEP=$STEP \
		valgrind --tool=callgrind --callgrind-out-file="$WORK/$2.cg" \
		--zero-before='github.com/gomilter/gomilter/milter/spam.benchTimedStart' \
		--toggle-collect='github.com/gomilter/gomilter/milter/spam.(*Engine).check' \
		"$WORK/$2.test" -test.run '^$' -test.bench CheckCorpus -test.benchtime 1x >"$WORK/$2.log" 2>&1) || {
		tail -20 "$WORK/$2.log" >&2
		return 1
	}
	n=$(( ($(ls "$ROOT"/../shared/testsuites/corpus/train/*/*.eml | wc -l) + STEP - 1) / STEP ))
	ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$WORK/$2.log")
	echo "$2: $((ir / n / 1000)) thousand instructions per message ($n messages)"
}

if [ $# -eq 0 ]; then
	count "$ROOT" worktree
	exit
fi
pids=()
for rev in "$@"; do
	mkdir -p "$WORK/src-$rev"
	git -C "$ROOT" archive "$rev" | tar -x -C "$WORK/src-$rev"
	cp "$ROOT/milter/spam/bench_test.go" "$WORK/src-$rev/milter/spam/"
	count "$WORK/src-$rev" "$rev" >"$WORK/$rev.out" 2>&1 &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
for rev in "$@"; do cat "$WORK/$rev.out"; done
