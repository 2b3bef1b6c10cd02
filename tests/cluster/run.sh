#!/bin/bash
# tests/cluster/run.sh (make cluster): on one machine, what many machines
# would be: a GlusterFS volume, HOSTS front hosts (network namespaces, each
# with its own mount namespace, FUSE mount of the volume, host name, and
# smtpd -L / pop3d -L with the spool on that mount), and one haproxy in
# front of them built from contrib/haproxy/haproxy.cfg.  Then, through
# haproxy and all at once: DELIVERIES deliveries from several clients, POP3
# sessions that RETR, DELE and QUIT on the same mailboxes, and KILLS SIGKILLs
# of one host's servers in the middle of a delivery; then the exact
# accounting (tests/cluster/load.py).  Before that: what the shared file
# system must do (fsclaims.py), the store's rules across hosts
# (storeclaims.py), and the figures (figures.py).
#
# Run as root.  Everything stays on this machine: haproxy listens on
# 127.0.0.1, the hosts and the GlusterFS server live on a bridge of their
# own (10.77.0.0/24) that routes nowhere.  Bounded by HARD_TIMEOUT; every
# wait is bounded; everything started is stopped and removed at the end,
# also on failure, timeout or Ctrl-C (run.sh --cleanup does it by hand).
#
#   PROXY=1     (default) haproxy sends PROXY v2 headers (send-proxy-v2) and
#               the servers get -P 10.77.0.1/32; the logs and Received lines
#               must then name the clients' own addresses.  PROXY=0 runs
#               without (for servers older than -P).
#   SMTPD, POP3D   the binaries (default: $B/smtpd/smtpd, $B/pop3d/pop3d)
#   HOSTS=2 (2 or 3)  DELIVERIES=2000  KILLS=2  HARD_TIMEOUT=900
#   GLUSTER_SAFE=0    the volume's and FUSE's caching left at their defaults
#                     (expect the accounting to fail: see contrib/cluster);
#                     GLUSTER_VOL_OFF (volume options set off) and
#                     GLUSTER_FUSE_OPTS (glusterfs client options) pick others
#   KEEP_LOGS=1       keep the logs even when every check passed
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$TOP/tests/cluster
B=${B:-build}
export SMTPD=${SMTPD:-$TOP/$B/smtpd/smtpd}
export POP3D=${POP3D:-$TOP/$B/pop3d/pop3d}
export PROXY=${PROXY:-1}
export HOSTS=${HOSTS:-2}
export DELIVERIES=${DELIVERIES:-2000}
export KILLS=${KILLS:-2}
export HARD_TIMEOUT=${HARD_TIMEOUT:-900}
export GLUSTER_SAFE=${GLUSTER_SAFE:-1}
export DIR=${CLUSTER_DIR:-/var/tmp/inetmail-cluster}
export PYTHONDONTWRITEBYTECODE=1
# No client-side caching that could show one host stale sizes, names or
# bytes that another host changed under its lock (contrib/cluster/README.md).
if [ "$GLUSTER_SAFE" = 1 ]; then
	: "${GLUSTER_VOL_OFF=performance.stat-prefetch performance.quick-read performance.io-cache performance.read-ahead performance.open-behind performance.write-behind performance.readdir-ahead performance.nl-cache}"
	: "${GLUSTER_FUSE_OPTS=--attribute-timeout=0 --entry-timeout=0 --negative-timeout=0 --direct-io-mode=enable}"
fi
export GLUSTER_VOL_OFF=${GLUSTER_VOL_OFF-} GLUSTER_FUSE_OPTS=${GLUSTER_FUSE_OPTS-}
# Claims the store does not meet yet (printed XFAIL, not counted as failures;
# XPASS once they hold).  None today; kept for bisecting old binaries.
export KNOWN_BAD=${KNOWN_BAD-}
NET=10.77.0
export HAPROXY_ADDR=$NET.1 ADMIN_ADDR=$NET.3 STORE_ADDR=$NET.2
export SMTP_FRONT=127.0.0.1:10025 POP_FRONT=127.0.0.1:10110
export LOCAL_SMTP=127.0.0.1:10026 LOCAL_POP=127.0.0.1:10111
VOL=imc
PFX=imc        # network namespaces imc-*, bridge imc-br0

say() { printf '%s %s\n' "$(date +%T)" "$*"; }
die() { say "FAIL: $*"; exit 1; }

# wait_for SECONDS WHAT COMMAND...: poll COMMAND until it succeeds.
wait_for() {
	local end=$(($(date +%s) + $1)) what=$2
	shift 2
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$end" ] || { say "timed out waiting for $what"; return 1; }
		sleep 0.2
	done
}

# The gluster CLI, inside glusterd's namespaces, bounded.
G() {
	timeout --foreground 60 nsenter -t "$(cat "$DIR/pids/glusterd.pid")" -m -n \
	    gluster --mode=script "$@"
}

# alive NAME PATTERN: the pid in DIR/pids/NAME.pid, if that process is still
# alive and its command line contains PATTERN (a recycled pid is left alone;
# a zombie has an empty command line).
alive() {
	local p
	p=$(cat "$DIR/pids/$1.pid" 2>/dev/null) || return 1
	[ -n "$p" ] && [ -r "/proc/$p/cmdline" ] &&
	    tr '\0' ' ' <"/proc/$p/cmdline" | grep -q -- "$2" && echo "$p"
}

# stop NAME PATTERN [GROUP]: TERM, then KILL after 5 s; GROUP=1 signals the
# process group the listener leads (its sessions).
stop() {
	local p i
	p=$(alive "$1" "$2") || return 0
	if [ "${3:-0}" = 1 ]; then kill -KILL -- "-$p" 2>/dev/null; fi
	kill -TERM "$p" 2>/dev/null
	for i in $(seq 25); do alive "$1" "$2" >/dev/null || return 0; sleep 0.2; done
	kill -KILL "$p" 2>/dev/null
}

########################################################################
# cleanup: idempotent; works from the pid files and names alone, so it also
# clears what an earlier, killed run left.
cleanup() {
	[ -d "$DIR" ] || { ip link del $PFX-br0 2>/dev/null; return 0; }
	stop haproxy haproxy
	local f n h holder mnt
	for f in "$DIR"/pids/*.smtpd.pid "$DIR"/pids/*.pop3d.pid; do
		[ -e "$f" ] || continue
		n=$(basename "$f" .pid)
		stop "$n" " -L " 1
	done
	for f in "$DIR"/pids/h*.holder.pid; do
		[ -e "$f" ] || continue
		h=$(basename "$f" .holder.pid)
		mnt=$DIR/$h/spool
		# Unmount inside the host's mount namespace, entered through any
		# process still in it (the holder, else the FUSE client itself).
		if holder=$(alive "$h.holder" sleep) || holder=$(alive "$h.fuse" glusterfs); then
			timeout 20 nsenter -t "$holder" -m umount "$mnt" 2>/dev/null ||
			    timeout 20 nsenter -t "$holder" -m umount -l "$mnt" 2>/dev/null
		fi
		n=0
		while alive "$h.fuse" glusterfs >/dev/null && [ $n -lt 50 ]; do
			sleep 0.2; n=$((n + 1))
		done
		stop "$h.fuse" glusterfs
		stop "$h.holder" sleep
	done
	if alive glusterd glusterd >/dev/null; then
		G volume stop $VOL force >/dev/null 2>&1
		G volume delete $VOL >/dev/null 2>&1
	fi
	# glusterd's daemons (the brick) keep their pid files under its /run.
	for f in $(find "$DIR/store/run" -name '*.pid' 2>/dev/null); do
		n=$(basename "$f" .pid)
		cp "$f" "$DIR/pids/gd-$n.pid" 2>/dev/null && stop "gd-$n" gluster
	done
	stop brick glusterfsd
	stop glusterd glusterd
	stop local.smtpd " -L " 1
	stop local.pop3d " -L " 1
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PFX-"); do
		ip netns del "$n"
	done
	ip link del $PFX-br0 2>/dev/null
	if [ -e "$DIR/failed" ] || [ "${KEEP_LOGS:-0}" = 1 ]; then
		local keep=/tmp/inetmail-cluster-logs.$(date +%Y%m%d-%H%M%S)
		mkdir -p "$keep" && cp -r "$DIR/logs" "$DIR/haproxy.cfg" "$keep/" 2>/dev/null
		cp "$DIR/figures" "$keep/" 2>/dev/null
		say "logs kept in $keep"
	fi
	# The brick is a plain directory once its process is gone.
	rm -rf "$DIR"
}

# What would be left behind: processes naming DIR, namespaces, the bridge.
leftovers() {
	local p out=""
	for p in /proc/[0-9]*; do
		{ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null |
		    grep -q -e "$DIR" -e "$HERE/[a-z]*\.py" && out="$out pid ${p#/proc/}"
	done
	out="$out $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$PFX-" | tr '\n' ' ')"
	ip link show $PFX-br0 >/dev/null 2>&1 && out="$out $PFX-br0"
	grep -q " $DIR" /proc/mounts && out="$out mounts"
	[ -e "$DIR" ] && out="$out $DIR"
	echo $out
}

########################################################################
setup_net() {
	if ip -o addr show | grep -q " $NET\."; then
		die "$NET.0/24 is already in use on this machine"
	fi
	ip link add $PFX-br0 type bridge &&
	ip addr add $HAPROXY_ADDR/24 dev $PFX-br0 &&
	ip addr add $ADMIN_ADDR/24 dev $PFX-br0 &&
	ip link set $PFX-br0 up || die "bridge"
	local ns ip
	for ns in store $(seq -f 'h%g' "$HOSTS"); do
		case $ns in store) ip=$STORE_ADDR ;; *) ip=$NET.1${ns#h} ;; esac
		ip netns add $PFX-$ns &&
		ip link add $PFX-$ns type veth peer name eth0 netns $PFX-$ns &&
		ip link set $PFX-$ns master $PFX-br0 up &&
		ip -n $PFX-$ns addr add "$ip/24" dev eth0 &&
		ip -n $PFX-$ns link set eth0 up &&
		ip -n $PFX-$ns link set lo up || die "namespace $ns"
	done
}

# glusterd in namespace imc-store, in a mount namespace of its own where its
# state (/var/lib/glusterd), logs and /run are directories of DIR.
setup_store() {
	mkdir -p "$DIR/store/brick" "$DIR/store/lib" "$DIR/store/log" "$DIR/store/run/gluster"
	cat >"$DIR/store/glusterd.vol" <<EOF
volume management
    type mgmt/glusterd
    option working-directory /var/lib/glusterd
    option transport-type socket
    option transport.address-family inet
    option transport.socket.listen-port 24007
    option ping-timeout 0
    option event-threads 1
end-volume
EOF
	cat >"$DIR/store/holder.sh" <<EOF
set -e
mount --bind "$DIR/store/run" /run
mount --bind "$DIR/store/lib" /var/lib/glusterd
mkdir -p /var/log/glusterfs
mount --bind "$DIR/store/log" /var/log/glusterfs
exec glusterd -N -f "$DIR/store/glusterd.vol" -p "$DIR/pids/glusterd.pid"
EOF
	setsid ip netns exec $PFX-store unshare -m --propagation private \
	    sh "$DIR/store/holder.sh" >"$DIR/logs/glusterd.out" 2>&1 </dev/null &
	wait_for 30 glusterd G volume list || die "glusterd did not start"
	# force: the brick is on the root file system.
	G volume create $VOL "$STORE_ADDR:$DIR/store/brick" force >/dev/null ||
	    die "volume create"
	local o
	for o in $GLUSTER_VOL_OFF; do
		G volume set $VOL $o off >/dev/null || die "volume set $o"
	done
	G volume start $VOL >/dev/null || die "volume start"
	wait_for 30 "the brick" brick_online || die "brick not online"
	G volume status $VOL --xml | sed -n 's|.*<pid>\([0-9]*\)</pid>.*|\1|p' | head -1 \
	    >"$DIR/pids/brick.pid"
}

brick_online() {
	G volume status $VOL --xml | grep -q '<status>1</status>'
}

# Host hN: namespace imc-hN, its own mount and UTS namespaces (host name
# hN.cluster.test: dotlock records name the host), its own FUSE client.
setup_host() {
	local h=$1 opts=$GLUSTER_FUSE_OPTS
	mkdir -p "$DIR/$h/spool"
	cat >"$DIR/$h/holder.sh" <<EOF
hostname $h.cluster.test
glusterfs --volfile-server=$STORE_ADDR --volfile-id=$VOL $opts \\
    -p "$DIR/pids/$h.fuse.pid" -l "$DIR/logs/$h.fuse.log" "$DIR/$h/spool" || exit 1
echo \$\$ >"$DIR/pids/$h.holder.pid"
exec sleep $((HARD_TIMEOUT + 600))
EOF
	setsid ip netns exec $PFX-$h unshare -m -u --propagation private \
	    sh "$DIR/$h/holder.sh" >"$DIR/logs/$h.holder.out" 2>&1 </dev/null &
	wait_for 30 "$h's holder" test -s "$DIR/pids/$h.holder.pid" || die "$h: no mount"
	local holder
	holder=$(cat "$DIR/pids/$h.holder.pid")
	wait_for 30 "$h's mount" sh -c "[ \"\$(stat -c %i /proc/$holder/root$DIR/$h/spool)\" = 1 ]" ||
	    die "$h: FUSE mount not ready"
	echo "$h $NET.1${h#h} $holder $DIR/$h/spool" >>"$DIR/hosts"

	# start.sh (re)starts the host's servers; load.py runs it after a kill.
	# With -P, -C counts each client (the header's address), not haproxy:
	# the default 10 is plenty for one client; without, all are haproxy.
	local pflag="-C 40"
	[ "$PROXY" = 1 ] && pflag="-P $HAPROXY_ADDR/32 -C 10"
	cat >"$DIR/$h/start.sh" <<EOF
#!/bin/sh
# Start $h's smtpd -L and pop3d -L, each leading a process group of its own
# (its sessions are its children), and wait until both listen.
holder=\$(cat "$DIR/pids/$h.holder.pid")
nsenter -t "\$holder" -m -u -n setsid "$SMTPD" -L $NET.1${h#h}:25 -c 40 -h $h.cluster.test -d mail.cluster.test \\
    -m "$DIR/$h/spool" -p "$DIR/users" -l stderr $pflag \\
    </dev/null >/dev/null 2>>"$DIR/logs/$h.smtpd.log" &
echo \$! >"$DIR/pids/$h.smtpd.pid"
nsenter -t "\$holder" -m -u -n setsid "$POP3D" -L $NET.1${h#h}:110 -c 40 -h $h.cluster.test \\
    -m "$DIR/$h/spool" -p "$DIR/users" -l stderr $pflag \\
    </dev/null >/dev/null 2>>"$DIR/logs/$h.pop3d.log" &
echo \$! >"$DIR/pids/$h.pop3d.pid"
for i in \$(seq 100); do
	n=\$(ip netns exec $PFX-$h ss -Hltn '( sport = :25 or sport = :110 )' | wc -l)
	[ "\$n" = 2 ] && break
	sleep 0.1
done
[ "\$n" = 2 ] || { echo "$h: servers not listening" >&2; exit 1; }
# Each listener must lead its process group: a kill of the group ends it
# and every session it started.
for p in \$(cat "$DIR/pids/$h.smtpd.pid" "$DIR/pids/$h.pop3d.pid"); do
	[ "\$(ps -o pgid= -p "\$p" | tr -d ' ')" = "\$p" ] ||
	    { echo "$h: pid \$p does not lead its process group" >&2; exit 1; }
done
EOF
	chmod +x "$DIR/$h/start.sh"
}

# The rig's haproxy: contrib/haproxy/haproxy.cfg with only its addresses,
# ports, check interval, log target and admin socket changed (and without
# PROXY headers when PROXY=0).
haproxy_cfg() {
	local src=$TOP/contrib/haproxy/haproxy.cfg i
	local drop=()
	for i in 1 2 3; do [ "$i" -gt "$HOSTS" ] && drop+=(-e "/server mail$i /d"); done
	sed -e '/^ *chroot /d' -e '/^ *user /d' -e '/^ *group /d' -e '/^ *daemon$/d' \
	    -e "s|^\( *\)log /dev/log .*|\1log stderr format short local0 info|" \
	    -e "s|stats socket [^ ]*|stats socket $DIR/haproxy.sock|" \
	    -e "s|bind :25\$|bind $SMTP_FRONT|" -e "s|bind :110\$|bind $POP_FRONT|" \
	    -e 's| inter 10s | inter 1s |' \
	    -e "s|192\.0\.2\.1\([0-9]\):|$NET.1\1:|" "${drop[@]}" "$src" >"$DIR/haproxy.cfg"
	if [ "$PROXY" != 1 ]; then
		sed -i -e 's| send-proxy-v2||' -e 's|connect send-proxy |connect |' "$DIR/haproxy.cfg"
	fi
	# Every substitution must have happened.
	! grep -v '^ *#' "$DIR/haproxy.cfg" | grep -q '192\.0\.2\.\|^ *daemon\|bind :' &&
	    [ "$(grep -c '^ *server mail' "$DIR/haproxy.cfg")" = $((2 * HOSTS)) ] &&
	    grep -q "inter 1s" "$DIR/haproxy.cfg" ||
	    die "contrib/haproxy/haproxy.cfg no longer fits the rig's substitutions"
	if [ "$PROXY" = 1 ]; then
		[ "$(grep -v '^ *#' "$DIR/haproxy.cfg" | grep -c 'send-proxy-v2')" = 2 ] &&
		    [ "$(grep -c '^ *tcp-check connect send-proxy linger' "$DIR/haproxy.cfg")" = 2 ] ||
		    die "contrib/haproxy/haproxy.cfg: send-proxy-v2 and checks with send-proxy expected in both backends"
	fi
}

all_up() {
	local n
	n=$(python3 "$HERE/lib.py" states | grep -c ' UP')
	[ "$n" = $((2 * HOSTS)) ]
}

# run PART SCRIPT: one driver, bounded; its PASS/FAIL lines go to the
# terminal, its pass/fail counts to DIR/results.
run() {
	say "== $1"
	export LOAD_SECONDS
	# --foreground: stay in the rig's process group, so the hard timeout's
	# signal (or a Ctrl-C passed on) reaches the driver too.
	timeout --foreground "$3" python3 "$HERE/$2" ||
	    { echo "FAIL: $1 (exit $?)"; touch "$DIR/failed"; }
}

inner() {
	trap 'touch "$DIR/failed"; exit 143' TERM
	trap 'touch "$DIR/failed"; exit 130' INT
	T0=$(date +%s)
	mkdir -p "$DIR/pids" "$DIR/logs" "$DIR/local/spool"
	local port
	for port in ${SMTP_FRONT##*:} ${POP_FRONT##*:} ${LOCAL_SMTP##*:} ${LOCAL_POP##*:}; do
		[ -z "$(ss -Hltn "( sport = :$port )")" ] || die "port $port is in use"
	done
	: >"$DIR/results"
	say "network: bridge $PFX-br0 $NET.0/24, namespaces $PFX-store $(seq -f "$PFX-h%g" "$HOSTS" | tr '\n' ' ')"
	setup_net
	say "GlusterFS: glusterd and one brick in $PFX-store, volume $VOL"
	say "  volume options off: ${GLUSTER_VOL_OFF:-none}; FUSE client: ${GLUSTER_FUSE_OPTS:-defaults}"
	setup_store
	local h u
	for h in $(seq -f 'h%g' "$HOSTS"); do setup_host "$h"; done
	say "hosts: $(cut -d' ' -f1,2 "$DIR/hosts" | tr '\n' ' ')each with its own FUSE mount"
	{
		for u in alice bob carol dave lat r1 r2 r3 r4 inuse cl1 cl2 \
		    cl3s cl3o cl4s cl4o cl5s cl5o cl6s cl6o; do
			echo "$u:{PLAIN}${u}pw:65534:65534"
		done
	} >"$DIR/users"
	# The spool: root:65534 2775, so pop3d (as 65534) can make dotlocks.
	local view=/proc/$(cat "$DIR/pids/h1.holder.pid")/root$DIR/h1/spool
	chown root:65534 "$view" "$DIR/local/spool" && chmod 2775 "$view" "$DIR/local/spool" ||
	    die "spool permissions"

	run "what the store needs from the cluster FS (two hosts' mounts)" fsclaims.py 120

	for h in $(seq -f 'h%g' "$HOSTS"); do
		"$DIR/$h/start.sh" || die "$h: servers did not start"
	done
	setsid "$SMTPD" -L $LOCAL_SMTP -c 40 -C 40 -h local.test -d mail.cluster.test \
	    -m "$DIR/local/spool" -p "$DIR/users" -l stderr </dev/null >/dev/null \
	    2>>"$DIR/logs/local.smtpd.log" &
	echo $! >"$DIR/pids/local.smtpd.pid"
	setsid "$POP3D" -L $LOCAL_POP -c 40 -C 40 -h local.test -m "$DIR/local/spool" \
	    -p "$DIR/users" -l stderr </dev/null >/dev/null 2>>"$DIR/logs/local.pop3d.log" &
	echo $! >"$DIR/pids/local.pop3d.pid"

	haproxy_cfg
	haproxy -c -f "$DIR/haproxy.cfg" >/dev/null || die "haproxy -c"
	haproxy -db -f "$DIR/haproxy.cfg" </dev/null >/dev/null 2>"$DIR/logs/haproxy.log" &
	echo $! >"$DIR/pids/haproxy.pid"
	wait_for 30 "haproxy's admin socket" test -S "$DIR/haproxy.sock" || die "haproxy"
	wait_for 30 "haproxy to see every host up" all_up || die "hosts not up in haproxy"
	say "haproxy: SMTP $SMTP_FRONT, POP3 $POP_FRONT -> $HOSTS hosts (PROXY=$PROXY)"

	run "the store's rules across hosts" storeclaims.py 180
	run "figures" figures.py 300
	# What is left of HARD_TIMEOUT bounds the load (its checks need ~30 s).
	local left=$((HARD_TIMEOUT - ($(date +%s) - T0) - 15))
	[ "$left" -ge 60 ] || die "no time left for the load (HARD_TIMEOUT=$HARD_TIMEOUT)"
	LOAD_SECONDS=$((left - 45)) run "load: deliveries, POP3, kills, then the accounting" \
	    load.py "$left"
	local p=0 f=0 a b
	while read -r a b; do p=$((p + a)); f=$((f + b)); done <"$DIR/results"
	[ -e "$DIR/failed" ] && [ "$f" = 0 ] && f=1
	[ -e "$DIR/figures" ] && { say "figures:"; sed 's/^/  /' "$DIR/figures"; }
	echo "$p $f" >"$DIR/summary"
	[ "$f" = 0 ] || { touch "$DIR/failed"; exit 1; }
}

########################################################################
outer() {
	[ "$(id -u)" = 0 ] || { echo "tests/cluster/run.sh: run as root (namespaces, FUSE, glusterd)"; exit 77; }
	local need="" c
	for c in glusterd glusterfs gluster haproxy ip nsenter unshare ss python3; do
		command -v $c >/dev/null || need=1
	done
	if [ -n "$need" ]; then
		say "installing glusterfs-server haproxy"
		timeout 900 sh -c 'apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q glusterfs-server glusterfs-client haproxy iproute2 util-linux python3' >/dev/null ||
		    { echo "FAIL: could not install glusterfs-server and haproxy"; exit 1; }
	fi
	[ -x "$SMTPD" ] && [ -x "$POP3D" ] || { echo "FAIL: no $SMTPD or $POP3D (make first)"; exit 1; }
	[ -e /dev/fuse ] || modprobe fuse 2>/dev/null
	[ -e /dev/fuse ] || { echo "FAIL: no /dev/fuse"; exit 1; }
	case $HOSTS in 2 | 3) ;; *) echo "FAIL: HOSTS must be 2 or 3"; exit 1 ;; esac
	if [ -e "$DIR" ] || ip link show $PFX-br0 >/dev/null 2>&1; then
		say "clearing what an earlier run left"
		timeout 180 bash "$0" --cleanup
	fi
	local t0 tpid rc
	t0=$(date +%s)
	say "cluster rig: SMTPD=$SMTPD POP3D=$POP3D PROXY=$PROXY HOSTS=$HOSTS, at most $HARD_TIMEOUT s"
	# timeout runs the rig in a process group of its own and signals all of
	# it; a Ctrl-C here is passed on the same way, then we clean up.
	timeout -k 30 "$HARD_TIMEOUT" bash "$0" --inner &
	tpid=$!
	trap 'say "interrupted: stopping"; kill -TERM $tpid 2>/dev/null' INT TERM HUP
	rc=0
	wait $tpid || rc=$?
	while kill -0 $tpid 2>/dev/null; do wait $tpid; rc=$?; done
	trap - INT TERM HUP
	[ $rc = 124 ] && say "FAIL: hard timeout ($HARD_TIMEOUT s)"
	[ $rc = 0 ] || { mkdir -p "$DIR" && touch "$DIR/failed"; }
	local sum="0 1"
	[ -s "$DIR/summary" ] && sum=$(cat "$DIR/summary")
	say "cleaning up"
	timeout 180 bash "$0" --cleanup
	say "cleaned up"
	local left
	left=$(leftovers)
	if [ -n "$left" ]; then
		say "FAIL: left behind:$left"
		rc=1
	fi
	# The closing line counts every check; a timeout, an interruption or
	# anything left behind is one failure more.
	set -- $sum
	[ $rc = 0 ] || [ "$2" != 0 ] || set -- "$1" 1
	say "cluster rig: $(($(date +%s) - t0)) s, $([ $rc = 0 ] && echo passed || echo FAILED)"
	echo "cluster: $1 passed, $2 failed"
	exit $rc
}

case ${1:-} in
--inner) inner ;;
--cleanup) cleanup ;;
"") outer ;;
*) echo "usage: $0 [--cleanup]" >&2; exit 2 ;;
esac
