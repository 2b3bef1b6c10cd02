# inetmail: smtpd and pop3d, two inetd-style mail servers sharing one mbox store.
#   make              build smtpd/smtpd and pop3d/pop3d
#   make check        build and run every test (SANITIZE=1: under ASan+UBSan)
#   make STATIC=1     link both statically (chroot jails)
#   make CC=clang     any C11 compiler; warnings are errors

CC	?= cc
PREFIX	?= /usr/local
DESTDIR	?=
SANITIZE ?=
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

ifeq ($(SANITIZE),1)
B	 = build-san
ALL_CFLAGS += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS	+= -fsanitize=address,undefined
else
B	 = build
endif
ifeq ($(STATIC),1)
LDFLAGS	+= -static
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

.PHONY: all check all-tests tools clean bench demo install deps interop fuzz fuzz-long stress cluster
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

$(B)/smtpd/smtpd: $(B)/smtpd/main.o $(LIBSMTPD) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^
$(B)/pop3d/pop3d: $(B)/pop3d/main.o $(LIBPOP3D) $(LIBCOMMON)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests: one check program per tests/unit/test_*.c.  The check library is
# a test-only dependency, installed by tests/deps.sh when missing.
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)
$(B)/tests/%: tests/unit/%.c $(LIBSMTPD) $(LIBPOP3D) $(LIBCOMMON) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -iquote tests/unit -iquote smtpd -iquote pop3d $(CHECK_CFLAGS) $(LDFLAGS) -o $@ \
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
# One CPU-hour for each harness, one harness per CPU at a time: about
# 4 hours on 2 CPUs.  Not part of CI; its figures go to docs/RELIABILITY.md.
fuzz-long:
	@FUZZ_SECONDS=3600 FUZZ_PAR=$$(nproc 2>/dev/null || echo 2) \
	    FUZZ_OUT=build/fuzz-long sh tests/fuzz/run.sh
stress: all $(TOOL_BIN)
	@B=$(B) sh tests/stress/run.sh
# Several front hosts behind haproxy on one GlusterFS volume, on this
# machine (network namespaces; as root; installs what it needs).
cluster: all
	@B=$(B) bash tests/cluster/run.sh

bench: all $(TOOL_BIN)
	@sh bench/run.sh

# Ports: make demo SMTP_PORT=2526 POP3_PORT=1101
demo: all
	@SMTP_PORT=$(SMTP_PORT) POP3_PORT=$(POP3_PORT) sh contrib/demo.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/man/man8 \
	    $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 smtpd/smtpd pop3d/pop3d $(DESTDIR)$(PREFIX)/sbin/
	for m in doc/*.8; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/; done; true
	for m in doc/*.5; do [ -f "$$m" ] && install -m 644 $$m $(DESTDIR)$(PREFIX)/share/man/man5/; done; true

clean:
	rm -rf build build-san smtpd/smtpd pop3d/pop3d
