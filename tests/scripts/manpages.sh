#!/bin/sh
# manpages.sh: every page in doc/ passes `groff -ww -man -z` (all warnings on)
# with no output, and `mandoc -Tlint` too when mandoc is installed; and the
# servers' pages are true to the binaries: the SYNOPSIS letters are the
# usage's, each is under OPTIONS, and the long options named are the ones
# taken.  groff is installed (groff-base) when missing and we are root.
# Exit 0 = pass.
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

# Each server's page and its usage say the same: the option letters of the
# SYNOPSIS are the usage's, each is described under OPTIONS, and the long
# options the page names (--help, --version) are the ones the binary takes.
B=${B:-build}
for prog in smtpd pop3d; do
	bin=${SMTPD:-$TOP/$B/smtpd/smtpd}
	[ $prog = pop3d ] && bin=${POP3D:-$TOP/$B/pop3d/pop3d}
	if out=$(python3 - "$bin" "doc/$prog.8" <<'PY'
import re, subprocess, sys
binary, page = sys.argv[1], sys.argv[2]
p = subprocess.run([binary, "--help"], capture_output=True, timeout=10)
usage = p.stdout.decode()
bad = []
if p.returncode != 0 or not usage.startswith("usage: "):
    bad.append("--help: status %d, %r" % (p.returncode, usage[:40]))
def letters(words):
    return {c for w in words for c in w}
use = letters(re.findall(r"\[-([A-Za-z]+)[\] ]", usage)) | \
    letters(re.findall(r"(?<![-\w])-([A-Za-z]) ", usage))
text = open(page).read()
syn = text[text.index(".SH SYNOPSIS"):text.index(".SH DESCRIPTION")]
man = letters(re.findall(r"\\-([A-Za-z]+)", syn))
if use != man:
    bad.append("usage has %s, SYNOPSIS %s" % ("".join(sorted(use)),
                                              "".join(sorted(man))))
opts = text[text.index(".SH OPTIONS"):]
opts = opts[:opts.index("\n.SH ", 1)]
for c in sorted(use):
    if not re.search(r"\\-%s\b" % c, opts):
        bad.append("-%s not under OPTIONS" % c)
# Set in bold as options (".B \-\-help"); an example's "adduser \-\-system"
# names another program's.
longs = set(re.findall(r"(?m)^\.BR? +\\-\\-([a-z][a-z-]*)", text))
if longs != {"help", "version"}:
    bad.append("the page names the long options %s" % sorted(longs))
p = subprocess.run([binary, "--version"], capture_output=True, timeout=10)
if p.returncode != 0 or not re.match(r"^\w+ \S+\n$", p.stdout.decode()):
    bad.append("--version: status %d, %r" % (p.returncode, p.stdout))
p = subprocess.run([binary, "--versions", "-T"], capture_output=True, timeout=10)
if p.returncode == 0:
    bad.append("--versions accepted")
print("; ".join(bad))
sys.exit(1 if bad else 0)
PY
	); then
		echo "ok doc/$prog.8 (options and long options as $prog has them)"
	else
		echo "not ok doc/$prog.8: $out"; st=1
	fi
done
exit $st
