#!/bin/sh
# spam-report.sh WORKDIR key=value... — prints spam.sh's side-by-side table
# from the files spam.sh leaves in WORKDIR:
#   scored.tsv      path, group, name, fold of every scored message
#   supported.lst   the rules gomilter runs (spam check -list-rules)
#   rules-sa.tsv, rules-gm.tsv, bayes-sa.tsv, bayes-gm.tsv
#                   name, score, Yes|No, rules (comma-separated)
# The key=value arguments carry the speed figures and labels (see spam.sh).
set -eu
W=$1
shift
exec awk -F'\t' -v sup="$W/supported.lst" -v truth="$W/scored.tsv" \
	-v rsa="$W/rules-sa.tsv" -v rgm="$W/rules-gm.tsv" -v bsa="$W/bayes-sa.tsv" -v bgm="$W/bayes-gm.tsv" '
function excluded(r) { return r == "" || r ~ /^(RCVD_IN_|URIBL_|BAYES_)/ }
function pct(a, b) { return b ? sprintf("%.2f%% (%d/%d)", 100 * a / b, a, b) : "-" }
function row(label, a, b) { printf "  %-30s %-26s %s\n", label, a, b }
FILENAME == sup { supported[$1] = 1; next }
FILENAME == truth { grp[$3] = $2; fold[$3] = $4; n[$2]++; order[++nmsg] = $3; next }
{
	t = FILENAME == rsa ? "rsa" : FILENAME == rgm ? "rgm" : FILENAME == bsa ? "bsa" : "bgm"
	if (!($1 in grp) || ((t, $1) in spam)) next
	got[t]++
	spam[t, $1] = ($3 == "Yes")
	rules[t, $1] = $4
}
function tally(t,    i, f, g, k, r, m, hit) {
	tp[t] = fpe[t] = fph[t] = b95[t] = b00[t] = bany[t] = 0
	for (i = 1; i <= nmsg; i++) {
		f = order[i]; g = grp[f]
		if (!((t, f) in spam)) continue
		if (spam[t, f]) { if (g == "spam-1") tp[t]++; else if (g == "easy-ham-1") fpe[t]++; else fph[t]++ }
		k = split(rules[t, f], r, ","); delete hit
		for (m = 1; m <= k; m++) hit[r[m]] = 1
		if (("BAYES_95" in hit) || ("BAYES_99" in hit) || ("BAYES_999" in hit)) { if (g == "spam-1") b95[t]++ }
		if (("BAYES_00" in hit) && g != "spam-1") b00[t]++
		for (m = 1; m <= k; m++) if (r[m] ~ /^BAYES_/) { bany[t]++; break }
	}
}
function block(a, b) {
	row("spam recall", pct(tp[a], n["spam-1"]), pct(tp[b], n["spam-1"]))
	row("FP easy ham", pct(fpe[a], n["easy-ham-1"]), pct(fpe[b], n["easy-ham-1"]))
	row("FP hard ham", pct(fph[a], n["hard-ham-1"]), pct(fph[b], n["hard-ham-1"]))
	row("FP all ham", pct(fpe[a] + fph[a], nham), pct(fpe[b] + fph[b], nham))
	if (got[a] < nmsg || got[b] < nmsg)
		row("no result (counted as ham)", nmsg - got[a], nmsg - got[b])
}
function agreement(    i, f, k, m, r, ours, theirs, x) {
	both = saonly = ouronly = lacked = vagree = 0
	for (i = 1; i <= nmsg; i++) {
		f = order[i]
		if (!(("rsa", f) in spam) || !(("rgm", f) in spam)) continue
		vagree += spam["rsa", f] == spam["rgm", f]
		delete ours; delete theirs
		k = split(rules["rgm", f], r, ","); for (m = 1; m <= k; m++) if (!excluded(r[m])) ours[r[m]] = 1
		k = split(rules["rsa", f], r, ",")
		for (m = 1; m <= k; m++) if (!excluded(r[m])) { if (r[m] in supported) theirs[r[m]] = 1; else lacked++ }
		for (x in theirs) if (x in ours) both++; else { saonly++; fn[x]++ }
		for (x in ours) if (!(x in theirs)) { ouronly++; fp[x]++ }
		compared++
	}
}
function top(arr,    x, best, bx, s, j) {
	s = ""
	for (j = 0; j < 5; j++) {
		best = 0
		for (x in arr) if (arr[x] > best) { best = arr[x]; bx = x }
		if (!best) break
		s = s (s == "" ? "" : ", ") bx " " best
		delete arr[bx]
	}
	return s == "" ? "none" : s
}
function yn(ok) { return ok ? "yes" : "NO" }
END {
	nham = n["easy-ham-1"] + n["hard-ham-1"]
	tally("rsa"); tally("rgm"); tally("bsa"); tally("bgm")
	agreement()
	agree = both + saonly + ouronly ? 100 * both / (both + saonly + ouronly) : 0
	printf "SpamAssassin %s vs gomilter %s on %s (%s)\n", sa_version, gm_version, truth, mode
	printf "messages: %d spam, %d easy ham, %d hard ham; no network; required_score 5.0\n\n", n["spam-1"], n["easy-ham-1"], n["hard-ham-1"]
	printf "  %-30s %-26s %s\n", "", "SpamAssassin", "gomilter"
	printf "Rules only (SpamAssassin: %s)\n", sa_rules_src
	block("rsa", "rgm")
	row("rule-hit agreement", sprintf("%.2f%%", agree), sprintf("(%d both, %d SA only, %d gomilter only)", both, saonly, ouronly))
	row("verdict agreement", pct(vagree, compared), "")
	row("SA hits on rules we lack", lacked, "(not in the agreement)")
	printf "  most missed:  %s\n", top(fn)
	printf "  most extra:   %s\n", top(fp)
	printf "With Bayes (5-fold cross-validation, held-out scoring, auto-learn off)\n"
	block("bsa", "bgm")
	row("spam at BAYES_95+", pct(b95["bsa"], n["spam-1"]), pct(b95["bgm"], n["spam-1"]))
	row("ham at BAYES_00", pct(b00["bsa"], nham), pct(b00["bgm"], nham))
	row("answered (any BAYES_*)", pct(bany["bsa"], got["bsa"]), pct(bany["bgm"], got["bgm"]))
	printf "Speed (Bayes on; %d messages; %s cores, load %s)\n", sa_n, cores, loadavg
	printf "  %-30s %-26s %s\n", "", "spamd (2 children)", "gomilter serve (milter)"
	sacpu = sa_n ? sa_cpu * 1000 / sa_n : 0
	row("CPU-s per 1000 messages", sprintf("%.1f", sacpu), sprintf("%.2f  (1/%.1f of spamd)", gm_cpu, gm_cpu > 0 ? sacpu / gm_cpu : 0))
	row("peak RSS", sprintf("%.0f MiB + %.0f MiB/child", sa_rssp / 1024, sa_rssc / 1024), sprintf("%.0f MiB", gm_rss / 1024))
	split(dbsize, db, " ")
	row("Bayes database on disk", sprintf("%.1f MiB", db[1] / 1024), sprintf("%.1f MiB", db[2] / 1024))
	row("p50 / p99, 4 clients", sprintf("%.1f / %.1f ms", sa_p50, sa_p99), sprintf("%.1f / %.1f ms", gm_p50_4, gm_p99_4))
	row(sprintf("p50 / p99, 1 client (%d msgs)", gm_n1), "-", sprintf("%.1f / %.1f ms", gm_p50_1, gm_p99_1))
	if (sa_rules_cpu != "") row("CPU-s/1000, rules only", sprintf("%.1f (spamd)", sa_rules_cpu), "")
	row("CPU-s/1000, spam check CLI", "-", sprintf("%.2f rules only, %.2f Bayes", gm_check_rules, gm_check_bayes))
	printf "Targets\n"
	row("rule-hit agreement >= 95%", "", yn(agree >= 95))
	row("rules only: recall >= SA", "", yn(tp["rgm"] >= tp["rsa"]))
	row("rules only: FP <= SA", "", yn(fpe["rgm"] + fph["rgm"] <= fpe["rsa"] + fph["rsa"]))
	row("Bayes: recall >= SA", "", yn(tp["bgm"] >= tp["bsa"]))
	row("Bayes: FP <= SA", "", yn(fpe["bgm"] + fph["bgm"] <= fpe["bsa"] + fph["bsa"]))
	row("CPU <= 1/40 of spamd", "", yn(gm_cpu > 0 && gm_cpu * 40 <= sacpu))
	row("p99 < 50 ms (1 client)", "", yn(gm_p99_1 < 50))
	printf "run: %d s wall\n", elapsed
}' "$@" "$W/supported.lst" "$W/scored.tsv" "$W/rules-sa.tsv" "$W/rules-gm.tsv" "$W/bayes-sa.tsv" "$W/bayes-gm.tsv"
