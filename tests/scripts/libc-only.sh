#!/bin/sh
# libc-only.sh: the servers need libc and nothing else (pop3d also the
# system's libcrypt, for crypt(3)); TLS comes from a wrapper in front, never
# from a library inside.  A DYNAMIC=1 build is what ldd can read: every
# library it names must be libc, libcrypt or the loader.  The static
# build (the default) must have no dynamic section at all and no symbol of
# a TLS library linked in.  Env: TOP, B.
cd "${TOP:-.}" || exit 1
fail=0
ok() { echo "ok $*"; }
bad() { echo "FAIL $*"; fail=1; }

# Under make check SANITIZE=1 (or CC=clang B=...) MAKEFLAGS carries those
# to every make below: this build is the plain DYNAMIC=1 one, whatever ran us.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s DYNAMIC=1 SANITIZE= B=build-dyn \
    >/tmp/libc-only.$$ 2>&1 || { cat /tmp/libc-only.$$; rm -f /tmp/libc-only.$$; bad "make DYNAMIC=1"; exit 1; }
rm -f /tmp/libc-only.$$
for p in smtpd pop3d; do
	libs=$(ldd "build-dyn/$p/$p" | awk '{print $1}' | sed 's|.*/||')
	other=$(printf '%s\n' "$libs" | grep -v -x -e 'linux-vdso.so.1' \
	    -e 'libc.so.6' -e 'libcrypt.so.1' -e 'ld-linux-x86-64.so.2' \
	    -e 'ld-linux-aarch64.so.1' -e 'ld-linux.so.2')
	if printf '%s\n' "$libs" | grep -qx 'libc.so.6' && [ -z "$other" ]; then
		ok "ldd $p (DYNAMIC=1): $(echo $libs)"
	else
		bad "ldd $p (DYNAMIC=1) names more than libc and libcrypt: $(echo $other)"
	fi
done
[ "$(printf '%s\n' "$(ldd build-dyn/smtpd/smtpd)" | grep -c libcrypt)" = 0 ] &&
	ok "smtpd does not even load libcrypt" || bad "smtpd loads libcrypt"

if [ "${B:-build}" = build ]; then
	for p in smtpd pop3d; do
		f=build/$p/$p
		if LC_ALL=C readelf -d "$f" 2>&1 | grep -q 'no dynamic section'; then
			ok "$p (static) has no dynamic section"
		else
			bad "$p (static) is dynamic: $(readelf -d "$f" | grep NEEDED)"
		fi
		n=$(nm "$f" | grep -c -E ' (SSL_|TLS_|br_ssl_|gnutls_|mbedtls_|wolfSSL_)')
		[ "$n" = 0 ] && ok "$p (static) has no TLS library symbol" ||
			bad "$p (static) has $n TLS library symbols"
	done
fi
exit $fail
