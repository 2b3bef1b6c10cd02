#!/usr/bin/env python3
"""fsclaims.py: what the store needs from a shared file system, tried
through two hosts' own FUSE mounts of the volume (each seen from here
through /proc/HOLDER/root of its mount namespace):

  lock      an fcntl write lock taken through one mount makes F_SETLK fail
            (EAGAIN) through the other, and the holder's death frees it;
  link      link() to a name that exists through the other mount fails with
            EEXIST, and the source's link count (2) is seen through both;
  size      a file grown through one mount shows its new size through the
            other at once (fstat, and lseek(SEEK_END) on an fd opened before);
  data      bytes appended, and bytes overwritten in place, through one mount
            are read through the other at once;
  truncate  a truncation through one mount is seen through the other;
  append    O_APPEND writes from both mounts at once interleave whole
            (the store does not rely on it: it seeks to the end under lock);
  ino       st_ino of one file is the same through both mounts (st_dev is
            not, and is only noted: the store compares st_ino alone);
            whether the index stamp (ino, size, mtime, ctime) reads the
            same through both is noted too.
"""
import errno
import fcntl
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import Results, hosts, note  # noqa: E402

res = Results("fs")


def lock_claim(a, b):
    pa, pb = f"{a}/.claim-lock", f"{b}/.claim-lock"
    fd = os.open(pa, os.O_RDWR | os.O_CREAT, 0o600)
    r, w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(w, b"y")
        except OSError:
            os.write(w, b"n")
        os.read(go_r, 1)           # hold until told, or until killed
        os._exit(0)
    took = os.read(r, 1) == b"y"
    fb = os.open(pb, os.O_RDWR)
    try:
        fcntl.lockf(fb, fcntl.LOCK_EX | fcntl.LOCK_NB)
        blocked = "granted"
        fcntl.lockf(fb, fcntl.LOCK_UN)
    except OSError as e:
        blocked = errno.errorcode.get(e.errno, str(e.errno))
    res.check(took and blocked == "EAGAIN", "lock",
              f"held through {hosts_[0].name}, F_SETLK through {hosts_[1].name}: {blocked}")
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    t0 = time.time()
    freed = False
    while time.time() - t0 < 5:
        try:
            fcntl.lockf(fb, fcntl.LOCK_EX | fcntl.LOCK_NB)
            freed = True
            break
        except OSError:
            time.sleep(0.05)
    res.check(freed, "lock-freed-by-death",
              f"SIGKILL of the holder frees it for the other mount in {time.time() - t0:.2f} s")
    for x in (fd, fb, r, w, go_r, go_w):
        os.close(x)
    os.unlink(pa)


def link_claim(a, b):
    for p in (f"{a}/.claim-t1", f"{b}/.claim-t2"):
        os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
    # B looks the name up (and finds nothing) before A makes it: a cached
    # negative entry must not hide A's link.
    seen_before = os.path.exists(f"{b}/.claim-L")
    os.link(f"{a}/.claim-t1", f"{a}/.claim-L")
    try:
        os.link(f"{b}/.claim-t2", f"{b}/.claim-L")
        got = "succeeded"
    except OSError as e:
        got = errno.errorcode.get(e.errno, str(e.errno))
    n_a = os.stat(f"{a}/.claim-t1").st_nlink
    n_b = os.stat(f"{b}/.claim-t1").st_nlink
    visible = os.path.exists(f"{b}/.claim-L")
    res.check(not seen_before and got == "EEXIST" and n_a == 2 and n_b == 2 and visible,
              "link", f"second link() {got}; nlink {n_a} and {n_b}; name visible {visible}")
    os.unlink(f"{a}/.claim-L")
    gone = not os.path.exists(f"{b}/.claim-L")
    res.check(gone, "unlink", "an unlink through one mount is seen through the other at once")
    for p in (f"{a}/.claim-t1", f"{a}/.claim-t2"):
        os.unlink(p)


def size_data_claims(a, b):
    pa, pb = f"{a}/.claim-box", f"{b}/.claim-box"
    fa = os.open(pa, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    os.write(fa, b"a" * 1000)
    os.fsync(fa)
    fb = os.open(pb, os.O_RDWR)
    first = os.pread(fb, 65536, 0)          # B caches what it read
    os.pwrite(fa, b"b" * 100, 1000)
    os.fsync(fa)
    sz = os.fstat(fb).st_size
    end = os.lseek(fb, 0, os.SEEK_END)
    res.check(len(first) == 1000 and sz == 1100 and end == 1100, "size",
              f"after a 100-byte append through the other mount: fstat {sz}, SEEK_END {end} (want 1100)")
    tail = os.pread(fb, 65536, 0)[1000:]
    res.check(tail == b"b" * 100, "data-append",
              f"appended bytes read back: {len(tail)} of 100 right")
    os.pwrite(fa, b"c" * 100, 0)
    os.fsync(fa)
    head = os.pread(fb, 100, 0)
    res.check(head == b"c" * 100, "data-overwrite",
              "an in-place overwrite (same size) is read through the other mount: "
              + ("yes" if head == b"c" * 100 else f"no, stale bytes {head[:8]!r}"))
    os.ftruncate(fa, 500)
    os.fsync(fa)
    sz = os.fstat(fb).st_size
    res.check(sz == 500, "truncate", f"fstat through the other mount after truncation to 500: {sz}")
    st_a, st_b = os.fstat(fa), os.fstat(fb)
    res.check(st_a.st_ino == st_b.st_ino, "ino", f"same st_ino through both mounts ({st_a.st_ino})")
    # Not a claim: each FUSE mount has a st_dev of its own, which is why the
    # store compares only st_ino in dotlock records and journals.
    note(f"st_dev {st_a.st_dev} vs {st_b.st_dev} through the two mounts "
         "(the store does not compare it)")
    # Not a claim either: a mailbox index is reused by another host only
    # when the stamp it recorded (inode, size, mtime, ctime in ns) reads
    # the same through that host's mount; else it costs a scan.
    stamp = lambda s: (s.st_ino, s.st_size, s.st_mtime_ns, s.st_ctime_ns)
    note(f"stamp (ino, size, mtime, ctime) through the two mounts: "
         f"{'the same' if stamp(st_a) == stamp(st_b) else 'differs'} "
         f"({stamp(st_a)} vs {stamp(st_b)}): another host's index is "
         f"{'reused' if stamp(st_a) == stamp(st_b) else 'rebuilt by a scan'}")
    os.close(fa)
    os.close(fb)
    os.unlink(pa)


def append_claim(a, b, n=400):
    pa, pb = f"{a}/.claim-append", f"{b}/.claim-append"
    os.close(os.open(pa, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    pids = []
    for tag, p in (("A", pa), ("B", pb)):
        pid = os.fork()
        if pid == 0:
            fd = os.open(p, os.O_WRONLY | os.O_APPEND)
            for i in range(n):
                os.write(fd, f"{tag}{i:05d}{'.' * 50}\n".encode())
            os.close(fd)
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    lines = open(pa, "rb").read().split(b"\n")[:-1]
    good = [l for l in lines if len(l) == 56 and l[:1] in b"AB"]
    res.check(len(lines) == 2 * n and len(good) == 2 * n, "append",
              f"{2 * n} O_APPEND records from both mounts at once: {len(good)} whole, "
              f"{len(lines)} lines")
    os.unlink(pa)


if __name__ == "__main__":
    hosts_ = hosts()
    a, b = hosts_[0].view, hosts_[1].view
    lock_claim(a, b)
    link_claim(a, b)
    size_data_claims(a, b)
    append_claim(a, b)
    sys.exit(res.summary())
