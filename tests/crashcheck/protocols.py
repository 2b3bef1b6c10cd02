"""protocols.py: the update protocols explored, each an initial spool and
the steps a client takes with the real binaries, and the test messages.

Each message carries an X-Crash-Id header; the check knows every message by
it.  Sizes are chosen so that the appends, journals and cuts cross 4 KiB
boundaries of their files at telling places (inside the trace header, in a
body), since a power cut may tear a write there.

Run as a script (`protocols.py drive NAME DIR`) it is the driver that
record.py runs under strace: it plays the protocol's steps against smtpd and
pop3d.  Env: SMTPD, POP3D.
"""
import os
import socket
import subprocess
import sys

HOST = "mail.example.org"
PASSWORD = "pw"
USERS = ("alice", "bob", "carol")


def ids_of(msgs):
    return [m[0] for m in msgs]


def body(mid, size, blank=0):
    """A message (LF line ends) of SIZE bytes with header X-Crash-Id: MID,
    paragraphs of 8 lines, a From_-looking body line (smtpd quotes it), and
    BLANK empty lines in a row in its middle."""
    head = ("Subject: test %s\nX-Crash-Id: %s\nMessage-Id: <%s@example.org>\n\n"
            "From the start of a body line\n" % (mid, mid, mid))
    lines, n = [], 0
    while len(head) + sum(map(len, lines)) < size:
        lines.append("%s line %04d abcdefghijklmnopqrstuvwxyz0123456789\n" % (mid, n)
                     if n % 9 != 8 else "\n")
        if n == 20:
            lines.append("\n" * blank)
        n += 1
    return (head + "".join(lines))[:size - 1] + "\n"


def mbox_message(mid, size, sender="s@example.org"):
    """MID as inetmail would have stored it (From_ line, trace fields,
    mboxrd quoting, the closing empty line)."""
    text = body(mid, size)
    out = []
    for line in text.split("\n")[:-1]:
        if line.lstrip(">").startswith("From "):
            line = ">" + line
        out.append(line + "\n")
    return ("From %s Thu Nov 26 06:00:00 2026\nReturn-Path: <%s>\n"
            "Received: from c (unknown)\n\tby %s with ESMTP id init%s\n"
            "\tfor <x@%s>; Thu, 26 Nov 2026 06:00:00 +0000\n"
            % (sender, sender, HOST, mid, HOST) + "".join(out) + "\n").encode()


def smtp_session(rcpts, mid, size, blank=0):
    s = "EHLO c.example.org\r\nMAIL FROM:<s@example.org>\r\n"
    for r in rcpts:
        s += "RCPT TO:<%s@%s>\r\n" % (r, HOST)
    s += "DATA\r\n" + body(mid, size, blank).replace("\n", "\r\n") + ".\r\nQUIT\r\n"
    return s.encode()


def pop_session(user, cmds):
    s = "USER %s\r\nPASS %s\r\n" % (user, PASSWORD) + "".join(c + "\r\n" for c in cmds)
    return s.encode()


class Protocol:
    """NAME: SETUP builds the initial spool (mailbox name -> list of
    (id, size)); STEPS are ("smtp", rcpts, id, size), ("pop", user,
    [commands]) or ("pop-during", user, [commands], smtp step): a session
    that runs a delivery before its QUIT.  USERS are the mailboxes the
    check looks at.  EXTRA leaves a dead process's work in the initial
    spool: "torn-append" (half of message t1, never answered, and the
    writer's dotlock) or "journal" (a committed expunge of a1: the
    deletion is decided, whoever finishes it)."""

    def __init__(self, name, what, setup, steps, users, extra=None, index=True):
        self.name, self.what, self.setup, self.steps = name, what, setup, steps
        self.users, self.extra, self.index = users, extra, index


def deliveries(proto):
    """(id, recipients) of each delivery of PROTO, in the order of their 250s."""
    out = []
    for st in proto.steps:
        sm = st[3] if st[0] == "pop-during" else st
        if sm[0] == "smtp":
            out.append((sm[2], sm[1]))
    return out


def quits(proto):
    """(user, ids deleted) of each QUIT of PROTO that deletes, in order: the
    DELE numbers are those of the session's snapshot."""
    boxes = {u: ids_of(m) for u, m in proto.setup.items()}
    out = []
    for st in proto.steps:
        if st[0] == "smtp":
            for r in st[1]:
                boxes.setdefault(r, []).append(st[2])
            continue
        box = boxes.setdefault(st[1], [])
        gone = [box[int(c.split()[1]) - 1] for c in st[2] if c.startswith("DELE ")]
        if st[0] == "pop-during":
            box.append(st[3][2])
        if gone:
            out.append((st[1], gone))
            boxes[st[1]] = [m for m in box if m not in gone]
    return out


# What an EXTRA means for the check: a fragment that is no message, and
# messages whose deletion was committed before the run.
TORN = {"torn-append": ["t1"]}
COMMITTED = {"journal": {"alice": ["a1"]}}

A3 = [("a1", 1500), ("a2", 2141)]	# 4047 bytes: 4 KiB falls in the next header
AG = [("a1", 1500), ("a2", 2188)]	# 4094 bytes: and in the next From_ line
A4 = [("a1", 1500), ("a2", 2100), ("a3", 5200)]
AL = [("a1", 1500), ("a2", 2146)]	# 4052 bytes: 8 KiB falls just after a line of d1
B1 = [("b1", 1800)]
C1 = [("c1", 3900)]

PROTOCOLS = [
    Protocol("deliver-existing", "a delivery to an existing mailbox",
             {"alice": A3}, [("smtp", ["alice"], "d1", 7000)], ["alice"]),
    Protocol("deliver-glue", "a delivery whose From_ line crosses 4 KiB",
             {"alice": AG}, [("smtp", ["alice"], "d1", 5000)], ["alice"]),
    Protocol("deliver-lineend", "a delivery that 8 KiB cuts just after a line end",
             {"alice": AL}, [("smtp", ["alice"], "d1", 7000)], ["alice"]),
    Protocol("deliver-blank", "a delivery with 4,200 empty lines in a row",
             {"alice": A3}, [("smtp", ["alice"], "d1", 9000, 4200)], ["alice"]),
    Protocol("deliver-new", "a delivery that creates the mailbox",
             {"alice": A3}, [("smtp", ["bob"], "d1", 6500)], ["bob"]),
    Protocol("deliver-multi", "a delivery to three mailboxes at once",
             {"alice": A3, "bob": B1, "carol": C1},
             [("smtp", ["alice", "bob", "carol"], "d1", 6000)], ["alice", "bob", "carol"]),
    Protocol("expunge-journal", "DELE of the first message and QUIT: the journal",
             {"alice": A4}, [("pop", "alice", ["DELE 1", "QUIT"])], ["alice"]),
    Protocol("expunge-tail", "DELE of the last message and QUIT: a truncation",
             {"alice": A4}, [("pop", "alice", ["DELE 3", "QUIT"])], ["alice"]),
    Protocol("expunge-late", "DELE 1, a delivery during the session, QUIT",
             {"alice": A4}, [("pop-during", "alice", ["DELE 1", "QUIT"],
                              ("smtp", ["alice"], "d1", 5000))], ["alice"]),
    Protocol("index-write", "a login that scans and writes the index",
             {"alice": A4}, [("pop", "alice", ["STAT", "QUIT"])], ["alice"], index=False),
    Protocol("stale-lock", "a delivery that meets a dead writer's dotlock and torn append",
             {"alice": A3}, [("smtp", ["alice"], "d1", 6000)], ["alice"], extra="torn-append"),
    Protocol("recover-append", "a login that meets a dead writer's dotlock and torn append",
             {"alice": A3}, [("pop", "alice", ["STAT", "QUIT"])], ["alice"], extra="torn-append"),
    Protocol("recover-journal", "a login that finds a committed expunge journal",
             {"alice": A4}, [("pop", "alice", ["STAT", "QUIT"])], ["alice"], extra="journal"),
    Protocol("sequence", "a delivery, the tail expunge of it, a smaller delivery",
             {"alice": A3}, [("smtp", ["alice"], "d1", 7000),
                             ("pop", "alice", ["DELE 3", "QUIT"]),
                             ("smtp", ["alice"], "d2", 2500)], ["alice"]),
]


def by_name(name):
    for p in PROTOCOLS:
        if p.name == name:
            return p
    raise KeyError(name)


# -- the environment -------------------------------------------------------
def owner():
    return (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())


def make_env(T):
    """T/users and an empty T/spool, as the other script tests make them."""
    uid, gid = owner()
    os.chmod(T, 0o755)
    spool = os.path.join(T, "spool")
    os.mkdir(spool)
    os.chown(spool, -1, gid)
    os.chmod(spool, 0o2775)
    with open(os.path.join(T, "users"), "w") as f:
        for u in USERS:
            f.write("%s:{PLAIN}%s:%d:%d\n" % (u, PASSWORD, uid, gid))
    return spool


def server_argv(binary, T):
    return [binary, "-h", HOST, "-m", os.path.join(T, "spool"),
            "-p", os.path.join(T, "users"), "-l", "stderr"]


def put(spool, name, data):
    uid, gid = owner()
    p = os.path.join(spool, name)
    with open(p, "wb") as f:
        f.write(data)
    os.chown(p, uid, gid)
    os.chmod(p, 0o600)


def hostname():
    """The host word of a dotlock record (lock.c: host_name)."""
    return "".join(c if " " < c < "\x7f" else "_" for c in socket.gethostname()[:255])


def dead_pid():
    """A pid that no process has (for a dead holder's record)."""
    for pid in range(30000, 2, -1):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
    raise RuntimeError("no free pid")


def build(proto, T, pop3d):
    """The initial spool of PROTO in T: its mailboxes, their indexes (a
    login writes them, as in use), and its extra leftovers.  Returns the
    spool and the stat of each mailbox an extra changed after its index
    was written (that index describes a version older than the run)."""
    spool = make_env(T)
    before = []
    for name, msgs in proto.setup.items():
        put(spool, name, b"".join(mbox_message(m, s) for m, s in msgs))
        if proto.index:
            run_pop(pop3d, T, name, ["QUIT"])
    if proto.extra == "torn-append":
        # A writer that died mid-append: half a message, and its dotlock.
        box = os.path.join(spool, "alice")
        st = os.stat(box)
        before.append(st)
        whole = mbox_message("t1", 5000)	# the file ends in an empty line
        with open(box, "ab") as f:
            f.write(whole[:len(whole) // 2])
        put(spool, "alice.lock", b"%d\ninetmail %s %d %d - %d %d\n" % (
            dead_pid(), hostname().encode(), st.st_size, len(whole), st.st_dev, st.st_ino))
    elif proto.extra == "journal":
        # An expunge of message 1 that committed its journal and died.
        box = os.path.join(spool, "alice")
        st = os.stat(box)
        old = open(box, "rb").read()
        first = mbox_message(*proto.setup["alice"][0])
        data = old[len(first):]
        head = b"inetmail-redo 1 %d %d 0 %d %d\n" % (st.st_dev, st.st_ino, len(data), len(old))
        put(spool, ".alice.redo", head + b"\0" * (256 - len(head)) + data)
        put(spool, "alice.lock", b"%d\ninetmail %s - - -\n" % (dead_pid(), hostname().encode()))
    return spool, before


def run_pop(pop3d, T, user, cmds):
    return subprocess.run(server_argv(pop3d, T), input=pop_session(user, cmds),
                          capture_output=True, timeout=120).stdout


def run_smtp(smtpd, T, rcpts, mid, size, blank=0):
    return subprocess.run(server_argv(smtpd, T), input=smtp_session(rcpts, mid, size, blank),
                          capture_output=True, timeout=120).stdout


def pop_during(pop3d, smtpd, T, user, cmds, sm):
    """A session that deletes, lets a delivery in, then QUITs."""
    p = subprocess.Popen(server_argv(pop3d, T), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    before = [c for c in cmds if c != "QUIT"]
    p.stdin.write(pop_session(user, before))
    p.stdin.flush()
    for _ in range(3 + len(before)):		# greeting, USER, PASS, each command
        if not p.stdout.readline():
            break
    run_smtp(smtpd, T, sm[1], sm[2], sm[3])
    out, _ = p.communicate(b"QUIT\r\n", timeout=120)
    return out


def drive(proto, T):
    """The protocol's steps (run under strace by record.py).  After each,
    the mailboxes are copied to T/ref.N/ for the reference: a message may
    live only between two steps."""
    smtpd, pop3d = os.environ["SMTPD"], os.environ["POP3D"]
    for n, st in enumerate(proto.steps):
        if st[0] == "smtp":
            run_smtp(smtpd, T, *st[1:])
        elif st[0] == "pop":
            run_pop(pop3d, T, st[1], st[2])
        else:
            pop_during(pop3d, smtpd, T, st[1], st[2], st[3])
        keep = os.path.join(T, "ref.%d" % n)
        os.mkdir(keep)
        for u in USERS:
            if os.path.exists(os.path.join(T, "spool", u)):
                with open(os.path.join(T, "spool", u), "rb") as f:
                    data = f.read()
                with open(os.path.join(keep, u), "wb") as f:
                    f.write(data)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "drive":
        drive(by_name(sys.argv[2]), sys.argv[3])
    else:
        sys.exit("usage: protocols.py drive NAME DIR")
