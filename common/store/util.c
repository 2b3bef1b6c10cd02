/* util.c: the store's small shared pieces: result texts, mailbox names,
 * errno mapping, the spool of a box, unguessable temporary names, clocks
 * and directory syncs.  No
 * privileges, no locking.  Everything here is a leaf: it calls no other
 * file of the store, so any of them may call it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "params.h"
#include "store.h"
#include "store_int.h"

void (*store_fault_hook)(const char *, int);
int store_lock_wait_ms = LOCK_WAIT_MS;

const char *
store_strerror(int err)
{
	switch (err) {
	case STORE_OK:		return "ok";
	case STORE_ENAME:	return "invalid mailbox name";
	case STORE_ETYPE:	return "mailbox is not a regular file";
	case STORE_ELOCK:	return "mailbox is locked";
	case STORE_EIO:		return "I/O error";
	case STORE_ENOSPC:	return "no space for the mailbox";
	case STORE_ECHANGED:	return "mailbox changed";
	case STORE_ENOTMBOX:	return "mailbox is not in mbox format";
	case STORE_EINUSE:	return "mailbox in use";
	case STORE_ENOENT:	return "no mailbox";
	case STORE_EOWNER:	return "mailbox has the wrong owner";
	case STORE_ETRUST:	return "a spool file is not ours to trust";
	case STORE_EQUOTA:	return "over quota";
	default:		return "unknown error";
	}
}

int
store_errno(int e)
{
	switch (e) {
	case ENOSPC:
	case EFBIG:
#ifdef EDQUOT
	case EDQUOT:
#endif
		return STORE_ENOSPC;
	default:
		return STORE_EIO;
	}
}

int
store_name_ok(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > USER_MAX || name[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		/* '/' would leave the spool; controls and space break the
		 * From_ line and the logs; 8-bit names are not portable. */
		if (c <= ' ' || c == '/' || c >= 0x7f)
			return 0;
	}
	/* NAME.lock is the dotlock of mailbox NAME. */
	if (len >= 5 && memcmp(name + len - 5, ".lock", 5) == 0)
		return 0;
	return 1;
}

const char *
store_spool(const struct store_box *b, char *buf, size_t cap)
{
	snprintf(buf, cap, "%.*s", (int)(b->namepos - 1), b->path);
	return buf;
}

int
sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	if (fd == -1)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

void
store_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

long
store_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Random bytes: getrandom(2) needs no file, so it works in a chroot
 * without /dev; /dev/urandom where the kernel lacks it. */
static int
random_bytes(unsigned char *p, size_t n)
{
	ssize_t r;
	int fd;

	while (n > 0) {
		r = getrandom(p, n, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		p += r;
		n -= (size_t)r;
	}
	if (n == 0)
		return 0;
	if ((fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	r = read(fd, p, n);
	close(fd);
	return r == (ssize_t)n ? 0 : -1;
}

uint64_t
store_random(void)
{
	uint64_t v;

	/* Without randomness, a fixed value is still correct: it only
	 * samples the same places every time. */
	if (random_bytes((unsigned char *)&v, sizeof(v)) == -1)
		v = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)store_now_ms();
	return v;
}

int
store_tmp_name(char *buf, size_t cap, const char *prefix)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[STORE_TMP_RANDOM];
	size_t i, p = strlen(prefix);

	if (p + 2 * sizeof(rnd) + 1 > cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (random_bytes(rnd, sizeof(rnd)) == -1)
		return -1;
	memcpy(buf, prefix, p);
	for (i = 0; i < sizeof(rnd); i++) {
		buf[p + 2 * i] = hex[rnd[i] >> 4];
		buf[p + 2 * i + 1] = hex[rnd[i] & 15];
	}
	buf[p + 2 * sizeof(rnd)] = '\0';
	return 0;
}

int
store_tmp_create(const char *dir, const char *prefix, int flags, mode_t mode,
    char *path, size_t cap)
{
	char name[64];
	int fd, n, tries;

	/* A name from a pid, a counter and a clock can be planted before it
	 * is used (a squatter in a sticky spool fails the delivery that
	 * wanted it); 64 random bits cannot.  O_EXCL makes a clash an error
	 * we see, never a file we share; we simply draw again. */
	for (tries = 0; tries < TMP_NAME_TRIES; tries++) {
		if (store_tmp_name(name, sizeof(name), prefix) == -1)
			return -1;
		n = snprintf(path, cap, "%s/%s", dir, name);
		if (n < 0 || (size_t)n >= cap) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open(path, flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY |
		    O_CLOEXEC, mode);
		if (fd != -1 || errno != EEXIST)
			return fd;
	}
	return -1;	/* EEXIST every time: not chance */
}

int
store_tmp_name_ok(const char *name, const char *prefix)
{
	size_t p = strlen(prefix), i;

	if (strncmp(name, prefix, p) != 0 ||
	    strlen(name) != p + 2 * STORE_TMP_RANDOM)
		return 0;
	for (i = p; name[i] != '\0'; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return 1;
}
