"""Claim 10: slow clients. 50 connections that trickle their request a byte a second (a bad
mobile network, or slowloris) do not stop the site answering others with the defaults: each
worker has threads, and takes a connection only when one is free (docs/production.md).
With sync workers, the same 50 connections take every worker and the site stops answering:
the reason for the default, and for a buffering proxy in front."""

import time

from support.client import get
from tests.runtime.sockets import Tricklers

SLOW_CLIENTS = 50
WATCH_SECONDS = 10


def _normal_requests_during_trickle(server) -> list[float | str]:
    """One normal request every half second for WATCH_SECONDS while the tricklers hold
    their connections: each one's time in seconds, or the error that ended it."""
    tricklers = Tricklers(server.port, SLOW_CLIENTS)
    try:
        time.sleep(2)  # every slow connection has been accepted and is sending
        outcomes: list[float | str] = []
        deadline = time.monotonic() + WATCH_SECONDS
        while time.monotonic() < deadline:
            try:
                response = get(server.port, "/test/pid", timeout=2)
                outcomes.append(response.seconds if response.status == 200 else "not 200")
            except OSError as error:
                outcomes.append(type(error).__name__)
            time.sleep(0.5)
        assert tricklers.broken == 0, "the server dropped slow clients"
        return outcomes
    finally:
        tricklers.close()


def test_fifty_slow_clients_do_not_stop_the_site_by_default(start_server):
    server = start_server()  # the defaults
    outcomes = _normal_requests_during_trickle(server)
    answered = [o for o in outcomes if isinstance(o, float)]
    print(
        f"\n{SLOW_CLIENTS} slow clients, defaults: {len(answered)}/{len(outcomes)} normal "
        f"requests answered, slowest {max(answered, default=0) * 1000:.0f} ms"
    )
    assert len(outcomes) >= 10 and answered == outcomes


def test_fifty_slow_clients_stop_sync_workers(start_server):
    """Not a claim, the reason for the default: a sync worker reads a request with a
    blocking socket, so each slow client holds a whole worker."""
    server = start_server(GUNICORN_THREADS="1")
    outcomes = _normal_requests_during_trickle(server)
    print(f"\n{SLOW_CLIENTS} slow clients, sync workers: normal requests got {set(outcomes)}")
    assert not any(isinstance(o, float) for o in outcomes)
