/* params.h: every limit inetmail enforces, its default, its ceiling and the reason.
 * Shared by smtpd and pop3d; no code, only numbers. */
#ifndef INETMAIL_PARAMS_H
#define INETMAIL_PARAMS_H

/* User names: the mailbox file name under the spool.  RFC 5321 4.5.3.1.1 caps a
 * local part at 64 octets; system user names are shorter still. */
#define USER_MAX		64

/* RFC 5321 4.5.3.1.4: a command line is at most 512 octets including CRLF. */
#define SMTP_LINE_MAX		512
/* RFC 5321 4.5.3.1.6: a text line is at most 1000 octets including CRLF.  We
 * accept longer DATA lines (real mail has them) but read them in pieces of this
 * size, so memory never depends on a line's length. */
#define SMTP_DATA_CHUNK		1000
/* RFC 1939 3 / RFC 2449 4: a command line is at most 255 octets including CRLF. */
#define POP3_LINE_MAX		255

/* smtpd -s: 10 MiB, what most providers accept.  It bounds what a message
 * adds to a mailbox (From_ line, trace fields and quoting included).  The
 * delivery side holds the message in memory until it is stored, so the
 * ceiling is what one session may allocate. */
#define SMTPD_SIZE_DEFAULT	10485760u
#define SMTPD_SIZE_MAX		(1024u * 1024u * 1024u)
/* smtpd -q: a quota per mailbox, none by default (the disk is the limit). */
#define SMTPD_QUOTA_MAX		(1ull << 62)
/* The message buffer's first allocation; doubled as needed up to -s, so a
 * small message costs little and a big one few reallocations. */
#define BODY_START		65536
/* The session hands the message to the delivery side in pieces of this
 * size: the process that reads the client never holds more of it; the
 * delivery side holds it whole, up to -s, until it is stored. */
#define SMTP_CHUNK		(64 * 1024)
/* The delivery side holds every recipient's mailbox open and locked until
 * all are written (all or nothing), one descriptor each: it accepts no more
 * recipients than its descriptor limit (RLIMIT_NOFILE, raised to the hard
 * limit) less this reserve (standard fds, log, channel, directory, marker,
 * dotlock and journal files), so a 250 is never given to a recipient it
 * could not deliver to. */
#define SMTPD_FD_RESERVE	32
/* smtpd -n: RFC 5321 4.5.3.1.8 asks a server to accept at least 100
 * recipients a message.  The table costs about 400 bytes a recipient. */
#define SMTPD_RCPT_DEFAULT	100u
#define SMTPD_RCPT_MAX		10000u
/* RCPT commands in one transaction: 2 * -n + SMTPD_RCPT_SLACK.  Duplicates
 * and refused addresses never fill the -n table, and each one costs a users
 * file lookup; past this count RCPT gets 452 4.5.3 at once, with no lookup.
 * The slack leaves a list message room for its duplicates and stale
 * addresses, like SMTPD_RCPT_ERRORS_MAX. */
#define SMTPD_RCPT_SLACK	100u
/* smtpd -d may be given this often. */
#define SMTPD_DOMAINS_MAX	32
/* Errors in one session before 421 and close: a client that keeps erring is
 * broken or probing.  Only 5xx replies count: a 4xx says something
 * about us (busy, full, lookup failure) or is flow control (RFC 5321
 * 4.5.3.1.10: 452 asks for the other recipients in a later transaction).
 * Refused recipient addresses (550, 553, 501 5.1.3 to RCPT) have a bound of
 * their own in each transaction, the larger of SMTPD_RCPT_ERRORS_MAX and -n:
 * a list message sends all its RCPTs before it sees a reply (RFC 2920), and
 * stale addresses in it must not cost the others their delivery.  A
 * transaction that ends without one accepted recipient counts one error, so
 * a dictionary attack spread over transactions still ends. */
#define SMTPD_ERRORS_MAX	10
#define SMTPD_RCPT_ERRORS_MAX	100
/* RFC 5321 4.1.1.1: the HELO argument is a domain or an address literal. */
#define HELO_MAX		255
/* smtpd's session holds the requests that need no answer (MAIL, the BODY
 * pieces of a small message) to send them with the next one that does, in
 * one write: the delivery side wakes once for them.  A bigger piece goes at
 * once. */
#define SMTP_LINK_HOLD		(8 * 1024)

/* RFC 5034 4: a POP3 server must accept SASL responses as long as its
 * mechanisms produce; for PLAIN that is authzid, user and password,
 * base64-encoded.  1024 octets covers a 64-octet name and passwords of
 * several hundred. */
#define POP3_AUTH_LINE_MAX	1024
/* RFC 1939 4 does not limit failed logins; three is what most servers allow
 * before hanging up.  With the fixed delay it caps guessing at 3 tries a
 * connection.  Both are enforced by the login checker (the privileged
 * part), not only by the session: a session taken over cannot try faster. */
#define POP3_FAILS_MAX		3
/* The fixed time a failed login takes, measured from when the checker got
 * it, so that crypt(3) time does not tell known users from unknown ones. */
#define POP3_FAIL_DELAY_MS	1000

/* RFC 5321 4.5.3.1.1-3: local part 64, domain 255, path 256 octets. */
#define ADDR_LOCAL_MAX		64
#define ADDR_DOMAIN_MAX		255
#define ADDR_PATH_MAX		256
/* Trace block of one recipient: From_ line (sender <= 256), Return-Path
 * (<= 270), Received (HELO 255, address 64, host 255, id, path 256, date). */
#define HEAD_MAX		2048
/* The aliases file is read into memory once; a bigger one is a mistake. */
#define ALIASES_SIZE_MAX	(1024 * 1024)
/* Aliases nest, as in /etc/aliases ("postmaster: root", "root: alice"):
 * this deep at most, and this many targets looked at for one recipient, so
 * a loop or a fan-out in the file costs a bounded amount of work. */
#define ALIAS_DEPTH_MAX		8
#define ALIAS_STEPS_MAX		1000
/* -F: accounts with a uid below this take no mail from the network and
 * cannot log in (Dovecot's first_valid_uid; Debian gives users uids from
 * 1000 up, system accounts below). */
#define FIRST_UID_DEFAULT	1000
/* -M: system accounts with a uid above this take no mail and cannot log
 * in either: Debian's UID_MAX (login.defs; adduser's LAST_UID is 59999),
 * above which live nobody (65534) and other ids that no person logs in as.
 * Users-file entries name their uids on purpose and are not held to it. */
#define LAST_UID_DEFAULT	60000

/* Defaults of the shared -t option, in seconds.  RFC 5321 4.5.3.2.7 asks an SMTP
 * server to wait at least 5 minutes for a command; RFC 1939 3 asks a POP3 server
 * to wait at least 10 minutes before an autologout. */
#define SMTP_TIMEOUT_DEFAULT	300
#define POP3_TIMEOUT_DEFAULT	600
#define TIMEOUT_MAX		86400
/* The idle timeout alone lets a client that sends a byte every -t - 1
 * seconds hold a session for ever (a slow drip), so smtpd also sets
 * deadlines.  A command line must be complete within -t of its first byte
 * (RFC 5321 4.5.3.2.7 asks for 5 minutes of waiting for a command; 512
 * octets need far less).  The message (354 to the end mark) within
 * SMTP_DATA_DEADLINE_MUL * -t: 10 minutes by default.  RFC 5321 sets no
 * total for DATA (4.5.3.2.5 asks for 3 minutes per data block, which -t
 * covers); this bound is ours, against a message dripped at a few bytes a
 * minute, and asks 17 KiB/s for a message of the default -s.  A site with
 * slow links raises -t. */
#define SMTP_DATA_DEADLINE_MUL	2
/* -E: the most a whole session may last, however busy the client keeps it,
 * so that steady slow clients cannot hold -L slots (or inetd's processes)
 * for ever.  Generous: a relay's batch of mail, or a POP3
 * download of a large maildrop over a slow link, fits well within it. */
#define SMTP_LIFETIME_DEFAULT	3600
#define POP3_LIFETIME_DEFAULT	7200
#define LIFETIME_MAX		604800
/* As root without -u, the session (the process that reads the client's
 * bytes) runs as this account unless -U names another.  Debian has it on
 * every system; a dedicated account is better and is one -U away. */
#define SESSION_USER_DEFAULT	"nobody"

/* The seams between a server's processes (chan.h, msg.h): a frame's payload
 * is at most a piece of a message (SMTP_CHUNK) with room for its own
 * fields; pop3d's hand-over passes the most descriptors (the connection's
 * two and the TLS wrapper's control pipes). */
#define CHAN_MAX		(SMTP_CHUNK + 256)
#define CHAN_FDS		4
/* The privileged part ends a session (SIGKILL) that is still there this
 * long after its lifetime (-E): an honest session has said its 421 and
 * lingered (LINGER_MS) by then.  Every wait of the privileged part for a
 * frame, a hand-over or the session's exit ends there too. */
#define SEAM_GRACE_S		5

/* At the end of a session on a socket: how long to read and discard what
 * the client still sends after our side is shut (io_linger).  A client
 * closes at once when it has our last reply; a pipelining one whose input
 * we did not read would otherwise get a reset that can lose that reply. */
#define LINGER_MS		2000

/* Locking: every wait is bounded.  A delivery or login that cannot lock the
 * mailbox within LOCK_WAIT_MS answers with a temporary failure. */
#define LOCK_WAIT_MS		10000
#define LOCK_RETRY_MS		50
/* A dotlock whose owner cannot be checked (another program's, or ours from
 * another host) is broken when it has not been touched for this long.  Debian
 * peers use 2 to 30 minutes; we refresh our own locks every LOCK_REFRESH_S so
 * no peer ever takes a live lock of ours for stale. */
#define LOCK_STALE_S		600
#define LOCK_REFRESH_S		30
/* Re-open attempts when a mailbox was renamed under us between open and lock. */
#define LOCK_REOPEN_MAX		5
/* The store's temporary files (a dotlock's unique file, a new mailbox or
 * index before its rename, a commit marker) have 64 random bits in their
 * names, so no one can plant them in advance; a clash is drawn again, this
 * often at most (two clashes in a row are not chance: the creation fails).
 */
#define TMP_NAME_TRIES		8
/* What killed processes leave in the spool (.lk*, .new.*, .txn.*) is
 * removed once it is LOCK_STALE_S old, by a sweep that looks at this many
 * directory entries per delivery and per login, from where the last one
 * stopped: bounded work each time, however much the spool holds, and a
 * spool of N entries is gone through every N / SWEEP_ENTRIES operations. */
#define SWEEP_ENTRIES		64

/* Scan: bytes of each message (From_ line included) that feed its UIDL hash. */
#define UIDL_HASH_BYTES		2048
/* The full scan reads a mailbox in windows of this size (page-aligned
 * reads, like cat's); 256 KiB measured a few per cent faster than 128 KiB
 * on a 1 GiB mailbox, and stays in a core's L2 cache (bench/peers.sh). */
#define SCAN_WINDOW_BYTES	(256 * 1024)
/* What the UIDL hash reads of a header section first; all of
 * UIDL_HEADER_MAX only when the section goes on past it. */
#define UIDL_HEADER_PEEK	8192
/* The header fields mail readers rewrite are left out of the UIDL hash
 * (uidl.c); they are looked for in this much of a message's header.  Real
 * headers are a few KiB; a longer one keeps its later fields in the hash. */
#define UIDL_HEADER_MAX		(64 * 1024)
/* A mailbox that grew since its index was written (another program's
 * append) keeps the index's records when the old part still reads as they
 * say: its last 4 KiB, and this many messages (the first, the last, others
 * at random) hashed again, two or three small reads each. */
#define INDEX_SAMPLES		16
/* A writer of the index waits, under the lock, at most this long for the
 * clock that stamps files to move past its own change (one tick: 1 to 10
 * ms), so that any later change shows in the stamp.  A file system that
 * keeps whole seconds never gets there: its index is then not written. */
#define STAMP_SETTLE_MS		20
/* Messages in one maildrop: bounded so the index (48 bytes a message) stays
 * within 48 MiB however the file was made. */
#define MBOX_MSGS_MAX		(1u << 20)

/* Log lines: foreign strings are escaped and cut to this many bytes. */
#define LOG_FIELD_MAX		128
#define LOG_LINE_MAX		1024
/* A transaction's log line names its mailboxes, cut to a log field. */
#define SMTPD_LOG_BOXES_MAX	LOG_FIELD_MAX

/* Session I/O (io.h): the input buffer holds a few command lines and their
 * pipelined followers (RFC 2920 asks nothing more); the output buffer is
 * flushed only before a read blocks, so 64 KiB batches a RETR into few
 * writes. */
#define IO_RBUF			16384
#define IO_WBUF			65536

/* -L (listen.h).  -c: sessions at once.  inetd's classic default is 40 a
 * minute; tcpserver's is 40 at once.  Each session is one process, so the
 * ceiling bounds the process count an attacker can make us hold. */
#define LISTEN_CONN_DEFAULT	40
#define LISTEN_CONN_MAX		4096
/* -C: sessions at once from one client address, so a single host cannot
 * take every slot.  An IPv6 client counts by its /64: a host may use any
 * address of the /64 it was given (RFC 6177). */
#define LISTEN_PERIP_DEFAULT	10
/* A proxied session asks the listener once whether its client is over -C;
 * a listener that does not answer in this time admits it. */
#define LISTEN_ADMIT_MS		5000

/* -P: the PROXY protocol (haproxy's proxy-protocol.txt).  Section 2: both
 * formats fit the smallest TCP segment every host must take (576 - 40 =
 * 536 bytes): a v1 line is at most 107 bytes with its CRLF (2.1), a v2
 * header 16 bytes and 520 of addresses and TLVs.  A longer one is refused,
 * so the reader never holds more.  The whole header must arrive within
 * PROXY_TIMEOUT seconds of the connection: haproxy sends it at once, before
 * any byte of the client's.  -P names a few load balancers, not an access
 * list: PROXY_NETS_MAX networks in all. */
#define PROXY_V1_MAX		107
#define PROXY_HEADER_MAX	536
#define PROXY_TIMEOUT		10
#define PROXY_NETS_MAX		32

/* -T: the distinct mailbox owners (uid:gid of the users file) whose right
 * to make dotlocks in the spool is tried, each in a child process. */
#define CFG_IDS_MAX		8
/* -T: users-file uids that a system account of another name has, each
 * reported once with its first entry; past this many, one line counts
 * the rest. */
#define CFG_OTHER_MAX		16
/* -T: stale store files reported one a line; past this many, one line
 * counts the rest (a spool of thousands says so without a flood). */
#define CFG_STALE_MAX		20

/* Users and aliases files: a longer line is an error in that file. */
#define USERS_LINE_MAX		1024

#endif
