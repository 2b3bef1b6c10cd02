#!/usr/bin/env python3
"""mbox-scan.py: the C scanner and reader against an independent model.

Random tricky mailboxes (quoted and unquoted From lines, '>' runs at the
'>' runs longer than the reader's and the scanner's buffers, no
trailing newline, empty messages) are scanned by `mboxtool scan`; every
message count, LIST size and RETR text must equal what a plain Python model
of mboxrd computes, and every LIST size must equal the bytes RETR sends."""
import os
import random
import subprocess
import sys
import tempfile

B = os.environ.get("B", "build")
TOOL = os.path.join(os.environ.get("TOP", "."), B, "tools", "mboxtool")


def fromish(line):
    i = 0
    while i < len(line) and line[i:i + 1] == b">":
        i += 1
    return line[i:i + 5] == b"From "


def model(data):
    if not data:
        return []
    assert data.startswith(b"From ")
    starts = [p for p in range(len(data)) if data.startswith(b"From ", p) and
              (p == 0 or (data[p - 1:p] == b"\n" and data[p - 2:p - 1] == b"\n"))]
    msgs = []
    for k, s in enumerate(starts):
        e = starts[k + 1] if k + 1 < len(starts) else len(data)
        region = data[s:e]
        nl = region.find(b"\n")
        fromlen = nl + 1 if nl >= 0 else len(region)
        body = region[fromlen:]
        if body and region.endswith(b"\n\n"):
            body = body[:-1]
        lines = body.split(b"\n")
        if body.endswith(b"\n"):
            lines.pop()
        if not body:
            lines = []
        out = b"".join((l[1:] if l[:1] == b">" and fromish(l) else l) + b"\r\n" for l in lines)
        msgs.append(out)
    return msgs


PIECES = [b"From a@b Mon Jan  1 00:00:00 2024", b">From x", b">>From y", b"From z",
          b"From", b">From", b"", b"", b"text", b"> quoted", b"From  two",
          b">" * 1000 + b"From q", b">" * 1001 + b"From r", b".", b"..",
          b">" * 70000 + b"From s", b">" * 200000 + b"From t", b">" * 70000,
          b"x" * 70000, b"y" * 1100000, b"\r", b"a\rb", b"\x00nul"]


def random_mbox(rng):
    out = []
    for _ in range(rng.randint(1, 12)):
        if rng.random() < 0.03:
            # A From_ line longer than the scanner's window, with what
            # looks like a quoted From line inside it.
            out.append(b"From " + b"a" * 140000 + b">From x\n")
        else:
            out.append(b"From sender@example.org Thu Nov 26 06:00:00 2026\n")
        for _ in range(rng.randint(0, 8)):
            p = rng.choice(PIECES)
            if len(p) > 60000 and rng.random() < 0.7:
                p = b"z"
            out.append(p + b"\n")
        out.append(rng.choice([b"\n", b"\n", b"", b"\n\n"]))
    data = b"".join(out)
    if rng.random() < 0.2:
        data = data.rstrip(b"\n")
    return data


def main():
    rng = random.Random(int(os.environ.get("SEED", "1")))
    cases = int(os.environ.get("CASES", "150"))
    fails = 0
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "mbox")
        for case in range(cases):
            data = random_mbox(rng)
            with open(path, "wb") as f:
                f.write(data)
            want = model(data)
            scan = subprocess.run([TOOL, "scan", path], capture_output=True,
                                  check=True).stdout.decode().split("\n")[:-1]
            if len(scan) != len(want):
                print(f"case {case}: {len(scan)} messages, model {len(want)}")
                fails += 1
                continue
            uidls = set()
            for i, row in enumerate(scan):
                n, size, uidl = row.split()[:3]
                uidls.add(uidl)
                got = subprocess.run([TOOL, "retr", path, n], capture_output=True,
                                     check=True).stdout
                if got != want[i] or int(size) != len(got):
                    print(f"case {case} msg {n}: size {size} retr {len(got)} "
                          f"model {len(want[i])} same={got == want[i]}")
                    fails += 1
                    with open(f"/tmp/mbox-scan-fail-{case}", "wb") as f:
                        f.write(data)
            if len(uidls) != len(scan):
                print(f"case {case}: duplicate UIDLs")
                fails += 1
    print(f"mbox-scan: {cases} random mailboxes, {fails} mismatches")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
