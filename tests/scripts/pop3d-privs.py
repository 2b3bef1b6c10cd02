#!/usr/bin/env python3
"""pop3d-privs.py: who a logged-in pop3d session really is, read from
/proc/PID/status while the session is open (the stub drop of the unit tests
cannot show this).  Needs root; skipped (exit 77) otherwise.

Checks: after login no uid and no gid is 0, the real, effective, saved and
file-system ones alike, and no supplementary group is 0, whatever the spool
directory's group: a root:root spool (group root, group-writable or not) adds
no group, a 2775 root:mail spool adds mail and only mail, a 0755 root:mail
spool (the group buys nothing) adds none; a users-file entry with gid 0 is
refused with -ERR [SYS/PERM] before the drop.  Env: POP3D (binary)."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile

POP3D = os.environ.get("POP3D", os.path.join(os.getcwd(), "build/pop3d/pop3d"))
NOBODY = 65534
MAIL = 8
failures = []


def check(cond, what):
    print(("ok " if cond else "not ok ") + what)
    if not cond:
        failures.append(what)


def status(pid):
    """Uid, Gid and Groups lines of /proc/PID/status as lists of ints."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                out[key] = [int(x) for x in val.split()]
    return out


def readline(sock):
    buf = b""
    while not buf.endswith(b"\r\n"):
        c = sock.recv(1)
        if not c:
            break
        buf += c
    return buf


def session(t, user, pw):
    """Log USER in and return (reply to PASS, /proc status while in)."""
    a, b = socket.socketpair()
    p = subprocess.Popen([POP3D, "-h", "x", "-m", t + "/spool",
                          "-p", t + "/users", "-l", "stderr"],
                         stdin=a.fileno(), stdout=a.fileno(),
                         stderr=open(t + "/log", "ab"))
    a.close()
    b.settimeout(10)
    readline(b)
    b.sendall(b"USER %s\r\n" % user.encode())
    readline(b)
    b.sendall(b"PASS %s\r\n" % pw.encode())
    reply = readline(b)
    st = None
    if reply.startswith(b"+OK"):
        # STAT answered: the login and its drop are complete.
        b.sendall(b"STAT\r\n")
        readline(b)
        st = status(p.pid)
        b.sendall(b"QUIT\r\n")
        readline(b)
    b.close()
    p.wait(timeout=10)
    return reply, st


def main():
    if os.geteuid() != 0:
        print("skip: pop3d-privs needs root")
        return 77
    t = tempfile.mkdtemp(prefix="pop3d-privs.")
    try:
        os.chmod(t, 0o755)
        with open(t + "/users", "w") as f:
            f.write("alice:{PLAIN}alicepw:%d:%d\n" % (NOBODY, NOBODY))
            f.write("rootgrp:{PLAIN}rootgrppw:%d:0\n" % NOBODY)
        os.mkdir(t + "/spool")
        for name in ("alice", "rootgrp"):
            path = os.path.join(t, "spool", name)
            with open(path, "w") as f:
                f.write("From a Mon Jan  1 10:00:00 2024\nS: x\n\nx\n\n")
            os.chown(path, NOBODY, NOBODY)
            os.chmod(path, 0o600)
        cases = [
            # spool gid, mode, the supplementary groups expected; None:
            # the user cannot create a dotlock there, so the login fails
            # (it once worked by keeping group root)
            (0, 0o2775, None),
            (0, 0o1777, []),
            (0, 0o755, None),
            (MAIL, 0o2775, [MAIL]),
            (MAIL, 0o755, None),
        ]
        for gid, mode, want in cases:
            what = "spool %d:%d %o" % (0, gid, mode)
            os.chown(t + "/spool", 0, gid)
            os.chmod(t + "/spool", mode)
            reply, st = session(t, "alice", "alicepw")
            if want is None:
                check(reply.startswith(b"-ERR [SYS/TEMP]"),
                      what + ": no dotlock, no login " + repr(reply))
                continue
            check(reply.startswith(b"+OK"), what + ": login " + repr(reply))
            if st is None:
                continue
            check(st["Uid"] == [NOBODY] * 4, what + ": uids %s" % st["Uid"])
            check(st["Gid"] == [NOBODY] * 4, what + ": gids %s" % st["Gid"])
            check(st["Groups"] == want,
                  what + ": groups %s, want %s" % (st["Groups"], want))
            check(0 not in st["Uid"] + st["Gid"] + st["Groups"],
                  what + ": no id 0 left")
        os.chown(t + "/spool", 0, MAIL)
        os.chmod(t + "/spool", 0o2775)
        reply, st = session(t, "rootgrp", "rootgrppw")
        check(reply.startswith(b"-ERR [SYS/PERM]"),
              "users entry with gid 0 refused: " + repr(reply))
        with open(t + "/log", "rb") as f:
            log = f.read()
        check(b"group root" in log, "gid 0 refusal logged")
        check(b"Sanitizer" not in log and b"runtime error" not in log,
              "no sanitizer report")
    finally:
        shutil.rmtree(t)
    print("pop3d-privs: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
