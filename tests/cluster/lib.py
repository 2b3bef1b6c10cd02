"""lib.py: what the cluster rig's drivers share: the rig's layout (read from
the environment run.sh exports and from $DIR/hosts), SMTP and POP3 clients
bound to a chosen source address, test messages that carry their own
checksum, an mbox reader, the servers' log lines, haproxy's admin socket,
and PASS/FAIL bookkeeping.  Python 3 standard library only.

Run as a program: `python3 lib.py haproxy COMMAND` sends COMMAND to
haproxy's admin socket and prints the answer (run.sh waits on it)."""
import hashlib
import os
import re
import socket
import sys
import time

DIR = os.environ.get("DIR", "/var/tmp/inetmail-cluster")
PROXY = os.environ.get("PROXY", "1") == "1"
DOMAIN = "mail.cluster.test"
HAPROXY_ADDR = os.environ.get("HAPROXY_ADDR", "10.77.0.1")   # as the hosts see it
ADMIN_ADDR = os.environ.get("ADMIN_ADDR", "10.77.0.3")       # direct clients


def addr(spec):
    host, port = spec.rsplit(":", 1)
    return host, int(port)


SMTP_FRONT = addr(os.environ.get("SMTP_FRONT", "127.0.0.1:10025"))
POP_FRONT = addr(os.environ.get("POP_FRONT", "127.0.0.1:10110"))
LOCAL_SMTP = addr(os.environ.get("LOCAL_SMTP", "127.0.0.1:10026"))
LOCAL_POP = addr(os.environ.get("LOCAL_POP", "127.0.0.1:10111"))
UID = GID = 65534


class Host:
    """One front host: name (h1), FQDN, address, and the spool as seen
    through its own mount namespace (/proc/HOLDER/root/...)."""

    def __init__(self, name, ip, holder, mount):
        self.name, self.ip, self.holder, self.mount = name, ip, int(holder), mount
        self.fqdn = f"{name}.cluster.test"
        self.view = f"/proc/{holder}/root{mount}"
        self.smtp = (ip, 25)
        self.pop = (ip, 110)

    def pids(self, what):
        """The listener's pid (= its process group) of 'smtpd' or 'pop3d'."""
        with open(f"{DIR}/pids/{self.name}.{what}.pid") as f:
            return int(f.read())


def hosts():
    out = []
    with open(f"{DIR}/hosts") as f:
        for line in f:
            if line.strip():
                out.append(Host(*line.split()))
    return out


# ---------------------------------------------------------------- results

class Results:
    """PASS/FAIL/XFAIL lines; claims named in $KNOWN_BAD are expected to
    fail (XFAIL, not counted as failures; XPASS when they hold)."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.passed = self.failed = 0
        self.known = set(os.environ.get("KNOWN_BAD", "").split())

    def check(self, ok, name, detail=""):
        known = name in self.known
        if ok:
            tag = "XPASS" if known else "PASS"
            self.passed += 1
        elif known:
            tag = "XFAIL"
            self.passed += 1
        else:
            tag = "FAIL"
            self.failed += 1
        print(f"{tag}: {self.prefix} {name}{': ' + detail if detail else ''}",
              flush=True)
        return ok

    def summary(self):
        with open(f"{DIR}/results", "a") as f:
            f.write(f"{self.passed} {self.failed}\n")
        return 0 if self.failed == 0 else 1


def note(msg):
    print(f"  {msg}", flush=True)


# ---------------------------------------------------------------- messages

def message(ident, client, rng, size=None):
    """A message whose X-Check header is the sha256 of its body, with lines
    that need mboxrd quoting and SMTP dot-stuffing."""
    n = rng.randint(1, 40) if size is None else max(1, size // 60)
    body = "".join(f"line {i} of {ident} {'x' * rng.randint(0, 70)}\n"
                   for i in range(n))
    if rng.random() < 0.3:
        body += "From the middle of a line\n>From quoted\n.dot\n..two\n"
    check = hashlib.sha256(body.encode()).hexdigest()
    return (f"Subject: {ident}\nX-Cluster-Id: {ident}\nX-Client: {client}\n"
            f"X-Check: {check}\n\n{body}")


def dotstuff(text):
    out = []
    for line in text.split("\n")[:-1]:
        out.append("." + line if line.startswith(".") else line)
    return ("\r\n".join(out) + "\r\n.\r\n").encode()


RECEIVED = re.compile(r"^Received: from (\S+) \(([^)]*)\)\n\tby (\S+) with E?SMTP "
                      r"id (\S+)\n\tfor <([^>]*)>; ([^\n]*)$", re.M)


def parse_message(text):
    """TEXT (LF line ends, unquoted) -> dict: id, client, whole (checksum
    holds), received (helo, addr, by, qid, rcpt) or None."""
    m = re.search(r"^X-Cluster-Id: (\S+)$", text, re.M)
    c = re.search(r"^X-Check: (\S+)$", text, re.M)
    cl = re.search(r"^X-Client: (\S+)$", text, re.M)
    body = text.split("\n\n", 1)[1] if "\n\n" in text else ""
    whole = bool(c) and hashlib.sha256(body.encode()).hexdigest() == c.group(1)
    r = RECEIVED.search(text)
    rec = None
    if r:
        a = r.group(2)
        rec = {"helo": r.group(1), "addr": a[1:-1] if a.startswith("[") else a,
               "by": r.group(3), "qid": r.group(4), "rcpt": r.group(5)}
    return {"id": m.group(1) if m else None, "client": cl.group(1) if cl else None,
            "whole": whole, "received": rec}


def read_mbox(path):
    """Split PATH at From_ lines that follow an empty line (or start the
    file), undo mboxrd quoting.  Returns (messages, problems)."""
    problems = []
    try:
        data = open(path, "rb").read().decode("latin-1")
    except FileNotFoundError:
        return [], []
    if data and not data.startswith("From "):
        problems.append(f"{os.path.basename(path)}: does not start with a From_ line")
    msgs = []
    for text in re.split(r"(?:^|(?<=\n\n))From [^\n]*\n", data)[1:]:
        text = re.sub(r"^>(>*From )", r"\1", text, flags=re.M)
        if text.endswith("\n\n"):
            text = text[:-1]
        msgs.append(parse_message(text))
    return msgs, problems


def mbox_text(ident, client, rng, size=None, sender="gen@cluster.test"):
    """One message as an mbox entry (From_ line, quoted, closing empty line),
    for mailboxes the rig writes by hand."""
    text = message(ident, client, rng, size)
    text = re.sub(r"^(>*From )", r">\1", text, flags=re.M)
    return (f"From {sender} Thu Jan  1 00:00:00 2026\n"
            f"Return-Path: <{sender}>\n{text}\n").encode()


# ---------------------------------------------------------------- clients

class Cut(Exception):
    """The connection ended (or timed out) with no reply."""


class Line:
    def __init__(self, dst, src=None, timeout=60):
        try:
            self.sock = socket.create_connection(
                dst, timeout=timeout, source_address=(src, 0) if src else None)
        except OSError as e:
            raise Cut(f"connect {dst}: {e}") from None
        self.f = self.sock.makefile("rb")

    def send(self, data):
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise Cut(f"send: {e}") from None

    def line(self):
        try:
            l = self.f.readline()
        except OSError as e:
            raise Cut(f"read: {e}") from None
        if not l.endswith(b"\n"):
            raise Cut("eof")
        return l.decode("latin-1").rstrip("\r\n")

    def close(self):
        for x in (self.f, self.sock):
            try:
                x.close()
            except OSError:
                pass


class Smtp(Line):
    def __init__(self, dst, src=None, timeout=60):
        super().__init__(dst, src, timeout)
        code, text = self.reply()
        self.greeting = text
        self.host = text.split()[0] if text else ""
        if code != 220:
            self.close()
            raise Cut(f"greeting {code} {text}")

    def reply(self):
        while True:
            l = self.line()
            if len(l) < 4 or not l[:3].isdigit():
                raise Cut(f"bad reply {l!r}")
            if l[3] != "-":
                return int(l[:3]), l[4:]

    def cmd(self, c):
        self.send((c + "\r\n").encode())
        return self.reply()

    def deliver(self, sender, rcpts, text):
        """One transaction.  Returns (outcome, detail): 'acked' (qid),
        'refused' (reply: nothing may be stored), 'cut-before' (ended before
        the final dot: nothing may be stored), 'cut-after' (ended after the
        final dot with no reply: stored whole at most once)."""
        try:
            code, t = self.cmd(f"MAIL FROM:<{sender}>")
            if code != 250:
                self.cmd("RSET")
                return "refused", f"{code} {t}"
            ok = 0
            for r in rcpts:
                code, t = self.cmd(f"RCPT TO:<{r}@{DOMAIN}>")
                ok += code == 250
            if ok != len(rcpts):
                self.cmd("RSET")
                return "refused", f"rcpt {code} {t}"
            code, t = self.cmd("DATA")
            if code != 354:
                return "refused", f"{code} {t}"
        except Cut as e:
            return "cut-before", str(e)
        try:
            self.send(dotstuff(text))
        except Cut as e:
            return "cut-after", str(e)   # part of the dot may have gone out
        return self.final()

    def final(self):
        try:
            code, t = self.reply()
        except Cut as e:
            return "cut-after", str(e)
        if code == 250:
            m = re.search(r"queued as (\S+)", t)
            return "acked", m.group(1) if m else "?"
        return "refused", f"{code} {t}"

    def quit(self):
        try:
            self.cmd("QUIT")
        except Cut:
            pass
        self.close()


class Pop(Line):
    def __init__(self, dst, src=None, timeout=60):
        super().__init__(dst, src, timeout)
        self.greeting = self.line()
        if not self.greeting.startswith("+OK"):
            self.close()
            raise Cut(f"greeting {self.greeting}")

    def cmd(self, c, multi=False):
        self.send((c + "\r\n").encode())
        first = self.line()
        if not multi or not first.startswith("+OK"):
            return first, []
        body = []
        while True:
            l = self.line()
            if l == ".":
                return first, body
            body.append(l[1:] if l.startswith(".") else l)

    def login(self, user, pw=None):
        self.cmd(f"USER {user}")
        r, _ = self.cmd(f"PASS {pw or user + 'pw'}")
        return r


def users_line(u):
    return f"{u}:{{PLAIN}}{u}pw:{UID}:{GID}\n"


# ---------------------------------------------------------------- logs

LOGLINE = re.compile(r"^(smtpd|pop3d)\[(\d+)\]: (?:sid=(\S+) client=(\S+) )?(.*)$")


def log_lines(host, what):
    """[(sid, client, text)] of DIR/logs/HOST.WHAT.log."""
    out = []
    try:
        with open(f"{DIR}/logs/{host}.{what}.log", encoding="latin-1") as f:
            for line in f:
                m = LOGLINE.match(line.rstrip("\n"))
                if m:
                    out.append((m.group(3), m.group(4), m.group(5)))
    except FileNotFoundError:
        pass
    return out


def field(text, name):
    m = re.search(rf'\b{name}=("(?:[^"\\]|\\.)*"|\S+)', text)
    if not m:
        return None
    v = m.group(1)
    return v[1:-1] if v.startswith('"') else v


# ---------------------------------------------------------------- haproxy

def haproxy(cmd):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(f"{DIR}/haproxy.sock")
    s.sendall((cmd + "\n").encode())
    out = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
    return out.decode()


def server_states():
    """{(backend, server): status} from 'show stat'."""
    out = {}
    for line in haproxy("show stat").splitlines():
        f = line.split(",")
        if len(f) > 17 and not line.startswith("#") and f[1] not in ("FRONTEND", "BACKEND"):
            out[(f[0], f[1])] = f[17]
    return out


def wait_until(pred, seconds, step=0.2):
    end = time.time() + seconds
    while time.time() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "haproxy":
        print(haproxy(sys.argv[2]), end="")
    elif len(sys.argv) == 2 and sys.argv[1] == "states":
        for (b, s), st in sorted(server_states().items()):
            print(b, s, st)
    else:
        sys.exit("usage: lib.py haproxy COMMAND | lib.py states")
