"""Claim 5: crash recovery. A worker that dies (kill -9, a crash in a C extension, os._exit)
is replaced by the master within 2 s; only the requests it held fail, and the service keeps
answering. A sync worker whose request outlives GUNICORN_TIMEOUT is killed and replaced."""

import os
import re
import signal
import threading
import time

import psutil
import pytest

from support.client import get
from support.load import Load

WORKERS = 4
SLOW = "/test/sleep?ms=50"  # requests last long enough to be caught in flight
LOAD = {"requests": 400, "connections": 8, "deadline": 30}


def _held_connections(pid: int) -> int:
    return sum(1 for c in psutil.Process(pid).net_connections("tcp") if c.status == "ESTABLISHED")


def _kill_the_busiest_worker(server) -> tuple[int, int]:
    """SIGKILL the worker holding most connections: (its pid, the connections it held).
    SIGSTOP first, so that it accepts nothing between the count and the kill."""
    victim = max(server.worker_pids(), key=_held_connections)
    os.kill(victim, signal.SIGSTOP)
    held = _held_connections(victim)
    os.kill(victim, signal.SIGKILL)
    return victim, held


def _exit_in_a_view(server) -> tuple[int, int]:
    """A request to a view that calls os._exit: (the worker that ran it, the requests it
    may have held besides that one: one per other thread)."""
    before = server.worker_pids()
    with pytest.raises(ConnectionError):  # the worker dies mid-request: no response at all
        get(server.port, "/test/exit")
    deadline = time.monotonic() + 5
    while not (gone := before - server.worker_pids()) and time.monotonic() < deadline:
        time.sleep(0.002)
    (victim,) = gone
    threads = int(re.search(r" threads=(\d+) ", server.log())[1])
    return victim, threads - 1


@pytest.mark.parametrize("threads", ["1", None], ids=["sync", "default-gthread"])
@pytest.mark.parametrize(
    "death", [_kill_the_busiest_worker, _exit_in_a_view], ids=["kill-9", "os-exit"]
)
def test_a_dead_worker_is_replaced_and_only_its_requests_fail(start_server, threads, death):
    settings = {"GUNICORN_WORKERS": str(WORKERS)}
    if threads:
        settings["GUNICORN_THREADS"] = threads
    server = start_server(workers=WORKERS, **settings)
    originals = server.worker_pids()
    with Load(server.port, SLOW, **LOAD) as running:
        victim, held = death(server)
        died = time.monotonic()
        replacements = server.wait_for_replacements(originals, WORKERS, timeout=5)
        respawn = time.monotonic() - died
    result = running.result
    late_failures = [o for o in result.failures if o.started > died]
    print(
        f"\n{death.__name__}: replaced in {respawn * 1000:.0f} ms; {len(result.failures)} "
        f"failed requests (the worker held {held}); {result.summary()}"
    )
    assert victim not in server.worker_pids()
    assert len(replacements) == 1 and respawn < 2
    assert len(result.failures) <= held
    assert late_failures == [], "a request sent after the death failed"
    assert get(server.port, "/test/pid").status == 200


def test_a_sync_request_past_the_timeout_is_killed_and_others_are_served(start_server):
    server = start_server(
        workers=2, GUNICORN_WORKERS="2", GUNICORN_THREADS="1", GUNICORN_TIMEOUT="2"
    )
    originals = server.worker_pids()
    stuck: list = []
    request = threading.Thread(target=lambda: stuck.append(_outcome_of_a_stuck_request(server)))
    others = {"requests": 2000, "connections": 2, "deadline": 6}  # ~200/s, for ~6 s
    with Load(server.port, "/test/sleep?ms=10", **others) as running:
        request.start()
        request.join(timeout=20)
    print(
        f"\nrequest stuck for 10 s, GUNICORN_TIMEOUT=2: answered {stuck[0][0]} after "
        f"{stuck[0][1]} s; meanwhile {running.result.summary()}"
    )
    assert running.result.failures == []
    killed = [pid for pid in originals if f"WORKER TIMEOUT (pid:{pid})" in server.log()]
    assert len(killed) == 1
    assert stuck[0][0] != 200 and stuck[0][1] < 6  # cut short, not served after 10 s
    replacement = server.wait_for_replacements(originals, 2, timeout=5)
    assert len(replacement) == 1 and killed[0] not in server.worker_pids()


def _outcome_of_a_stuck_request(server) -> tuple:
    started = time.monotonic()
    try:
        status = get(server.port, "/test/sleep?ms=10000", timeout=15).status
    except ConnectionError as error:
        status = type(error).__name__
    return status, round(time.monotonic() - started, 1)


def test_a_gthread_request_past_the_timeout_runs_on(start_server):
    """The limit of threads, documented: a gthread worker's main loop keeps telling the
    master it is alive, so GUNICORN_TIMEOUT does not cut a long request."""
    server = start_server(workers=2, GUNICORN_WORKERS="2", GUNICORN_TIMEOUT="2")
    response = get(server.port, "/test/sleep?ms=4000")
    assert response.status == 200
    assert response.json()["pid"] in server.worker_pids()
    assert "WORKER TIMEOUT" not in server.log()
