#!/usr/bin/env python3
"""callpath.py: what a request costs in structure, measured on the running
code: the functions entered (stops), the source files they are in, and how
often the path comes back into a file it had left, for three paths:
  smtp-data   SMTP DATA to its 250 (session and delivery side)
  pop3-login  POP3 PASS to STAT (session, login checker, the owner's part)
  pop3-quit   POP3 QUIT with two DELEs (the commit)
Each is a window of the merged trace of every process of one session
(bench/callpath-hook.c, built with -finstrument-functions), from the
first entry of a start function to the first entry of an end function
after it.  Usage: bench/callpath.py TREE [OUT]: TREE is a source tree to
measure (this one, or an older commit's checkout), built into OUT (default
a temporary directory).  Prints one line a path; with CALLPATH_FILES=1 also
the stops in each file."""
import glob
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PATHS = (
    ("smtp-data", "smtpd", ["smtp_txn_data"], ["smtp_reply"], 2),
    ("pop3-login", "pop3d", ["pop3_cmd_pass"], ["pop3_cmd_stat"], 1),
    ("pop3-quit", "pop3d", ["pop3_cmd_quit"], ["pop3_reply_result"], 1),
)
SMTP_IN = (b"EHLO client.example\r\nMAIL FROM:<s@remote.example>\r\n"
           b"RCPT TO:<alice@mail.example.org>\r\nDATA\r\nSubject: x\r\n\r\nhi\r\n"
           b".\r\nQUIT\r\n")
POP3_IN = b"USER alice\r\nPASS alicepw\r\nSTAT\r\nDELE 1\r\nDELE 2\r\nQUIT\r\n"
MBOX = b"".join(b"From a@example.com Mon Jan  1 10:00:0%d 2024\nSubject: %d\n\nbody\n\n"
                % (i, i) for i in range(3))


def build(tree, out):
    """The two servers of TREE, instrumented, into OUT."""
    objs = {"common": [], "smtpd": [], "pop3d": []}
    flags = ["-std=c11", "-D_XOPEN_SOURCE=700", "-O1", "-g", "-fno-inline",
             "-finstrument-functions", "-iquote", os.path.join(tree, "common"),
             "-iquote", os.path.join(tree, "common/store")]
    for part in objs:
        srcs = glob.glob(os.path.join(tree, part, "*.c"))
        if part == "common":
            srcs += glob.glob(os.path.join(tree, part, "store/*.c"))
        for s in sorted(srcs):
            o = os.path.join(out, os.path.relpath(s, tree).replace("/", "_") + ".o")
            subprocess.run(["cc", *flags, "-c", "-o", o, s], check=True)
            objs[part].append((s, o))
    hook = os.path.join(out, "hook.o")
    subprocess.run(["cc", "-O1", "-c", "-o", hook, os.path.join(HERE, "callpath-hook.c")],
                   check=True)
    for prog in ("smtpd", "pop3d"):
        parts = [o for _, o in objs["common"]] + [o for _, o in objs[prog]]
        subprocess.run(["cc", "-static", "-o", os.path.join(out, prog), *parts, hook,
                        "-lcrypt"], check=True, stderr=subprocess.DEVNULL)


def symbols(binary):
    """{address: (function, source file)} of BINARY's functions."""
    nm = subprocess.run(["nm", "-l", "--defined-only", binary], stdout=subprocess.PIPE,
                        check=True).stdout.decode()
    out = {}
    for line in nm.splitlines():
        f = line.split()
        if len(f) >= 4 and f[1] in "tT":
            src = f[3].rsplit(":", 1)[0]
            out[int(f[0], 16)] = (f[2], src)
    return out


def trace(work):
    """Every entry of every process, in time order."""
    recs = []
    for p in glob.glob(os.path.join(work, "trace.*")):
        with open(p, "rb") as fh:
            data = fh.read()
        for i in range(0, len(data) - 23, 24):
            recs.append(struct.unpack("QQQ", data[i:i + 24]))
    recs.sort()
    return recs


def window(recs, syms, tree, start, end, nth):
    """The files entered from the first START to the NTH END after it."""
    seq, on, seen = [], False, 0
    for _, _, addr in recs:
        fn, src = syms.get(addr, (None, None))
        if fn is None:
            continue
        if not on and fn in start:
            on = True
        if not on:
            continue
        if fn in end:
            seen += 1
            if seen == nth:
                break
        seq.append((fn, os.path.relpath(src, tree)))
    return seq


def measure(seq):
    """Stops, files, and the returns to a file already left."""
    files, left, back, cur = set(), set(), 0, None
    for _, src in seq:
        if src != cur:
            if src in left:
                back += 1
            if cur is not None:
                left.add(cur)
            cur = src
        files.add(src)
    return len(seq), len(files), back


def run(out, prog, data, work):
    spool = os.path.join(work, "spool")
    os.makedirs(spool, exist_ok=True)
    os.chmod(work, 0o777)
    os.chmod(spool, 0o1777)
    ids = ":65534:65534" if os.geteuid() == 0 else ""
    with open(os.path.join(work, "users"), "w") as f:
        f.write("alice:{PLAIN}alicepw%s\n" % ids)
    if prog == "pop3d":
        p = os.path.join(spool, "alice")
        with open(p, "wb") as f:
            f.write(MBOX)
        if os.geteuid() == 0:
            os.chown(p, 65534, 65534)
        os.chmod(p, 0o600)
    env = dict(os.environ, CALLPATH_DIR=work)
    subprocess.run([os.path.join(out, prog), "-h", "mail.example.org", "-m", spool,
                    "-p", os.path.join(work, "users"), "-l", "stderr"], input=data,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                   timeout=60)


def main():
    tree = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
    out = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="callpath.")
    os.makedirs(out, exist_ok=True)
    build(tree, out)
    for name, prog, start, end, nth in PATHS:
        work = tempfile.mkdtemp(prefix="callpath-run.")
        run(out, prog, SMTP_IN if prog == "smtpd" else POP3_IN, work)
        seq = window(trace(work), symbols(os.path.join(out, prog)), tree, start, end, nth)
        stops, files, back = measure(seq)
        print("%-11s %4d stops in %2d files, %3d of them back into a file already left"
              % (name, stops, files, back))
        if os.environ.get("CALLPATH_FILES"):
            per = {}
            for _, src in seq:
                per[src] = per.get(src, 0) + 1
            print("    " + ", ".join("%s %d" % kv for kv in
                                     sorted(per.items(), key=lambda kv: -kv[1])))
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
