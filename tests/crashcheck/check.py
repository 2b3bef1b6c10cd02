"""check.py: on one crash state, what a user does next, with the real
binaries, and the invariants.

Next: a pop3d login to each mailbox (STAT, LIST, UIDL, RETR of everything,
QUIT), a delivery by smtpd of a new message to the protocol's mailboxes,
and a second login to each.  After each login, `mboxtool scan` (a full scan,
no index) must give the LIST sizes and UIDLs the login gave.

Violations (the state fails):
  acked      a message answered 250 (or there before the run) is missing,
             or not byte for byte what it was, or its UIDL changed
  fragment   a message served that is no message of the run (a torn piece,
             or two glued together), or an altered one
  duplicate  a message served twice that was acknowledged
  deleted    a message whose QUIT got +OK is back
  expunge    a QUIT without an answer removed some of its messages, not all
  index      LIST or UIDL differ from a fresh scan
  refused    a login or the next delivery failed
Notes (reported, allowed by the guarantees after a power cut):
  partial    a delivery to several mailboxes that got no 250 is in some
  lockout    a dotlock whose record is not whole: it shuts the mailbox
             until it is LOCK_STALE_S old
"""
import os
import re
import subprocess

import materialize
import protocols
from record import crash_id

MULTI = ("LIST", "UIDL", "RETR")


def parse_pop(out, cmds):
    """Responses to CMDS (after the greeting): [(command, ok, first line,
    [lines])], lines unstuffed, without CRLF."""
    lines = out.split(b"\r\n")
    pos, res = 1, []
    for c in cmds:
        if pos >= len(lines) or lines[pos] == b"":
            break
        first = lines[pos]
        pos += 1
        ok = first.startswith(b"+OK")
        body = []
        if ok and c.split()[0] in MULTI:
            while pos < len(lines) and lines[pos] != b".":
                ln = lines[pos]
                body.append(ln[1:] if ln.startswith(b"..") else ln)
                pos += 1
            pos += 1
        res.append((c, ok, first, body))
    return res


def login(bins, T, user, nmax):
    """One session: [(number, LIST size, UIDL, RETR bytes)], or an error text."""
    cmds = ["STAT", "LIST", "UIDL"] + ["RETR %d" % i for i in range(1, nmax + 1)] + ["QUIT"]
    out = subprocess.run(protocols.server_argv(bins["pop3d"], T),
                         input=protocols.pop_session(user, cmds),
                         capture_output=True, timeout=120).stdout
    res = parse_pop(out, ["USER", "PASS"] + cmds)
    if len(res) < 5 or not all(r[1] for r in res[:5]):
        return "login of %s failed: %r" % (user, out[-300:])
    count = int(res[2][2].split()[1])
    sizes = {int(l.split()[0]): int(l.split()[1]) for l in res[3][3]}
    uidls = {int(l.split()[0]): l.split()[1].decode() for l in res[4][3]}
    msgs = []
    for k in range(1, count + 1):
        if k - 1 + 5 >= len(res) or not res[k - 1 + 5][1]:
            return "RETR %d of %s failed" % (k, user)
        retr = b"".join(l + b"\r\n" for l in res[k - 1 + 5][3])
        msgs.append((k, sizes.get(k), uidls.get(k), retr))
    return msgs


def scan(bins, path):
    if not os.path.exists(path):
        return []
    out = subprocess.run([bins["mboxtool"], "scan", path], capture_output=True).stdout
    return [(int(l.split()[0]), int(l.split()[1]), l.split()[2])
            for l in out.decode().splitlines()]


class Expect:
    """What the state promises, from the protocol and the replies given."""

    def __init__(self, proto, state):
        acks = set(state.acks)
        self.acked, self.unacked = {}, {}
        for k, (mid, rcpts) in enumerate(protocols.deliveries(proto), 1):
            (self.acked if "250#%d" % k in acks else self.unacked)[mid] = rcpts
        self.gone, self.maybe = {}, {}
        for k, (user, ids) in enumerate(protocols.quits(proto), 1):
            (self.gone if "quit#%d" % k in acks else self.maybe).setdefault(
                user, []).extend(ids)
        for user, ids in protocols.COMMITTED.get(proto.extra, {}).items():
            self.gone.setdefault(user, []).extend(ids)
        self.initial = {u: [m for m, _ in msgs] for u, msgs in proto.setup.items()}


def judge(exp, ref, user, msgs, bad, nxt=None):
    """The invariants on one login's messages MSGS of USER."""
    seen = {}
    for k, size, uidl, retr in msgs:
        mid = crash_id(retr)
        if mid is not None and mid == nxt:
            seen[mid] = seen.get(mid, 0) + 1
            continue
        if mid is None or (user, mid) not in ref:
            bad.append(("fragment", "%s message %d is no message of the run "
                        "(%d bytes: %r...)" % (user, k, len(retr), retr[:60])))
            continue
        seen[mid] = seen.get(mid, 0) + 1
        want = ref[user, mid]
        if retr != want[1]:
            bad.append(("fragment", "%s message %d (%s) is not whole: %d bytes, "
                        "%d expected" % (user, k, mid, len(retr), len(want[1]))))
        elif uidl != want[0]:
            bad.append(("acked", "%s message %s has UIDL %s, was %s"
                        % (user, mid, uidl, want[0])))
    must = [m for m in exp.initial.get(user, [])]
    must += [m for m, r in exp.acked.items() if user in r]
    for mid in must:
        if mid in exp.gone.get(user, []):
            if seen.get(mid):
                bad.append(("deleted", "%s: %s is back after its QUIT got +OK" % (user, mid)))
        elif mid in exp.maybe.get(user, []):
            pass
        elif not seen.get(mid):
            bad.append(("acked", "%s: acknowledged %s is missing" % (user, mid)))
    for mid, n in seen.items():
        if n > 1 and mid not in exp.unacked:
            bad.append(("duplicate", "%s: %s served %d times" % (user, mid, n)))
    maybe = exp.maybe.get(user, [])
    if maybe:
        there = [m for m in maybe if seen.get(m)]
        if there and len(there) != len(maybe):
            bad.append(("expunge", "%s: an unanswered QUIT removed %s and kept %s"
                        % (user, sorted(set(maybe) - set(there)), there)))
    return seen


_LOCK_OK = re.compile(rb"^\d+\ninetmail \S+ (- - -( \S+)?|\d+ \d+ \S+ \d+ \d+)\n\Z")


def check(proto, rec, ref, state, bins, T):
    """Run the next steps on STATE (written in T/spool) and judge them.
    Returns (violations, notes): lists of (kind, text)."""
    spool = protocols.make_env(T)
    uid, gid = protocols.owner()
    materialize.write(state, rec, spool, uid, gid)
    bad, notes = [], []
    for name, f in state.files.items():
        if name.endswith(b".lock") and not _LOCK_OK.match(f[1]):
            notes.append(("lockout", "%s holds %r: not a whole record, so the "
                          "mailbox is shut until the lock is 10 minutes old"
                          % (name.decode(), f[1][:60])))
    exp = Expect(proto, state)
    nmax = len(ref) + 3
    first = {}
    for user in proto.users:
        msgs = login(bins, T, user, nmax)
        if isinstance(msgs, str):
            bad.append(("refused", msgs))
            continue
        _index(bins, spool, user, msgs, bad, "first login")
        first[user] = judge(exp, ref, user, msgs, bad)
    for mid, rcpts in exp.unacked.items():
        have = [u for u in rcpts if u in first and first[u].get(mid)]
        if have and len(have) != len(rcpts):
            notes.append(("partial", "unanswered %s is in %s only" % (mid, have)))
    out = subprocess.run(protocols.server_argv(bins["smtpd"], T),
                         input=protocols.smtp_session(proto.users, "n1", 1200),
                         capture_output=True, timeout=120).stdout
    if b"250 2.0.0" not in out:
        bad.append(("refused", "the next delivery failed: %r" % out[-200:]))
    want = protocols.body("n1", 1200).replace("\n", "\r\n").encode()
    for user in proto.users:
        msgs = login(bins, T, user, nmax + 1)
        if isinstance(msgs, str):
            bad.append(("refused", "second " + msgs))
            continue
        _index(bins, spool, user, msgs, bad, "second login")
        judge(exp, ref, user, msgs, bad, nxt="n1")
        got = [r for _, _, _, r in msgs if crash_id(r) == "n1"]
        if b"250 2.0.0" in out and (len(got) != 1 or not got[0].endswith(want)):
            bad.append(("acked", "%s: the next message is %s" % (
                user, "missing" if not got else "not whole" if len(got) == 1 else
                "there %d times" % len(got))))
    return _dedup(bad), _dedup(notes)


def _index(bins, spool, user, msgs, bad, when):
    fresh = scan(bins, os.path.join(spool, user))
    shown = [(k, size, uidl) for k, size, uidl, _ in msgs]
    if shown != fresh:
        bad.append(("index", "%s, %s: LIST/UIDL %r, a fresh scan %r"
                    % (user, when, shown, fresh)))


def _dedup(items):
    out = []
    for x in items:
        if x not in out:
            out.append(x)
    return out
