"""The machine the numbers come from, and which CPUs the client and the servers get."""

import datetime
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Pinning:
    """CPU sets, as taskset lists; None: not pinned (the kernel schedules freely)."""

    client: list[int] | None
    server: list[int] | None
    cpu_experiment_server: list[int] | None  # experiment 3 needs two cores for the server
    note: str
    # Every CPU this process may use, read before it pins itself to the client's: the
    # unpinned runs get them all, for the server and the client alike.
    every: list[int] | None = None

    def to_json(self) -> dict:
        return asdict(self)


def allowed_cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def plan_pinning(enabled: bool = True) -> Pinning:
    """wrk (one thread) on the first allowed CPU, the servers on all the others."""
    cpus = allowed_cpus()
    if not enabled:
        return Pinning(None, None, None, "CPU pinning turned off (--no-pin): not pinned.")
    if shutil.which("taskset") is None:
        return Pinning(None, None, None, "taskset (util-linux) not found: not pinned.")
    if len(cpus) < 2:
        note = f"only {len(cpus)} CPU allowed: client and server share it, not pinned."
        return Pinning(None, None, None, note)
    client, server = cpus[:1], cpus[1:]
    two_cores = cpus[1:3] if len(cpus) >= 3 else cpus[:2]
    note = (
        f"wrk pinned to CPU {_list(client)}, the servers to CPU {_list(server)} (taskset): "
        f"the servers get {len(server)} of the {len(cpus)} CPUs this process may use."
    )
    shared = "; it shares CPU 0 with wrk" if set(two_cores) & set(client) else ""
    note += f" Experiment 3 (CPU-bound) runs its servers on CPUs {_list(two_cores)}{shared}."
    return Pinning(client, server, two_cores, note, every=cpus)


def _list(cpus: list[int]) -> str:
    return ",".join(str(cpu) for cpu in cpus)


def taskset(cpus: list[int] | None) -> list[str]:
    return ["taskset", "-c", _list(cpus)] if cpus else []


def _first_line(path: str, prefix: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(prefix):
                return line.split(":", 1)[1].strip() if ":" in line else line
    except OSError:
        pass
    return "unknown"


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.platform()


def _memory_gib() -> float:
    total = _first_line("/proc/meminfo", "MemTotal")  # "24684032 kB"
    try:
        return round(int(total.split()[0]) / 1024 / 1024, 1)
    except (ValueError, IndexError):
        return 0.0


def _cgroup_cpu_limit() -> str:
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
    except (OSError, ValueError):
        return "none found"
    return "none" if quota == "max" else f"{int(quota) / int(period):g} CPUs"


def wrk_version(wrk: str) -> str:
    result = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10, check=False)
    lines = (result.stdout + result.stderr).strip().splitlines()
    return lines[0].split(" Copyright")[0] if lines else "unknown"


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def describe(wrk: str) -> dict:
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu_model": _first_line("/proc/cpuinfo", "model name"),
        "logical_cpus": os.cpu_count(),
        "allowed_cpus": allowed_cpus(),
        "cgroup_cpu_limit": _cgroup_cpu_limit(),
        "memory_gib": _memory_gib(),
        "os": _os_name(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "wrk": wrk_version(wrk),
        "load_average_before": load_average(),
    }
