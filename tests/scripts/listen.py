#!/usr/bin/env python3
"""listen.py: standalone mode (-L) of smtpd and pop3d, on 127.0.0.1 and [::1].

Checks: a mail sent with smtplib through smtpd -L arrives and poplib fetches
and deletes it through pop3d -L, over IPv4 and IPv6 (the IPv6 part is skipped,
and says so, when the machine has no ::1); -c: a connection over the limit
gets one 421 4.3.2 / -ERR [SYS/TEMP] line and is closed, the refusal is
logged, and the slot is free again once a session ends; -C: the same per
client address while another address still gets in; with -P, -C counts
the client a PROXY header names and a connection without one is closed
before the greeting; no zombie children;
SIGTERM: the listener stops accepting at once, lets the open session finish,
then exits 0; SIGHUP is logged, and the listener and its sessions go on; an unusable -L address (unbracketed IPv6, port in use) exits
EX_OSERR.  Every wait is bounded; every process is killed at the end.
Exit status 0 when every check passed.  Env: SMTPD, POP3D (binaries)."""
import os
import poplib
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.environ.get("TOP", os.getcwd())
B = os.environ.get("B", "build")
SMTPD = os.environ.get("SMTPD", os.path.join(TOP, B, "smtpd/smtpd"))
POP3D = os.environ.get("POP3D", os.path.join(TOP, B, "pop3d/pop3d"))
EX_OSERR = 71
failures = []
procs = []


def check(cond, what):
    print(("ok " if cond else "not ok ") + what)
    if not cond:
        failures.append(what)
    return cond


def free_port(family, host):
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def have_ipv6():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class Server:
    """One server in -L mode on HOST (an IP literal) and a free port."""

    def __init__(self, binary, host, extra, name, hello=b""):
        self.family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.host = host
        self.port = free_port(self.family, host)
        spec = ("[%s]:%d" if ":" in host else "%s:%d") % (host, self.port)
        self.log = os.path.join(T, name + ".log")
        self.p = subprocess.Popen(
            [binary, "-L", spec, "-h", "mail.example.org", "-m", SPOOL,
             "-p", USERS, "-l", "stderr"] + extra,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self.log, "ab"))
        procs.append(self.p)
        deadline = time.time() + 10
        while time.time() < deadline and self.p.poll() is None:
            try:
                probe = self.connect()
            except OSError:
                time.sleep(0.05)
                continue
            # the greeting proves the child exists; a bare connect does not
            probe.sendall(hello)
            readline(probe)
            probe.close()
            break
        # the probe itself was a session: let it end before counting slots
        check(self.settle(), "%s: up, probe session reaped" % name)

    def connect(self, source=None):
        s = socket.socket(self.family, socket.SOCK_STREAM)
        s.settimeout(10)
        if source is not None:
            s.bind((source, 0))
        s.connect((self.host, self.port))
        return s

    def children(self):
        """(pid, state) of the listener's children, zombies included."""
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            fields = st[st.rindex(")") + 2:].split()
            if int(fields[1]) == self.p.pid:
                out.append((int(d), fields[0]))
        return out

    def settle(self, want=0, timeout=10):
        """Wait until the listener has WANT children, none a zombie."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            ch = self.children()
            if len(ch) == want and all(s != "Z" for _, s in ch):
                return True
            time.sleep(0.05)
        return False

    def logtext(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode


def readline(s):
    buf = b""
    while not buf.endswith(b"\n"):
        try:
            c = s.recv(1)
        except OSError:
            break
        if not c:
            break
        buf += c
    return buf


def eof(s):
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except OSError:
        return False


def mail_roundtrip(host):
    tag = "listen test over %s" % host
    sm = Server(SMTPD, host, ["-d", "localhost"], "smtpd-" + host)
    pp = Server(POP3D, host, [], "pop3d-" + host)
    try:
        c = smtplib.SMTP(host, sm.port, timeout=10)
        code, _ = c.ehlo("client.example.org")
        check(code == 250, "%s smtpd: EHLO 250" % host)
        refused = c.sendmail("sender@example.org", ["alice@localhost"],
                             "Subject: %s\r\n\r\nbody line\r\n" % tag)
        check(refused == {}, "%s smtpd: alice@localhost accepted" % host)
        c.quit()
        p = poplib.POP3(host, pp.port, timeout=10)
        check(p.getwelcome().startswith(b"+OK"), "%s pop3d: greeting" % host)
        p.user("alice")
        p.pass_("alicepw")
        n, _ = p.stat()
        _, lines, _ = p.retr(n) if n else (None, [], 0)
        check(("Subject: " + tag).encode() in lines,
              "%s pop3d: RETR gives the mail just sent" % host)
        check(any(l.startswith(b"Received: from client.example.org")
                  for l in lines),
              "%s pop3d: the Received line names the EHLO" % host)
        if n:
            p.dele(n)
        p.quit()
        check(sm.settle() and pp.settle(),
              "%s: sessions reaped, no zombies" % host)
        check("client=%s " % host in sm.logtext(),
              "%s smtpd: the session logs the client address" % host)
    finally:
        check(sm.stop() == 0, "%s smtpd: SIGTERM exits 0" % host)
        check(pp.stop() == 0, "%s pop3d: SIGTERM exits 0" % host)


def limit_maxconn():
    sm = Server(SMTPD, "127.0.0.1", ["-d", "localhost", "-c", "2"],
                "smtpd-maxconn")
    try:
        a, b = sm.connect(), sm.connect()
        check(readline(a).startswith(b"220 ") and readline(b).startswith(b"220 "),
              "-c 2: two sessions get 220")
        c = sm.connect()
        line = readline(c)
        check(line.startswith(b"421 4.3.2 mail.example.org "),
              "-c 2: the third gets 421 4.3.2 (%r)" % line)
        check(eof(c), "-c 2: and is closed")
        c.close()
        check("connection refused client=127.0.0.1 reason=maxconn" in
              sm.logtext(), "-c 2: the refusal is logged")
        a.sendall(b"QUIT\r\n")
        readline(a)
        a.close()
        check(sm.settle(1), "-c 2: the ended session is reaped")
        d = sm.connect()
        check(readline(d).startswith(b"220 "), "-c 2: its slot is free again")
        for s in (b, d):
            s.close()
        check(sm.settle(0), "-c 2: no zombies after the clients left")
    finally:
        sm.stop()


def limit_perip():
    pp = Server(POP3D, "127.0.0.1", ["-C", "1"], "pop3d-perip")
    try:
        a = pp.connect()
        check(readline(a).startswith(b"+OK"), "-C 1: first session +OK")
        b = pp.connect()
        line = readline(b)
        check(line == b"-ERR [SYS/TEMP] too many connections\r\n",
              "-C 1: a second from 127.0.0.1 gets -ERR [SYS/TEMP] (%r)" % line)
        check(eof(b), "-C 1: and is closed")
        b.close()
        try:
            c = pp.connect(source="127.0.0.2")
            check(readline(c).startswith(b"+OK"),
                  "-C 1: another address (127.0.0.2) still gets in")
            c.close()
        except OSError as e:
            print("skip: cannot connect from 127.0.0.2: %s" % e)
        check("reason=maxperip" in pp.logtext(), "-C 1: the refusal is logged")
        a.close()
        check(pp.settle(0), "-C 1: no zombies after the clients left")
    finally:
        pp.stop()


def v1(client):
    return ("PROXY TCP4 %s 127.0.0.1 40000 25\r\n" % client).encode()


def limit_perip_proxied():
    """-P: -C counts the client the header names, not haproxy's address."""
    # the probe is a health check: haproxy's v1 form keeps the peer
    pp = Server(POP3D, "127.0.0.1", ["-C", "1", "-P", "127.0.0.1"],
                "pop3d-perip-proxy", hello=b"PROXY UNKNOWN\r\nQUIT\r\n")
    held = []
    try:
        a = pp.connect()
        a.sendall(v1("192.0.2.1"))
        check(readline(a).startswith(b"+OK"),
              "-P -C 1: first client through the proxy gets +OK")
        held.append(a)
        b = pp.connect()
        b.sendall(v1("192.0.2.2"))
        check(readline(b).startswith(b"+OK"),
              "-P -C 1: another client through the same proxy gets +OK")
        held.append(b)
        c = pp.connect()
        c.sendall(v1("192.0.2.1"))
        line = readline(c)
        check(line == b"-ERR [SYS/TEMP] too many connections\r\n",
              "-P -C 1: the first client again is over -C (%r)" % line)
        check(eof(c), "-P -C 1: and is closed")
        c.close()
        log = pp.logtext()
        check("connection refused client=192.0.2.1 via=127.0.0.1 "
              "reason=maxperip" in log, "-P -C 1: the refusal names both")
        check("client=192.0.2.2 connect via=127.0.0.1" in log,
              "-P: the session logs the header's client")
        check("client=127.0.0.1 connect" not in log and
              "client=127.0.0.1 disconnect" not in log,
              "-P: a health check (PROXY UNKNOWN, then QUIT) is served and "
              "leaves no line")
        d = pp.connect()
        d.sendall(b"USER alice\r\n")
        check(eof(d), "-P: no greeting without a header")
        d.close()
        check(pp.settle(2) and "client=127.0.0.1 proxy header invalid, "
              "closed" in pp.logtext(), "-P: the close is logged")
        for s in held:
            s.close()
        check(pp.settle(0), "-P -C 1: no zombies after the clients left")
    finally:
        for s in held:
            s.close()
        pp.stop()


def sigterm():
    pp = Server(POP3D, "127.0.0.1", [], "pop3d-term")
    try:
        p = poplib.POP3("127.0.0.1", pp.port, timeout=10)
        p.user("alice")
        p.pass_("alicepw")
        pp.p.send_signal(signal.SIGTERM)
        refused = False
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                pp.connect().close()
                time.sleep(0.05)
            except ConnectionRefusedError:
                refused = True
                break
            except ConnectionResetError:
                # in the backlog when the listener closed
                time.sleep(0.05)
        check(refused, "SIGTERM: new connections are refused")
        time.sleep(0.2)
        check(pp.p.poll() is None, "SIGTERM: the listener waits for the open session")
        ok = True
        try:
            p.stat()
            p.noop()
        except (poplib.error_proto, OSError):
            ok = False
        check(ok, "SIGTERM: the open session still works")
        p.quit()
        try:
            rc = pp.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            rc = None
        check(rc == 0, "SIGTERM: exit 0 once the session ended (%r)" % rc)
        check("stopped" in pp.logtext(), "SIGTERM: 'stopped' logged")
    finally:
        pp.stop()


def sighup():
    """SIGHUP is logged and changes nothing: every session's process reads
    its configuration afresh, so the listener goes on serving, also a
    session open across the signal."""
    sm = Server(SMTPD, "127.0.0.1", [], "smtpd-hup")
    try:
        held = sm.connect()
        greet = readline(held)
        sm.p.send_signal(signal.SIGHUP)
        logged = False
        deadline = time.time() + 10
        while time.time() < deadline and not logged:
            logged = "SIGHUP: nothing to reload" in sm.logtext()
            time.sleep(0.05)
        check(logged, "SIGHUP: logged")
        if not check(sm.p.poll() is None, "SIGHUP: the listener lives on"):
            return
        s = sm.connect()
        check(readline(s).startswith(b"220 "), "SIGHUP: a new connection gets 220")
        s.sendall(b"QUIT\r\n")
        check(readline(s).startswith(b"221 "), "SIGHUP: and is served to QUIT")
        s.close()
        held.sendall(b"NOOP\r\n")
        check(greet.startswith(b"220 ") and readline(held).startswith(b"250 "),
              "SIGHUP: the session open across it goes on")
        held.close()
    finally:
        sm.stop()


def bad_listen():
    r = subprocess.run([SMTPD, "-L", "::1:25", "-l", "stderr", "-m", SPOOL],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    check(r.returncode == EX_OSERR and
          b'startup failed: cannot listen: "::1:25: want a.b.c.d:PORT' in r.stderr,
          "-L ::1:25 (no brackets): EX_OSERR, logged")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = subprocess.run([POP3D, "-L", "127.0.0.1:%d" % port, "-l", "stderr",
                            "-m", SPOOL], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=10)
    check(r.returncode == EX_OSERR and b"Address already in use" in r.stderr,
          "-L on a port in use: EX_OSERR, logged")
    r = subprocess.run([POP3D, "-L", "127.0.0.1:1100", "-c", "0", "-l", "stderr"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    check(r.returncode == 64, "-c 0: EX_USAGE")


T = tempfile.mkdtemp(prefix="inetmail-listen.")
SPOOL = os.path.join(T, "spool")
USERS = os.path.join(T, "users")
UID, GID = (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())
try:
    os.chmod(T, 0o755)
    os.mkdir(SPOOL)
    os.chown(SPOOL, -1, GID)
    os.chmod(SPOOL, 0o2775)
    with open(USERS, "w") as f:
        f.write("alice:{PLAIN}alicepw:%d:%d\n" % (UID, GID))
    mail_roundtrip("127.0.0.1")
    if have_ipv6():
        mail_roundtrip("::1")
    else:
        print("skip: no ::1 on this machine, IPv6 part not run")
    limit_maxconn()
    limit_perip()
    limit_perip_proxied()
    sigterm()
    sighup()
    bad_listen()
finally:
    for pr in procs:
        if pr.poll() is None:
            pr.kill()
            pr.wait()
    if failures:
        for name in os.listdir(T):
            if name.endswith(".log"):
                print("--- %s" % name)
                with open(os.path.join(T, name), errors="replace") as f:
                    sys.stdout.write(f.read())
    shutil.rmtree(T, ignore_errors=True)
print("%d failed" % len(failures))
sys.exit(1 if failures else 0)
