#!/usr/bin/env python3
"""dotlock-fresh.py: what smtpd(8), pop3d(8) and inetmail(5) say of a
dotlock that another process keeps fresh.  A foreign dotlock (an empty
file, as touch(1) leaves it) touched 9 minutes ago is fresh: a delivery
waits its 10 seconds and gets 451 4.2.0, a login -ERR [SYS/TEMP], and
nothing is written.  Not touched for more than 10 minutes, it is stale and
broken: the delivery goes through.  Removed (as root may), the mailbox is
free at once.  Env: SMTPD, POP3D (binaries)."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from attack import check, failures  # noqa: E402

SMTPD = os.environ.get("SMTPD", os.path.join(os.getcwd(), "build/smtpd/smtpd"))
POP3D = os.environ.get("POP3D", os.path.join(os.getcwd(), "build/pop3d/pop3d"))
HOST = "mail.example.org"
IDS = (61001, 61001) if os.geteuid() == 0 else (os.getuid(), os.getgid())


def main():
    t = tempfile.mkdtemp(prefix="dotlock-fresh.")
    os.chmod(t, 0o755)
    sp = os.path.join(t, "spool")
    os.mkdir(sp)
    os.chmod(sp, 0o1777)
    users = os.path.join(t, "users")
    with open(users, "w") as f:
        f.write("alice:{PLAIN}alicepw:%d:%d\n" % IDS)
    os.chmod(users, 0o600)
    box = os.path.join(sp, "alice")
    with open(box, "wb") as f:
        f.write(b"From a@example.com Mon Jan  1 10:00:00 2024\nSubject: one\n\nx\n\n")
    os.chown(box, *IDS)
    os.chmod(box, 0o600)
    lock = box + ".lock"
    smtp = (b"HELO c\r\nMAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@%s>\r\n"
            b"DATA\r\nSubject: two\r\n\r\ny\r\n.\r\nQUIT\r\n" % HOST.encode())
    pop = b"USER alice\r\nPASS alicepw\r\nSTAT\r\nQUIT\r\n"
    base = ["-h", HOST, "-m", sp, "-p", users, "-l", "stderr"]

    def run(prog, data):
        return subprocess.run([prog] + base, input=data, capture_output=True,
                              timeout=60).stdout

    def plant(age):
        with open(lock, "w"):
            pass
        now = time.time()
        os.utime(lock, (now - age, now - age))

    try:
        size = os.path.getsize(box)
        plant(9 * 60)		# touched 9 minutes ago: fresh
        out = run(SMTPD, smtp)
        check(b"451 4.2.0 Mailbox busy, try again later" in out and
              os.path.getsize(box) == size,
              "fresh: a delivery gets 451 4.2.0, nothing written (%r)" % out[-120:])
        plant(9 * 60)
        out = run(POP3D, pop)
        check(b"-ERR [SYS/TEMP] maildrop unavailable" in out,
              "fresh: a login gets -ERR [SYS/TEMP] (%r)" % out[-120:])
        plant(11 * 60)		# not touched for 11 minutes: stale
        out = run(SMTPD, smtp)
        check(b"250 2.0.0 Ok: queued" in out and not os.path.exists(lock),
              "stale: the lock is broken and the delivery goes through (%r)"
              % out[-120:])
        plant(0)
        os.unlink(lock)		# what root does
        out = run(POP3D, pop)
        check(b"+OK 2 " in out, "removed: the login works at once (%r)" % out[-80:])
    finally:
        shutil.rmtree(t, ignore_errors=True)
    print("dotlock-fresh: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
