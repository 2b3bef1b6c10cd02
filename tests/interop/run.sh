#!/bin/sh
# run.sh (make interop): smtpd and pop3d under their real launchers, driven by
# real mail clients, on loopback ports only.
#
#  launchers  -L; systemd-socket-activate --inetd (Accept=yes); openbsd-inetd
#             and xinetd, each in the foreground on a private config; tcpserver;
#             TLS: tlswrapper (STARTTLS, STLS, 465, 995) under inetd, systemd
#             and tcpserver; stunnel (465, 995).  Their configs are made from the shipped
#             contrib/ files by changing only paths, ports and test options,
#             so those files are what is tested.
#  clients    tests/interop/clients.py: smtplib, poplib, curl, swaks, fetchmail,
#             mpop, openssl s_client; every message compared byte for byte; mutt and mailutils
#             on the same spool (readers.sh).
#  also       make install (PREFIX, DESTDIR), a jail from contrib/mkjail whose
#             session processes are not root, the fail2ban filter against the
#             servers' own log lines.
#
# As root it installs what it lacks with apt-get; otherwise it names the
# packages and stops.  Nothing outside a scratch folder is changed, and
# everything it started is stopped on exit.  Ends with "N passed, N failed".
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$TOP/tests/interop
T=20			# seconds: the longest any single wait may take
cd "$TOP" || exit 1

npass=0 nfail=0
ok() { npass=$((npass + 1)); echo "ok $*"; }
bad() { nfail=$((nfail + 1)); echo "FAIL $*"; }
check() {		# check NAME COMMAND...: ok when the command succeeds
	_n=$1
	shift
	if "$@"; then ok "$_n"; else bad "$_n"; fi
}
section() { printf '\n== %s\n' "$*"; }

# ---- what we need ----------------------------------------------------------
# command:package (or Perl::Module:package); xinetd conflicts with
# openbsd-inetd in Debian, so it is unpacked from its package into the
# scratch folder instead (below).
NEED="python3:python3 curl:curl swaks:swaks fetchmail:fetchmail mpop:mpop
inetd:openbsd-inetd tcpserver:ucspi-tcp systemd-socket-activate:systemd
stunnel4:stunnel4 tlswrapper:tlswrapper fail2ban-regex:fail2ban openssl:openssl
Net::SSLeay:libnet-ssleay-perl IO::Socket::INET6:libio-socket-inet6-perl
mutt:mutt mail.mailutils:mailutils tmux:tmux"
missing=""
for cp in $NEED; do
	case ${cp%:*} in
	*::*) perl -M"${cp%:*}" -e 1 >/dev/null 2>&1 ;;	# swaks: --tls, ::1
	*) command -v "${cp%:*}" >/dev/null 2>&1 ;;
	esac || missing="$missing ${cp##*:}"
done
apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	# A package's own service (inetd, fail2ban) must not start on the
	# system: invoke-rc.d asks policy-rc.d, which we add only for this.
	_prc=""
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d &&
			chmod 755 /usr/sbin/policy-rc.d && _prc=1
	fi
	# shellcheck disable=SC2086
	{ apt-get install -y -q --no-install-recommends $* >/dev/null 2>&1 ||
	  { apt-get update -q >/dev/null 2>&1 &&
	    apt-get install -y -q --no-install-recommends $* >/dev/null; }; }
	_rc=$?
	[ -z "$_prc" ] || rm -f /usr/sbin/policy-rc.d
	return $_rc
}
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "interop: needs the Debian package(s):$missing (apt-get install$missing)" >&2
		exit 1
	fi
	echo "interop: installing$missing"
	# shellcheck disable=SC2086
	apt_install $missing ||
		{ echo "interop: FAILED: apt-get install$missing" >&2; exit 1; }
fi
PY=python3
# The clients need only the standard library: the system's python3 will do
# when the one first on PATH is a private build without some module.
$PY -c 'import smtplib, poplib' 2>/dev/null || PY=/usr/bin/python3

# ---- scratch folder, and stopping everything on exit -----------------------
W=$(mktemp -d "${TMPDIR:-/tmp}/inetmail-interop.XXXXXX") || exit 1
chmod 755 "$W"
PIDS=""
stop_all() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	# Bounded: whatever has not gone after 5 s gets SIGKILL.
	i=0
	for p in $PIDS; do
		while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do
			sleep 0.1; i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
	done
	PIDS=""
}
finish() {
	trap - EXIT INT TERM
	stop_all
	if [ "$nfail" = 0 ] || [ -n "${KEEP:-}" ]; then
		[ -n "${KEEP:-}" ] && echo "interop: kept $W" || rm -rf "$W"
	else
		echo "interop: logs kept in $W"
	fi
}
trap finish EXIT
trap 'exit 130' INT TERM
bg() { "$@" & PIDS="$PIDS $!"; LASTPID=$!; }

# listening PORT: is anything listening on PORT (any local address)?
listening() {
	_h=$(printf '%04X' "$1")
	awk -v h=":$_h" '$4 == "0A" && substr($2, length($2) - 4) == h { f = 1 }
	    END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}
# wait_listen PORT...: wait (at most T s) until every PORT listens.
wait_listen() {
	_i=0
	for _p in "$@"; do
		while ! listening "$_p"; do
			_i=$((_i + 1))
			[ $_i -gt $((T * 10)) ] && return 1
			sleep 0.1
		done
	done
}
# freeport: a port nobody listens on, from the kernel's ephemeral range.
freeport() {
	$PY -c 'import socket
s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); print(s.getsockname()[1])'
}

# ---- make install (PREFIX, DESTDIR): its binaries serve the tests ----------
section "make install"
D=$W/dest
if make -s install DESTDIR="$D" PREFIX=/usr/local >"$W/install.log" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr/local"
else
	bad "make install DESTDIR=... PREFIX=/usr/local"; cat "$W/install.log"
fi
want="/usr/local/sbin/pop3d 755
/usr/local/sbin/smtpd 755
/usr/local/share/man/man5/inetmail.5 644
/usr/local/share/man/man8/pop3d.8 644
/usr/local/share/man/man8/smtpd.8 644"
got=$(cd "$D" && find . -type f -printf '%p %m\n' | sed 's|^\.||' | sort)
if [ "$got" = "$want" ]; then
	ok "make install: binaries 755 in sbin, pages 644 in man5/man8, nothing else"
else
	bad "make install: files and modes"; printf 'want:\n%s\ngot:\n%s\n' "$want" "$got"
fi
check "make install: installed binaries are the built ones" \
	cmp -s "$D/usr/local/sbin/smtpd" smtpd/smtpd
make -s install DESTDIR="$W/dest2" PREFIX=/opt/im >/dev/null 2>&1
check "make install PREFIX=/opt/im: under DESTDIR/opt/im" \
	test -x "$W/dest2/opt/im/sbin/pop3d" -a -f "$W/dest2/opt/im/share/man/man8/smtpd.8"
SBIN=$D/usr/local/sbin

# ---- the spool and users every launcher shares ----------------------------
if [ "$(id -u)" = 0 ]; then
	RUNAS=root
	MUID=$(id -u nobody) MGID=$(id -g nobody)
else
	RUNAS=$(id -un)
	MUID=$(id -u) MGID=$(id -g)
fi
mkdir "$W/spool" && chgrp "$MGID" "$W/spool" && chmod 2775 "$W/spool"
for u in alice bob carol; do
	printf '%s:{PLAIN}%spw:%s:%s\n' $u $u "$MUID" "$MGID"
done >"$W/users"
USERS=alice:alicepw,bob:bobpw,carol:carolpw
# Appended to each shipped command line: the shipped options stay.
ARGS="-h localhost -d localhost -m $W/spool -p $W/users -t 60"
PARGS="-h localhost -m $W/spool -p $W/users -t 60"

# clients NAME SMTP POP [OPTIONS]: run the client suite (clients.py OPTIONS:
# --tls=CA, --starttls=CA, --only=...) and count its lines.
clients() {
	_name=$1 _smtp=$2 _pop=$3
	shift 3
	$PY "$HERE/clients.py" --smtp "$_smtp" --pop "$_pop" --users "$USERS" \
	    --work "$W/c-$_name" --tag "$_name" "$@" >"$W/c-$_name.out" 2>&1
	while IFS= read -r l; do
		case $l in
		ok\ *) ok "$_name: ${l#ok }" ;;
		FAIL\ *) bad "$_name: ${l#FAIL }" ;;
		*) echo "$l" ;;
		esac
	done <"$W/c-$_name.out"
	grep -q '^# clients done' "$W/c-$_name.out" ||
		bad "$_name: clients.py did not finish"
}
# The spool must be empty between launchers: every client deletes.
spool_empty() {
	for f in "$W"/spool/*; do
		[ -e "$f" ] || continue
		[ -s "$f" ] && { echo "left in spool: $f"; return 1; }
	done
	return 0
}

# ---- -L -------------------------------------------------------------------
section "standalone -L (smtpd on 127.0.0.1, pop3d on [::1])"
SP=$(freeport) PP=$(freeport)
bg "$SBIN/smtpd" -L "127.0.0.1:$SP" $ARGS -l stderr 2>"$W/L-smtpd.log"
bg "$SBIN/pop3d" -L "[::1]:$PP" $PARGS -l stderr 2>"$W/L-pop3d.log"
if wait_listen "$SP" "$PP"; then
	clients L "127.0.0.1:$SP" "[::1]:$PP"
else
	bad "-L: listeners did not come up"
fi
stop_all
check "-L: spool empty after the clients" spool_empty

# ---- systemd-socket-activate ----------------------------------------------
section "systemd-socket-activate --inetd (contrib/systemd units)"
# The units' ExecStart and Accept=yes, as `systemd-socket-activate -a --inetd`.
for s in smtpd pop3d; do
	grep -q '^Accept=yes' "contrib/systemd/$s.socket" ||
		bad "contrib/systemd/$s.socket: no Accept=yes"
done
unit_cmd() {
	sed -n 's/^ExecStart=//p' "contrib/systemd/$1@.service" |
		sed "s|/usr/local/sbin/|$SBIN/|"
}
SP=$(freeport) PP=$(freeport)
# shellcheck disable=SC2046
bg systemd-socket-activate -l "127.0.0.1:$SP" --inetd -a $(unit_cmd smtpd) \
	$ARGS -l stderr 2>"$W/ssa-smtpd.log"
# shellcheck disable=SC2046
bg systemd-socket-activate -l "[::1]:$PP" --inetd -a $(unit_cmd pop3d) \
	$PARGS -l stderr 2>"$W/ssa-pop3d.log"
if wait_listen "$SP" "$PP"; then
	clients systemd "127.0.0.1:$SP" "[::1]:$PP"
else
	bad "systemd-socket-activate: sockets did not come up"
fi
stop_all
check "systemd: spool empty after the clients" spool_empty

# ---- openbsd-inetd --------------------------------------------------------
section "openbsd-inetd (contrib/inetd.conf), private config"
SP=$(freeport) PP=$(freeport)
# "127.0.0.1,::1:" alone on a line: every later service listens on those
# two addresses only.  The shipped lines keep all their fields but the port
# and paths; fd 2 is the client here, so no -l stderr.
{
	echo "127.0.0.1,::1:"
	grep -v '^#' contrib/inetd.conf | grep . | sed \
	    -e "s|^smtp\([[:space:]]\)|$SP\1|" -e "s|^pop3\([[:space:]]\)|$PP\1|" \
	    -e "s|\([[:space:]]\)root\([[:space:]]\)|\1$RUNAS\2|" \
	    -e "s|/usr/local/sbin/|$SBIN/|" \
	    -e "/smtpd/s|\$| $ARGS|" -e "/pop3d/s|\$| $PARGS|"
} >"$W/inetd.conf"
# -d: debug mode, in the foreground, no pid file.
bg inetd -d "$W/inetd.conf" >"$W/inetd.log" 2>&1
INETD=$LASTPID
if wait_listen "$SP" "$PP"; then
	clients inetd "127.0.0.1:$SP" "[::1]:$PP"
	clients inetd6 "[::1]:$SP" "127.0.0.1:$PP"
else
	bad "inetd: ports did not come up"; cat "$W/inetd.log"
fi
stop_all
check "inetd: spool empty after the clients" spool_empty

# ---- xinetd ---------------------------------------------------------------
section "xinetd (contrib/xinetd.d), private config"
XINETD=$(command -v xinetd || true)
if [ -z "$XINETD" ]; then
	# Debian's xinetd conflicts with openbsd-inetd: unpack it here.
	mkdir -p "$W/xinetd-pkg" &&
	(cd "$W/xinetd-pkg" && apt-get download xinetd >/dev/null 2>&1 &&
	 dpkg-deb -x xinetd_*.deb root) && XINETD=$W/xinetd-pkg/root/usr/sbin/xinetd
fi
if [ -x "$XINETD" ]; then
	SP=$(freeport) PP=$(freeport)
	mkdir "$W/xinetd.d"
	# Only port, bind and type UNLISTED (the port is not the one in
	# /etc/services) are added; server_args as shipped plus ours.
	xconf() {	# xconf FILE PORT ARGS
		sed -e "s|/usr/local/sbin/|$SBIN/|" \
		    -e "s|^\([[:space:]]*user[[:space:]]*=\).*|\1 $RUNAS|" \
		    -e "s|^\([[:space:]]*\)#[[:space:]]*server_args.*|\1server_args = $3|;t" \
		    -e "s|^\([[:space:]]*server_args[[:space:]]*=.*\)|\1 $3|" \
		    -e "s|^{|{\n\ttype = UNLISTED\n\tport = $2\n\tbind = ::1|" "$1"
	}
	xconf contrib/xinetd.d/smtpd "$SP" "$ARGS" >"$W/xinetd.d/smtpd"
	xconf contrib/xinetd.d/pop3d "$PP" "$PARGS" >"$W/xinetd.d/pop3d"
	printf 'defaults\n{\n\tlog_type = FILE %s\n}\nincludedir %s\n' \
	    "$W/xinetd-service.log" "$W/xinetd.d" >"$W/xinetd.conf"
	bg "$XINETD" -dontfork -f "$W/xinetd.conf" -pidfile "$W/xinetd.pid" \
	    >"$W/xinetd.log" 2>&1
	if wait_listen "$SP" "$PP"; then
		clients xinetd "[::1]:$SP" "[::1]:$PP"
	else
		bad "xinetd: ports did not come up"; cat "$W/xinetd.log"
	fi
	stop_all
	check "xinetd: spool empty after the clients" spool_empty
else
	bad "xinetd: not installed and could not be unpacked (apt-get download xinetd)"
fi

# ---- tcpserver ------------------------------------------------------------
section "tcpserver (contrib/tcpserver/*/run)"
SP=$(freeport) PP=$(freeport)
for s in smtpd pop3d; do
	[ $s = smtpd ] && p=$SP std=25 a=$ARGS || p=$PP std=110 a=$PARGS
	mkdir -p "$W/tcpserver/$s"
	sed -e "s| 0 $std \\\\\$| 127.0.0.1 $p \\\\|" \
	    -e "s|/usr/local/sbin/\([a-z0-9]*\)\(.*\)\$|$SBIN/\1\2 $a|" \
	    "contrib/tcpserver/$s/run" >"$W/tcpserver/$s/run"
	grep -q "127.0.0.1 $p" "$W/tcpserver/$s/run" ||
		bad "tcpserver: contrib/tcpserver/$s/run: port line not found"
	bg sh "$W/tcpserver/$s/run" >"$W/tcpserver-$s.log" 2>&1
done
if wait_listen "$SP" "$PP"; then
	clients tcpserver "127.0.0.1:$SP" "127.0.0.1:$PP"
	check "tcpserver: smtpd logged the client address" \
		grep -q 'smtpd.*client=127\.0\.0\.1 connect' "$W/tcpserver-smtpd.log"
else
	bad "tcpserver: ports did not come up"; cat "$W"/tcpserver-*.log
fi
stop_all
check "tcpserver: spool empty after the clients" spool_empty

. "$HERE/tls.sh"
. "$HERE/tlswrapper.sh"
. "$HERE/readers.sh"
. "$HERE/jail.sh"
. "$HERE/fail2ban.sh"

section "summary"
echo "$npass passed, $nfail failed"
[ "$nfail" = 0 ]
