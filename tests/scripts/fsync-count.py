#!/usr/bin/env python3
"""fsync-count.py: the fsyncs smtpd makes before its 250, counted
with strace over both of its processes.  A 250 means the message is on disk
in every mailbox, and nothing more is synced than that needs:
  existing mailbox      1  (the mailbox)
  new mailbox           2  (the spool directory for its new name, the mailbox)
  three mailboxes       4  (each mailbox, then the spool directory for the
                            commit marker of a delivery to several)
Needs strace (tests/deps.sh installs it).  Env: SMTPD (binary)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SMTPD = os.environ.get("SMTPD", os.path.join(os.getcwd(), "build/smtpd/smtpd"))
failures = []


def check(cond, what):
    print(("ok " if cond else "not ok ") + what, flush=True)
    if not cond:
        failures.append(what)


def fsyncs_before_250(T, rcpts):
    """Run one SMTP session to RCPTS; return (fsyncs before the 250 line,
    the session's output)."""
    session = b"EHLO c\r\nMAIL FROM:<s@example.org>\r\n"
    for r in rcpts:
        session += b"RCPT TO:<%s@mail.example.org>\r\n" % r.encode()
    session += b"DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n"
    trace = os.path.join(T, "trace")
    r = subprocess.run(["strace", "-f", "-qq", "-s", "65536", "-e", "trace=fsync,fdatasync,sync,syncfs,write",
                        "-e", "signal=none", "-o", trace, SMTPD, "-h", "mail.example.org",
                        "-m", os.path.join(T, "spool"), "-p", os.path.join(T, "users"),
                        "-l", "stderr"], input=session, capture_output=True, timeout=60)
    n = 0
    with open(trace) as f:
        for line in f:
            if re.search(r"\b(fsync|fdatasync|syncfs|sync)\(", line):
                n += 1
            elif "write(1, " in line and "250 2.0.0" in line:
                return n, r.stdout
    return None, r.stdout


def main():
    if shutil.which("strace") is None:
        print("fsync-count: strace is missing (tests/deps.sh installs it)")
        return 77 if os.geteuid() != 0 else 1
    T = tempfile.mkdtemp(prefix="inetmail-fsync.")
    try:
        os.chmod(T, 0o755)
        spool = os.path.join(T, "spool")
        os.mkdir(spool)
        uid, gid = (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())
        os.chown(spool, -1, gid)
        os.chmod(spool, 0o2775)
        with open(os.path.join(T, "users"), "w") as f:
            for u in ("alice", "bob", "carol"):
                f.write("%s:{PLAIN}x:%d:%d\n" % (u, uid, gid))
        n, out = fsyncs_before_250(T, ["alice"])
        check(b"250 2.0.0" in out and n == 2,
              "new mailbox: 2 fsyncs before the 250 (spool, mailbox): %r" % n)
        n, out = fsyncs_before_250(T, ["alice"])
        check(b"250 2.0.0" in out and n == 1,
              "existing mailbox: 1 fsync before the 250: %r" % n)
        for u in ("bob", "carol"):
            fsyncs_before_250(T, [u])
        n, out = fsyncs_before_250(T, ["alice", "bob", "carol"])
        check(b"250 2.0.0" in out and n == 4,
              "three mailboxes: 4 fsyncs before the 250 (3 mailboxes, the commit "
              "marker's directory): %r" % n)
    finally:
        shutil.rmtree(T, ignore_errors=True)
    print("fsync-count: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
