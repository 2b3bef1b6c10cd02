#!/bin/sh
# mda.sh DIR: the mail delivery agent of fetchmail and mpop in the interop
# test: each message on stdin becomes its own numbered file in DIR, so the
# test can compare every message byte for byte.
d=$1
n=0
for f in "$d"/msg.*; do
	[ -e "$f" ] && n=$((n + 1))
done
exec cat >"$d/msg.$(printf %03d $((n + 1)))"
