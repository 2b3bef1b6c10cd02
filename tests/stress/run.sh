#!/bin/sh
# run.sh: the fault and load suite (make stress): crashes at random instants,
# concurrent deliveries and POP3 sessions.  Prints "N passed, N failed".
B=${B:-build}
TOP=$(pwd)
SMTPD=$TOP/$B/smtpd/smtpd
POP3D=$TOP/$B/pop3d/pop3d
export B TOP SMTPD POP3D
pass=0 fail=0
for t in tests/stress/*.py tests/stress/*.sh; do
	[ -f "$t" ] || continue
	case $t in */run.sh|*/concurrency.py) [ "$t" = tests/stress/concurrency.py ] || continue ;; esac
	echo "== $t"
	case $t in
	*.py) timeout 1200 python3 "$t" ;;
	*.sh) timeout 1200 sh "$t" ;;
	esac
	if [ $? = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $t"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
