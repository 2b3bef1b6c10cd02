#!/bin/sh
# seeds.sh: (re)make the seed corpora of tests/fuzz/corpus from the
# transcripts and a few hand-made samples.  Run from anywhere; commit the
# result.  Inputs the fuzzers found worth keeping can be added by hand.
# shellcheck disable=SC2016  # the $ of crypt hashes are meant literally
set -eu
cd "$(dirname "$0")"
T=../transcripts
C=corpus
rm -rf "$C/smtp" "$C/pop3" "$C/mbox" "$C/users" "$C/aliases" "$C/addr"
mkdir -p "$C/smtp" "$C/pop3" "$C/mbox" "$C/users" "$C/aliases" "$C/addr"

# Sessions: every transcript input as it is.
for f in "$T"/smtpd-*.in; do n=${f##*/}; cp "$f" "$C/smtp/${n%.in}"; done
for f in "$T"/pop3d-*.in; do n=${f##*/}; cp "$f" "$C/pop3/${n%.in}"; done

# mbox files: the transcripts' sample, and the corner cases of the format.
sed -n "/^From sender@example.com/,/^MBOX\$/p" "$T/pop3d.lib" | sed '$d' \
    >"$C/mbox/sample"
printf 'From a@b Mon Jan  1 10:00:00 2024\nSubject: x\n\nbody\n' >"$C/mbox/no-blank-end"
printf 'From a@b Mon Jan  1 10:00:00 2024\nbody' >"$C/mbox/no-lf-end"
printf 'From a@b Mon Jan  1 10:00:00 2024' >"$C/mbox/from-only"
printf 'From a@b Mon Jan  1 10:00:00 2024\r\nSubject: crlf\r\n\r\nbody\r\n\r\n' >"$C/mbox/crlf"
printf 'From a@b Mon Jan  1 10:00:00 2024\n>From a\n>>From b\n>>>From c\n>From\n>>>\nFrom x\n\n' \
    >"$C/mbox/quoting"
printf 'From a\n\nFrom b\n\nFrom c\nFrom d\n\n\nFrom e\n\n' >"$C/mbox/many"
printf 'From a@b Mon Jan  1 10:00:00 2024\n\n\n\n' >"$C/mbox/empty-body"
printf 'From a\n\nFrom a\n\nFrom a\n\n' >"$C/mbox/duplicates"
printf 'from a\nFrom b\n' >"$C/mbox/not-mbox"

# users files.
cp "$T/users" "$C/users/transcripts"
printf '# comment\n\n  \t\nbob:{PLAIN}secret\ndave:$6$salt$hash:1000:1001:Dave:/home/dave:/bin/sh\ncarol:{PLAIN}x::\neve:{PLAIN}x:::::\n' \
    >"$C/users/fields"
printf 'crlf:{PLAIN}crlfpw\r\nalice:{CLEARTEXT}a:0:0\r\n' >"$C/users/crlf"
printf 'bob:{PLAIN}x:1000\nbob:{PLAIN}x:-1:1000\nbob:{PLAIN}x:4294967295:1\n' >"$C/users/bad-ids"
printf 'x:{SHA512-CRYPT}$6$s$h\ny:{BLF-CRYPT}$2y$h\nz:{NOSUCH}p\n' >"$C/users/schemes"

# aliases files: the transcripts' and a few more.
printf '# aliases\n\nteam: alice, Bob\n  abuse :carol,abuse-box  \n' >"$C/aliases/team"
printf '# site aliases\npostmaster: alice\n' >"$C/aliases/postmaster"
printf 'a: b\r\nc:d,e ,\tf\n#x: y\n' >"$C/aliases/crlf"
printf 'x.lock: y\n..: z\n' >"$C/aliases/bad-names"

# Paths and parameters: what the transcripts give MAIL FROM and RCPT TO, and
# the command lines themselves.
i=0
cat "$T"/smtpd-*.in | tr -d '\r' | grep -aiE '^(MAIL FROM:|RCPT TO:)' | sort -u |
while IFS= read -r l; do
	i=$((i + 1))
	printf '%s' "$l" >"$C/addr/line-$i"
	printf '%s' "${l#*:}" >"$C/addr/path-$i"
done
