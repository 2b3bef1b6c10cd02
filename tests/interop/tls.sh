# tls.sh: sourced by run.sh.  SMTPS and POP3S the inetd way: stunnel in exec
# mode, from contrib/stunnel/*.conf, with a throwaway certificate made here;
# curl smtps:// and pop3s:// check the certificate and the mail.

section "stunnel (contrib/stunnel/*.conf): smtps:// and pop3s://"
mkdir "$W/tls"
# One self-signed certificate for 127.0.0.1 and ::1, key in the same file,
# as the configs' cert = expects; it is its own CA for curl --cacert.
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 1 -subj /CN=localhost \
    -addext "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" \
    -keyout "$W/tls/key.pem" -out "$W/tls/cert.pem" >"$W/tls/openssl.log" 2>&1
then
	cat "$W/tls/cert.pem" "$W/tls/key.pem" >"$W/tls/mail.pem"
	chmod 600 "$W/tls/mail.pem"
	SP=$(freeport) PP=$(freeport)
	# stunnel's own log to stderr in the foreground, no pid file; the
	# shipped service section as it is but for port and paths.
	stconf() {	# stconf FILE ADDR:PORT ARGS
		echo "foreground = yes"
		sed -e "s|^pid = .*|pid =|" \
		    -e "s|^accept = .*|accept = $2|" \
		    -e "s|^cert = .*|cert = $W/tls/mail.pem|" \
		    -e "s|/usr/local/sbin/|$SBIN/|" \
		    -e "s|^\(execArgs = .*\)|\1 $3|" "$1"
	}
	stconf contrib/stunnel/smtps.conf "127.0.0.1:$SP" "$ARGS" >"$W/tls/smtps.conf"
	stconf contrib/stunnel/pop3s.conf "::1:$PP" "$PARGS" >"$W/tls/pop3s.conf"
	bg stunnel "$W/tls/smtps.conf" >"$W/stunnel-smtps.log" 2>&1
	bg stunnel "$W/tls/pop3s.conf" >"$W/stunnel-pop3s.log" 2>&1
	if wait_listen "$SP" "$PP"; then
		clients stunnel "127.0.0.1:$SP" "[::1]:$PP" "--tls=$W/tls/cert.pem"
	else
		bad "stunnel: ports did not come up"; cat "$W"/stunnel-*.log
	fi
	stop_all
	check "stunnel: spool empty after the clients" spool_empty
else
	bad "openssl: no throwaway certificate"; cat "$W/tls/openssl.log"
fi
