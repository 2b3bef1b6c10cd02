#!/bin/sh
# scan.sh: time the mbox scan (`mboxtool stat`) against `cat FILE >/dev/null`
# on the same warm file, and measure the scanner's peak RSS.
# Targets: scan within 1.25x of cat; RSS under 4 MiB + 64 B/message.
# The mailboxes are generated once and kept in $BENCH_DIR (default
# /tmp/inetmail-bench): a ~1 GiB one of 20,000 messages and a 40 MiB one of
# 10,000 small messages.  Figures go to stdout and bench/out/scan.txt.
B=${B:-build}
TOOL=$B/tools/mboxtool
DIR=${BENCH_DIR:-/tmp/inetmail-bench}
RUNS=${RUNS:-5}
[ -x "$TOOL" ] || { echo "scan.sh: $TOOL not built (make $TOOL)" >&2; exit 1; }
mkdir -p "$DIR" bench/out || exit 1

# gen NAME COUNT AVGSIZE: make DIR/NAME once; a half-written file never counts.
gen() {
	[ -s "$DIR/$1" ] && return 0
	echo "generating $DIR/$1 ($2 messages of ~$3 bytes)"
	python3 bench/genmbox.py "$DIR/$1.tmp" "$2" "$3" &&
	    mv "$DIR/$1.tmp" "$DIR/$1"
}
gen big.mbox 20000 53687 || exit 1
gen small.mbox 10000 4194 || exit 1

# Peak RSS comes from GNU time (Debian package "time"), a small C parent.  A
# child forked by Python would count Python's own pages in its ru_maxrss
# (Linux keeps the high-water mark across exec), so that is only the fallback.
if [ ! -x /usr/bin/time ] && [ "$(id -u)" = 0 ]; then
	echo "installing the time package (for peak RSS)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q time >/dev/null 2>&1
fi

# One Python process times every run: the wall clock around each child.
out=$DIR/scan.out
python3 - "$TOOL" "$RUNS" "$DIR/big.mbox" "$DIR/small.mbox" >"$out" <<'EOF'
import os, socket, statistics, subprocess, sys, time

tool, runs, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
MiB = 1 << 20
upper = False		# peak RSS measured with Python's pages included

def run(argv):
    """Wall seconds, ru_maxrss in KiB and stdout of one run of ARGV."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE if argv[0] == tool
                         else subprocess.DEVNULL)
    out = p.stdout.read() if p.stdout else b""
    _, status, ru = os.wait4(p.pid, 0)
    secs = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("%s failed (%d)" % (" ".join(argv), p.returncode))
    return secs, ru.ru_maxrss, out

print("scan benchmark  %s  %s  %s  median of %d, warm cache" % (
    time.strftime("%Y-%m-%d %H:%M"), socket.gethostname(),
    subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                   text=True).stdout.strip() or "?", runs))
print("%-10s %8s %6s %7s %7s %7s %6s %6s %6s %9s %9s" % (
    "file", "size", "msgs", "cat s", "scan s", "(self)", "ratio", "scan",
    "cat", "peak RSS", "RSS goal"))
for f in files:
    size = os.path.getsize(f)
    run(["cat", f])				# warm the page cache
    cat, scan, inner = [], [], []
    for _ in range(runs):			# interleaved: both see the same machine
        cat.append(run(["cat", f])[0])
        s, r, out = run([tool, "stat", f])
        scan.append(s)
        msgs, _, t = out.split()
        inner.append(float(t))
    c, s = statistics.median(cat), statistics.median(scan)
    msgs = int(msgs)
    if os.access("/usr/bin/time", os.X_OK):	# prints %M (KiB) last, on stderr
        p = subprocess.run(["/usr/bin/time", "-f", "%M", tool, "stat", f],
                           capture_output=True, text=True, check=True)
        peak = int(p.stderr.split()[-1]) / 1024
    else:
        peak = r / 1024
        upper = True
    goal = 4 + 64 * msgs / MiB
    print("%-10s %4.0f MiB %6d %7.3f %7.3f %7.3f %5.2fx %6.2f %6.2f %5.1f MiB %5.1f MiB %s" % (
        os.path.basename(f), size / MiB, msgs, c, s, statistics.median(inner),
        s / c, size / s / (1 << 30), size / c / (1 << 30), peak, goal,
        ", ".join(w for w, bad in (("slow", s > 1.25 * c), ("big", peak > goal))
                  if bad) or "ok"))
print("scan s: the whole `mboxtool stat` process; (self): its own timer around "
      "the scan; scan, cat: GiB/s.\ntargets: scan <= 1.25x cat; peak RSS "
      "<= 4 MiB + 64 bytes/message.")
if upper:
    print("peak RSS: no /usr/bin/time, so an upper bound (includes the pages "
          "of the Python parent the child was forked from)")
print()
EOF
st=$?
cat "$out"
[ "$st" = 0 ] && cat "$out" >>bench/out/scan.txt
exit $st
