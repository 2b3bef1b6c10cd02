#!/usr/bin/env python3
"""bench/peers.py: the driver of bench/peers.sh, which installs the
peers, builds bench/peers-srv.c, makes the mailboxes and passes everything in
the environment.  Python 3 standard library only.

Every workload runs its servers in turn, A B C A B C ..., for ROUNDS rounds
after one warm-up, and prints the median (and the min-max) of each.  The
column "x" says how many times better inetmail does than that row: for a
rate inetmail/row, for a time or a memory size row/inetmail; above 1,
inetmail is ahead.  On the floor, sink and cat rows it reads as inetmail's
fraction of them.  Measures; never fails on a figure, only when a step
itself breaks (a server that does not start, a session that goes wrong).
"""
import ctypes
import multiprocessing as mp
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import warnings

E = os.environ
SMTPD, POP3D, SRV = E["SMTPD"], E["POP3D"], E["SRV"]
S = E["S"]                               # scratch folder, removed by peers.sh
N = int(E.get("N", "2000"))
ROUNDS = max(1, int(E.get("ROUNDS", "5")))
CONC = 4
PEERS = E.get("PEERS") == "1"
BIG, MID = E["BIG"], E["MID"]            # cached generated mailboxes
POPA3D = E.get("POPA3D", "")             # popa3d binary ("" = none)
DOVECOT_LIBEXEC = E.get("DOVECOT_LIBEXEC", "")  # where pop3, pop3-login are
VERSIONS = dict(v.split("=", 1) for v in E.get("VERSIONS", "").split() if "=" in v)
TIMEOUT = 120
RETR_LIMIT = 3.0                         # seconds at most for one RETR run
ONLY = set(E.get("ONLY", "1,2,3,4,5,6").replace(",", " ").split())
ROOT = os.geteuid() == 0
UID, GID = (65534, 65534) if ROOT else (os.getuid(), os.getgid())
SSA = shutil.which("systemd-socket-activate")
TCPSERVER = shutil.which("tcpserver")
PW = "pw"
DOMAIN = "mail.example.org"
MiB = 1 << 20
failures = []                            # steps that broke, for the exit status


def say(s=""):
    print(s, flush=True)


def note(s):
    """A step that broke: shown at once, and the run exits 1 at the end."""
    failures.append(s)
    say("   !! " + s)


# ---------------------------------------------------------------- the client
# One 4096-byte message (76-byte lines, headers like real mail), as
# bench/smtpd.sh sends it.
LINE = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-.,;:!?()[]/\r\n"
HEAD = (b"From: Sender <sender@remote.example>\r\nTo: <u@mail.example.org>\r\n"
        b"Subject: benchmark message\r\nMessage-ID: <1@remote.example>\r\n"
        b"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n\r\n")
BODY = HEAD + LINE * ((4096 - len(HEAD)) // len(LINE))
BODY += b"x" * (4096 - len(BODY) - 2) + b"\r\n"
assert len(BODY) == 4096
MARK = b"\nSubject: benchmark message\n"     # once per message in an mbox
ENVELOPE = [b"MAIL FROM:<sender@remote.example>\r\nRCPT TO:<u%d@%s>\r\nDATA\r\n"
            % (i, DOMAIN.encode()) for i in range(4)]
TERM = b"\r\n.\r\n"                          # ends a POP3 multi-line reply


class Conn:
    """A client connection with a small line reader, and bulk readers for
    the long replies (so the client stays well ahead of the servers: see the
    sink rows)."""

    def __init__(self, port):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.settimeout(TIMEOUT)
        self.s.connect(("127.0.0.1", port))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf, self.pos = b"", 0
        self.rbuf = None
        self.quickack = False

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        while True:
            i = self.buf.find(b"\n", self.pos)
            if i >= 0:
                ln, self.pos = self.buf[self.pos:i + 1], i + 1
                return ln
            d = self.s.recv(65536)
            if not d:
                raise EOFError("connection closed early")
            self.buf, self.pos = self.buf[self.pos:] + d, 0

    def rest(self):
        """What was read but not yet taken, and forget it."""
        r = self.buf[self.pos:]
        self.buf, self.pos = b"", 0
        return r

    def reply(self, want):
        """One SMTP reply (multi-line ones whole) or one POP3 status line;
        it must start with WANT."""
        while True:
            ln = self.line()
            if ln[3:4] != b"-":
                break
        if not ln.startswith(want):
            raise EOFError("wanted %r, got %r" % (want, ln[:80]))
        return ln

    def multi(self, count):
        """COUNT POP3 multi-line replies (each ends with CRLF.CRLF), counted
        as they stream in, into one reused buffer; returns the bytes read."""
        if self.rbuf is None:
            self.rbuf = bytearray(1 << 18)
        buf, s = self.rbuf, self.s
        first = self.rest()
        if first and not first.startswith(b"+OK"):
            raise EOFError("wanted +OK, got %r" % first[:80])
        checked = bool(first)
        found, total, tail = first.count(TERM), len(first), first[-4:]
        while found < count:
            n = s.recv_into(buf)
            if not n:
                raise EOFError("connection closed early")
            if self.quickack:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            if not checked:
                if buf[:3] != b"+OK":
                    raise EOFError("wanted +OK, got %r" % bytes(buf[:80]))
                checked = True
            found += buf.count(TERM, 0, n)
            if tail:                        # a terminator across two reads
                found += (tail + bytes(buf[:min(n, 4)])).count(TERM)
            tail = (tail + bytes(buf[max(0, n - 4):n]))[-4:]
            total += n
        return total

    def lines(self, count, want):
        """COUNT single-line replies at once, each starting with WANT."""
        parts = [self.rest()]
        nl = parts[0].count(b"\n")
        while nl < count:
            d = self.s.recv(262144)
            if not d:
                raise EOFError("connection closed early")
            parts.append(d)
            nl += d.count(b"\n")
        data = b"".join(parts)
        if nl != count or data.count(b"\n" + want) != count - 1 or not data.startswith(want):
            raise EOFError("wanted %d %r replies, got %r..." % (count, want, data[:80]))
        return data

    def eof(self):
        """Wait for the server to close (a server is done when it closes)."""
        if self.rest():
            raise EOFError("more than was asked for")
        while self.s.recv(65536):
            pass
        self.s.close()


def smtp_session(port, box):
    c = Conn(port)
    c.reply(b"220")
    c.send(b"EHLO client.example\r\n")
    c.reply(b"250")
    c.send(ENVELOPE[box])                   # pipelined, DATA last
    c.reply(b"250")
    c.reply(b"250")
    c.reply(b"354")
    c.send(BODY + b".\r\nQUIT\r\n")
    c.reply(b"250")
    c.reply(b"221")
    c.eof()


def trivial_session(port, proto):
    c = Conn(port)
    ok = b"220" if proto == "smtp" else b"+OK"
    c.reply(ok)
    c.send(b"QUIT\r\n")
    c.reply(b"221" if proto == "smtp" else b"+OK")
    c.eof()


def many(kind, port, worker, count):
    """COUNT sessions one after the other (in a worker process); returns
    (sessions that went right, first error)."""
    good, first = 0, None
    for k in range(count):
        try:
            if kind == "smtp":
                smtp_session(port, (worker + k) % 4)
            else:
                trivial_session(port, kind)
            good += 1
        except (OSError, EOFError) as e:
            first = first or repr(e)
    return good, first


def _worker(conn):
    while True:
        job = conn.recv()
        if job is None:
            return
        try:
            r = many(*job)
        except Exception as e:          # report, do not hang the parent
            r = (0, repr(e))
        conn.send(r)


class Team:
    """CONC client processes, started once and kept for the whole run."""

    def __init__(self, n):
        self.conns, self.procs = [], []
        for _ in range(n):
            a, b = mp.Pipe()
            p = mp.Process(target=_worker, args=(b,), daemon=True)
            p.start()
            self.conns.append(a)
            self.procs.append(p)

    def run(self, kind, port, total, conc):
        """TOTAL sessions over CONC workers; returns (seconds, good, first error)."""
        per = [total // conc + (i < total % conc) for i in range(conc)]
        t0 = time.perf_counter()
        for w in range(conc):
            self.conns[w].send((kind, port, w, per[w]))
        res = [self.conns[w].recv() for w in range(conc)]
        dt = time.perf_counter() - t0
        return dt, sum(r[0] for r in res), next((r[1] for r in res if r[1]), None)

    def close(self):
        for c in self.conns:
            c.send(None)
        for p in self.procs:
            p.join(5)


def pop3_login(port, user, quickack=False):
    c = Conn(port)
    c.quickack = quickack
    c.reply(b"+OK")
    c.send(b"USER %s\r\n" % user.encode())
    c.reply(b"+OK")
    c.send(b"PASS %s\r\n" % PW.encode())
    c.reply(b"+OK")
    return c


def stat_session(port, user, probe=None):
    """login+STAT+QUIT, lockstep as a mail client does it: (seconds, STAT
    line, PROBE() called before the QUIT)."""
    t0 = time.perf_counter()
    c = pop3_login(port, user)
    c.send(b"STAT\r\n")
    st = c.reply(b"+OK")
    seen = probe() if probe else None
    c.send(b"QUIT\r\n")
    c.reply(b"+OK")
    c.eof()
    return time.perf_counter() - t0, st, seen


RETR = [b"RETR %d\r\n" % i for i in range(100001)]


def retr_session(port, user, count, batch, quickack=False):
    """RETR 1..COUNT, BATCH commands at a time (1: one by one), stopping
    after RETR_LIMIT seconds; returns (seconds of the RETR part, messages)."""
    c = pop3_login(port, user, quickack)
    if quickack:
        c.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    done = 0
    t0 = time.perf_counter()
    stop = t0 + RETR_LIMIT
    if batch == 1:
        # one reply outstanding: it is whole when what came so far ends in
        # the terminator (the tightest loop we can make, see the sink row)
        s, clock = c.s, time.perf_counter
        buf = bytearray(1 << 18)
        mv = memoryview(buf)
        for i in range(1, count + 1):
            s.sendall(RETR[i])
            n = s.recv_into(buf)
            if c.quickack:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            if buf[:3] != b"+OK":
                raise EOFError("RETR %d: %r" % (i, bytes(buf[:min(n, 80)])))
            while buf[n - 5:n] != TERM:
                m = s.recv_into(mv[n:])
                if not m:
                    raise EOFError("connection closed early")
                if c.quickack:
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
                n += m
            if clock() > stop:
                break
        done = i
    else:
        for first in range(1, count + 1, batch):
            last = min(count, first + batch - 1)
            c.send(b"".join(RETR[first:last + 1]))
            c.multi(last - first + 1)
            done = last
            if time.perf_counter() > stop:
                break
    dt = time.perf_counter() - t0
    c.send(b"QUIT\r\n")
    c.reply(b"+OK")
    c.eof()
    return dt, done


def dele_session(port, user, count):
    """DELE 1..COUNT and QUIT, all pipelined (sent from a thread), until the
    server closes (it has committed then); returns seconds from the first DELE."""
    c = pop3_login(port, user)
    data = b"".join(b"DELE %d\r\n" % i for i in range(1, count + 1)) + b"QUIT\r\n"
    t0 = time.perf_counter()
    th = threading.Thread(target=c.send, args=(data,))
    th.start()
    c.lines(count + 1, b"+OK")
    c.eof()
    dt = time.perf_counter() - t0
    th.join()
    return dt


# ------------------------------------------------------------ the processes
LOG = open(os.path.join(S, "servers.log"), "ab")
procs = []                                # (label, Popen) of our launchers
stops = []                                # commands that stop our daemons


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_ready(port, what, greeting):
    t = time.time() + 15
    while True:
        try:
            c = Conn(port)
            g = c.line()
            c.send(b"QUIT\r\n")
            c.line()
            c.eof()
            if g.startswith(greeting):
                return True
            note("%s: greeting %r" % (what, g[:60]))
            return False
        except (OSError, EOFError):
            if time.time() > t:
                note("%s: no server on port %d" % (what, port))
                return False
            time.sleep(0.05)


def launch(label, argv, greeting):
    """Start a launcher (it listens on the port in ARGV); returns (port, pid)
    or None."""
    port = free_port()
    argv = [a.replace("@PORT@", str(port)) for a in argv]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=LOG)
    procs.append((label, p))
    if not wait_ready(port, label, greeting):
        return None
    return port, p.pid


def stop_all():
    for label, p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for label, p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    for argv in stops:
        subprocess.run(argv, stdout=LOG, stderr=LOG)
    # Daemons that went into the background were re-parented to us (we are a
    # child subreaper, see below): reap what is left of them once they stop.
    t = time.time() + 10
    while time.time() < t:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.05)


def children(pid):
    """PID's descendants, from /proc/PID/task/*/children."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    kids = [int(x) for x in f.read().split()]
                out += kids
                todo += kids
        except OSError:
            pass
    return out


def hwm_kib(pids, comm=None):
    """The largest VmHWM (peak resident set of the current program) among PIDS,
    those named COMM only if given; 0 if none could be read."""
    best = 0
    for p in pids:
        try:
            if comm:
                with open("/proc/%d/comm" % p) as f:
                    if f.read().strip() != comm:
                        continue
            with open("/proc/%d/status" % p) as f:
                for ln in f:
                    if ln.startswith("VmHWM:"):
                        best = max(best, int(ln.split()[1]))
        except OSError:
            pass
    return best


# ------------------------------------------------------------ the table
def fmt_num(v):
    if v >= 1000:
        return "%.0f" % v
    if v >= 100:
        return "%.1f" % v
    if v >= 10:
        return "%.2f" % v
    return "%.3f" % v


class Section:
    """Rows of one workload: the first inetmail row is the reference of the
    ratio column."""

    def __init__(self, title, unit, higher_better):
        self.unit, self.hb, self.ref = unit, higher_better, None
        say()
        say(title)

    def row(self, label, vals, ref=False, vs=None):
        """A row of figures VALS (one a round).  REF: it is the reference;
        VS: the reference figures for this row instead of the section's.
        The ratio is the median of the round-by-round ratios (each round ran
        both next to each other, so a drift of the machine cancels out), or
        the ratio of the medians when the rounds do not pair up."""
        if not vals:
            say("   %-46s %10s" % (label, "no figure"))
            return None
        med = statistics.median(vals)
        if ref:
            self.ref = vals
        base = vs if vs is not None else self.ref
        x = ""
        if base and all(base) and all(vals):
            if len(base) == len(vals):
                x = statistics.median(b / v if self.hb else v / b for b, v in zip(base, vals))
            else:
                b = statistics.median(base)
                x = b / med if self.hb else med / b
            x = "%.2f" % x
        spread = "(%s-%s)" % (fmt_num(min(vals)), fmt_num(max(vals))) if len(vals) > 1 else ""
        say("   %-46s %10s %-7s %-21s %6s" % (label, fmt_num(med), self.unit, spread, x))
        return med

    def info(self, text):
        say("   %s" % text)


def rounds(servers, one, warm=True):
    """Run ONE(server) for each server in turn, ROUNDS times after a warm-up;
    returns {label: [figures]}.  ONE returns a figure or None (it broke)."""
    res = {lab: [] for lab, _ in servers}
    broken = set()
    for r in range(-1 if warm else 0, ROUNDS):
        for lab, srv in servers:
            if lab in broken:
                continue
            try:
                v = one(srv)
            except (OSError, EOFError) as e:
                note("%s: %r" % (lab, e))
                v = None
            if v is None:
                broken.add(lab)
            elif r >= 0:
                res[lab].append(v)
    return res


# ------------------------------------------------------------ setup
def crypt6(pw):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt
        h = crypt.crypt(pw, "$6$benchsalt$")
        if h and h.startswith("$6$"):
            return h
    except ImportError:
        pass
    return subprocess.run(["openssl", "passwd", "-6", "-salt", "benchsalt", pw],
                          capture_output=True, text=True, check=True).stdout.strip()


def mkdir(path, owner=None, mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, mode)
    if owner and ROOT:
        os.chown(path, *owner)
    return path


def put_mbox(src, dst):
    """A copy of SRC at DST owned by the mail user, on disk before we go on."""
    shutil.copyfile(src, dst)
    if ROOT:
        os.chown(dst, UID, GID)
    os.chmod(dst, 0o600)
    fd = os.open(dst, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)


def write(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def count_msgs(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(MARK)
    except FileNotFoundError:
        return 0


def msgs_in(path):
    n = 0
    with open(path, "rb") as f:
        prev = b"\n"
        for ln in f:
            if ln.startswith(b"From ") and prev == b"\n":
                n += 1
            prev = ln
    return n


def main():
    # Dovecot and Postfix fork into the background; as a child subreaper we
    # get their processes back when they stop, and reap them (the init of a
    # container may not).
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    h6 = crypt6(PW)
    bigsize, midsize = os.path.getsize(BIG), os.path.getsize(MID)
    bign, midn = msgs_in(BIG), msgs_in(MID)
    users_pop = ("benchbig", "benchmid", "benchdele")

    say("peer benchmark  %s  %s  %d CPUs  %s"
        % (time.strftime("%Y-%m-%d %H:%M"), socket.gethostname(), os.cpu_count(),
           " ".join(os.uname()[2:3])))
    say("inetmail: %s, %s" % (SMTPD, POP3D))
    if PEERS:
        say("peers: " + ", ".join("%s %s" % kv for kv in sorted(VERSIONS.items())) +
            ", from Debian" + ("; %s unpacked from its .deb, not installed (it "
                               "conflicts with the other POP3 server)" % E["UNPACKED"]
                               if E.get("UNPACKED") else ""))
    else:
        say("peers: none (BENCH_PEERS=1, as root, adds Postfix, Dovecot and popa3d)")
    say("median of %d alternating rounds after a warm-up, (min-max); x: how many "
        "times better inetmail does than that row\n(rates: inetmail/row, times and "
        "sizes: row/inetmail; median of the round-by-round ratios)" % ROUNDS)

    # inetmail: users file (SHA512-CRYPT, as Dovecot and popa3d get), spools.
    users = write(os.path.join(S, "users"), "".join(
        "%s:{SHA512-CRYPT}%s:%d:%d\n" % (u, h6, UID, GID)
        for u in ("u0", "u1", "u2", "u3") + users_pop))
    im_smtp = mkdir(os.path.join(S, "im-smtp"))
    im_smtp_l = mkdir(os.path.join(S, "im-smtp-l"))
    im_pop = mkdir(os.path.join(S, "im-pop"), (UID, GID))
    floor_dir = mkdir(os.path.join(S, "floor"))
    smtpd_args = [SMTPD, "-h", DOMAIN, "-m", im_smtp, "-p", users]
    pop3d_args = [POP3D, "-h", DOMAIN, "-m", im_pop, "-p", users]
    put_mbox(BIG, os.path.join(im_pop, "benchbig"))
    put_mbox(MID, os.path.join(im_pop, "benchmid"))

    have_pf = have_dv = have_pa = False
    pa_spool = pf_spool = pa_ns = dv_port = pf_port = None
    if PEERS:
        pa_spool, pa_ns = setup_popa3d(h6, users_pop)
        have_pa = pa_ns is not None
        if DOVECOT_LIBEXEC and shutil.which("dovecot"):
            dv_port = setup_dovecot(h6, users_pop)
        else:
            note("dovecot: not installed (or its pop3 not found): its rows are skipped")
        pf = setup_postfix()
        pf_port, pf_spool = pf if pf else (None, None)
    os.sync()

    # --- the launchers, all listening for the whole run
    srv = {}

    def add(key, label, argv, greeting):
        r = launch(label, argv, greeting)
        if r:
            srv[key] = r

    if not SSA:
        note("systemd-socket-activate is missing: the inetd-style rows are skipped")
    else:
        ssa = [SSA, "-l", "127.0.0.1:@PORT@", "--inetd", "-a"]
        add("smtpd", "inetmail smtpd", ssa + smtpd_args, b"220")
        add("pop3d", "inetmail pop3d", ssa + pop3d_args, b"+OK")
        add("floor", "floor", ssa + [SRV, "floor", floor_dir], b"220")
        if have_pa:
            add("popa3d", "popa3d", ["unshare", "-m", "sh", pa_ns] + ssa + [POPA3D], b"+OK")
    # Standalone: one process per connection too, forked by the listener
    # (no exec); -c and -C high enough for the client's concurrency.
    add("smtpd-L", "inetmail smtpd -L", [SMTPD, "-L", "127.0.0.1:@PORT@", "-c", "40",
                                         "-C", "40"] + smtpd_args[1:3] + ["-m", im_smtp_l]
        + smtpd_args[5:], b"220")
    add("sink-smtp", "sink smtp", [SRV, "sink", "smtp", "@PORT@"], b"220")
    add("sink-pop3", "sink pop3", [SRV, "sink", "pop3", "@PORT@"], b"+OK")
    if TCPSERVER:
        tcps = [TCPSERVER, "-R", "-H", "-l", "0", "-c", "40", "127.0.0.1", "@PORT@"]
        add("smtpd-tcps", "inetmail smtpd tcpserver", tcps + smtpd_args, b"220")
        add("pop3d-tcps", "inetmail pop3d tcpserver", tcps + pop3d_args, b"+OK")
        if have_pa:
            add("popa3d-tcps", "popa3d tcpserver",
                ["unshare", "-m", "sh", pa_ns] + tcps + [POPA3D], b"+OK")
    if PEERS and pf_port and wait_ready(pf_port, "postfix", b"220"):
        srv["postfix"] = (pf_port, None)
        have_pf = True
    if PEERS and dv_port and wait_ready(dv_port, "dovecot", b"+OK"):
        srv["dovecot"] = (dv_port, None)
        have_dv = True

    have_pa = have_pa and "popa3d" in srv
    team = Team(CONC)
    work = [("1", lambda: deliver(team, srv, have_pf, {"smtpd": im_smtp, "smtpd-L": im_smtp_l,
                                                       "floor": floor_dir}, pf_spool)),
            ("2", lambda: stats(srv, have_dv, have_pa, bigsize, midsize, bign, midn,
                                im_pop, pa_spool)),
            ("3", lambda: rss(srv, have_dv, have_pa, bign, bigsize)),
            ("4", lambda: retr(srv, have_pa, midn, midsize)),
            ("5", lambda: dele(srv, have_pa, midn, midsize, im_pop, pa_spool)),
            ("6", lambda: sessions(team, srv, have_pf, have_dv))]
    try:
        for num, fn in work:
            if num in ONLY:
                try:
                    fn()
                except KeyError as e:
                    note("workload %s skipped: server %s did not start" % (num, e))
    finally:
        team.close()
    say()
    say("ssa: systemd-socket-activate --inetd -a, one process per connection; "
        "tcpserver: ucspi-tcp, the same.")
    say("floor: fork+exec of a static C program that answers SMTP with canned "
        "replies and appends the 4096-byte message with one write + fsync.")
    say("sink: a pre-forked C server with canned replies that stores nothing: "
        "the client's own ceiling\n(RETR one by one is bound by the round trip of "
        "client, loopback and wake-ups on these %d CPUs: the sink row is that share)."
        % os.cpu_count())
    return 1 if failures else 0


# ------------------------------------------------------------ the peers
def setup_popa3d(h6, users_pop):
    """popa3d has /var/mail, the system's accounts and PAM built in.  It runs
    in a mount namespace of its own (unshare -m), where scratch copies are
    bind-mounted over /var/mail, /etc/passwd, /etc/shadow, /etc/group and
    /etc/pam.d: the bench users exist and their mailboxes are there for it
    alone; the system's files are never written."""
    if not POPA3D or not os.path.isdir("/var/mail") or not shutil.which("unshare"):
        note("popa3d: not installed, or no /var/mail or unshare: its rows are skipped")
        return None, None
    d = mkdir(os.path.join(S, "pa"))
    spool = mkdir(os.path.join(d, "mail"), (UID, GID))
    etc = {}
    for name in ("passwd", "shadow", "group"):
        with open("/etc/" + name) as f:
            etc[name] = f.read()
    if "\npopa3d:" not in "\n" + etc["passwd"]:     # unpacked, not installed
        etc["passwd"] += "popa3d:x:64998:64998::/var/lib/popa3d:/usr/sbin/nologin\n"
        etc["group"] += "popa3d:x:64998:\n"
        etc["shadow"] += "popa3d:*:19000:0:99999:7:::\n"
    for u in users_pop:
        etc["passwd"] += "%s:x:%d:%d::/nonexistent:/usr/sbin/nologin\n" % (u, UID, GID)
        etc["shadow"] += "%s:%s:19000:0:99999:7:::\n" % (u, h6)
    for name, text in etc.items():
        write(os.path.join(d, name), text, 0o640 if name == "shadow" else 0o644)
    pam = os.path.join(d, "pam.d")
    shutil.copytree("/etc/pam.d", pam, symlinks=True)
    if not os.path.exists(os.path.join(pam, "popa3d")):
        write(os.path.join(pam, "popa3d"), "@include common-auth\n@include common-account\n")
    lines = ["set -e"]
    for src, dst in ((spool, "/var/mail"), (os.path.join(d, "passwd"), "/etc/passwd"),
                     (os.path.join(d, "shadow"), "/etc/shadow"),
                     (os.path.join(d, "group"), "/etc/group"), (pam, "/etc/pam.d")):
        lines.append("mount --bind '%s' '%s'" % (src, dst))
    if not os.path.isdir("/var/lib/popa3d"):        # its empty chroot
        mkdir(os.path.join(d, "varlib", "popa3d"))
        lines.append("mount --bind '%s' /var/lib" % os.path.join(d, "varlib"))
    lines.append('exec "$@"')
    ns = write(os.path.join(d, "ns.sh"), "\n".join(lines) + "\n")
    put_mbox(BIG, os.path.join(spool, "benchbig"))
    put_mbox(MID, os.path.join(spool, "benchmid"))
    return spool, ns


def setup_dovecot(h6, users_pop):
    """Dovecot as its own daemon, on a private configuration: mbox INBOX in a
    scratch spool, index files beside it, passwd-file users, one static uid."""
    d = mkdir(os.path.join(S, "dv"))
    for sub in ("run", "state"):
        mkdir(os.path.join(d, sub))
    spool = mkdir(os.path.join(d, "spool"), (UID, GID))
    mkdir(os.path.join(d, "index"), (UID, GID))
    mkdir(os.path.join(d, "home"), (UID, GID))
    users = write(os.path.join(d, "users"),
                  "".join("%s:{SHA512-CRYPT}%s\n" % (u, h6) for u in users_pop))
    port = free_port()
    exe = ""
    if os.path.realpath(DOVECOT_LIBEXEC) != "/usr/lib/dovecot":
        exe = "  executable = %s/%%s\n" % DOVECOT_LIBEXEC
    conf = write(os.path.join(d, "dovecot.conf"), """\
# private instance of bench/peers.sh
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=SHA512-CRYPT {users}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%u
}}
mail_location = mbox:{d}/home/%u:INBOX={d}/spool/%u:INDEX={d}/index/%u
service pop3-login {{
{exe_login}  inet_listener pop3 {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service pop3 {{
{exe_pop3}}}
""".format(d=d, users=users, uid=UID, gid=GID, port=port,
           exe_login=exe.replace("%s", "pop3-login"), exe_pop3=exe.replace("%s", "pop3")))
    for u in ("benchbig", "benchmid"):
        put_mbox(BIG if u == "benchbig" else MID, os.path.join(spool, u))
    r = subprocess.run(["dovecot", "-c", conf], stdout=LOG, stderr=LOG)
    stops.append(["dovecot", "-c", conf, "stop"])
    if r.returncode != 0:
        note("dovecot did not start (see %s/dovecot.log)" % d)
        return None
    return port


def setup_postfix():
    """Postfix as its own daemon, on a private configuration directory
    (postfix -c): queue and data directories in scratch, SMTP on a 127.0.0.1
    port, no chroot, and virtual(8) delivery into mbox files of a scratch
    spool (texthash map, one static uid).  The system's /etc/postfix is only
    read (postfix-files) and /var/mail is never used."""
    if not shutil.which("postfix"):
        note("postfix: not installed: its rows are skipped")
        return None
    d = mkdir(os.path.join(S, "pf"))
    etc = mkdir(os.path.join(d, "etc"))
    mkdir(os.path.join(d, "queue"))
    data = mkdir(os.path.join(d, "data"))
    if ROOT:
        try:
            import pwd
            os.chown(data, pwd.getpwnam("postfix").pw_uid, -1)
        except KeyError:
            note("postfix: no postfix user")
            return None
    spool = mkdir(os.path.join(d, "spool"), (UID, GID))
    vmap = write(os.path.join(d, "vmailbox"),
                 "".join("u%d@%s u%d\n" % (i, DOMAIN, i) for i in range(4)))
    port = free_port()
    write(os.path.join(etc, "main.cf"), """\
# private instance of bench/peers.sh
compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = {dom}
mydomain = example.org
myorigin = $myhostname
mydestination =
relayhost =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
biff = no
maillog_file = {d}/maillog
virtual_mailbox_domains = {dom}
virtual_mailbox_base = {spool}
virtual_mailbox_maps = texthash:{vmap}
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
""".format(d=d, dom=DOMAIN, spool=spool, vmap=vmap, uid=UID, gid=GID))
    services = [
        ("127.0.0.1:%d" % port, "inet", "n", "-", "n", "-", "-", "smtpd"),
        ("pickup", "unix", "n", "-", "n", "60", "1", "pickup"),
        ("cleanup", "unix", "n", "-", "n", "-", "0", "cleanup"),
        ("qmgr", "unix", "n", "-", "n", "300", "1", "qmgr"),
        ("rewrite", "unix", "-", "-", "n", "-", "-", "trivial-rewrite"),
        ("bounce", "unix", "-", "-", "n", "-", "0", "bounce"),
        ("defer", "unix", "-", "-", "n", "-", "0", "bounce"),
        ("trace", "unix", "-", "-", "n", "-", "0", "bounce"),
        ("verify", "unix", "-", "-", "n", "-", "1", "verify"),
        ("flush", "unix", "n", "-", "n", "1000?", "0", "flush"),
        ("proxymap", "unix", "-", "-", "n", "-", "-", "proxymap"),
        ("proxywrite", "unix", "-", "-", "n", "-", "1", "proxymap"),
        ("showq", "unix", "n", "-", "n", "-", "-", "showq"),
        ("error", "unix", "-", "-", "n", "-", "-", "error"),
        ("retry", "unix", "-", "-", "n", "-", "-", "error"),
        ("discard", "unix", "-", "-", "n", "-", "-", "discard"),
        ("local", "unix", "-", "n", "n", "-", "-", "local"),
        ("virtual", "unix", "-", "n", "n", "-", "-", "virtual"),
        ("anvil", "unix", "-", "-", "n", "-", "1", "anvil"),
        ("scache", "unix", "-", "-", "n", "-", "1", "scache"),
        ("postlog", "unix-dgram", "n", "-", "n", "-", "1", "postlogd"),
    ]
    write(os.path.join(etc, "master.cf"), "# private instance of bench/peers.sh\n" +
          "".join("%-14s %-10s %-2s %-2s %-2s %-5s %-2s %s\n" % s for s in services))
    r = subprocess.run(["postfix", "-c", etc, "start"], stdout=LOG, stderr=LOG)
    stops.append(["postfix", "-c", etc, "stop"])
    if r.returncode != 0:
        note("postfix did not start (see %s/maillog)" % d)
        return None
    return port, spool


# ------------------------------------------------------------ the workloads
def queue_empty(spool):
    q = os.path.join(os.path.dirname(spool), "queue")
    for sub in ("incoming", "active", "deferred", "maildrop"):
        for _root, _dirs, files in os.walk(os.path.join(q, sub)):
            if files:
                return False
    return True


def deliver(team, srv, have_pf, spools, pf_spool):
    boxes = ["u%d" % i for i in range(4)]

    def clear(d):
        for b in boxes:
            try:
                os.unlink(os.path.join(d, b))
            except FileNotFoundError:
                pass

    for conc in (1, CONC):
        sec = Section("== 1. delivery: %d x 4096-byte messages, one per SMTP connection, "
                      "4 mailboxes, concurrency %d" % (N, conc), "msg/s", True)
        accepted = []

        def one(key, n):
            port = srv[key][0]
            spool = dict(spools, postfix=pf_spool).get(key)
            if spool:
                clear(spool)
            dt, good, err = team.run("smtp", port, n, conc)
            if good != n:
                note("%s: %d of %d sessions failed, first: %s" % (key, n - good, n, err))
                return None
            if key == "postfix":
                # the figure is the delivered rate: until every message is in
                # its mbox file and the queue is empty again
                accepted.append(n / dt)
                t0 = time.perf_counter() - dt
                offs, cnt, tails = {}, 0, {}
                limit = time.perf_counter() + 300
                while True:
                    for b in boxes:
                        p = os.path.join(spool, b)
                        try:
                            with open(p, "rb") as f:
                                f.seek(offs.get(b, 0))
                                new = f.read()
                        except FileNotFoundError:
                            continue
                        offs[b] = offs.get(b, 0) + len(new)
                        chunk = tails.get(b, b"") + new
                        cnt += chunk.count(MARK)
                        tails[b] = chunk[-(len(MARK) - 1):]
                    if cnt >= n and queue_empty(spool):
                        dt = time.perf_counter() - t0
                        break
                    if time.perf_counter() > limit:
                        note("postfix: %d of %d delivered after 300 s" % (cnt, n))
                        return None
                    time.sleep(0.002)
            elif key in ("smtpd", "smtpd-L"):
                got = sum(count_msgs(os.path.join(spool, b)) for b in boxes)
                if got != n:
                    note("%s: %d of %d messages in the mailboxes" % (key, got, n))
                    return None
            elif key == "floor":
                got = sum(os.path.getsize(os.path.join(spool, b)) for b in boxes
                          if os.path.exists(os.path.join(spool, b)))
                if got != n * len(BODY):
                    note("floor: %d bytes stored, not %d" % (got, n * len(BODY)))
                    return None
            return n / dt

        servers = [(k, k) for k in ("smtpd", "smtpd-L", "postfix", "floor", "sink-smtp")
                   if k in srv]
        # warm-up: 100 messages each, not counted
        for k, _ in servers:
            one(k, min(N, 100))
        del accepted[:]
        res = rounds(servers, lambda k: one(k, N), warm=False)
        sec.row("inetmail smtpd (ssa), 250 = fsync'ed in mbox", res.get("smtpd"), ref=True)
        sec.row("inetmail smtpd -L (standalone), the same", res.get("smtpd-L"))
        if have_pf:
            sec.row("Postfix %s, delivered (virtual, mbox)" % VERSIONS.get("postfix", ""),
                    res.get("postfix"))
            sec.row("Postfix, accepted (250 = queued)", accepted)
        sec.row("floor: static append+fsync program (ssa)", res.get("floor"))
        sec.row("client alone vs sink", res.get("sink-smtp"))


def stats(srv, have_dv, have_pa, bigsize, midsize, bign, midn, im_pop, pa_spool):
    for user, size, n, src in (("benchbig", bigsize, bign, BIG),
                               ("benchmid", midsize, midn, MID)):
        sec = Section("== 2. login+STAT+QUIT on %.1f MiB / %d messages, warm cache "
                      "(SHA512-CRYPT password)" % (size / MiB, n), "ms", False)
        paths = {"pop3d": os.path.join(im_pop, user)}
        srv["pop3d"]                      # KeyError: inetmail's pop3d did not start
        servers = [("pop3d", "pop3d")]
        if have_dv:
            servers.append(("dovecot", "dovecot"))
            # the first login builds Dovecot's index: timed apart, not counted
            t, st, _ = stat_session(srv["dovecot"][0], user)
            sec.info("(Dovecot's first login, which builds its index: %.0f ms; "
                     "%s)" % (t * 1000, st.decode().strip()))
        if have_pa:
            servers.append(("popa3d", "popa3d"))
            paths["popa3d"] = os.path.join(pa_spool, user)
        if "sink-pop3" in srv:
            servers.append(("sink-pop3", "sink-pop3"))
        servers.append(("cat", "cat"))
        for p in paths.values():
            subprocess.run(["cat", p], stdout=subprocess.DEVNULL)
        catpath = paths["pop3d"]

        def one(k):
            if k == "cat":
                t0 = time.perf_counter()
                subprocess.run(["cat", catpath], stdout=subprocess.DEVNULL, check=True)
                return 1000 * (time.perf_counter() - t0)
            t, st, _ = stat_session(srv[k][0], user)
            if k != "sink-pop3" and not st.startswith(b"+OK %d " % n):
                note("%s: STAT answered %r for %d messages" % (k, st, n))
                return None
            return 1000 * t

        res = rounds(servers, one)
        sec.row("inetmail pop3d (ssa)", res.get("pop3d"), ref=True)
        if have_dv:
            sec.row("Dovecot %s, indexed" % VERSIONS.get("dovecot", ""), res.get("dovecot"))
        if have_pa:
            sec.row("popa3d %s (ssa)" % VERSIONS.get("popa3d", ""), res.get("popa3d"))
        sec.row("cat FILE >/dev/null (reference)", res.get("cat"))
        if "sink-pop3" in srv:
            sec.row("client alone vs sink", res.get("sink-pop3"))


def rss(srv, have_dv, have_pa, bign, bigsize):
    sec = Section("== 3. pop3d peak RSS, login+STAT on %.1f MiB / %d messages "
                  "(VmHWM of the serving process, read before QUIT)" % (bigsize / MiB, bign),
                  "KiB", False)
    vals = {"pop3d": [], "popa3d": [], "dovecot": []}
    for _ in range(3):
        if "pop3d" in srv:
            vals["pop3d"].append(stat_session(srv["pop3d"][0], "benchbig",
                                              lambda: hwm_kib(children(srv["pop3d"][1])))[2])
        if have_pa:
            vals["popa3d"].append(stat_session(srv["popa3d"][0], "benchbig",
                                               lambda: hwm_kib(children(srv["popa3d"][1])))[2])
        if have_dv:
            def dv():
                with open(os.path.join(S, "dv", "run", "master.pid")) as f:
                    master = int(f.read())
                return hwm_kib(children(master), "pop3")
            vals["dovecot"].append(stat_session(srv["dovecot"][0], "benchbig", dv)[2])
    sec.row("inetmail pop3d", [v for v in vals["pop3d"] if v], ref=True)
    if have_pa:
        sec.row("popa3d", [v for v in vals["popa3d"] if v])
    if have_dv:
        sec.row("Dovecot pop3 process, indexed", [v for v in vals["dovecot"] if v])


def retr(srv, have_pa, midn, midsize):
    for batch, what in ((32, "pipelined x32"), (1, "one by one")):
        sec = Section("== 4. RETR %s: the %d messages of %.1f MiB in turn (%.0f s at "
                      "most), msgs/s of the RETR part" % (what, midn, midsize / MiB,
                                                         RETR_LIMIT), "msg/s", True)
        servers = [(k, k) for k in ("pop3d", "popa3d", "popa3d-qa", "sink-pop3")
                   if k.replace("-qa", "") in srv and (not k.startswith("popa3d") or have_pa)]
        got = {}

        def one(k):
            dt, done = retr_session(srv[k.replace("-qa", "")][0], "benchmid", midn, batch,
                                    quickack=k.endswith("-qa"))
            got[k] = done
            return done / dt

        res = rounds(servers, one)
        sec.row("inetmail pop3d (ssa)", res.get("pop3d"), ref=True)
        if have_pa:
            part = lambda k: "" if got.get(k) == midn else ", %d msgs in %.0f s" % (
                got.get(k, 0), RETR_LIMIT)
            sec.row("popa3d %s (ssa)%s" % (VERSIONS.get("popa3d", ""), part("popa3d")),
                    res.get("popa3d"))
            sec.row("popa3d, the client ACKs at once%s" % part("popa3d-qa"),
                    res.get("popa3d-qa"))
        sec.row("client alone vs sink", res.get("sink-pop3"))
    if have_pa:
        say("   popa3d writes a RETR reply in three write()s (+OK, the message, the dot)"
            " without TCP_NODELAY:\n   Nagle holds the dot until the client's delayed ACK"
            " (~40 ms on Linux); the row \"ACKs at once\"\n   sets TCP_QUICKACK in the"
            " client after each read, to show popa3d without that wait.")


def dele(srv, have_pa, midn, midsize, im_pop, pa_spool):
    sec = Section("== 5. DELE all %d messages + QUIT (%.1f MiB, a fresh copy each "
                  "round), from the first DELE until the server closes"
                  % (midn, midsize / MiB), "ms", False)
    servers = [(k, k) for k in ("pop3d", "popa3d", "sink-pop3")
               if k in srv and (k != "popa3d" or have_pa)]
    spools = {"pop3d": im_pop, "popa3d": pa_spool}

    def one(k):
        box = os.path.join(spools[k], "benchdele") if k in spools else None
        if box:
            put_mbox(MID, box)
        dt = dele_session(srv[k][0], "benchdele", midn)
        if box and os.path.exists(box) and os.path.getsize(box) != 0:
            note("%s: %d bytes left after DELE all" % (k, os.path.getsize(box)))
            return None
        return 1000 * dt

    res = rounds(servers, one)
    sec.row("inetmail pop3d (ssa)", res.get("pop3d"), ref=True)
    if have_pa:
        sec.row("popa3d %s (ssa)" % VERSIONS.get("popa3d", ""), res.get("popa3d"))
    sec.row("client alone vs sink", res.get("sink-pop3"))


def sessions(team, srv, have_pf, have_dv):
    sec = Section("== 6. trivial sessions (greeting, QUIT, close): %d at concurrency %d"
                  % (N, CONC), "sess/s", True)
    rows = [("smtpd", "smtp", "inetmail smtpd (ssa)"),
            ("pop3d", "pop3", "inetmail pop3d (ssa)"),
            ("popa3d", "pop3", "popa3d %s (ssa)" % VERSIONS.get("popa3d", "")),
            ("smtpd-tcps", "smtp", "inetmail smtpd (tcpserver)"),
            ("pop3d-tcps", "pop3", "inetmail pop3d (tcpserver)"),
            ("popa3d-tcps", "pop3", "popa3d (tcpserver)"),
            ("postfix", "smtp", "Postfix smtpd (its own daemon)"),
            ("dovecot", "pop3", "Dovecot pop3-login (its own daemon)"),
            ("sink-smtp", "smtp", "client alone vs sink, SMTP"),
            ("sink-pop3", "pop3", "client alone vs sink, POP3")]
    rows = [r for r in rows if r[0] in srv]
    proto = {k: p for k, p, _ in rows}

    def one(k):
        dt, good, err = team.run(proto[k], srv[k][0], N, CONC)
        if good != N:
            note("%s: %d of %d sessions failed, first: %s" % (k, N - good, N, err))
            return None
        return N / dt

    res = rounds([(k, k) for k, _, _ in rows], one)
    # each row against inetmail's server of the same protocol, under the
    # same launcher where there is one
    vs = {"popa3d": "pop3d", "popa3d-tcps": "pop3d-tcps", "postfix": "smtpd",
          "dovecot": "pop3d", "sink-smtp": "smtpd", "sink-pop3": "pop3d"}
    for k, _, label in rows:
        sec.row(label, res.get(k), vs=res.get(vs.get(k, k)))
    sec.info("x: against inetmail's server of the same protocol under "
             "systemd-socket-activate (popa3d under tcpserver: against pop3d under tcpserver)")
    if have_dv:
        sec.info("Dovecot runs its defaults: a new pop3-login process for each "
                 "connection (its high-security mode).")


if __name__ == "__main__":
    st = 1
    try:
        st = main()
    finally:
        stop_all()
        if failures:
            say("\n%d step(s) broke:" % len(failures))
            for f in failures:
                say("   " + f)
    sys.exit(st)
