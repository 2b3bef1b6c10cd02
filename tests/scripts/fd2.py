#!/usr/bin/env python3
"""fd2.py: what the servers write to fd 2, and to a terminal.
  client     -l stderr with fds 0, 1 and 2 one TCP connection, as inetd and
             xinetd pass it: the client reads protocol lines and nothing
             else, and the log goes to syslog (a daemon of ours, reached as
             /dev/log in a mount namespace); -T run the same way warns
  journal    fd 2 a Unix socket of its own (journald's stream): -l stderr
             logs there, no warning
  tty-usage  a bad option on a terminal (a pty): the reason and the usage,
             no 421 or -ERR line
  tty-listen -L on a port in use, on a terminal, with a syslog daemon
             reachable: the reason on the terminal, no 421 or -ERR line
Needs root (mount namespaces); skipped (exit 77) otherwise, and CI runs as
root.  Env: SMTPD, POP3D (binaries)."""
import os
import pty
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from attack import check, failures  # noqa: E402
from fakesyslog import FakeSyslog  # noqa: E402

SMTPD = os.environ.get("SMTPD", os.path.join(os.getcwd(), "build/smtpd/smtpd"))
POP3D = os.environ.get("POP3D", os.path.join(os.getcwd(), "build/pop3d/pop3d"))
HOST = "mail.example.org"
T = None


def on_connection(cmd):
    """Run CMD with one TCP connection on fds 0, 1 and 2; return (proc,
    client socket)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    c = socket.create_connection(ls.getsockname())
    s, _ = ls.accept()
    ls.close()
    p = subprocess.Popen(cmd, stdin=s, stdout=s, stderr=s, close_fds=True)
    s.close()
    c.settimeout(20)
    return p, c


def read_all(c):
    buf = b""
    while True:
        try:
            d = c.recv(65536)
        except socket.timeout:
            break
        if not d:
            break
        buf += d
    return buf


def client(prog, name, talk, good, bye):
    log = FakeSyslog(os.path.join(T, name))
    try:
        spool = os.path.join(T, name, "spool")
        os.mkdir(spool)
        p, c = on_connection(log.prefix + [prog, "-h", HOST, "-m", spool,
                                           "-l", "stderr"])
        c.sendall(talk)
        out = read_all(c)
        c.close()
        p.wait(timeout=20)
        time.sleep(0.2)
        lines = log.lines()
        check(out.startswith(good) and out.endswith(bye) and b"sid=" not in out
              and b"%s[" % name.encode() not in out,
              "client: %s -l stderr on an inetd-style connection: protocol "
              "lines only (%r)" % (name, out))
        check(any("%s[" % name in l and " connect" in l for l in lines),
              "client: %s logs to syslog instead (%r)" % (name, lines[:2]))
        # -T started the same way says what the server does with -l stderr.
        p, c = on_connection(log.prefix + [prog, "-T", "-h", HOST, "-m", spool,
                                           "-l", "stderr"])
        out = read_all(c)
        c.close()
        p.wait(timeout=20)
        check(b"warning: -l stderr, but fd 2 is the client's connection" in out
              and b"logs to syslog instead" in out,
              "client: %s -T warns about -l stderr there (%r)" % (name, out[-300:]))
    finally:
        log.close()


def journal():
    """fd 2 a Unix stream socket of its own, as journald gives it."""
    spool = os.path.join(T, "journal-spool")
    os.mkdir(spool)
    a, b = socket.socketpair()
    p = subprocess.run([SMTPD, "-h", HOST, "-m", spool, "-l", "stderr"],
                       input=b"QUIT\r\n", stdout=subprocess.PIPE, stderr=a,
                       timeout=20)
    a.close()
    b.settimeout(5)
    got = read_all(b)
    b.close()
    check(p.stdout.startswith(b"220 ") and b"connect" in got,
          "journal: -l stderr logs to a Unix socket of fd 2's own (%r)" % got[:120])
    p = subprocess.run([SMTPD, "-T", "-h", HOST, "-m", spool, "-l", "stderr"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    check(b"-l stderr" not in p.stderr,
          "journal: -T does not warn off a terminal or file (%r)" % p.stderr[-200:])


def on_tty(cmd):
    """Run CMD with a pty on fds 0, 1 and 2; return (status, what it
    wrote)."""
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave,
                         close_fds=True)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            d = os.read(master, 4096)
        except OSError:		# EIO: every writer is gone
            break
        if not d:
            break
        out += d
    os.close(master)
    return p.wait(timeout=20), out


def tty_usage():
    for prog, name in ((SMTPD, "smtpd"), (POP3D, "pop3d")):
        rc, out = on_tty([prog, "-Z"])
        check(rc == 64 and b"%s: unknown option -Z" % name.encode() in out and
              b"usage: %s" % name.encode() in out and b"421 " not in out and
              b"-ERR" not in out,
              "tty-usage: %s -Z on a terminal: the reason and the usage, no "
              "protocol line (%d %r)" % (name, rc, out[:200]))


def tty_listen():
    log = FakeSyslog(os.path.join(T, "tty"))
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            for prog, name in ((SMTPD, "smtpd"), (POP3D, "pop3d")):
                rc, out = on_tty(log.prefix + [prog, "-L", "127.0.0.1:%d" % port,
                                               "-m", T])
                want = (b"%s: cannot listen: 127.0.0.1:%d: Address already in use"
                        % (name.encode(), port))
                check(rc == 71 and want in out and b"421 " not in out and
                      b"-ERR" not in out,
                      "tty-listen: %s -L on a port in use, on a terminal: the "
                      "reason there, no protocol line (%d %r)" % (name, rc, out[:200]))
            # The control: the same failure off a terminal answers a
            # client, and fd 2 stays silent.
            p = subprocess.run(log.prefix + [SMTPD, "-L", "127.0.0.1:%d" % port,
                                             "-h", HOST, "-m", T],
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=20)
            check(p.returncode == 71 and p.stdout.startswith(b"421 4.3.0 ") and
                  p.stderr == b"",
                  "tty-listen: off a terminal: one 421 line, nothing on fd 2 "
                  "(%r %r)" % (p.stdout, p.stderr))
        time.sleep(0.2)
        check(sum("startup failed: cannot listen" in l for l in log.lines()) == 3,
              "tty-listen: each in the log (%r)" % log.lines()[:3])
    finally:
        log.close()


def main():
    global T
    if os.geteuid() != 0:
        print("skip: fd2.py needs root (mount namespaces)")
        return 77
    T = tempfile.mkdtemp(prefix="fd2.")
    os.chmod(T, 0o755)
    try:
        client(SMTPD, "smtpd", b"EHLO x\r\nQUIT\r\n", b"220 ",
               b"250 HELP\r\n221 2.0.0 mail.example.org closing connection\r\n")
        client(POP3D, "pop3d", b"CAPA\r\nQUIT\r\n", b"+OK ",
               b"IMPLEMENTATION inetmail\r\n.\r\n+OK bye\r\n")
        journal()
        tty_usage()
        tty_listen()
    finally:
        shutil.rmtree(T, ignore_errors=True)
    print("fd2: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
