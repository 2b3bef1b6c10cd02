#!/bin/sh
# deploy.sh: what an admin meets first:
#   - make demo fails (non-zero, and says why) when its ports are taken;
#   - contrib/inetd.conf's per-minute start limit is above a busy minute and
#     says what the number means;
#   - make install puts the binaries and every man page in place, and fails
#     when a step fails; make clean leaves no build directory behind.
# (mkjail keeping its users is checked in make interop, tests/interop/jail.sh:
# it needs root and a static build.)  Env: SMTPD, POP3D (binaries).
TOP=${TOP:-$(pwd)}
cd "$TOP" || exit 1
fail=0
ok() { echo "ok $1"; }
no() { echo "not ok $1"; fail=1; }

# A port in use: the demo must not pretend it runs.
out=$(python3 - <<'PY'
import os, socket, subprocess, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
port = s.getsockname()[1]
env = dict(os.environ, SMTP_PORT=str(port), POP3_PORT=str(port + 1 if port < 65535 else port - 1))
p = subprocess.run(["sh", "contrib/demo.sh"], env=env, stdin=subprocess.DEVNULL,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
print(p.returncode)
print(p.stdout.decode("latin-1"))
PY
)
rc=$(printf '%s\n' "$out" | head -1)
[ "$rc" != 0 ] && ok "demo: exits $rc when its port is taken" || no "demo: exit 0 on a taken port"
printf '%s\n' "$out" | grep -q 'in use?  Try: make demo SMTP_PORT=' &&
	ok "demo: says why and how to change the ports" || no "demo: message: $out"

# inetd.conf: the rate after "nowait." is a per-minute start limit.
rates=$(sed -n 's/^[a-z0-9]*[[:space:]]*stream[[:space:]]*tcp6*[[:space:]]*nowait\.\([0-9]*\)[[:space:]].*/\1/p' contrib/inetd.conf)
[ -n "$rates" ] || no "inetd.conf: no nowait.N lines"
for r in $rates; do
	[ "$r" -ge 3000 ] || { no "inetd.conf: nowait.$r drops a busy minute"; break; }
done
[ -n "$rates" ] && ok "inetd.conf: start limits $(echo $rates | tr ' ' ',') a minute"
grep -q 'many servers it starts in one minute' contrib/inetd.conf &&
	ok "inetd.conf: says what the number means" || no "inetd.conf: the rate is not explained"

# make install: all of it, or a failure.  (Run on the work tree as it is:
# the binaries are built already.)
D=$(mktemp -d "${TMPDIR:-/tmp}/deploy.XXXXXX")
if make -s install DESTDIR="$D" PREFIX=/usr >"$D/log" 2>&1 &&
    [ -x "$D/usr/sbin/smtpd" ] && [ -x "$D/usr/sbin/pop3d" ] &&
    [ -f "$D/usr/share/man/man8/smtpd.8" ] && [ -f "$D/usr/share/man/man8/pop3d.8" ] &&
    [ -f "$D/usr/share/man/man5/inetmail.5" ]; then
	ok "make install: binaries and man pages in place"
else
	no "make install: $(cat "$D/log")"
fi
rm -rf "$D"
D=$(mktemp -d "${TMPDIR:-/tmp}/deploy.XXXXXX")
mkdir -p "$D/usr/share/man"
: >"$D/usr/share/man/man5"	# a file where a directory must go
if make -s install DESTDIR="$D" PREFIX=/usr >"$D/log" 2>&1; then
	no "make install: a failed step went unnoticed"
else
	ok "make install: a failed step fails the install"
fi
rm -rf "$D"
# (Asked with -n: a real make clean would remove the binaries under test.)
make -s -n clean | grep -q 'rm -rf.* build-dyn' &&
	ok "make clean: removes build-dyn/ too" || no "make clean: build-dyn/ is left"
exit $fail
