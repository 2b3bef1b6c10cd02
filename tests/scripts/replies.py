#!/usr/bin/env python3
"""replies.py: every reply the servers can send has a test that expects it.

The reply tables (smtpd/reply.c, pop3d/reply.c) are the list of reply paths
the documentation calls tested; a reply that no transcript (.out), unit test,
script or stress test mentions is a path nobody checks.  A reply is found
when the text after its code (and enhanced status code) appears in a test
file: host names and numbers (%h, %q, %s) stand for themselves.  Env: TOP."""
import glob
import os
import re
import sys

TOP = os.environ.get("TOP", os.getcwd())


def table(path, prefix):
    with open(os.path.join(TOP, path)) as f:
        src = f.read()
    # [R_NAME] = "text" "more text", over one or more lines.
    out = []
    for m in re.finditer(r'\[(%s\w+)\]\s*=\s*((?:"(?:[^"\\]|\\.)*"\s*)+),' % prefix, src):
        text = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2)))
        out.append((m.group(1), text))
    return out


def pattern(text):
    """What a test must show of a reply: its first line with the code, the
    substitutions (host, queue id, size) as any word."""
    first = text.split("\\n")[0]
    parts = re.split(r"%[hqs]", first)
    return re.compile(r"\S+".join(re.escape(p) for p in parts))


def main():
    corpus = ""
    for g in ("tests/transcripts/*.out", "tests/unit/*.c", "tests/scripts/*",
              "tests/stress/*", "tests/interop/*"):
        for f in glob.glob(os.path.join(TOP, g)):
            if os.path.basename(f) == "replies.py" or os.path.isdir(f):
                continue
            with open(f, errors="replace") as fh:
                corpus += fh.read()
    # String literals split over lines, in C and Python, read as one.
    corpus = re.sub(r'"\s*\n\s*[bB]?"', "", corpus)
    replies = table("smtpd/reply.c", "R_") + table("pop3d/reply.c", "PR_")
    if len(replies) < 40:
        print("not ok: only %d replies found in the tables: the parser is broken"
              % len(replies))
        return 1
    missing = [(n, t) for n, t in replies if not pattern(t).search(corpus)]
    for n, t in missing:
        print("not ok %s %r: no test expects it" % (n, t))
    print("replies: %d in the tables, %d without a test" % (len(replies), len(missing)))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
