#!/bin/sh
# bench/sessions.sh: sessions per second for a trivial session (connect, read
# the greeting, QUIT, read the reply, wait for the close), 2,000 sessions at
# concurrency 4 on 127.0.0.1, for smtpd and pop3d in -L mode, under
# systemd-socket-activate --inetd and under tcpserver, next to popa3d (a
# POP3 server of the same kind) under tcpserver when it is installed, all in
# the same run.  Measures; never fails on a figure.  As root it installs
# ucspi-tcp and popa3d when missing.  Figures also go to bench/out/sessions.txt.
#   N=... sessions per row (2000), C=... concurrency (4).
TOP=$(cd "$(dirname "$0")/.." && pwd)
SMTPD=${SMTPD:-$TOP/build/smtpd/smtpd}
POP3D=${POP3D:-$TOP/build/pop3d/pop3d}
N=${N:-2000}
C=${C:-4}
for b in "$SMTPD" "$POP3D"; do
	[ -x "$b" ] || { echo "no $b: run make first" >&2; exit 1; }
done
if [ "$(id -u)" = 0 ]; then
	need=""
	command -v tcpserver >/dev/null 2>&1 || need="$need ucspi-tcp"
	[ -x /usr/sbin/popa3d ] || need="$need popa3d"
	if [ -n "$need" ]; then
		echo "installing$need" >&2
		export DEBIAN_FRONTEND=noninteractive
		# shellcheck disable=SC2086
		apt-get install -y -q --no-install-recommends $need >/dev/null 2>&1 ||
		    { apt-get update -q >/dev/null 2>&1 &&
		      apt-get install -y -q --no-install-recommends $need >/dev/null 2>&1; } ||
		    echo "apt-get install$need failed: those rows are skipped" >&2
	fi
fi

S=$(mktemp -d "${TMPDIR:-/tmp}/sessions-bench.XXXXXX") || exit 1
chmod 755 "$S"
mkdir "$S/spool"
# As root every users-file entry needs its owner: nobody's.
if [ "$(id -u)" = 0 ]; then echo "u:{PLAIN}x:65534:65534"; else echo "u:{PLAIN}x"; fi >"$S/users"
PID=""
cleanup() {
	[ -z "$PID" ] || { kill -TERM "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; }
	rm -rf "$S"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$TOP/bench/out"

# Logs go to syslog, as in service (nothing is listening on /dev/log here,
# or it is the system's: the cost of the call is counted either way).
SARGS="-h bench.example -m $S/spool -p $S/users"

# measure LABEL PORT: run the client against the server listening on PORT.
measure() {
	python3 - "$1" "$2" "$N" "$C" <<'EOF'
import multiprocessing as mp, socket, sys, time

label, port, n, c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

def session(_):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    greet = f.readline()
    s.sendall(b"QUIT\r\n")
    bye = f.readline()
    rest = f.read()     # until the server closes
    s.close()
    return greet[:1] in (b"2", b"+") and bye[:1] in (b"2", b"+") and rest == b""

def counted(_):
    """A session that went wrong counts as an error and is shown once."""
    try:
        if session(None):
            return True
        err = "bad reply"
    except OSError as e:
        err = repr(e)
    if not getattr(counted, "shown", False):
        counted.shown = True
        print("  %s: first error: %s" % (label, err), file=sys.stderr, flush=True)
    return False

def worker(k):
    return sum(counted(None) for _ in range(k))

# Wait (5 s at most) for the first greeting.
t = time.time() + 5
while True:
    try:
        session(None)
        break
    except OSError:
        if time.time() > t:
            print("%-42s  no server" % label)
            sys.exit(1)
        time.sleep(0.05)
per = [n // c + (i < n % c) for i in range(c)]
t0 = time.perf_counter()
with mp.Pool(c) as p:
    good = sum(p.map(worker, per))
dt = time.perf_counter() - t0
print("%-42s %8.0f %10.3f %7d" % (label, n / dt, dt * 1000 / n * c, n - good),
      flush=True)
EOF
}
freeport() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# row LABEL COMMAND...: COMMAND listens on $PORT; measure it, then stop it.
row() {
	label=$1
	shift
	"$@" >/dev/null 2>&1 &
	PID=$!
	measure "$label" "$PORT"
	kill -TERM "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=""
}

{
echo "trivial sessions (greeting + QUIT), $N sessions at concurrency $C, 127.0.0.1"
echo "$(nproc) CPUs, $(uname -sr)"
printf '%-42s %8s %10s %7s\n' "server / launcher" "sess/s" "ms/session" "errors"
# -C 40: all sessions come from 127.0.0.1, and the default per-address
# limit of 10 counts a session until its process is reaped, which at these
# rates is a few more than the 4 open connections (a 421 now and then).
# The other launchers here have no per-address limit.
PORT=$(freeport)
row "smtpd -L -C 40" "$SMTPD" -L "127.0.0.1:$PORT" -C 40 $SARGS
PORT=$(freeport)
row "pop3d -L -C 40" "$POP3D" -L "127.0.0.1:$PORT" -C 40 $SARGS
if command -v systemd-socket-activate >/dev/null 2>&1; then
	PORT=$(freeport)
	row "smtpd systemd-socket-activate --inetd" \
		systemd-socket-activate -l "127.0.0.1:$PORT" --inetd -a "$SMTPD" $SARGS
	PORT=$(freeport)
	row "pop3d systemd-socket-activate --inetd" \
		systemd-socket-activate -l "127.0.0.1:$PORT" --inetd -a "$POP3D" $SARGS
else
	echo "(systemd-socket-activate not installed: skipped)"
fi
if command -v tcpserver >/dev/null 2>&1; then
	PORT=$(freeport)
	row "smtpd tcpserver" tcpserver -R -H -l 0 -c 40 127.0.0.1 "$PORT" "$SMTPD" $SARGS
	PORT=$(freeport)
	row "pop3d tcpserver" tcpserver -R -H -l 0 -c 40 127.0.0.1 "$PORT" "$POP3D" $SARGS
	if [ -x /usr/sbin/popa3d ] && [ "$(id -u)" = 0 ]; then
		PORT=$(freeport)
		row "popa3d $(dpkg-query -W -f '${Version}' popa3d 2>/dev/null) tcpserver" \
			tcpserver -R -H -l 0 -c 40 127.0.0.1 "$PORT" /usr/sbin/popa3d
	else
		echo "(popa3d not installed, or not root: skipped)"
	fi
else
	echo "(tcpserver not installed: skipped)"
fi
echo "ms/session: wall time per session as one of the $C clients sees it"
} | tee "$TOP/bench/out/sessions.txt"
