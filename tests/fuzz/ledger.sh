#!/bin/sh
# ledger.sh: the fuzzing ledger (tests/fuzz/ledger.tsv) summed per harness,
# as the table of docs/RELIABILITY.md ("Fuzzing that adds up"): the runs,
# their CPU time in all, their executions, the commits they ran on and the
# findings.  A harness under one CPU-hour is marked.
cd "$(dirname "$0")" || exit 1
awk -F '\t' '
NR == 1 { next }
{
	h = $3
	if (!(h in runs)) order[++n] = h
	runs[h]++; cpu[h] += $4; ex[h] += $5; bad[h] += $6
	if (index(" " com[h] " ", " " $2 " ") == 0) com[h] = com[h] (com[h] == "" ? "" : " ") $2
}
END {
	print "| harness | runs | CPU-seconds | CPU-hours | executions | commits | crashes and other findings |"
	print "|---|---|---|---|---|---|---|"
	for (i = 1; i <= n; i++) {
		h = order[i]
		printf "| %s | %d | %d | %.2f%s | %.0f | %s | %d |\n", h, runs[h], cpu[h],
		    cpu[h] / 3600, cpu[h] < 3600 ? " (short of 1)" : "", ex[h], com[h], bad[h]
	}
}' ledger.tsv
