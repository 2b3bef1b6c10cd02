#!/bin/sh
# run-transcripts.sh: pipe each tests/transcripts/NAME.in through a server and
# compare its output with NAME.out after normalising it.
#
# NAME starts with "smtpd-" or "pop3d-", which picks the binary.  Each runs in a
# fresh scratch folder $T holding spool/ (the -m DIR) and users (the -p FILE,
# copied from tests/transcripts/users, every entry given an owner: nobody's
# uid:gid as root, where the servers refuse entries without one, our own
# otherwise), made as the man pages recommend /var/mail: a searchable
# folder, a 3775 (sticky) spool of the users' group.  Optional files beside
# NAME.in:
#   NAME.args    extra arguments (one line, word-split by the shell; $T expands)
#   NAME.env     the server's environment gets these NAME=VALUE words (one
#                line), as a launcher would set them (TCPREMOTEIP=...)
#   NAME.setup   sh -e script run in $T first (make mailboxes, files, limits);
#                $U and $G are the users' uid and gid, for the files it makes
#   NAME.post    sh -e script run in $T after: every command must succeed
#   NAME.status  the expected exit status of the server (default: any)
#   NAME.ulimit  a file size limit for the server, as `ulimit -f` takes it
#                (blocks; its log and output count too, so keep them small)
#   NAME.tls     the server gets a pipe on fd 5, as a TLS wrapper's control
#                pipe (tls.h); what it writes there lands in $T/fd5, and
#                $T/fd5.eof appears once every copy of the pipe is closed
# The server runs as
#   BIN -h mail.example.org -m $T/spool -p $T/users -l stderr [args] <NAME.in
# with its log in $T/log.  Output is normalised with PROG.sed (per program) so
# that dates, session ids and queue ids compare equal.
# Prints "ok NAME" or "not ok NAME" and the difference; exit 1 if any failed.
B=${B:-build}
TOP=$(pwd)
D=$TOP/tests/transcripts
SMTPD=${SMTPD:-$TOP/$B/smtpd/smtpd}
POP3D=${POP3D:-$TOP/$B/pop3d/pop3d}
export TOP SMTPD POP3D
only=$1
st=0
if [ "$(id -u)" = 0 ]; then U=65534 G=65534; else U=$(id -u) G=$(id -g); fi
for in in "$D"/*.in; do
	[ -f "$in" ] || continue
	name=${in##*/}; name=${name%.in}
	[ -n "$only" ] && [ "$name" != "$only" ] && continue
	case $name in
	smtpd-*) prog=smtpd bin=$SMTPD ;;
	pop3d-*) prog=pop3d bin=$POP3D ;;
	*) echo "not ok $name (name must start with smtpd- or pop3d-)"; st=1; continue ;;
	esac
	T=$(mktemp -d "${TMPDIR:-/tmp}/inetmail-t.XXXXXX")
	export T U G
	mkdir "$T/spool"
	sed -E "/^[^#][^:]*:[^:]*\$/s/\$/:$U:$G/" "$D/users" >"$T/users"
	chmod 755 "$T" && chgrp "$G" "$T/spool" && chmod 3775 "$T/spool"
	ok=1 why=""
	if [ -f "$D/$name.setup" ] && ! (cd "$T" && sh -e "$D/$name.setup") >"$T/setup.log" 2>&1; then
		ok=0 why="setup failed: $(cat "$T/setup.log")"
	fi
	args=""
	[ -f "$D/$name.args" ] && args=$(eval "echo $(cat "$D/$name.args")")
	# With NAME.ulimit, the server runs under sh -c 'ulimit -f N; exec ...'.
	set --
	# shellcheck disable=SC2046
	[ -f "$D/$name.env" ] && set -- env $(cat "$D/$name.env")
	[ -f "$D/$name.ulimit" ] &&
		set -- "$@" sh -c 'ulimit -f "$0" && exec "$@"' "$(cat "$D/$name.ulimit")"
	if [ $ok = 1 ]; then
		# fd 5: the standard input, or with NAME.tls a pipe read into
		# $T/fd5 by a reader that notes when the last writer is gone.
		ctl=/dev/null
		if [ -f "$D/$name.tls" ]; then
			mkfifo "$T/ctl"
			(timeout 40 cat "$T/ctl" >"$T/fd5" && : >"$T/fd5.eof") &
			ctl=$T/ctl
		fi
		# shellcheck disable=SC2086
		timeout 30 "$@" "$bin" -h mail.example.org -m "$T/spool" -p "$T/users" \
		    -l stderr $args <"$in" >"$T/out.raw" 2>"$T/log" 5>"$ctl"
		rc=$?
		[ -f "$D/$name.tls" ] && wait
		# 124: timeout(1) ended it; 125-127: it did not run; above
		# 128: a signal killed it (or its session process: the
		# delivery or login side exits 128 + the session's signal).
		if [ "$rc" -ge 124 ]; then
			ok=0 why="exit status $rc (timeout, not run, or killed by a signal)"
		elif [ -f "$D/$name.status" ] && [ "$rc" != "$(cat "$D/$name.status")" ]; then
			ok=0 why="exit status $rc, expected $(cat "$D/$name.status")"
		fi
		sed -E -f "$D/$prog.sed" "$T/out.raw" >"$T/out"
		if ! cmp -s "$T/out" "$D/$name.out"; then
			ok=0 why="output differs:
$(diff -u "$D/$name.out" "$T/out" | head -40)"
		fi
		if [ $ok = 1 ] && [ -f "$D/$name.post" ] &&
		    ! (cd "$T" && sh -e "$D/$name.post") >"$T/post.log" 2>&1; then
			ok=0 why="post check failed: $(cat "$T/post.log")"
		fi
		# Any sanitizer's report, whichever process wrote it.
		if grep -q 'runtime error\|Sanitizer' "$T/log" "$T/out.raw"; then
			ok=0 why="sanitizer report: $(grep -h -m3 'runtime error\|Sanitizer' "$T/log" "$T/out.raw")"
		fi
	fi
	if [ $ok = 1 ]; then
		echo "ok $name"; rm -rf "$T"
	else
		echo "not ok $name: $why"; echo "  (log: $(tail -5 "$T/log" 2>/dev/null))"
		st=1; rm -rf "$T"
	fi
done
exit $st
