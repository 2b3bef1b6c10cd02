#!/usr/bin/env python3
"""cfgcheck-agrees.py: smtpd -T and smtpd side by side on one configuration:
what -T answers for each recipient (smtpd -T ADDRESS...) is what RCPT
answers, code and enhanced code, and the mail goes to the very mailboxes
-T named; every alias warning of -T is a line the server logs, once, when
mail goes through that alias; -T exits 0 where the server serves.

Two configurations, each in a mount namespace whose /etc is ours:
  system   system accounts (no -p): a user (alicesys, uid 1500), one above
           the last valid uid (hiuser, 61000), nobody, daemon; /etc/mailname
           naming example.net while -d lists example.org only; aliases to a
           user, to no one, partly to no one, postmaster to root, a
           |command, a /file, a remote address, and all of those at once
  file     a users file (-p) with an entry of uid 65000 (above -M, which
           binds system accounts only), no user postmaster and no alias for
           it (the mailbox postmaster)
Needs root; skipped (exit 77) otherwise, and CI runs as root.
Env: SMTPD (binary)."""
import os
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from attack import check, failures, free_port  # noqa: E402
from sandbox import etc_with  # noqa: E402

SMTPD = os.environ.get("SMTPD", os.path.join(os.getcwd(), "build/smtpd/smtpd"))
HOST = "mail.example.org"
T = None


def path(*p):
    return os.path.join(T, *p)


def t_answers(args, pre, rcpts):
    """smtpd -T's status, report, and answer for each of RCPTS:
    {rcpt: (code and enhanced code, [mailbox paths])}."""
    p = subprocess.run(pre + [SMTPD, "-T", "-h", HOST, "-m", path("spool")] + args
                       + rcpts, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
    out = p.stdout.decode("latin-1")
    ans = {}
    for line in out.splitlines():
        m = re.match(r"^(\S+): (\d{3} \d\.\d\.\d)[^,]*(?:, delivered to (.*))?$", line)
        if m:
            ans[m.group(1)] = (m.group(2), sorted((m.group(3) or "").split(", "))
                               if m.group(3) else [])
    return p.returncode, p.stderr.decode("latin-1"), ans


class Listener:
    """smtpd -L in the same namespace, its log in a file."""

    def __init__(self, args, pre):
        self.port = free_port()
        self.log = open(path("server.log"), "wb")
        self.p = subprocess.Popen(pre + [SMTPD, "-L", "127.0.0.1:%d" % self.port,
                                         "-h", HOST, "-m", path("spool"),
                                         "-l", "stderr"] + args,
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=self.log)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=5).close()
                break
            except OSError:
                time.sleep(0.05)

    def stop(self):
        self.p.terminate()
        self.p.wait(timeout=30)
        self.log.close()
        with open(path("server.log"), encoding="latin-1") as f:
            return f.read()


def rcpt_all(port, rcpts, repeat=()):
    """A connection a recipient (a transaction each, a second one for those
    in REPEAT), so no error limit ends a session early: RCPT's code and
    enhanced code for each; an accepted one gets a message tagged with it."""
    got = {}
    for r in rcpts:
        s = smtplib.SMTP("127.0.0.1", port, timeout=30)
        s.ehlo("client.example")
        for _ in range(2 if r in repeat else 1):
            s.mail("s@remote.example")
            code, msg = s.rcpt(r)
            got.setdefault(r, "%d %s" % (code, msg.decode().split(" ")[0]))
            if code == 250:
                s.data(("Subject: agree %s\r\n\r\nfor %s\r\n" % (r, r)).encode())
            else:
                s.rset()
        s.quit()
    return got


def delivered(rcpt):
    """The mailboxes that hold the message sent to RCPT."""
    boxes = []
    for name in sorted(os.listdir(path("spool"))):
        p = path("spool", name)
        if name.startswith(".") or name.endswith(".lock") or not os.path.isfile(p):
            continue
        with open(p, "rb") as f:
            if ("Subject: agree %s\n" % rcpt).encode() in f.read():
                boxes.append(p)
    return boxes


def agree(what, args, pre, rcpts, want, repeat=()):
    """-T and the server on ARGS; WANT: the codes we expect, so that the two
    cannot agree on a wrong answer."""
    shutil.rmtree(path("spool"), ignore_errors=True)
    os.mkdir(path("spool"))
    os.chmod(path("spool"), 0o1777)
    rc, report, ans = t_answers(args, pre, rcpts)
    check(rc == 0, "%s: -T exits 0: the server serves (%d)" % (what, rc))
    srv = Listener(args, pre)
    try:
        got = rcpt_all(srv.port, rcpts, repeat)
    finally:
        log = srv.stop()
    for r in rcpts:
        t = ans.get(r)
        check(t is not None and t[0] == got[r] and got[r] == want[r],
              "%s: %s: -T says %r, RCPT says %r, as it should (%r)"
              % (what, r, t and t[0], got[r], want[r]))
        if t is not None and got[r].startswith("250"):
            d = delivered(r)
            check(d == t[1], "%s: %s went where -T said: %r (-T: %r)"
                  % (what, r, d, t[1]))
    return report, log


def alias_lines(report, log):
    """Every alias warning of -T is a line of the server's log, once."""
    pat = re.compile(r"^.*/aliases:(\d+): warning: alias '([^']+)'(?:: target "
                     r"['\"](.*?)['\"] is (neither|a |an ))?(.*)$")
    n = 0
    for line in report.splitlines():
        m = pat.match(line)
        if not m or "system account" in line or "again" in line:
            continue
        lineno, alias, target, kind, rest = m.groups()
        if target is not None:
            want = 'alias="%s" line=%s target="%s" skipped: ' % (alias, lineno, target)
        elif "delivers to no one" in rest and alias != "postmaster":
            want = 'alias="%s" line=%s delivers to no one: refused' % (alias, lineno)
        elif alias == "postmaster":
            want = "postmaster has no alias or user that takes its mail"
        else:
            continue
        n += 1
        check(log.count(want) == 1,
              "log: -T's %r is in the server's log once (%d)"
              % (line.split("warning: ")[1][:70], log.count(want)))
    return n


def system():
    pre = etc_with(T, "etc-sys", {
        "passwd": "alicesys:x:1500:1500::/nonexistent:/usr/sbin/nologin\n"
                  "hiuser:x:61000:61000::/nonexistent:/usr/sbin/nologin\n",
        "group": "alicesys:x:1500:\nhiuser:x:61000:\n"},
        {"mailname": "example.net\n"})
    with open(path("aliases"), "w") as f:
        f.write("toalice: alicesys\n"
                "tonobody: ghost\n"
                "dead: ghost, alicesys\n"
                "postmaster: root\n"
                "pipe: \"|/bin/true\"\n"
                "file: /tmp/cfgcheck-agrees-file\n"
                "remote: someone@remote.example\n"
                "mixed: alicesys, \"|/bin/true\", /tmp/x, someone@remote.example\n")
    args = ["-d", "example.org", "-a", path("aliases")]
    d = "@example.org"
    want = {
        "alicesys" + d: "250 2.1.5", "toalice" + d: "250 2.1.5",
        "tonobody" + d: "550 5.1.1", "dead" + d: "250 2.1.5",
        "postmaster": "250 2.1.5", "root" + d: "550 5.1.1",
        "pipe" + d: "550 5.1.1", "file" + d: "550 5.1.1",
        "remote" + d: "550 5.1.1", "mixed" + d: "250 2.1.5",
        "hiuser" + d: "550 5.1.1", "nobody" + d: "550 5.1.1",
        "daemon" + d: "550 5.1.1", "ghost" + d: "550 5.1.1",
        "alicesys@example.net": "550 5.7.1", "alicesys@" + HOST: "550 5.7.1",
        "alicesys@other.example": "550 5.7.1",
    }
    report, log = agree("system", args, pre, list(want), want,
                        repeat=["dead" + d, "pipe" + d, "tonobody" + d])
    check("/etc/mailname: warning: names example.net, which -d does not list" in report,
          "system: -T says the mailname domain is refused (%s)" % report[-300:])
    check("alias 'postmaster': target 'root' is a system account (uid 0" in report and
          os.path.exists(path("spool", "root")),
          "system: -T says postmaster's mail goes to root's mailbox, and it does")
    n = alias_lines(report, log)
    check(n >= 8, "system: %d alias warnings of -T checked against the log" % n)
    check(not os.path.exists("/tmp/cfgcheck-agrees-file"),
          "system: a /file target is never written")


def users_file():
    pre = etc_with(T, "etc-file", {}, {"mailname": None})
    with open(path("users"), "w") as f:
        f.write("alice:{PLAIN}a:61001:61001\nhi:{PLAIN}h:65000:65000\n")
    os.chmod(path("users"), 0o600)
    with open(path("aliases"), "w") as f:
        f.write("tohi: hi\ntoboth: alice, hi, ghost\n")
    args = ["-p", path("users"), "-a", path("aliases")]
    d = "@" + HOST
    want = {"alice" + d: "250 2.1.5", "hi" + d: "250 2.1.5",
            "tohi" + d: "250 2.1.5", "toboth" + d: "250 2.1.5",
            "nobody" + d: "550 5.1.1", "postmaster" + d: "250 2.1.5",
            "Postmaster": "250 2.1.5"}
    report, log = agree("file", args, pre, list(want), want)
    check("no alias or user postmaster: mail to postmaster is accepted" in report
          and os.path.exists(path("spool", "postmaster")),
          "file: -T says postmaster's mail goes to the mailbox postmaster, and it does")
    check(os.stat(path("spool", "hi")).st_uid == 65000,
          "file: the entry of uid 65000 owns its mailbox")
    # Logged once a connection: postmaster came in two.
    check(log.count("postmaster has no alias or user that takes its mail: "
                    "delivered to mailbox=postmaster") == 2,
          "file: the server logs where postmaster's mail went, once a connection")
    alias_lines(report, log)


def main():
    global T
    if os.geteuid() != 0:
        print("skip: cfgcheck-agrees.py needs root")
        return 77
    T = tempfile.mkdtemp(prefix="cfgcheck-agrees.")
    os.chmod(T, 0o755)
    try:
        system()
        users_file()
    finally:
        shutil.rmtree(T, ignore_errors=True)
    print("cfgcheck-agrees: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
