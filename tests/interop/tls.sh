# tls.sh: sourced by run.sh.  TLS from the first byte with stunnel in exec
# mode, one server per connection, from contrib/stunnel/smtps.conf and
# pop3s.conf with a throwaway certificate made here (tlswrapper.sh uses it
# too).  The shipped accept = :::PORT line keeps its address, so every
# client runs over 127.0.0.1 and over ::1: the dual-stack listener.
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

# The shipped file as it is but for the port and paths; it runs stunnel in
# the foreground with no pid file, as Debian's stunnel@.service wants.
stconf() {	# stconf FILE PORT ARGS
	sed -e "s|^\(accept = .*:\)[0-9]*\$|\1$2|" \
	    -e "s|^cert = .*|cert = $W/tls/mail.pem|" \
	    -e "s|/usr/local/sbin/|$SBIN/|" \
	    -e "s|^\(execArgs = .*\)|\1 $3|" "$1"
}
# stunnel_up NAME FILE PORT ARGS: stunnel on PORT from the shipped FILE,
# logging (its own lines and the server's) to $W/stunnel-NAME.log.
stunnel_up() {
	stconf "$2" "$3" "$4 -l stderr" >"$W/tls/$1.conf"
	grep -q '^foreground = yes$' "$W/tls/$1.conf" ||
		bad "stunnel: $2: no foreground = yes (Debian 12's stunnel@.service)"
	if ! grep -q "^accept = :::$3\$" "$W/tls/$1.conf" ||
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
stunnel_up smtps contrib/stunnel/smtps.conf "$SP" "$ARGS"
stunnel_up pop3s contrib/stunnel/pop3s.conf "$PP" "$PARGS"
if wait_listen "$SP" "$PP"; then
	clients stunnel "127.0.0.1:$SP" "[::1]:$PP" "--tls=$CA"
	logged_client "stunnel smtps: smtpd logged the client as 127.0.0.1" \
	    "$W/stunnel-smtps.log" smtpd 127.0.0.1
	logged_client "stunnel pop3s: pop3d logged the client as ::1" \
	    "$W/stunnel-pop3s.log" pop3d ::1
	clients stunnel6 "[::1]:$SP" "127.0.0.1:$PP" "--tls=$CA" --only=curl
	check "stunnel smtps: ESMTPS in the log (smtpd -S)" \
		grep -q 'tls=yes result="delivered"' "$W/stunnel-smtps.log"
else
	bad "stunnel: ports did not come up"; cat "$W"/stunnel-*.log
fi
stop_all
check "stunnel: spool empty after the clients" spool_empty
