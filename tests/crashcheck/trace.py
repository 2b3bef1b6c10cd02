"""trace.py: run a server under strace and read back its system calls.

strace -f follows both halves of the privilege split; -y names the file
behind every descriptor, -v prints whole stat structures (the index's stamp
is matched against them), -xx prints every string as hex escapes so that
the data of each write is exact and no byte can confuse the parser.  A call
that another process interrupts in strace's output ("<unfinished ...>",
"<... resumed>") is joined again; each call is placed where it completed,
except that a fork is placed where it started, so that the child's first
calls find the descriptors it inherited.
"""
import re

# Everything that can create, change, name, sync or hand on a file, and
# what moves a descriptor's offset; fsmodel.py refuses a spool descriptor
# in any call it does not know.
SYSCALLS = ("open,openat,creat,close,dup,dup2,dup3,fcntl,read,readv,pread64,"
            "write,writev,pwrite64,pwritev,pwritev2,lseek,ftruncate,truncate,"
            "fsync,fdatasync,sync,syncfs,sync_file_range,fallocate,"
            "link,linkat,symlink,symlinkat,unlink,unlinkat,rename,renameat,"
            "renameat2,mkdir,mkdirat,rmdir,clone,clone3,fork,vfork,"
            "fstat,newfstatat,stat,lstat,statx,sendfile,copy_file_range,"
            "splice,mmap,sendmsg,recvmsg")


def strace_argv(out):
    return ["strace", "-f", "-qq", "-y", "-v", "-xx", "-s", "16777216",
            "-e", "signal=none", "-e", "trace=" + SYSCALLS, "-o", out]


class Call:
    """One completed system call: pid, name, raw argument strings, the
    result (an int, or None) and the path behind a returned descriptor."""
    __slots__ = ("pid", "name", "args", "ret", "retpath", "err")

    def __init__(self, pid, name, args, ret, retpath, err):
        self.pid, self.name, self.args = pid, name, args
        self.ret, self.retpath, self.err = ret, retpath, err

    def __repr__(self):
        return "%d %s(%s) = %r" % (self.pid, self.name, ", ".join(self.args), self.ret)


_HEX = re.compile(rb"\\x([0-9a-f]{2})")


def unhex(s):
    """The bytes of an -xx escaped string body (no quotes)."""
    b = s.encode("latin-1")
    if b"\\" in _HEX.sub(b"", b):
        raise ValueError("unexpected escape in %r" % s[:80])
    return _HEX.sub(lambda m: bytes([int(m.group(1), 16)]), b)


def string_arg(a):
    """A quoted string argument as bytes; it must not be cut short."""
    if not (a.startswith('"') and a.endswith('"')):
        raise ValueError("not a whole string: %r" % a[:80])
    return unhex(a[1:-1])


_FD = re.compile(r'^(-?\d+|AT_FDCWD)<([^>]*)>(\(deleted\))?$')


def fd_arg(a):
    """(descriptor, path bytes or None) of a -y annotated descriptor."""
    m = _FD.match(a)
    if m:
        fd = -100 if m.group(1) == "AT_FDCWD" else int(m.group(1))
        return fd, unhex(m.group(2))
    if a == "AT_FDCWD":
        return -100, None
    return int(a, 0), None


def split_args(s):
    """Split an argument list at its top-level commas."""
    out, depth, cur, q, i = [], 0, [], False, 0
    while i < len(s):
        c = s[i]
        if q:
            cur.append(c)
            if c == "\\":
                cur.append(s[i + 1])
                i += 1
            elif c == '"':
                q = False
        elif c == '"':
            q = True
            cur.append(c)
        elif c in "([{<":
            depth += 1
            cur.append(c)
        elif c in ")]}>":
            depth -= 1
            cur.append(c)
        elif c == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if cur or out:
        out.append("".join(cur).strip())
    return out


_LINE = re.compile(r"^(\d+)\s+(.*)$")
_CALL = re.compile(r"^(\w+)\((.*)\)\s+=\s+(-?\d+|0x[0-9a-f]+|\?)(<[^>]*>)?(.*)$", re.S)


def _parse_call(pid, text):
    m = _CALL.match(text)
    if not m:
        return None
    name, args, ret, retfd, rest = m.groups()
    rest = rest.strip()
    err = None
    if ret == "?":
        value = None
    else:
        value = int(ret, 0)
        if value < 0 and rest:
            err = rest.split()[0]
    retpath = unhex(retfd[1:-1]) if retfd else None
    # Of what follows the result ("(flags ...)", comments) only an
    # errno name is kept.
    return Call(int(pid), name, split_args(args), value, retpath, err)


def parse(path):
    """The calls of an strace -f output file, in the order described in
    the module docstring."""
    pending = {}
    items = []		# (position, sequence, Call, is_fork_start)
    with open(path, encoding="latin-1") as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines):
        m = _LINE.match(line)
        if not m:
            continue
        pid, text = m.group(1), m.group(2)
        if text.startswith("+++") or text.startswith("---"):
            continue
        if text.endswith("<unfinished ...>"):
            pending[pid] = (n, text[:-len("<unfinished ...>")].rstrip())
            continue
        start = n
        if text.startswith("<... "):
            mm = re.match(r"^<\.\.\. (\w+) resumed>(.*)$", text)
            if not mm or pid not in pending:
                raise ValueError("orphan resumed line %d: %s" % (n + 1, line[:120]))
            start, head = pending.pop(pid)
            text = head + mm.group(2)
        call = _parse_call(pid, text)
        if call is None:
            if "exited with" in text or "killed by" in text:
                continue
            raise ValueError("cannot parse line %d: %s" % (n + 1, line[:160]))
        fork = call.name in ("clone", "clone3", "fork", "vfork")
        items.append((start if fork else n, len(items), call))
    # What is left in PENDING never completed (its process was killed in
    # it): it changed nothing the model could rely on.
    items.sort(key=lambda t: (t[0], t[1]))
    return [c for _, _, c in items]
