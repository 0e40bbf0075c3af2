"""Claim 6: graceful stop and reload. On SIGTERM (a deploy, `docker stop`) gunicorn stops
taking connections, lets in-flight requests finish, and exits 0 within
GUNICORN_GRACEFUL_TIMEOUT. SIGHUP re-reads the configuration and replaces every worker
under load without failing a request (with preload, the code is not reloaded: restart)."""

import signal
import threading
import time

import pytest

from support.client import get
from support.load import Load


def test_sigterm_lets_the_request_in_flight_finish_then_exits_0(start_server):
    server = start_server(GUNICORN_GRACEFUL_TIMEOUT="10")
    answers: list = []
    request = threading.Thread(
        target=lambda: answers.append(get(server.port, "/test/sleep?ms=2000", timeout=15))
    )
    request.start()
    time.sleep(0.5)  # the request is in a worker
    stopping = time.monotonic()
    server.send(signal.SIGTERM)
    time.sleep(0.3)
    with pytest.raises(ConnectionError):  # no new connection is taken any more
        get(server.port, "/healthz", timeout=2)
    exit_code = server.wait_exit(timeout=15)
    stopped = time.monotonic() - stopping
    request.join(timeout=15)
    print(
        f"\nSIGTERM with a 2 s request in flight: it answered {answers[0].status} after "
        f"{answers[0].seconds:.2f} s; gunicorn exited {exit_code} {stopped:.2f} s after SIGTERM"
    )
    assert answers[0].status == 200 and answers[0].json()["slept_ms"] == 2000
    assert exit_code == 0
    assert stopped < 10  # GUNICORN_GRACEFUL_TIMEOUT


def test_sighup_replaces_every_worker_under_load_without_failing_a_request(start_server, tmp_path):
    settings = tmp_path / "gunicorn.env"
    settings.write_text("GUNICORN_WORKERS=2\n")
    server = start_server(workers=2, ENV_FILE=str(settings))
    originals = server.worker_pids()
    with Load(server.port, "/test/pid", requests=30000, connections=16, deadline=6) as running:
        time.sleep(1)
        settings.write_text("GUNICORN_WORKERS=3\n")  # re-read on SIGHUP
        server.send(signal.SIGHUP)
        replacements = server.wait_for_replacements(originals, 3, timeout=5, new=3)
        replaced = time.monotonic()  # from here on, only new workers are alive
    result = running.result
    served_after = {o.pid for o in result.outcomes if o.started > replaced}
    print(
        f"\nSIGHUP under load: {result.summary()}; workers {sorted(originals)} -> "
        f"{sorted(server.worker_pids())}"
    )
    assert result.failures == []
    assert server.worker_pids() == replacements and len(replacements) == 3
    assert served_after and served_after <= replacements  # only new workers serve
