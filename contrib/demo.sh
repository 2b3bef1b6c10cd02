#!/bin/sh
# demo.sh: run smtpd and pop3d on loopback, with a scratch spool and one
# user (demo, password demo), logs on stderr, until Ctrl-C.  `make demo`
# builds first and then runs this; it builds nothing.
#   SMTP_PORT (2525), POP3_PORT (1100), SMTPD, POP3D (binaries): override.
# As root the mailbox belongs to nobody: pop3d never does mailbox work as root.
# When tlswrapper is installed (and we are root, which it needs for its
# jail), each connection goes through it, as in contrib/tlswrapper/, with a
# throwaway self-signed certificate: STARTTLS and STLS are offered.  Else
# the servers listen by themselves (-L), in plain text.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
SMTPD=${SMTPD:-$TOP/build/smtpd/smtpd}
POP3D=${POP3D:-$TOP/build/pop3d/pop3d}
SMTP_PORT=${SMTP_PORT:-2525}
POP3_PORT=${POP3_PORT:-1100}
for b in "$SMTPD" "$POP3D"; do
	[ -x "$b" ] || { echo "demo: $b missing: run 'make demo'" >&2; exit 1; }
done

if [ "$(id -u)" = 0 ]; then
	uid=$(id -u nobody) gid=$(id -g nobody) ||
	    { echo "demo: running as root needs a 'nobody' account" >&2; exit 1; }
else
	uid=$(id -u) gid=$(id -g)
fi

D=$(mktemp -d "${TMPDIR:-/tmp}/inetmail-demo.XXXXXX")
spid="" ppid=""
# stop STATUS: Ctrl-C ends the demo normally (0); a failure keeps its status,
# so `make demo` fails when the demo could not run.
stop() {
	st=$1
	trap - INT TERM EXIT
	# SIGTERM: the listeners stop accepting and wait for open sessions.
	# (Ctrl-C has already sent them SIGINT, which does the same.)
	# shellcheck disable=SC2086
	[ -z "$spid$ppid" ] || kill -TERM $spid $ppid 2>/dev/null || true
	wait || true
	rm -rf "$D"
	echo "demo: stopped, $D removed" >&2
	exit "$st"
}
trap 'stop 0' INT TERM
trap 'stop $?' EXIT

# The spool: its group may make dotlocks (pop3d keeps that group after it
# drops to the mailbox owner); smtpd creates the mailbox for uid:gid.
chmod 755 "$D"
mkdir "$D/spool"
chgrp "$gid" "$D/spool"
chmod 3775 "$D/spool"
printf 'demo:{PLAIN}demo:%s:%s\n' "$uid" "$gid" >"$D/users"
printf 'Subject: hello from the inetmail demo\r\n\r\nIt works.\r\n' >"$D/hello.eml"

common="-h localhost -m $D/spool -p $D/users -l stderr -t 120"
# TLS: tlswrapper in front (it needs root for its jail), started for each
# connection by systemd-socket-activate, with a throwaway certificate for
# 127.0.0.1.
tls=""
if [ "$(id -u)" = 0 ] && command -v tlswrapper >/dev/null 2>&1 &&
    command -v systemd-socket-activate >/dev/null 2>&1 &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 2 -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$D/key.pem" -out "$D/cert.pem" >/dev/null 2>&1; then
	cat "$D/key.pem" "$D/cert.pem" >"$D/tls.pem"
	chmod 600 "$D/tls.pem"
	tls="tlswrapper -q -n -t 150 -f $D/tls.pem"
fi
# shellcheck disable=SC2086
if [ -n "$tls" ]; then
	systemd-socket-activate -l "127.0.0.1:$SMTP_PORT" --inetd -a \
	    $tls "$SMTPD" -d localhost $common &
	spid=$!
	systemd-socket-activate -l "127.0.0.1:$POP3_PORT" --inetd -a \
	    $tls "$POP3D" $common &
	ppid=$!
else
	"$SMTPD" -L "127.0.0.1:$SMTP_PORT" -d localhost $common &
	spid=$!
	"$POP3D" -L "127.0.0.1:$POP3_PORT" $common &
	ppid=$!
fi
sleep 0.3
for p in $spid $ppid; do
	kill -0 "$p" 2>/dev/null || {
		echo "demo: a server did not start: is port $SMTP_PORT or $POP3_PORT" \
		    "in use?  Try: make demo SMTP_PORT=2526 POP3_PORT=1101" >&2
		exit 69	# EX_UNAVAILABLE
	}
done

cat >&2 <<EOF

inetmail demo: smtpd on 127.0.0.1:$SMTP_PORT, pop3d on 127.0.0.1:$POP3_PORT
user demo, password demo, mailbox $D/spool/demo

send a mail:
  curl smtp://127.0.0.1:$SMTP_PORT --mail-from you@example.org --mail-rcpt demo@localhost -T $D/hello.eml
fetch it:
  curl pop3://demo:demo@127.0.0.1:$POP3_PORT/1
EOF
if [ -n "$tls" ]; then
	cat >&2 <<EOF

the same over STARTTLS and STLS (tlswrapper in front, a throwaway certificate):
  curl --ssl-reqd --cacert $D/cert.pem smtp://127.0.0.1:$SMTP_PORT --mail-from you@example.org --mail-rcpt demo@localhost -T $D/hello.eml
  curl --ssl-reqd --cacert $D/cert.pem pop3://demo:demo@127.0.0.1:$POP3_PORT/1
EOF
else
	echo "(no STARTTLS: it needs root, tlswrapper and systemd-socket-activate)" >&2
fi
cat >&2 <<EOF

Ctrl-C stops both and removes $D.

EOF
wait
