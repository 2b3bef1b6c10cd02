#!/usr/bin/env python3
"""smtpd-mbox.py: deliver tricky messages through smtpd, read the mailboxes
back with an independent reader (Python's mailbox.mbox) and compare every
message byte for byte with what was sent.

Python's mbox reader does not undo mboxrd quoting, so the test undoes it:
a stored line matching ^>+From  loses one '>'.  Environment: SMTPD (binary).
"""
import mailbox
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

# The users' uid:gid: as root, smtpd refuses a users-file entry without
# one, so every entry gets nobody's; unprivileged, our own.
OWNER_IDS = (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())


SMTPD = os.environ.get("SMTPD", "build/smtpd/smtpd")
HOST = "mail.example.org"


def messages():
    """The messages to send, as lists of (line, line end) pairs."""
    rnd = random.Random(3)
    m = []
    m.append([(b"Subject: plain", b"\r\n"), (b"", b"\r\n"), (b"Hello.", b"\r\n")])
    m.append([(b"Subject: from lines", b"\r\n"), (b"", b"\r\n"),
              (b"From here", b"\r\n"), (b">From there", b"\r\n"),
              (b">>From everywhere", b"\r\n"), (b"From", b"\r\n"),
              (b"From:header-like", b"\r\n"), (b" From indented", b"\r\n"),
              (b">" * 999 + b"From deep", b"\r\n"), (b"From ", b"\r\n")])
    m.append([(b"Subject: dots", b"\r\n"), (b"", b"\r\n"), (b".", b"\n"),
              (b"..", b"\r\n"), (b".x", b"\r\n"), (b"...", b"\r\n"),
              (b". ", b"\r\n"), (b"x.", b"\r\n")])
    m.append([(b"Subject: long", b"\r\n"), (b"", b"\r\n"),
              (b"a" * 5000, b"\r\n"), (b"." + b"b" * 2999, b"\r\n"),
              (b"c" * 999, b"\r\n"), (b"d" * 1000, b"\r\n"), (b"e" * 1001, b"\r\n")])
    m.append([(b"Subject: 8bit", b"\r\n"), (b"", b"\r\n"),
              (bytes(range(0x80, 0x100)), b"\r\n"), (b"nul\x00byte", b"\r\n"),
              (b"cr\rinside", b"\r\n"), (b"tab\there", b"\r\n")])
    m.append([(b"Subject: bare lf", b"\n"), (b"", b"\n"), (b"one", b"\n"),
              (b"two", b"\n"), (b".", b"\n"), (b"three", b"\r\n")])
    m.append([(b"Subject: trailing blank lines", b"\r\n"), (b"", b"\r\n"),
              (b"x", b"\r\n"), (b"", b"\r\n"), (b"", b"\r\n")])
    m.append([(b"", b"\r\n"), (b"no headers at all", b"\r\n")])
    m.append([])  # the empty message
    m.append([(b"Subject: smuggling", b"\r\n"), (b"", b"\r\n"),
              (b"a", b"\n"), (b".", b"\n"), (b"b", b"\n"), (b".", b"\r\n"),
              (b"c\r.\rd", b"\r\n"), (b".", b"\n"),
              (b"MAIL FROM:<evil@remote.example>", b"\r\n")])
    for _ in range(20):
        lines = [(b"Subject: random", b"\r\n"), (b"", b"\r\n")]
        for _ in range(rnd.randrange(1, 60)):
            n = rnd.choice([0, 1, 2, 5, 40, 80, 998, 1500])
            alphabet = b"ab .>From\t\x80\xff"
            line = bytes(rnd.choice(alphabet) for _ in range(n))
            if rnd.random() < 0.2:
                line = b">" * rnd.randrange(0, 4) + b"From " + line
            lines.append((line.replace(b"\r", b"").replace(b"\n", b""),
                          rnd.choice([b"\r\n", b"\r\n", b"\n"])))
        m.append(lines)
    return m


def wire(lines):
    """The DATA section as sent: dot-stuffed, ended by CRLF.CRLF."""
    out = b""
    for line, end in lines:
        out += (b"." + line if line.startswith(b".") else line) + end
    # the end mark must follow a CRLF: a message ending in bare LF gets one
    if lines and lines[-1][1] != b"\r\n":
        out += b"\r\n"
        lines.append((b"", b"\r\n"))
    return out + b".\r\n"


def expected(lines):
    return b"".join(line + b"\n" for line, _ in lines)


def unquote(body):
    return re.sub(rb"(?m)^>(>*From )", rb"\1", body)


def strip_trace(msg):
    """Drop the Return-Path and Received fields smtpd added."""
    lines = msg.split(b"\n")
    assert lines[0].startswith(b"Return-Path: <"), lines[0]
    assert lines[1].startswith(b"Received: from "), lines[1]
    i = 2
    while lines[i].startswith(b"\t"):
        i += 1
    return b"\n".join(lines[i:])


def main():
    tmp = tempfile.mkdtemp(prefix="smtpd-mbox.")
    try:
        spool = os.path.join(tmp, "spool")
        os.mkdir(spool)
        users = os.path.join(tmp, "users")
        with open(users, "w") as f:
            f.write("".join("%s:%d:%d\n" % (l, *OWNER_IDS) for l in ['alice:{PLAIN}x', 'bob:{PLAIN}y']))
        msgs = messages()
        # One session with many transactions, then one session a message.
        session = b"EHLO client.example\r\n"
        wires = [wire(m) for m in msgs]
        for w in wires:
            session += (b"MAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@%s>\r\n"
                        b"RCPT TO:<bob@%s>\r\nDATA\r\n" % (HOST.encode(), HOST.encode()))
            session += w
        session += b"QUIT\r\n"
        args = [SMTPD, "-h", HOST, "-m", spool, "-p", users]
        r = subprocess.run(args, input=session, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
        if r.stderr:
            print("stderr not empty:", r.stderr[:200])
            return 1
        queued = r.stdout.count(b"250 2.0.0 Ok: queued as ")
        if queued != len(msgs):
            print("queued %d of %d" % (queued, len(msgs)))
            print(r.stdout.decode("latin-1")[-500:])
            return 1
        for w in wires:
            s = (b"HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<alice@%s>\r\nDATA\r\n"
                 % HOST.encode()) + w + b"QUIT\r\n"
            r = subprocess.run(args, input=s, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=60)
            if b"250 2.0.0 Ok: queued as " not in r.stdout or r.stderr:
                print("single session failed:", r.stdout[-200:], r.stderr[:200])
                return 1
        fails = 0
        for box, want in (("alice", msgs + msgs), ("bob", msgs)):
            mb = mailbox.mbox(os.path.join(spool, box), create=False)
            keys = mb.keys()
            if len(keys) != len(want):
                print("%s: %d messages, want %d" % (box, len(keys), len(want)))
                return 1
            for i, k in enumerate(keys):
                got = unquote(strip_trace(mb.get_bytes(k)))
                exp = expected(want[i])
                if got != exp:
                    fails += 1
                    print("%s message %d differs:\n got %r\nwant %r"
                          % (box, i, got[:300], exp[:300]))
            mb.close()
        if fails:
            return 1
        print("ok: %d messages compared byte for byte" % (2 * len(msgs) + len(msgs)))
        return 0
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
