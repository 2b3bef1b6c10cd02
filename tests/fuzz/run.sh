#!/bin/sh
# run.sh (make fuzz): build the libFuzzer harnesses of tests/fuzz into
# build/fuzz/ and run each for FUZZ_SECONDS (default 30) on a copy of its
# seed corpus tests/fuzz/corpus/NAME (so runs never grow the committed one),
# one after another.  Prints per harness the executions, the coverage and the
# result; exits 1 when any harness found a crash, a leak, a timeout or a
# broken oracle.  The crashing input is kept in build/fuzz/artifacts/NAME/.
#   FUZZ_SECONDS=N   seconds per harness
#   FUZZ_ONLY="a b"  only these harnesses (smtp pop3 priv mbox users aliases addr proxy)
#   FUZZ_JOBS=N      parallel compiles (default: the number of CPUs)
#   FUZZ_PAR=N       harnesses run at once (default 1)
#   FUZZ_CFLAGS=...  more compiler flags (a change rebuilds everything)
#   FUZZ_OUT=DIR     build and work directory (default build/fuzz)
#   FUZZ_KEEP=1      afterwards, merge what the run found into the committed
#                    corpus tests/fuzz/corpus/NAME, minimised (libFuzzer's
#                    -merge=1: the smallest set with the same coverage), and
#                    add a line per harness to tests/fuzz/ledger.tsv (date,
#                    commit, CPU seconds, executions, findings), so that
#                    long runs add up across sessions (make fuzz-long)
# Reproduce one input:  build/fuzz/fuzz_NAME FILE   (FUZZ_LOG=1 shows the log)
# Needs clang with libFuzzer (Debian: clang, libclang-rt-14-dev); installed
# with apt-get when missing and run as root.
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
SECONDS_EACH=${FUZZ_SECONDS:-30}
HARNESSES=${FUZZ_ONLY:-"smtp pop3 priv mbox users aliases addr proxy"}
JOBS=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
PAR=${FUZZ_PAR:-1}
OUT=${FUZZ_OUT:-build/fuzz}
# The code fuzzed: the commit the harnesses are built from, "-dirty" when
# the sources they are built from differ from it (the ledger says so; the
# corpora and the docs changing beside a run do not count).
CODE=$(git rev-parse --short=7 HEAD 2>/dev/null || echo '?')
git diff --quiet HEAD -- common smtpd pop3d 'tests/fuzz/*.[ch]' tests/fuzz/run.sh \
    2>/dev/null || CODE=$CODE-dirty
CC=${FUZZ_CC:-clang}

case $SECONDS_EACH in ''|*[!0-9]*) echo "FUZZ_SECONDS must be a number" >&2; exit 2 ;; esac

# -max_len: whole sessions get 64 KiB (a message over the 32 KiB size limit
# fits); the mbox harness pads its inputs across the scanner's 128 KiB window
# itself; parsers get a few lines.
max_len() {
	case $1 in
	smtp|pop3) echo 65536 ;;
	priv) echo 16384 ;;
	mbox) echo 16384 ;;
	users|aliases) echo 8192 ;;
	addr|proxy) echo 1024 ;;
	esac
}

# A working libFuzzer: a trivial harness must link and run.
probe() {
	d=$(mktemp -d) || return 1
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
	    'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
	    >"$d/p.c"
	"$CC" -fsanitize=fuzzer,address,undefined -o "$d/p" "$d/p.c" >/dev/null 2>&1 &&
	    "$d/p" -runs=1 >/dev/null 2>&1
	rc=$?
	rm -rf "$d"
	return $rc
}

if ! probe; then
	if [ "$(id -u)" != 0 ]; then
		echo "fuzz: clang with libFuzzer is needed (apt-get install clang libclang-rt-14-dev)" >&2
		exit 1
	fi
	echo "fuzz: installing clang and libclang-rt-14-dev" >&2
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get install -y -q clang libclang-rt-14-dev ||
	    { apt-get update -q && apt-get install -y -q clang libclang-rt-14-dev; }; } >/dev/null 2>&1
	if ! probe; then
		echo "fuzz: clang cannot build a libFuzzer program" >&2
		exit 1
	fi
fi

# The project's warnings, errors as in the main build.
WARN="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
-Wformat=2 -Wno-format-nonliteral"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_XOPEN_SOURCE=700 -g -O1 $WARN $SAN -iquote common -iquote common/store \
-iquote smtpd -iquote pop3d -iquote tests/fuzz ${FUZZ_CFLAGS:-}"

mkdir -p "$OUT/obj" || exit 1
# Objects built with other flags (or another compiler) are rebuilt.
if [ "$(cat "$OUT/obj/flags" 2>/dev/null)" != "$CC $CFLAGS" ]; then
	rm -f "$OUT"/obj/*.o
	echo "$CC $CFLAGS" >"$OUT/obj/flags"
fi

# Compile SRC to $OUT/obj when it or any header is newer than the object.
HEADERS=$(echo common/*.h common/store/*.h smtpd/*.h pop3d/*.h tests/fuzz/*.h)
obj() {
	o=$OUT/obj/$(echo "$1" | tr / _ | sed 's/\.c$/.o/')
	# shellcheck disable=SC2086
	if [ ! -f "$o" ] ||
	    [ -n "$(find "$1" $HEADERS tests/fuzz/run.sh -newer "$o")" ]; then
		# shellcheck disable=SC2086
		$CC $CFLAGS -fsanitize=fuzzer-no-link $2 -c -o "$o" "$1" || return 1
	fi
	echo "$o"
}

LIB_SRC=""
for s in common/*.c common/store/*.c smtpd/*.c pop3d/*.c tests/fuzz/fuzz_util.c; do
	case $s in */main.c) ;; *) LIB_SRC="$LIB_SRC $s" ;; esac
done
echo "fuzz: building into $OUT with $($CC --version | head -1)"
# Compile the shared objects JOBS at a time.
fail=0 n=0 pids=""
for s in $LIB_SRC; do
	obj "$s" "" >/dev/null &
	pids="$pids $!"
	n=$((n + 1))
	if [ $n -ge "$JOBS" ]; then
		for p in $pids; do wait "$p" || fail=1; done
		pids="" n=0
	fi
done
for p in $pids; do wait "$p" || fail=1; done
[ $fail = 0 ] || { echo "fuzz: build failed" >&2; exit 1; }
LIB_OBJ=$(for s in $LIB_SRC; do obj "$s" ""; done)

for h in $HARNESSES; do
	extra="" ldextra=""
	case $h in
	smtp) extra="-DUSERS_FILE=\"$TOP/tests/transcripts/users\""
	      ldextra="-Wl,--wrap=store_deliver" ;;
	priv) extra="-DUSERS_FILE=\"$TOP/tests/transcripts/users\"" ;;
	esac
	o=$(obj "tests/fuzz/fuzz_$h.c" "$extra") || { echo "fuzz: build of fuzz_$h failed" >&2; exit 1; }
	# shellcheck disable=SC2086
	$CC $SAN -fsanitize=fuzzer $ldextra -o "$OUT/fuzz_$h" "$o" $LIB_OBJ ||
	    { echo "fuzz: link of fuzz_$h failed" >&2; exit 1; }
done

# Run each harness on a copy of its corpus.  The harnesses make their
# scratch spools under $TMPDIR: one directory of ours, removed at the end
# even when a crash left a spool behind.
FUZZ_TMP=$(mktemp -d "${TMPDIR:-/tmp}/inetmail-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$FUZZ_TMP"' EXIT
trap 'exit 1' INT TERM
# run_one H: fuzz harness H for SECONDS_EACH; its summary line goes to
# $OUT/fuzz_H.result, and the exit status says whether it found anything.
run_one() {
	h=$1
	work=$OUT/work/$h art=$OUT/artifacts/$h/
	rm -rf "$work" "$art"
	mkdir -p "$work" "$art" || return 1
	[ -d "tests/fuzz/corpus/$h" ] && cp -p "tests/fuzz/corpus/$h"/* "$work"/ 2>/dev/null
	dict=""
	[ -f "tests/fuzz/$h.dict" ] && dict="-dict=tests/fuzz/$h.dict"
	echo "fuzz: fuzz_$h for ${SECONDS_EACH}s (corpus $(find "$work" -type f | wc -l) inputs)"
	log=$OUT/fuzz_$h.log
	# The CPU time the harness really had (user + system), for the ledger:
	# on a busy machine it is less than the wall time asked for.
	# shellcheck disable=SC2086
	TMPDIR=$FUZZ_TMP \
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=0 \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
	/usr/bin/time -f '%U %S' -o "$OUT/fuzz_$h.cpu" \
	"$OUT/fuzz_$h" -max_total_time="$SECONDS_EACH" -max_len="$(max_len "$h")" \
	    -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
	    -artifact_prefix="$art" $dict "$work" >"$log" 2>&1
	rc=$?
	# (time(1) puts "Command exited with non-zero status N" first when
	# the harness failed: the figures are on the last line.)
	cpu=$(tail -n 1 "$OUT/fuzz_$h.cpu" 2>/dev/null | awk '{ printf "%d", $1 + $2 }')
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.*cov: \([0-9]*\).*ft: \([0-9]*\).*corp: \([0-9]*\).*/\1 edges, \2 features, corpus \3/p')
	if [ $rc = 0 ]; then
		res=ok
	else
		res="FAILED (exit $rc)"
		grep -m1 -E 'ERROR: |FUZZ ORACLE|runtime error|==ERROR|SUMMARY' "$log" | sed 's/^/  /'
		find "$art" -type f | sed 's|^|  input: |'
		echo "  log: $log"
	fi
	printf '%-8s %10s execs %7s/s  cov %s  cpu %ss  %s\n' "$h" "${execs:-?}" \
	    "${rate:-?}" "${cov:-?}" "${cpu:-?}" "$res" | tee "$OUT/fuzz_$h.result"
	[ "${FUZZ_KEEP:-0}" = 1 ] && keep "$h" "$work" "$rc" "${cpu:-0}" "${execs:-0}"
	[ $rc = 0 ]
}

# keep H WORK RC CPU EXECS: merge WORK into the committed corpus of H,
# minimised, and write the run into the ledger.
keep() {
	h=$1 new=$OUT/merged/$1
	rm -rf "$new"
	mkdir -p "$new" "tests/fuzz/corpus/$h" || return 1
	# shellcheck disable=SC2086
	if TMPDIR=$FUZZ_TMP ASAN_OPTIONS=detect_leaks=0 "$OUT/fuzz_$h" -merge=1 \
	    -max_len="$(max_len "$h")" -rss_limit_mb=2048 -timeout=20 \
	    "$new" "tests/fuzz/corpus/$h" "$2" >"$OUT/fuzz_$h.merge.log" 2>&1 &&
	    [ -n "$(ls "$new")" ]; then
		rm -f "tests/fuzz/corpus/$h"/*
		cp -p "$new"/* "tests/fuzz/corpus/$h"/
	else
		echo "fuzz: merge of $h failed, corpus unchanged (log $OUT/fuzz_$h.merge.log)"
	fi
	[ -f tests/fuzz/ledger.tsv ] ||
	    printf 'date\tcommit\tharness\tcpu_s\texecs\tfindings\n' >tests/fuzz/ledger.tsv
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%Y-%m-%d)" \
	    "$CODE" "$h" "$4" "$5" \
	    "$([ "$3" = 0 ] && echo 0 || echo 1)" >>tests/fuzz/ledger.tsv
}

# FUZZ_PAR harnesses at a time (make fuzz-long: one per CPU).
st=0 n=0 pids=""
for h in $HARNESSES; do
	rm -f "$OUT/fuzz_$h.result"
	run_one "$h" &
	pids="$pids $!"
	n=$((n + 1))
	if [ $n -ge "$PAR" ]; then
		for p in $pids; do wait "$p" || st=1; done
		pids="" n=0
	fi
done
for p in $pids; do wait "$p" || st=1; done
printf '\nfuzz summary (%ss each):\n' "$SECONDS_EACH"
for h in $HARNESSES; do
	cat "$OUT/fuzz_$h.result" 2>/dev/null || { echo "$h: no result"; st=1; }
done
exit $st
