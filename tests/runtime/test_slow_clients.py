"""Claim 10: slow clients. Connections that stall or trickle their request (slowloris, or a
phone on a bad network) cost no thread with the defaults: each request is read in the worker's
event loop and reaches a thread only once it has all arrived (config/worker.py). So the site
keeps answering beside hundreds of them, and each is closed after a bounded time, with a 408
if it had started a request. With sync workers, 50 trickling connections take every worker
and the site stops answering: the reason for the default, and for a buffering proxy in front."""

import socket
import time

from support.client import HOST, get
from tests.runtime.sockets import Stalled, Tricklers

READ_TIMEOUT = 8  # GUNICORN_READ_TIMEOUT for these tests: its default, 20 s, made shorter
SILENT, TRICKLING = 300, 200
WATCH_SECONDS = 6


def _normal_requests(server, seconds: float) -> list[float | str]:
    """One normal request every 0.2 s for `seconds`: each one's time, or what ended it."""
    outcomes: list[float | str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            response = get(server.port, "/test/pid", timeout=2)
            outcomes.append(response.seconds if response.status == 200 else "not 200")
        except OSError as error:
            outcomes.append(type(error).__name__)
        time.sleep(0.2)
    return outcomes


def test_hundreds_of_stalled_connections_cost_no_thread(start_server):
    server = start_server(workers=2, GUNICORN_WORKERS="2", GUNICORN_READ_TIMEOUT=str(READ_TIMEOUT))
    workers = server.worker_pids()
    stalled = Stalled(server.port, SILENT, TRICKLING)
    try:
        time.sleep(1)  # every connection is open and stalled
        outcomes = _normal_requests(server, WATCH_SECONDS)
        # Each byte buys a trickler 1/500 s more: ~10 bytes, 0.02 s.
        assert stalled.all_ended(timeout=READ_TIMEOUT + 6), (
            f"{len(stalled.ended)} of {SILENT + TRICKLING} stalled connections closed"
        )
        ended_at = [at for at, _ in stalled.ended.values()]
        answers = {answer.split(b"\r\n")[0] for _, answer in stalled.ended.values()}
    finally:
        stalled.close()
    answered = [o for o in outcomes if isinstance(o, float)]
    print(
        f"\n{SILENT} silent + {TRICKLING} trickling connections: {len(answered)}/"
        f"{len(outcomes)} normal requests answered, slowest {max(answered) * 1000:.0f} ms; "
        f"stalled ones closed after {min(ended_at):.1f}-{max(ended_at):.1f} s with {answers}"
    )
    assert len(outcomes) >= 15 and answered == outcomes
    assert answers == {b"HTTP/1.1 408 Request Timeout"}
    assert min(ended_at) >= READ_TIMEOUT - 1 and max(ended_at) <= READ_TIMEOUT + 4
    assert server.worker_pids() == workers  # no worker was lost or replaced
    assert get(server.port, "/test/pid").status == 200


def test_a_slow_but_steady_client_is_served_past_the_timeout(start_server):
    """Each byte buys a client 1/500 s: a 4 kB body at 1 kB/s arrives whole after 4 s,
    twice the timeout, and is answered; the same body at 100 B/s gets a 408."""
    server = start_server(GUNICORN_READ_TIMEOUT="2")
    # Answered as any plain-HTTP request is: redirected to HTTPS.
    assert _post_slowly(server.port, bytes_per_second=1000).startswith(b"HTTP/1.1 301 ")
    assert _post_slowly(server.port, bytes_per_second=100).startswith(b"HTTP/1.1 408 ")


def _post_slowly(port: int, bytes_per_second: int, size: int = 4000) -> bytes:
    """A POST whose body goes out 100 bytes at a time; the server's first answer."""
    with socket.create_connection((HOST, port), timeout=10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n" % size)
        try:
            for _ in range(size // 100):
                time.sleep(100 / bytes_per_second)
                sock.sendall(b"a" * 100)
        except OSError:  # closed on it
            pass
        return sock.recv(200)


def test_fifty_slow_clients_stop_sync_workers(start_server):
    """Not a claim, the reason for the default: a sync worker reads a request with a
    blocking socket, so each slow client holds a whole worker."""
    server = start_server(GUNICORN_THREADS="1")
    tricklers = Tricklers(server.port, 50)
    try:
        time.sleep(2)  # every slow connection has been accepted and is sending
        outcomes = _normal_requests(server, 6)
        assert tricklers.broken == 0, "the server dropped slow clients"
    finally:
        tricklers.close()
    print(f"\n50 slow clients, sync workers: normal requests got {set(outcomes)}")
    assert not any(isinstance(o, float) for o in outcomes)
