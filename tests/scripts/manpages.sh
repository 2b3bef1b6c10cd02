#!/bin/sh
# manpages.sh: every page in doc/ passes `groff -ww -man -z` (all warnings on)
# with no output, and `mandoc -Tlint` too when mandoc is installed.  groff is
# installed (groff-base) when missing and we are root.  Exit 0 = pass.
TOP=${TOP:-$(pwd)}
cd "$TOP" || exit 1
if ! command -v groff >/dev/null 2>&1; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq groff-base \
		    >/dev/null 2>&1
	fi
	command -v groff >/dev/null 2>&1 ||
	    { echo "not ok: groff missing and cannot be installed"; exit 1; }
fi
st=0 n=0
for m in doc/*.[1-9]; do
	[ -f "$m" ] || continue
	n=$((n + 1))
	if out=$(groff -ww -man -z "$m" 2>&1) && [ -z "$out" ]; then
		echo "ok $m (groff)"
	else
		echo "not ok $m (groff)"; printf '%s\n' "$out"; st=1
	fi
	if command -v mandoc >/dev/null 2>&1; then
		# -W warning: style notes are advice, not errors.
		if out=$(mandoc -Tlint -W warning "$m" 2>&1) && [ -z "$out" ]
		then
			echo "ok $m (mandoc)"
		else
			echo "not ok $m (mandoc)"; printf '%s\n' "$out"; st=1
		fi
	fi
done
[ "$n" -ge 3 ] || { echo "not ok: expected smtpd.8, pop3d.8, inetmail.5"; st=1; }
exit $st
