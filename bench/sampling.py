"""The memory of a server's processes, sampled in the background while a load runs, and the
CPU time they used, read before and after it."""

import contextlib
import os
import threading
import time
from pathlib import Path

from support.server import Server

MIB = 1024 * 1024


class RssSampler:
    """Samples the RSS of a server's master and workers every `interval` seconds while in use."""

    def __init__(self, server: Server, interval: float = 0.25):
        self.server = server
        self.interval = interval
        self.samples: list[tuple[float, dict[int, int]]] = []  # (seconds, {pid: bytes})
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
        self.samples.append((time.monotonic() - self._started, self.server.rss(master=True)))

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
                if pid != self.server.pid:
                    series.setdefault(pid, []).append((round(seconds, 2), round(size / MIB, 1)))
        return series


TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _tree(pid: int) -> list[int]:
    """pid and all its live descendants, from /proc/PID/task/*/children."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            with contextlib.suppress(OSError, ValueError):
                queue += [int(child) for child in (task / "children").read_text().split()]
    return found


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) used so far by a process tree: each live process's own,
    plus what its reaped children used (cutime, cstime), so a worker that exited in between
    (recycled) still counts, through its master."""
    ticks = 0
    for member in _tree(pid):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{member}/stat").read_text().rpartition(")")[2].split()
            ticks += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return ticks / TICKS
