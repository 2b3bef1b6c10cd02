#!/bin/sh
# run.sh: run every benchmark bench/*.sh (but this one) and print its figures.
# Benchmarks measure; they never fail on a figure.  Output also lands in bench/out/.
mkdir -p bench/out
st=0
for b in bench/*.sh; do
	case $b in bench/run.sh|bench/deliver-loop.sh) continue ;; esac	# not benchmarks of their own
	echo "== $b"
	sh "$b" || { echo "benchmark $b failed"; st=1; }
done
exit $st
