#!/usr/bin/env python3
"""tls-pipe.py: STARTTLS and STLS against the real servers, with this test
playing the TLS wrapper on fds 5 and 6 (tls.h), the client on a real socket.
  smtpd, first protocol (the reply over fd 5, then its end): the 220 goes
    over the pipe and nowhere else, every copy of the pipe is closed (the
    reader sees its end), only the session's process ever held it; a whole
    transaction and 30 KB sent in the same packet as STARTTLS are never run;
    the session starts over (EHLO without STARTTLS), mail is delivered with
    ESMTPS in Received and tls=yes in the log;
  smtpd, acknowledging protocol (the reply on fd 1, NUL on fd 5, NUL back on
    fd 6): the same;
  pop3d: STLS through the pipe, the pipelined login after it never run; after
    TLS, CAPA offers cleartext logins and no STLS, and a login works; on
    loopback, a login without STLS holds the pipe open (the owner's process
    got it with the connection) and writes nothing to it until the end.
Root or not.  Env: SMTPD, POP3D (binaries), TOP."""
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from attack import check, failures  # noqa: E402

TOP = os.environ.get("TOP", os.getcwd())
SMTPD = os.environ.get("SMTPD", os.path.join(TOP, "build/smtpd/smtpd"))
POP3D = os.environ.get("POP3D", os.path.join(TOP, "build/pop3d/pop3d"))
HOST = "mail.example.org"
T = None


def path(*p):
    return os.path.join(T, *p)


class Wrapped:
    """PROG on a socketpair, with a control pipe on fd 5 (and, for the
    acknowledging protocol, one on fd 6), as tlswrapper -n starts it."""

    def __init__(self, prog, ack=False, client="192.0.2.7", args=()):
        self.c, s = socket.socketpair()
        self.ctl_r, ctl_w = os.pipe()
        self.ack_w = None
        fds = {5: ctl_w}
        if ack:
            ack_r, self.ack_w = os.pipe()
            fds[6] = ack_r

        def child():
            for fd, src in fds.items():
                os.dup2(src, fd)
                os.set_inheritable(fd, True)
        env = dict(os.environ, TCPREMOTEIP=client)
        self.log = open(path("log"), "ab")
        self.p = subprocess.Popen([prog, "-h", HOST, "-m", path("spool"), "-p",
                                   path("users"), "-l", "stderr", *args],
                                  stdin=s, stdout=s, stderr=self.log, env=env,
                                  preexec_fn=child, pass_fds=tuple(fds))
        s.close()
        os.close(ctl_w)
        if ack:
            os.close(fds[6])
        self.f = self.c.makefile("rb")

    def send(self, data):
        self.c.sendall(data)

    def reply(self):
        """One whole reply (the lines of a multi-line SMTP reply)."""
        out = b""
        while True:
            line = self.f.readline()
            out += line
            if not line or line[3:4] != b"-" or line[:1] in b"+-":
                return out

    def ctl(self, want_eof, timeout=5):
        """What the server writes on fd 5; with WANT_EOF, up to the end of
        the pipe (None when it does not come in time)."""
        got = b""
        until = time.monotonic() + timeout
        while True:
            left = until - time.monotonic()
            if left <= 0 or not select.select([self.ctl_r], [], [], left)[0]:
                return None if want_eof else got
            b = os.read(self.ctl_r, 4096)
            if not b:
                return got
            got += b
            if not want_eof:
                return got

    def rest(self):
        """Everything the server still sends, up to its end."""
        out = self.f.read()
        self.p.wait(timeout=30)
        self.log.close()
        return out


def holders_of_pipe(fd):
    """PIDs that hold the other end of our pipe FD (its inode)."""
    ino = os.fstat(fd).st_ino
    want = "pipe:[%d]" % ino
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            for f in os.listdir("/proc/%s/fd" % pid):
                if os.readlink("/proc/%s/fd/%s" % (pid, f)) == want:
                    out.append(int(pid))
                    break
        except OSError:
            continue
    return out


def sole_holders(fd):
    """holders_of_pipe, once the privileged half has had its moment: it
    closes its copy right after the fork, which on a busy machine may come
    after the session's first replies.  Two seconds at most."""
    deadline = time.monotonic() + 2
    held = holders_of_pipe(fd)
    while len(held) > 1 and time.monotonic() < deadline:
        time.sleep(0.02)
        held = holders_of_pipe(fd)
    return held


def fresh():
    shutil.rmtree(path("spool"), ignore_errors=True)
    os.mkdir(path("spool"))
    os.chmod(path("spool"), 0o1777)
    with open(path("log"), "wb"):
        pass


def mbox(name):
    try:
        with open(path("spool", name), "rb") as f:
            return f.read()
    except OSError:
        return None


INJECT = (b"MAIL FROM:<mallory@evil.example>\r\nRCPT TO:<bob@" + HOST.encode() +
          b">\r\nDATA\r\nSubject: injected\r\n\r\nx\r\n.\r\n" +
          b"RCPT TO:<bob@" + HOST.encode() + b">\r\n" * 900)
AFTER = (b"EHLO b.example\r\nMAIL FROM:<alice@x.example>\r\nRCPT TO:<alice@" +
         HOST.encode() + b">\r\nDATA\r\nSubject: after\r\n\r\nsecret\r\n.\r\nQUIT\r\n")


def smtp_starttls(ack):
    name = "smtpd %s" % ("ack" if ack else "close")
    fresh()
    w = Wrapped(SMTPD, ack=ack)
    greet = w.reply()
    w.send(b"EHLO a.example\r\n")
    ehlo = w.reply()
    check(greet.startswith(b"220 ") and b"250-STARTTLS\r\n" in ehlo,
          "%s: EHLO offers STARTTLS while the pipe is there: %r" % (name, ehlo))
    held = sole_holders(w.ctl_r)
    check(len(held) == 1, "%s: one process holds the control pipe: %r" % (name, held))
    # STARTTLS, a transaction and 30 KB more, in one packet.
    w.send(b"STARTTLS\r\n" + INJECT)
    if ack:
        on1 = w.reply()
        nul = w.ctl(False)
        check(on1 == b"220 2.0.0 Ready to start TLS\r\n" and nul == b"\0",
              "%s: the 220 on fd 1, then NUL on fd 5: %r %r" % (name, on1, nul))
        os.write(w.ack_w, b"\0")
        os.close(w.ack_w)
        eof = w.ctl(True)
        check(eof == b"", "%s: fd 5 ends after the ack: %r" % (name, eof))
    else:
        got = w.ctl(True)
        check(got == b"220 2.0.0 Ready to start TLS\r\n",
              "%s: the 220 over fd 5 and then its end, every copy closed: %r"
              % (name, got))
    # What the wrapper sends from here on came through TLS.
    w.send(AFTER)
    rest = w.rest()
    check(rest.startswith(b"250-" + HOST.encode()) and b"STARTTLS" not in rest and
          b"Ready to start TLS" not in rest,
          "%s: the session starts over, STARTTLS no longer offered: %r" % (name, rest[:200]))
    check(rest.count(b"\r\n250 2.1.5") == 1 and b"250 2.0.0 Ok: queued" in rest and
          rest.endswith(b"221 2.0.0 " + HOST.encode() + b" closing connection\r\n"),
          "%s: only what came after TLS is run: %r" % (name, rest))
    a, b = mbox("alice"), mbox("bob")
    check(b is None and a is not None and b"with ESMTPS id" in a and
          b"Return-Path: <alice@x.example>" in a and b"mallory" not in a,
          "%s: delivered with ESMTPS, nothing injected: %r" % (name, (a or b"")[:300]))
    with open(path("log"), "rb") as f:
        log = f.read()
    check(b"starttls" in log and b"tls=yes" in log and b"injected" not in log,
          "%s: the log says starttls and tls=yes" % name)


def pop3_stls():
    fresh()
    with open(path("spool", "alice"), "wb") as f:
        f.write(b"From a@example.com Mon Jan  1 10:00:00 2024\nSubject: one\n\nx\n\n")
    if os.geteuid() == 0:
        os.chown(path("spool", "alice"), 65534, 65534)
    os.chmod(path("spool", "alice"), 0o600)
    w = Wrapped(POP3D)
    w.reply()
    w.send(b"CAPA\r\n")
    capa = w.f.readline()
    lines = []
    while True:
        line = w.f.readline()
        if line in (b".\r\n", b""):
            break
        lines.append(line)
    check(capa.startswith(b"+OK") and b"STLS\r\n" in lines and b"USER\r\n" not in lines,
          "pop3d: from the network CAPA offers STLS, no cleartext login: %r" % lines)
    w.send(b"STLS\r\nUSER alice\r\nPASS alicepw\r\nDELE 1\r\nQUIT\r\n")
    got = w.ctl(True)
    check(got == b"+OK begin TLS negotiation\r\n",
          "pop3d: the +OK over fd 5 and then its end, every copy closed: %r" % got)
    w.send(b"CAPA\r\nUSER alice\r\nPASS alicepw\r\nSTAT\r\nQUIT\r\n")
    rest = w.rest()
    check(b"USER\r\n" in rest and b"STLS" not in rest and b"+OK 1 " in rest and
          rest.endswith(b"+OK bye, 1 messages kept\r\n"),
          "pop3d: after TLS, cleartext logins are offered and work, the pipelined "
          "DELE was never run: %r" % rest)
    with open(path("log"), "rb") as f:
        log = f.read()
    check(b"stls" in log and b"method=pass tls=yes" in log,
          "pop3d: the log says stls and tls=yes")

    # Loopback: a login without STLS; the pipe goes with the connection to
    # the owner's process, which keeps it open and writes nothing.
    w = Wrapped(POP3D, client="127.0.0.1")
    w.reply()
    w.send(b"USER alice\r\n")
    w.reply()
    w.send(b"PASS alicepw\r\n")
    ok = w.reply()
    time.sleep(0.3)
    mid = w.ctl(False, timeout=0.5)
    held = sole_holders(w.ctl_r)
    w.send(b"QUIT\r\n")
    rest = w.rest()
    end = w.ctl(True)
    check(ok.startswith(b"+OK maildrop") and mid == b"" and len(held) == 1 and
          end == b"" and rest.startswith(b"+OK bye"),
          "pop3d: a login on loopback keeps the pipe open in one process, silent, "
          "to the end (%r, held by %r)" % (ok, held))


def main():
    global T
    T = tempfile.mkdtemp(prefix="tls-pipe.")
    os.chmod(T, 0o755)
    ids = ":65534:65534" if os.geteuid() == 0 else ""
    with open(path("users"), "w") as f:
        f.write("alice:{PLAIN}alicepw%s\nbob:{PLAIN}bobpw%s\n" % (ids, ids))
    try:
        smtp_starttls(ack=False)
        smtp_starttls(ack=True)
        pop3_stls()
        if failures:
            with open(path("log"), "rb") as f:
                sys.stdout.write(f.read()[-3000:].decode("latin-1"))
    finally:
        shutil.rmtree(T, ignore_errors=True)
    print("tls-pipe: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
