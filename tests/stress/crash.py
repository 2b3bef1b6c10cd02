#!/usr/bin/env python3
"""crash.py: SIGKILL smtpd mid-delivery and pop3d mid-QUIT at random instants,
hundreds of times, into the same 3 mailboxes.  After each kill the next
access repairs what it finds; at the end every mailbox parses cleanly and:
  - every message is whole (its checksum holds) and present at most once;
  - a message answered 250 is present unless a QUIT answered +OK deleted it;
  - an unanswered delivery is in all of its mailboxes or in none;
  - a QUIT answered +OK removed all its messages; an unanswered QUIT removed
    all of them or none;
  - the login that repairs is never refused (a dead process's lock must not
    shut the mailbox), and no surviving half of a killed server holds the
    client's pipe for more than STRAGGLE seconds.
Environment: SMTPD, POP3D, TOP; KILLS (default 300)."""
import hashlib
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from concurrency import message, smtp_transcript  # noqa: E402

SMTPD = os.environ["SMTPD"]
POP3D = os.environ["POP3D"]
KILLS = int(os.environ.get("KILLS", "400"))
USERS = ["alice", "bob", "carol"]
ROOT = os.getuid() == 0
UID, GID = (65534, 65534) if ROOT else (os.getuid(), os.getgid())


def run_killed(argv, data, delay):
    """Run ARGV with DATA on stdin, SIGKILL it after DELAY seconds (if still
    running); return (stdout, killed).  Only the first process is killed, as
    a crash would take it; the other half of the privilege split must then
    see its peer gone and exit.  One that still holds the client's pipe
    STRAGGLE seconds later is a hang: it goes into run_killed.hung (with
    what ps says of it) and its process group is killed."""
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        p.stdin.write(data)
        p.stdin.close()
    except BrokenPipeError:
        pass
    t0 = time.time()
    while time.time() - t0 < delay and p.poll() is None:
        time.sleep(min(0.0005, delay))
    killed = p.poll() is None
    if killed:
        p.send_signal(signal.SIGKILL)
    out = b""
    t1 = time.time()
    while True:
        ready, _, _ = select.select([p.stdout], [], [], max(0.0, t1 + STRAGGLE - time.time()))
        if not ready:
            ps = subprocess.run(["ps", "-o", "pid,user,stat,wchan:20,etimes,args", "-s",
                                 str(p.pid)], capture_output=True, text=True).stdout
            run_killed.hung.append(f"{os.path.basename(argv[0])} killed={killed}: "
                                   f"the pipe still open {STRAGGLE} s later:\n{ps}")
            os.killpg(p.pid, signal.SIGKILL)
            out += p.stdout.read()
            break
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            break
        out += chunk
    p.stdout.close()
    p.wait()
    run_killed.last = time.time() - t0
    return out.decode("latin-1"), killed


run_killed.hung = []
STRAGGLE = 15	# seconds: above the store's lock wait (10 s)


def split_mbox(data):
    """The messages of an mboxrd text, each without its From_ line.  A
    From_ line is one that begins the file or follows an empty line (a body
    line that began with "From " was quoted).  str.split, not a regex with a
    lookbehind: the mailboxes grow to tens of MB and are read after every
    run, and the regex made the test quadratic enough to outlast its timeout."""
    if not data.startswith("From "):
        return []
    parts = data[len("From "):].split("\n\nFrom ")
    texts = []
    for k, part in enumerate(parts):
        if k < len(parts) - 1:
            part += "\n\n"
        texts.append(part.split("\n", 1)[1] if "\n" in part else "")
    return texts


def mailbox_ids(spool, user, order=None):
    path = os.path.join(spool, user)
    if not os.path.exists(path):
        return {}, []
    data = open(path, "rb").read().decode("latin-1")
    bad = []
    if data and not data.startswith("From "):
        bad.append(f"{user}: does not start with a From_ line")
    found = {}
    for text in split_mbox(data):
        text = re.sub(r"^>(>*From )", r"\1", text, flags=re.M)
        m = re.search(r"^X-Stress-Id: (\S+)$", text, re.M)
        c = re.search(r"^X-Check: (\S+)$", text, re.M)
        body = text.split("\n\n", 1)[1] if "\n\n" in text else ""
        if body.endswith("\n\n"):
            body = body[:-1]
        if not m or not c or hashlib.sha256(body.encode()).hexdigest() != c.group(1):
            bad.append(f"{user}: torn message {text[:60]!r}")
            continue
        found[m.group(1)] = found.get(m.group(1), 0) + 1
        if order is not None:
            order.append(m.group(1))
    return found, bad


def pop_transcript(user, nums):
    lines = [f"USER {user}", f"PASS {user}pw", "STAT"]
    lines += [f"RETR {n}" for n in nums] + [f"DELE {n}" for n in nums]
    lines.append("QUIT")
    return ("\r\n".join(lines) + "\r\n").encode()


def retr_ids(out):
    return re.findall(r"^X-Stress-Id: (\S+)\r$", out, re.M)


def main():
    rng = random.Random(int(os.environ.get("SEED", "7")))
    tmp = tempfile.mkdtemp(prefix="inetmail-crash.")
    spool = os.path.join(tmp, "spool")
    users = os.path.join(tmp, "users")
    os.chmod(tmp, 0o755)
    os.mkdir(spool)
    os.chown(spool, 0 if ROOT else UID, GID)
    os.chmod(spool, 0o2775)
    with open(users, "w") as f:
        for u in USERS:
            f.write(f"{u}:{{PLAIN}}{u}pw:{UID}:{GID}\n")
    smtp = [SMTPD, "-h", "mail.example.org", "-m", spool, "-p", users]
    pop = [POP3D, "-h", "mail.example.org", "-m", spool, "-p", users]
    acked, gone = {}, set()
    # Kill within the time a run takes (learned from runs that finished), so
    # the instants spread over the whole of the work, the commit included.
    span = {"smtpd": 0.01, "pop3d": 0.03}
    kills = {"smtpd": 0, "pop3d": 0}
    problems = []
    n = 0

    def repaired(user):
        """The next access (a login, no deletions) repairs; then read."""
        out = subprocess.run(pop, input=pop_transcript(user, []),
                             capture_output=True, timeout=60).stdout
        # Nothing else runs: a refusal means a dead process's leftovers
        # (a lock, a marker) shut the mailbox.
        if re.search(rb"^-ERR", out, re.M):
            problems.append(f"{user}: login after a kill: "
                            f"{out.decode('latin-1').strip()[-120:]!r}")
        found, bad = mailbox_ids(spool, user)
        problems.extend(bad)
        return found

    try:
        while kills["smtpd"] + kills["pop3d"] < KILLS and n < KILLS * 4:
            n += 1
            if rng.random() < 0.6:
                ident = f"m{n}"
                rcpts = rng.sample(USERS, rng.randint(1, 3))
                text = message(ident, rng, rng.randint(0, 300000))
                out, killed = run_killed(smtp, smtp_transcript(rcpts, text),
                                         rng.uniform(0, span["smtpd"] * 1.1))
                kills["smtpd"] += killed
                if not killed:
                    span["smtpd"] = 0.8 * span["smtpd"] + 0.2 * run_killed.last
                ok = re.search(r"^250 2\.0\.0 Ok: queued", out, re.M) is not None
                have = [u for u in rcpts if ident in repaired(u)]
                if ok:
                    acked[ident] = rcpts
                    if len(have) != len(rcpts):
                        problems.append(f"{ident}: 250 sent, in {have} of {rcpts}")
                elif have and len(have) != len(rcpts):
                    problems.append(f"{ident}: unanswered, in {have} of {rcpts}")
            else:
                user = rng.choice(USERS)
                order = []
                repaired(user)
                mailbox_ids(spool, user, order)
                if not order:
                    continue
                nums = rng.sample(range(1, len(order) + 1),
                                  min(len(order), rng.randint(1, 4)))
                out, killed = run_killed(pop, pop_transcript(user, nums),
                                         rng.uniform(0, span["pop3d"] * 1.1))
                kills["pop3d"] += killed
                if not killed:
                    span["pop3d"] = 0.8 * span["pop3d"] + 0.2 * run_killed.last
                ids = [order[k - 1] for k in nums]
                if not killed and sorted(retr_ids(out)) != sorted(ids):
                    problems.append(f"{user}: RETR gave {retr_ids(out)}, expected {ids}")
                ok = re.search(r"^\+OK bye, \d+ deleted", out, re.M) is not None
                found = repaired(user)
                left = [i for i in ids if i in found]
                if ok and left:
                    problems.append(f"{user}: QUIT +OK but {left} still there")
                elif left and len(left) != len(ids):
                    problems.append(f"{user}: unanswered QUIT removed part of {ids}")
                if not left:
                    gone.update((user, i) for i in ids)
        present = {}
        for u in USERS:
            found = repaired(u)
            for i, k in found.items():
                if k > 1:
                    problems.append(f"{u}: {i} present {k} times")
                present[(u, i)] = True
            if os.path.exists(os.path.join(spool, f".{u}.redo")):
                problems.append(f"{u}: journal left behind")
        for i, rcpts in acked.items():
            for u in rcpts:
                if (u, i) not in present and (u, i) not in gone:
                    problems.append(f"{u}: acknowledged {i} lost")
        problems.extend(run_killed.hung)
        for p in problems[:20]:
            print("FAIL:", p)
        print(f"crash: {kills['smtpd']} smtpd and {kills['pop3d']} pop3d "
              f"processes killed mid-work in {n} runs; {len(acked)} deliveries "
              f"acknowledged; {len(gone)} copies deleted; {len(present)} present; "
              f"{'ok' if not problems else 'FAILED'}")
        return 1 if problems else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
