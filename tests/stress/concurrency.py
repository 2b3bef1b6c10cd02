#!/usr/bin/env python3
"""concurrency.py: 8 delivery streams of 200 messages each into the same 3
mailboxes, each delivery a fresh smtpd process as under inetd, while POP3
sessions keep logging in, retrieving, deleting and quitting.  At the end
exactly the delivered (250) minus the deleted (+OK at QUIT) messages are
present, each once and whole.

Environment: SMTPD, POP3D (binaries), TOP; STREAMS, PER_STREAM to resize."""
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SMTPD = os.environ["SMTPD"]
POP3D = os.environ["POP3D"]
STREAMS = int(os.environ.get("STREAMS", "8"))
PER_STREAM = int(os.environ.get("PER_STREAM", "200"))
USERS = ["alice", "bob", "carol"]
ROOT = os.getuid() == 0
UID, GID = (65534, 65534) if ROOT else (os.getuid(), os.getgid())

lock = threading.Lock()
delivered = set()          # ids answered 250
deleted = set()            # ids deleted by a QUIT answered +OK
failures = []


def fail(msg):
    with lock:
        failures.append(msg)


def message(ident, rng, pad=0):
    body = "".join(f"line {i} of {ident} {'x' * rng.randint(0, 90)}\n"
                   for i in range(rng.randint(1, 60)))
    body += "".join("z" * 76 + "\n" for _ in range(pad // 77))
    if rng.random() < 0.3:
        body += "From the middle of a line\n>From quoted\n.dot\n"
    check = hashlib.sha256(body.encode()).hexdigest()
    return (f"Subject: {ident}\nX-Stress-Id: {ident}\nX-Check: {check}\n\n"
            f"{body}")


def smtp_transcript(rcpts, text):
    lines = ["EHLO stress.example", "MAIL FROM:<stress@example.org>"]
    lines += [f"RCPT TO:<{r}@mail.example.org>" for r in rcpts]
    lines.append("DATA")
    for line in text.split("\n")[:-1]:
        lines.append("." + line if line.startswith(".") else line)
    lines += [".", "QUIT"]
    return ("\r\n".join(lines) + "\r\n").encode()


def stream(n, spool, users):
    rng = random.Random(n)
    for i in range(PER_STREAM):
        ident = f"s{n}m{i}"
        rcpts = rng.sample(USERS, rng.randint(1, 3))
        out = subprocess.run(
            [SMTPD, "-h", "mail.example.org", "-m", spool, "-p", users],
            input=smtp_transcript(rcpts, message(ident, rng)),
            capture_output=True, timeout=60).stdout.decode()
        replies = [l for l in out.split("\r\n") if l[:3].isdigit()]
        # The reply to the final dot is the one before 221.
        final = replies[-2] if len(replies) >= 2 else ""
        if final.startswith("250 "):
            with lock:
                for r in rcpts:
                    delivered.add((r, ident))
        elif not final.startswith("4"):
            fail(f"{ident}: unexpected reply {final!r}")


class Pop:
    def __init__(self, spool, users):
        self.p = subprocess.Popen(
            [POP3D, "-h", "mail.example.org", "-m", spool, "-p", users],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def line(self):
        return self.p.stdout.readline().decode("latin-1")

    def cmd(self, c, multi=False):
        self.p.stdin.write((c + "\r\n").encode())
        self.p.stdin.flush()
        first = self.line()
        if not multi or not first.startswith("+OK"):
            return first, []
        body = []
        while True:
            l = self.line()
            if l == ".\r\n" or l == "":
                break
            body.append(l[1:] if l.startswith("..") else l)
        return first, body

    def close(self):
        try:
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        self.p.wait(timeout=30)


def popper(n, spool, users, stop):
    rng = random.Random(1000 + n)
    while not stop.is_set():
        user = rng.choice(USERS)
        pop = Pop(spool, users)
        try:
            pop.line()
            pop.cmd(f"USER {user}")
            r, _ = pop.cmd(f"PASS {user}pw")
            if not r.startswith("+OK"):
                if "[IN-USE]" not in r:
                    fail(f"pop login {user}: {r.strip()}")
                continue
            r, listing = pop.cmd("LIST", multi=True)
            nums = [int(l.split()[0]) for l in listing]
            mine = []
            for num in rng.sample(nums, min(len(nums), rng.randint(0, 6))):
                r, text = pop.cmd(f"RETR {num}", multi=True)
                if not r.startswith("+OK"):
                    fail(f"RETR {num}: {r.strip()}")
                    continue
                whole = "".join(text).replace("\r\n", "\n")
                m = re.search(r"^X-Stress-Id: (\S+)$", whole, re.M)
                c = re.search(r"^X-Check: (\S+)$", whole, re.M)
                body = whole.split("\n\n", 1)[1] if "\n\n" in whole else ""
                if not m or not c or hashlib.sha256(body.encode()).hexdigest() != c.group(1):
                    fail(f"RETR {num} of {user}: torn or foreign message")
                    continue
                if rng.random() < 0.7:
                    r, _ = pop.cmd(f"DELE {num}")
                    if r.startswith("+OK"):
                        mine.append((user, m.group(1)))
            r, _ = pop.cmd("QUIT")
            if r.startswith("+OK"):
                with lock:
                    deleted.update(mine)
            elif mine:
                print(f"QUIT refused ({r.strip()}): {len(mine)} deletions not made")
        finally:
            pop.close()


def read_mailbox(path, user):
    """Our own reader: split at From_ lines after an empty line, unquote."""
    found = {}
    if not os.path.exists(path):
        return found
    data = open(path, "rb").read().decode("latin-1")
    msgs = re.split(r"(?:^|(?<=\n\n))From [^\n]*\n", data)
    for text in msgs[1:]:
        text = re.sub(r"^>(>*From )", r"\1", text, flags=re.M)
        m = re.search(r"^X-Stress-Id: (\S+)$", text, re.M)
        c = re.search(r"^X-Check: (\S+)$", text, re.M)
        if not m:
            fail(f"{user}: message without id: {text[:80]!r}")
            continue
        body = text.split("\n\n", 1)[1]
        if body.endswith("\n\n"):
            body = body[:-1]
        if not c or hashlib.sha256(body.encode()).hexdigest() != c.group(1):
            fail(f"{user}: message {m.group(1)} is not whole")
        found[m.group(1)] = found.get(m.group(1), 0) + 1
    return found


def main():
    tmp = tempfile.mkdtemp(prefix="inetmail-stress.")
    try:
        os.chmod(tmp, 0o755)
        spool = os.path.join(tmp, "spool")
        os.mkdir(spool)
        os.chown(spool, 0 if ROOT else UID, GID)
        os.chmod(spool, 0o2775)
        users = os.path.join(tmp, "users")
        with open(users, "w") as f:
            for u in USERS:
                f.write(f"{u}:{{PLAIN}}{u}pw:{UID}:{GID}\n")
        stop = threading.Event()
        t0 = time.time()
        pops = [threading.Thread(target=popper, args=(n, spool, users, stop))
                for n in range(2)]
        smtps = [threading.Thread(target=stream, args=(n, spool, users))
                 for n in range(STREAMS)]
        for t in pops + smtps:
            t.start()
        for t in smtps:
            t.join()
        stop.set()
        for t in pops:
            t.join()
        elapsed = time.time() - t0
        ok = True
        for u in USERS:
            found = read_mailbox(os.path.join(spool, u), u)
            want = {i for (r, i) in delivered if r == u} - {i for (r, i) in deleted if r == u}
            dup = [i for i, k in found.items() if k > 1]
            lost = want - set(found)
            extra = set(found) - want
            print(f"{u}: delivered {sum(1 for r, _ in delivered if r == u)}, "
                  f"deleted {sum(1 for r, _ in deleted if r == u)}, present "
                  f"{len(found)}, lost {len(lost)}, extra {len(extra)}, dup {len(dup)}")
            if lost or extra or dup:
                ok = False
                fail(f"{u}: lost {sorted(lost)[:5]} extra {sorted(extra)[:5]} dup {dup[:5]}")
        for f in failures[:20]:
            print("FAIL:", f)
        print(f"concurrency: {STREAMS}x{PER_STREAM} deliveries, "
              f"{len(deleted)} deletions, {elapsed:.1f} s, "
              f"{'ok' if ok and not failures else 'FAILED'}")
        return 0 if ok and not failures else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
