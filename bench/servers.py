"""Server processes: start one (runserver or the project's gunicorn), wait until it answers,
sample the memory of its processes, and stop it and everything it forked, by PID."""

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import psutil

HOST = "127.0.0.1"
# What the TLS-terminating proxy in front of a production server sends.
PROXY_HEADERS = {"Host": "localhost", "X-Forwarded-Proto": "https"}
IMMUTABLE = "max-age=31536000, public, immutable"  # WhiteNoise's header for hashed files
READY_TIMEOUT = 60
STOP_TIMEOUT = 15
MIB = 1024 * 1024

_started: list["Server"] = []  # every server of this process, for stop_all()


class ServerFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def get(port: int, path: str, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection, with the proxy's headers."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path, headers=PROXY_HEADERS)
        answer = connection.getresponse()
        return answer.status, dict(answer.headers), answer.read()
    finally:
        connection.close()


class Server:
    """One server: gunicorn's master or runserver, in a process group of its own. Its output
    goes to a file, never to a pipe nobody reads (a full pipe would block it)."""

    def __init__(self, label: str, command: list[str], cwd: Path, env: dict, log: Path):
        self.label = label
        self.command = command
        self.port = free_port()
        self.log_path = log
        env = {**env, "GUNICORN_BIND": f"{HOST}:{self.port}"}
        command = [part.replace("{port}", str(self.port)) for part in command]
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _started.append(self)
        self.master = psutil.Process(self.process.pid)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def workers(self) -> list[psutil.Process]:
        with contextlib.suppress(psutil.Error):
            return [p for p in self.master.children(recursive=True) if _alive(p)]
        return []

    def rss_by_pid(self) -> dict[int, int]:
        """Resident memory in bytes of the master (or runserver) and of each worker."""
        sizes = {}
        for process in [self.master, *self.workers()]:
            with contextlib.suppress(psutil.Error):
                sizes[process.pid] = process.memory_info().rss
        return sizes

    def pss_total(self) -> int:
        """Proportional set size summed: shared (copy-on-write) pages counted once."""
        total = 0
        for process in [self.master, *self.workers()]:
            with contextlib.suppress(psutil.Error, AttributeError):
                total += process.memory_full_info().pss
        return total

    def configuration(self) -> str:
        """gunicorn's own line of the settings in force, logged once it is ready."""
        match = re.search(r"Configuration: (.+)", self.log())
        return match[1].strip() if match else ""

    def configured_workers(self) -> int | None:
        match = re.search(r"\bworkers=(\d+)", self.configuration())
        return int(match[1]) if match else None

    def restarts(self) -> dict[str, int]:
        """Workers booted (the first ones included), and recycling announcements."""
        text = self.log()
        booted = text.count("Booting worker with pid")
        return {
            "workers_booted": booted,
            "recycled": text.count("Autorestarting worker after current request"),
        }

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> "Server":
        """Until /healthz answers 200 and every configured worker is up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerFailed(
                    f"{self.label} exited with code {self.process.returncode}:\n{self.log_tail()}"
                )
            expected = self.configured_workers()
            if _healthy(self.port) and (expected is None or len(self.workers()) == expected):
                return self
            time.sleep(0.05)
        raise ServerFailed(f"{self.label} not ready within {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGTERM (a graceful stop), then SIGKILL to whatever is left, by PID."""
        children = []
        with contextlib.suppress(psutil.Error):
            children = self.master.children(recursive=True)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT)
        for child in children:  # psutil checks each is still the process it was
            with contextlib.suppress(psutil.Error):
                child.kill()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            # Its own group (start_new_session): stragglers only it could have left.
            os.killpg(self.pid, signal.SIGKILL)
        if self in _started:
            _started.remove(self)


def _alive(process: psutil.Process) -> bool:
    with contextlib.suppress(psutil.Error):
        return process.status() != psutil.STATUS_ZOMBIE
    return False


def _healthy(port: int) -> bool:
    try:
        return get(port, "/healthz", timeout=2)[0] == 200
    except OSError:
        return False


def stop_all() -> None:
    """Stops every server still running (after an error or an interruption)."""
    for server in list(_started):
        with contextlib.suppress(Exception):
            server.stop()


def served_by(status: int, headers: dict[str, str]) -> str:
    """Who answered a static file, from its headers: WhiteNoise marks hashed files immutable;
    django.contrib.staticfiles' view (runserver's own static handling) does not."""
    if status != 200:
        return f"nobody: status {status}"
    if headers.get("Cache-Control") == IMMUTABLE:
        return "WhiteNoise middleware (Cache-Control: immutable)"
    return f"not WhiteNoise (Cache-Control: {headers.get('Cache-Control')!r})"


class RssSampler:
    """Samples the RSS of a server's processes every `interval` seconds while in use."""

    def __init__(self, server: Server, interval: float = 0.25):
        self.server = server
        self.interval = interval
        self.samples: list[tuple[float, dict[int, int]]] = []  # (seconds, {pid: bytes})
        self.master_pid = server.pid
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "RssSampler":
        self._started = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()  # the state at the end, too

    def _sample(self) -> None:
        self.samples.append((time.monotonic() - self._started, self.server.rss_by_pid()))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def peak_total_mib(self) -> float:
        totals = [sum(sizes.values()) for _, sizes in self.samples] or [0]
        return round(max(totals) / MIB, 1)

    def worker_series(self) -> dict[int, list[tuple[float, float]]]:
        """{worker pid: [(seconds, MiB), ...]}: the master left out."""
        series: dict[int, list[tuple[float, float]]] = {}
        for seconds, sizes in self.samples:
            for pid, size in sizes.items():
                if pid != self.master_pid:
                    series.setdefault(pid, []).append((round(seconds, 2), round(size / MIB, 1)))
        return series
