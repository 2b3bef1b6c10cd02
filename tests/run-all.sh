#!/bin/sh
# run-all.sh: run every test of inetmail and print "N passed, N failed".
#   unit programs   $B/tests/test_*         (check library)
#   transcripts     tests/transcripts/*.in  (tests/run-transcripts.sh)
#   scripts         tests/scripts/*.sh, tests/scripts/*.py: exit 0 = pass,
#                   77 = skipped (needs root, say).  As root (CI) nothing may
#                   skip: a skipped script, or one that prints a line
#                   starting "skip:", fails.
# Environment for scripts: SMTPD, POP3D (binaries), B (build dir), TOP.
B=${B:-build}
TOP=$(pwd)
SMTPD=$TOP/$B/smtpd/smtpd
POP3D=$TOP/$B/pop3d/pop3d
export B TOP SMTPD POP3D
export CK_VERBOSITY=${CK_VERBOSITY:-normal}
# ASan: fail on leaks too; UBSan already aborts (-fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
pass=0 fail=0 skipped=0 failed=""
root=0; [ "$(id -u)" = 0 ] && root=1
OUT=$(mktemp "${TMPDIR:-/tmp}/run-all.XXXXXX")
trap 'rm -f "$OUT"' EXIT

result() {	# name status
	if [ "$2" = 0 ]; then pass=$((pass + 1)); echo "PASS: $1"
	else fail=$((fail + 1)); failed="$failed $1"; echo "FAIL: $1"; fi
}

for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	"$t"; result "unit/${t##*/}" $?
done

out=$(sh tests/run-transcripts.sh 2>&1); st=$?
printf '%s\n' "$out" | grep -v '^ok ' || true
tp=$(printf '%s\n' "$out" | grep -c '^ok ')
tf=$(printf '%s\n' "$out" | grep -c '^not ok ')
echo "transcripts: $tp passed, $tf failed"
pass=$((pass + tp)); fail=$((fail + tf))
[ "$st" = 0 ] || [ "$tf" != 0 ] || { fail=$((fail + 1)); failed="$failed transcripts"; }

for s in tests/scripts/*.sh tests/scripts/*.py; do
	[ -f "$s" ] || continue
	case $s in
	*.sh) timeout 600 sh "$s" >"$OUT" 2>&1 ;;
	*.py) timeout 600 python3 "$s" >"$OUT" 2>&1 ;;
	esac
	st=$?
	cat "$OUT"
	if [ $st = 77 ] && [ $root = 0 ]; then
		skipped=$((skipped + 1)); echo "SKIP: ${s#tests/} (needs root)"
		continue
	fi
	if [ $root = 1 ] && { [ $st = 77 ] || grep -q '^skip:' "$OUT"; }; then
		echo "${s#tests/}: skipped a part as root, where everything must run"
		st=1
	fi
	result "${s#tests/}" $st
done

[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skipped skipped"
[ "$fail" = 0 ]
