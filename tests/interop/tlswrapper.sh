# tlswrapper.sh: sourced by run.sh after tls.sh (which made $W/tls/mail.pem
# and $CA).  TLS the recipe's way: Debian 12's tlswrapper in front of the
# servers, from contrib/tlswrapper/ under each launcher, only paths, ports
# and test options changed.
#
#  inetd        all four services (STARTTLS on 25, STLS on 110, TLS from the
#               first byte on 465 and 995): every client upgraded, every client
#               over implicit TLS, and every client in plain text on 25 and 110
#               (a sender without TLS still delivers; loopback may log in in
#               cleartext); then what a hostile client and a careless wrapper
#               could do: injection after STARTTLS, an aborted handshake, a
#               wrapper left spinning on its control pipe.
#  systemd-socket-activate, tcpserver
#               the same four services from the units and run scripts: curl.
#
# The recipe must never put tlswrapper-smtp in front of smtpd: the injection
# test is run against it too, as a control, and must succeed there.

section "tlswrapper (contrib/tlswrapper/inetd.conf): STARTTLS, STLS, 465, 995"
command -v tlswrapper >/dev/null 2>&1 || apt_install tlswrapper ||
	bad "tlswrapper: apt-get install tlswrapper failed"
TLSPEM=$W/tls/mail.pem
# Each recipe line with this run's ports, paths and test options.
twconf() {	# twconf FILE: an inetd.conf for the four services
	grep -v '^#' "$1" | grep . | sed \
	    -e "s|^smtp\([[:space:]]\)|$TSP\1|" -e "s|^pop3\([[:space:]]\)|$TPP\1|" \
	    -e "s|^submissions\([[:space:]]\)|$TSS\1|" -e "s|^pop3s\([[:space:]]\)|$TPS\1|" \
	    -e "s|\([[:space:]]\)root\([[:space:]]\)|\1$RUNAS\2|" \
	    -e "s|/etc/inetmail/tls.pem|$TLSPEM|" \
	    -e "s|/usr/local/sbin/|$SBIN/|" \
	    -e "/smtpd/s|\$| $ARGS|" -e "/pop3d/s|\$| $PARGS|"
}
TSP=$(freeport) TPP=$(freeport) TSS=$(freeport) TPS=$(freeport) TCTL=$(freeport)
{
	echo "127.0.0.1,::1:"
	twconf contrib/tlswrapper/inetd.conf
	# The control: tlswrapper-smtp, which the recipes must never use.
	echo "$TCTL stream tcp nowait $RUNAS /usr/bin/tlswrapper tlswrapper -q -n -t 330 -f $TLSPEM /usr/bin/tlswrapper-smtp $SBIN/smtpd $ARGS"
} >"$W/inetd-tls.conf"
check "tlswrapper: four services in the recipe" \
	test "$(grep -c "^$TSP\|^$TPP\|^$TSS\|^$TPS" "$W/inetd-tls.conf")" = 4
if grep -rn --exclude='*.md' 'tlswrapper-smtp' contrib >"$W/tw-smtp.grep"; then
	bad "tlswrapper: a recipe uses tlswrapper-smtp:"; cat "$W/tw-smtp.grep"
else
	ok "tlswrapper: no recipe puts tlswrapper-smtp in front of smtpd"
fi
# Every recipe line gives tlswrapper a -t above the server's (its own -t or
# the default, 300 s for smtpd and 600 s for pop3d): else tlswrapper cuts an
# idle client with no 421 or -ERR.
twt() {
	find contrib/tlswrapper -type f ! -name '*.md' -exec grep -h 'tlswrapper .*-t' {} + |
	awk '{
		tw = ""; srv = ""; st = ""
		for (i = 1; i <= NF; i++) {
			if ($i ~ /tlswrapper$/ && tw == "") tw = "?"
			if (tw == "?" && $i == "-t") tw = $(i + 1)
			if ($i ~ /\/(smtpd|pop3d)$/) srv = $i
			if (srv != "" && $i == "-t") st = $(i + 1)
		}
		if (st == "") st = srv ~ /smtpd$/ ? 300 : 600
		if (srv == "" || tw + 0 <= st + 0) { print "BAD " $0; bad++ }
	} END { print NR " lines"; exit bad > 0 }'
}
if twt >"$W/tw-t.out" && [ "$(tail -n 1 "$W/tw-t.out")" = "12 lines" ]; then
	ok "tlswrapper: all 12 recipe lines give tlswrapper a -t above the server's"
else
	bad "tlswrapper: a recipe's -t is not above the server's:"; cat "$W/tw-t.out"
fi
bg inetd -d "$W/inetd-tls.conf" >"$W/inetd-tls.log" 2>&1
TWINETD=$LASTPID
if wait_listen "$TSP" "$TPP" "$TSS" "$TPS" "$TCTL"; then
	clients tw-starttls "127.0.0.1:$TSP" "[::1]:$TPP" "--starttls=$CA"
	clients tw-implicit "[::1]:$TSS" "127.0.0.1:$TPS" "--tls=$CA"
	clients tw-plain "127.0.0.1:$TSP" "127.0.0.1:$TPP"
	$PY - "$TWINETD" "$TSP" "$TPP" "$TSS" "$TCTL" "$CA" "$W/spool" "$T" \
	    >"$W/tw-probe.out" 2>&1 <<'EOF'
import os, socket, ssl, sys, time
inetd, sp, pp, ss, ctl = (int(x) for x in sys.argv[1:6])
ca, spool, T = sys.argv[6], sys.argv[7], int(sys.argv[8])

def report(name, good, why=""):
    print(("ok %s" % name) if good else ("FAIL %s: %s" % (name, why)), flush=True)

def tree(root):
    """The processes below ROOT (inetd): the wrappers and the servers."""
    kids = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                st = open("/proc/%s/stat" % p).read()
            except OSError:
                continue
            ppid = int(st.rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(p))
    out, todo = [], [root]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k)
            todo.append(k)
    return out

def cpu(pid):
    """Clock ticks of CPU PID has used; 0 when it is gone."""
    try:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    except OSError:
        return 0

def comm(pid):
    try:
        return open("/proc/%d/comm" % pid).read().strip()
    except OSError:
        return ""

def lines(f, n):
    return [f.readline() for _ in range(n)]

def inject(port):
    """STARTTLS with a transaction after it in the same packet, then the
    victim's message over TLS.  True when the injected transaction ran."""
    before = {n: os.path.getsize(os.path.join(spool, n)) for n in os.listdir(spool)}
    s = socket.create_connection(("127.0.0.1", port), timeout=T)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"EHLO victim.example\r\n")
    while f.readline()[3:4] == b"-":
        pass
    s.sendall(b"STARTTLS\r\nMAIL FROM:<mallory@evil.example>\r\n"
              b"RCPT TO:<bob@localhost>\r\n")
    f.readline()
    t = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname="localhost")
    tf = t.makefile("rb")
    # The victim's message: were the injected commands run, it would go to
    # bob with mallory's sender.
    # Injected replies, if any, come first: read on to the DATA reply.
    t.sendall(b"DATA\r\n")
    r = tf.readline()
    while r.startswith(b"250"):
        r = tf.readline()
    if r.startswith(b"354"):
        t.sendall(b"Subject: private\r\n\r\nthe victim's words\r\n.\r\n")
    t.sendall(b"QUIT\r\n")
    out = tf.read()
    t.close()
    time.sleep(0.3)
    hit = False
    for name in os.listdir(spool):
        p = os.path.join(spool, name)
        if not os.path.isfile(p) or name.endswith((".index", ".lock")):
            continue
        with open(p, "rb") as m:
            m.seek(before.get(name, 0))
            hit = hit or b"the victim's words" in m.read()
    return hit, out

hit, out = inject(sp)
report("injection: a transaction sent with STARTTLS is never run: the "
       "victim's DATA after TLS delivers nothing", not hit, repr(out[-200:]))
hit, out = inject(ctl)
report("injection control: the same attack works through tlswrapper-smtp, "
       "so the test can see it", hit, repr(out[-200:]))

# An aborted handshake leaves no process behind.
base = set(tree(inetd))
for port in (ss, sp):
    c = socket.create_connection(("127.0.0.1", port), timeout=T)
    if port == sp:
        c.recv(512)
        c.sendall(b"EHLO x\r\nSTARTTLS\r\n")
        time.sleep(0.3)
        c.recv(4096)
    c.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 20)
    c.close()
deadline = time.time() + T
while time.time() < deadline and set(tree(inetd)) - base:
    time.sleep(0.1)
left = set(tree(inetd)) - base
report("aborted handshakes (465, and 25 after STARTTLS) leave no process",
       not left, repr([(p, comm(p)) for p in left]))

# No wrapper spins on its control pipe while the server keeps it open:
# an idle plaintext SMTP session, and an idle logged-in POP3 session (the
# pipe went to the owner's process with the connection).
for port, talk, name in ((sp, [b"EHLO x\r\n"], "an idle plaintext SMTP session"),
                         (pp, [b"USER alice\r\n", b"PASS alicepw\r\n"],
                          "an idle logged-in POP3 session")):
    base = set(tree(inetd))
    c = socket.create_connection(("127.0.0.1", port), timeout=T)
    f = c.makefile("rb")
    f.readline()
    for line in talk:
        c.sendall(line)
        while f.readline()[3:4] == b"-":
            pass
    time.sleep(0.5)
    procs = sorted(set(tree(inetd)) - base)
    t0 = sum(cpu(p) for p in procs)
    time.sleep(3)
    t1 = sum(cpu(p) for p in procs)
    ticks = os.sysconf("SC_CLK_TCK")
    report("no spinning during %s: %.2f s of CPU in 3 s by %r" % (
        name, (t1 - t0) / ticks, [comm(p) for p in procs]),
        procs and (t1 - t0) < 0.3 * ticks)
    c.sendall(b"QUIT\r\n")
    c.close()
EOF
	while IFS= read -r l; do
		case $l in
		ok\ *) ok "tlswrapper: ${l#ok }" ;;
		FAIL\ *) bad "tlswrapper: ${l#FAIL }" ;;
		*) echo "$l" ;;
		esac
	done <"$W/tw-probe.out"
else
	bad "tlswrapper: inetd ports did not come up"; cat "$W/inetd-tls.log"
fi
stop_all
rm -f "$W"/spool/*
check "tlswrapper inetd: spool empty after the clients" spool_empty

section "tlswrapper (contrib/tlswrapper/systemd): systemd-socket-activate --inetd"
twunit() {	# the unit's ExecStart with this run's paths
	sed -n 's/^ExecStart=//p' "contrib/tlswrapper/systemd/$1@.service" |
		sed -e "s|/usr/local/sbin/|$SBIN/|" -e "s|/etc/inetmail/tls.pem|$TLSPEM|"
}
TSP=$(freeport) TPP=$(freeport) TSS=$(freeport) TPS=$(freeport)
for u in smtpd-starttls:$TSP:ARGS pop3d-stls:$TPP:PARGS smtps:$TSS:ARGS pop3s:$TPS:PARGS; do
	n=${u%%:*} r=${u#*:} p=${r%%:*} a=${u##*:}
	grep -q '^Accept=yes' "contrib/tlswrapper/systemd/$n.socket" ||
		bad "contrib/tlswrapper/systemd/$n.socket: no Accept=yes"
	eval "aa=\$$a"
	# shellcheck disable=SC2046,SC2086
	bg systemd-socket-activate -l "127.0.0.1:$p" --inetd -a $(twunit "$n") $aa \
	    -l stderr 2>"$W/ssa-tw-$n.log"
done
if wait_listen "$TSP" "$TPP" "$TSS" "$TPS"; then
	clients tw-systemd "127.0.0.1:$TSP" "127.0.0.1:$TPP" "--starttls=$CA" --only=curl
	clients tw-systemd-tls "127.0.0.1:$TSS" "127.0.0.1:$TPS" "--tls=$CA" --only=curl
else
	bad "tlswrapper systemd: sockets did not come up"; cat "$W"/ssa-tw-*.log
fi
stop_all
check "tlswrapper systemd: spool empty after the clients" spool_empty

section "tlswrapper (contrib/tlswrapper/tcpserver/*/run)"
TSP=$(freeport) TPP=$(freeport) TSS=$(freeport) TPS=$(freeport)
for u in smtpd-starttls:$TSP:25:ARGS pop3d-stls:$TPP:110:PARGS smtps:$TSS:465:ARGS \
    pop3s:$TPS:995:PARGS; do
	n=${u%%:*} r=${u#*:} p=${r%%:*} r=${r#*:} std=${r%%:*} a=${u##*:}
	eval "aa=\$$a"
	mkdir -p "$W/tw-tcpserver/$n"
	sed -e "s| 0 $std \\\\\$| 127.0.0.1 $p \\\\|" \
	    -e "s|/etc/inetmail/tls.pem|$TLSPEM|" \
	    -e "s|/usr/local/sbin/\([a-z0-9]*\)\(.*\)\$|$SBIN/\1\2 $aa|" \
	    "contrib/tlswrapper/tcpserver/$n/run" >"$W/tw-tcpserver/$n/run"
	grep -q "127.0.0.1 $p" "$W/tw-tcpserver/$n/run" ||
		bad "tlswrapper tcpserver: $n/run: port line not found"
	bg sh "$W/tw-tcpserver/$n/run" >"$W/tw-tcpserver-$n.log" 2>&1
done
if wait_listen "$TSP" "$TPP" "$TSS" "$TPS"; then
	clients tw-tcpserver "127.0.0.1:$TSP" "127.0.0.1:$TPP" "--starttls=$CA" --only=curl
	clients tw-tcpserver-tls "127.0.0.1:$TSS" "127.0.0.1:$TPS" "--tls=$CA" --only=curl
	check "tlswrapper tcpserver: smtpd logged tls=yes and the client address" \
		grep -q 'smtpd.*client=127\.0\.0\.1 .*tls=yes' "$W/tw-tcpserver-smtpd-starttls.log"
else
	bad "tlswrapper tcpserver: ports did not come up"; cat "$W"/tw-tcpserver-*.log
fi
stop_all
check "tlswrapper tcpserver: spool empty after the clients" spool_empty
