#!/usr/bin/env python3
"""store-denial.py: a stray file in the store's names never denies service
for long.  Each case plants a file as another uid in a sticky 1777 spool (as
any local user can), then runs the login, QUIT or delivery that must work,
through the real servers as root (as under inetd), and reads the log line.
Needs root; skipped (exit 77) otherwise, and CI runs as root.

  marker     a planted .alice.pop: every login failed; now removed, logged
  journal    a planted .alice.redo: every DELE failed at QUIT; now removed
             at login, and DELE+QUIT works
  index      a planted .alice.idx: every login scanned, and no index was
             ever written; now removed at login, and alice's index follows
  recreated  .alice.pop and .alice.redo of a former alice (userdel -r, then
             a new alice with another uid): every login got "-ERR
             [SYS/TEMP] ... I/O error"; now stale, cleared
  idxtmp     a root file hard-linked as .alice.idx.new was cut to 0 bytes by
             a delivery; the index's new file is now a fresh random name
  twins      50,000 planted .lk* names and a two-link alice.lock: a delivery
             scanned the spool at every lock retry (1.8 s of CPU); now one
             lstat per retry, and the lock wait logs no "(null)=" lines
Env: SMTPD, POP3D (binaries), TOP (source tree)."""
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.environ.get("TOP", os.getcwd())
SMTPD = os.environ.get("SMTPD", os.path.join(TOP, "build/smtpd/smtpd"))
POP3D = os.environ.get("POP3D", os.path.join(TOP, "build/pop3d/pop3d"))
ALICE, MALLORY, FORMER = 2001, 2003, 2009
HOST = "mail.example.org"
failures = []
T = None

MSGS = (b"From a@example.com Mon Jan  1 10:00:00 2024\nSubject: one\n\nfirst\n\n"
        b"From b@example.com Mon Jan  1 10:00:01 2024\nSubject: two\n\nsecond\n\n")


def check(cond, what):
    print(("ok " if cond else "not ok ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def spool(name=None):
    return os.path.join(T, "spool", name) if name else os.path.join(T, "spool")


def fresh_spool():
    shutil.rmtree(spool(), ignore_errors=True)
    os.mkdir(spool())
    os.chmod(spool(), 0o1777)
    for log in ("smtpd.log", "pop3d.log"):
        open(os.path.join(T, log), "w").close()


def put(name, data, uid, mode=0o600):
    p = spool(name)
    with open(p, "wb") as f:
        f.write(data)
    os.chown(p, uid, uid)
    os.chmod(p, mode)
    return p


def read(name):
    with open(spool(name), "rb") as f:
        return f.read()


def logtext(name):
    with open(os.path.join(T, name), "rb") as f:
        return f.read().decode("latin-1")


def smtp(rcpt="alice", timeout=60):
    s = (b"EHLO client.example\r\nMAIL FROM:<s@remote.example>\r\n"
         b"RCPT TO:<%s@%s>\r\nDATA\r\nSubject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n"
         % (rcpt.encode(), HOST.encode()))
    with open(os.path.join(T, "smtpd.log"), "ab") as lg:
        p = subprocess.run([SMTPD, "-h", HOST, "-m", spool(), "-p",
                            os.path.join(T, "users"), "-l", "stderr"], input=s,
                           stdout=subprocess.PIPE, stderr=lg, timeout=timeout)
    return p.stdout


def pop(cmds=b"STAT\r\nQUIT\r\n", timeout=60):
    s = b"USER alice\r\nPASS alicepw\r\n" + cmds
    with open(os.path.join(T, "pop3d.log"), "ab") as lg:
        p = subprocess.run([POP3D, "-h", HOST, "-m", spool(), "-p",
                            os.path.join(T, "users"), "-l", "stderr"], input=s,
                           stdout=subprocess.PIPE, stderr=lg, timeout=timeout)
    return p.stdout


def case_marker():
    fresh_spool()
    put("alice", MSGS, ALICE)
    put(".alice.pop", b"", MALLORY, 0o644)
    out = pop()
    check(b"+OK maildrop has 2 messages" in out,
          "marker: alice logs in past a planted .alice.pop (%r)" % out[-80:])
    check("session marker=%s not trusted" % spool(".alice.pop") in logtext("pop3d.log")
          and "removed" in logtext("pop3d.log"),
          "marker: the planted marker is logged as removed")
    check(os.lstat(spool(".alice.pop")).st_uid == ALICE,
          "marker: the marker is alice's now")
    out = pop()
    check(b"+OK maildrop has 2 messages" in out, "marker: and the next login too")


def case_journal():
    fresh_spool()
    put("alice", MSGS, ALICE)
    put(".alice.redo", b"junk", MALLORY, 0o644)
    out = pop(b"DELE 1\r\nQUIT\r\n")
    check(out.count(b"+OK") >= 4 and b"-ERR" not in out,
          "journal: DELE 1 and QUIT work past a planted .alice.redo (%r)" % out[-80:])
    check(read("alice") == MSGS[MSGS.index(b"From b"):],
          "journal: the first message is gone, the second kept")
    check("journal=%s not trusted" % spool(".alice.redo") in logtext("pop3d.log"),
          "journal: the planted journal is logged")
    check(not os.path.lexists(spool(".alice.redo")), "journal: and it is gone")


def case_index():
    fresh_spool()
    put("alice", MSGS, ALICE)
    put(".alice.idx", b"planted", MALLORY, 0o644)
    out = pop()
    check(b"+OK maildrop has 2 messages" in out, "index: alice logs in (%r)" % out[-60:])
    st = os.lstat(spool(".alice.idx"))
    check(st.st_uid == ALICE and st.st_size > 7,
          "index: the planted index is replaced by alice's (uid %d, %d bytes)"
          % (st.st_uid, st.st_size))
    check("index=%s not trusted" % spool(".alice.idx") in logtext("pop3d.log"),
          "index: the planted index is logged")


def case_recreated():
    fresh_spool()
    # What the former alice (uid 2009) left: her marker, a journal of hers.
    put(".alice.pop", b"", FORMER)
    put(".alice.redo", b"\0" * 256, FORMER)
    put("alice", MSGS, ALICE)
    out = pop(b"STAT\r\nDELE 2\r\nQUIT\r\n")
    check(b"+OK maildrop has 2 messages" in out and b"I/O error" not in out
          and b"-ERR" not in out,
          "recreated: the new alice logs in and expunges (%r)" % out[-80:])
    check(read("alice") == MSGS[:MSGS.index(b"From b")],
          "recreated: her mailbox is as she left it")
    log = logtext("pop3d.log")
    check("owner uid=%d" % FORMER in log and "removed" in log,
          "recreated: the former owner's files are logged as removed")


def case_idxtmp():
    fresh_spool()
    victim = os.path.join(T, "spool", "victim")
    with open(victim, "wb") as f:
        f.write(b"precious\n")
    os.link(victim, spool(".alice.idx.new"))
    out = smtp()
    check(b"250 2.0.0 Ok: queued" in out, "idxtmp: delivered (%r)" % out[-60:])
    with open(victim, "rb") as f:
        check(f.read() == b"precious\n",
              "idxtmp: a file hard-linked under the old index name is not cut")


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def case_twins():
    fresh_spool()
    put("alice", MSGS, ALICE)
    # Mallory's lock, with a second link under a name that is no twin.
    put("alice.lock", b"1\n", MALLORY, 0o644)
    os.link(spool("alice.lock"), spool("mallory-link"))
    for i in range(50000):
        fd = os.open(spool(".lk%d.0.%d" % (i, i)), os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    t0 = children_cpu()
    w0 = time.monotonic()
    out = smtp()
    cpu = children_cpu() - t0
    print("# delivery against a planted lock, 50,000 .lk* names: %.2f s CPU, "
          "%.1f s wall" % (cpu, time.monotonic() - w0))
    check(b"451 4.2.0" in out, "twins: a fresh planted lock is a lock: 451 (%r)"
          % out[-60:])
    check(cpu < 0.6, "twins: the lock wait costs no directory scans (%.2f s CPU)" % cpu)
    check("(null)" not in logtext("smtpd.log"),
          "twins: the lock wait logs no (null)= lines (%d)"
          % logtext("smtpd.log").count("(null)"))


def main():
    global T
    if os.geteuid() != 0:
        print("skip: store-denial needs root")
        return 77
    T = tempfile.mkdtemp(prefix="store-denial.")
    os.chmod(T, 0o755)
    with open(os.path.join(T, "users"), "w") as f:
        f.write("alice:{PLAIN}alicepw:%d:%d\n" % (ALICE, ALICE))
    try:
        for case in (case_marker, case_journal, case_index, case_recreated,
                     case_idxtmp, case_twins):
            case()
    finally:
        if failures:
            for name in ("smtpd.log", "pop3d.log"):
                print("--- %s (last lines)" % name)
                print("\n".join(logtext(name).splitlines()[-15:]))
        shutil.rmtree(T, ignore_errors=True)
    print("store-denial: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
