#!/usr/bin/env python3
"""smtpd-allornothing.py: a delivery to three recipients whose third mailbox
cannot take the message (a FIFO, a symlink, a directory, or over the file
size limit RLIMIT_FSIZE) is answered 451 and lands in no mailbox; the
session goes on and the next transaction is delivered.  Environment: SMTPD.
"""
import os
import resource
import shutil
import stat
import subprocess
import sys
import tempfile

# The users' uid:gid: as root, smtpd refuses a users-file entry without
# one, so every entry gets nobody's; unprivileged, our own.
OWNER_IDS = (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())


SMTPD = os.environ.get("SMTPD", "build/smtpd/smtpd")
HOST = b"mail.example.org"
OLD = b"From old@example.org Thu Jan  1 00:00:00 1970\nSubject: old\n\nold mail\n\n"


def session(body):
    s = b"EHLO client.example\r\nMAIL FROM:<s@remote.example>\r\n"
    for u in (b"alice", b"bob", b"carol"):
        s += b"RCPT TO:<%s@%s>\r\n" % (u, HOST)
    s += b"DATA\r\n" + body + b".\r\n"
    # the session continues after the failure: this one must be delivered
    s += b"MAIL FROM:<s@remote.example>\r\nRCPT TO:<alice@%s>\r\n" % HOST
    s += b"DATA\r\nSubject: second\r\n\r\nsecond\r\n.\r\nQUIT\r\n"
    return s


def snapshot(spool):
    snap = {}
    for name in sorted(os.listdir(spool)):
        p = os.path.join(spool, name)
        st = os.lstat(p)
        data = None
        if stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                data = f.read()
        snap[name] = (stat.S_IFMT(st.st_mode), data)
    return snap


def run_case(name, prepare, limit=None, size=2000):
    tmp = tempfile.mkdtemp(prefix="smtpd-aon.")
    try:
        spool = os.path.join(tmp, "spool")
        os.mkdir(spool)
        users = os.path.join(tmp, "users")
        with open(users, "w") as f:
            f.write("".join("%s:%d:%d\n" % (l, *OWNER_IDS) for l in ['alice:{PLAIN}a', 'bob:{PLAIN}b', 'carol:{PLAIN}c']))
        for u in ("alice", "bob"):
            with open(os.path.join(spool, u), "wb") as f:
                f.write(OLD)
            os.chmod(os.path.join(spool, u), 0o600)
            os.chown(os.path.join(spool, u), *OWNER_IDS)
        prepare(tmp, spool)
        before = snapshot(spool)
        body = b"Subject: all or nothing\r\n\r\n" + (b"x" * 99 + b"\r\n") * (size // 101)

        def lim():
            if limit is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        r = subprocess.run([SMTPD, "-h", HOST, "-m", spool, "-p", users],
                           input=session(body), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, preexec_fn=lim, timeout=60)
        out = r.stdout.decode("latin-1").split("\r\n")
        ok = True
        datas = [l for l in out if l.startswith(("250 2.0.0", "451 ", "552 "))]
        if len(datas) != 2 or not datas[0].startswith("451 4.") \
                or not datas[1].startswith("250 2.0.0 Ok: queued as "):
            print("%s: replies %r" % (name, datas))
            ok = False
        if r.stderr:
            print("%s: stderr %r" % (name, r.stderr[:200]))
            ok = False
        after = snapshot(spool)
        for u, (kind, data) in before.items():
            if u == "alice":
                continue
            if after.get(u) != (kind, data):
                print("%s: mailbox %s changed" % (name, u))
                ok = False
        # alice: the old mail plus only the second message
        adata = after["alice"][1]
        if not adata.startswith(OLD) or b"all or nothing" in adata \
                or adata.count(b"\nFrom ") != 1 or b"\n\nsecond\n\n" not in adata:
            print("%s: alice holds %r" % (name, adata[:400]))
            ok = False
        leftover = set(after) - set(before)
        if leftover:
            print("%s: files left behind: %r" % (name, sorted(leftover)))
            ok = False
        print("%s %s: %s" % ("ok" if ok else "not ok", name, datas[0] if datas else "-"))
        return ok
    finally:
        shutil.rmtree(tmp)


def fifo(tmp, spool):
    os.mkfifo(os.path.join(spool, "carol"), 0o600)


def symlink(tmp, spool):
    open(os.path.join(tmp, "target"), "wb").close()
    os.symlink(os.path.join(tmp, "target"), os.path.join(spool, "carol"))


def directory(tmp, spool):
    os.mkdir(os.path.join(spool, "carol"))


def big(tmp, spool):
    # carol is near the file size limit: her copy cannot fit, alice's and
    # bob's (small files) can, and must be rolled back.
    with open(os.path.join(spool, "carol"), "wb") as f:
        f.write(OLD * (100000 // len(OLD)))
    os.chmod(os.path.join(spool, "carol"), 0o600)
    os.chown(os.path.join(spool, "carol"), *OWNER_IDS)


def main():
    ok = run_case("fifo", fifo)
    ok &= run_case("symlink", symlink)
    ok &= run_case("directory", directory)
    ok &= run_case("rlimit-fsize", big, limit=110000, size=20000)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
