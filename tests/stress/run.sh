#!/bin/sh
# run.sh: the fault and load suite (make stress): every tests/stress/*.py:
# crashes at random instants, concurrent deliveries and POP3 sessions,
# hostile clients, full disks, privileges and planted files.  Prints "N passed, N failed".
B=${B:-build}
TOP=$(pwd)
SMTPD=$TOP/$B/smtpd/smtpd
POP3D=$TOP/$B/pop3d/pop3d
export B TOP SMTPD POP3D
pass=0 fail=0
for t in tests/stress/*.py; do
	echo "== $t"
	timeout 1200 python3 "$t"
	if [ $? = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $t"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
