/* mbox.h: the mboxrd format: From_ lines, quoting, the index scan and the
 * message reader.  Pure file-format code: no locking, no privileges. */
#ifndef INETMAIL_MBOX_H
#define INETMAIL_MBOX_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The From_ line "From SENDER Www Mmm dd hh:mm:ss yyyy\n" for envelope sender
 * SENDER (NULL or "" gives MAILER-DAEMON; spaces and controls become '_').
 * Returns its length, or 0 when CAP is too small. */
size_t mbox_from_line(char *buf, size_t cap, const char *sender, time_t t);

/* 1 when LINE (LEN bytes, no line end) matches ^>*From , i.e. gets one more
 * '>' when stored and loses one when read back (mboxrd). */
int mbox_is_fromish(const char *line, size_t len);

/* format.c: what a delivery writes before and around a message. */
/* The envelope of one delivery, as the delivery side checked it. */
struct mbox_env {
	const char	*sender;	/* "" for the null sender <> */
	const char	*helo;		/* the client's HELO/EHLO name */
	const char	*client;	/* its address, or "unknown" */
	const char	*host;		/* our name */
	const char	*proto;		/* "SMTP" or "ESMTP" */
	const char	*qid;		/* queue id */
	time_t		 t;		/* arrival */
};
/* The trace block for recipient RCPT: the From_ line, Return-Path (RFC
 * 5321 4.4) and Received (with RFC 3848's "with"), LF line ends, into BUF.
 * Returns its length, or 0 when CAP is too small (HEAD_MAX always does). */
size_t mbox_trace(char *buf, size_t cap, const struct mbox_env *e,
    const char *rcpt);
/* 1 when P (LEN bytes: a message from its From_ line to the end of what
 * is there) begins as mbox_trace writes a message: its From_ line and
 * trace fields whole and in order, or cut short anywhere in them. */
int mbox_trace_start(const char *p, size_t len);
/* mboxrd quoting of a message body of LEN bytes (LF line ends): the bytes
 * it takes once every line matching ^>*From  has one more '>'. */
size_t mbox_quoted_len(const char *p, size_t len);
/* Quote P in place: LEN bytes of body become NEWLEN (mbox_quoted_len) in a
 * buffer that has room for them. */
void mbox_quote(char *p, size_t len, size_t newlen);

/* One message of a scanned mailbox: 48 bytes. */
struct mbox_msg {
	uint64_t	off;		/* offset of its From_ line */
	uint64_t	len;		/* bytes from the From_ line to the message's
					   end, separator blank line excluded */
	uint64_t	size;		/* octets RETR sends before byte-stuffing */
	uint64_t	hash[2];	/* UIDL hash of its first UIDL_HASH_BYTES */
	uint32_t	fromlen;	/* length of the From_ line, LF included */
	uint32_t	dup;		/* 0, or n for the n+1-th identical message */
};

/* The state of a mailbox file that an index describes: its inode, size
 * and times.  ctime moves on every change and no other writer can set it
 * back, so an equal stamp means an unchanged file. */
struct mbox_stamp {
	uint64_t	 ino, size;
	int64_t		 mtime, mtime_ns, ctime, ctime_ns;
};

struct mbox_index {
	struct mbox_msg	*msg;
	size_t		 n, cap;
	uint64_t	 end;		/* bytes scanned */
	uint64_t	 total;		/* sum of sizes */
	struct mbox_stamp stamp;	/* the file as it was scanned (the store
					   fills it in; zero when unknown) */
	int		 racy;		/* the stamp was taken within a clock
					   tick of the file's last change: a
					   change in that same tick would not
					   show in it */
};

#define MBOX_OK		0
#define MBOX_ENOTMBOX	(-1)	/* does not start with a From_ line */
#define MBOX_EIO	(-2)	/* read failed (errno set) */
#define MBOX_ETOOMANY	(-3)	/* more than MBOX_MSGS_MAX messages */
#define MBOX_ENOMEM	(-4)

/* Scan bytes [0, END) of FD in one sequential pass into *IX (zeroed by the
 * caller; free with mbox_index_free).  A message starts at "From " at the
 * start of the file or after an empty line.  An empty file is an empty index. */
int mbox_scan(int fd, uint64_t end, struct mbox_index *ix);
/* Scan bytes [START, END) of FD, START being where a message begins (its
 * "From " line, after an empty line or at the start), appending to *IX
 * (whose earlier messages end before START).  Duplicates are not numbered:
 * mbox_index_dups does that for the whole index. */
int mbox_scan_from(int fd, uint64_t start, uint64_t end, struct mbox_index *ix);

/* Tests only: 1 makes the scanner use its portable hot loop even where
 * the CPU has AVX2, so the two can be compared. */
extern int mbox_scan_portable;
/* Number identical messages (the dup of their UIDLs) over the whole of
 * *IX.  Returns MBOX_OK or MBOX_ENOMEM. */
int mbox_index_dups(struct mbox_index *ix);
void mbox_index_free(struct mbox_index *ix);

/* The UIDL of message M: 32 hex digits, plus ".n" for identical copies. */
#define MBOX_UIDL_SIZE	48
void mbox_uidl(const struct mbox_msg *m, char buf[MBOX_UIDL_SIZE]);

/* The 128-bit hash of LEN bytes at P. */
void mbox_hash(const void *p, size_t len, uint64_t out[2]);
/* The hash of LEN bytes of message (From_ line included, less a final LF)
 * whose first min(LEN, UIDL_HASH_BYTES) bytes are at P. */
void mbox_msg_hash(const void *p, uint64_t len, uint64_t out[2]);
/* uidl.c: a message's UIDL hash: the message at OFF of FD, NORM bytes long
 * without a final LF, its first AVAIL bytes at BUF (NULL, or fewer than
 * needed: the rest is read from FD); the header fields mail readers rewrite
 * (Status, X-Status, X-UID, X-IMAP, X-IMAPbase, X-Keywords, Content-Length,
 * Lines) left out.  Returns 0, or -1 on a read error or out of memory. */
int mbox_uidl_hash(int fd, uint64_t off, uint64_t norm, const char *buf,
    size_t avail, uint64_t out[2]);

/* Reads back one message's lines, From_ line skipped, quoting undone. */
struct mbox_reader {
	int		 fd;
	uint64_t	 pos, end;	/* file range still to read */
	size_t		 bpos, blen;
	int		 bol;		/* next byte starts a line */
	char		 buf[65536];
};
void mbox_reader_open(struct mbox_reader *r, int fd, const struct mbox_msg *m);
/* Next line without its LF: returns 1 and sets *LINE, *LEN and *MORE (1 when
 * the line continues in the next call), 0 at the end, -1 on a read error. */
int mbox_reader_line(struct mbox_reader *r, const char **line, size_t *len,
    int *more);

#endif
