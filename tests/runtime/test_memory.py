"""Claim 4: memory leaks are bounded. A view that keeps 2 MB on every request: recycling
(GUNICORN_MAX_REQUESTS) keeps every worker under a bound; without it, workers grow past it."""

import time

from support.load import Load

LEAK_MB, MAX_REQUESTS, JITTER = 2, 20, 5
# A worker lives at most MAX_REQUESTS + JITTER requests (+1 per extra thread finishing its
# request): 25 x 2 MB = 50 MB; 30 MB more of slack.
BOUND_MB = (MAX_REQUESTS + JITTER) * LEAK_MB + 30
REQUESTS = 160  # 320 MB leaked in all: at least 160 MB in one of the 2 workers


def _largest_worker_growth_mb(server) -> float:
    """The largest worker's resident memory during the leaking load, above a fresh one's."""
    baseline = max(server.rss().values())
    largest = baseline
    leak = f"/test/leak?kib={LEAK_MB * 1024}"
    with Load(server.port, leak, requests=REQUESTS, connections=2, deadline=60) as running:
        while True:
            largest = max([largest, *server.rss().values()])
            if running.done():  # sampled once more after the last request
                break
            time.sleep(0.01)
    assert running.result.failures == [], running.result.summary()
    return (largest - baseline) / 2**20


def test_recycling_bounds_a_leaking_workers_memory(start_server):
    recycled = start_server(
        workers=2,
        GUNICORN_WORKERS="2",
        GUNICORN_MAX_REQUESTS=str(MAX_REQUESTS),
        GUNICORN_MAX_REQUESTS_JITTER=str(JITTER),
    )
    never = start_server(workers=2, GUNICORN_WORKERS="2", GUNICORN_MAX_REQUESTS="0")
    bounded, unbounded = _largest_worker_growth_mb(recycled), _largest_worker_growth_mb(never)
    print(
        f"\nlargest worker growth after {REQUESTS} requests leaking {LEAK_MB} MB each: "
        f"{bounded:.0f} MB recycling every {MAX_REQUESTS}-{MAX_REQUESTS + JITTER}, "
        f"{unbounded:.0f} MB never (bound {BOUND_MB} MB)"
    )
    assert bounded < BOUND_MB
    assert unbounded > BOUND_MB
