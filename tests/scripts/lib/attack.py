"""attack.py: what the attack scripts of tests/scripts share: the verdict
lines, free loopback ports, and which processes hold a connection, with
their ids, from /proc.  Imported by tests/scripts/*.py; not a test itself."""
import os
import socket
import time

failures = []


def check(cond, what):
    """One verdict line; a failed one is remembered for the exit status."""
    print(("ok " if cond else "not ok ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, family=socket.AF_INET, addr="127.0.0.1"):
    """True once a server answers on PORT (its greeting is read)."""
    t = time.monotonic() + 10
    while time.monotonic() < t:
        try:
            c = socket.socket(family)
            c.connect((addr, port))
            c.recv(512)
            c.close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


def socket_inode(port_local, port_remote):
    """The inode of the server side of a loopback TCP connection."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            next(f)
            for line in f:
                x = line.split()
                lp = int(x[1].split(":")[1], 16)
                rp = int(x[2].split(":")[1], 16)
                if lp == port_local and rp == port_remote:
                    return int(x[9])
    return None


def status(pid):
    """The Uid:, Gid: and Groups: of PID as {"Uid": [...], ...}."""
    out = {}
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid", "Groups"):
                out[k] = [int(x) for x in v.split()]
    return out


def holders(inode):
    """PIDs whose descriptors hold socket INODE, with their status ids."""
    want = "socket:[%d]" % inode
    out = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fds = os.listdir("/proc/%s/fd" % pid)
            if any(os.readlink("/proc/%s/fd/%s" % (pid, fd)) == want for fd in fds):
                out.append((int(pid), status(pid)))
        except OSError:
            continue
    return out


def conn_holders(c, port):
    """The processes that hold the server side of client socket C."""
    inode = socket_inode(port, c.getsockname()[1])
    return holders(inode) if inode else []
