#!/bin/sh
# ledger.sh: the fuzzing ledger (tests/fuzz/ledger.tsv) summed per harness,
# as the table of docs/RELIABILITY.md ("Fuzzing that adds up"): the runs,
# their CPU time in all, their executions, the commits they ran on and the
# findings, and the CPU time since the last finding (the runs on code that
# has had every finding fixed).  A harness whose clean time, since its last
# finding, is under one CPU-hour is marked.
cd "$(dirname "$0")" || exit 1
awk -F '\t' '
NR == 1 { next }
{
	h = $3
	if (!(h in runs)) order[++n] = h
	runs[h]++; cpu[h] += $4; ex[h] += $5; bad[h] += $6
	# A finding restarts the clean count: the rows are in run order.
	clean[h] = $6 > 0 ? 0 : clean[h] + $4
	if (index(" " com[h] " ", " " $2 " ") == 0) com[h] = com[h] (com[h] == "" ? "" : " ") $2
}
END {
	print "| harness | runs | CPU-seconds | executions | commits | crashes and other findings | CPU-hours since the last finding |"
	print "|---|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		h = order[i]
		printf "| %s | %d | %d | %.0f | %s | %d | %.2f%s |\n", h, runs[h], cpu[h],
		    ex[h], com[h], bad[h], clean[h] / 3600,
		    clean[h] < 3600 ? " (short of 1)" : ""
	}
}' ledger.tsv
