"""materialize.py: write a crash state as a real spool directory.

The files are new, so they have new inode numbers and new times.  The few
places where the store writes those down are carried over so the state
means what it meant in the recorded run:
  * a dotlock's append record and an expunge journal's header name the
    mailbox's inode: the recorded number becomes the new one (an inode not
    in the state becomes 1, which no regular file has on ext4);
  * an index's header holds the stamp (inode, size, mtime, ctime) of the
    mailbox it describes.  When that mailbox is in the state at the very
    version the stamp was taken of (the same data events kept, none torn),
    the stamp becomes the new file's; otherwise only its inode number is
    carried over, so it describes an older or newer version of the same
    file, as it would after a real cut.
Dotlocks are made LOCK_STALE_S + 1 minute old (states.py says why).
"""
import os
import re
import struct

from events import stamp_of

LOCK_AGE = 600 + 60
INDEX_MAGIC = b"imbaidx\0"
STAMP_AT = 16			# struct index_head: magic, version, recsize, stamp
STAMP = struct.Struct("<QQqqqq")
NO_INODE = 1

_RECORD = re.compile(rb"^(\d+\ninetmail \S+ \d+ \d+ \S+ \d+ )(\d+)\n")
_JOURNAL = re.compile(rb"^(inetmail-redo 1 \d+ )(\d+)( \d+ \d+ \d+\n)")


def write(state, rec, spool, uid, gid):
    """Write STATE of recording REC into the empty directory SPOOL."""
    made = {}			# inode number -> path of its first name
    for name, (n, data, ver, torn) in sorted(state.files.items()):
        p = os.path.join(spool, os.fsdecode(name))
        if n in made:
            os.link(made[n], p)
            continue
        with open(p, "wb") as f:
            f.write(data)
        os.chown(p, uid, gid)
        os.chmod(p, 0o600)
        made[n] = p
    new_ino = {n: os.stat(p).st_ino for n, p in made.items()}

    def carry(real):
        n = rec.real.get(real)
        return new_ino.get(n, NO_INODE) if n is not None else NO_INODE

    for name, (n, data, ver, torn) in state.files.items():
        p = made[n]
        fixed = _fix(data, carry, state, rec, made)
        if fixed != data:
            with open(p, "r+b") as f:
                f.write(fixed)
    old = os.stat(spool).st_mtime - LOCK_AGE
    for name in state.files:
        if name.endswith(b".lock"):
            os.utime(os.path.join(spool, os.fsdecode(name)), (old, old),
                     follow_symlinks=False)


def _fix(data, carry, state, rec, made):
    m = _RECORD.match(data)
    if m:
        return m.group(1) + b"%d" % carry(int(m.group(2))) + b"\n" + data[m.end():]
    m = _JOURNAL.match(data)
    if m:
        head = m.group(1) + b"%d" % carry(int(m.group(2))) + m.group(3)
        return head + b"\0" * (256 - len(head)) + data[256:]
    if data.startswith(INDEX_MAGIC) and len(data) >= STAMP_AT + STAMP.size:
        return data[:STAMP_AT] + _stamp(data, carry, state, rec, made) + \
            data[STAMP_AT + STAMP.size:]
    return data


def _stamp(data, carry, state, rec, made):
    old = STAMP.unpack_from(data, STAMP_AT)
    found = rec.stamps.get(old)
    if found is None:
        raise ValueError("an index stamp that no stat in the run showed: %r" % (old,))
    n, ver = found
    for name, (m, _, v, torn) in state.files.items():
        if m == n and v == ver and not torn and n in made:
            return STAMP.pack(*stamp_of(os.stat(made[n])))
    return STAMP.pack(carry(old[0]), *old[1:])

