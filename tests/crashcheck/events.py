"""events.py: what a recorded run did to the spool, as a list of events on
a small file-system model (the one states.py crashes).

The spool is one directory.  Its files are inodes numbered in the order
they appear; a name binds to an inode.  Each system call that touches the
spool becomes one event:
  data  an inode's bytes change: a write at an offset, or a truncation
  sync  fsync/fdatasync of a file or of the spool directory
  ns    the directory changes: a name bound (create, link, rename's target)
        or unbound (unlink, rename's source); a rename is one event
  ack   a reply the client relied on (smtpd's 250 for a message, pop3d's
        +OK to a QUIT that deleted mail), written to the client
Descriptor offsets are followed (lseek, read, write) so every write lands
where it did.  Two self-checks keep the recording honest: every fstat of a
spool file must show the size this model has for it, and at the end the
model's spool must equal the real one byte for byte.  A call on a spool
descriptor that the model does not know (mmap, sendfile, fallocate...)
stops the run: an event left out would make every state wrong.
"""
import os
import re

from trace import fd_arg, string_arg, unhex


class Inode:
    def __init__(self, num, kind, init=b""):
        self.num = num
        self.kind = kind		# "file" or "dir"
        self.init = init		# content when the run began
        self.data = bytearray(init)	# content as the run goes
        self.ops = 0			# data events so far (its version)
        self.real = None		# st_ino in the recorded run


class Event:
    __slots__ = ("i", "kind", "ino", "op", "binds", "tag", "desc")

    def __init__(self, kind, desc, ino=None, op=None, binds=None, tag=None):
        self.kind, self.desc, self.ino, self.op = kind, desc, ino, op
        self.binds = binds or []	# ns: [(name, inode number or None)]
        self.tag = tag
        self.i = None

    def names(self):
        return {n for n, _ in self.binds}


class Desc:
    """An open file description (shared by dup and fork)."""
    __slots__ = ("ino", "pos", "append")

    def __init__(self, ino, append):
        self.ino, self.pos, self.append = ino, 0, append


STAT_KEYS = ("st_ino", "st_size", "st_mtime", "st_mtime_nsec", "st_ctime", "st_ctime_nsec")


def parse_stat(s):
    """The fields of an strace -v stat structure that make a stamp."""
    out = {}
    for k in STAT_KEYS:
        m = re.search(r"\b%s=(\d+)" % k, s)
        if not m:
            return None
        out[k] = int(m.group(1))
    return out


class Recording:
    """The spool model of one protocol run: inodes, names, events, and the
    stat results seen (for the index's stamp)."""

    def __init__(self, spool):
        self.spool = os.fsencode(spool)
        self.inodes = []
        self.names = {}			# name (bytes) -> inode number
        self.init_names = {}
        self.events = []
        self.stamps = {}		# stamp tuple -> (inode number, version)
        self.real = {}			# recorded st_ino -> inode number
        self.fds = {}			# pid -> {fd: Desc}
        self.dir = self._inode("dir")
        self.acks = []			# (regex, kind) of the replies to note
        self.nacks = {}			# kind -> replies noted so far

    def _inode(self, kind, init=b""):
        ino = Inode(len(self.inodes), kind, init)
        self.inodes.append(ino)
        return ino.num

    # -- the spool before the run ----------------------------------------
    def snapshot(self):
        """Take the spool as it is now as the initial, durable state."""
        for name in sorted(os.listdir(self.spool)):
            p = os.path.join(self.spool, name)
            st = os.lstat(p)
            if st.st_ino in self.real:		# a second name of an inode
                self.names[name] = self.real[st.st_ino]
                continue
            with open(p, "rb") as f:
                n = self._inode("file", f.read())
            self.names[name] = n
            self._know(n, st.st_ino)
            self.stamps[stamp_of(st)] = (n, 0)
        self.init_names = dict(self.names)

    def _know(self, n, real):
        self.inodes[n].real = real
        old = self.real.get(real)
        # An inode number the file system gave again after an unlink:
        # a mailbox keeps it (records and stamps name mailboxes).
        if old is None or not self._is_mailbox(old):
            self.real[real] = n

    def _is_mailbox(self, n):
        return any(v == n and not k.startswith(b".") and not k.endswith(b".lock")
                   for k, v in list(self.names.items()) + list(self.init_names.items()))

    # -- events ------------------------------------------------------------
    def _add(self, ev):
        ev.i = len(self.events)
        self.events.append(ev)

    def _ack(self, data):
        for rx, kind in self.acks:
            if re.search(rx, data):
                k = self.nacks[kind] = self.nacks.get(kind, 0) + 1
                tag = "%s#%d" % (kind, k)
                self._add(Event("ack", "reply " + tag, tag=tag))

    def _name_of(self, path):
        """NAME when PATH is SPOOL/NAME, b"" for the spool itself, else None."""
        if path == self.spool:
            return b""
        if path.startswith(self.spool + b"/"):
            name = path[len(self.spool) + 1:]
            if b"/" in name:
                raise ValueError("a path below the spool: %r" % path)
            return name
        return None

    def _path(self, dirarg, patharg):
        p = string_arg(patharg)
        if p.startswith(b"/"):
            return os.path.normpath(p)
        _, d = fd_arg(dirarg) if dirarg is not None else (None, None)
        if d is None:
            raise ValueError("a relative path without its directory: %r" % p)
        return os.path.normpath(os.path.join(d, p))

    def _table(self, pid):
        return self.fds.setdefault(pid, {})

    def _desc(self, pid, arg):
        """The Desc of a spool descriptor, or None for any other file."""
        fd, path = fd_arg(arg)
        d = self._table(pid).get(fd)
        if d is not None:
            return d
        if path is not None and self._name_of(path) is not None:
            raise ValueError("pid %d uses spool descriptor %d we never saw opened"
                             % (pid, fd))
        return None

    def _data(self, n, op, desc):
        ino = self.inodes[n]
        if op[0] == "w":
            off, data = op[1], op[2]
            if len(ino.data) < off:
                ino.data.extend(b"\0" * (off - len(ino.data)))
            ino.data[off:off + len(data)] = data
        else:
            del ino.data[op[1]:]
            if len(ino.data) < op[1]:
                ino.data.extend(b"\0" * (op[1] - len(ino.data)))
        ino.ops += 1
        self._add(Event("data", desc, ino=n, op=op))

    def _label(self, n):
        names = [k for k, v in self.names.items() if v == n]
        return (names[0] if names else b"#%d" % n).decode("latin-1")

    def _bind(self, binds, desc):
        for name, n in binds:
            if n is None:
                self.names.pop(name, None)
            else:
                self.names[name] = n
        self._add(Event("ns", desc, binds=binds))

    # -- the calls ---------------------------------------------------------
    def feed(self, calls):
        for c in calls:
            h = getattr(self, "_c_" + c.name, None)
            if h is None:
                raise ValueError("no handler for %s" % c.name)
            h(c)

    def _c_open(self, c):
        self._open(c, None, c.args[0], c.args[1])

    def _c_openat(self, c):
        self._open(c, c.args[0], c.args[1], c.args[2])

    def _c_creat(self, c):
        self._open(c, None, c.args[0], "O_WRONLY|O_CREAT|O_TRUNC")

    def _open(self, c, dirarg, patharg, flags):
        if c.ret is None or c.ret < 0:
            return
        name = self._name_of(self._path(dirarg, patharg))
        if name is None:
            self._table(c.pid).pop(c.ret, None)
            return
        if name == b"":
            self._table(c.pid)[c.ret] = Desc(self.dir, False)
            return
        n = self.names.get(name)
        if n is None:
            if "O_CREAT" not in flags:
                raise ValueError("open of %r, unknown to the model" % name)
            n = self._inode("file")
            self._bind([(name, n)], "create %s" % name.decode("latin-1"))
        elif "O_TRUNC" in flags and self.inodes[n].data:
            self._data(n, ("t", 0), "truncate %s to 0" % self._label(n))
        self._table(c.pid)[c.ret] = Desc(n, "O_APPEND" in flags)

    def _c_close(self, c):
        fd, _ = fd_arg(c.args[0])
        if c.ret == 0:
            self._table(c.pid).pop(fd, None)

    def _dup(self, c, old, new):
        t = self._table(c.pid)
        if new is None or new < 0:
            return
        fd, _ = fd_arg(old)
        if fd in t:
            t[new] = t[fd]
        else:
            t.pop(new, None)

    def _c_dup(self, c):
        self._dup(c, c.args[0], c.ret)

    def _c_dup2(self, c):
        self._dup(c, c.args[0], c.ret)

    _c_dup3 = _c_dup2

    def _c_fcntl(self, c):
        if c.args[1].startswith("F_DUPFD"):
            self._dup(c, c.args[0], c.ret)

    def _fork(self, c):
        if c.ret is None or c.ret <= 0:
            return
        t = self._table(c.pid)
        self.fds[c.ret] = t if "CLONE_FILES" in " ".join(c.args) else dict(t)

    _c_clone = _c_clone3 = _c_fork = _c_vfork = _fork

    def _c_read(self, c):
        d = self._desc(c.pid, c.args[0])
        if d is not None and c.ret and c.ret > 0:
            d.pos += c.ret

    _c_readv = _c_read

    def _c_pread64(self, c):
        self._desc(c.pid, c.args[0])

    def _write(self, c, d, data, off):
        if d is None:
            self._ack(data)
            return
        if d.ino == self.dir:
            raise ValueError("write to the spool directory")
        if off is None:
            off = len(self.inodes[d.ino].data) if d.append else d.pos
            d.pos = off + len(data)
        if data:
            end = off + len(data)
            self._data(d.ino, ("w", off, bytes(data)), "write %s [%d,%d)"
                       % (self._label(d.ino), off, end))

    def _c_write(self, c):
        if c.ret is None or c.ret < 0:
            return
        d = self._desc(c.pid, c.args[0])
        self._write(c, d, string_arg(c.args[1])[:c.ret], None)

    def _c_pwrite64(self, c):
        if c.ret is None or c.ret < 0:
            return
        d = self._desc(c.pid, c.args[0])
        self._write(c, d, string_arg(c.args[1])[:c.ret], int(c.args[3], 0))

    @staticmethod
    def _iov(arg):
        return b"".join(unhex(m) for m in re.findall(r'iov_base="([^"]*)"', arg))

    def _c_writev(self, c):
        if c.ret is None or c.ret < 0:
            return
        d = self._desc(c.pid, c.args[0])
        self._write(c, d, self._iov(c.args[1])[:c.ret], None)

    def _c_pwritev(self, c):
        if c.ret is None or c.ret < 0:
            return
        d = self._desc(c.pid, c.args[0])
        self._write(c, d, self._iov(c.args[1])[:c.ret], int(c.args[3], 0))

    _c_pwritev2 = _c_pwritev

    def _c_sendmsg(self, c):
        if c.ret is None or c.ret < 0:
            return
        if "SCM_RIGHTS" in c.args[1]:
            for a in re.findall(r"\d+<[^>]*>", c.args[1]):
                self._desc(c.pid, a) and self._unsupported(c)
        self._ack(self._iov(c.args[1])[:c.ret])

    def _c_recvmsg(self, c):
        if c.ret is not None and c.ret >= 0 and "SCM_RIGHTS" in c.args[1]:
            for a in re.findall(r"(\d+)<([^>]*)>", c.args[1]):
                if self._name_of(unhex(a[1])) is not None:
                    self._unsupported(c)
                self._table(c.pid).pop(int(a[0]), None)

    def _c_lseek(self, c):
        d = self._desc(c.pid, c.args[0])
        if d is not None and c.ret is not None and c.ret >= 0:
            d.pos = c.ret

    def _c_ftruncate(self, c):
        d = self._desc(c.pid, c.args[0])
        if d is not None and c.ret == 0:
            size = int(c.args[1], 0)
            self._data(d.ino, ("t", size), "truncate %s to %d" % (self._label(d.ino), size))

    def _c_truncate(self, c):
        name = self._name_of(self._path(None, c.args[0]))
        if name and c.ret == 0:
            n = self.names[name]
            size = int(c.args[1], 0)
            self._data(n, ("t", size), "truncate %s to %d" % (self._label(n), size))

    def _c_fsync(self, c):
        d = self._desc(c.pid, c.args[0])
        if d is not None and c.ret == 0:
            what = "the spool directory" if d.ino == self.dir else self._label(d.ino)
            self._add(Event("sync", "%s %s" % (c.name, what), ino=d.ino))

    _c_fdatasync = _c_fsync

    def _c_sync(self, c):
        self._add(Event("sync", "sync (everything)", ino=None))

    def _c_syncfs(self, c):
        self._c_sync(c)

    def _unsupported(self, c):
        raise ValueError("the model does not know this call on a spool file: %r" % c)

    def _c_sync_file_range(self, c):
        if self._desc(c.pid, c.args[0]) is not None:
            self._unsupported(c)

    _c_fallocate = _c_sync_file_range

    def _c_mmap(self, c):
        if len(c.args) > 4 and c.args[4] != "-1" and self._desc(c.pid, c.args[4]) is not None \
                and "PROT_WRITE" in c.args[2] and "MAP_SHARED" in c.args[3]:
            self._unsupported(c)

    def _c_sendfile(self, c):
        if self._desc(c.pid, c.args[0]) is not None:
            self._unsupported(c)

    _c_copy_file_range = _c_splice = _c_sendfile

    def _link(self, c, src, dst):
        if c.ret != 0:
            return
        s, d = self._name_of(src), self._name_of(dst)
        if d is None:
            return
        if not s:
            raise ValueError("a link into the spool from outside: %r" % c)
        n = self.names[s]
        self._bind([(d, n)], "link %s -> %s" % (s.decode("latin-1"), d.decode("latin-1")))

    def _c_link(self, c):
        self._link(c, self._path(None, c.args[0]), self._path(None, c.args[1]))

    def _c_linkat(self, c):
        self._link(c, self._path(c.args[0], c.args[1]), self._path(c.args[2], c.args[3]))

    def _unlink(self, c, path, flags=""):
        if c.ret != 0:
            return
        name = self._name_of(path)
        if name is None:
            return
        if "AT_REMOVEDIR" in flags or name == b"":
            self._unsupported(c)
        self._bind([(name, None)], "unlink %s" % name.decode("latin-1"))

    def _c_unlink(self, c):
        self._unlink(c, self._path(None, c.args[0]))

    def _c_unlinkat(self, c):
        self._unlink(c, self._path(c.args[0], c.args[1]), c.args[2])

    def _rename(self, c, src, dst):
        if c.ret != 0:
            return
        s, d = self._name_of(src), self._name_of(dst)
        if s is None and d is None:
            return
        if not s or not d:
            self._unsupported(c)
        n = self.names[s]
        self._bind([(d, n), (s, None)], "rename %s -> %s"
                   % (s.decode("latin-1"), d.decode("latin-1")))

    def _c_rename(self, c):
        self._rename(c, self._path(None, c.args[0]), self._path(None, c.args[1]))

    def _c_renameat(self, c):
        self._rename(c, self._path(c.args[0], c.args[1]), self._path(c.args[2], c.args[3]))

    _c_renameat2 = _c_renameat

    def _c_mkdir(self, c):
        if c.ret == 0 and self._name_of(self._path(None, c.args[0])) is not None:
            self._unsupported(c)

    def _c_mkdirat(self, c):
        if c.ret == 0 and self._name_of(self._path(c.args[0], c.args[1])) is not None:
            self._unsupported(c)

    _c_rmdir = _c_mkdir

    def _c_symlink(self, c):
        if c.ret == 0 and self._name_of(self._path(None, c.args[1])) is not None:
            self._unsupported(c)

    def _c_symlinkat(self, c):
        if c.ret == 0 and self._name_of(self._path(c.args[1], c.args[2])) is not None:
            self._unsupported(c)

    # -- stat results: the self-check and the stamps -------------------------
    def _stat(self, c, n, st):
        if n is None or st is None or n == self.dir:
            return
        ino = self.inodes[n]
        if st["st_size"] != len(ino.data):
            raise ValueError("the model has %d bytes for %s, the file has %d: a write "
                             "was missed (%r)" % (len(ino.data), self._label(n),
                                                  st["st_size"], c))
        self._know(n, st["st_ino"])
        self.stamps[tuple(st[k] for k in STAT_KEYS)] = (n, ino.ops)

    def _c_fstat(self, c):
        if c.ret == 0:
            d = self._desc(c.pid, c.args[0])
            if d is not None:
                self._stat(c, d.ino, parse_stat(c.args[1]))

    def _c_newfstatat(self, c):
        if c.ret != 0:
            return
        if c.args[1] == '""':
            d = self._desc(c.pid, c.args[0])
            if d is not None:
                self._stat(c, d.ino, parse_stat(c.args[2]))
            return
        name = self._name_of(self._path(c.args[0], c.args[1]))
        if name:
            self._stat(c, self.names.get(name), parse_stat(c.args[2]))

    def _c_stat(self, c):
        if c.ret == 0:
            name = self._name_of(self._path(None, c.args[0]))
            if name:
                self._stat(c, self.names.get(name), parse_stat(c.args[1]))

    _c_lstat = _c_stat

    def _c_statx(self, c):
        if c.ret == 0 and "AT_EMPTY_PATH" not in c.args[2]:
            name = self._name_of(self._path(c.args[0], c.args[1]))
            if name:
                raise ValueError("statx of a spool name is not modelled: %r" % c)

    # -- the end -------------------------------------------------------------
    def drop_scratch(self):
        """Leave out the store's probe of file times (stamp.c): a ".new."
        file unlinked right after its creation and written only then.  It
        runs only when a stamp happens to be racy, so keeping it would make
        the states (and their ids) differ from run to run; after a cut its
        only trace is a small ".new." leftover, which the sweep removes."""
        ev, drop = self.events, set()
        for a in range(len(ev) - 1):
            e, f = ev[a], ev[a + 1]
            if e.kind == "ns" and f.kind == "ns" and len(e.binds) == 1 and \
                    e.desc.startswith("create .new.") and f.binds == [(e.binds[0][0], None)]:
                n = e.binds[0][1]
                used = [x.i for x in ev if (x.kind == "data" and x.ino == n) or
                        (x.kind == "ns" and any(b == n for _, b in x.binds))]
                if all(i > a + 1 for i in used if i not in (a,)):
                    drop.update([a, a + 1] + [x.i for x in ev if x.kind == "data" and x.ino == n])
        self.events = [e for e in ev if e.i not in drop]
        for i, e in enumerate(self.events):
            e.i = i

    def verify(self):
        """The model's spool must be the real one: the same names, each
        with the same bytes (and the same inode for each name)."""
        real = sorted(os.listdir(self.spool))
        model = sorted(self.names)
        if real != model:
            raise ValueError("spool names differ: real %r, model %r" % (real, model))
        for name in real:
            with open(os.path.join(self.spool, name), "rb") as f:
                if f.read() != bytes(self.inodes[self.names[name]].data):
                    raise ValueError("content of %r differs from the model" % name)


def stamp_of(st):
    """The stamp tuple (STAT_KEYS order) of an os.stat_result."""
    return (st.st_ino, st.st_size, st.st_mtime_ns // 10**9, st.st_mtime_ns % 10**9,
            st.st_ctime_ns // 10**9, st.st_ctime_ns % 10**9)
