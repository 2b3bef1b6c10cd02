# fail2ban.sh: sourced by run.sh.  contrib/fail2ban's filter against the
# log lines the servers really write: failed POP3 logins and 5xx SMTP
# refusals from 127.0.0.1 and ::1 must match, successes and 4xx must not.
# The jail file must pass fail2ban-client's configuration test.

section "contrib/fail2ban: filter and jail against real log lines"
F=$W/f2b
# A private fail2ban configuration: the system's, with our two files added
# as an admin would, and its own jails left out.
cp -r /etc/fail2ban "$F" && rm -f "$F"/jail.d/* &&
	cp contrib/fail2ban/filter.d/inetmail.conf "$F/filter.d/" &&
	cp contrib/fail2ban/jail.d/inetmail.conf "$F/jail.d/" ||
	bad "fail2ban: no private copy of /etc/fail2ban"
SP=$(freeport) PP=$(freeport)
# -n 1: a second recipient gets 452 4.5.3, a 4xx refusal that must not count.
bg "$SBIN/smtpd" -L "127.0.0.1:$SP" $ARGS -n 1 -l stderr 2>"$W/f2b-smtpd.log"
bg "$SBIN/pop3d" -L "[::1]:$PP" $PARGS -l stderr 2>"$W/f2b-pop3d.log"
# and pop3d on 127.0.0.1 too, for an IPv4 failure.
PP4=$(freeport)
bg "$SBIN/pop3d" -L "127.0.0.1:$PP4" $PARGS -l stderr 2>"$W/f2b-pop3d4.log"
if wait_listen "$SP" "$PP" "$PP4"; then
	$PY - "$SP" "$PP" "$PP4" <<'EOF' >"$W/f2b-clients.out" 2>&1 ||
import poplib, smtplib, sys
sp, pp, pp4 = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = smtplib.SMTP("127.0.0.1", sp, timeout=20)
s.ehlo("client.example.org")
s.mail("sender@example.org")
want = [("relay@elsewhere.example", 550), ("nosuch@localhost", 550),
        ("alice@localhost", 250), ("bob@localhost", 452)]
for rcpt, code in want:
    got = s.rcpt(rcpt)[0]
    assert got == code, (rcpt, got)
assert s.docmd("FOO")[0] >= 500
assert s.data(b"Subject: f2b\r\n\r\nhi\r\n")[0] == 250
s.quit()
for host, port, user, pw in (("::1", pp, "alice", "wrong"),
                             ("::1", pp, "nosuch", "x"),
                             ("127.0.0.1", pp4, "alice", "bad")):
    p = poplib.POP3(host, port, timeout=20)
    p.user(user)
    try:
        p.pass_(pw)
        raise SystemExit("login %s/%s worked" % (user, pw))
    except poplib.error_proto:
        pass
    p.quit()
p = poplib.POP3("::1", pp, timeout=20)
p.user("alice")
p.pass_("alicepw")
for i in range(p.stat()[0]):
    p.dele(i + 1)
p.quit()
EOF
	{ bad "fail2ban: the clients did not run as planned"; cat "$W/f2b-clients.out"; }
else
	bad "fail2ban: listeners did not come up"
fi
stop_all
# What syslog would have written: a date and a host before each line.
now=$(date '+%b %d %H:%M:%S')
cat "$W"/f2b-*.log | grep -E '^(smtpd|pop3d)\[' |
	sed "s/^/$now interop-host /" >"$W/f2b-mail.log"
fails=$(grep -c -E 'login failed|reject cmd=[^ ]* reply="5' "$W/f2b-mail.log")
check "fail2ban: the servers logged 6 failures (3 POP3 logins, 3 SMTP 5xx)" \
	test "$fails" = 6
for w in 'login user=' 'reply="452' 'result="delivered"'; do
	grep -q "$w" "$W/f2b-mail.log" || bad "fail2ban: no '$w' line to test against"
done
fail2ban-regex -c "$F" --print-all-matched "$W/f2b-mail.log" inetmail \
	>"$W/f2b-regex.out" 2>&1
matched=$(sed -n 's/^Lines: .* \([0-9]*\) matched.*/\1/p' "$W/f2b-regex.out")
check "fail2ban-regex: all 6 failure lines matched (got ${matched:-none})" \
	test "${matched:-x}" = 6
# The matched lines, as fail2ban-regex prints them.
sed -n '/Matched line(s):/,/^`-/p' "$W/f2b-regex.out" >"$W/f2b-matched"
check "fail2ban-regex: no success or 4xx line matched" \
	sh -c "! grep -E 'login user=|reply=\"4|message qid|connect\$' '$W/f2b-matched'"
check "fail2ban-regex: matched from 127.0.0.1 and from ::1" \
	sh -c "grep -q 'client=127.0.0.1 ' '$W/f2b-matched' && grep -q 'client=::1 ' '$W/f2b-matched'"
check "fail2ban-client: the jail passes the configuration test" \
	sh -c "printf '[inetmail]\nlogpath = %s\nbackend = polling\n' '$W/f2b-mail.log' \
	    >'$F/jail.d/test.local' && fail2ban-client -c '$F' -t >'$W/f2b-test.out' 2>&1"
