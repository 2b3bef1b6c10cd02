#!/usr/bin/env python3
"""trust-attacks.py: attacks on the store and the servers' limits, each
tried as a local user or a hostile client would, as regression tests.  Needs root (the servers run as root, as under inetd, and
the planter is another uid); skipped (exit 77) otherwise, and CI runs as root.

The spool is sticky and world-writable (1777), where any local user can
plant any file.  alice (uid 2001) and bob (2002) are mail users of a users
file; mallory (2003) is another local user.  Each attack below worked before
and must now fail:
  journal      a forged .alice.redo is never replayed (delivery, login)
  dotlock      a forged alice.lock (dead pid; live pid, an hour old) never
               makes the store cut alice's mailbox
  precreated   a mailbox another user made is neither written nor served
  fifo         a FIFO planted as .alice.redo hangs nothing
  probe        a dotlock record naming "../" paths is not acted on, whether
               the path exists or not
  stale        root's dotlock left by a killed smtpd belongs to the mailbox
               owner, whose pop3d breaks it
  probing      refused recipients are bounded per connection, postmaster or not
  nofile       no 250 for more recipients than the descriptor limit allows
  slots        -E ends steady slow clients; -C counts an IPv6 /64 as one
  blind        the transcript runner fails on a signal and on a sanitizer report
  proc         the client connection is held only by non-root processes, in
               an SMTP transaction and in POP3 before login
Env: SMTPD, POP3D (binaries), TOP (source tree)."""
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from attack import check, failures, free_port, holders, socket_inode, wait_port  # noqa: E402

TOP = os.environ.get("TOP", os.getcwd())
SMTPD = os.environ.get("SMTPD", os.path.join(TOP, "build/smtpd/smtpd"))
POP3D = os.environ.get("POP3D", os.path.join(TOP, "build/pop3d/pop3d"))
ALICE, BOB, MALLORY = 2001, 2002, 2003
HOST = "mail.example.org"
T = None


def path(*p):
    return os.path.join(T, *p)


def spool(name=None):
    return path("spool", name) if name else path("spool")


def fresh_spool():
    """An empty sticky world-writable spool."""
    shutil.rmtree(spool(), ignore_errors=True)
    os.mkdir(spool())
    os.chmod(spool(), 0o1777)


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


MSGS = (b"From a@example.com Mon Jan  1 10:00:00 2024\nSubject: one\n\nfirst\n\n"
        b"From b@example.com Mon Jan  1 10:00:01 2024\nSubject: two\n\nsecond\n\n")


def smtp(rcpts, body=b"Subject: hi\r\n\r\nhello\r\n", args=(), timeout=60,
         log="smtpd.log", preexec=None):
    """One SMTP session piped through smtpd as root; returns (rc, output)."""
    s = b"EHLO client.example\r\nMAIL FROM:<s@remote.example>\r\n"
    for r in rcpts:
        s += b"RCPT TO:<%s@%s>\r\n" % (r.encode(), HOST.encode())
    s += b"DATA\r\n" + body + b".\r\nQUIT\r\n"
    with open(path(log), "ab") as lg:
        p = subprocess.run([SMTPD, "-h", HOST, "-m", spool(), "-p", path("users"),
                            "-l", "stderr", *args], input=s, stdout=subprocess.PIPE,
                           stderr=lg, timeout=timeout, preexec_fn=preexec)
    return p.returncode, p.stdout


def pop(user, pw, cmds=b"STAT\r\nQUIT\r\n", timeout=60):
    s = b"USER %s\r\nPASS %s\r\n" % (user.encode(), pw.encode()) + cmds
    with open(path("pop3d.log"), "ab") as lg:
        p = subprocess.run([POP3D, "-h", HOST, "-m", spool(), "-p", path("users"),
                            "-l", "stderr"], input=s, stdout=subprocess.PIPE,
                           stderr=lg, timeout=timeout)
    return p.returncode, p.stdout


def logtext(name):
    try:
        with open(path(name), "rb") as f:
            return f.read().decode("latin-1")
    except OSError:
        return ""


def dead_pid():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def journal_head(st, x, length, orig):
    head = b"inetmail-redo 1 %d %d %d %d %d\n" % (st.st_dev, st.st_ino, x, length,
                                                 orig)
    return head + b"\0" * (256 - len(head))


def attack_journal():
    fresh_spool()
    p = put("alice", MSGS, ALICE)
    st = os.stat(p)
    evil = b"From evil@example.com Mon Jan  1 10:00:00 2024\nSubject: EVIL\n\nEVIL\n\n"
    put(".alice.redo", journal_head(st, 0, len(evil), st.st_size) + evil,
        MALLORY, 0o644)
    rc, out = smtp(["alice"])
    box = read("alice")
    check(b"250 2.0.0 Ok: queued" in out, "journal: delivery to alice goes on (%r)"
          % out[-60:])
    check(box.startswith(MSGS) and b"EVIL" not in box,
          "journal: the forged journal was not replayed by the delivery")
    rc, out = pop("alice", "alicepw")
    check(b"+OK 3 " in out and b"EVIL" not in read("alice"),
          "journal: nor by alice's login (%r)" % out[-80:])
    check("journal=%s not trusted" % spool(".alice.redo") in logtext("smtpd.log"),
          "journal: the planted journal is logged as not trusted")


def attack_dotlock():
    host = socket.gethostname()
    for what, pid, age in (("dead pid", dead_pid(), 0), ("live pid, an hour old", 1, 3600)):
        fresh_spool()
        p = put("alice", MSGS, ALICE)
        st = os.stat(p)
        # "An append of more than the file from 0 on": believed, it cuts
        # the mailbox to nothing.
        put("alice.lock", b"%d\ninetmail %s 0 %d - %d %d\n" % (
            pid, host.encode(), st.st_size + 1000, st.st_dev, st.st_ino),
            MALLORY, 0o644)
        if age:
            old = time.time() - age
            os.utime(spool("alice.lock"), (old, old))
        t0 = time.monotonic()
        rc, out = smtp(["alice"])
        box = read("alice")
        check(box.startswith(MSGS),
              "dotlock (%s): alice's mailbox was not cut (%d bytes)" % (what, len(box)))
        if age:
            check(b"250 2.0.0 Ok: queued" in out,
                  "dotlock (%s): the stale lock is broken, the mail delivered" % what)
        else:
            # Mallory's fresh lock is a lock all the same: a bounded wait,
            # then a temporary failure.
            check(b"451 4.2.0" in out and time.monotonic() - t0 < 30,
                  "dotlock (%s): a bounded wait, then 451 4.2.0 (%r)" % (what, out[-60:]))


def attack_precreated():
    fresh_spool()
    put("bob", b"", MALLORY, 0o666)
    rc, out = smtp(["bob"])
    check(b"451 4.3.0" in out and b"queued" not in out,
          "precreated: delivery into mallory's file refused, 451 (%r)" % out[-60:])
    check(read("bob") == b"", "precreated: nothing written into it")
    rc, out = pop("bob", "bobpw")
    check(b"-ERR [SYS/TEMP]" in out and b"wrong owner" in out,
          "precreated: bob's login does not serve it (%r)" % out[-80:])


def attack_fifo():
    fresh_spool()
    put("alice", MSGS, ALICE)
    os.mkfifo(spool(".alice.redo"), 0o666)
    os.chown(spool(".alice.redo"), MALLORY, MALLORY)
    try:
        rc, out = smtp(["alice"], timeout=20)
        check(b"250 2.0.0 Ok: queued" in out, "fifo: delivery does not hang (%r)"
              % out[-60:])
        rc, out = pop("alice", "alicepw", timeout=20)
        check(b"+OK 3 " in out, "fifo: nor does alice's login (%r)" % out[-60:])
    except subprocess.TimeoutExpired:
        check(False, "fifo: a server hung on the planted FIFO")


def attack_probe():
    host = socket.gethostname()
    probe = path("probe-target")
    whole = b"From c@example.com Mon Jan  1 10:00:02 2024\nSubject: tail\n\nwhole\n\n"

    def trial(txn, exists):
        fresh_spool()
        if exists:
            open(probe, "w").close()
        elif os.path.exists(probe):
            os.unlink(probe)
        p = put("alice", MSGS + whole, ALICE)
        st = os.stat(p)
        # alice may write her own dotlock: its owner is trusted, its names
        # must still be plain ones.  Eleven minutes old: broken by age,
        # its record read.
        put("alice.lock", b"%d\ninetmail %s %d %d %s %d %d\n" % (
            dead_pid(), host.encode(), len(MSGS), len(whole), txn.encode(),
            st.st_dev, st.st_ino), ALICE, 0o644)
        old = time.time() - 660
        os.utime(spool("alice.lock"), (old, old))
        rc, out = smtp(["alice"])
        return b"queued" in out, read("alice").startswith(MSGS + whole)
    rel = os.path.relpath(probe, spool())
    res = [trial(rel, False), trial(rel, True)]
    check(res == [(True, True), (True, True)],
          "probe: a '../' commit marker in a record is not acted on, whether "
          "the path exists or not (delivered, kept: %r)" % res)
    # The control: the same record with a plain marker name that is absent
    # is acted on (the append never committed: cut), so the test can fail.
    res = trial(".txn.1.2.3", False)
    check(res == (True, False), "probe: a plain marker name is acted on (%r)" % (res,))


def attack_stale():
    """Kill root's smtpd while it holds alice's dotlock; alice's pop3d (as
    alice, in a sticky spool) must be able to break the lock."""
    big = b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 8000
    for attempt in range(6):
        fresh_spool()
        put("alice", MSGS, ALICE)
        s = (b"EHLO c.example\r\nMAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@"
             + HOST.encode() + b">\r\nDATA\r\n" + big + b".\r\nQUIT\r\n")
        lg = open(path("stale.log"), "ab")
        p = subprocess.Popen([SMTPD, "-h", HOST, "-m", spool(), "-p", path("users"),
                              "-s", "20000000", "-l", "stderr"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=lg)
        seen = []

        def watch():
            t = time.monotonic() + 20
            while time.monotonic() < t and p.poll() is None:
                try:
                    os.lstat(spool("alice.lock"))
                except OSError:
                    continue
                os.kill(p.pid, signal.SIGKILL)
                seen.append(1)
                return
        w = threading.Thread(target=watch)
        w.start()
        try:
            p.stdin.write(s)
            p.stdin.close()
        except OSError:
            pass
        w.join()
        p.wait()
        lg.close()
        if seen and os.path.exists(spool("alice.lock")):
            break
    if not check(bool(seen) and os.path.exists(spool("alice.lock")),
                 "stale: root's delivery killed while it held alice.lock"):
        return
    st = os.lstat(spool("alice.lock"))
    check(st.st_uid == ALICE, "stale: the dotlock belongs to alice (uid %d)" % st.st_uid)
    rc, out = pop("alice", "alicepw")
    box = read("alice")
    # Killed mid-append: the torn bytes are cut; killed after the fsync:
    # the message is whole and kept.  Never anything in between.
    whole = box.endswith(b"x" * 998 + b"\n\n") and box.count(b"\nFrom ") == 2
    check(b"+OK maildrop has" in out and (box == MSGS or whole),
          "stale: alice's login breaks it and sees her mail, a torn append "
          "cut (%s; %r)" % ("whole" if whole else "cut" if box == MSGS else
                            "TORN", out[-80:]))
    check(not os.path.exists(spool("alice.lock")), "stale: the lock is gone")


def attack_probing():
    fresh_spool()
    s = b"EHLO c.example\r\n"
    for i in range(50):
        s += b"MAIL FROM:<>\r\nRCPT TO:<postmaster@" + HOST.encode() + b">\r\n"
        for j in range(100):
            s += b"RCPT TO:<probe%d-%d@%s>\r\n" % (i, j, HOST.encode())
        s += b"RSET\r\n"
    s += b"QUIT\r\n"
    with open(path("probing.log"), "ab") as lg:
        p = subprocess.run([SMTPD, "-h", HOST, "-m", spool(), "-p", path("users"),
                            "-l", "stderr"], input=s, stdout=subprocess.PIPE,
                           stderr=lg, timeout=60)
    refused = p.stdout.count(b"550 5.1.1")
    check(refused <= 101 and b"421 4.7.0" in p.stdout,
          "probing: 5,000 names with postmaster in between: %d answered, then "
          "421" % refused)


def attack_nofile():
    fresh_spool()
    n = 1100
    with open(path("users"), "a") as f:
        for i in range(n):
            f.write("u%d:{PLAIN}x:%d:%d\n" % (i, 3000 + i, 3000 + i))

    def limit():
        import resource
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
    rc, out = smtp(["u%d" % i for i in range(n)], args=("-n", "2000"),
                   timeout=120, preexec=limit)
    ok = out.count(b"250 2.1.5")
    full = out.count(b"452 4.5.3")
    check(ok + full == n and 0 < ok <= 1024 - 32,
          "nofile: %d accepted, %d told 452 4.5.3 (descriptors: 1024)" % (ok, full))
    check(b"250 2.0.0 Ok: queued" in out, "nofile: the message is delivered")
    have = sum(1 for i in range(n) if os.path.exists(spool("u%d" % i)))
    check(have == ok, "nofile: in exactly the %d accepted mailboxes (%d)" % (ok, have))
    # The users file goes back to the two users.
    write_users()


def attack_slots():
    fresh_spool()
    port = free_port()
    lg = open(path("slots.log"), "ab")
    srv = subprocess.Popen([SMTPD, "-L", "127.0.0.1:%d" % port, "-c", "2", "-E", "3",
                            "-t", "5", "-h", HOST, "-m", spool(), "-p", path("users"),
                            "-l", "stderr"], stderr=lg)
    try:
        if not check(wait_port(port), "slots: -L listening"):
            return
        time.sleep(0.3)
        res = []

        def slow():
            c = socket.create_connection(("127.0.0.1", port), timeout=15)
            f = c.makefile("rb")
            f.readline()
            got = b""
            t = time.monotonic()
            try:
                while time.monotonic() - t < 12:
                    c.sendall(b"NOOP\r\n")
                    line = f.readline()
                    if not line.startswith(b"250"):
                        got = line
                        break
                    time.sleep(1.5)
            except OSError:
                pass
            res.append((got, time.monotonic() - t))
            c.close()
        ts = [threading.Thread(target=slow) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        check(len(res) == 2 and all(g.startswith(b"421 4.4.2") and d < 8 for g, d in res),
              "slots: two steady NOOP clients ended by -E 3 (%r)" % res)
        # The sessions' processes take a moment to end after their 421.
        got = b""
        t = time.monotonic() + 10
        while time.monotonic() < t:
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            f = c.makefile("rb")
            got = f.readline()
            f.close()
            c.close()
            if got.startswith(b"220 "):
                break
            time.sleep(0.2)
        check(got.startswith(b"220 "), "slots: the slots are free again (%r)" % got)
    finally:
        srv.terminate()
        srv.wait(timeout=30)
        lg.close()
    # -C per /64: in a network namespace of our own, lo has ::1 and ::2
    # (the same /64); nothing leaves the namespace.
    code = r'''
import os, socket, subprocess, sys, time
smtpd, spool, users, log = sys.argv[1:5]
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
subprocess.run(["ip", "-6", "addr", "add", "::2/128", "dev", "lo"], check=True)
time.sleep(1.5)   # duplicate address detection
srv = subprocess.Popen([smtpd, "-L", "[::]:2525", "-C", "1", "-h", "x", "-m", spool,
                        "-p", users, "-l", "stderr"], stderr=open(log, "ab"))
def conn(src):
    fam = socket.AF_INET6 if ":" in src else socket.AF_INET
    dst = "::1" if fam == socket.AF_INET6 else "127.0.0.1"
    for _ in range(100):
        try:
            c = socket.socket(fam)
            c.bind((src, 0))
            c.settimeout(10)
            c.connect((dst, 2525))
            return c, c.makefile("rb").readline()
        except OSError:
            time.sleep(0.05)
    return None, b"no connection"
a, la = conn("::1")
b, lb = conn("::2")
c, lc = conn("127.0.0.1")
for k in (a, b, c):
    if k is not None:
        k.close()
srv.terminate(); srv.wait()
print(repr((la[:4], lb[:9], lc[:4])))
sys.exit(0 if la.startswith(b"220") and lb.startswith(b"421 4.3.2") and lc.startswith(b"220") else 1)
'''
    r = subprocess.run(["unshare", "-n", sys.executable, "-c", code, SMTPD, spool(),
                        path("users"), path("slots64.log")], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=60)
    check(r.returncode == 0, "slots: -C 1 takes ::1 and ::2 for one /64 client (%s)"
          % r.stdout.decode("latin-1").strip()[-200:])


def attack_blind():
    """The transcript runner must see a crash at exit and a sanitizer line."""
    results = []
    for name, tail in (("segv", 'kill -SEGV $$'),
                       ("sanitizer", 'echo "==1==ERROR: AddressSanitizer: heap-use-after-free" >&2')):
        fake = path("fake-%s" % name)
        with open(fake, "w") as f:
            f.write('#!/bin/sh\n"%s" "$@"\n%s\n' % (SMTPD, tail))
        os.chmod(fake, 0o755)
        env = dict(os.environ, SMTPD=fake)
        r = subprocess.run(["sh", "tests/run-transcripts.sh", "smtpd-ehlo"], cwd=TOP,
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=120)
        results.append((name, r.returncode != 0 and b"not ok smtpd-ehlo" in r.stdout))
    check(all(ok for _, ok in results), "blind: the runner fails a crash at exit and "
          "a sanitizer report (%r)" % results)


def attack_proc():
    fresh_spool()
    put("alice", MSGS, ALICE)
    for prog, port_args, talk, what in (
            (SMTPD, [], [b"EHLO c.example\r\n", b"MAIL FROM:<s@remote.example>\r\n",
                         b"RCPT TO:<alice@" + HOST.encode() + b">\r\n"],
             "an SMTP transaction"),
            (POP3D, [], [b"USER alice\r\n"], "POP3 before login")):
        port = free_port()
        lg = open(path("proc.log"), "ab")
        srv = subprocess.Popen([prog, "-L", "127.0.0.1:%d" % port, "-h", HOST, "-m",
                                spool(), "-p", path("users"), "-l", "stderr"], stderr=lg)
        try:
            if not check(wait_port(port), "proc: %s listening" % os.path.basename(prog)):
                continue
            time.sleep(0.3)
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            f = c.makefile("rb")
            f.readline()
            for line in talk:
                c.sendall(line)
                while True:
                    r = f.readline()
                    if r[3:4] != b"-":
                        break
            time.sleep(0.3)
            inode = socket_inode(port, c.getsockname()[1])
            hs = holders(inode) if inode else []
            check(hs != [] and all(0 not in st["Uid"] + st["Gid"] for _, st in hs),
                  "proc: during %s the connection is held by non-root processes only %r"
                  % (what, hs))
            f.close()
            c.close()
        finally:
            srv.terminate()
            srv.wait(timeout=30)
            lg.close()


def write_users():
    with open(path("users"), "w") as f:
        f.write("alice:{PLAIN}alicepw:%d:%d\n" % (ALICE, ALICE))
        f.write("bob:{PLAIN}bobpw:%d:%d\n" % (BOB, BOB))


def main():
    global T
    if os.geteuid() != 0:
        print("skip: trust-attacks needs root")
        return 77
    T = tempfile.mkdtemp(prefix="trust-attacks.")
    os.chmod(T, 0o755)
    write_users()
    try:
        for attack in (attack_journal, attack_dotlock, attack_precreated,
                       attack_fifo, attack_probe, attack_stale, attack_probing,
                       attack_nofile, attack_slots, attack_blind, attack_proc):
            attack()
    finally:
        if failures:
            for name in sorted(os.listdir(T)):
                if name.endswith(".log"):
                    print("--- %s (last lines)" % name)
                    print("\n".join(logtext(name).splitlines()[-15:]))
        shutil.rmtree(T, ignore_errors=True)
    print("trust-attacks: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
