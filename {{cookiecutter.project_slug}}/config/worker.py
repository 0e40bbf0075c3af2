"""gunicorn's gthread worker, with each request read in its event loop instead of a thread.

gthread gives a connection to a thread as soon as it is accepted: the thread waits 5 s for a
first byte, then reads the request with no time limit. So a few dozen connections that send
nothing, or trickle a byte at a time (slowloris, or a phone on a bad network), hold every
thread and the site stops answering. This worker reads a request's head and body without a
thread, as a buffering proxy does, and hands it to a thread once it has all arrived. A client
gets GUNICORN_READ_TIMEOUT seconds, plus one for every MIN_BYTES_PER_SECOND bytes it sends;
past that it is answered 408 (or, if it sent nothing, closed). Threads then run only requests
that are complete, so hundreds of stalled connections cost file descriptors, not the site.

Bodies of more than REQUEST_BODY_MAX_MB, chunked bodies and malformed heads are handed over
after the head, unread: Django refuses the first with a 413 without reading them
({{ cookiecutter.project_slug }}/body_limit.py), does not read the second, and gunicorn refuses the third. TLS, PROXY
protocol and HTTP/2 in gunicorn itself keep gthread's own reading.

gunicorn's own error pages (400, 414, 431, 501: a request it cannot parse) get the security
headers the site's pages carry, as the proxy gives them when there is one (Caddyfile).
"""

import errno
import re
import resource
import selectors
import socket
import tempfile
import time
from functools import partial

from gunicorn.http.parser import RequestParser
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers import gthread

from config import variables

# A client slower than this, after its first GUNICORN_READ_TIMEOUT seconds, is cut off
# (Apache's mod_reqtimeout uses the same rate). Enough for a phone on a poor 2G link.
MIN_BYTES_PER_SECOND = 500
# Connections being read at once, per worker, each a file descriptor and a small buffer.
MAX_ARRIVALS = 1000
# Bodies up to this stay in memory while they arrive; larger ones go to a temporary file.
IN_MEMORY_BODY = 64 * 1024
RECEIVE_SIZE = 64 * 1024
# gunicorn's own bound on a request line when limit_request_line is 0 ("unlimited").
UNLIMITED_REQUEST_LINE = 1024 * 1024
HEAD_END = b"\r\n\r\n"
BARE_LINE_FEED = re.compile(rb"(?<!\r)\n")  # gunicorn refuses it: the head ends no other way
# Header lines of a head, each ending in \r\n (gunicorn refuses a bare \n).
CONTENT_LENGTH = re.compile(rb"^content-length[ \t]*:[ \t]*([^\r\n]*?)[ \t]*\r$", re.I | re.M)
TRANSFER_ENCODING = re.compile(rb"^transfer-encoding[ \t]*:", re.I | re.M)
EXPECT_CONTINUE = re.compile(rb"^expect[ \t]*:[ \t]*100-continue[ \t]*\r$", re.I | re.M)
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
ERROR_PAGE_HEADERS = (
    b"X-Content-Type-Options: nosniff\r\n"
    b"X-Frame-Options: DENY\r\n"
    b"Referrer-Policy: same-origin\r\n"
    b"Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
)


def _answer(status: bytes) -> bytes:
    return b"HTTP/1.1 " + status + b"\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"


TIMED_OUT = _answer(b"408 Request Timeout")
STOPPING = _answer(b"503 Service Unavailable")


class Arrival:
    """A request on its way in: its head as it comes, then its body in a temporary file."""

    def __init__(self, conn, worker):
        self.conn = conn
        self.cfg = worker.cfg
        self.deadline = time.monotonic() + worker.read_timeout
        self.max_head = worker.max_head
        self.body_max_bytes = worker.body_max_bytes
        self.head = bytearray()
        self.body = None  # a file, once the head says a body of known length follows
        self.body_left = 0
        self.received = 0

    def read(self) -> bool:
        """Take what the socket holds; True once the request can go to a thread."""
        if self.body is None:
            return self._read_head()
        data = self.conn.sock.recv(min(self.body_left, RECEIVE_SIZE))
        if not data:
            raise ConnectionResetError
        self._count(data)
        self.body.write(data)
        self.body_left -= len(data)
        return self.body_left == 0

    def _read_head(self) -> bool:
        # Peek, then take only up to the head's end: whatever follows is the body (read
        # exactly) or a next request, which must stay on the socket.
        seen = self.conn.sock.recv(RECEIVE_SIZE, socket.MSG_PEEK)
        if not seen:
            raise ConnectionResetError
        tail = bytes(self.head[-3:])
        end = (tail + seen).find(HEAD_END)
        take = len(seen) if end < 0 else end + len(HEAD_END) - len(tail)
        data = self.conn.sock.recv(take)
        self._count(data)
        self.head += data
        if BARE_LINE_FEED.search(self.head):
            return True  # gunicorn refuses it as it is
        if end < 0:
            return len(self.head) > self.max_head  # gunicorn refuses it too: 431
        return self._head_is_all()

    def _head_is_all(self) -> bool:
        """True when the request is complete with its head, or goes to a thread as it is;
        False when a body of known length, within the limit, is still to come."""
        if TRANSFER_ENCODING.search(self.head):
            return True  # chunked: Django does not read it; any other coding gunicorn refuses
        lengths = CONTENT_LENGTH.findall(self.head)
        if len(lengths) != 1 or not lengths[0].isdigit():
            return True  # no body, or a length gunicorn refuses
        self.body_left = int(lengths[0])
        if self.body_left == 0 or self.body_left > self.body_max_bytes:
            return True  # nothing to wait for, or Django refuses it (413) unread
        if EXPECT_CONTINUE.search(self.head):
            # The client waits for this before sending the body. (gunicorn sends one more when
            # the thread reads the request: a client takes any number of 100s.)
            self.conn.sock.send(CONTINUE)
        # Closed by the unreader once read, or with the connection.
        self.body = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BODY)  # noqa: SIM115
        return False

    def _count(self, data: bytes) -> None:
        self.received += len(data)
        self.deadline += len(data) / MIN_BYTES_PER_SECOND

    def hand_over(self) -> None:
        """Give the parser what arrived, to read before the socket."""
        conn = self.conn
        if conn.parser is None:
            conn.parser = RequestParser(self.cfg, conn.sock, conn.client)
            conn.parser.unreader = ArrivedUnreader(conn.sock)
        if self.body is not None:
            self.body.seek(0)
        conn.parser.unreader.arrived(bytes(self.head), self.body)
        conn.data_ready = True


class ArrivedUnreader(SocketUnreader):
    """Reads a request's body from the file it arrived in, then the socket."""

    def __init__(self, sock):
        super().__init__(sock)
        self.body = None

    def arrived(self, head: bytes, body) -> None:
        self.unread(head)
        self.body = body

    def chunk(self, size_hint=None):
        if self.body is not None:
            data = self.body.read(max(size_hint or 0, self.mxchunk))
            if data:
                return data
            self.body.close()
            self.body = None
        return super().chunk(size_hint)


class WithErrorPageHeaders:
    """A client socket whose writes of gunicorn's error pages carry the security headers."""

    def __init__(self, sock):
        self._sock = sock

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def sendall(self, data: bytes) -> None:
        status_line, _, rest = data.partition(b"\r\n")
        self._sock.sendall(status_line + b"\r\n" + ERROR_PAGE_HEADERS + rest)


class ThreadWorker(gthread.ThreadWorker):
    """gunicorn.conf.py's worker_class for gthread."""

    def init_process(self):
        env = variables.read()  # already checked by gunicorn.conf.py
        self.read_timeout = env["GUNICORN_READ_TIMEOUT"]
        self.body_max_bytes = env["REQUEST_BODY_MAX_MB"] * variables.MEGABYTE
        cfg = self.cfg
        # Past this without its end, a head is one gunicorn refuses (431) as it is.
        self.max_head = (
            (cfg.limit_request_line or UNLIMITED_REQUEST_LINE)
            + cfg.limit_request_fields * (cfg.limit_request_field_size + 2)
            + 8
        )
        self.arrivals: dict[object, Arrival] = {}
        self.accept_paused_until = 0.0
        self.stopping = False
        # Each arrival is a file descriptor: stay well inside the process's limit.
        soft_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        self.max_arrivals = max(cfg.threads, min(MAX_ARRIVALS, soft_limit // 2))
        self.reads_in_event_loop = not (
            cfg.is_ssl or cfg.proxy_protocol != "off" or cfg.http2_cleartext != "off"
        )
        super().init_process()

    def accept(self, listener):
        if not self.reads_in_event_loop:
            return super().accept(listener)
        try:
            sock, client = listener.accept()
        except OSError as error:
            if error.errno in (errno.EMFILE, errno.ENFILE):
                self.log.warning("Out of file descriptors: not accepting for a second")
                self.accept_paused_until = time.monotonic() + 1
                self.set_accept_enabled(False)
                return
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.receive(gthread.TConn(self.cfg, sock, client, listener.getsockname()))

    def on_client_socket_readable(self, conn, client):
        """A kept-alive connection's next request is read here too."""
        if not self.reads_in_event_loop:
            return super().on_client_socket_readable(conn, client)
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self.nr_conns -= 1
        self.receive(conn)

    def receive(self, conn) -> None:
        conn.sock.setblocking(False)
        arrival = Arrival(conn, self)
        self.arrivals[conn] = arrival
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_arrival, arrival))

    def on_arrival(self, arrival: Arrival, sock) -> None:
        try:
            complete = arrival.read()
        except BlockingIOError:
            return
        except OSError:  # reset, or closed by the client: nothing to answer
            self.end(arrival)
            return
        if complete:
            self.forget(arrival)
            arrival.hand_over()
            if not self.stopping:  # counted already when the stop began
                self.nr_conns += 1  # gunicorn's count of the connections threads hold
            self.enqueue_req(arrival.conn)

    def forget(self, arrival: Arrival) -> None:
        self.poller.unregister(arrival.conn.sock)
        del self.arrivals[arrival.conn]

    def end(self, arrival: Arrival, answer: bytes = b"") -> None:
        """Close an arrival, with `answer` if it had started a request."""
        self.forget(arrival)
        if self.stopping:
            self.nr_conns -= 1
        if answer and arrival.received:
            try:
                arrival.conn.sock.send(answer)
                arrival.conn.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        arrival.conn.close()

    def murder_pending(self):
        """Also end the arrivals past their deadline: a partial request gets a 408."""
        super().murder_pending()
        now = time.monotonic()
        for arrival in [a for a in self.arrivals.values() if a.deadline < now]:
            self.end(arrival, TIMED_OUT)

    def _cap_keepalive(self, deadline):
        """Stopping (gunicorn calls this once, as it stops accepting): the arrivals are waited
        for as the requests in threads are, those that sent nothing yet only until `deadline`,
        as gunicorn does for kept-alive connections."""
        super()._cap_keepalive(deadline)
        self.stopping = True
        self.nr_conns += len(self.arrivals)
        for arrival in self.arrivals.values():
            if not arrival.received:
                arrival.deadline = min(arrival.deadline, deadline)

    def murder_keepalived(self, force=False):
        """Forced, at the very end of a stop: what is still arriving gets a 503, which a client
        may retry."""
        super().murder_keepalived(force)
        if force:
            for arrival in list(self.arrivals.values()):
                self.end(arrival, STOPPING)

    def set_accept_enabled(self, enabled):
        # Threads bound the requests run at once (gunicorn's count, nr_conns); this bounds
        # the connections still arriving.
        room = len(self.arrivals) < self.max_arrivals
        super().set_accept_enabled(
            enabled and room and time.monotonic() >= self.accept_paused_until
        )

    def handle_error(self, req, client, addr, exc):
        super().handle_error(req, WithErrorPageHeaders(client), addr, exc)
