"""Sockets the runtime tests hold open themselves: slow clients, and the kernel's view of a
listening socket."""

import socket
import subprocess
import threading
import time

from support.client import HOST

# --- slow clients ----------------------------------------------------------------------------


class Tricklers:
    """`count` connections that send a request's headers one byte a second, never finishing
    while they run: slowloris, or a phone on a bad network in front of no buffering proxy."""

    def __init__(self, port: int, count: int):
        self.sockets = [socket.create_connection((HOST, port), timeout=5) for _ in range(count)]
        self.payload = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: " + b"a" * 4000
        self.sent = 0
        self.broken = 0  # connections the server closed on them
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        while not self._stop.is_set() and self.sent < len(self.payload):
            byte = self.payload[self.sent : self.sent + 1]
            for sock in list(self.sockets):
                try:
                    sock.sendall(byte)
                except OSError:
                    self.sockets.remove(sock)
                    self.broken += 1
            self.sent += 1
            self._stop.wait(1.0)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


class Stalled:
    """Connections that start a request and never finish it: `silent` send part of a head and
    then nothing, `trickling` send a head, or a body, a byte a second. Each records when the
    server closed it and what it answered first."""

    HEAD = b"GET / HTTP/1.1\r\nHost: localhost\r\n"
    BODY = b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10000\r\n\r\n"

    def __init__(self, port: int, silent: int, trickling: int):
        self.started = time.monotonic()
        self.silent = [self._open(port, self.HEAD) for _ in range(silent)]
        self.trickling = [self._open(port, self.BODY) for _ in range(trickling)]
        self.ended: dict[socket.socket, tuple[float, bytes]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    @staticmethod
    def _open(port: int, start: bytes) -> socket.socket:
        sock = socket.create_connection((HOST, port), timeout=5)
        sock.sendall(start)
        sock.setblocking(False)
        return sock

    def _watch(self) -> None:
        while not self._stop.is_set() and len(self.ended) < len(self.silent + self.trickling):
            for sock in self.silent + self.trickling:
                if sock not in self.ended:
                    self._check(sock)
            self._stop.wait(1.0)

    def _check(self, sock: socket.socket) -> None:
        try:
            answer = sock.recv(200)
        except BlockingIOError:  # still open: the tricklers send their next byte
            if sock in self.trickling:
                try:
                    sock.send(b"a")
                except OSError:
                    self.ended[sock] = (time.monotonic() - self.started, b"")
            return
        except OSError:
            answer = b""
        self.ended[sock] = (time.monotonic() - self.started, answer)

    def all_ended(self, timeout: float) -> bool:
        self._thread.join(timeout)
        return len(self.ended) == len(self.silent + self.trickling)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in self.silent + self.trickling:
            sock.close()


# --- sockets of the kernel -------------------------------------------------------------------


def listen_backlog(port: int) -> int:
    """The listening socket's backlog as the kernel holds it: Send-Q of `ss -ltn`."""
    output = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    # State Recv-Q Send-Q Local-Address:Port Peer-Address:Port
    (line,) = output.strip().splitlines()
    return int(line.split()[2])
