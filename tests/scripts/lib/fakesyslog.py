"""fakesyslog.py: a syslog daemon of our own for one test: a datagram socket
that a server reaches as /dev/log, in a mount namespace whose /dev is a
folder of ours (with /dev/null and /dev/urandom bound into it).  Needs
root (unshare -m).  Imported by tests/scripts/*.py; not a test itself."""
import os
import socket


class FakeSyslog:
    """/dev/log for the programs run with PREFIX; LINES() what they sent."""

    def __init__(self, tmp):
        self.dev = os.path.join(tmp, "dev")
        os.makedirs(self.dev)
        for name in ("null", "urandom"):
            open(os.path.join(self.dev, name), "w").close()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(os.path.join(self.dev, "log"))
        os.chmod(os.path.join(self.dev, "log"), 0o666)
        self.sock.setblocking(False)
        self.got = []
        # The command line prefix: our folder becomes /dev for the program.
        self.prefix = ["unshare", "-m", "sh", "-c",
                       'mount --bind /dev/null "$0/null" && '
                       'mount --bind /dev/urandom "$0/urandom" && '
                       'mount --rbind "$0" /dev && exec "$@"', self.dev]

    def lines(self):
        """Every line received so far, as text."""
        while True:
            try:
                self.got.append(self.sock.recv(65536).decode("latin-1"))
            except BlockingIOError:
                break
        return self.got

    def close(self):
        self.sock.close()
