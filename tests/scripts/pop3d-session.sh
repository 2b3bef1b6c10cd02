#!/bin/sh
# pop3d-session.sh: what transcripts cannot show, because their input is a
# file read to its end at once:
#   - the idle timeout (-t) ends a session without deleting anything, and
#     so does a client that drips a command a byte at a time;
#   - without -l stderr nothing reaches fd 2 (under inetd it is the client),
#     also not for a bad option or a broken users file;
#   - a client that vanishes mid-RETR (EPIPE) does not kill or hang pop3d
#     and deletes nothing;
#   - -u without -p is refused at start-up (EX_USAGE; the transcript runner
#     always passes -p).
# Env: POP3D (binary).  Exit 0 when all pass.
POP3D=${POP3D:-$(pwd)/build/pop3d/pop3d}
T=$(mktemp -d "${TMPDIR:-/tmp}/pop3d-session.XXXXXX")
trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "ok $1"; }
no() { echo "not ok $1"; fail=1; }

if [ "$(id -u)" = 0 ]; then U=65534 G=65534; else U=$(id -u) G=$(id -g); fi
chmod 755 "$T"
mkdir "$T/spool" && chgrp "$G" "$T/spool" && chmod 2775 "$T/spool"
printf 'alice:{PLAIN}alicepw:%s:%s\n' "$U" "$G" >"$T/users"
box() {
	{
		printf 'From a@example.com Mon Jan  1 10:00:00 2024\nSubject: one\n\n'
		i=0
		while [ $i -lt 2000 ]; do
			echo "line $i of a message long enough to fill a pipe buffer"
			i=$((i + 1))
		done
		printf '\nFrom b@example.com Mon Jan  1 10:00:01 2024\nSubject: two\n\nx\n\n'
	} >"$T/spool/alice"
	chown "$U:$G" "$T/spool/alice" && chmod 600 "$T/spool/alice"
	cp -p "$T/spool/alice" "$T/orig"
}
run() {	# stdin: session; args: extra options
	"$POP3D" -h mail.example.org -m "$T/spool" -p "$T/users" "$@"
}

# Idle timeout: DELE, then silence past -t 1: no UPDATE (RFC 1939 3).
box
start=$(date +%s)
{ printf 'USER alice\r\nPASS alicepw\r\nDELE 1\r\n'; sleep 4; } |
    run -t 1 -l stderr >"$T/out" 2>"$T/log"
took=$(($(date +%s) - start))
grep -q '^-ERR idle timeout' "$T/out" && ok "idle timeout answered" ||
    no "idle timeout answered: $(cat "$T/out")"
[ "$took" -le 6 ] && ok "idle timeout ends the session" || no "took ${took}s"
cmp -s "$T/spool/alice" "$T/orig" && ok "timeout deletes nothing" ||
    no "timeout deletes nothing"
grep -q 'end=timeout' "$T/log" && ok "timeout logged" || no "timeout logged"

# The idle timeout in the middle of AUTH: answered and logged the same way.
{ printf 'AUTH PLAIN\r\n'; sleep 3; } |
    run -t 1 -l stderr >"$T/out" 2>"$T/log"
printf '+OK mail.example.org POP3 ready\r\n+ \r\n-ERR idle timeout, closing connection\r\n' >"$T/want"
cmp -s "$T/out" "$T/want" && ok "timeout in AUTH answered" ||
    no "timeout in AUTH answered: $(cat "$T/out")"
grep -q 'disconnect end=timeout' "$T/log" && ok "timeout in AUTH logged" ||
    no "timeout in AUTH logged: $(cat "$T/log")"

# Slow drip: a byte a second, each well within -t 2, but the line is not
# complete within 2 s of its first byte: cut off like an idle client.
box
start=$(date +%s)
{
	printf 'USER alice\r\nPASS alicepw\r\nDELE 1\r\n'
	i=0
	while [ $i -lt 8 ]; do printf N; sleep 1; i=$((i + 1)); done
	printf '\r\nQUIT\r\n'
} | run -t 2 -l stderr >"$T/out" 2>"$T/log"
took=$(($(date +%s) - start))
grep -q '^-ERR idle timeout' "$T/out" && ok "slow drip cut off" ||
    no "slow drip cut off: $(cat "$T/out")"
[ "$took" -le 6 ] && ok "slow drip: within -t of the first byte" ||
    no "slow drip took ${took}s"
cmp -s "$T/spool/alice" "$T/orig" && ok "slow drip deletes nothing" ||
    no "slow drip deletes nothing"

# fd 2 stays silent without -l stderr: sessions, bad users file.  A bad
# option is said on stderr (a contract) unless fd 2 is a socket:
# under inetd it is the client.
printf 'USER alice\r\nPASS wrong\r\nQUIT\r\n' | run -l syslog >"$T/out" 2>"$T/err"
[ ! -s "$T/err" ] && ok "fd 2 silent in a session" || no "fd 2: $(cat "$T/err")"
printf 'QUIT\r\n' | run -Z >"$T/out" 2>"$T/err"
st=$?
grep -q '^pop3d: unknown option -Z$' "$T/err" && grep -q '^usage: pop3d ' "$T/err" &&
    ok "bad option: named on stderr, with the usage" || no "bad option stderr: $(cat "$T/err")"
[ $st = 64 ] && ok "bad option exits EX_USAGE" || no "bad option exit $st"
grep -q '^-ERR ' "$T/out" && ok "bad option: -ERR to the client" || no "bad option output"
if python3 - "$POP3D" <<'EOF'
import socket, subprocess, sys
a, b = socket.socketpair()
p = subprocess.run([sys.argv[1], "-Z"], stdin=a.fileno(), stdout=a.fileno(),
                   stderr=a.fileno(), timeout=10)
a.close()
b.settimeout(5)
got = b""
while True:
    k = b.recv(4096)
    if not k:
        break
    got += k
sys.exit(0 if p.returncode == 64 and got == b"-ERR [SYS/TEMP] service unavailable\r\n" else 1)
EOF
then ok "bad option: nothing on fd 2 when it is the client's socket"
else no "bad option on a socket: more than the -ERR"; fi
# -u without -p: the system accounts' passwords are unreadable after the
# drop, so no login could ever work; refused at start-up.
printf 'QUIT\r\n' | "$POP3D" -m "$T/spool" -u nobody -l stderr >"$T/out" 2>"$T/log"
st=$?
[ $st = 64 ] && ok "-u without -p exits EX_USAGE" || no "-u without -p exit $st"
grep -q '^-ERR ' "$T/out" && ok "-u without -p: -ERR to the client" ||
    no "-u without -p output: $(cat "$T/out")"
grep -q 'startup failed: -u needs -p' "$T/log" && ok "-u without -p logged" ||
    no "-u without -p log: $(cat "$T/log")"

printf 'broken line\n' >"$T/badusers"
printf 'QUIT\r\n' | "$POP3D" -m "$T/spool" -p "$T/badusers" >"$T/out" 2>"$T/err"
st=$?
[ ! -s "$T/err" ] && ok "fd 2 silent on a bad users file" || no "fd 2: $(cat "$T/err")"
[ $st = 78 ] && ok "bad users file exits EX_CONFIG" || no "bad users exit $st"

# A client that reads the greeting and goes away during a long RETR: the
# server sees EPIPE (SIGPIPE is ignored), ends, and deletes nothing.
box
python3 - "$POP3D" "$T" <<'EOF'
import os, socket, subprocess, sys, time
pop3d, t = sys.argv[1], sys.argv[2]
a, b = socket.socketpair()
b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
p = subprocess.Popen([pop3d, "-h", "x", "-m", t + "/spool", "-p", t + "/users",
                      "-l", "stderr"], stdin=a.fileno(), stdout=a.fileno(),
                     stderr=open(t + "/log2", "wb"))
a.close()
b.sendall(b"USER alice\r\nPASS alicepw\r\nDELE 2\r\nRETR 1\r\nRETR 1\r\nRETR 1\r\nQUIT\r\n")
b.recv(100)
b.close()
try:
    rc = p.wait(timeout=10)
except subprocess.TimeoutExpired:
    p.kill()
    rc = "hang"
print("rc", rc)
sys.exit(0 if rc in (0, 74) else 1)
EOF
[ $? = 0 ] && ok "client gone mid-RETR: pop3d ends cleanly" || no "client gone mid-RETR"
cmp -s "$T/spool/alice" "$T/orig" && ok "client gone: nothing deleted" ||
    no "client gone: nothing deleted"
! grep -q 'Sanitizer\|runtime error' "$T/log" "$T/log2" && ok "no sanitizer report" ||
    no "sanitizer: $(grep -h 'Sanitizer\|runtime error' "$T/log" "$T/log2" | head -3)"
exit $fail
