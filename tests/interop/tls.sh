# tls.sh: sourced by run.sh.  TLS the inetd way: stunnel in exec mode, one
# server per connection, from contrib/stunnel/*.conf, with a throwaway
# certificate made here.
#
#  smtps.conf, pop3s.conf          TLS from the first byte (465, 995): curl
#                                  smtps:// and pop3s://.
#  smtp-starttls.conf, pop3-stls.conf
#                                  stunnel's protocol = smtp / pop3 (STARTTLS,
#                                  STLS): every client in clients.py, told to
#                                  upgrade, over 127.0.0.1 and over ::1; then
#                                  what stunnel says to clients that do not
#                                  upgrade, as contrib/stunnel/README.md states.
#
# The servers log to stunnel's stderr here (-l stderr), so each run checks
# that the client address in their log lines is the client's own: over ::1
# that tells the client's address from stunnel's socket pair (127.0.0.1).

section "stunnel (contrib/stunnel/smtps.conf, pop3s.conf): smtps:// and pop3s://"
mkdir "$W/tls"
CA=$W/tls/cert.pem
# One self-signed certificate for 127.0.0.1 and ::1, key in the same file,
# as the configs' cert = expects; it is its own CA for the clients.
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 1 -subj /CN=localhost \
    -addext "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" \
    -keyout "$W/tls/key.pem" -out "$CA" >"$W/tls/openssl.log" 2>&1
then
	bad "openssl: no throwaway certificate"; cat "$W/tls/openssl.log"
	return 0 2>/dev/null || exit 1
fi
cat "$CA" "$W/tls/key.pem" >"$W/tls/mail.pem"
chmod 600 "$W/tls/mail.pem"

# stunnel's own log to stderr in the foreground, no pid file; the shipped
# service section as it is but for port and paths.
stconf() {	# stconf FILE ADDR:PORT ARGS
	echo "foreground = yes"
	sed -e "s|^pid = .*|pid =|" \
	    -e "s|^accept = .*|accept = $2|" \
	    -e "s|^cert = .*|cert = $W/tls/mail.pem|" \
	    -e "s|/usr/local/sbin/|$SBIN/|" \
	    -e "s|^\(execArgs = .*\)|\1 $3|" "$1"
}
# stunnel_up NAME FILE ADDR PORT ARGS: stunnel on ADDR:PORT from the shipped
# FILE, logging (its own lines and the server's) to $W/stunnel-NAME.log.
stunnel_up() {
	stconf "$2" "$3:$4" "$5 -l stderr" >"$W/tls/$1.conf"
	if ! grep -q "^accept = $3:$4\$" "$W/tls/$1.conf" ||
	    ! grep -q "^execArgs = .* -l stderr\$" "$W/tls/$1.conf"; then
		bad "stunnel: $2: accept or execArgs line not found"
	fi
	bg stunnel "$W/tls/$1.conf" >"$W/stunnel-$1.log" 2>&1
}
# logged_client NAME LOG PROG ADDR: PROG wrote session lines to LOG and each
# names the client as ADDR.
logged_client() {
	if _r=$(awk -v p="$3[" -v want="$4" '
	    index($0, p) == 1 && match($0, / client=[^ ]+/) {
		n++
		a = substr($0, RSTART + 8, RLENGTH - 8)
		if (a == want) good++; else seen[a]++
	    }
	    END {
		for (a in seen) printf " client=%s on %d line(s);", a, seen[a]
		if (n == 0) printf " no session lines;"
		exit !(n > 0 && good == n)
	    }' "$2"); then
		ok "$1"
	else
		bad "$1:$_r see $2"
	fi
}

SP=$(freeport) PP=$(freeport)
stunnel_up smtps contrib/stunnel/smtps.conf 127.0.0.1 "$SP" "$ARGS"
stunnel_up pop3s contrib/stunnel/pop3s.conf ::1 "$PP" "$PARGS"
if wait_listen "$SP" "$PP"; then
	clients stunnel "127.0.0.1:$SP" "[::1]:$PP" "--tls=$CA"
	logged_client "stunnel smtps: smtpd logged the client as 127.0.0.1" \
	    "$W/stunnel-smtps.log" smtpd 127.0.0.1
	logged_client "stunnel pop3s: pop3d logged the client as ::1" \
	    "$W/stunnel-pop3s.log" pop3d ::1
else
	bad "stunnel: ports did not come up"; cat "$W"/stunnel-*.log
fi
stop_all
check "stunnel: spool empty after the clients" spool_empty

section "stunnel protocol = smtp, pop3 (contrib/stunnel/smtp-starttls.conf," \
    "pop3-stls.conf): STARTTLS and STLS"
SP4=$(freeport) PP4=$(freeport) SP6=$(freeport) PP6=$(freeport)
stunnel_up starttls4 contrib/stunnel/smtp-starttls.conf 127.0.0.1 "$SP4" "$ARGS"
stunnel_up stls4 contrib/stunnel/pop3-stls.conf 127.0.0.1 "$PP4" "$PARGS"
stunnel_up starttls6 contrib/stunnel/smtp-starttls.conf ::1 "$SP6" "$ARGS"
stunnel_up stls6 contrib/stunnel/pop3-stls.conf ::1 "$PP6" "$PARGS"
for f in smtp-starttls:smtp pop3-stls:pop3; do
	grep -q "^protocol = ${f#*:}\$" "contrib/stunnel/${f%:*}.conf" ||
		bad "contrib/stunnel/${f%:*}.conf: no protocol = ${f#*:}"
done
if wait_listen "$SP4" "$PP4" "$SP6" "$PP6"; then
	# smtplib, poplib, curl --ssl-reqd smtp:// and pop3://, swaks --tls,
	# fetchmail and mpop with STLS; each delivers or fetches and compares.
	clients starttls "127.0.0.1:$SP4" "127.0.0.1:$PP4" "--starttls=$CA"
	clients starttls6 "[::1]:$SP6" "[::1]:$PP6" "--starttls=$CA"

	# What stunnel does with a client that does not upgrade: the facts
	# contrib/stunnel/README.md and the two .conf files state.
	$PY - 127.0.0.1 "$SP4" "$PP4" "$CA" "$T" >"$W/stls-probe.out" 2>&1 <<'EOF'
import socket, ssl, sys
host, sp, pp, ca, T = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    sys.argv[4], int(sys.argv[5])

def report(name, good, why=""):
    print(("ok %s" % name) if good else ("FAIL %s: %s" % (name, why)),
          flush=True)

def dial(port):
    s = socket.create_connection((host, port), timeout=T)
    return s, s.makefile("rb")

def reply(f):
    """One reply: every line of an SMTP reply, or one POP3 line."""
    out = []
    while True:
        line = f.readline()
        out.append(line)
        if not line or line[3:4] != b"-":
            return out

def dropped(s, f, line):
    """Send LINE: the peer must close without a word (EOF or reset)."""
    try:
        s.sendall(line)
        got = f.readline()
    except (ConnectionResetError, BrokenPipeError):
        got = b""
    s.close()
    return got == b"", got

# SMTP, plain text, waiting for the greeting as MTAs do.
try:
    s, f = dial(sp)
    g = f.readline()
    report("smtp: smtpd's greeting passed on, rewritten by stunnel",
           g == b"220 localhost stunnel for ESMTP\r\n", repr(g))
    s.sendall(b"EHLO client.example.org\r\n")
    r = reply(f)
    report("smtp: stunnel answers EHLO itself, with STARTTLS only",
           r == [b"250-localhost\r\n", b"250 STARTTLS\r\n"], repr(r))
    gone, got = dropped(s, f, b"MAIL FROM:<sender@example.org>\r\n")
    report("smtp: plain-text MAIL after EHLO: dropped, no reply "
           "(TLS forced, not opportunistic)", gone, repr(got))
    s, f = dial(sp)
    f.readline()
    gone, got = dropped(s, f, b"HELO client.example.org\r\n")
    report("smtp: HELO: dropped, no reply", gone, repr(got))
except OSError as e:
    report("smtp: plain-text probes", False, repr(e))

# SMTP, a client that speaks first: TLS at once, smtpd's own greeting.
try:
    ctx = ssl.create_default_context(cafile=ca)
    with ctx.wrap_socket(socket.create_connection((host, sp), timeout=T),
                         server_hostname=host) as t:
        tf = t.makefile("rb")
        g = tf.readline()
        t.sendall(b"QUIT\r\n")
        q = tf.readline()
    report("smtp: a client that speaks first gets TLS at once (SMTPS too)",
           g == b"220 localhost ESMTP\r\n" and q.startswith(b"221 "),
           repr((g, q)))
except (OSError, ssl.SSLError) as e:
    report("smtp: a client that speaks first gets TLS at once (SMTPS too)",
           False, repr(e))

# POP3, plain text.
try:
    s, f = dial(pp)
    g = f.readline()
    report("pop3: pop3d's greeting passed on with ' + stunnel'",
           g.startswith(b"+OK ") and g.endswith(b" + stunnel\r\n"), repr(g))
    s.sendall(b"CAPA\r\n")
    r = [f.readline() for _ in range(3)]
    report("pop3: stunnel answers CAPA itself, with STLS only",
           r == [b"+OK Stunnel capability list follows\r\n", b"STLS\r\n",
                 b".\r\n"], repr(r))
    gone, got = dropped(s, f, b"USER alice\r\n")
    report("pop3: USER before STLS: dropped, no -ERR", gone, repr(got))
except OSError as e:
    report("pop3: plain-text probes", False, repr(e))

# POP3, a client that speaks TLS first: refused (no 200 ms detection).
try:
    ctx = ssl.create_default_context(cafile=ca)
    with ctx.wrap_socket(socket.create_connection((host, pp), timeout=T),
                         server_hostname=host) as t:
        t.recv(100)
    report("pop3: no implicit TLS on the STLS port", False, "handshake done")
except (OSError, ssl.SSLError):
    report("pop3: no implicit TLS on the STLS port", True)
EOF
	while IFS= read -r l; do
		case $l in
		ok\ *) ok "stunnel ${l#ok }" ;;
		FAIL\ *) bad "stunnel ${l#FAIL }" ;;
		*) echo "$l" ;;
		esac
	done <"$W/stls-probe.out"

	logged_client "starttls: smtpd logged the client as 127.0.0.1" \
	    "$W/stunnel-starttls4.log" smtpd 127.0.0.1
	logged_client "starttls: pop3d logged the client as 127.0.0.1" \
	    "$W/stunnel-stls4.log" pop3d 127.0.0.1
	logged_client "starttls6: smtpd logged the client as ::1" \
	    "$W/stunnel-starttls6.log" smtpd ::1
	logged_client "starttls6: pop3d logged the client as ::1" \
	    "$W/stunnel-stls6.log" pop3d ::1
else
	bad "stunnel STARTTLS: ports did not come up"; cat "$W"/stunnel-*.log
fi
stop_all
check "stunnel STARTTLS: spool empty after the clients" spool_empty
