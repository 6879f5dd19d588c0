#!/bin/sh
# spam.sh — compare gomilter's SpamAssassin-compatible scoring with
# SpamAssassin 4.0.1's own results on the shared training corpus.
#
# usage: contrib/bench/spam.sh [CORPUS_DIR]
#   CORPUS_DIR defaults to ../shared/testsuites/corpus relative to the
#   repository root. Prints rule-hit agreement (rules we run, network and
#   Bayes rules excluded), verdict agreement, spam recall and ham false
#   positives for SA and for us, and the throughput of `gomilter spam check`.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${1:-$root/../shared/testsuites/corpus}
ref=$corpus/sa-results-rules-train.tsv
[ -f "$ref" ] || { echo "spam.sh: $ref not found" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/gomilter" "$root/cmd/gomilter"
start=$(date +%s.%N)
"$tmp/gomilter" spam check "$corpus/train" >"$tmp/ours.tsv" 2>"$tmp/load.txt"
end=$(date +%s.%N)
head -1 "$tmp/load.txt" | cut -c1-200
awk -F'\t' -v start="$start" -v end="$end" '
function excluded(r) { return r == "" || r ~ /^(RCVD_IN_|URIBL_|BAYES_)/ }
FNR == NR { if (FNR > 1) { refspam[$1] = $4; refgrp[$1] = $2; refrules[$1] = $5 }; next }
{
	n = split($1, p, "/"); f = p[n]
	if (!(f in refspam)) next
	msgs++
	delete ours; delete theirs
	k = split($4, a, ","); for (i = 1; i <= k; i++) if (!excluded(a[i])) { ours[a[i]] = 1; seen[a[i]] = 1 }
	k = split(refrules[f], b, ","); for (i = 1; i <= k; i++) if (!excluded(b[i])) theirs[b[i]] = 1
	for (r in theirs) if (r in ours) both++; else saonly[r]++
	for (r in ours) if (!(r in theirs)) ouronly[r]++
	spam = (refgrp[f] == "spam-1")
	our = ($3 == "Yes"); sa = (refspam[f] == 1)
	if (our == sa) vagree++
	if (spam) { nspam++; if (sa) satp++; if (our) ourtp++ } else { nham++; if (sa) safp++; if (our) ourfp++ }
}
END {
	for (r in saonly) if (r in seen) { sa_cmp += saonly[r] } else { sa_unsupported += saonly[r] }
	for (r in ouronly) our_extra += ouronly[r]
	printf "messages: %d\n", msgs
	printf "rule hits SA and us: %d; SA only (rules we run): %d; SA only (rules we lack): %d; ours only: %d\n", both, sa_cmp, sa_unsupported, our_extra
	printf "hit agreement (rules we run): %.2f%%\n", 100 * both / (both + sa_cmp + our_extra)
	printf "verdict agreement: %.2f%%\n", 100 * vagree / msgs
	printf "SA:   spam recall %.1f%%, ham FP %.2f%%\n", 100 * satp / nspam, 100 * safp / nham
	printf "ours: spam recall %.1f%%, ham FP %.2f%%\n", 100 * ourtp / nspam, 100 * ourfp / nham
	printf "throughput: %.1f msgs/s (wall, one process)\n", msgs / (end - start)
}' "$ref" "$tmp/ours.tsv"
