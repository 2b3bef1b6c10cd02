#!/usr/bin/env python3
"""admin-rules.py: the admin rules that only show when the servers run as
root, as under inetd.  Needs root; skipped (exit 77) otherwise, and CI runs
as root.
  noids      a users-file entry without uid:gid: smtpd 451 4.3.0 at RCPT (no
             root-owned mailbox for a virtual user), pop3d refuses the login
  firstuid   system accounts below the first valid uid take no network mail
             (550 5.1.1), under -u too; -F changes the limit; an alias still
             routes them ("root: nobody"); postmaster is always accepted
  lastuid    nor do those above the last valid uid (-M, default 60000):
             nobody gets 550; a system account of uid 61000 (in a mount
             namespace whose /etc has one) gets 550 and cannot log in, and
             can with -M 61000; a users-file entry of uid 65000 is not held
             to -M: it takes mail and logs in
  mailname   without -d, /etc/mailname's domain is one of ours (in a mount
             namespace of our own, where /etc/mailname is ours)
  nsswitch   with "passwd: files ldap ..." (in such a namespace) system
             accounts are found, an unknown one is refused without a crash,
             and -T of a static build warns that it does not see ldap
  logs       -L with no syslog daemon logs to stderr; under inetd (no -L)
             fd 2 stays silent
Env: SMTPD, POP3D (binaries)."""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from sandbox import etc_with  # noqa: E402

SMTPD = os.environ.get("SMTPD", os.path.join(os.getcwd(), "build/smtpd/smtpd"))
POP3D = os.environ.get("POP3D", os.path.join(os.getcwd(), "build/pop3d/pop3d"))
HOST = "mail.example.org"
failures = []
T = None


def check(cond, what):
    print(("ok " if cond else "not ok ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def fresh():
    sp = os.path.join(T, "spool")
    shutil.rmtree(sp, ignore_errors=True)
    os.mkdir(sp)
    os.chmod(sp, 0o1777)
    return sp


def smtp(rcpts, args, pre=None):
    s = b"EHLO client.example\r\nMAIL FROM:<s@remote.example>\r\n"
    for r in rcpts:
        s += b"RCPT TO:<%s>\r\n" % r.encode()
    s += b"DATA\r\nSubject: hi\r\n\r\nhello\r\n.\r\nQUIT\r\n"
    cmd = (pre or []) + [SMTPD, "-h", HOST, "-m", os.path.join(T, "spool"),
                         "-l", "stderr"] + args
    p = subprocess.run(cmd, input=s, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return p.stdout.decode("latin-1"), p.stderr.decode("latin-1")


def noids():
    sp = fresh()
    users = os.path.join(T, "users")
    with open(users, "w") as f:
        f.write("alice:{PLAIN}alicepw\nbob:{PLAIN}bobpw:2002:2002\n")
    out, log = smtp(["alice@" + HOST, "bob@" + HOST], ["-p", users])
    check("451 4.3.0 Mailbox has no owner, try again later\r\n250 2.1.5" in out,
          "noids: alice (no uid:gid) gets 451 4.3.0, bob 250")
    check("user=\"alice\" has no uid:gid in the users file" in log,
          "noids: and it is logged")
    check(not os.path.exists(os.path.join(sp, "alice")),
          "noids: no root-owned mailbox is made for alice")
    check(os.stat(os.path.join(sp, "bob")).st_uid == 2002, "noids: bob's is his")
    p = subprocess.run([POP3D, "-h", HOST, "-m", sp, "-p", users, "-l", "stderr"],
                       input=b"USER alice\r\nPASS alicepw\r\nQUIT\r\n",
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=30)
    check(b"-ERR [SYS/PERM] maildrop unavailable: no user id for this account"
          in p.stdout, "noids: pop3d refuses alice's login")


def firstuid():
    sp = fresh()
    aliases = os.path.join(T, "aliases")
    with open(aliases, "w") as f:
        f.write("# root's mail goes to someone who reads it\nroot: nobody\n")
    # System accounts (no -p): daemon (uid 1) is refused, nobody (65534)
    # too (above -M), but it is a fine alias target; root is routed by its
    # alias; postmaster always accepted.
    out, log = smtp(["daemon@" + HOST, "nobody@" + HOST, "root@" + HOST,
                     "postmaster"], ["-a", aliases])
    lines = [l for l in out.split("\r\n") if l.startswith(("250 2.1.5", "550 5.1.1"))]
    check(lines == ["550 5.1.1 User unknown", "550 5.1.1 User unknown",
                    "250 2.1.5 Recipient ok", "250 2.1.5 Recipient ok"],
          "firstuid: daemon 550, nobody 550, root (alias) 250, postmaster 250 (%r)"
          % lines)
    check("user=\"nobody\" uid=65534 is above the last valid uid 60000 (-M)"
          in log, "lastuid: the refusal of nobody is logged")
    check("user=\"daemon\" uid=1 is below the first valid uid 1000" in log,
          "firstuid: the refusal is logged")
    box = os.path.join(sp, "nobody")
    check(os.path.exists(box) and open(box, "rb").read().count(b"\nSubject: hi") == 1,
          "firstuid: root's mail is in nobody's mailbox, once")
    out, log = smtp(["daemon@" + HOST], ["-F", "0"])
    check("250 2.1.5" in out, "firstuid: -F 0 lets daemon take mail")
    # Under -u every mailbox is the -u user's, but an account's uid still
    # says it is a system account: the same refusals.
    sp = fresh()
    out, log = smtp(["daemon@" + HOST, "nobody@" + HOST], ["-u", "mail"])
    lines = [l for l in out.split("\r\n") if l.startswith(("250 2.1.5", "550 5.1.1"))]
    check(lines == ["550 5.1.1 User unknown"] * 2 and
          not os.path.exists(os.path.join(sp, "daemon")),
          "firstuid: with -u too, daemon and nobody get 550 (%r)" % lines)


HI_PW = "hipw"
HI_HASH = ("$6$inetmailsalt$H.nbgTetANMTwdfX9gz9UrxtXYIsiNhENlHFB5y1W31QxHZLIL19"
           "rixRMKBBGTfYhPU7tl9MnnZPjl4ibQDDH1")


def pop3(args, user, pw, pre=None):
    p = subprocess.run((pre or []) + [POP3D, "-h", HOST, "-m", os.path.join(T, "spool"),
                                      "-l", "stderr"] + args,
                       input=b"USER %s\r\nPASS %s\r\nSTAT\r\nQUIT\r\n"
                       % (user.encode(), pw.encode()),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return p.stdout.decode("latin-1"), p.stderr.decode("latin-1")


def lastuid():
    """-M: system accounts above it take no mail and cannot log in; a
    users-file entry names its uid and is not held to it."""
    sp = fresh()
    pre = etc_with(T, "etc-hi", {
        "passwd": "hiuser:x:61000:61000::/nonexistent:/usr/sbin/nologin\n",
        "shadow": "hiuser:%s:19000:0:99999:7:::\n" % HI_HASH,
        "group": "hiuser:x:61000:\n"})
    out, log = smtp(["hiuser@" + HOST], [], pre=pre)
    check("550 5.1.1 User unknown" in out and
          "user=\"hiuser\" uid=61000 is above the last valid uid 60000 (-M)" in log,
          "lastuid: mail to a system account of uid 61000 is refused and logged")
    out, log = pop3([], "hiuser", HI_PW, pre=pre)
    check("-ERR [AUTH] authentication failed" in out and "+OK 0 0" not in out,
          "lastuid: the same account cannot log in (%r)" % out[-120:])
    out, log = smtp(["hiuser@" + HOST], ["-M", "61000"], pre=pre)
    check("250 2.1.5 Recipient ok" in out and
          os.stat(os.path.join(sp, "hiuser")).st_uid == 61000,
          "lastuid: with -M 61000 it takes mail, into a mailbox of its own")
    out, log = pop3(["-M", "61000"], "hiuser", HI_PW, pre=pre)
    check("+OK 1 " in out, "lastuid: and logs in with -M 61000 (%r)" % out[-120:])
    # A users-file entry of uid 65000, above -M: not held to it.
    users = os.path.join(T, "users")
    with open(users, "w") as f:
        f.write("hiv:{PLAIN}hivpw:65000:65000\n")
    os.chmod(users, 0o600)
    out, log = smtp(["hiv@" + HOST], ["-p", users])
    check("250 2.1.5 Recipient ok" in out and
          os.stat(os.path.join(sp, "hiv")).st_uid == 65000,
          "lastuid: a users-file entry of uid 65000 takes mail (%r)" % out[-200:])
    out, log = pop3(["-p", users], "hiv", "hivpw")
    check("+OK 1 " in out, "lastuid: and logs in (%r)" % out[-120:])


def mailname():
    sp = fresh()
    etc = os.path.join(T, "etc")
    shutil.copytree("/etc", etc, symlinks=True, ignore_dangling_symlinks=True,
                    ignore=shutil.ignore_patterns("*.lock", "mtab"))
    with open(os.path.join(etc, "mailname"), "w") as f:
        f.write("example.net\n")
    users = os.path.join(T, "users")
    with open(users, "w") as f:
        f.write("alice:{PLAIN}alicepw:2001:2001\n")
    pre = ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc && exec "$@"', etc]
    out, log = smtp(["alice@example.net", "alice@" + HOST, "alice@example.com"],
                    ["-p", users], pre=pre)
    lines = [l for l in out.split("\r\n") if l.startswith(("250 2.1.5", "550 5.7.1"))]
    check(lines == ["250 2.1.5 Recipient ok", "250 2.1.5 Recipient ok",
                    "550 5.7.1 Relaying denied"],
          "mailname: /etc/mailname's domain and the host name are ours (%r)" % lines)
    out, log = smtp(["alice@example.net"], ["-p", users, "-d", "example.org"],
                    pre=pre)
    check("550 5.7.1" in out, "mailname: not with -d")


def static_binary(path):
    """True when PATH has no program interpreter (linked statically)."""
    with open(path, "rb") as f:
        return b"/ld-linux" not in f.read(4096)


def nsswitch():
    """A static build reads /etc/passwd itself: system accounts are found
    (an unknown name too, which glibc would look up in nsswitch's next
    source), and -T warns when nsswitch.conf names a source it cannot see."""
    sp = fresh()
    etc = os.path.join(T, "etc-nss")
    shutil.copytree("/etc", etc, symlinks=True, ignore_dangling_symlinks=True,
                    ignore=shutil.ignore_patterns("*.lock", "mtab"))
    with open(os.path.join(etc, "nsswitch.conf"), "w") as f:
        f.write("passwd: files ldap [NOTFOUND=return] systemd\n"
                "shadow: files\ngroup: files\n")
    pre = ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc && exec "$@"', etc]
    # nobody (65534) is a system account above -M: -M 65534 lets it in.
    out, log = smtp(["nobody@" + HOST, "no-such-account@" + HOST], ["-M", "65534"],
                    pre=pre)
    lines = [l for l in out.split("\r\n") if l.startswith(("250 2.1.5", "550 5.1.1"))]
    check(lines == ["250 2.1.5 Recipient ok", "550 5.1.1 User unknown"],
          "nsswitch: nobody found, an unknown name refused, no crash (%r)" % lines)
    r = subprocess.run(pre + [SMTPD, "-T", "-h", HOST, "-m", sp],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    warned = b'passwd names "ldap"' in r.stderr
    if static_binary(SMTPD):
        check(warned, "nsswitch: -T of a static build warns about ldap")
    else:
        check(not warned, "nsswitch: -T of a dynamic build does not warn")


def logs():
    sp = fresh()
    users = os.path.join(T, "users")
    with open(users, "w") as f:
        f.write("alice:{PLAIN}alicepw:2001:2001\n")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    # Whether or not this machine has a syslog daemon, in our own mount
    # namespace /dev/log is no socket.
    err = open(os.path.join(T, "listen.err"), "wb")
    srv = subprocess.Popen(["unshare", "-m", "sh", "-c",
                            "[ -e /dev/log ] && mount --bind /dev/null /dev/log;"
                            ' exec "$@"', "sh", SMTPD, "-L", "127.0.0.1:%d" % port,
                            "-h", HOST, "-m", sp, "-p", users],
                           stderr=err)
    try:
        got = b""
        for _ in range(100):
            try:
                c = socket.create_connection(("127.0.0.1", port), timeout=5)
                f = c.makefile("rb")
                got = f.readline()
                c.sendall(b"QUIT\r\n")
                f.readline()
                f.close()
                c.close()
                break
            except OSError:
                time.sleep(0.05)
        check(got.startswith(b"220 "), "logs: -L serves")
        time.sleep(0.5)
    finally:
        srv.terminate()
        srv.wait(timeout=30)
        err.close()
    text = open(os.path.join(T, "listen.err"), "rb").read().decode("latin-1")
    check("syslog unreachable (/dev/log), logging to stderr" in text and
          " connect" in text and "disconnect end=quit" in text,
          "logs: -L without syslog logs to stderr (%r)" % text[-200:])
    # Under inetd fd 2 may be the client: nothing there, syslog or not.
    p = subprocess.run([SMTPD, "-h", HOST, "-m", sp, "-p", users],
                       input=b"EHLO x\r\nQUIT\r\n", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=30)
    check(p.stderr == b"" and p.stdout.startswith(b"220 "),
          "logs: under inetd fd 2 stays silent")


def main():
    global T
    if os.geteuid() != 0:
        print("skip: admin-rules needs root")
        return 77
    T = tempfile.mkdtemp(prefix="admin-rules.")
    os.chmod(T, 0o755)
    try:
        for t in (noids, firstuid, lastuid, mailname, nsswitch, logs):
            t()
    finally:
        shutil.rmtree(T, ignore_errors=True)
    print("admin-rules: %d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
