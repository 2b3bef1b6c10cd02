#!/usr/bin/env python3
"""load.py: the cluster rig's main run, all at the same time through haproxy:

  CLIENTS SMTP clients (source 127.0.0.2 ...) deliver until DELIVERIES
  messages got a 250, 1 to 4 per connection, to 1 or 2 of 4 mailboxes;
  2 POP3 clients (127.0.0.8, 127.0.0.9) log in to the same mailboxes, RETR
  (each message checked whole), DELE most of what they read, and QUIT;
  a killer (127.0.0.10), KILLS times, sends a large 2-recipient message
  (VICTIM_SIZE), waits until smtpd's dotlock record shows it appending,
  and within KILL_WINDOW seconds SIGKILLs every smtpd and pop3d process of
  the host haproxy gave it (the listeners' process groups), then brings
  them back RESTART_AFTER seconds later while haproxy routes around the
  dead host.

Then every host's pop3d opens every mailbox once (recovery of what the
kills left), and the accounting is exact:
  - a message answered 250 is in each of its mailboxes exactly once, unless
    a POP3 session deleted it and got +OK to QUIT (a QUIT with no answer:
    all of that session's deletions happened or none did);
  - a message refused, or cut before its final dot, is nowhere;
  - a message cut after its final dot with no answer is in all of its
    mailboxes once or in none;
  - no message is torn, duplicated or unknown; no dotlock or journal is left;
  - Received lines, and the hosts' smtpd and pop3d logs, name the client's
    own address with PROXY=1 (haproxy's, HAPROXY_ADDR, without it);
  - each acknowledged queue id is logged once, "delivered", by the host
    that answered; every SMTP session ends with QUIT in the logs (the health
    checks included) and pop3d logs no session of haproxy's own with PROXY=1."""
import collections
import math
import os
import random
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (ADMIN_ADDR, DIR, HAPROXY_ADDR, POP_FRONT, PROXY, SMTP_FRONT,  # noqa: E402
                 Cut, Pop, Results, Smtp, dotstuff, field, hosts, log_lines,
                 message, note, parse_message, read_mbox, server_states, wait_until)

USERS = ["alice", "bob", "carol", "dave"]
TARGET = int(os.environ.get("DELIVERIES", "2000"))
CLIENTS = int(os.environ.get("CLIENTS", "6"))
POPPERS = 2
KILLS = int(os.environ.get("KILLS", "2"))
KILL_WINDOW = float(os.environ.get("KILL_WINDOW", "0.03"))
VICTIM_SIZE = int(os.environ.get("VICTIM_SIZE", "4000000"))
RESTART_AFTER = float(os.environ.get("RESTART_AFTER", "2"))
LOAD_SECONDS = float(os.environ.get("LOAD_SECONDS", "420"))

res = Results("load")
H = hosts()
BY_FQDN = {h.fqdn: h for h in H}
lock = threading.Lock()
msgs = {}                       # ident -> record
deleted = set()                 # (user, ident): QUIT answered +OK
unsure = []                     # sets of (user, ident): QUIT unanswered
stats = collections.Counter()
problems = []
events = []
stop_pop = threading.Event()
t_start = time.time()
deadline = t_start + LOAD_SECONDS


def expected_addr(src):
    return src if PROXY else HAPROXY_ADDR


def helo_of(src):
    return f"c{src.rsplit('.', 1)[1]}.clients.test"


def problem(msg):
    with lock:
        problems.append(msg)


def acked():
    return stats["acked"]


def record(ident, rcpts, src, host):
    rec = {"rcpts": rcpts, "src": src, "host": host, "outcome": "pending", "detail": ""}
    with lock:
        msgs[ident] = rec
    return rec


def settle(rec, out, detail):
    rec["outcome"], rec["detail"] = out, detail
    with lock:
        stats[out] += 1


def smtp_client(i):
    src = f"127.0.0.{2 + i}"
    rng = random.Random(100 + i)
    quota = math.ceil(TARGET / CLIENTS)
    mine = n = 0
    while mine < quota and time.time() < deadline:
        try:
            s = Smtp(SMTP_FRONT, src, 60)
            s.cmd(f"EHLO {helo_of(src)}")
        except Cut:
            stats["connect-failed"] += 1
            time.sleep(0.1)
            continue
        cut = False
        for _ in range(rng.randint(1, 4)):
            ident = f"c{i}n{n}"
            n += 1
            rcpts = rng.sample(USERS, 2 if rng.random() < 0.3 else 1)
            rec = record(ident, rcpts, src, s.host)
            out, detail = s.deliver(f"c{i}@clients.test", rcpts, message(ident, src, rng))
            settle(rec, out, detail)
            mine += out == "acked"
            if out.startswith("cut"):
                cut = True
                break
        if cut:
            s.close()
        else:
            s.quit()


def check_retrieved(user, text, where):
    m = parse_message(text)
    rec = msgs.get(m["id"] or "")
    if not m["whole"] or rec is None:
        problem(f"{where}: RETR of {user} gave a torn or unknown message {m['id']}")
        return None
    check_received(user, m, rec, where)
    return m["id"]


def check_received(user, m, rec, where):
    r = m["received"]
    want = expected_addr(rec["src"])
    if r is None:
        problem(f"{where}: {m['id']} has no Received line")
        return
    bad = []
    if r["addr"] != want:
        bad.append(f"client [{r['addr']}], want [{want}]")
    if r["helo"] != helo_of(rec["src"]):
        bad.append(f"helo {r['helo']}")
    if r["by"] not in BY_FQDN:
        bad.append(f"by {r['by']}")
    if r["rcpt"] != f"{user}@mail.cluster.test":
        bad.append(f"for <{r['rcpt']}>")
    if rec["outcome"] == "acked" and (r["qid"] != rec["detail"] or r["by"] != rec["host"]):
        bad.append(f"id {r['qid']} by {r['by']}, answered {rec['detail']} by {rec['host']}")
    if bad:
        problem(f"{where}: {m['id']} in {user}: Received: " + "; ".join(bad))


def popper(j):
    src = f"127.0.0.{8 + j}"
    rng = random.Random(200 + j)
    while not stop_pop.is_set():
        user = rng.choice(USERS)
        try:
            p = Pop(POP_FRONT, src, 60)
        except Cut:
            stats["pop-connect-failed"] += 1
            time.sleep(0.1)
            continue
        mine = []
        try:
            r = p.login(user)
            if not r.startswith("+OK"):
                stats["pop-in-use" if "[IN-USE]" in r else "pop-login-err"] += 1
                if "[IN-USE]" not in r:
                    note(f"pop login {user}: {r}")
                try:
                    p.cmd("QUIT")   # pop3d may have closed after the -ERR
                except Cut:
                    pass
                p.close()
                continue
            stats["pop-sessions"] += 1
            _, listing = p.cmd("LIST", multi=True)
            nums = [int(l.split()[0]) for l in listing]
            for num in rng.sample(nums, min(len(nums), rng.randint(0, 5))):
                r, lines = p.cmd(f"RETR {num}", multi=True)
                if not r.startswith("+OK"):
                    problem(f"RETR {num} of {user}: {r}")
                    continue
                stats["pop-retr"] += 1
                ident = check_retrieved(user, "\n".join(lines) + "\n", "pop")
                if ident and rng.random() < 0.7:
                    r, _ = p.cmd(f"DELE {num}")
                    if r.startswith("+OK"):
                        mine.append((user, ident))
        except Cut:
            stats["pop-cut-before-quit"] += 1     # no UPDATE state: nothing deleted
            p.close()
            continue
        try:
            r, _ = p.cmd("QUIT")
        except Cut:
            with lock:
                unsure.append(set(mine))
            stats["pop-quit-unanswered"] += 1
            p.close()
            continue
        p.close()
        if r.startswith("+OK"):
            with lock:
                deleted.update(mine)
            stats["pop-deleted"] += len(mine)
        else:
            stats["pop-quit-err"] += 1
            note(f"QUIT of {user} refused: {r}")


def group_members(pgid):
    n = 0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[2]) == pgid:
                        n += 1
            except (OSError, ValueError, IndexError):
                pass
    return n


def killer():
    src = "127.0.0.10"
    rng = random.Random(300)
    for k in range(KILLS):
        goal = (k + 1) * TARGET / (KILLS + 1)
        while acked() < goal and time.time() < deadline - 30:
            time.sleep(0.05)
        if time.time() >= deadline - 30:
            problem(f"kill {k + 1}: load too slow to reach {goal:.0f} deliveries in time")
            return
        try:
            s = Smtp(SMTP_FRONT, src, 60)
            s.cmd(f"EHLO {helo_of(src)}")
            host = BY_FQDN[s.host]
            ident = f"k{k}"
            rcpts = rng.sample(USERS, 2)
            rec = record(ident, rcpts, src, s.host)
            s.cmd("MAIL FROM:<killer@clients.test>")
            for r in rcpts:
                s.cmd(f"RCPT TO:<{r}@mail.cluster.test>")
            code, _ = s.cmd("DATA")
            if code != 354:
                raise Cut(f"DATA {code}")
            s.send(dotstuff(message(ident, src, rng, VICTIM_SIZE)))
        except (Cut, KeyError) as e:
            problem(f"kill {k + 1}: could not start the victim delivery: {e}")
            continue
        # smtpd writes its record (SIZE LEN) into the dotlock before it
        # appends: a LEN this large is the victim's.  Kill within
        # KILL_WINDOW of seeing it, while the bytes go out.
        seen, t_end = None, time.time() + 30
        while seen is None and time.time() < t_end:
            for u in sorted(rcpts):
                try:
                    with open(f"{host.view}/{u}.lock") as f:
                        rec_ = f.read().split()
                except OSError:
                    continue
                if len(rec_) >= 6 and rec_[1] == "inetmail" and rec_[4].isdigit() \
                        and int(rec_[4]) > VICTIM_SIZE // 2:
                    seen = (u, int(rec_[3]), int(rec_[4]))
                    break
            else:
                time.sleep(0.001)
        time.sleep(rng.uniform(0, KILL_WINDOW))
        groups = [host.pids("smtpd"), host.pids("pop3d")]
        n = [group_members(g) for g in groups]
        for g in groups:
            try:
                os.killpg(g, signal.SIGKILL)
            except ProcessLookupError:
                pass
        t_kill = time.time() - t_start
        where = []
        for u in sorted(rcpts):
            try:
                with open(f"{host.view}/{u}.lock") as f:
                    rec_ = f.read().split()
            except OSError:
                where.append(f"{u}: not locked")
                continue
            try:
                size, length = int(rec_[3]), int(rec_[4])
            except (ValueError, IndexError):
                where.append(f"{u}: locked, no append recorded yet")
                continue
            if length > VICTIM_SIZE // 2:
                now = os.stat(f"{host.view}/{u}").st_size
                where.append(f"{u}: {max(0, now - size)} of {length} bytes")
            else:
                where.append(f"{u}: not begun")
        where = "with " + ", ".join(where) if seen else "before any append was seen"
        s.sock.settimeout(10)
        out, detail = s.final()
        settle(rec, out, detail)
        s.close()
        events.append(f"kill {k + 1} at {t_kill:.1f} s ({acked()} acknowledged): {host.name}, "
                      f"{n[0]} smtpd and {n[1]} pop3d processes (listeners included); "
                      f"the delivery in flight there ({ident}, {VICTIM_SIZE // 1000} kB to "
                      f"{'+'.join(rcpts)}) killed {where}: {out}")
        print(f"  {events[-1]}", flush=True)
        time.sleep(RESTART_AFTER)
        r = subprocess.run([f"{DIR}/{host.name}/start.sh"], capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0:
            problem(f"restart of {host.name} failed: {r.stdout} {r.stderr}")
        else:
            events.append(f"restart of {host.name} at {time.time() - t_start:.1f} s")


def progress(stop):
    last = 0
    while not stop.wait(10):
        a = acked()
        print(f"  {time.time() - t_start:5.0f} s: {a} acknowledged ({(a - last) / 10:.0f}/s), "
              f"{stats['refused']} refused, {stats['cut-before'] + stats['cut-after']} cut; "
              f"POP3 {stats['pop-sessions']} sessions, {stats['pop-deleted']} deleted, "
              f"{stats['pop-in-use']} in use", flush=True)
        last = a


def run_load():
    stop = threading.Event()
    mon = threading.Thread(target=progress, args=(stop,), daemon=True)
    mon.start()
    smtps = [threading.Thread(target=smtp_client, args=(i,)) for i in range(CLIENTS)]
    pops = [threading.Thread(target=popper, args=(j,)) for j in range(POPPERS)]
    kill = threading.Thread(target=killer)
    for t in smtps + pops + [kill]:
        t.start()
    for t in smtps + [kill]:
        t.join(max(1, deadline + 60 - time.time()))
    stop_pop.set()
    for t in pops:
        t.join(90)
    stop.set()
    alive = [t for t in smtps + pops + [kill] if t.is_alive()]
    return time.time() - t_start, alive


def repair():
    """Every host's pop3d opens every mailbox: a stale dotlock of a killed
    process is broken (at once by its own host), torn appends are cut and
    journals replayed.  Rounds until every login succeeds everywhere."""
    for rnd in range(4):
        bad = []
        for h in H:
            for u in USERS:
                try:
                    p = Pop(h.pop, ADMIN_ADDR, 40)
                    r = p.login(u)
                    p.cmd("QUIT")
                    p.close()
                except Cut as e:
                    r = f"cut {e}"
                if not r.startswith("+OK"):
                    bad.append(f"{h.name}/{u}: {r}")
        if not bad:
            return rnd + 1, []
    return 4, bad


def accounting():
    present = collections.Counter()
    torn, unknown = [], []
    for u in USERS:
        ms, probs = read_mbox(f"{H[0].view}/{u}")
        for p in probs:
            problem(p)
        for m in ms:
            if not m["whole"]:
                torn.append(f"{u}/{m['id']}")
                continue
            rec = msgs.get(m["id"] or "")
            if rec is None or u not in rec["rcpts"]:
                unknown.append(f"{u}/{m['id']}")
                continue
            present[(u, m["id"])] += 1
            check_received(u, m, rec, "spool")
    maybe = set().union(*unsure) if unsure else set()
    lost, extra, partial = [], [], []
    counts = collections.Counter()
    for ident, rec in msgs.items():
        out = rec["outcome"]
        counts[out] += 1
        here = {u: present[(u, ident)] for u in rec["rcpts"]}
        for u, k in here.items():
            key = (u, ident)
            if out == "acked":
                if key in deleted:
                    ok = k == 0
                elif key in maybe:
                    ok = k <= 1
                else:
                    ok = k == 1
                if not ok and k == 0:
                    lost.append(f"{u}/{ident}")
                elif not ok:
                    extra.append(f"{u}/{ident} x{k}")
            elif out == "cut-after":
                if k > 1:
                    extra.append(f"{u}/{ident} x{k}")
            elif k > 0:
                extra.append(f"{u}/{ident} ({out} {rec['detail']})")
        if out == "cut-after":
            kept = {u for u, k in here.items() if k and (u, ident) not in deleted | maybe}
            gone = {u for u, k in here.items() if not k and (u, ident) not in deleted | maybe}
            if kept and gone:
                partial.append(f"{ident} in {sorted(kept)}, not in {sorted(gone)}")
    for group in unsure:
        live = {k for k in group if k not in deleted}
        left = {k for k in live if present[k]}
        if left and left != live:
            partial.append(f"unanswered QUIT removed part of {sorted(live)}")
    dup = [f"{u}/{i} x{k}" for (u, i), k in present.items() if k > 1]
    return counts, present, torn, unknown, lost, extra + dup, partial


def spool_leftovers():
    """Dotlocks and journals of the load's mailboxes (none may be left);
    unique files of dotlock attempts (.lk*) and commit markers (.txn.*) that
    killed processes left (harmless: never read again, never removed)."""
    names = os.listdir(H[0].view)
    locks = [n for n in names if n in {f"{u}.lock" for u in USERS}]
    journals = [n for n in names if any(n.startswith(f".{u}.redo") for u in USERS)]
    litter = [n for n in names if n.startswith(".lk") or n.startswith(".txn.")]
    return locks, journals, litter


def log_checks():
    """Per host: sessions by sid, their client and lines."""
    qids = collections.defaultdict(list)
    smtp_sessions = {}
    pop_logins = collections.Counter()
    pop_haproxy = []
    warn = collections.Counter()
    for h in H:
        for sid, client, text in log_lines(h.name, "smtpd"):
            if sid is None:
                continue
            sess = smtp_sessions.setdefault((h.name, sid), {"client": client, "lines": []})
            sess["lines"].append(text)
            if text.startswith("message "):
                q = field(text, "qid")
                if q and q != "-":
                    qids[q].append((h.fqdn, client, field(text, "helo"), field(text, "result")))
        for sid, client, text in log_lines(h.name, "pop3d"):
            if sid is None:
                continue
            if text.startswith("login "):
                pop_logins[client] += 1
            if PROXY and client == HAPROXY_ADDR:
                pop_haproxy.append(text)
        for what in ("smtpd", "pop3d"):
            for _, _, text in log_lines(h.name, what):
                for w in ("lock timeout", "recovered=kept", "recovered=truncated",
                          "broken=stale", "expunge replayed", "does not match", "grew past",
                          "error="):
                    if w in text:
                        warn[f"{h.name} {what} {w}"] += 1
    return qids, smtp_sessions, pop_logins, pop_haproxy, warn


def main():
    print(f"  {len(H)} hosts, {CLIENTS} SMTP clients until {TARGET} deliveries are "
          f"acknowledged, {POPPERS} POP3 clients, {KILLS} kills; PROXY={int(PROXY)}", flush=True)
    elapsed, alive = run_load()
    res.check(not alive, "bounded", f"load phase {elapsed:.0f} s"
              + (f", threads still running: {len(alive)}" if alive else ""))
    for e in events:
        note(e)
    try:
        with open(f"{DIR}/logs/haproxy.log", errors="replace") as f:
            hl = [l for l in f if l.startswith("[WARNING]") and "Server " in l]
        down = sum(" is DOWN" in l for l in hl)
        up = sum(" is UP" in l and "maintenance" not in l for l in hl)
        note(f"haproxy: {down} server(s) marked DOWN by health checks, {up} back UP")
    except OSError:
        pass
    res.check(acked() >= TARGET, "deliveries",
              f"{acked()} acknowledged (want {TARGET}) at {acked() / elapsed:.1f}/s, "
              f"{stats['refused']} refused, {stats['cut-before']} cut before and "
              f"{stats['cut-after']} after the final dot, {stats['connect-failed']} failed connects")
    res.check(stats["pop-sessions"] > 0 and stats["pop-deleted"] > 0, "pop3",
              f"{stats['pop-sessions']} sessions, {stats['pop-retr']} RETR, "
              f"{stats['pop-deleted']} deletions committed, {stats['pop-in-use']} [IN-USE], "
              f"{stats['pop-quit-unanswered']} QUITs unanswered, {stats['pop-cut-before-quit']} "
              f"cut before QUIT, {stats['pop-login-err']} other login errors")
    res.check(len([e for e in events if e.startswith("kill")]) == KILLS, "kills",
              f"{len([e for e in events if e.startswith('kill')])} of {KILLS} done")

    wait_until(lambda: all(v.startswith("UP") for v in server_states().values()), 20)
    rounds, bad = repair()
    res.check(not bad, "recovery", f"every host opened every mailbox after {rounds} round(s)"
              if not bad else "; ".join(bad[:4]))
    locks, journals, litter = spool_leftovers()
    res.check(not locks and not journals, "leftovers",
              f"dotlocks {locks[:4]}, journals {journals[:4]}; left by killed processes "
              f"(harmless): {litter[:4]}")

    counts, present, torn, unknown, lost, extra, partial = accounting()
    note(f"outcomes: {dict(counts)}; {sum(present.values())} copies present, "
         f"{len(deleted)} deleted by acknowledged QUITs")
    res.check(not torn, "whole", f"{len(torn)} torn {torn[:4]}")
    res.check(not unknown, "known", f"{len(unknown)} unknown {unknown[:4]}")
    res.check(not lost, "none-lost", f"{len(lost)} acknowledged copies missing {lost[:6]}")
    res.check(not extra, "none-extra", f"{len(extra)} duplicated or unacknowledged copies "
              f"{extra[:6]}")
    res.check(not partial, "all-or-nothing", f"{partial[:4]}")

    qids, sessions, pop_logins, pop_haproxy, warn = log_checks()
    miss, wrong = [], []
    for ident, rec in msgs.items():
        if rec["outcome"] != "acked":
            continue
        got = qids.get(rec["detail"], [])
        if len(got) != 1:
            miss.append(f"{ident} qid {rec['detail']} logged {len(got)} times")
            continue
        by, client, helo, result = got[0]
        if (by, client, helo, result) != (rec["host"], expected_addr(rec["src"]),
                                          helo_of(rec["src"]), "delivered"):
            wrong.append(f"{ident}: {by} client={client} helo={helo} result={result}")
    res.check(not miss and not wrong, "smtpd-log",
              f"{counts['acked']} acknowledged queue ids each logged once by its host, "
              f"client={'the client' if PROXY else HAPROXY_ADDR}: "
              + (f"{len(miss)} missing {miss[:3]} {len(wrong)} wrong {wrong[:3]}"
                 if miss or wrong else "yes"))
    # A health check is a session of haproxy's own address with no mail in
    # it; with PROXY=1 a clean one (v2 LOCAL, QUIT) logs nothing at all.
    checks = [s for s in sessions.values() if s["client"] == HAPROXY_ADDR and
              not any(l.startswith("message ") for l in s["lines"])]
    ends = collections.Counter(field(l, "end") for s in sessions.values()
                               for l in s["lines"] if l.startswith("disconnect"))
    res.check(set(ends) <= {"quit"}, "smtpd-sessions-end-clean",
              f"{sum(ends.values())} sessions ended, reasons {dict(ends)}; "
              f"{len(checks)} of them without mail from {HAPROXY_ADDR} (health checks)")
    if PROXY:
        leaked = [(k, s["lines"][:3]) for k, s in sessions.items()
                  if s["client"] == HAPROXY_ADDR and s not in checks]
        res.check(not leaked, "smtpd-client-addresses",
                  f"sessions from haproxy's address other than health checks: {leaked[:3]}")
        allowed = {f"127.0.0.{8 + j}" for j in range(POPPERS)} | {ADMIN_ADDR, "127.0.0.30"}
    else:
        allowed = {HAPROXY_ADDR, ADMIN_ADDR}
    odd = {c: n for c, n in pop_logins.items() if c not in allowed}
    res.check(not odd and not pop_haproxy, "pop3d-log",
              f"logins by client address {dict(pop_logins)}"
              + (f"; unexpected {odd}" if odd else "")
              + (f"; haproxy's own sessions logged: {pop_haproxy[:2]}" if pop_haproxy else ""))
    note("recovery and lock lines in the hosts' logs: "
         + (", ".join(f"{k} {v}" for k, v in sorted(warn.items())) or "none"))
    res.check(not problems, "retr-and-received",
              f"{len(problems)} problems" + "".join(f"\n    {p}" for p in problems[:12]))
    return res.summary()


if __name__ == "__main__":
    sys.exit(main())
