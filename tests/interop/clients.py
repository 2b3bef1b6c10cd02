#!/usr/bin/env python3
"""clients.py: drive one running smtpd and pop3d with real mail clients.

Python smtplib (three recipients) and poplib (STAT, LIST, UIDL, RETR, DELE,
QUIT), curl smtp:// and pop3://, swaks, fetchmail and mpop (downloading and
deleting into local files).  Every message fetched back must be the one sent,
byte for byte, after the trace fields smtpd put on top (Return-Path,
Received).  Prints one "ok NAME" or "FAIL NAME: why" line per check and exits
1 if any failed.  Every network wait has a timeout.

  clients.py --smtp HOST:PORT --pop HOST:PORT --users alice:pw,bob:pw,carol:pw
             --domain localhost --work DIR [--tls] [--only smtplib,curl,...]

--tls CAFILE: the ports speak TLS from the first byte (a TLS wrapper in
front, the servers with -S): every client is run over TLS, checking the
server's certificate against CAFILE (the test's throwaway certificate):
smtplib.SMTP_SSL, poplib.POP3_SSL, curl smtps:// and pop3s://, swaks
--tls-on-connect, fetchmail ssl, mpop --tls, openssl s_client.

--starttls CAFILE: every client upgrades with STARTTLS / STLS first, each
told to insist on it and to check the certificate against CAFILE:
smtplib.starttls, poplib.stls, curl --ssl-reqd, swaks --tls, fetchmail
sslproto tls1.2+, mpop --tls-starttls, openssl s_client -starttls.

openssl s_client is run only with --tls or --starttls (it is a TLS client).
"""
import argparse
import os
import poplib
import smtplib
import ssl
import subprocess
import sys
import time

T = 20          # seconds: every socket operation and every client run
failed = 0
STARTTLS = None  # --starttls CAFILE: every client upgrades first
IMPLICIT = None  # --tls CAFILE: TLS from the first byte


def report(name, ok, why=""):
    global failed
    if ok:
        print("ok %s" % name, flush=True)
    else:
        failed += 1
        print("FAIL %s: %s" % (name, why), flush=True)
    return ok


def hostport(s):
    host, _, port = s.rpartition(":")
    return host.strip("[]"), int(port)


def urlhost(host):
    return "[%s]" % host if ":" in host else host


# Messages with the bytes that break careless servers: From_ and >From_
# lines (mboxrd), dot lines (SMTP and POP3 dot-stuffing), 8-bit text, a
# 1500-octet line, trailing spaces, empty lines, a missing final header fold.
def message(tag, n):
    lines = [
        b"From: Sender <sender@example.org>",
        b"To: inetmail test",
        b"Subject: interop " + tag.encode() + b" message " + str(n).encode(),
        b"Message-ID: <" + tag.encode() + b"." + str(n).encode() + b"@example.org>",
        b"MIME-Version: 1.0",
        b"Content-Type: text/plain; charset=utf-8",
        b"Content-Transfer-Encoding: 8bit",
        b"",
        b"From the start of a line, mbox must quote this.",
        b">From quoted once already, and >>From twice:",
        b">>From here",
        b".",
        b"..two dots",
        b". a dot and a space",
        b"caf\xc3\xa9 na\xc3\xafve \xe2\x82\xac 8-bit text",
        b"trailing spaces   ",
        b"",
        b"",
        b"x" * 1500,
        b"last line " + str(n).encode(),
    ]
    return b"\r\n".join(lines) + b"\r\n"


def strip_trace(raw):
    """Drop the trace fields at the top (smtpd's Return-Path and Received,
    a client's Received or X-Delivered-to), with their folded lines."""
    nl = b"\r\n" if b"\r\n" in raw else b"\n"
    lines = raw.split(nl)
    i = 0
    trace = (b"return-path:", b"received:", b"delivered-to:",
             b"x-delivered-to:", b"x-envelope-to:")
    while i < len(lines) and lines[i].lower().startswith(trace):
        i += 1
        while i < len(lines) and lines[i][:1] in (b" ", b"\t"):
            i += 1
    return nl.join(lines[i:]), i > 0


def same(name, got, want):
    """got: a fetched message; want: the CRLF message that was sent."""
    body, had = strip_trace(got)
    if b"\r\n" not in body:
        want = want.replace(b"\r\n", b"\n")
    if not had:
        return report(name, False, "no trace fields on top")
    if body != want:
        a, b = body, want
        i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]),
                 min(len(a), len(b)))
        return report(name, False, "differs at byte %d: got %r want %r"
                      % (i, a[i - 20:i + 40], b[i - 20:i + 40]))
    return report(name, True)


def pop_login(pop, user, pw, tls=False):
    if IMPLICIT:
        p = poplib.POP3_SSL(pop[0], pop[1], timeout=T,
                            context=ssl.create_default_context(cafile=IMPLICIT))
    else:
        p = poplib.POP3(pop[0], pop[1], timeout=T)
    if STARTTLS:
        p.stls(ssl.create_default_context(cafile=STARTTLS))
    p.user(user)
    p.pass_(pw)
    return p


def pop_retr_all(pop, user, pw):
    """Every message of USER as bytes with CRLF line ends, deleting none."""
    p = pop_login(pop, user, pw)
    out = []
    for i in range(1, p.stat()[0] + 1):
        _, lines, _ = p.retr(i)
        out.append(b"\r\n".join(lines) + b"\r\n")
    p.quit()
    return out


def pop_count(pop, user, pw):
    p = pop_login(pop, user, pw)
    n = p.stat()[0]
    p.quit()
    return n


def run(name, argv, stdin=None):
    try:
        r = subprocess.run(argv, input=stdin, capture_output=True, timeout=T)
    except subprocess.TimeoutExpired:
        report(name, False, "timed out after %ds: %s" % (T, " ".join(argv)))
        return None
    if r.returncode != 0:
        report(name, False, "exit %d: %s %s" % (r.returncode,
               r.stderr.decode(errors="replace")[-400:],
               r.stdout.decode(errors="replace")[-200:]))
        return None
    return r.stdout


def do_smtplib(a, smtp, pop, users, tag):
    m = message(tag, 1)
    rcpts = ["%s@%s" % (u, a.domain) for u, _ in users]
    try:
        if IMPLICIT:
            conn = smtplib.SMTP_SSL(smtp[0], smtp[1], timeout=T,
                                    context=ssl.create_default_context(cafile=IMPLICIT))
        else:
            conn = smtplib.SMTP(smtp[0], smtp[1], timeout=T)
        with conn as s:
            s.ehlo("client.example.org")
            if STARTTLS:
                s.starttls(context=ssl.create_default_context(cafile=STARTTLS))
                s.ehlo("client.example.org")
            refused = s.sendmail("sender@example.org", rcpts, m)
        report("smtplib: message to %d recipients accepted" % len(rcpts),
               refused == {}, "refused: %r" % (refused,))
    except (OSError, smtplib.SMTPException) as e:
        report("smtplib: send", False, repr(e))
        return
    # alice's copy through poplib: STAT, LIST, UIDL, RETR, DELE, QUIT.
    user, pw = users[0]
    try:
        p = pop_login(pop, user, pw)
        n, size = p.stat()
        report("poplib: STAT shows 1 message", n == 1, "stat=%r" % ((n, size),))
        _, listing, _ = p.list()
        _, uidls, _ = p.uidl()
        _, lines, _ = p.retr(1)
        got = b"\r\n".join(lines) + b"\r\n"
        lsize = int(listing[0].split()[1])
        report("poplib: LIST size is the octets RETR sent", lsize == len(got),
               "LIST %d, RETR %d" % (lsize, len(got)))
        same("poplib: RETR is the message byte for byte", got, m)
        uid1 = uidls[0].split()[1]
        p.quit()
        # The UIDL is stable across sessions.
        p = pop_login(pop, user, pw)
        _, uidls, _ = p.uidl()
        report("poplib: UIDL stable across sessions",
               uidls[0].split()[1] == uid1, "%r vs %r" % (uidls, uid1))
        p.dele(1)
        p.quit()
        report("poplib: DELE+QUIT empties the maildrop",
               pop_count(pop, user, pw) == 0, "messages left")
    except (OSError, poplib.error_proto) as e:
        report("poplib: session", False, repr(e))


def do_curl(a, smtp, pop, users, tag, tls=False):
    m = message(tag, 2)
    user, pw = users[0]
    f = os.path.join(a.work, "curl-%s.eml" % tag)
    with open(f, "wb") as fh:
        fh.write(m)
    tls = tls or bool(IMPLICIT)
    ins = ["--cacert", a.tls] if tls else []
    if STARTTLS:
        ins = ["--ssl-reqd", "--cacert", STARTTLS]
    s = "smtps" if tls else "smtp"
    p = "pop3s" if tls else "pop3"
    base = "%s://%s:%s@%s:%d" % (p, user, pw, urlhost(pop[0]), pop[1])
    curl = ["curl", "-sS", "--max-time", str(T)] + ins
    if run("curl %s://: send" % s, curl + [
            "%s://%s:%d" % (s, urlhost(smtp[0]), smtp[1]),
            "--mail-from", "sender@example.org",
            "--mail-rcpt", "%s@%s" % (user, a.domain), "-T", f]) is None:
        return
    report("curl %s://: send" % s, True)
    out = run("curl %s://: LIST" % p, curl + [base + "/"])
    if out is None:
        return
    report("curl %s://: LIST shows 1 message" % p,
           len(out.splitlines()) == 1, repr(out))
    out = run("curl %s://: RETR" % p, curl + [base + "/1"])
    if out is None:
        return
    same("curl %s://: RETR is the message byte for byte" % p, out, m)
    if run("curl %s://: DELE" % p, curl + ["-X", "DELE", "-I", base + "/1"]) \
            is None:
        return
    report("curl %s://: DELE" % p, True)
    out = run("curl %s://: LIST after DELE" % p, curl + [base + "/"])
    # curl prints the CRLF before the final dot of an empty listing.
    report("curl %s://: maildrop empty after DELE" % p,
           out is not None and out.strip() == b"", repr(out))


def do_swaks(a, smtp, pop, users, tag):
    m = message(tag, 3)
    user, pw = users[1]
    f = os.path.join(a.work, "swaks-%s.eml" % tag)
    # swaks ends DATA with CRLF . CRLF after the text even when the text
    # ends in a line end, so it gets the message without its last CRLF.
    with open(f, "wb") as fh:
        fh.write(m[:-2])
    out = run("swaks: send", ["swaks", "--server", smtp[0], "--port",
              str(smtp[1]), "--helo", "client.example.org", "--from",
              "sender@example.org", "--to", "%s@%s" % (user, a.domain),
              "--data", "@" + f, "--timeout", str(T), "--hide-all"] +
              (["--tls", "--tls-verify", "--tls-ca-path", STARTTLS]
               if STARTTLS else []) +
              (["--tls-on-connect", "--tls-verify", "--tls-ca-path", IMPLICIT]
               if IMPLICIT else []))
    if out is None:
        return
    report("swaks: send", True)
    try:
        got = pop_retr_all(pop, user, pw)
    except (OSError, poplib.error_proto) as e:
        report("swaks: fetch", False, repr(e))
        return
    # bob has smtplib's copy (message 1) and swaks' (3), in that order.
    if report("swaks: both of bob's messages there", len(got) == 2,
              "%d messages" % len(got)):
        same("swaks: message arrived byte for byte", got[1], m)


def mda_files(d):
    return [os.path.join(d, x) for x in sorted(os.listdir(d))]


def do_fetchmail(a, smtp, pop, users, tag):
    """bob's two messages (smtplib, swaks) through fetchmail into files."""
    user, pw = users[1]
    d = os.path.join(a.work, "fetchmail-%s" % tag)
    os.makedirs(d, exist_ok=True)
    rc = os.path.join(a.work, "fetchmailrc-%s" % tag)
    mda = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mda.sh")
    with open(rc, "w") as fh:
        fh.write('set no syslog\nset no bouncemail\n'
                 'poll "%s" protocol pop3 port %d timeout %d\n'
                 '  user "%s" password "%s" is "%s" here\n'
                 '  no rewrite no keep fetchall sslproto ""\n'
                 '  mda "%s %s"\n'
                 % (pop[0], pop[1], T, user, pw, os.environ.get("USER", "root"),
                    mda, d))
    if STARTTLS or IMPLICIT:
        # STLS required (or TLS from the first byte: ssl), the certificate
        # checked; fetchmail checks only names, not IP addresses, so it is
        # told the certificate's name.
        with open(rc, "r+") as fh:
            t = fh.read().replace(
                'sslproto ""', '%ssslproto "tls1.2+" sslcertck sslcertfile "%s"'
                ' sslcommonname "localhost"' % ("ssl " if IMPLICIT else "",
                                                STARTTLS or IMPLICIT))
            fh.seek(0)
            fh.write(t)
    os.chmod(rc, 0o600)
    env_home = os.path.join(a.work, "fmhome-%s" % tag)
    os.makedirs(env_home, exist_ok=True)
    try:
        r = subprocess.run(["fetchmail", "-f", rc, "--nodetach", "-N",
                            "--invisible", "--pidfile", os.path.join(env_home, "pid"),
                            "-v"], capture_output=True, timeout=2 * T,
                           env=dict(os.environ, HOME=env_home,
                                    FETCHMAILHOME=env_home))
    except subprocess.TimeoutExpired:
        report("fetchmail: download", False, "timed out")
        return
    files = mda_files(d)
    if not report("fetchmail: downloaded 2 messages",
                  r.returncode == 0 and len(files) == 2,
                  "exit %d, %d files: %s" % (r.returncode, len(files),
                  r.stderr.decode(errors="replace")[-600:])):
        return
    for f, n in zip(files, (1, 3)):
        with open(f, "rb") as fh:
            same("fetchmail: message %d byte for byte" % n, fh.read(),
                 message(tag, n))
    report("fetchmail: deleted on the server", pop_count(pop, user, pw) == 0,
           "messages left")


def do_mpop(a, smtp, pop, users, tag):
    """carol's message (smtplib) through mpop into a file."""
    user, pw = users[2]
    d = os.path.join(a.work, "mpop-%s" % tag)
    os.makedirs(d, exist_ok=True)
    mda = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mda.sh")
    conf = os.path.join(a.work, "mpoprc-%s" % tag)
    with open(conf, "w") as fh:
        fh.write("defaults\n")
    os.chmod(conf, 0o600)
    out = run("mpop: download", [
        "mpop", "-C", conf, "--host=" + pop[0], "--port=%d" % pop[1],
        "--user=" + user, "--passwordeval=echo " + pw, "--auth=user",
        *(["--tls=on", "--tls-starttls=on", "--tls-trust-file=" + STARTTLS]
          if STARTTLS else
          ["--tls=on", "--tls-starttls=off", "--tls-trust-file=" + IMPLICIT]
          if IMPLICIT else ["--tls=off"]),
        "--timeout=%d" % T, "--keep=off", "--only-new=off",
        "--uidls-file=" + os.path.join(d, ".uidls"),
        "--delivery=mda," + mda + " " + d, "-q"])
    if out is None:
        return
    files = [f for f in mda_files(d) if not f.endswith(".uidls")]
    if report("mpop: downloaded 1 message", len(files) == 1,
              "%d files" % len(files)):
        with open(files[0], "rb") as fh:
            same("mpop: message byte for byte", fh.read(), message(tag, 1))
    report("mpop: deleted on the server", pop_count(pop, user, pw) == 0,
           "messages left")


def do_openssl(a, smtp, pop, users, tag):
    """openssl s_client, as an admin tries a port: a message to carol over
    SMTP, then carol's mailbox emptied over POP3."""
    ca = STARTTLS or IMPLICIT
    if ca is None:
        return
    user, pw = users[2]
    m = message(tag, 4)
    body = m.replace(b"\r\n.", b"\r\n..")
    talk = (b"EHLO client.example.org\r\nMAIL FROM:<sender@example.org>\r\n"
            b"RCPT TO:<%s@%s>\r\nDATA\r\n" % (user.encode(), a.domain.encode()) +
            body + b".\r\nQUIT\r\n")
    st = ["-starttls", "smtp"] if STARTTLS else []
    out = run("openssl s_client%s: send" % (" -starttls smtp" if STARTTLS else ""),
              ["openssl", "s_client", *st, "-connect", "%s:%d" % (urlhost(smtp[0]),
               smtp[1]), "-CAfile", ca, "-verify_return_error", "-quiet",
               "-ign_eof"], stdin=talk)
    if out is None:
        return
    report("openssl s_client: the message queued over TLS",
           b"250 2.0.0 Ok: queued" in out and out.rstrip().endswith(b"closing connection"),
           repr(out[-300:]))
    st = ["-starttls", "pop3"] if STARTTLS else []
    talk = b"USER %s\r\nPASS %s\r\nSTAT\r\nDELE 1\r\nQUIT\r\n" % (
        user.encode(), pw.encode())
    out = run("openssl s_client%s: fetch" % (" -starttls pop3" if STARTTLS else ""),
              ["openssl", "s_client", *st, "-connect", "%s:%d" % (urlhost(pop[0]),
               pop[1]), "-CAfile", ca, "-verify_return_error", "-quiet",
               "-ign_eof"], stdin=talk)
    if out is None:
        return
    report("openssl s_client: logged in over TLS, STAT 1, deleted",
           b"+OK 1 " in out and b"+OK bye, 1 deleted, 0 kept" in out, repr(out[-300:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--smtp", required=True)
    ap.add_argument("--pop", required=True)
    ap.add_argument("--users", required=True)
    ap.add_argument("--domain", default="localhost")
    ap.add_argument("--work", required=True)
    ap.add_argument("--tag", default="t")
    ap.add_argument("--tls", metavar="CAFILE")
    ap.add_argument("--starttls", metavar="CAFILE")
    ap.add_argument("--only", default="smtplib,curl,swaks,fetchmail,mpop,openssl")
    a = ap.parse_args()
    global STARTTLS, IMPLICIT
    STARTTLS = a.starttls
    IMPLICIT = a.tls
    smtp, pop = hostport(a.smtp), hostport(a.pop)
    users = [tuple(x.split(":", 1)) for x in a.users.split(",")]
    os.makedirs(a.work, exist_ok=True)
    t0 = time.time()
    only = a.only.split(",")
    # Order matters: swaks and fetchmail work on bob's smtplib copy.
    for name, fn in (("smtplib", do_smtplib), ("curl", do_curl),
                     ("swaks", do_swaks), ("fetchmail", do_fetchmail),
                     ("mpop", do_mpop), ("openssl", do_openssl)):
        if name in only:
            fn(a, smtp, pop, users, a.tag)
    print("# clients done in %.1fs" % (time.time() - t0), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
