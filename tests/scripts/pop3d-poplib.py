#!/usr/bin/env python3
"""pop3d-poplib.py: Python's poplib against pop3d over loopback TCP.

A tiny inetd-style launcher, bound to 127.0.0.1 only, forks pop3d with each
connection as its stdin/stdout.  Checks: the whole client flow (CAPA, USER/
PASS, AUTH PLAIN, APOP, STAT, LIST, UIDL, RETR, TOP, DELE, RSET, QUIT); LIST
sizes against the bytes RETR sends; a mailbox with From_ and >From body lines
round-trips byte for byte; UIDLs stable across sessions and deletions; mail
delivered during a session (by Python's mailbox module, which takes the
dotlock + fcntl locks, and by smtpd when $SMTPD is built) is not shown in it
and survives its QUIT with deletions; IN-USE against a live session, and not against a killed one.
Exit status 0 when every check passed.  Env: POP3D, SMTPD (binaries)."""
import base64
import hashlib
import mailbox
import os
import poplib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

poplib._MAXLINE = 1 << 20   # real mail has lines longer than 2048
POP3D = os.environ.get("POP3D", os.path.join(os.getcwd(), "build/pop3d/pop3d"))
failures = []


def check(cond, what):
    print(("ok " if cond else "not ok ") + what)
    if not cond:
        failures.append(what)


class Launcher:
    """Accept on 127.0.0.1:<free port>, run pop3d per connection."""

    def __init__(self, args):
        self.args = args
        self.procs = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.log = open(os.path.join(T, "log"), "ab")
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            p = subprocess.Popen([POP3D] + self.args, stdin=conn.fileno(),
                                 stdout=conn.fileno(), stderr=self.log)
            conn.close()
            self.procs.append(p)

    def close(self):
        self.sock.close()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


def client(apop=False):
    return poplib.POP3("127.0.0.1", L.port if not apop else LA.port, timeout=20)


def login(user="alice", pw="alicepw"):
    c = client()
    c.user(user)
    c.pass_(pw)
    return c


# mboxrd text of messages: header + body lines, the way a reader sees them
MSGS = [
    b"Subject: one\n\nFrom the start of a line\n>From quoted once\n"
    b">>From quoted twice\n.leading dot\n..two dots\n.\nlast\n",
    b"Subject: two\n\n" + b"x" * 3000 + b"\n\n\ntrailing empty lines above\n",
    b"Subject: three\nX-Other: header\n\nbody\n",
    b"Subject: three\nX-Other: header\n\nbody\n",   # an identical copy
]


def mboxrd(msgs):
    out = b""
    for i, m in enumerate(msgs):
        out += b"From sender%d@example.com Mon Jan  1 10:00:0%d 2024\n" % (i, i)
        for line in m.split(b"\n")[:-1]:
            s = line.lstrip(b">")
            if s.startswith(b"From "):
                line = b">" + line
            out += line + b"\n"
        out += b"\n"
    return out


def as_retr(m):
    """What RETR must send (before stuffing): CRLF lines."""
    return [l for l in m.split(b"\n")[:-1]]


def write_box(name, data):
    p = os.path.join(SPOOL, name)
    with open(p, "wb") as f:
        f.write(data)
    os.chown(p, UID, GID)
    os.chmod(p, 0o600)
    return p


T = tempfile.mkdtemp(prefix="pop3d-poplib.")
SPOOL = os.path.join(T, "spool")
if os.geteuid() == 0:
    UID = GID = 65534
else:
    UID, GID = os.getuid(), os.getgid()
try:
    os.chmod(T, 0o755)
    os.mkdir(SPOOL)
    os.chown(SPOOL, -1, GID)
    os.chmod(SPOOL, 0o2775)
    users = os.path.join(T, "users")
    with open(users, "w") as f:
        f.write("alice:{PLAIN}alicepw:%d:%d\nbob:{PLAIN}bobpw:%d:%d\n"
                % (UID, GID, UID, GID))
    base = ["-h", "mail.example.org", "-m", SPOOL, "-p", users, "-l", "stderr"]
    L = Launcher(base)
    LA = Launcher(base + ["-a"])
    box = write_box("alice", mboxrd(MSGS))

    # -- the client flow, LIST against RETR, byte-exact round trip ------
    c = login()
    caps = c.capa()
    for cap in ("TOP", "UIDL", "USER", "RESP-CODES", "AUTH-RESP-CODE",
                "PIPELINING", "SASL", "EXPIRE", "IMPLEMENTATION"):
        check(cap in caps, "CAPA lists " + cap)
    check(caps.get("SASL") == ["PLAIN"], "CAPA SASL PLAIN")
    n, size = c.stat()
    check(n == 4, "STAT counts 4 messages")
    _, listing, _ = c.list()
    sizes = [int(l.split()[1]) for l in listing]
    check(sum(sizes) == size, "STAT size is the sum of LIST sizes")
    for i, m in enumerate(MSGS):
        resp, lines, octets = c.retr(i + 1)
        want = as_retr(m)
        # poplib undoes the stuffing; octets counts CRLFs (and stuffing)
        check(lines == want, "RETR %d round-trips From_/>From/dots exactly" % (i + 1))
        sent = sum(len(l) + 2 for l in lines)
        check(sent == sizes[i], "LIST %d size %d == RETR bytes %d" % (i + 1, sizes[i], sent))
        check(resp.startswith(b"+OK %d octets" % sizes[i]), "RETR %d +OK gives the size" % (i + 1))
    resp, lines, _ = c.top(1, 2)
    check(lines == as_retr(MSGS[0])[:4], "TOP 1 2: header, blank line, 2 body lines")
    resp, lines, _ = c.top(3, 0)
    check(lines == [b"Subject: three", b"X-Other: header", b""], "TOP 3 0: header only")
    _, uidl1, _ = c.uidl()
    ids1 = dict(l.split() for l in uidl1)
    check(len(set(ids1.values())) == 4, "UIDLs unique, identical copies included")
    check(all(1 <= len(u) <= 70 and all(0x21 <= ch <= 0x7e for ch in u)
              for u in ids1.values()), "UIDLs are 1-70 chars of 0x21-0x7E")
    c.dele(2)
    try:
        c.retr(2)
        check(False, "RETR of a deleted message fails")
    except poplib.error_proto as e:
        check(str(e).startswith("b'-ERR"), "RETR of a deleted message fails")
    for bad in ("0", "5", "-1", "99999999999999999999", "x"):
        try:
            c._shortcmd("LIST " + bad)
            check(False, "LIST %s is an error" % bad)
        except poplib.error_proto:
            check(True, "LIST %s is an error" % bad)
    c.rset()
    check(c.stat() == (4, size), "RSET unmarks")
    c.quit()
    check(open(box, "rb").read() == mboxrd(MSGS), "no deletion without DELE")

    # -- UIDL stability across sessions and after deletions ------------
    c = login()
    _, uidl2, _ = c.uidl()
    check(uidl2 == uidl1, "UIDLs the same in the next session")
    c.dele(1)
    c.dele(3)
    c.quit()
    c = login()
    _, uidl3, _ = c.uidl()
    ids3 = [l.split()[1] for l in uidl3]
    check(len(ids3) == 2 and ids3[0] == ids1[b"2"],
          "UIDL of message 2 survives deletion of others")
    check(ids3[1] in (ids1[b"3"], ids1[b"4"]), "UIDL of the identical copy is kept")
    resp, lines, _ = c.retr(1)
    check(lines == as_retr(MSGS[1]), "message 2 is now message 1, intact")
    c.quit()

    # -- AUTH PLAIN, with and without initial response; APOP ------------
    write_box("bob", mboxrd(MSGS[:1]))
    c = client()
    r = c._shortcmd("AUTH PLAIN " + base64.b64encode(b"\0bob\0bobpw").decode())
    check(r.startswith(b"+OK"), "AUTH PLAIN with initial response")
    check(c.stat()[0] == 1, "STAT after AUTH PLAIN")
    c.quit()
    c = client()
    c._putcmd("AUTH PLAIN")
    r = c._getline()[0]
    check(r.rstrip() == b"+", "AUTH PLAIN sends an empty challenge")
    r = c._shortcmd(base64.b64encode(b"bob\0bob\0bobpw").decode())
    check(r.startswith(b"+OK"), "AUTH PLAIN with a continuation line")
    c.quit()
    c = client(apop=True)
    check(c.timestamp.search(c.welcome) is not None, "-a puts a timestamp in the greeting")
    r = c.apop("bob", "bobpw")
    check(r.startswith(b"+OK"), "APOP with the right digest")
    c.quit()

    # -- deliveries during a session survive its QUIT --------------------
    write_box("alice", mboxrd(MSGS[:3]))
    c = login()
    n0, _ = c.stat()
    c.dele(1)
    t0 = time.monotonic()
    mb = mailbox.mbox(os.path.join(SPOOL, "alice"), create=False)
    mb.lock()
    mb.add(b"From late@example.com Mon Jan  1 11:00:00 2024\n"
           b"Subject: late\n\nlate body\n")
    mb.flush()
    mb.unlock()
    mb.close()
    check(time.monotonic() - t0 < 2, "delivery during a session is not blocked")
    smtp = os.environ.get("SMTPD", "")
    if smtp and os.access(smtp, os.X_OK):
        # and one by our own smtpd, when it is built
        r = subprocess.run([smtp, "-h", "mail.example.org", "-m", SPOOL, "-p", users,
                            "-l", "stderr"], input=b"HELO client.example.com\r\n"
                           b"MAIL FROM:<carol@example.com>\r\nRCPT TO:<alice@mail.example.org>\r\n"
                           b"DATA\r\nSubject: by smtpd\r\n\r\nsmtpd body\r\n.\r\nQUIT\r\n",
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=20)
        check(b"\r\n250 2.0.0" in r.stdout, "smtpd delivers during the session")
        late = 2
    else:
        print("# SMTPD not built: only Python's mailbox delivers")
        late = 1
    check(c.stat()[0] == n0 - 1, "the session does not see the new mail")
    try:
        c.retr(4)
        check(False, "the new message has no number in the session")
    except poplib.error_proto:
        check(True, "the new message has no number in the session")
    r = c.quit()
    check(r.startswith(b"+OK"), "QUIT with deletions commits: " + r.decode())
    c = login()
    msgs = [c.retr(i + 1)[1] for i in range(c.stat()[0])]
    c.quit()
    check(len(msgs) == 2 + late and msgs[0] == as_retr(MSGS[1]) and
          msgs[1] == as_retr(MSGS[2]) and msgs[2][-1] == b"late body",
          "after QUIT: 2 old messages and the one delivered by Python")
    if late == 2:
        check(msgs[3][-1] == b"smtpd body", "after QUIT: the one delivered by smtpd")

    # -- IN-USE: a live session blocks, a killed one does not ----------
    a = login()
    nprocs = len(L.procs)
    try:
        login()
        check(False, "second session gets IN-USE")
    except poplib.error_proto as e:
        check("[IN-USE]" in str(e), "second session gets -ERR [IN-USE]")
    victim = L.procs[nprocs - 1]
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    a.sock.close()
    c = login()
    check(c.stat()[0] == 2 + late, "a killed session's marker does not block")
    c.quit()

    L.close()
    LA.close()
    log = open(os.path.join(T, "log"), "rb").read()
    check(b"Sanitizer" not in log and b"runtime error" not in log,
          "no sanitizer report")
    check(b"alicepw" not in log and b"bobpw" not in log,
          "passwords never logged")
finally:
    shutil.rmtree(T, ignore_errors=True)

print("%d failed" % len(failures))
sys.exit(1 if failures else 0)
