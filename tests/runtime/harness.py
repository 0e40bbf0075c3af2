"""Helpers of the runtime tests: start and stop a generated project's real gunicorn, load it
over loopback from a bounded concurrent client, and inspect its processes.

A server is configured only through environment variables, as users do: the project's own
gunicorn.conf.py reads them. The test-only views (support/) reach the server through its
PYTHONPATH and DJANGO_SETTINGS_MODULE, never through the project's files.
"""

import contextlib
import http.client
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

SUPPORT = Path(__file__).resolve().parent / "support"
HOST = "127.0.0.1"
# What the TLS-terminating proxy in front sends: the production settings redirect without it.
PROXY_HEADERS = {"Host": "localhost", "X-Forwarded-Proto": "https"}
# Variables gunicorn.conf.py or the settings read: the tests' own environment must not leak in.
INHERITED_OUT = ("GUNICORN_", "DJANGO_", "WEB_CONCURRENCY", "PORT", "ENV_FILE", "DATABASE_")


def server_environment(workdir: Path, port: int, **overrides: str) -> dict[str, str]:
    """Production settings, nothing read from .env, and the test-only views on the path."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(INHERITED_OUT) and name not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env.update(
        ENV_FILE="",
        PYTHONPATH=str(SUPPORT),
        DJANGO_SETTINGS_MODULE="runtime_settings",
        DJANGO_SECRET_KEY="runtime-tests-secret-key-" + "x" * 40,
        DJANGO_ALLOWED_HOSTS="localhost",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        DJANGO_STATIC_ROOT=str(workdir / "static"),
        GUNICORN_BIND=f"{HOST}:{port}",
        GUNICORN_LOG_LEVEL="info",
    )
    env.update(overrides)
    return env


class Server:
    """One server process (gunicorn's master, or runserver) and everything it forks.

    Its output goes to a file, never to a pipe nobody reads (a full pipe blocks the workers).
    """

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str], port: int, log: Path):
        self.log_path = log
        self.port = port
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: nothing else in it
            )
        self.pid = self.process.pid
        self.master = psutil.Process(self.pid)

    # --- state -----------------------------------------------------------------------------

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> set[int]:
        """The master's live children: gunicorn's workers (zombies, already dead, excluded).

        Read from /proc/PID/task/PID/children: cheap enough to poll every few milliseconds
        under load, where psutil would scan all of /proc each time.
        """
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            return set()
        return {int(pid) for pid in children if _running(int(pid))}

    def workers_rss(self) -> dict[int, int]:
        """Resident memory of each worker, in bytes."""
        sizes = {}
        for pid in self.worker_pids():
            with contextlib.suppress(psutil.Error):
                sizes[pid] = psutil.Process(pid).memory_info().rss
        return sizes

    def exited(self) -> bool:
        return self.process.poll() is not None

    # --- waiting ---------------------------------------------------------------------------

    def wait_ready(self, workers: int | None = None, timeout: float = 60) -> "Server":
        """Until /healthz answers 200 and (if given) `workers` workers are up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exited():
                raise AssertionError(f"server exited {self.process.returncode}:\n{self.log()}")
            if healthy(self.port) and (workers is None or len(self.worker_pids()) == workers):
                return self
            time.sleep(0.05)
        raise AssertionError(f"server not ready in {timeout} s:\n{self.log()}")

    def wait_for_replacements(
        self, known: set[int], count: int, timeout: float, new: int = 1
    ) -> set[int]:
        """Until `count` workers are alive, at least `new` of them not in `known`: returns
        the new ones (an empty set if that did not happen within `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == count and len(pids - known) >= new:
                return pids - known
            time.sleep(0.002)
        return set()

    # --- ending ----------------------------------------------------------------------------

    def send(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """SIGKILL the master and everything it forked, by PID, whatever state they are in.
        The master is stopped first, so that it forks no replacement meanwhile; the process
        group it leads (start_new_session) catches a worker orphaned before that."""
        if not self.exited():
            with contextlib.suppress(psutil.Error):
                self.master.suspend()
                for child in self.master.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        child.kill()
            self.process.kill()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"  # the state follows "(command)"


# --- HTTP ------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> dict:
        return json.loads(self.body)


def get(port: int, path: str, timeout: float = 10) -> Response:
    """One request on a fresh connection, through the headers the proxy in front would add."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    started = time.perf_counter()
    try:
        connection.request("GET", path, headers=PROXY_HEADERS)
        answer = connection.getresponse()
        body = answer.read()
        return Response(answer.status, dict(answer.headers), body, time.perf_counter() - started)
    finally:
        connection.close()


def healthy(port: int) -> bool:
    try:
        return get(port, "/healthz", timeout=2).status == 200
    except OSError:
        return False


def exchange(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes, return everything the server answers before it closes."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    return b"".join(chunks)


def status_of(raw: bytes) -> int | None:
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", raw)
    return int(match[1]) if match else None


# --- load ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    started: float  # time.monotonic()
    seconds: float
    status: int | None = None
    error: str | None = None
    pid: int | None = None  # the worker that answered, when the view says


@dataclass
class LoadResult:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != 200]

    def percentile(self, share: float) -> float:
        times = sorted(o.seconds for o in self.outcomes)
        return times[min(len(times) - 1, int(share * len(times)))]

    def summary(self) -> str:
        if not self.outcomes:
            return "no requests"
        errors = sorted({o.error or str(o.status) for o in self.failures})
        return (
            f"{len(self.outcomes)} requests in {self.seconds:.2f} s "
            f"({len(self.outcomes) / self.seconds:.0f}/s), {len(self.failures)} failed "
            f"{errors if errors else ''}, p50 {self.percentile(0.5) * 1000:.1f} ms, "
            f"p99 {self.percentile(0.99) * 1000:.1f} ms, max {self.percentile(1) * 1000:.1f} ms"
        )


def load(
    port: int,
    path: str,
    *,
    requests: int,
    connections: int,
    deadline: float,
    timeout: float = 10,
) -> LoadResult:
    """`requests` GETs of `path` from `connections` threads, each with its own connection
    (kept alive when the server allows), stopping after `deadline` seconds whatever is left.
    Each outcome is recorded; nothing is retried."""
    counter = itertools.count()
    stop_at = time.monotonic() + deadline
    result = LoadResult()
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        while next(counter) < requests and time.monotonic() < stop_at:
            outcome = _one_request(connection, path)
            with lock:
                result.outcomes.append(outcome)
        connection.close()

    started = time.monotonic()
    with ThreadPoolExecutor(connections) as pool:
        for future in [pool.submit(client) for _ in range(connections)]:
            future.result()
    result.seconds = time.monotonic() - started
    return result


def _one_request(connection: http.client.HTTPConnection, path: str) -> Outcome:
    started = time.monotonic()
    outcome = Outcome(started, 0.0)
    try:
        connection.request("GET", path, headers=PROXY_HEADERS)
        answer = connection.getresponse()
        body = answer.read()
        outcome.status = answer.status
        if body.startswith(b'{"pid"'):
            outcome.pid = json.loads(body)["pid"]
        if answer.will_close:  # sync workers close after each response
            connection.close()
    except (OSError, http.client.HTTPException) as error:
        outcome.error = type(error).__name__
        connection.close()  # the next request reconnects
    outcome.seconds = time.monotonic() - started
    return outcome


@contextlib.contextmanager
def load_in_background(port: int, path: str, **options) -> Iterator[Future]:
    """Runs load() while the body of the `with` acts on the server; the future holds its
    result. Leaving the block waits for the load to finish (it is bounded by its deadline)."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(load, port, path, **options)
        time.sleep(0.2)  # the load is under way before the body acts
        yield future
        future.result()


def concurrently(port: int, paths: list[str], timeout: float = 30) -> list[Response]:
    """The same moment, one request per path, each on its own connection."""
    with ThreadPoolExecutor(len(paths)) as pool:
        return list(pool.map(lambda path: get(port, path, timeout), paths))


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


# --- sockets of the kernel -------------------------------------------------------------------


def listen_backlog(port: int) -> int:
    """The listening socket's backlog as the kernel holds it: Send-Q of `ss -ltn`."""
    output = subprocess.run(
        ["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    # State Recv-Q Send-Q Local-Address:Port Peer-Address:Port
    (line,) = output.strip().splitlines()
    return int(line.split()[2])
