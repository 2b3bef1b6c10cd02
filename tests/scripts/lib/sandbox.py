"""sandbox.py: run a server with a private view of the system, as root:
an /etc of our own (accounts, /etc/mailname) in a mount namespace, or an
extra address on a network namespace's loopback.  The machine's own files
and interfaces are never touched.  Imported by tests/scripts/*.py; not a
test itself."""
import os
import shutil


def etc_with(tmp, name, files, replace=()):
    """A copy of /etc under TMP/NAME with FILES ({file: text to append})
    and REPLACE ({file: whole text}, or a name to remove when the text is
    None), and the command prefix that runs a program with it as /etc."""
    etc = os.path.join(tmp, name)
    shutil.rmtree(etc, ignore_errors=True)
    shutil.copytree("/etc", etc, symlinks=True, ignore_dangling_symlinks=True,
                    ignore=shutil.ignore_patterns("*.lock", "mtab"))
    for f, text in files.items():
        with open(os.path.join(etc, f), "a") as fh:
            fh.write(text)
    for f, text in dict(replace).items():
        p = os.path.join(etc, f)
        if os.path.lexists(p):
            os.unlink(p)
        if text is not None:
            with open(p, "w") as fh:
                fh.write(text)
    return ["unshare", "-m", "sh", "-c", 'mount --bind "$0" /etc && exec "$@"', etc]


def netns_with(addr):
    """The command prefix that runs a program in a network namespace of its
    own whose loopback also holds ADDR (a.b.c.d/n): an address of "this
    host" that is no loopback address."""
    return ["unshare", "-n", "sh", "-c",
            'ip link set lo up && ip addr add "$0" dev lo && exec "$@"', addr]
