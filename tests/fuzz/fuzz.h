/* fuzz.h: what the libFuzzer harnesses share: a scratch directory made once
 * per process, whole-file writes, and the stubs for work that is not ours to
 * fuzz (see fuzz_util.c).  Test code only; never linked into the servers. */
#ifndef INETMAIL_FUZZ_H
#define INETMAIL_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/types.h>

#include "priv.h"

/* libFuzzer's entry points. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Make (once) and return $TMPDIR/inetmail-fuzz-NAME.XXXXXX (TMPDIR defaults
 * to /tmp).  It is removed at exit; a crash leaves it for inspection. */
const char *fuzz_scratch(const char *name);

/* Write LEN bytes at P to PATH (created or truncated, MODE); aborts on error,
 * since a harness that cannot set up its files finds nothing. */
void fuzz_put(const char *path, const void *p, size_t len, mode_t mode);
/* Read PATH whole into a malloc'ed buffer (*LEN bytes); aborts on error. */
char *fuzz_slurp(const char *path, size_t *len);

/* Append LEN bytes at BUF to the growing buffer *OUT (*USED bytes of *CAP):
 * the servers' output, captured.  Aborts when memory runs out. */
void fuzz_append(char **out, size_t *used, size_t *cap, const void *buf,
    size_t len);

/* Remove every entry of directory DIR (files only; one level). */
void fuzz_clean_dir(const char *dir);
/* 1 when DIR holds a leftover lock: a dotlock "*.lock" or a link file
 * ".lk*" of dotlock_take.  Every session must release what it locked. */
int fuzz_lock_left(const char *dir, char *name, size_t cap);

/* Start logging as IDENT: discarded (syslog is stubbed), or to stderr when
 * FUZZ_LOG is set in the environment (for reproducing one input). */
void fuzz_log_init(const char *ident);

/* A privileged side at the other end of a real seam: FN(peer) runs in a
 * thread on PS while the harness runs the session on SESS; every wait of
 * either ends within an hour.  fuzz_peer_join closes the session's end
 * (if still open) and waits for the thread. */
struct fuzz_peer {
	pthread_t	 t;
	struct priv_seam ps, sess;
	const void	*conf;
	int		 rc;
};
void fuzz_peer_start(struct fuzz_peer *p, void *(*fn)(void *),
    const void *conf);
int fuzz_peer_join(struct fuzz_peer *p);

/* Report a broken oracle: what, and abort() so libFuzzer saves the input. */
_Noreturn void fuzz_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
