#!/usr/bin/env python3
"""storeclaims.py: the store's rules across hosts, tried on the rig with the
servers running.  Each case plants, through host h1's mount, what a process
of h1 killed at a chosen instant would have left (a dotlock with its record,
a torn append, a journal half applied), then lets a pop3d login on h2 (or on
h1, for comparison) find it.  Logins go straight to a host from ADMIN_ADDR.

  in-use-across-hosts         a POP3 session on h1 makes a login on h2 get
                              [IN-USE] (fcntl lock on .U.pop through the volume)
  lock-other-host-age-only    a fresh dotlock recorded by h1 with a dead pid
                              is not broken by h2 (it cannot see h1's pids):
                              the login waits LOCK_WAIT_MS and fails; h1
                              breaks it at once
  lock-other-host-aged        the same dotlock LOCK_STALE_S old is broken by h2
  append-record-*             a torn append recorded in h1's dotlock is cut
                              back by whoever breaks the lock (h1 at once;
                              h2 once the lock is old)
  txn-*                       a whole append of a multi-mailbox delivery is
                              kept when its commit marker exists, cut when it
                              surely does not
  journal-*                   an expunge killed while copying its journal
                              over the mailbox is finished by the next locker
"""
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (ADMIN_ADDR, GID, UID, Cut, Pop, Results, hosts,  # noqa: E402
                 log_lines, mbox_text, read_mbox)

res = Results("store")
rng = random.Random(12)
H = hosts()
h1, h2 = H[0], H[1]
STALE = 700        # older than LOCK_STALE_S (600 s)


def dead_pid():
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def put(path, data, age=None):
    with open(path, "wb") as f:
        f.write(data)
    os.chown(path, UID, GID)
    os.chmod(path, 0o600)
    if age:
        t = time.time() - age
        os.utime(path, (t, t))


def dotlock(user, pid, host, record="- - -", age=None):
    path = f"{h1.view}/{user}.lock"
    with open(path, "w") as f:
        f.write(f"{pid}\ninetmail {host.fqdn} {record}\n")
    os.chmod(path, 0o644)
    if age:
        t = time.time() - age
        os.utime(path, (t, t))


def login(host, user, timeout=40):
    t0 = time.time()
    try:
        p = Pop(host.pop, ADMIN_ADDR, timeout)
    except Cut as e:
        return f"(cut: {e})", time.time() - t0
    try:
        r = p.login(user)
    except Cut as e:
        r = f"(cut: {e})"
    t = time.time() - t0
    try:
        if r.startswith("+OK"):
            p.cmd("STAT")
        p.cmd("QUIT")        # pop3d may have closed after an -ERR
    except Cut:
        pass
    p.close()
    return r, t


def box(user):
    msgs, problems = read_mbox(f"{h1.view}/{user}")
    torn = [m["id"] for m in msgs if not m["whole"]]
    return [m["id"] for m in msgs], torn, problems


def logged(host, user, words):
    return [t for _, _, t in log_lines(host.name, "pop3d") + log_lines(host.name, "smtpd")
            if user in t and any(w in t for w in words)]


def msgs(user, n):
    return [mbox_text(f"{user}-m{i}", "planted", rng, 3000) for i in range(1, n + 1)]


def case_in_use():
    put(f"{h1.view}/inuse", b"".join(msgs("inuse", 1)))
    a = Pop(h1.pop, ADMIN_ADDR, 30)
    ra = a.login("inuse")
    rb, _ = login(h2, "inuse")
    a.cmd("QUIT")
    a.close()
    rc, _ = login(h2, "inuse")
    res.check(ra.startswith("+OK") and "[IN-USE]" in rb and rc.startswith("+OK"),
              "in-use-across-hosts",
              f"h1 {ra[:3]}, then h2 while h1's session is open: {rb!r}, after it: {rc[:3]}")


def case_lock_age():
    u = "cl1"
    put(f"{h1.view}/{u}", b"".join(msgs(u, 1)))
    dotlock(u, dead_pid(), h1)
    r2, t2 = login(h2, u)
    still = os.path.exists(f"{h1.view}/{u}.lock")
    r1, t1 = login(h1, u)
    gone = not os.path.exists(f"{h1.view}/{u}.lock")
    res.check(r2.startswith("-ERR") and still and t2 >= 9 and r1.startswith("+OK") and gone,
              "lock-other-host-age-only",
              f"h2: {r2!r} after {t2:.1f} s, lock kept: {still}; h1: {r1[:3]} after {t1:.2f} s, "
              f"lock broken: {gone}")
    u = "cl2"
    put(f"{h1.view}/{u}", b"".join(msgs(u, 1)))
    dotlock(u, os.getpid(), h1, age=STALE)
    r2, t2 = login(h2, u)
    gone = not os.path.exists(f"{h1.view}/{u}.lock")
    res.check(r2.startswith("+OK") and gone, "lock-other-host-aged",
              f"a {STALE} s old dotlock of h1 (live pid): h2 {r2[:3]} after {t2:.2f} s, broken: {gone}")


def plant_append(u, whole, txn="-"):
    """Mailbox U = M1 + M2 (all of it, or its first half), and a dotlock
    record of the append of M2 made by h1 (its st_dev and st_ino)."""
    m1, m2 = msgs(u, 2)
    put(f"{h1.view}/{u}", m1 + (m2 if whole else m2[:len(m2) // 2]))
    st = os.stat(f"{h1.view}/{u}")
    return f"{len(m1)} {len(m2)} {txn} {st.st_dev} {st.st_ino}"


def case_append(other):
    host, name = (h2, "other-host") if other else (h1, "same-host")
    age = STALE if other else None
    u = "cl3" + ("o" if other else "s")
    dotlock(u, dead_pid(), h1, plant_append(u, whole=False), age)
    r, t = login(host, u)
    ids, torn, _ = box(u)
    res.check(ids == [f"{u}-m1"] and not torn, f"append-record-{name}",
              f"torn append of h1 found by {host.name}: login {r[:3]}, mailbox now "
              f"{len(ids)} message(s), {len(torn)} torn {logged(host, u, ['recovered', 'grew'])[:1]}")

    u = "cl4" + ("o" if other else "s")
    dotlock(u, dead_pid(), h1, plant_append(u, whole=True, txn=".txn.1.1.1"), age)
    r, t = login(host, u)
    ids, torn, _ = box(u)
    res.check(ids == [f"{u}-m1"] and not torn, f"txn-uncommitted-{name}",
              f"whole append, no commit marker, found by {host.name}: {len(ids)} message(s) "
              f"(want 1) {logged(host, u, ['recovered'])[:1]}")

    u = "cl5" + ("o" if other else "s")
    marker = f"{h1.view}/.txn.2.2.2"
    put(marker, b"")
    dotlock(u, dead_pid(), h1, plant_append(u, whole=True, txn=".txn.2.2.2"), age)
    r, t = login(host, u)
    ids, torn, _ = box(u)
    os.unlink(marker)
    res.check(ids == [f"{u}-m1", f"{u}-m2"] and not torn, f"txn-committed-{name}",
              f"whole append, marker present, found by {host.name}: {len(ids)} message(s) (want 2)")


def case_journal(other):
    """An expunge by h1 of the first of three messages, killed halfway
    through copying its committed journal over the mailbox."""
    host, name = (h2, "other-host") if other else (h1, "same-host")
    u = "cl6" + ("o" if other else "s")
    m = msgs(u, 3)
    put(f"{h1.view}/{u}", b"".join(m))
    st = os.stat(f"{h1.view}/{u}")
    data = m[1] + m[2]
    head = (f"inetmail-redo 1 {st.st_dev} {st.st_ino} 0 {len(data)} "
            f"{st.st_size}\n").encode()
    put(f"{h1.view}/.{u}.redo", head + b"\0" * (256 - len(head)) + data)
    with open(f"{h1.view}/{u}", "r+b") as f:        # half applied
        f.write(data[:len(data) // 2])
    dotlock(u, dead_pid(), h1, age=STALE if other else None)
    r, t = login(host, u)
    ids, torn, problems = box(u)
    aside = [f for f in os.listdir(h1.view) if f.startswith(f".{u}.redo")]
    for f in aside:                 # what the admin would look at
        os.unlink(f"{h1.view}/{f}")
    res.check(ids == [f"{u}-m2", f"{u}-m3"] and not torn and not problems and not aside,
              f"journal-{name}",
              f"found by {host.name}: login {r[:3]}, mailbox {len(ids)} message(s) "
              f"{len(torn)} torn{' ' + problems[0] if problems else ''}, journal left: {aside} "
              f"{logged(host, u, ['journal', 'replayed'])[:1]}")


if __name__ == "__main__":
    case_in_use()
    case_lock_age()
    for other in (False, True):
        case_append(other)
        case_journal(other)
    sys.exit(res.summary())
