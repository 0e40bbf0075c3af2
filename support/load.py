"""The load client of the tests: GETs from threads over loopback, every outcome recorded.

Load(port, path, connections=16, requests=2000, deadline=10) sends until `requests` are sent
or `deadline` seconds pass, each connection kept alive when the server allows it and reopened
when not; `period` paces each connection (a request every `period` seconds); `host` is 127.0.0.1
unless given. Nothing is retried. Use load() to run one to its end, or `with Load(...)` to act
on the server meanwhile.
"""

import collections
import http.client
import itertools
import json
import threading
import time
from dataclasses import dataclass, field

from support.client import HOST, PROXY_HEADERS

BODY_KEPT = 256  # bytes of each response body kept, for what tests read in it


@dataclass
class Outcome:
    started: float  # time.monotonic()
    seconds: float
    status: int | None = None
    error: str | None = None  # the exception's type, when no response came
    body: bytes = b""

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def pid(self) -> int | None:
        """The worker that answered, when the view says (support_views)."""
        return json.loads(self.body)["pid"] if self.body.startswith(b'{"pid"') else None


@dataclass
class LoadResult:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def percentile(self, share: float) -> float:
        times = sorted(o.seconds for o in self.outcomes)
        return times[min(len(times) - 1, int(share * len(times)))]

    def longest_gap(self) -> float:
        """The longest time between two successful responses: what a user waited at worst."""
        times = [o.started for o in self.outcomes if o.ok]
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)

    def bodies(self) -> dict[str, int]:
        return dict(collections.Counter(o.body.decode().strip() for o in self.outcomes if o.ok))

    def errors(self) -> dict[str, int]:
        return dict(collections.Counter(o.error or str(o.status) for o in self.failures))

    def summary(self) -> str:
        if not self.outcomes:
            return "no requests"
        return (
            f"{len(self.outcomes)} requests in {self.seconds:.2f} s "
            f"({len(self.outcomes) / self.seconds:.0f}/s), {len(self.failures)} failed "
            f"{self.errors() or ''}, p50 {self.percentile(0.5) * 1000:.1f} ms, "
            f"p99 {self.percentile(0.99) * 1000:.1f} ms, max {self.percentile(1) * 1000:.1f} ms"
        )


class Load:
    """Runs in threads from start() (or entering `with`) to its end. Leaving the `with` block
    waits for that end, or with `linger`, sends for that many seconds more and stops."""

    def __init__(
        self,
        port: int,
        path: str,
        *,
        connections: int = 1,
        requests: int | None = None,
        deadline: float = 60,
        period: float = 0.0,
        timeout: float = 10,
        linger: float | None = None,
        host: str = HOST,
    ):
        self.host, self.port, self.path = host, port, path
        self.connections, self.requests, self.deadline = connections, requests, deadline
        self.period, self.timeout, self.linger = period, timeout, linger
        self.result = LoadResult()
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> "Load":
        self._started = time.monotonic()
        self._stop_at = self._started + self.deadline
        self._threads = [threading.Thread(target=self._client) for _ in range(self.connections)]
        for thread in self._threads:
            thread.start()
        return self

    def done(self) -> bool:
        return not any(thread.is_alive() for thread in self._threads)

    def stop(self) -> LoadResult:
        self._stop.set()
        return self.wait()

    def wait(self) -> LoadResult:
        for thread in self._threads:
            thread.join()
        self.result.seconds = time.monotonic() - self._started
        return self.result

    def __enter__(self) -> "Load":
        self.start()
        time.sleep(0.2)  # under way before the block acts on the server
        return self

    def __exit__(self, *exc) -> None:
        if self.linger is None:
            self.wait()
        else:
            self._stop.wait(self.linger)
            self.stop()

    def _sending(self) -> bool:
        within = self.requests is None or next(self._counter) < self.requests
        return within and not self._stop.is_set() and time.monotonic() < self._stop_at

    def _client(self) -> None:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        while self._sending():
            outcome = _one_request(connection, self.path)
            with self._lock:
                self.result.outcomes.append(outcome)
            if self.period:
                self._stop.wait(max(0.0, self.period - outcome.seconds))
        connection.close()


def load(port: int, path: str, **options) -> LoadResult:
    """A Load run to its end."""
    return Load(port, path, **options).start().wait()


def _one_request(connection: http.client.HTTPConnection, path: str) -> Outcome:
    outcome = Outcome(time.monotonic(), 0.0)
    try:
        connection.request("GET", path, headers=PROXY_HEADERS)
        answer = connection.getresponse()
        outcome.body = answer.read()[:BODY_KEPT]
        outcome.status = answer.status
        if answer.will_close:  # sync workers, or keep-alive off: a fresh connection next
            connection.close()
    except (OSError, http.client.HTTPException) as error:
        outcome.error = type(error).__name__
        connection.close()  # the next request reconnects
    outcome.seconds = time.monotonic() - outcome.started
    return outcome
