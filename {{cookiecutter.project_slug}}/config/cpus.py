"""How many CPUs this process may really use, and the worker count that follows from it.

os.cpu_count() is the host's count. A container or a pod gets fewer: an affinity mask
(taskset, a cpuset) and a cgroup CPU quota (docker --cpus, Kubernetes CPU limits).
"""

import math
import os
from pathlib import Path

MAX_AUTO_WORKERS = 12  # each worker is a whole Django process: memory runs out first
CGROUP_ROOT = "/sys/fs/cgroup"
PROC_CGROUP = "/proc/self/cgroup"


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode(errors="replace")
    except OSError:
        return ""


def cgroup_cpu_quota(
    cgroup_root: str = CGROUP_ROOT, proc_cgroup: str = PROC_CGROUP
) -> float | None:
    """CPUs allowed by the cgroup quota (0.5, 2.0, ...), or None: no (readable) limit."""
    root = Path(cgroup_root)
    own = [line[3:] for line in _read(Path(proc_cgroup)).splitlines() if line.startswith("0::")]
    v2 = root / own[0].strip("/") / "cpu.max" if own else root / "cpu.max"
    v2 = v2 if v2.is_file() else root / "cpu.max"  # cgroup v2: its own group first
    try:
        if v2.is_file():
            quota, period = _read(v2).split()
            if quota == "max":
                return None
        else:  # cgroup v1
            quota = _read(root / "cpu" / "cpu.cfs_quota_us")
            period = _read(root / "cpu" / "cpu.cfs_period_us")
        quota, period = int(quota), int(period)
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None  # v1 "no limit": quota -1


def affinity_cpus() -> int:
    """CPUs this process may run on (os.cpu_count() where affinity is unavailable)."""
    affinity = getattr(os, "sched_getaffinity", None)  # Linux only
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def usable_cpus(cgroup_root: str = CGROUP_ROOT, proc_cgroup: str = PROC_CGROUP) -> int:
    """The CPUs of the affinity mask, lowered to the cgroup quota rounded up; at least 1."""
    return _usable(affinity_cpus(), cgroup_cpu_quota(cgroup_root, proc_cgroup))


def _usable(affinity: int, quota: float | None) -> int:
    return max(1, affinity if quota is None else min(affinity, math.ceil(quota)))


def default_workers(cgroup_root: str = CGROUP_ROOT, proc_cgroup: str = PROC_CGROUP) -> int:
    """2 x usable CPUs + 1, at most MAX_AUTO_WORKERS."""
    return min(2 * usable_cpus(cgroup_root, proc_cgroup) + 1, MAX_AUTO_WORKERS)


def explain_default_workers(cgroup_root: str = CGROUP_ROOT, proc_cgroup: str = PROC_CGROUP) -> str:
    """How default_workers() came to its number, for the log."""
    affinity, quota = affinity_cpus(), cgroup_cpu_quota(cgroup_root, proc_cgroup)
    cpus = _usable(affinity, quota)
    capped = "" if 2 * cpus + 1 <= MAX_AUTO_WORKERS else f", capped at {MAX_AUTO_WORKERS}"
    quota_text = "none" if quota is None else f"{quota:g}"
    return f"2 x {cpus} usable CPUs + 1{capped} (affinity {affinity}, cgroup quota {quota_text})"
