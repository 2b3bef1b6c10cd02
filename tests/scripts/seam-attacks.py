#!/usr/bin/env python3
"""seam-attacks.py: the attacks on the privilege seam that need the real
servers, as regression tests (the ones that speak to a privileged half
directly are in tests/unit/test_seam.c).  Needs root (the servers start as
under inetd; users are other uids); skipped (exit 77) otherwise, and CI
runs as root.  Each of these worked before and must now fail:
  uflag     with -u, the process that reads the client before a login ran
            as the -u account, which owns every mailbox; and -u naming the
            session account's user was accepted, unseparated
  groups    the logged-in pop3d kept the spool's group where it needed none;
            -T was silent about a group-writable spool without the sticky bit
  case      "AudCase" before "audcase" in the users file: mail to audcase@
            went into AudCase's mailbox; -T was silent
  size      2 MiB of "From " lines under -s 2097152 was stored, quoting and
            trace fields past the limit
Env: SMTPD, POP3D (binaries), TOP (source tree)."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from attack import check, conn_holders, failures, free_port, wait_port  # noqa: E402

TOP = os.environ.get("TOP", os.getcwd())
SMTPD = os.environ.get("SMTPD", os.path.join(TOP, "build/smtpd/smtpd"))
POP3D = os.environ.get("POP3D", os.path.join(TOP, "build/pop3d/pop3d"))
HOST = "mail.example.org"
MAIL_UID, NOBODY = 8, 65534     # Debian's mail and nobody
ALICE, BOB = 2001, 2002
T = None


def path(*p):
    return os.path.join(T, *p)


def fresh_spool(mode, owner=0, group=0):
    shutil.rmtree(path("spool"), ignore_errors=True)
    os.mkdir(path("spool"))
    os.chown(path("spool"), owner, group)
    os.chmod(path("spool"), mode)


def users(text):
    with open(path("users"), "w") as f:
        f.write(text)
    os.chmod(path("users"), 0o600)


def mbox(name, uid, gid=None):
    p = path("spool", name)
    with open(p, "wb") as f:
        f.write(b"From a@example.com Mon Jan  1 10:00:00 2024\nSubject: one\n\nx\n\n")
    os.chown(p, uid, uid if gid is None else gid)
    os.chmod(p, 0o600)


def run(prog, args, data=b"", timeout=60):
    with open(path("log"), "ab") as lg:
        return subprocess.run([prog, "-h", HOST, "-m", path("spool"), "-l", "stderr",
                               *args], input=data, stdout=subprocess.PIPE,
                              stderr=lg, timeout=timeout)


def test_t(prog, args):
    """-T's output and status."""
    p = subprocess.run([prog, "-T", "-h", HOST, "-m", path("spool"), *args],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
    return p.returncode, p.stdout.decode("latin-1")


class Server:
    """PROG -L on a free loopback port, for a look at /proc mid-session."""

    def __init__(self, prog, args):
        self.port = free_port()
        self.lg = open(path("log"), "ab")
        self.p = subprocess.Popen([prog, "-L", "127.0.0.1:%d" % self.port, "-h", HOST,
                                   "-m", path("spool"), "-l", "stderr", *args],
                                  stderr=self.lg)
        self.up = wait_port(self.port)

    def talk(self, lines):
        """Connect, send LINES one at a time, each answered; the socket."""
        c = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        f = c.makefile("rb")
        f.readline()
        for line in lines:
            c.sendall(line)
            while True:
                r = f.readline()
                if r[3:4] != b"-":
                    break
        time.sleep(0.3)
        return c, f

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=30)
        self.lg.close()


def attack_uflag():
    fresh_spool(0o755, MAIL_UID, MAIL_UID)
    users("alice:{PLAIN}alicepw\n")
    os.chown(path("users"), 0, MAIL_UID)    # read by the -u owner
    os.chmod(path("users"), 0o640)
    mbox("alice", MAIL_UID)
    # -u nobody with the default -U nobody: nothing would be separated.
    rc, out = test_t(SMTPD, ["-u", "nobody", "-p", path("users")])
    check(rc == 78 and "same" in out, "uflag: -T refuses -u naming the session "
          "account's user (%d: %s)" % (rc, out.strip()[:120]))
    p = run(SMTPD, ["-u", "nobody", "-p", path("users")], b"QUIT\r\n")
    check(p.returncode == 64 and p.stdout.startswith(b"421 "),
          "uflag: smtpd refuses to start unseparated (%d %r)" % (p.returncode, p.stdout))
    p = run(POP3D, ["-u", "nobody", "-p", path("users")], b"QUIT\r\n")
    check(p.returncode == 64 and p.stdout.startswith(b"-ERR "),
          "uflag: pop3d refuses to start unseparated (%d %r)" % (p.returncode, p.stdout))
    # -u mail: the client is read by nobody (-U), never by mail.
    for prog, talk, what in (
            (SMTPD, [b"EHLO c.example\r\n", b"MAIL FROM:<s@remote.example>\r\n",
                     b"RCPT TO:<alice@" + HOST.encode() + b">\r\n"], "an SMTP transaction"),
            (POP3D, [b"USER alice\r\n"], "POP3 before login")):
        s = Server(prog, ["-u", "mail", "-p", path("users")])
        try:
            if not check(s.up, "uflag: %s -u mail listening" % os.path.basename(prog)):
                continue
            c, f = s.talk(talk)
            hs = conn_holders(c, s.port)
            check(hs != [] and all(st["Uid"] == [NOBODY] * 4 for _, st in hs),
                  "uflag: with -u mail, during %s only the session account holds "
                  "the connection %r" % (what, hs))
            f.close()
            c.close()
        finally:
            s.stop()
    # and mail is delivered and fetched as the -u owner all the same
    p = run(SMTPD, ["-u", "mail", "-p", path("users")],
            b"HELO c\r\nMAIL FROM:<s@r.example>\r\nRCPT TO:<alice@%s>\r\nDATA\r\n"
            b"Subject: u\r\n\r\nhi\r\n.\r\nQUIT\r\n" % HOST.encode())
    check(b"250 2.0.0 Ok: queued" in p.stdout, "uflag: -u mail delivers %r" % p.stdout)
    p = run(POP3D, ["-u", "mail", "-p", path("users")],
            b"USER alice\r\nPASS alicepw\r\nSTAT\r\nQUIT\r\n")
    check(b"+OK 2 " in p.stdout, "uflag: -u mail serves the maildrop %r" % p.stdout)


def groups_after_login(spool_mode):
    """Groups of the logged-in pop3d in a root:mail spool of SPOOL_MODE."""
    fresh_spool(spool_mode, 0, MAIL_UID)
    users("alice:{PLAIN}alicepw:%d:%d\nbob:{PLAIN}bobpw:%d:%d\n"
          % (ALICE, ALICE, BOB, BOB))
    mbox("alice", ALICE)
    mbox("bob", BOB)
    s = Server(POP3D, ["-p", path("users")])
    try:
        if not s.up:
            return None
        c, f = s.talk([b"USER alice\r\n", b"PASS alicepw\r\n"])
        hs = conn_holders(c, s.port)
        f.close()
        c.close()
        return hs
    finally:
        s.stop()


def attack_groups():
    # Debian's spool: the group is needed for dotlocks, and kept.
    hs = groups_after_login(0o2775)
    check(hs and all(st["Groups"] == [MAIL_UID] and st["Uid"] == [ALICE] * 4
                     for _, st in hs),
          "groups: in a 2775 root:mail spool the logged-in pop3d keeps mail, "
          "needed for dotlocks, and nothing else %r" % hs)
    # A spool everyone may write to (sticky): the group buys nothing.
    hs = groups_after_login(0o3777)
    check(hs and all(st["Groups"] == [] for _, st in hs),
          "groups: in a 3777 spool the logged-in pop3d keeps no group %r" % hs)
    # -T says why a group-writable spool wants the sticky bit.
    fresh_spool(0o2775, 0, MAIL_UID)
    rc, out = test_t(POP3D, ["-p", path("users")])
    check("chmod +t" in out and "rename" in out,
          "groups: -T warns about a 2775 spool without the sticky bit: %s"
          % out.strip()[:300])
    fresh_spool(0o3775, 0, MAIL_UID)
    rc, out = test_t(POP3D, ["-p", path("users")])
    check(rc == 0 and "chmod +t" not in out,
          "groups: -T is quiet about a 3775 spool (%d: %s)" % (rc, out.strip()[:200]))
    # In the mode the man pages recommend, alice with the mail group makes
    # dotlocks but cannot move bob's mailbox.
    mbox("bob", BOB)
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([MAIL_UID])
            os.setgid(ALICE)
            os.setuid(ALICE)
            fd = os.open(path("spool", "alice.lock"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.close(fd)
            os.unlink(path("spool", "alice.lock"))
            try:
                os.rename(path("spool", "bob"), path("spool", "bob.x"))
                os._exit(2)
            except PermissionError:
                os._exit(0)
        except OSError:
            os._exit(3)
    _, st = os.waitpid(pid, 0)
    check(os.WEXITSTATUS(st) == 0 and os.path.exists(path("spool", "bob")),
          "groups: in a 3775 root:mail spool the mail group makes dotlocks but "
          "renames no one else's mailbox (%d)" % os.WEXITSTATUS(st))


def attack_case():
    fresh_spool(0o755)
    users("AudCase:{PLAIN}a:%d:%d\naudcase:{PLAIN}b:%d:%d\n" % (ALICE, ALICE, BOB, BOB))
    for rcpt, box in ((b"audcase", "audcase"), (b"AudCase", "AudCase"),
                      (b"AUDCASE", "AudCase")):
        before = {n: os.path.getsize(path("spool", n)) if
                  os.path.exists(path("spool", n)) else 0 for n in ("audcase", "AudCase")}
        p = run(SMTPD, ["-p", path("users")],
                b"HELO c\r\nMAIL FROM:<s@r.example>\r\nRCPT TO:<%s@%s>\r\nDATA\r\n"
                b"Subject: c\r\n\r\nhi\r\n.\r\nQUIT\r\n" % (rcpt, HOST.encode()))
        grew = [n for n in ("audcase", "AudCase") if os.path.exists(path("spool", n))
                and os.path.getsize(path("spool", n)) > before[n]]
        check(b"250 2.0.0 Ok: queued" in p.stdout and grew == [box],
              "case: mail to %s@ goes to %s (grew: %r)" % (rcpt.decode(), box, grew))
    rc, out = test_t(SMTPD, ["-p", path("users")])
    check(rc == 0 and "differs only in case" in out,
          "case: -T warns about names that differ only in case: %s" % out.strip()[:200])


def attack_size():
    fresh_spool(0o755)
    users("alice:{PLAIN}a:%d:%d\n" % (ALICE, ALICE))
    body = b"From x\r\n" * (2097152 // 8 - 2)
    p = run(SMTPD, ["-p", path("users"), "-s", "2097152"],
            b"HELO c\r\nMAIL FROM:<s@r.example>\r\nRCPT TO:<alice@%s>\r\nDATA\r\n"
            % HOST.encode() + body + b".\r\nQUIT\r\n")
    check(b"552 5.3.4" in p.stdout and not os.path.exists(path("spool", "alice")),
          "size: 2 MiB of From_ lines under -s 2097152 is refused, nothing stored "
          "(%r)" % p.stdout[-120:])


def main():
    global T
    if os.geteuid() != 0:
        print("skip: seam-attacks needs root")
        return 77
    T = tempfile.mkdtemp(prefix="seam-attacks.")
    os.chmod(T, 0o755)
    try:
        for attack in (attack_uflag, attack_groups, attack_case, attack_size):
            attack()
        if failures:
            with open(path("log"), "rb") as f:
                sys.stdout.write(f.read()[-3000:].decode("latin-1"))
    finally:
        shutil.rmtree(T, ignore_errors=True)
    print("seam-attacks: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
