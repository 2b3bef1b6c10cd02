#!/bin/sh
# bench/peers.sh: inetmail next to its peers, in the same run, on
# the same machine, taking turns; prints a table with ratios.  Measures; never
# fails on a figure (only when a step itself breaks).  Figures also go to
# bench/out/peers.txt.  The driver is bench/peers.py (Python 3 stdlib only).
#
#   sh bench/peers.sh                 inetmail's own figures, with the floor,
#                                     the sink and cat: no peers, no installs
#   BENCH_PEERS=1 sh bench/peers.sh   as root: installs Postfix, Dovecot and
#                                     popa3d from Debian and measures them too
#   N=... messages and sessions per run (2000), ROUNDS=... rounds (5),
#   ONLY=1,4,... only those workloads (numbered as below)
#   SMTPD=..., POP3D=... the binaries (default build/smtpd/smtpd, build/pop3d/pop3d)
#
# Workloads (medians over ROUNDS alternating rounds after a warm-up):
#  1. N 4 KiB messages, one per SMTP connection, 4 mailboxes, concurrency 1
#     and 4: inetmail smtpd (under the launcher, and as smtpd -L, its own
#     listener), Postfix (time until every message is in its
#     mbox file: its delivered rate), the floor (fork+exec of a static
#     program that appends the message with one write+fsync), the sink;
#  2. login+STAT on ~979 MiB / 20,000 messages and ~39.5 MiB / 10,000:
#     inetmail pop3d, Dovecot (with its index, after the first login built
#     it), popa3d, the sink, and cat FILE >/dev/null (warm cache);
#  3. pop3d peak RSS on the 20,000-message mailbox;
#  4. RETR of all 10,000 messages, pipelined 32 at a time and one by one;
#  5. DELE of all 10,000 + QUIT, a fresh copy each round;
#  6. trivial sessions (greeting, QUIT, close) at concurrency 4.
# inetmail, popa3d and the floor run one process per connection under
# systemd-socket-activate --inetd (and tcpserver in 6); Postfix and Dovecot
# run as their own daemons on private configurations in a scratch folder,
# on 127.0.0.1 ports, and are stopped at the end.  The sink is a pre-forked
# C server with canned replies that stores nothing: how fast the client goes.
# Where there is no syslog daemon (/dev/log missing), a sink listens on
# /dev/log for the run, as journald would on a real Debian box.
# The mailboxes are generated once and kept in $BENCH_DIR (/tmp/inetmail-bench);
# everything else lives in a scratch folder under ${TMPDIR:-/var/tmp} (a disk,
# so fsync costs what it costs), removed afterwards.
# A full BENCH_PEERS=1 run takes about 10 minutes (plus the installs once).
TOP=$(cd "$(dirname "$0")/.." && pwd)
SMTPD=${SMTPD:-$TOP/build/smtpd/smtpd}
POP3D=${POP3D:-$TOP/build/pop3d/pop3d}
N=${N:-2000}
ROUNDS=${ROUNDS:-5}
ONLY=${ONLY:-1,2,3,4,5,6}
DIR=${BENCH_DIR:-/tmp/inetmail-bench}
PATH=$PATH:/usr/sbin:/sbin	# postfix, dovecot
export PATH
for b in "$SMTPD" "$POP3D"; do
	[ -x "$b" ] || { echo "no $b: run make first" >&2; exit 1; }
done
command -v python3 >/dev/null 2>&1 || { echo "peers.sh: no python3" >&2; exit 1; }

S=$(mktemp -d "${TMPDIR:-/var/tmp}/peers-bench.XXXXXX") || exit 1
chmod 755 "$S"
POLICY=""
DEVLOG=""
cleanup() {
	# peers.py stops what it started; this is for when it was killed
	[ -f "$S/pf/etc/main.cf" ] && postfix -c "$S/pf/etc" stop >/dev/null 2>&1
	[ -f "$S/dv/dovecot.conf" ] && dovecot -c "$S/dv/dovecot.conf" stop >/dev/null 2>&1
	[ -n "$POLICY" ] && rm -f "$POLICY"
	if [ -n "$DEVLOG" ]; then
		kill "$DEVLOG" 2>/dev/null
		rm -f /dev/log
	fi
	rm -rf "$S"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$TOP/bench/out" "$DIR" || exit 1

PEERS=0
POPA3D=""
DOVECOT_LIBEXEC=""
VERSIONS=""
UNPACKED=""
if [ "${BENCH_PEERS:-0}" = 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "peers.sh: BENCH_PEERS=1 needs root (it installs packages): inetmail's figures only" >&2
	else
		PEERS=1
	fi
fi

# apt PACKAGE...: install from Debian, quietly; update the lists once if
# the first try fails.  The log is shown when it still fails.
apt() {
	export DEBIAN_FRONTEND=noninteractive
	set -- -o DPkg::Lock::Timeout=600 -y -q --no-install-recommends install "$@"
	apt-get "$@" >>"$S/apt.log" 2>&1 ||
	    { apt-get -q update >>"$S/apt.log" 2>&1 && apt-get "$@" >>"$S/apt.log" 2>&1; } ||
	    { tail -5 "$S/apt.log" >&2; return 1; }
}
# unpack PACKAGE: its .deb from Debian, unpacked (not installed) into
# $S/deb/PACKAGE: for a package that conflicts with one already installed.
unpack() {
	mkdir -p "$S/deb" && chmod 755 "$S/deb" &&
	    (cd "$S/deb" && apt-get download "$1" >>"$S/apt.log" 2>&1) &&
	    dpkg-deb -x "$S/deb/$1"_*.deb "$S/deb/$1" ||
	    { echo "peers.sh: could not fetch $1" >&2; tail -3 "$S/apt.log" >&2; return 1; }
}
version() {
	dpkg-query -W -f '${Version}' "$1" 2>/dev/null | sed 's/^[0-9]*://; s/[-+].*//'
}

if [ "$PEERS" = 1 ]; then
	echo "peers.sh: installing the peers (Debian packages) where missing" >&2
	# Packages do not start their own services during this install (that
	# is what policy-rc.d is for): one is put there only if there is none,
	# and taken away afterwards.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		POLICY=/usr/sbin/policy-rc.d
		printf '#!/bin/sh\n# bench/peers.sh, for the time of its installs\nexit 101\n' >"$POLICY"
		chmod 755 "$POLICY"
	fi
	# Postfix unconfigured ("No configuration"): the system's instance
	# stays off; ours runs on its own main.cf.
	if [ ! -x /usr/sbin/postfix ]; then
		echo "postfix postfix/main_mailer_type select No configuration" |
		    debconf-set-selections
		apt postfix
	fi
	[ -x /usr/sbin/dovecot ] || apt dovecot-core
	command -v tcpserver >/dev/null 2>&1 || apt ucspi-tcp
	# dovecot-pop3d and popa3d conflict (both are a pop3-server): the one
	# that is installed is used, popa3d is installed when neither is (as
	# bench/sessions.sh does), and the other one is unpacked into $S.
	if [ -x /usr/lib/dovecot/pop3 ] && [ -x /usr/lib/dovecot/pop3-login ]; then
		DOVECOT_LIBEXEC=/usr/lib/dovecot
		v=$(version dovecot-pop3d)
		if [ -x /usr/sbin/popa3d ]; then
			POPA3D=/usr/sbin/popa3d
		elif unpack popa3d; then
			POPA3D=$S/deb/popa3d/usr/sbin/popa3d
			UNPACKED=popa3d
		fi
		p=$(version popa3d)
		[ -n "$p" ] || p=$(ls "$S/deb" 2>/dev/null | sed -n 's/^popa3d_\([0-9.]*\).*/\1/p')
	else
		[ -x /usr/sbin/popa3d ] || apt popa3d
		[ -x /usr/sbin/popa3d ] && POPA3D=/usr/sbin/popa3d
		p=$(version popa3d)
		if unpack dovecot-pop3d; then
			DOVECOT_LIBEXEC=$S/deb/dovecot-pop3d/usr/lib/dovecot
			UNPACKED=dovecot-pop3d
		fi
		v=$(ls "$S/deb" 2>/dev/null | sed -n 's/^dovecot-pop3d_[0-9]*%3a\([0-9.]*\).*/\1/p')
	fi
	[ -n "$POLICY" ] && rm -f "$POLICY"
	POLICY=""
	VERSIONS="postfix=$(version postfix) dovecot=$v popa3d=$p"
fi

# The floor and the sink, static, with the system's cc.
cc -static -O2 -o "$S/peers-srv" "$TOP/bench/peers-srv.c" ||
    { echo "peers.sh: cannot build bench/peers-srv.c statically" >&2; exit 1; }

# A real Debian box has a syslog daemon (journald) on /dev/log; every server
# here logs to it.  Where there is none (a container), a sink takes its
# place for the run, so no server pays a failed connect for every line.
DEVLOG=""
if [ ! -e /dev/log ] && [ "$(id -u)" = 0 ]; then
	"$S/peers-srv" devlog /dev/log &
	DEVLOG=$!
	for i in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
	echo "peers.sh: no syslog daemon here: a sink listens on /dev/log for the run" >&2
fi

# gen NAME COUNT AVGSIZE: make DIR/NAME once; a half-written file never counts.
gen() {
	[ -s "$DIR/$1" ] && return 0
	echo "peers.sh: generating $DIR/$1 ($2 messages)" >&2
	python3 "$TOP/bench/genmbox.py" "$DIR/$1.tmp" "$2" "$3" &&
	    mv "$DIR/$1.tmp" "$DIR/$1"
}
gen peers-big.mbox 20000 51370 || exit 1	# ~979 MiB
gen peers-mid.mbox 10000 4121 || exit 1		# ~39.5 MiB

export SMTPD POP3D SRV="$S/peers-srv" S N ROUNDS ONLY PEERS POPA3D DOVECOT_LIBEXEC \
    VERSIONS UNPACKED BIG="$DIR/peers-big.mbox" MID="$DIR/peers-mid.mbox"
{ python3 "$TOP/bench/peers.py"; echo $? >"$S/rc"; } | tee "$TOP/bench/out/peers.txt"
# the ends of the servers' logs, to look into a row afterwards
mkdir -p "$TOP/bench/out/peers-logs"
for f in servers.log dv/dovecot.log pf/maillog apt.log; do
	[ -f "$S/$f" ] && tail -n 300 "$S/$f" >"$TOP/bench/out/peers-logs/${f##*/}"
done
exit "$(cat "$S/rc" 2>/dev/null || echo 1)"
