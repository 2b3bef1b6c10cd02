#!/usr/bin/env python3
"""hostile.py: hostile clients and planted files against both servers.

  - 100 MiB of garbage without a newline, NUL bytes, endless RCPTs, endless
    AUTH attempts: each server runs under RLIMIT_AS (MEM_MIB, default 64 MiB)
    and answers with a clear error, never a crash;
  - a full disk (a 1 MiB tmpfs where mounting works, else RLIMIT_FSIZE) during
    delivery and during QUIT's expunge: a temporary failure, and every mailbox
    byte-identical to before;
  - privileges: pop3d after login and smtpd with -u never run as root (read
    from /proc during the session);
  - name tricks: a symlink, a hard link or a FIFO planted as a mailbox, and
    names like ../x or x/../y, never expose or touch another user's mail.
Environment: SMTPD, POP3D.  Prints one line per check and a summary."""
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

SMTPD = os.environ["SMTPD"]
POP3D = os.environ["POP3D"]
MEM = int(os.environ.get("MEM_MIB", "64")) << 20
ROOT = os.getuid() == 0
UID, GID = (65534, 65534) if ROOT else (os.getuid(), os.getgid())
results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok' if ok else 'FAIL'}: {name}{'' if ok else ' -- ' + detail}")


def limit_as():
    resource.setrlimit(resource.RLIMIT_AS, (MEM, MEM))


class Box:
    """A scratch spool and users file, /var/mail-like."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="inetmail-hostile.")
        os.chmod(self.tmp, 0o755)
        self.spool = os.path.join(self.tmp, "spool")
        os.mkdir(self.spool)
        os.chown(self.spool, 0 if ROOT else UID, GID)
        os.chmod(self.spool, 0o2775)
        self.users = os.path.join(self.tmp, "users")
        with open(self.users, "w") as f:
            for u in ("alice", "bob"):
                f.write(f"{u}:{{PLAIN}}{u}pw:{UID}:{GID}\n")

    def smtp(self, *extra):
        return [SMTPD, "-h", "mail.example.org", "-m", self.spool, "-p",
                self.users, *extra]

    def pop(self, *extra):
        return [POP3D, "-h", "mail.example.org", "-m", self.spool, "-p",
                self.users, *extra]

    def mbox(self, name, text):
        path = os.path.join(self.spool, name)
        with open(path, "w") as f:
            f.write(text)
        os.chown(path, UID, GID)
        os.chmod(path, 0o600)
        return path

    def close(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def feed(argv, chunks, timeout=120):
    """Run ARGV under RLIMIT_AS, writing CHUNKS to its stdin from a thread;
    return (stdout, returncode)."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, preexec_fn=limit_as)

    def writer():
        try:
            for c in chunks:
                p.stdin.write(c)
            p.stdin.close()
        except (BrokenPipeError, OSError):
            pass
    t = threading.Thread(target=writer)
    t.start()
    out = p.stdout.read()
    p.wait(timeout=timeout)
    t.join(timeout=timeout)
    return out.decode("latin-1"), p.returncode


def garbage(total, piece=b"x" * (1 << 20)):
    for _ in range(total // len(piece)):
        yield piece


def hostile_input(box):
    out, rc = feed(box.smtp(), [b"EHLO c\r\n"] + list(garbage(100 << 20)))
    check("smtpd: 100 MiB without a newline, under RLIMIT_AS",
          rc == 0 and "500 5.5.2" in out, f"rc={rc} out={out[-200:]!r}")
    out, rc = feed(box.pop(), list(garbage(100 << 20)))
    check("pop3d: 100 MiB without a newline, under RLIMIT_AS",
          rc == 0 and "-ERR" in out, f"rc={rc} out={out[-200:]!r}")
    out, rc = feed(box.smtp(), [b"EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<al\x00ice@mail.example.org>\r\nQUIT\r\n"])
    check("smtpd: NUL in a command", rc == 0 and "500 5.5.2" in out, out)
    out, rc = feed(box.pop(), [b"USER al\x00ice\r\nQUIT\r\n"])
    check("pop3d: NUL in a command", rc == 0 and "-ERR" in out.split("\r\n")[1], out)
    rcpts = [b"EHLO c\r\nMAIL FROM:<a@b.example>\r\n"] + \
        [b"RCPT TO:<alice+%d@mail.example.org>\r\n" % i for i in range(200000)] + \
        [b"DATA\r\nhi\r\n.\r\nQUIT\r\n"]
    out, rc = feed(box.smtp(), rcpts)
    check("smtpd: 200,000 RCPTs, under RLIMIT_AS", rc == 0 and " 2.0.0 " in out,
          f"rc={rc} {out[-300:]!r}")
    body = [b"EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<bob@mail.example.org>\r\nDATA\r\n"] + \
        [b"%s\r\n" % (b"y" * 998)] * 200000 + [b".\r\nQUIT\r\n"]
    out, rc = feed(box.smtp("-s", "1000000"), body)
    check("smtpd: 200 MB message over -s, under RLIMIT_AS",
          rc == 0 and "552 5.3.4" in out, f"rc={rc} {out[-300:]!r}")
    t0 = time.time()
    out, rc = feed(box.pop(), [b"USER alice\r\nPASS wrong\r\n"] * 1000)
    failed = out.count("-ERR [AUTH]")
    check("pop3d: endless AUTH attempts close after 3",
          rc == 0 and failed == 3 and time.time() - t0 < 10, f"{failed} {out!r}")
    out, rc = feed(box.pop(), [b"AUTH PLAIN\r\n" + b"A" * 100000 + b"\r\n"] * 50)
    check("pop3d: endless over-long AUTH PLAIN", rc == 0 and "-ERR" in out,
          out[-200:])


def full_disk(box):
    mnt = os.path.join(box.tmp, "small")
    os.mkdir(mnt)
    mounted = ROOT and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=2775,gid=%d" % GID, "tmpfs", mnt],
        capture_output=True).returncode == 0
    spool = mnt if mounted else box.spool
    how = "1 MiB tmpfs" if mounted else "RLIMIT_FSIZE"
    try:
        if mounted:
            os.chown(spool, 0, GID)
        old = os.path.join(spool, "alice")
        text = "".join(f"From s Thu Nov 26 06:00:00 2026\nSubject: {i}\n\n" + "z" * 100000 + "\n\n"
                       for i in range(6))
        with open(old, "w") as f:
            f.write(text)
        os.chown(old, UID, GID)
        os.chmod(old, 0o600)
        before = open(old, "rb").read()
        big = "w" * 76 + "\r\n"
        msg = ("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<alice@mail.example.org>\r\n"
               "DATA\r\nSubject: big\r\n\r\n" + big * 6000 + ".\r\nQUIT\r\n").encode()

        def fsize():
            if not mounted:
                resource.setrlimit(resource.RLIMIT_FSIZE, (700000, 700000))
        p = subprocess.run([SMTPD, "-h", "mail.example.org", "-m", spool, "-p",
                            box.users], input=msg, capture_output=True,
                           preexec_fn=fsize)
        out = p.stdout.decode()
        check(f"smtpd: disk full ({how}) during delivery: 451, mailbox unchanged",
              "451 4.3.1" in out and open(old, "rb").read() == before, out[-200:])
        # Deleting the first message needs a journal as large as the rest.
        p = subprocess.run([POP3D, "-h", "mail.example.org", "-m", spool, "-p",
                            box.users], input=b"USER alice\r\nPASS alicepw\r\nDELE 1\r\nQUIT\r\n",
                           capture_output=True, preexec_fn=fsize)
        out = p.stdout.decode()
        check(f"pop3d: disk full ({how}) during expunge: -ERR, mailbox unchanged",
              "-ERR [SYS/TEMP]" in out and open(old, "rb").read() == before, out)
        left = [n for n in os.listdir(spool) if n.startswith(".") and n.endswith(".redo")]
        check("pop3d: no journal left after the failed expunge", not left, str(left))
    finally:
        if mounted:
            subprocess.run(["umount", mnt])


def uids_of_children(parent_pid):
    """Uids of PARENT_PID (it may have dropped) from /proc."""
    try:
        with open(f"/proc/{parent_pid}/status") as f:
            for line in f:
                if line.startswith("Uid:"):
                    return [int(x) for x in line.split()[1:]]
    except OSError:
        return None
    return None


def privileges(box):
    if not ROOT:
        check("privileges (needs root)", True)
        return
    box.mbox("alice", "From s Thu Nov 26 06:00:00 2026\nSubject: a\n\nhello\n\n")
    p = subprocess.Popen(box.pop(), stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    p.stdout.readline()
    p.stdin.write(b"USER alice\r\nPASS alicepw\r\nSTAT\r\n")
    p.stdin.flush()
    p.stdout.readline(), p.stdout.readline()
    stat = p.stdout.readline().decode()
    uids = uids_of_children(p.pid)
    p.stdin.write(b"QUIT\r\n")
    p.stdin.close()
    p.wait(timeout=30)
    check("pop3d: after login no uid is 0 (real, effective, saved, fs)",
          stat.startswith("+OK") and uids is not None and 0 not in uids, f"{stat!r} {uids}")
    p = subprocess.Popen(box.smtp("-u", "nobody", "-U", "daemon"), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    p.stdout.readline()
    uids = uids_of_children(p.pid)
    p.stdin.close()
    p.wait(timeout=30)
    check("smtpd -u nobody -U daemon: no uid is 0", uids is not None and 0 not in uids,
          str(uids))


def name_tricks(box):
    secret = "From s Thu Nov 26 06:00:00 2026\nSubject: bob's secret\n\nsecret\n\n"
    bobs = box.mbox("bob", secret)
    alice = os.path.join(box.spool, "alice")
    for kind in ("symlink", "hardlink", "fifo"):
        if os.path.lexists(alice):
            os.unlink(alice)
        if kind == "symlink":
            os.symlink(bobs, alice)
        elif kind == "hardlink":
            os.link(bobs, alice)
        else:
            os.mkfifo(alice, 0o600)
        p = subprocess.run(box.pop(), input=b"USER alice\r\nPASS alicepw\r\nRETR 1\r\nQUIT\r\n",
                           capture_output=True, timeout=30)
        out = p.stdout.decode("latin-1")
        check(f"pop3d: {kind} planted as alice's mailbox is refused",
              "secret" not in out and "-ERR" in out, out)
        msg = (b"EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<alice@mail.example.org>\r\n"
               b"DATA\r\nx\r\n.\r\nQUIT\r\n")
        p = subprocess.run(box.smtp(), input=msg, capture_output=True, timeout=30)
        check(f"smtpd: {kind} planted as alice's mailbox: 451, bob's untouched",
              b"451 " in p.stdout and open(bobs).read() == secret, p.stdout.decode())
    os.unlink(alice)
    for name in ("../x", "x/../bob", "..", ".bob", "bob/", "BOB/../bob"):
        msg = ("EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<%s@mail.example.org>\r\nQUIT\r\n" % name).encode()
        p = subprocess.run(box.smtp(), input=msg, capture_output=True, timeout=30)
        # Final reply lines only: greeting, EHLO, MAIL, RCPT, QUIT.
        rc = [l for l in p.stdout.decode().split("\r\n") if l[:3].isdigit() and l[3:4] == " "]
        check(f"smtpd: RCPT {name!r} refused", len(rc) >= 4 and rc[3][:1] == "5", str(rc))
        p = subprocess.run(box.pop(), input=("USER %s\r\nPASS bobpw\r\nQUIT\r\n" % name).encode(),
                           capture_output=True, timeout=30)
        check(f"pop3d: USER {name!r} gets no maildrop", "maildrop has" not in p.stdout.decode(),
              p.stdout.decode())
    check("bob's mailbox untouched by all of it", open(bobs).read() == secret)


def main():
    for f in (hostile_input, full_disk, privileges, name_tricks):
        box = Box()
        try:
            f(box)
        finally:
            box.close()
    failed = results.count(False)
    print(f"hostile: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
