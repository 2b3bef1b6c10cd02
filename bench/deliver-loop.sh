#!/bin/sh
# deliver-loop.sh SMTPD [N]: N (200) deliveries of one 4 KiB message, each a
# fresh SMTPD process with the session piped in, into a scratch spool; for
# timing two builds against each other with farm-bench:
#   farm-bench -n 10 --vs 'sh bench/deliver-loop.sh OLD/smtpd' -- sh bench/deliver-loop.sh build/smtpd/smtpd
# As root the mailbox belongs to nobody (65534), as under inetd.
SMTPD=${1:?usage: deliver-loop.sh SMTPD [N]}
N=${2:-200}
S=$(mktemp -d "${TMPDIR:-/var/tmp}/deliver-loop.XXXXXX") || exit 1
trap 'rm -rf "$S"' EXIT INT TERM
mkdir "$S/spool" && chmod 2775 "$S/spool" || exit 1
if [ "$(id -u)" = 0 ]; then ids=65534:65534; else ids=$(id -u):$(id -g); fi
echo "u0:{PLAIN}x:$ids" >"$S/users"
{
	printf 'EHLO c.example\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<u0@x>\r\nDATA\r\nSubject: x\r\n\r\n'
	i=0
	while [ $i -lt 64 ]; do
		printf 'line %02d of the message xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n' $i
		i=$((i + 1))
	done
	printf '.\r\nQUIT\r\n'
} >"$S/session"
i=0
while [ $i -lt "$N" ]; do
	"$SMTPD" -h x -m "$S/spool" -p "$S/users" <"$S/session" >"$S/out" || exit 1
	i=$((i + 1))
done
grep -q '^250 2.0.0' "$S/out" || { echo "deliver-loop: no 250 in the last session" >&2; exit 1; }
