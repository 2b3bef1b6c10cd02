#!/usr/bin/env python3
"""cfgcheck.py: the -T warnings that need root or a system of our own (a
private /etc, a network namespace); the others are transcripts
(tests/transcripts/*-T-*).  Each warning is checked against what the
server then does.
  other      a users-file uid that a system account of another name has:
             one line per uid, with the count of the other entries; the
             session account (-U) said as such
  ownaddr    -P holding an address of this host (not loopback: in a network
             namespace whose lo also holds 198.51.100.9): a warning, and
             none for a network that holds no such address
  stale      store files of a former owner of the name (.alice.idx of uid
             4242 while alice is 61001) and leftovers of no current user;
             one of the user's own and one of root's are quiet; and pop3d
             then removes the former owner's file at alice's login, as -T
             said
  uidrange   -F above -M with system accounts: no one takes mail
  mailname   /etc/mailname naming a domain -d does not list: a warning, and
             RCPT to it refused (550 5.7.1), also with -r (read before the
             chroot); without -d it is ours; a mailname with no domain in
             it: a warning, not a log line every connection
  postroot   postmaster: root with system accounts: -T says where its mail
             goes (root's mailbox, which no POP3 login fetches), and smtpd
             delivers it there
  ureadable  -u whose user cannot read the users or the aliases file: -T
             fails (78) as the server fails to start (66)
  entries    users-file entries the servers refuse (no uid:gid as root, uid
             0, below -F; with pop3d -u other ids) and an alias that leads
             to one: warnings and status 0, as the servers serve the others
             (451, 550, a refused login) -- they were errors (78) before
  spoolmode  a spool every user may write, without the sticky bit: a
             warning, status 0, and the servers serve
Needs root; skipped (exit 77) otherwise, and CI runs as root.
Env: SMTPD, POP3D (binaries)."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from attack import check, failures  # noqa: E402
from sandbox import etc_with, netns_with  # noqa: E402

SMTPD = os.environ.get("SMTPD", os.path.join(os.getcwd(), "build/smtpd/smtpd"))
POP3D = os.environ.get("POP3D", os.path.join(os.getcwd(), "build/pop3d/pop3d"))
HOST = "mail.example.org"
ALICE = 61001
T = None


def path(*p):
    return os.path.join(T, *p)


def fresh_spool():
    shutil.rmtree(path("spool"), ignore_errors=True)
    os.mkdir(path("spool"))
    os.chmod(path("spool"), 0o1777)


def users(text):
    with open(path("users"), "w") as f:
        f.write(text)
    os.chmod(path("users"), 0o600)


def test_t(prog, args, pre=None):
    """-T's status, its report (stderr) and its answers (stdout)."""
    p = subprocess.run((pre or []) + [prog, "-T", "-h", HOST, "-m", path("spool")]
                       + args, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60)
    return p.returncode, p.stderr.decode("latin-1"), p.stdout.decode("latin-1")


def smtp(rcpts, args, pre=None):
    s = b"EHLO client.example\r\nMAIL FROM:<s@remote.example>\r\n"
    for r in rcpts:
        s += b"RCPT TO:<%s>\r\n" % r.encode()
    s += b"DATA\r\nSubject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n"
    p = subprocess.run((pre or []) + [SMTPD, "-h", HOST, "-m", path("spool"),
                                      "-l", "stderr"] + args,
                       input=s, capture_output=True, timeout=60)
    return p.stdout.decode("latin-1"), p.stderr.decode("latin-1"), p.returncode


def other():
    fresh_spool()
    pre = etc_with(T, "etc-other", {
        "passwd": "carol:x:61002:61002::/nonexistent:/usr/sbin/nologin\n",
        "group": "carol:x:61002:\n"})
    users("alice:{PLAIN}a:61002:61002\nbob:{PLAIN}b:61002:61002\n"
          "carol:{PLAIN}c:61002:61002\ndave:{PLAIN}d:65534:65534\n"
          "erin:{PLAIN}e:%d:%d\n" % (ALICE, ALICE))
    rc, err, _ = test_t(SMTPD, ["-p", path("users")], pre)
    check(rc == 0 and ("%s:1: warning: user 'alice' (and 2 more entries) has uid "
                       "61002, which is the system account 'carol': " % path("users"))
          in err and "run with -u carol" in err,
          "other: uid 61002 of alice, bob and carol is the account carol: one "
          "line (%d %s)" % (rc, err[-400:]))
    check(("%s:4: warning: user 'dave' has uid 65534, which is the system account "
           "'nobody', the session account (-U)" % path("users")) in err,
          "other: uid 65534 is the session account, said as such")
    check("'erin'" not in err, "other: a uid no account has is quiet")


def ownaddr():
    fresh_spool()
    users("alice:{PLAIN}a:%d:%d\n" % (ALICE, ALICE))
    pre = netns_with("198.51.100.9/24")
    rc, err, _ = test_t(POP3D, ["-p", path("users"), "-P", "198.51.100.0/24",
                                "-P", "203.0.113.0/24"], pre)
    check(rc == 0 and "pop3d: warning: -P 198.51.100.0/24 holds 198.51.100.9 (lo), "
          "an address of this host: any local user can connect from it" in err,
          "ownaddr: -P holding an address of this host warns (%d %s)"
          % (rc, err[-300:]))
    check("203.0.113.0/24" not in err, "ownaddr: a network of other hosts is quiet")


def own(name, uid, size=0):
    p = path("spool", name)
    with open(p, "wb") as f:
        f.write(b"x" * size)
    os.chown(p, uid, uid)
    return p


def stale():
    fresh_spool()
    users("alice:{PLAIN}alicepw:%d:%d\n" % (ALICE, ALICE))
    with open(path("spool", "alice"), "wb") as f:
        f.write(b"From a@example.com Mon Jan  1 10:00:00 2024\nSubject: one\n\nx\n\n")
    os.chown(path("spool", "alice"), ALICE, ALICE)
    os.chmod(path("spool", "alice"), 0o600)
    own(".alice.pop", 4242)          # a former alice's marker
    own(".alice.idx", ALICE)         # hers
    own(".lk.00112233aabbccdd", 4243)  # no one's
    own(".new.0011223344556677", ALICE)
    own(".txn.8899aabbccddeeff", 0)
    rc, err, _ = test_t(POP3D, ["-p", path("users")])
    sp = path("spool")
    check(rc == 0 and ("%s/.alice.pop: warning: the POP3 session marker of 'alice' "
                       "belongs to uid 4242, but 'alice' is uid %d (a former owner "
                       "of the name?)" % (sp, ALICE)) in err and
          "removes it at alice's next POP3 login" in err,
          "stale: a former owner's marker (%d %s)" % (rc, err[-500:]))
    check(("%s/.lk.00112233aabbccdd: warning: belongs to uid 4243, which is no "
           "current user's" % sp) in err, "stale: a leftover of no user")
    check(".alice.idx" not in err and ".new." not in err and ".txn." not in err,
          "stale: alice's own and root's files are quiet")
    # What -T said: alice's login clears the marker and works.
    p = subprocess.run([POP3D, "-h", HOST, "-m", sp, "-p", path("users"),
                        "-l", "stderr"],
                       input=b"USER alice\r\nPASS alicepw\r\nSTAT\r\nQUIT\r\n",
                       capture_output=True, timeout=30)
    st = os.stat(path("spool", ".alice.pop"))
    check(b"+OK 1 " in p.stdout and st.st_uid != 4242,
          "stale: alice's login removes the former owner's marker, as -T said "
          "(%r, uid %d)" % (p.stdout[-80:], st.st_uid))
    rc, err, _ = test_t(POP3D, ["-p", path("users")])
    check(".alice.pop" not in err, "stale: and -T is quiet about it after")


def uidrange():
    fresh_spool()
    rc, err, _ = test_t(SMTPD, ["-F", "61000", "-M", "60000"])
    check(rc == 0 and "smtpd: warning: the first valid uid 61000 (-F) is above the "
          "last valid uid 60000 (-M): no system account takes mail" in err,
          "uidrange: -F above -M warns (%d %s)" % (rc, err[-200:]))
    rc, err, _ = test_t(SMTPD, ["-F", "61000", "-M", "60000", "-p", path("users")])
    check("(-M)" not in err, "uidrange: not with -p, which -M does not bound")


def mailname():
    fresh_spool()
    users("alice:{PLAIN}a:%d:%d\n" % (ALICE, ALICE))
    pre = etc_with(T, "etc-mailname", {}, {"mailname": "example.net\n"})
    args = ["-p", path("users"), "-d", "example.org"]
    rc, err, out = test_t(SMTPD, args + ["alice@example.net", "alice@example.org"],
                          pre)
    check(rc == 0 and "/etc/mailname: warning: names example.net, which -d does "
          "not list: -d replaces the defaults (the host name and this file), so "
          "mail to @example.net is refused (550 5.7.1)" in err,
          "mailname: -T warns when -d leaves out the mailname (%d %s)"
          % (rc, err[-300:]))
    check("alice@example.net: 550 5.7.1 Relaying denied" in out and
          "alice@example.org: 250 2.1.5" in out,
          "mailname: and answers so (%r)" % out)
    o, _, _ = smtp(["alice@example.net", "alice@example.org"], args, pre)
    check("550 5.7.1 Relaying denied\r\n250 2.1.5" in o,
          "mailname: the server refuses it as -T said (%r)" % o[-200:])
    rc, err, out = test_t(SMTPD, ["-p", path("users"), "alice@example.net"], pre)
    check("/etc/mailname" not in err and "alice@example.net: 250 2.1.5" in out,
          "mailname: without -d it is one of ours, no warning")
    # With -r, the server reads /etc/mailname before the chroot: so does -T.
    jail = path("jail")
    shutil.rmtree(jail, ignore_errors=True)
    os.makedirs(os.path.join(jail, "spool"))
    os.chmod(os.path.join(jail, "spool"), 0o1777)
    rc, err, out = test_t(SMTPD, ["-r", jail, "-m", "/spool", "-d", "example.org",
                                  "x@example.net"], pre)
    check("/etc/mailname: warning: names example.net, which -d does not list" in err
          and "x@example.net: 550 5.7.1" in out,
          "mailname: -T reads it before the chroot, as the server does (%s)"
          % err[-300:])
    pre = etc_with(T, "etc-mailname2", {}, {"mailname": "not a domain!\n"})
    rc, err, _ = test_t(SMTPD, ["-p", path("users")], pre)
    check("/etc/mailname: warning: holds no domain" in err,
          "mailname: one with no domain warns (%s)" % err[-200:])
    o, log, _ = smtp(["alice@" + HOST], ["-p", path("users")], pre)
    check("250 2.1.5" in o and "mailname" not in log,
          "mailname: and is no log line of every connection (%r)" % log[-200:])


def postroot():
    fresh_spool()
    with open(path("aliases"), "w") as f:
        f.write("postmaster: root\n")
    rc, err, out = test_t(SMTPD, ["-a", path("aliases"), "postmaster"])
    check(rc == 0 and ("%s:1: warning: alias 'postmaster': target 'root' is a system "
                       "account (uid 0, below the first valid uid 1000 (-F)): its "
                       "mail is delivered to %s/root, but no POP3 login can fetch "
                       "it" % (path("aliases"), path("spool"))) in err and
          ("postmaster: 250 2.1.5 Recipient ok, delivered to %s/root"
           % path("spool")) in out,
          "postroot: -T says where postmaster's mail goes (%d %s %s)"
          % (rc, err[-300:], out))
    o, _, _ = smtp(["postmaster"], ["-a", path("aliases")])
    box = path("spool", "root")
    check("250 2.0.0 Ok" in o and os.path.exists(box) and
          os.stat(box).st_uid == 0 and not os.path.exists(path("spool", "postmaster")),
          "postroot: and smtpd delivers it there (%r)" % o[-100:])


def ureadable():
    fresh_spool()
    os.chown(path("spool"), 8, 8)      # mail, the -u user
    users("alice:{PLAIN}a\n")            # root's, 0600
    rc, err, _ = test_t(SMTPD, ["-u", "mail", "-p", path("users")])
    check(rc == 78 and ("%s: the users file (-p) cannot be read by the -u user: "
                        "Permission denied" % path("users")) in err,
          "ureadable: -T: the -u user cannot read the users file (%d %s)"
          % (rc, err[-200:]))
    o, _, st = smtp(["alice@" + HOST], ["-u", "mail", "-p", path("users")])
    check(st == 66 and o.startswith("421 "),
          "ureadable: and the server does not start (%d %r)" % (st, o))
    os.chown(path("users"), 0, 8)
    os.chmod(path("users"), 0o640)
    rc, err, _ = test_t(SMTPD, ["-u", "mail", "-p", path("users")])
    check(rc == 0, "ureadable: 0640 with mail's group is fine (%d %s)" % (rc, err))
    # The aliases file too.
    with open(path("aliases"), "w") as f:
        f.write("postmaster: alice\n")
    os.chmod(path("aliases"), 0o600)
    args = ["-u", "mail", "-p", path("users"), "-a", path("aliases")]
    rc, err, _ = test_t(SMTPD, args)
    check(rc == 78 and ("%s: the aliases file (-a) cannot be read by the -u user: "
                        "Permission denied" % path("aliases")) in err,
          "ureadable: -T: nor the aliases file (%d %s)" % (rc, err[-200:]))
    o, _, st = smtp(["alice@" + HOST], args)
    check(st == 66 and o.startswith("421 "),
          "ureadable: and the server does not start (%d %r)" % (st, o))


def entries():
    fresh_spool()
    users("noids:{PLAIN}n\nrooty:{PLAIN}r:0:0\nlow:{PLAIN}l:500:500\n"
          "alice:{PLAIN}alicepw:%d:%d\n" % (ALICE, ALICE))
    with open(path("aliases"), "w") as f:
        f.write("team: noids, alice\n")
    rc, err, out = test_t(SMTPD, ["-p", path("users"), "-a", path("aliases"),
                                  "noids", "rooty", "low", "alice", "team"])
    u = path("users")
    check(rc == 0 and ("%s:1: warning: user 'noids' has no uid:gid" % u) in err and
          ("%s:2: warning: user 'rooty' has uid 0 and gid 0" % u) in err and
          ("%s:3: warning: user 'low' has uid 500, below the first valid uid 1000"
           % u) in err and
          ("%s:1: warning: alias 'team' leads to a users-file entry without "
           "uid:gid: mail to it gets 451 4.3.0" % path("aliases")) in err,
          "entries: refused entries are warnings, status 0 (%d %s)" % (rc, err[-600:]))
    check("noids: 451 4.3.0" in out and "rooty: 550 5.1.1" in out and
          "low: 550 5.1.1" in out and "alice: 250 2.1.5" in out and
          "team: 451 4.3.0" in out, "entries: -T's answers (%r)" % out)
    o, _, _ = smtp(["noids@" + HOST, "rooty@" + HOST, "low@" + HOST,
                    "alice@" + HOST, "team@" + HOST], ["-p", u, "-a", path("aliases")])
    codes = [l[:9] for l in o.split("\r\n") if l[:3] in ("250", "451", "550")
             and l[4:9] in ("2.1.5", "4.3.0", "5.1.1")]
    check(codes == ["451 4.3.0", "550 5.1.1", "550 5.1.1", "250 2.1.5", "451 4.3.0"],
          "entries: the server answers as -T said, and serves alice (%r)" % codes)
    users("alice:{PLAIN}alicepw:%d:%d\n" % (ALICE, ALICE))
    os.chown(path("users"), 0, 8)
    os.chmod(path("users"), 0o640)
    rc, err, _ = test_t(POP3D, ["-u", "mail", "-p", path("users")])
    check(rc == 0 and "warning: user 'alice' has uid:gid 61001:61001, but pop3d "
          "runs as -u mail" in err,
          "entries: pop3d -u with other ids is a warning (%d %s)" % (rc, err[-300:]))


def spoolmode():
    fresh_spool()
    os.chmod(path("spool"), 0o777)
    users("alice:{PLAIN}alicepw:%d:%d\n" % (ALICE, ALICE))
    rc, err, _ = test_t(SMTPD, ["-p", path("users")])
    check(rc == 0 and ("%s: warning: mode 0777 lets every user remove or replace "
                       "others' mailboxes" % path("spool")) in err,
          "spoolmode: 0777 is a warning, status 0 (%d %s)" % (rc, err[-300:]))
    o, _, _ = smtp(["alice@" + HOST], ["-p", path("users")])
    check("250 2.0.0 Ok" in o, "spoolmode: and the server delivers there")


def main():
    global T
    if os.geteuid() != 0:
        print("skip: cfgcheck.py needs root")
        return 77
    T = tempfile.mkdtemp(prefix="cfgcheck.")
    os.chmod(T, 0o755)
    try:
        for t in (other, ownaddr, stale, uidrange, mailname, postroot, ureadable,
                  entries, spoolmode):
            t()
    finally:
        shutil.rmtree(T, ignore_errors=True)
    print("cfgcheck: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
