# readers.sh: sourced by run.sh.  Mail readers on the spool pop3d serves.
# smtpd delivers four messages and pop3d's UIDL listing is recorded.  mutt
# marks one read and flags another and writes the mailbox back (Status,
# X-Status, Content-Length, Lines); GNU mailutils' mail marks a third read
# (Status, X-UID, X-IMAPbase); smtpd delivers a fifth.  Then pop3d must serve
# every message, each under the UIDL it had before the readers, and
# mailutils must still read the mailbox.  A check on the file's bytes tells
# whether the readers changed anything but the fields a UIDL rule can leave
# out: Status, X-Status, X-UID, X-IMAP, X-IMAPbase, X-Keywords,
# Content-Length, Lines.
#
# mutt runs in a private tmux server (its own socket in the scratch folder),
# driven by push, so nothing is typed; each reader and wait is bounded.

section "mail readers on the spool (mutt, mailutils): every UIDL unchanged"
R=$W/readers
mkdir -p "$R/spool" "$R/home" "$R/mail"
chgrp "$MGID" "$R/spool" && chmod 2775 "$R/spool"
MBOX=$R/spool/alice
SP=$(freeport) PP=$(freeport)
bg "$SBIN/smtpd" -L "127.0.0.1:$SP" -h localhost -d localhost -m "$R/spool" \
	-p "$W/users" -t 60 -l stderr 2>"$R/smtpd.log"
bg "$SBIN/pop3d" -L "[::1]:$PP" -h localhost -m "$R/spool" -p "$W/users" \
	-t 60 -l stderr 2>"$R/pop3d.log"

# The helper: the messages (clients.py's, with From_ lines, dots, 8-bit
# text), pop3d's view through poplib, and the mbox byte comparison.
cat >"$R/readers.py" <<'EOF'
import os, poplib, re, sys
sys.path.insert(0, os.environ["HERE"])
import clients

TAG = "readers"
# Fields that mail readers add or rewrite to keep their state in the mbox.
READER = (b"status", b"x-status", b"x-uid", b"x-imap", b"x-imapbase",
          b"x-keywords", b"content-length", b"lines")


def say(name, good, why=""):
    print(("ok %s" % name) if good else ("FAIL %s: %s" % (name, why)),
          flush=True)


def strip_reader(msg):
    """MSG without the reader fields of its header (with their folded lines);
    also the names of the fields taken out."""
    nl = b"\r\n" if b"\r\n" in msg else b"\n"
    head, sep, body = msg.partition(nl + nl)
    out, gone, skip = [], [], False
    for line in head.split(nl):
        if line[:1] in (b" ", b"\t"):
            if not skip:
                out.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        skip = b":" in line and name in READER
        if skip:
            gone.append(line.split(b":", 1)[0].decode(errors="replace"))
        else:
            out.append(line)
    return nl.join(out) + sep + body, gone


def mbox_messages(raw):
    """The messages of an mbox file: each From_ line at the start of the
    file or after an empty line begins one."""
    starts = [0] if raw.startswith(b"From ") else []
    starts += [m.start() + 2 for m in re.finditer(rb"\n\nFrom ", raw)]
    return [raw[a:b] for a, b in zip(starts, starts[1:] + [len(raw)])]


def pop(addr):
    host, port = clients.hostport(addr)
    p = poplib.POP3(host, port, timeout=clients.T)
    p.user("alice")
    p.pass_("alicepw")
    return p


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "message":            # message N FILE
        with open(args[1], "wb") as fh:
            fh.write(clients.message(TAG, int(args[0])))
    elif cmd == "uidl":             # uidl POP OUT: "N UIDL" lines
        p = pop(args[0])
        _, lines, _ = p.uidl()
        p.quit()
        with open(args[1], "wb") as fh:
            fh.write(b"".join(l + b"\n" for l in lines))
    elif cmd == "fields":           # fields BEFORE AFTER WHO
        with open(args[0], "rb") as fh:
            a = mbox_messages(fh.read())
        with open(args[1], "rb") as fh:
            b = mbox_messages(fh.read())
        name = ("%s changed nothing but reader fields (a UIDL without them "
                "stays)" % args[2])
        if len(a) != len(b):
            return say(name, False, "%d messages, then %d" % (len(a), len(b)))
        added = {}
        for i, (x, y) in enumerate(zip(a, b), 1):
            x0, _ = strip_reader(x)
            y0, gone = strip_reader(y)
            for g in gone:
                added[g] = added.get(g, 0) + 1
            if x0 != y0:
                k = next((j for j in range(min(len(x0), len(y0)))
                          if x0[j] != y0[j]), min(len(x0), len(y0)))
                return say(name, False, "message %d differs at byte %d: was "
                           "%r, now %r" % (i, k, x0[k - 30:k + 30],
                                           y0[k - 30:k + 30]))
        say(name, True)
        print("# %s: the file has now %s" % (args[2], ", ".join(
            "%s x%d" % kv for kv in sorted(added.items())) or "no such field"))
    elif cmd == "serve":            # serve POP N: RETR each, byte for byte
        n = int(args[1])
        p = pop(args[0])
        count = p.stat()[0]
        say("pop3d: STAT shows all %d messages" % n, count == n,
            "%d messages" % count)
        for i in range(1, min(n, count) + 1):
            _, lines, _ = p.retr(i)
            got, _ = strip_reader(b"\r\n".join(lines) + b"\r\n")
            clients.same("pop3d: RETR %d is message %d byte for byte (after "
                         "the reader fields)" % (i, i), got,
                         clients.message(TAG, i))
        p.quit()
    elif cmd == "dele":             # dele POP: DELE every message, QUIT
        p = pop(args[0])
        for i in range(1, p.stat()[0] + 1):
            p.dele(i)
        p.quit()
        p = pop(args[0])
        left = p.stat()[0]
        p.quit()
        say("pop3d: DELE of every message leaves the maildrop empty",
            left == 0, "%d left" % left)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, poplib.error_proto) as e:
        say("readers.py %s" % " ".join(sys.argv[1:2]), False, repr(e))
        sys.exit(1)
EOF
# helper CMD ARGS...: run the helper, its ok/FAIL lines counted here.
helper() {
	HERE=$HERE PYTHONDONTWRITEBYTECODE=1 $PY "$R/readers.py" "$@" \
	    >"$R/helper.out" 2>&1
	_rc=$?
	while IFS= read -r l; do
		case $l in
		ok\ *) ok "readers: ${l#ok }" ;;
		FAIL\ *) bad "readers: ${l#FAIL }" ;;
		*) echo "$l" ;;
		esac
	done <"$R/helper.out"
	return $_rc
}
# deliver N: message N to alice through smtpd, by curl.
deliver() {
	helper message "$1" "$R/msg.$1" &&
	curl -sS --max-time "$T" "smtp://127.0.0.1:$SP" --mail-from sender@example.org \
	    --mail-rcpt alice@localhost -T "$R/msg.$1" >>"$R/curl.log" 2>&1
}
# same_uidls NAME BEFORE AFTER: each message numbered in BEFORE has the same
# UIDL in AFTER.
same_uidls() {
	_moved=$(awk 'NR == FNR { u[$1] = $2; n++; next }
	    ($1 in u) { seen++; if (u[$1] != $2) printf " %s: %s -> %s;", $1, u[$1], $2 }
	    END { if (seen != n) printf " %d of %d messages gone;", n - seen, n }' "$2" "$3")
	if [ -z "$_moved" ]; then ok "$1"; else bad "$1:$_moved"; fi
}
# read_subjects: the numbers of the messages mailutils' frm sees as read.
read_subjects() {
	HOME=$R/home frm.mailutils --no-config -s read "$MBOX" 2>&1 |
		sed -n 's/.*interop readers message \([0-9]*\).*/\1/p' | tr '\n' ' '
}
owner() { stat -c '%U:%G %a' "$MBOX"; }

if wait_listen "$SP" "$PP"; then
	n=0
	for i in 1 2 3 4; do deliver $i && n=$((n + 1)); done
	check "readers: smtpd delivered 4 messages (curl smtp://)" test "$n" = 4
	helper uidl "[::1]:$PP" "$R/uidl.0"
	check "readers: pop3d lists 4 UIDLs" test "$(wc -l <"$R/uidl.0")" = 4
	cp "$MBOX" "$R/mbox.0"
	own=$(owner) ino=$(stat -c %i "$MBOX")

	# mutt: tag message 2 by its Message-ID and clear its New flag (read),
	# flag message 4 (important), write the mailbox back, quit.  No user
	# or system muttrc (-n -F); an existing folder, or mutt first asks
	# whether to create ~/Mail, and that question eats the pushed keys.
	printf '%s\n' 'set mbox_type=mbox' 'set move=no' 'set quit=yes' \
	    'set delete=no' 'set wait_key=no' 'set beep=no' 'set check_new=no' \
	    'set sort=mailbox-order' "set folder=\"$R/mail\"" 'set record=""' \
	    >"$R/muttrc"
	keys='<tag-pattern>~i readers.2@example.org<enter><tag-prefix><clear-flag>N'
	keys=$keys'<untag-pattern>~A<enter>'
	keys=$keys'<tag-pattern>~i readers.4@example.org<enter><tag-prefix><flag-message>'
	keys=$keys'<sync-mailbox><quit>'
	cat >"$R/mutt.sh" <<EOF
HOME='$R/home' TERM=screen mutt -n -F '$R/muttrc' -f '$MBOX' -e 'push "$keys"'
echo \$? >'$R/mutt.rc'
EOF
	rm -f "$R/mutt.rc"
	env -u TMUX tmux -S "$R/tmux.sock" -f /dev/null new-session -d -x 132 -y 40 \
	    "sh '$R/mutt.sh'" 2>"$R/tmux.log"
	i=0
	while [ ! -s "$R/mutt.rc" ] && [ $i -lt $((T * 10)) ]; do
		sleep 0.1; i=$((i + 1))
	done
	if [ ! -s "$R/mutt.rc" ]; then
		tmux -S "$R/tmux.sock" capture-pane -p >"$R/mutt.screen" 2>&1
		bad "readers: mutt did not finish in ${T}s; its screen:"
		cat "$R/mutt.screen" "$R/tmux.log"
	fi
	tmux -S "$R/tmux.sock" kill-server >/dev/null 2>&1
	check "readers: mutt exited 0" test "$(cat "$R/mutt.rc" 2>/dev/null)" = 0
	check "readers: mutt rewrote the mailbox" sh -c "! cmp -s '$R/mbox.0' '$MBOX'"
	check "readers: mailutils sees message 2 read (mutt's flag)" \
	    test "$(read_subjects)" = "2 "
	check "readers: mutt flagged message 4 (X-Status)" \
	    sh -c "grep -q '^X-Status: F' '$MBOX'"
	check "readers: mailbox owner and mode kept by mutt" test "$(owner)" = "$own"
	cp "$MBOX" "$R/mbox.1"
	helper fields "$R/mbox.0" "$R/mbox.1" mutt
	helper uidl "[::1]:$PP" "$R/uidl.1"
	same_uidls "readers: every UIDL unchanged after mutt" "$R/uidl.0" "$R/uidl.1"

	# mailutils' mail: print message 3 (marks it read), quit; hold keeps
	# read messages in the file.
	printf 'print 3\nquit\n' | HOME=$R/home timeout "$T" mail.mailutils \
	    --no-config -N -E 'set hold' -f "$MBOX" >"$R/mail.out" 2>&1
	mrc=$?
	check "readers: mail (mailutils) printed message 3 and exited 0" \
	    sh -c "[ $mrc = 0 ] && grep -q 'interop readers message 3' '$R/mail.out'"
	check "readers: mailutils sees messages 2 and 3 read" \
	    test "$(read_subjects)" = "2 3 "
	check "readers: mailbox owner and mode kept by mailutils" \
	    test "$(owner)" = "$own"
	[ "$(stat -c %i "$MBOX")" = "$ino" ] ||
		echo "# mailutils wrote a new file (inode $ino -> $(stat -c %i "$MBOX"))"
	cp "$MBOX" "$R/mbox.2"
	helper fields "$R/mbox.0" "$R/mbox.2" "mutt then mailutils"

	# smtpd appends to the file the readers wrote; mailutils reads it.
	check "readers: smtpd delivers a 5th message after the readers" deliver 5
	check "readers: mailutils sees message 5 new after the readers' fields" \
	    sh -c "HOME='$R/home' frm.mailutils --no-config -s new '$MBOX' |
		grep -q 'interop readers message 5'"
	helper uidl "[::1]:$PP" "$R/uidl.2"
	check "readers: pop3d lists 5 distinct UIDLs" \
	    test "$(awk '{ print $2 }' "$R/uidl.2" | sort -u | wc -l)" = 5
	same_uidls "readers: every UIDL unchanged after mutt, mailutils and a delivery" \
	    "$R/uidl.0" "$R/uidl.2"
	helper serve "[::1]:$PP" 5
	helper dele "[::1]:$PP"
	check "readers: mailbox empty after pop3d's expunge" test ! -s "$MBOX"
else
	bad "readers: smtpd -L and pop3d -L did not come up"; cat "$R"/*.log
fi
stop_all
