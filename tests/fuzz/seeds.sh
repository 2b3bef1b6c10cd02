#!/bin/sh
# seeds.sh: write the seed inputs of tests/fuzz/corpus from the
# transcripts and a few hand-made samples.  Run from anywhere; commit the
# result.  It adds and overwrites seeds by name and removes nothing: the
# inputs that long runs found and kept (make fuzz-long merges them in,
# minimised) stay, so every run starts where the last one stopped.
# shellcheck disable=SC2016  # the $ of crypt hashes are meant literally
set -eu
cd "$(dirname "$0")"
T=../transcripts
C=corpus
mkdir -p "$C/smtp" "$C/pop3" "$C/mbox" "$C/users" "$C/aliases" "$C/addr" "$C/priv"

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
# /etc/aliases syntax: continuation lines, quotes, nesting, unsupported targets.
printf 'postmaster: root\nroot: alice\nteam: alice,\n  bob\n\t, carol\n' >"$C/aliases/debian"
printf '"sales": \\dave, "eve"@example.org, |/usr/bin/procmail\nlog: /var/log/x, :include:/etc/list, x@remote.example\n' \
    >"$C/aliases/kinds"
printf '  leading continuation\na: "b, c"\nd:e\r\n' >"$C/aliases/odd"

# Paths and parameters: what the transcripts give MAIL FROM and RCPT TO, and
# the command lines themselves; each named by its checksum, so a seed keeps
# its name when transcripts come and go.
cat "$T"/smtpd-*.in | tr -d '\r' | grep -aiE '^(MAIL FROM:|RCPT TO:)' | sort -u |
while IFS= read -r l; do
	printf '%s' "$l" >"$C/addr/line.tmp"
	mv "$C/addr/line.tmp" "$C/addr/line-$(cksum <"$C/addr/line.tmp" | cut -d' ' -f1)"
	printf '%s' "${l#*:}" >"$C/addr/path.tmp"
	mv "$C/addr/path.tmp" "$C/addr/path-$(cksum <"$C/addr/path.tmp" | cut -d' ' -f1)"
done

# Requests to the privileged sides (fuzz_priv.c): a first byte for the side
# (even: smtpd's delivery side, odd: pop3d's login checker), then frames of
# a type byte, a 16-bit length and the payload.  Below 0x80 the harness
# packs the message from NUL-separated fields: smtpd 0 MAIL (HELO name,
# sender, flags: 1 ESMTP, 2 TLS), 1 RCPT (local part, address), 2 BODY,
# 3 END; pop3d 0 LOGIN and 1 FAILED (method byte: 0 pass, 1 apop, 2 plain;
# name, secret or reason), 2 HANDOVER (unused input), 3 any other type.
# From 0x80 up the payload goes out as it is (type & 0x7f).
python3 - "$C/priv" <<'PY'
import os, struct, sys
d = sys.argv[1]
def f(t, p):
    return bytes([t]) + struct.pack(">H", len(p)) + p
SMTP, POP = b"\0", b"\1"
mail = f(0, b"client.example\0s@remote.example\0\1")
seeds = {
    "deliver": SMTP + mail + f(1, b"alice\0alice@mail.example.org") +
               f(2, b"Subject: x\n\nFrom here\n>From there\n") + f(3, b""),
    "two-rcpt": SMTP + mail + f(1, b"alice\0alice@x") + f(1, b"bob+tag\0bob+tag@x") +
                f(1, b"postmaster\0postmaster") + f(2, b"hi\n") + f(3, b""),
    "null-sender": SMTP + f(0, b"h\0\0\0") + f(1, b"carol\0carol@x") + f(3, b""),
    "tls-claim": SMTP + f(0, b"h\0a@b\0\3") + f(1, b"alice\0alice@x") + f(3, b""),
    "unknown": SMTP + mail + f(1, b"nobody-here\0x@y") + f(3, b""),
    "bad-envelope": SMTP + f(0, b"h\nFrom x\0a\0\1") + f(3, b""),
    "no-mail": SMTP + f(1, b"alice\0a@b") + f(2, b"x") + f(3, b"") + f(0x89, b"junk"),
    "two-txns": SMTP + mail + f(1, b"alice\0a@x") + f(2, b"one\n") + f(3, b"") +
                mail + f(1, b"alice\0a@x") + f(2, b"two\n") + f(3, b""),
    "logins": POP + f(0, b"\0alice\0alicepw") + f(0, b"\1bob\0" + b"0" * 32) +
              f(0, b"\2\0\0") + f(0, b"\0x\0y"),
    "failed": POP + f(1, b"\0alice\0bad base64") + f(0, b"\0alice\0wrong") +
              f(0, b"\0alice\0alicepw"),
    "handover-first": POP + f(2, b"STAT\r\n"),
    "login-handover": POP + f(0, b"\0alice\0alicepw") + f(2, b"LIST\r\nQUIT\r\n"),
    "root": POP + f(0, b"\0root\0rootpw") + f(0, b"\0noids\0noidspw"),
}
for name, data in seeds.items():
    with open(os.path.join(d, name), "wb") as fh:
        fh.write(data)
PY

# A seed that is already in its corpus under another name (a long run's
# merge names inputs by their SHA-1) is not kept twice.
for d in "$C"/*/; do
	# shellcheck disable=SC2012  # plain names: ours, or SHA-1s
	ls "$d" | sort -r | while IFS= read -r n; do
		printf '%s %s\n' "$(cksum <"$d$n" | tr ' ' '-')" "$n"
	done | sort -s -k1,1 | awk -v d="$d" '$1 == prev { print d $2 } { prev = $1 }' |
	while IFS= read -r dup; do rm -f "$dup"; done
done
