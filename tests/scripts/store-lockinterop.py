#!/usr/bin/env python3
"""store-lockinterop.py: the store's locks against other programs' locks.

Python's mailbox.mbox.lock() (fcntl, then dotlock) and the store must keep
each other out; our stale dotlocks are broken at once, foreign ones only when
old; a dead writer's torn append recorded in its dotlock is cut off by the
next delivery, a whole one kept.  procmail's lockfile and mutt_dotlock are
checked too when installed (never installed for this test).
Environment: B (build dir), TOP; the tool is $TOP/$B/tools/mboxtool."""
import fcntl
import mailbox
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

B = os.environ.get("B", "build")
TOOL = os.path.join(os.environ.get("TOP", "."), B, "tools", "mboxtool")
WAIT_MS = 700		# MBOXTOOL_WAIT_MS: the store's lock wait, shortened
EX_TEMPFAIL = 75
ORIG = (b"From a@example.org Thu Nov 26 06:00:00 2026\n"
        b"Subject: first\n\nhello\n\n"
        b"From b@example.org Thu Nov 26 06:00:01 2026\n"
        b"Subject: second\n\n>From quoted\nbye\n\n")
BODY = b"Subject: new\n\nnew message\n"

failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL: store-lockinterop: " + what, file=sys.stderr)
    return cond


def deliver(spool, name, body=BODY):
    """Run mboxtool deliver; return (exit status, seconds taken, stderr)."""
    env = dict(os.environ, MBOXTOOL_WAIT_MS=str(WAIT_MS))
    t0 = time.monotonic()
    p = subprocess.run([TOOL, "deliver", spool, name], input=body, env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    return p.returncode, time.monotonic() - t0, p.stderr.decode(errors="replace")


def is_orig_plus_new(data, orig):
    """DATA is ORIG followed by exactly one delivery of BODY."""
    if not data.startswith(orig):
        return False
    return re.fullmatch(rb"From sender@example\.org [^\n]*\n" + re.escape(BODY)
                        + rb"\n", data[len(orig):]) is not None


def read(path):
    with open(path, "rb") as f:
        return f.read()


def fresh(spool, name, data=ORIG):
    path = os.path.join(spool, name)
    for p in (path, path + ".lock"):
        if os.path.exists(p):
            os.unlink(p)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)
    return path


def dead_pid():
    """A pid that existed a moment ago and is gone now."""
    p = subprocess.Popen(["true"])
    p.wait()
    return p.pid


def blocked(spool, name, path, why):
    """A delivery while someone else holds the lock: 75, nothing written,
    within a bounded wait."""
    before = read(path)
    st, secs, err = deliver(spool, name)
    check(st == EX_TEMPFAIL, "%s: deliver exit %d, want 75 (%s)" % (why, st, err.strip()))
    check(read(path) == before, "%s: mailbox changed while locked" % why)
    check(secs < WAIT_MS / 1000 + 5, "%s: lock wait took %.1fs" % (why, secs))


def delivered(spool, name, path, orig, why):
    st, _, err = deliver(spool, name)
    check(st == 0, "%s: deliver exit %d, want 0 (%s)" % (why, st, err.strip()))
    check(is_orig_plus_new(read(path), orig),
          "%s: mailbox is not the original plus the new message" % why)
    check(not os.path.exists(path + ".lock"), "%s: dotlock left behind" % why)


def python_holds(spool):
    """(a) Python's mailbox lock keeps the store out, fcntl and dotlock."""
    path = fresh(spool, "py")
    box = mailbox.mbox(path, create=False)
    box.lock()
    try:
        blocked(spool, "py", path, "python lock held")
        # Python's dotlock alone (an empty file) must keep us out too.
        fcntl.lockf(box._file, fcntl.LOCK_UN)
        check(os.path.exists(path + ".lock"), "python dotlock missing")
        blocked(spool, "py", path, "python dotlock only")
    finally:
        box.unlock()
        box.close()
    delivered(spool, "py", path, ORIG, "after python unlock")


def store_holds(spool):
    """(b) mboxtool hold keeps Python's mailbox lock out."""
    path = fresh(spool, "hold")
    p = subprocess.Popen([TOOL, "hold", spool, "hold", "3"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = p.stdout.readline()
        if not check(line == b"locked\n", "hold: no 'locked' line (%r)" % line):
            return
        box = mailbox.mbox(path, create=False)
        try:
            box.lock()
            check(False, "python locked a mailbox held by the store")
            box.unlock()
        except mailbox.ExternalClashError:
            pass
        check(p.wait(timeout=15) == 0, "hold exited %s" % p.returncode)
        try:
            box.lock()
            box.unlock()
        except mailbox.ExternalClashError as e:
            check(False, "python lock after hold ended: %s" % e)
        box.close()
        check(read(path) == ORIG, "hold: mailbox changed")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def stale_locks(spool):
    """(c) our dead-pid dotlock goes at once; a foreign one only when old."""
    host = socket.gethostname()
    path = fresh(spool, "stale")
    with open(path + ".lock", "w") as f:
        f.write("%d\ninetmail %s - - -\n" % (dead_pid(), host))
    t0 = time.monotonic()
    delivered(spool, "stale", path, ORIG, "own stale dotlock")
    check(time.monotonic() - t0 < WAIT_MS / 1000,
          "own stale dotlock not broken at once")

    path = fresh(spool, "foreign")
    open(path + ".lock", "w").close()
    blocked(spool, "foreign", path, "fresh foreign dotlock")
    check(os.path.exists(path + ".lock"), "fresh foreign dotlock was removed")
    old = time.time() - 11 * 60
    os.utime(path + ".lock", (old, old))
    delivered(spool, "foreign", path, ORIG, "11-minute-old foreign dotlock")


def torn_append(spool):
    """(d) a dead writer's append recorded in its dotlock: torn bytes are cut
    off before the next delivery; a complete append is kept."""
    host = socket.gethostname()
    msg = (b"From c@example.org Thu Nov 26 06:00:02 2026\n"
           b"Subject: appended\n\nthe whole appended message\n\n")
    for name, added, length, keep in (
            ("torn", msg[:30], len(msg), False),
            ("whole", msg, len(msg), True)):
        path = fresh(spool, name, ORIG + added)
        st = os.stat(path)
        with open(path + ".lock", "w") as f:
            f.write("%d\ninetmail %s %d %d - %d %d\n" % (
                dead_pid(), host, len(ORIG), length, st.st_dev, st.st_ino))
        want = ORIG + added if keep else ORIG
        delivered(spool, name, path, want,
                  "%s append (%d of %d bytes)" % (name, len(added), length))


def lockfile_procmail(spool):
    """procmail's lockfile(1) and the store keep each other out."""
    path = fresh(spool, "pm")
    st = subprocess.run(["lockfile", "-r0", path + ".lock"], timeout=30).returncode
    if not check(st == 0, "lockfile -r0 failed (%d)" % st):
        return
    blocked(spool, "pm", path, "procmail lockfile held")
    os.unlink(path + ".lock")
    p = subprocess.Popen([TOOL, "hold", spool, "pm", "2"], stdout=subprocess.PIPE)
    if check(p.stdout.readline() == b"locked\n", "hold for lockfile"):
        st = subprocess.run(["lockfile", "-r0", path + ".lock"],
                            stderr=subprocess.DEVNULL, timeout=30).returncode
        check(st != 0, "lockfile took a lock the store holds")
    p.wait(timeout=15)
    delivered(spool, "pm", path, ORIG, "after lockfile")


def mutt_dotlock(spool):
    """mutt_dotlock and the store keep each other out."""
    path = fresh(spool, "mutt")
    st = subprocess.run(["mutt_dotlock", "-r", "0", path], timeout=30).returncode
    if not check(st == 0, "mutt_dotlock -r 0 failed (%d)" % st):
        return
    blocked(spool, "mutt", path, "mutt_dotlock held")
    subprocess.run(["mutt_dotlock", "-u", path], timeout=30)
    p = subprocess.Popen([TOOL, "hold", spool, "mutt", "2"], stdout=subprocess.PIPE)
    if check(p.stdout.readline() == b"locked\n", "hold for mutt_dotlock"):
        st = subprocess.run(["mutt_dotlock", "-r", "0", path],
                            stderr=subprocess.DEVNULL, timeout=30).returncode
        check(st != 0, "mutt_dotlock took a lock the store holds")
    p.wait(timeout=15)
    delivered(spool, "mutt", path, ORIG, "after mutt_dotlock")


def main():
    if not os.access(TOOL, os.X_OK):
        print("store-lockinterop: %s not built" % TOOL, file=sys.stderr)
        return 1
    spool = tempfile.mkdtemp(prefix="inetmail-lock.")
    extra = []
    try:
        python_holds(spool)
        store_holds(spool)
        stale_locks(spool)
        torn_append(spool)
        if shutil.which("lockfile"):
            lockfile_procmail(spool)
            extra.append("lockfile")
        if shutil.which("mutt_dotlock"):
            mutt_dotlock(spool)
            extra.append("mutt_dotlock")
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    print("store-lockinterop: %d checks, %d failed (python mailbox%s)" % (
        checks, len(failures), "".join(", " + e for e in extra) or
        "; lockfile, mutt_dotlock not installed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
