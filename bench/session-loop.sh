#!/bin/sh
# session-loop.sh PROG KIND [N]: N sessions (300) of one kind, each a fresh
# PROG process (smtpd or pop3d) with the session piped in, into a scratch
# spool; for timing two builds against each other with farm-bench:
#   farm-bench -n 12 --vs 'sh bench/session-loop.sh OLD/pop3d login' -- sh bench/session-loop.sh build/pop3d/pop3d login
# KIND: quit (the greeting, QUIT: the split, the drops and the exit) or, for
# pop3d, login (USER, PASS, STAT, UIDL, QUIT on a one-message mailbox) or
# dele (USER, PASS, DELE 2, QUIT on a two-message mailbox, written afresh
# before each session: the expunge that only cuts the file's tail).  As
# root the mailbox belongs to nobody (65534), as under inetd, in a sticky
# spool it may make its files in.
PROG=${1:?usage: session-loop.sh PROG quit|login|dele [N]}
KIND=${2:?usage: session-loop.sh PROG quit|login|dele [N]}
N=${3:-300}
S=$(mktemp -d "${TMPDIR:-/var/tmp}/session-loop.XXXXXX") || exit 1
trap 'rm -rf "$S"' EXIT INT TERM
chmod 755 "$S" && mkdir "$S/spool" && chmod 1777 "$S/spool" || exit 1
if [ "$(id -u)" = 0 ]; then ids=65534:65534; else ids=$(id -u):$(id -g); fi
echo "u0:{PLAIN}x:$ids" >"$S/users"
case $KIND in
quit)	printf 'QUIT\r\n' >"$S/session"; want='^(221|\+OK)' ;;
login)	printf 'From a@b Thu Jan  1 00:00:00 2026\nSubject: x\n\nhi\n\n' >"$S/spool/u0"
	[ "$(id -u)" = 0 ] && chown 65534:65534 "$S/spool/u0"
	chmod 600 "$S/spool/u0"
	printf 'USER u0\r\nPASS x\r\nSTAT\r\nUIDL\r\nQUIT\r\n' >"$S/session"
	want='^\+OK 1 ' ;;
dele)	printf 'From a@b Thu Jan  1 00:00:00 2026\nSubject: x\n\nhi\n\nFrom a@b Thu Jan  1 00:00:01 2026\nSubject: y\n\nho\n\n' >"$S/two"
	cp "$S/two" "$S/spool/u0"
	[ "$(id -u)" = 0 ] && chown 65534:65534 "$S/spool/u0"
	chmod 600 "$S/spool/u0"
	printf 'USER u0\r\nPASS x\r\nDELE 2\r\nQUIT\r\n' >"$S/session"
	want='^\+OK bye, 1 deleted, 1 kept' ;;
*)	echo "session-loop: KIND is quit, login or dele" >&2; exit 64 ;;
esac
i=0
while [ $i -lt "$N" ]; do
	# Writing over the mailbox keeps its owner and mode.
	[ "$KIND" = dele ] && cat "$S/two" >"$S/spool/u0"
	"$PROG" -h x -m "$S/spool" -p "$S/users" <"$S/session" >"$S/out" || exit 1
	i=$((i + 1))
done
grep -Eq "$want" "$S/out" || { echo "session-loop: the last session went wrong:" >&2; cat "$S/out" >&2; exit 1; }
