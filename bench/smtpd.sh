#!/bin/sh
# bench/smtpd.sh: smtpd's delivery and session figures.  Measures; never fails on
# a figure (only when a step itself breaks).  Takes well under a minute.
#   Deliveries per second of 2,000 4 KiB messages, one SMTP session per
#   message, each a fresh smtpd process as under inetd (the session piped in
#   from a file), each message fsync'ed in its mailbox before the 250; at
#   concurrency 1 and 4; next to a bare fork+exec of /bin/true driven the
#   same way in the same run (the floor); and smtpd's own CPU time per
#   message (user+sys from wait4() of each child; target <= 1 ms).
# Scratch mailboxes live in a folder under ${TMPDIR:-/var/tmp} (a disk, so
# fsync costs what it costs), removed afterwards.  Figures also go to
# bench/out/smtpd.txt.  N=... changes the message count.
SMTPD=${SMTPD:-$(pwd)/build/smtpd/smtpd}
N=${N:-2000}
[ -x "$SMTPD" ] || { echo "no $SMTPD: run make first" >&2; exit 1; }
S=$(mktemp -d "${TMPDIR:-/var/tmp}/smtpd-bench.XXXXXX") || exit 1
trap 'rm -rf "$S"' EXIT INT TERM
mkdir -p bench/out
python3 - "$SMTPD" "$S" "$N" <<'EOF' | tee bench/out/smtpd.txt
import os, sys, time

smtpd, S, N = sys.argv[1], sys.argv[2], int(sys.argv[3])
spool = os.path.join(S, "spool")
os.mkdir(spool)
users = os.path.join(S, "users")
with open(users, "w") as f:
    for u in ("u0", "u1", "u2", "u3"):
        # As root (inetd) every entry needs its owner: nobody's.
        f.write("%s:{PLAIN}x:%d:%d\n" % ((u,) + ((65534, 65534) if os.geteuid() == 0
                                               else (os.getuid(), os.getgid()))))

# One session file per mailbox: EHLO, MAIL, RCPT, DATA with a 4 KiB message
# (76-byte lines, headers like real mail), QUIT; pipelined as a client may.
line = b"abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-.,;:!?()[]/\r\n"
head = (b"From: Sender <sender@remote.example>\r\nTo: <u@mail.example.org>\r\n"
        b"Subject: benchmark message\r\nMessage-ID: <1@remote.example>\r\n"
        b"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n\r\n")
body = head + line * ((4096 - len(head)) // len(line))
body += b"x" * (4096 - len(body) - 2) + b"\r\n"
assert len(body) == 4096
files = []
for i in range(4):
    p = os.path.join(S, "session%d" % i)
    with open(p, "wb") as f:
        f.write(b"EHLO client.example\r\nMAIL FROM:<sender@remote.example> SIZE=4096\r\n"
                b"RCPT TO:<u%d@mail.example.org>\r\nDATA\r\n" % i + body +
                b".\r\nQUIT\r\n")
    files.append(p)
devnull = os.open(os.devnull, os.O_WRONLY)
argv = [smtpd, "-h", "mail.example.org", "-m", spool, "-p", users]

def run(cmd, conc):
    """N fresh processes, CONC at a time; returns (seconds, cpu seconds)."""
    cpu = 0.0
    live = 0
    started = 0
    bad = 0
    t0 = time.monotonic()
    while started < N or live > 0:
        while live < conc and started < N:
            fd = os.open(files[started % 4], os.O_RDONLY)
            os.posix_spawn(cmd[0], cmd, os.environ,
                           file_actions=[(os.POSIX_SPAWN_DUP2, fd, 0),
                                         (os.POSIX_SPAWN_DUP2, devnull, 1),
                                         (os.POSIX_SPAWN_DUP2, devnull, 2)])
            os.close(fd)
            started += 1
            live += 1
        pid, status, ru = os.wait4(-1, 0)
        live -= 1
        cpu += ru.ru_utime + ru.ru_stime
        if status != 0:
            bad += 1
    t = time.monotonic() - t0
    if bad:
        print("  (%d of %d runs failed)" % (bad, N))
    return t, cpu

print("smtpd: %d sessions of one 4096-byte message each, fresh process each, fsync'ed" % N)
res = {}
for conc in (1, 4):
    tt, tc = run(["/bin/true"], conc)
    st, sc = run(argv, conc)
    res[conc] = (st, sc)
    print("concurrency %d: smtpd %7.0f deliveries/s (%.3f ms each)   "
          "fork+exec /bin/true %7.0f/s (%.3f ms each)" %
          (conc, N / st, 1000 * st / N, N / tt, 1000 * tt / N))
    print("               CPU per message: smtpd %.3f ms (user+sys), /bin/true %.3f ms;"
          " smtpd's own %.3f ms" %
          (1000 * sc / N, 1000 * tc / N, 1000 * (sc - tc) / N))
# every message must really be there
total = 0
for u in ("u0", "u1", "u2", "u3"):
    with open(os.path.join(spool, u), "rb") as f:
        total += f.read().count(b"\nSubject: benchmark message\n")
print("stored: %d of %d messages" % (total, 2 * N))
EOF
