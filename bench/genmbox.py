#!/usr/bin/env python3
"""genmbox.py PATH COUNT AVGSIZE: write a reproducible mbox of COUNT messages of
about AVGSIZE bytes each (72-column text with some quoted From lines)."""
import random
import sys

path, count, avg = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(42)
words = [w.encode() for w in ("the quick brown fox jumps over lazy dog mail "
         "server mbox lock fsync pop3 smtp message header body").split()]
lines = []
for _ in range(2000):
    line = b" ".join(rng.choice(words) for _ in range(rng.randint(6, 13)))
    lines.append(line[:76] + b"\n")
with open(path, "wb") as f:
    for i in range(count):
        parts = [b"From sender@example.org Thu Nov 26 06:00:00 2026\n",
                 b"Return-Path: <sender@example.org>\n",
                 b"Received: from client ([127.0.0.1]) by mail.example.org "
                 b"with ESMTP id bench%d for <user@example.org>;\n" % i,
                 b"Subject: message %d\n\n" % i]
        size = sum(map(len, parts))
        target = rng.randint(avg // 2, avg * 3 // 2)
        while size < target:
            line = rng.choice(lines) if rng.random() > 0.002 else b">From quoted\n"
            parts.append(line)
            size += len(line)
        parts.append(b"\n")
        f.write(b"".join(parts))
