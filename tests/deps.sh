#!/bin/sh
# deps.sh: install the test-only packages (the check library, pkg-config,
# strace for tests/scripts/fsync-count.py) when missing.  As root it uses apt-get; otherwise it names the package and stops.
need=""
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
pkg-config --exists check 2>/dev/null || need="$need check"
command -v python3 >/dev/null 2>&1 || need="$need python3"
command -v strace >/dev/null 2>&1 || need="$need strace"
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "tests need the Debian package(s):$need (apt-get install$need)" >&2
	exit 1
fi
echo "installing test dependencies:$need" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q $need >/dev/null 2>&1 ||
	{ apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $need >/dev/null; } ||
	{ echo "apt-get install$need failed" >&2; exit 1; }
