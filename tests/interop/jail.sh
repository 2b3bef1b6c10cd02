# jail.sh: sourced by run.sh.  As root: a jail built by contrib/mkjail, served
# by openbsd-inetd from the very lines mkjail prints, receives and serves
# mail, and its session processes run as the jail's owner inside the jail.

section "contrib/mkjail: a chroot jail under inetd"
if [ "$(id -u)" != 0 ]; then
	echo "skipped: the jail needs root"
	return 0 2>/dev/null || exit 0
fi
J=$W/jail
# The spool's owner: an account of its own, never the session account.
id inetmail-vmail >/dev/null 2>&1 ||
	useradd --system --no-create-home --shell /usr/sbin/nologin inetmail-vmail
OWN=inetmail-vmail
if sh contrib/mkjail -o $OWN -d localhost -U 'alice:{PLAIN}alicepw' \
    -U 'bob:{PLAIN}bobpw' -U 'carol:{PLAIN}carolpw' "$J" >"$W/mkjail.out" 2>&1
then
	ok "mkjail: jail built"
else
	bad "mkjail: failed"; cat "$W/mkjail.out"
fi
check "mkjail: static binaries in the jail" \
	sh -c "! ldd '$J/sbin/smtpd' >/dev/null 2>&1 && ! ldd '$J/sbin/pop3d' >/dev/null 2>&1"
check "mkjail: spool $OWN's 0770, users file root:$OWN 0640, jail root's 0755" \
	test "$(stat -c '%U:%a' "$J/spool") $(stat -c '%U:%G:%a' "$J/etc/users") $(stat -c '%U:%a' "$J")" \
	= "$OWN:770 root:$(id -gn $OWN):640 root:755"
SP=$(freeport) PP=$(freeport)
{
	echo "127.0.0.1,::1:"
	sed -n -e "s|^smtp\([[:space:]]\)|$SP\1|p" -e "s|^pop3\([[:space:]]\)|$PP\1|p" \
	    "$W/mkjail.out"
} >"$W/inetd-jail.conf"
check "mkjail: printed an inetd line for each server" \
	test "$(grep -c "^$SP\|^$PP" "$W/inetd-jail.conf")" = 2
bg inetd -d "$W/inetd-jail.conf" >"$W/inetd-jail.log" 2>&1
if wait_listen "$SP" "$PP"; then
	clients jail "127.0.0.1:$SP" "[::1]:$PP"
	# A session of each, caught while it runs: its uid, gid and root.
	$PY - "$LASTPID" "$SP" "$PP" "$(id -u $OWN)" "$(id -u nobody)" "$J" <<'EOF' >"$W/jail-uid.out" 2>&1
import os, socket, sys, time
inetd, sp, pp = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
owner, session, jail = sys.argv[4], sys.argv[5], sys.argv[6]

def children():
    """inetd's children (the privileged parts) and theirs (the sessions)."""
    st = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                text = open("/proc/%s/status" % p).read()
            except OSError:
                continue
            st[p] = dict(l.split(":\t", 1) for l in text.splitlines() if ":\t" in l)
    top = [p for p, f in st.items() if f.get("PPid", "").strip() == str(inetd)]
    return [(p, st[p]) for p in st if p in top or st[p].get("PPid", "").strip() in top]

def probe(name, port, talk):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    f.readline()
    for line in talk:
        s.sendall(line)
        f.readline()
    deadline = time.time() + 10
    kids = []
    while not kids and time.time() < deadline:
        kids = children()
        time.sleep(0.05)
    bad = 0
    uids = set()
    for p, fields in kids:
        root = os.readlink("/proc/%s/root" % p)
        uids |= set(fields["Uid"].split())
        # the privileged part runs as the owner, the session as nobody
        good = len(set(fields["Uid"].split())) == 1 and \
            fields["Uid"].split()[0] in (owner, session) and root == jail
        print("%s %s session pid %s Uid: %s Gid: %s root: %s" % (
            "ok" if good else "FAIL", name, p, fields["Uid"].strip(),
            fields["Gid"].strip(), root))
        bad += not good
    if not kids:
        print("FAIL %s: no session process found" % name)
        bad += 1
    if name == "smtpd" and uids != {owner, session}:
        print("FAIL smtpd: the delivery side as the owner, the session as "
              "the session account: %r" % uids)
        bad += 1
    s.sendall(b"QUIT\r\n")
    f.readline()
    s.close()
    return bad

n = probe("smtpd", sp, [b"EHLO x\r\n"])
n += probe("pop3d", pp, [b"USER alice\r\n", b"PASS alicepw\r\n"])
sys.exit(1 if n else 0)
EOF
	while IFS= read -r l; do
		case $l in
		ok\ *) ok "jail: ${l#ok }" ;;
		FAIL\ *) bad "jail: ${l#FAIL }" ;;
		*) echo "$l" ;;
		esac
	done <"$W/jail-uid.out"
	check "jail: mail landed in the jail's spool, owned by $OWN" \
		test "$(stat -c %U "$J/spool/alice" 2>/dev/null)" = $OWN
else
	bad "jail: inetd ports did not come up"; cat "$W/inetd-jail.log"
fi
stop_all

# A re-run of mkjail (a new domain, new binaries) keeps the users it made;
# -U replaces one by name; -R starts the file over.
mkdir -p "$W/jailbin" && cp "$J/sbin/smtpd" "$J/sbin/pop3d" "$W/jailbin/"
if sh contrib/mkjail -o $OWN -b "$W/jailbin" -d example.org "$J" >"$W/mkjail2.out" 2>&1; then
	check "mkjail: a re-run without -U keeps alice, bob and carol" \
		test "$(grep -c '^alice:\|^bob:\|^carol:' "$J/etc/users")" = 3
else
	bad "mkjail: re-run failed"; cat "$W/mkjail2.out"
fi
sh contrib/mkjail -o $OWN -b "$W/jailbin" -d localhost -U 'alice:{PLAIN}newpw' "$J" \
    >"$W/mkjail3.out" 2>&1
check "mkjail: -U alice replaces her entry, bob and carol stay" \
	test "$(grep -c '^alice:{PLAIN}newpw:' "$J/etc/users") $(grep -c '^alice:' "$J/etc/users") $(grep -c '^bob:\|^carol:' "$J/etc/users")" = "1 1 2"
sh contrib/mkjail -o $OWN -b "$W/jailbin" -d localhost -R -U 'dave:{PLAIN}davepw' "$J" \
    >"$W/mkjail4.out" 2>&1
check "mkjail: -R leaves only the -U users, the old file kept as users.old" \
	test "$(grep -c '^[a-z]*:' "$J/etc/users") $(grep -c '^dave:' "$J/etc/users") $(grep -c '^bob:' "$J/etc/users.old")" = "1 1 1"
