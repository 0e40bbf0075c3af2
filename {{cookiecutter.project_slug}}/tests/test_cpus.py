"""config/cpus.py: the CPUs this process may use (affinity, cgroup quota), against fake
cgroup files, and the default worker count that follows."""

import os
from pathlib import Path

import pytest

from config import cpus


@pytest.fixture
def cgroup(tmp_path):
    """cgroup({path: content}, proc) writes fake cgroup files; returns (root, fake /proc file)."""
    root = tmp_path / "cgroup"
    root.mkdir()

    def write(files: dict[str, str] | None = None, proc: str = "0::/\n") -> tuple[str, str]:
        for relative, content in (files or {}).items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        (tmp_path / "proc_cgroup").write_text(proc)
        return str(root), str(tmp_path / "proc_cgroup")

    return write


def _affinity(monkeypatch, count: int) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(count)), raising=False)


@pytest.mark.parametrize(
    ("cpu_max", "quota", "usable"),
    [
        ("max 100000\n", None, 8),
        ("150000 100000\n", 1.5, 2),
        ("50000 100000\n", 0.5, 1),
        ("400000 100000\n", 4.0, 4),
        ("garbage\n", None, 8),
        ("", None, 8),
        ("abc 100000\n", None, 8),
        ("100000 0\n", None, 8),
    ],
)
def test_cgroup_v2(cgroup, monkeypatch, cpu_max, quota, usable):
    _affinity(monkeypatch, 8)
    paths = cgroup({"cpu.max": cpu_max})
    assert cpus.cgroup_cpu_quota(*paths) == quota
    assert cpus.usable_cpus(*paths) == usable


@pytest.mark.parametrize(
    ("cfs_quota", "cfs_period", "quota"),
    [("200000\n", "100000\n", 2.0), ("-1\n", "100000\n", None), ("x\n", "100000\n", None)],
)
def test_cgroup_v1(cgroup, cfs_quota, cfs_period, quota):
    paths = cgroup({"cpu/cpu.cfs_quota_us": cfs_quota, "cpu/cpu.cfs_period_us": cfs_period})
    assert cpus.cgroup_cpu_quota(*paths) == quota


def test_no_cgroup_files_means_no_limit(cgroup):
    assert cpus.cgroup_cpu_quota(*cgroup()) is None


def test_own_cgroup_v2_path_is_preferred(cgroup):
    files = {"cpu.max": "300000 100000", "kubepods/pod1/cpu.max": "100000 100000"}
    root, proc = cgroup(files, proc="1:name=systemd:/x\n0::/kubepods/pod1\n")
    assert cpus.cgroup_cpu_quota(root, proc) == 1.0
    cgroup(proc="0::/elsewhere\n")  # no such directory: the root's cpu.max
    assert cpus.cgroup_cpu_quota(root, proc) == 3.0
    assert cpus.cgroup_cpu_quota(root, str(Path(root) / "no-such-proc-file")) == 3.0


def test_affinity_smaller_than_quota_wins(cgroup, monkeypatch):
    _affinity(monkeypatch, 2)
    assert cpus.usable_cpus(*cgroup({"cpu.max": "400000 100000"})) == 2


def test_cpu_count_without_affinity(cgroup, monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert cpus.usable_cpus(*cgroup()) == 3


@pytest.mark.parametrize(
    ("affinity", "cpu_max", "workers", "how"),
    [
        (2, "max 100000", 5, "2 x 2 usable CPUs + 1 (affinity 2, cgroup quota none)"),
        (4, "50000 100000", 3, "2 x 1 usable CPUs + 1 (affinity 4, cgroup quota 0.5)"),
        (
            16,
            "max 100000",
            12,
            "2 x 16 usable CPUs + 1, capped at 12 (affinity 16, cgroup quota none)",
        ),
    ],
)
def test_default_workers(cgroup, monkeypatch, affinity, cpu_max, workers, how):
    _affinity(monkeypatch, affinity)
    paths = cgroup({"cpu.max": cpu_max})
    assert cpus.default_workers(*paths) == workers
    assert cpus.explain_default_workers(*paths) == how
