"""Claim 2: concurrency. With the default configuration, requests that wait (on a database,
an API) do not queue behind each other: 4 requests that each sleep 1 s finish together."""

import time

from support.client import concurrently


def test_four_one_second_requests_finish_together_by_default(start_server):
    server = start_server()  # nothing configured: the defaults
    started = time.perf_counter()
    responses = concurrently(server.port, ["/test/sleep?ms=1000"] * 4)
    elapsed = time.perf_counter() - started
    slowest = max(r.seconds for r in responses)
    print(f"\n4 x 1 s sleeps at once: all done in {elapsed:.2f} s (slowest {slowest:.2f} s)")
    assert [r.status for r in responses] == [200] * 4
    assert elapsed < 2.5  # together ~1 s; one after another would be 4 s
