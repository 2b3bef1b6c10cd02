"""record.py: record one protocol: build its initial spool, run its steps
under strace with the real binaries, turn the trace into events
(events.py), and take the reference: every message's UIDL and RETR bytes,
from the spool before and after the run, read by mboxtool (a full scan, no
index)."""
import os
import re
import subprocess
import sys

import protocols
import trace
from events import Recording, stamp_of

# The replies a client relies on: smtpd's 250 for a message, pop3d's +OK
# to a QUIT that deleted mail.
ACKS = [(rb"250 2\.0\.0 ", "250"), (rb"\+OK bye, [1-9]\d* deleted", "quit")]


def mbox_messages(mboxtool, path):
    """[(uidl, size, RETR bytes)] of the mailbox file PATH, by a full scan."""
    if not os.path.exists(path):
        return []
    out = subprocess.run([mboxtool, "scan", path], capture_output=True, check=True).stdout
    msgs = []
    for line in out.decode().splitlines():
        n, size, uidl = line.split()[:3]
        retr = subprocess.run([mboxtool, "retr", path, n], capture_output=True,
                              check=True).stdout
        msgs.append((uidl, int(size), retr))
    return msgs


def crash_id(retr):
    """The X-Crash-Id of a message (RETR bytes), or None."""
    m = re.search(rb"^X-Crash-Id: (\S+)\r$", retr.split(b"\r\n\r\n")[0], re.M)
    return m.group(1).decode() if m else None


def reference(mboxtool, spool, users, ref, torn=()):
    """Add every message of USERS' mailboxes in SPOOL to REF, but those
    of ids TORN (a fragment left there on purpose is no message):
    (user, id) -> (uidl, RETR bytes).  (A message's trace fields name its
    recipient: its copies differ.)"""
    for u in users:
        for uidl, size, retr in mbox_messages(mboxtool, os.path.join(spool, u)):
            mid = crash_id(retr)
            if mid in torn:
                continue
            if mid is None:
                raise ValueError("a message without an id in the reference")
            if ref.get((u, mid), (uidl, retr)) != (uidl, retr):
                raise ValueError("message %s of %s differs between references" % (mid, u))
            ref[u, mid] = (uidl, retr)


def record(proto, T, bins):
    """Record PROTO in the fresh directory T.  Returns (Recording, reference)."""
    spool, older = protocols.build(proto, T, bins["pop3d"])
    rec = Recording(spool)
    rec.snapshot()
    for st in older:
        rec.stamps[stamp_of(st)] = (rec.real[st.st_ino], -1)
    rec.acks = ACKS
    ref = {}
    users = set(proto.users) | set(proto.setup)
    torn = protocols.TORN.get(proto.extra, [])
    reference(bins["mboxtool"], spool, users, ref, torn)
    out = os.path.join(T, "trace")
    env = dict(os.environ, SMTPD=bins["smtpd"], POP3D=bins["pop3d"])
    here = os.path.dirname(os.path.abspath(__file__))
    p = subprocess.run(trace.strace_argv(out) + [
        sys.executable, os.path.join(here, "protocols.py"), "drive", proto.name, T],
        env=env, capture_output=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError("the %s driver failed: %s" % (proto.name, p.stderr.decode()[-2000:]))
    rec.feed(trace.parse(out))
    rec.verify()
    rec.drop_scratch()
    for n in range(len(proto.steps)):
        reference(bins["mboxtool"], os.path.join(T, "ref.%d" % n), users, ref, torn)
    return rec, ref
