#!/usr/bin/env python3
"""smtpd-socket.py: smtpd on a real TCP connection, as inetd runs it (the
socket on fds 0, 1 and 2): TCP_NODELAY is set, the client address comes from
getpeername(), the client sees only protocol lines (nothing logged to fd 2),
a bad option still gives one 421 line, the idle timeout (-t) ends the
session with 421 4.4.2, also in the middle of DATA, storing nothing, and a
421 with pipelined input left unread ends in EOF, not a reset.
Environment: SMTPD.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

# The users' uid:gid: as root, smtpd refuses a users-file entry without
# one, so every entry gets nobody's; unprivileged, our own.
OWNER_IDS = (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())


SMTPD = os.environ.get("SMTPD", "build/smtpd/smtpd")
HOST = "mail.example.org"


def connect(args, keep=False):
    """Start smtpd on one end of a TCP connection; return (proc, client, server)."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    c = socket.create_connection(ls.getsockname())
    s, _ = ls.accept()
    ls.close()
    p = subprocess.Popen([SMTPD] + args, stdin=s, stdout=s, stderr=s,
                         close_fds=True)
    c.settimeout(10)
    if not keep:
        s.close()
    return p, c, s


def lines(c, until):
    buf = b""
    while until not in buf:
        d = c.recv(65536)
        if not d:
            break
        buf += d
    return buf


def main():
    tmp = tempfile.mkdtemp(prefix="smtpd-sock.")
    ok = True
    try:
        spool = os.path.join(tmp, "spool")
        os.mkdir(spool)
        users = os.path.join(tmp, "users")
        with open(users, "w") as f:
            f.write("".join("%s:%d:%d\n" % (l, *OWNER_IDS) for l in ['alice:{PLAIN}a']))
        base = ["-h", HOST, "-m", spool, "-p", users]

        # A delivery over TCP; default logging (syslog) must not reach fd 2.
        p, c, s = connect(base, keep=True)
        greet = lines(c, b"\r\n")
        nodelay = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        s.close()  # the server's end now lives only in smtpd: EOF when it ends
        c.sendall(b"EHLO client.example\r\n")
        out = lines(c, b"250 HELP\r\n")
        c.sendall(b"MAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@%s>\r\n"
                  b"DATA\r\n" % HOST.encode())
        out += lines(c, b"354 ")
        c.sendall(b"Subject: tcp\r\n\r\nhi\r\n.\r\nQUIT\r\n")
        out += lines(c, b"\0")  # to EOF
        c.close()  # before the wait: smtpd lingers until the client closes
        p.wait(timeout=10)
        if greet != b"220 %s ESMTP\r\n" % HOST.encode():
            print("greeting %r" % greet)
            ok = False
        if not nodelay:
            print("TCP_NODELAY not set")
            ok = False
        want = re.compile(rb"250-%s\r\n(250-[A-Z0-9 ]+\r\n)+250 HELP\r\n"
                          rb"250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n"
                          rb"354 End data with <CR><LF>.<CR><LF>\r\n"
                          rb"250 2.0.0 Ok: queued as [a-z0-9]+\r\n"
                          rb"221 2.0.0 %s closing connection\r\n\Z"
                          % (HOST.encode(), HOST.encode()))
        if not want.match(out) or p.returncode != 0:
            print("replies %r status %d" % (out, p.returncode))
            ok = False
        with open(os.path.join(spool, "alice"), "rb") as f:
            box = f.read()
        if b"Received: from client.example ([127.0.0.1])\n" not in box:
            print("Received without the peer address: %r" % box[:300])
            ok = False

        # A bad option: the client gets exactly one 421 line, then EOF.
        p, c, s = connect(base + ["-Z"])
        out = lines(c, b"\0")
        c.close()
        p.wait(timeout=10)
        if out != b"421 4.3.0 %s Service not available, closing connection\r\n" % HOST.encode() \
                or p.returncode != 64:
            print("bad option: %r status %d" % (out, p.returncode))
            ok = False

        # Idle timeout between commands.
        p, c, s = connect(base + ["-t", "1"])
        t0 = time.monotonic()
        c.sendall(b"HELO client.example\r\n")
        out = lines(c, b"421 ")
        out += lines(c, b"\0")
        took = time.monotonic() - t0
        c.close()
        p.wait(timeout=10)
        if not out.endswith(b"421 4.4.2 %s Timeout, closing connection\r\n" % HOST.encode()) \
                or took > 5:
            print("idle timeout: %r after %.1fs" % (out, took))
            ok = False

        # Idle timeout in the middle of DATA: nothing is stored.
        os.unlink(os.path.join(spool, "alice"))
        p, c, s = connect(base + ["-t", "1"])
        c.sendall(b"HELO c\r\nMAIL FROM:<>\r\nRCPT TO:<alice@%s>\r\nDATA\r\n"
                  b"Subject: cut\r\n\r\nhalf" % HOST.encode())
        out = lines(c, b"421 ")
        out += lines(c, b"\0")
        c.close()
        p.wait(timeout=10)
        if not out.endswith(b"421 4.4.2 %s Timeout, closing connection\r\n" % HOST.encode()) \
                or os.path.exists(os.path.join(spool, "alice")):
            print("timeout in DATA: %r, stored: %s" % (
                out, os.path.exists(os.path.join(spool, "alice"))))
            ok = False

        # The tenth error's 421 with pipelined input left unread: smtpd
        # shuts its side and drains, so the client reads the 421 and then
        # EOF, not a reset (a close with unread input sends RST, which can
        # make the client's TCP drop the 421).
        for tail in (b"", b"NOOP\r\n" * 10000):
            p, c, s = connect(base)
            c.sendall(b"FOO\r\n" * 10 + tail)
            out, err = b"", None
            try:
                while True:
                    d = c.recv(65536)
                    if not d:
                        break
                    out += d
            except OSError as e:
                err = e
            c.close()
            p.wait(timeout=10)
            if not out.endswith(b"421 4.7.0 %s Too many errors, closing "
                                b"connection\r\n" % HOST.encode()) or err:
                print("421 with input left (%d bytes): %r, %r" % (
                    len(tail), out[-80:], err))
                ok = False
    finally:
        shutil.rmtree(tmp)
    print("ok" if ok else "not ok")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
