# inetmail: smtpd and pop3d, two inetd-style mail servers sharing one mbox store.
#   make              build smtpd/smtpd and pop3d/pop3d
#   make check        build and run every test (SANITIZE=1: under ASan+UBSan)
#   make DYNAMIC=1    link both against the shared libc (the default is
#                     static, see below), into build-dyn/
#   make CC=clang     any C11 compiler; warnings are errors

CC	?= cc
PREFIX	?= /usr/local
DESTDIR	?=
SANITIZE ?=
DYNAMIC	?=
STATIC	?=
SMTP_PORT ?= 2525
POP3_PORT ?= 1100

WARN	 = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wformat=2 -Wno-format-nonliteral
CFLAGS	?= -O2 -g
ALL_CFLAGS = -std=c11 -D_XOPEN_SOURCE=700 $(WARN) $(CFLAGS) -iquote common -iquote common/store
# crypt(3) for pop3d's password checks; smtpd never checks one and starts
# faster without loading libcrypt (common/pass.c is all that needs it).
LDLIBS	 = -lcrypt

# The servers are linked statically: a process of theirs is started for
# every connection, and a static one starts, forks and exits in well under
# half the CPU time of a dynamic one (no loader, no relocations, a third of
# the page faults; docs/PERFORMANCE.md).  The cost: a static build reads
# system accounts from /etc/passwd and /etc/shadow itself (common/acct.c:
# glibc would load other NSS modules into the static process, and crash
# it), so accounts from LDAP or SSSD need DYNAMIC=1 (-T warns when
# nsswitch.conf names such a source).  Rebuild after a glibc security
# update, as with any static program.  ASan needs the dynamic loader:
# SANITIZE=1 builds are dynamic.
ifeq ($(SANITIZE),1)
B	 = build-san
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=address,undefined
STATIC	 = 0
else ifeq ($(DYNAMIC),1)
B	 = build-dyn
STATIC	 = 0
else
B	 = build
STATIC	 = 1
endif
ifeq ($(STATIC),1)
SERVER_LDFLAGS = -static
ALL_CFLAGS += -DINETMAIL_STATIC=1
endif

COMMON_SRC = $(sort $(wildcard common/*.c common/store/*.c))
SMTPD_SRC  = $(filter-out smtpd/main.c,$(sort $(wildcard smtpd/*.c)))
POP3D_SRC  = $(filter-out pop3d/main.c,$(sort $(wildcard pop3d/*.c)))
UNIT_SRC   = $(sort $(wildcard tests/unit/test_*.c))
HEADERS    = $(wildcard common/*.h common/store/*.h smtpd/*.h pop3d/*.h tests/unit/*.h)

LIBCOMMON  = $(B)/libcommon.a
LIBSMTPD   = $(B)/libsmtpd.a
LIBPOP3D   = $(B)/libpop3d.a
UNIT_BIN   = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
TOOL_BIN   = $(patsubst tests/tools/%.c,$(B)/tools/%,$(wildcard tests/tools/*.c))

.PHONY: all check all-tests tools clean bench demo install deps interop fuzz fuzz-long stress cluster crashcheck
all: $(B)/smtpd/smtpd $(B)/pop3d/pop3d
ifneq ($(SANITIZE),1)
all: smtpd/smtpd pop3d/pop3d
smtpd/smtpd: $(B)/smtpd/smtpd
	cp $< $@
pop3d/pop3d: $(B)/pop3d/pop3d
	cp $< $@
endif

$(B)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBCOMMON): $(COMMON_SRC:%.c=$(B)/%.o)
	rm -f $@ && ar rcs $@ $^
$(LIBSMTPD): $(SMTPD_SRC:%.c=$(B)/%.o)
	rm -f $@ && ar rcs $@ $^
$(LIBPOP3D): $(POP3D_SRC:%.c=$(B)/%.o)
	rm -f $@ && ar rcs $@ $^

# The linker notes that getpwnam, getspnam and getaddrinfo would load NSS
# modules at run time: they are not called in a static build (acct.c; -L
# takes numeric addresses only), so the notes are left out of the output;
# any other message of the link shows, and a failed link fails.
STATIC_NOTE = in statically linked applications requires at runtime the shared libraries
LINK_SERVER = $(CC) $(LDFLAGS) $(SERVER_LDFLAGS) -o $@ $^ $(1) 2>$@.ld; st=$$?; \
	grep -v -e "$(STATIC_NOTE)" -e ": in function .*':$$" $@.ld >&2; \
	rm -f $@.ld; exit $$st
$(B)/smtpd/smtpd: $(B)/smtpd/main.o $(LIBSMTPD) $(LIBCOMMON)
	@echo "$(CC) $(LDFLAGS) $(SERVER_LDFLAGS) -o $@ $^"
	@$(call LINK_SERVER,)
$(B)/pop3d/pop3d: $(B)/pop3d/main.o $(LIBPOP3D) $(LIBCOMMON)
	@echo "$(CC) $(LDFLAGS) $(SERVER_LDFLAGS) -o $@ $^ $(LDLIBS)"
	@$(call LINK_SERVER,$(LDLIBS))

# Unit tests: one check program per tests/unit/test_*.c.  The check library is
# a test-only dependency, installed by tests/deps.sh when missing.
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)
# The session tests run a privileged half in a thread (tests/unit/seam_peer.h).
$(B)/tests/%: tests/unit/%.c $(LIBSMTPD) $(LIBPOP3D) $(LIBCOMMON) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -pthread -iquote tests/unit -iquote smtpd -iquote pop3d $(CHECK_CFLAGS) $(LDFLAGS) -o $@ \
	    $< $(LIBSMTPD) $(LIBPOP3D) $(LIBCOMMON) $(CHECK_LIBS) $(LDLIBS)

# Test tools: small programs that drive the library from scripts and benchmarks.
$(B)/tools/%: tests/tools/%.c $(LIBCOMMON) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBCOMMON) $(LDLIBS)
tools: $(TOOL_BIN)

deps:
	@sh tests/deps.sh

# deps runs in a sub-make first so the check flags are read after it installed.
check:
	@sh tests/deps.sh
	@$(MAKE) --no-print-directory all-tests
all-tests: all $(UNIT_BIN) $(TOOL_BIN)
	@B=$(B) sh tests/run-all.sh

# Suites that need real peers or much time; each script installs what it needs.
interop: all
	@sh tests/interop/run.sh
FUZZ_SECONDS ?= 30
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh tests/fuzz/run.sh
# An hour for each harness (FUZZ_ONLY= picks some), one harness per CPU at
# a time: about 4 hours on 2 CPUs for all.  Not part of CI.  What it finds
# is merged into tests/fuzz/corpus (minimised) and its CPU time goes into
# tests/fuzz/ledger.tsv, so runs add up; docs/RELIABILITY.md has the sums.
fuzz-long:
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-3600} FUZZ_PAR=$${FUZZ_PAR:-$$(nproc 2>/dev/null || echo 2)} \
	    FUZZ_KEEP=1 FUZZ_OUT=build/fuzz-long sh tests/fuzz/run.sh
stress: all $(TOOL_BIN)
	@B=$(B) sh tests/stress/run.sh
# The states a power cut may leave the store in, each checked with the real
# servers (tests/crashcheck/run.py; docs/RELIABILITY.md, "Power cuts"): a
# fixed sample in CI; CRASH_FULL=1 every state, CRASH_ONLY=PROTOCOL[:ID]
# one protocol or one state.
crashcheck: all $(TOOL_BIN)
	@sh tests/deps.sh
	@B=$(B) CRASH_FULL=$(CRASH_FULL) CRASH_ONLY=$(CRASH_ONLY) python3 tests/crashcheck/run.py
# Several front hosts behind haproxy on one GlusterFS volume, on this
# machine (network namespaces; as root; installs what it needs).
cluster: all
	@B=$(B) bash tests/cluster/run.sh

bench: all $(TOOL_BIN)
	@sh bench/run.sh

# Ports: make demo SMTP_PORT=2526 POP3_PORT=1101
demo: all
	@SMTP_PORT=$(SMTP_PORT) POP3_PORT=$(POP3_PORT) sh contrib/demo.sh

# Every step must work: a failed one fails the install.
install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 smtpd/smtpd pop3d/pop3d $(DESTDIR)$(PREFIX)/sbin/
	install -m 644 doc/*.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 644 doc/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/

clean:
	rm -rf build build-san build-dyn smtpd/smtpd pop3d/pop3d
