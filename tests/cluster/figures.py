#!/usr/bin/env python3
"""figures.py: the rig's figures.

  delivery rate through haproxy with 1 host in service (the others in
  maintenance), then 2, up to all, and straight to an smtpd -L on local
  disk: DELIVERIES_BENCH messages of about 2 KB, one per connection (as
  inetd would see them), BENCH_CONC at a time, each client into a mailbox
  of its own (no waits on one another's locks);

  POP3 login latency (connect to +OK after PASS, which includes the session
  marker, the lock, the stamp of the mailbox and the read of its index, or
  a scan of the whole mailbox when the index does not match) for a mailbox of
  LAT_MSGS messages: on local disk, on the cluster FS straight to a host,
  and on the cluster FS through haproxy.

Prints the figures and writes them to DIR/figures."""
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import (ADMIN_ADDR, GID, LOCAL_POP, LOCAL_SMTP, POP_FRONT, SMTP_FRONT,  # noqa: E402
                 UID, Cut, DIR, Pop, Results, Smtp, haproxy, hosts, mbox_text,
                 message, pct, server_states, wait_until)

N = int(os.environ.get("DELIVERIES_BENCH", "300"))
CONC = int(os.environ.get("BENCH_CONC", "4"))
LAT_MSGS = int(os.environ.get("LAT_MSGS", "1000"))
LAT_LOGINS = int(os.environ.get("LAT_LOGINS", "30"))
res = Results("figures")
figures = []


def rate(dst, label):
    todo = list(range(N))
    lock = threading.Lock()
    done = {"ok": 0, "other": 0}
    lat = []

    def worker(k):
        rng = random.Random(k)
        src = f"127.0.0.{20 + k}"
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            t0 = time.time()
            try:
                s = Smtp(dst, src, 60)
                s.cmd(f"EHLO bench{k}.clients.test")
                out, _ = s.deliver("bench@clients.test", [f"r{k % 4 + 1}"],
                                   message(f"b{label}{i}", src, rng, 2000))
                s.quit()
            except Cut:
                out = "cut"
            with lock:
                done["ok" if out == "acked" else "other"] += 1
                lat.append(time.time() - t0)

    t0 = time.time()
    ts = [threading.Thread(target=worker, args=(k,)) for k in range(CONC)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    el = time.time() - t0
    r = done["ok"] / el
    line = (f"delivery rate {label}: {r:.1f} messages/s ({done['ok']} of {N} in {el:.1f} s, "
            f"{CONC} at a time; per delivery median {1000 * pct(lat, 50):.0f} ms, "
            f"p90 {1000 * pct(lat, 90):.0f} ms, max {1000 * max(lat):.0f} ms)")
    figures.append(line)
    print(f"  {line}", flush=True)
    res.check(done["ok"] == N, f"bench-{label.split()[0]}", f"{done['other']} not accepted")
    return r


def set_hosts(n):
    """Only the first N hosts in service in both backends."""
    for i, h in enumerate(hosts()):
        state = "ready" if i < n else "maint"
        for b in ("smtp_hosts", "pop3_hosts"):
            haproxy(f"set server {b}/mail{h.name[1:]} state {state}")
    want = n

    def ok():
        st = server_states()
        up = [k for k, v in st.items() if k[0] == "smtp_hosts" and v.startswith("UP")]
        return len(up) == want
    return wait_until(ok, 20)


def latency(dst, label, user):
    lat, counts, inuse = [], set(), 0
    while len(lat) < LAT_LOGINS and inuse < LAT_LOGINS:
        t0 = time.time()
        try:
            p = Pop(dst, ADMIN_ADDR if dst[0].startswith("10.") else "127.0.0.30", 60)
            r = p.login(user)
            if "[IN-USE]" in r:
                # The last session's pop3d has answered its QUIT but not
                # yet let go of the session marker: try again.
                inuse += 1
                p.close()
                time.sleep(0.05)
                continue
            lat.append(time.time() - t0)
            if r.startswith("+OK"):
                counts.add(p.cmd("STAT")[0])
            else:
                counts.add(r)
            p.cmd("QUIT")
            p.close()
        except Cut as e:
            counts.add(f"cut {e}")
    line = (f"POP3 login latency, {LAT_MSGS}-message mailbox, {label}: median "
            f"{1000 * pct(lat, 50):.1f} ms, p90 {1000 * pct(lat, 90):.1f} ms ({len(lat)} logins"
            f"{f', {inuse} [IN-USE] right after the last QUIT' if inuse else ''})")
    figures.append(line)
    print(f"  {line}", flush=True)
    one = next(iter(counts)) if len(counts) == 1 else ""
    res.check(one.startswith(f"+OK {LAT_MSGS} "),
              f"latency-{label.split()[0]}", f"STAT answers {sorted(counts)[:2]}")


if __name__ == "__main__":
    H = hosts()
    rng = random.Random(5)
    data = b"".join(mbox_text(f"lat{i}", "planted", rng, 2000) for i in range(LAT_MSGS))
    for path in (f"{H[0].view}/lat", f"{DIR}/local/spool/lat"):
        with open(path, "wb") as f:
            f.write(data)
        os.chown(path, UID, GID)
        os.chmod(path, 0o600)
    print(f"  mailbox 'lat': {LAT_MSGS} messages, {len(data)} bytes", flush=True)
    latency(LOCAL_POP, "local disk", "lat")
    latency(H[0].pop, f"cluster FS direct to {H[0].name}", "lat")
    latency(POP_FRONT, "cluster FS through haproxy", "lat")

    for n in range(1, len(H) + 1):
        res.check(set_hosts(n), f"in-service-{n}", f"haproxy has {n} host(s) in service")
        rate(SMTP_FRONT, f"{n} host{'s' if n > 1 else ''} through haproxy")
    rate(LOCAL_SMTP, "local disk direct (no haproxy)")
    with open(f"{DIR}/figures", "w") as f:
        f.write("\n".join(figures) + "\n")
    sys.exit(res.summary())
