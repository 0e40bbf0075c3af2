"""Claim 1: workers use every core. GUNICORN_WORKERS=N gives N worker processes; by default
the count follows the CPUs the process may really use (affinity, cgroup quota), and worker
processes run CPU-bound Python in parallel where runserver's threads share one GIL."""

import os
import statistics
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from support.client import get

CPU_SECONDS = 0.4  # what one request to /test/cpu burns
CPU_VIEW = f"/test/cpu?ms={CPU_SECONDS * 1000:g}"
TWO_CPUS = "0,1"


def _needs_two_cpus() -> None:
    usable = len(os.sched_getaffinity(0))
    assert usable >= 2, f"claim 1 needs a machine with 2 usable CPUs; this one has {usable}"


NAMESPACES = [  # a private mount namespace: as root, else inside a user namespace
    ["unshare", "--mount", "--propagation", "private"],
    ["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"],
]


def _fake_cgroup(tmp_path, cpu_max: str) -> list[str]:
    """A command prefix that runs the server in its own mount namespace, where a folder with
    a single cpu.max file hides the real /sys/fs/cgroup: what `docker --cpus` shows."""
    fake = tmp_path / "cgroup"
    fake.mkdir()
    (fake / "cpu.max").write_text(cpu_max + "\n")
    mount = ["sh", "-c", 'mount --bind "$0" /sys/fs/cgroup && exec "$@"', str(fake)]
    for namespace in NAMESPACES:
        if subprocess.run([*namespace, *mount, "true"], capture_output=True).returncode == 0:
            return [*namespace, *mount]
    raise AssertionError("cannot bind-mount a fake cgroup: unshare needs root or user namespaces")


def test_gunicorn_workers_gives_that_many_worker_processes(start_server):
    server = start_server(workers=3, GUNICORN_WORKERS="3")
    time.sleep(0.5)  # no extra worker turns up late
    assert len(server.worker_pids()) == 3
    assert "workers=3 (GUNICORN_WORKERS) threads=22 " in server.log()  # 64 / 3, rounded up


@pytest.mark.parametrize(
    ("cpus", "cpu_max", "workers", "reason"),
    [
        ("0", None, 3, "2 x 1 usable CPUs + 1 (affinity 1, "),
        (TWO_CPUS, "max 100000", 5, "2 x 2 usable CPUs + 1 (affinity 2, cgroup quota none)"),
        (TWO_CPUS, "100000 100000", 3, "2 x 1 usable CPUs + 1 (affinity 2, cgroup quota 1)"),
        (TWO_CPUS, "150000 100000", 5, "2 x 2 usable CPUs + 1 (affinity 2, cgroup quota 1.5)"),
        (TWO_CPUS, "50000 100000", 3, "2 x 1 usable CPUs + 1 (affinity 2, cgroup quota 0.5)"),
    ],
    ids=["taskset-1-cpu", "2-cpus-no-quota", "quota-1-cpu", "quota-1.5-cpus", "quota-0.5-cpu"],
)
def test_default_worker_count_follows_usable_cpus(
    start_server, tmp_path, cpus, cpu_max, workers, reason
):
    _needs_two_cpus()
    prefix = _fake_cgroup(tmp_path, cpu_max) if cpu_max else []
    server = start_server(workers=workers, prefix=[*prefix, "taskset", "-c", cpus])
    time.sleep(0.5)
    assert len(server.worker_pids()) == workers
    assert f"Configuration: workers={workers} ({reason}" in server.log()


def _one_then_two(send) -> tuple[float, float]:
    """(seconds for one `send()` alone, seconds for two at once)."""
    started = time.perf_counter()
    send()
    alone = time.perf_counter() - started
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: send(), range(2)))
    return alone, time.perf_counter() - started


def _burn_in_a_process(python: str) -> None:
    """The view's work in a plain Python process: what the machine gives two processes."""
    burn = (
        f"import time; d = time.thread_time() + {CPU_SECONDS}\nwhile time.thread_time() < d: pass"
    )
    subprocess.run([python, "-c", burn], check=True)


def _request(port: int):
    def send() -> None:
        assert get(port, CPU_VIEW).status == 200

    return send


def test_cpu_bound_requests_run_in_parallel_unlike_runserver(start_server, project):
    _needs_two_cpus()
    # Sync workers: each takes one request, so the pair lands on two processes (gthread may
    # put both on one worker's threads: docs/production.md, "Threads and connections").
    gunicorn = start_server(workers=2, GUNICORN_WORKERS="2", GUNICORN_THREADS="1")
    python = str(project / ".venv" / "bin" / "python")
    # runserver serves plain HTTP and trusts no X-Forwarded-Proto: without this, a redirect.
    runserver = start_server(
        command=[python, "manage.py", "runserver", "127.0.0.1:{port}", "--noreload"],
        DJANGO_SECURE_SSL_REDIRECT="false",
    )
    get(gunicorn.port, "/test/cpu?ms=10")  # first requests import the views
    get(runserver.port, "/test/cpu?ms=10")

    # Rounds alternate, so that a busy moment of the machine (other jobs) falls on all three;
    # each compares a pair's time to a single one's, and the medians are kept.
    senders = {
        "two processes": lambda: _burn_in_a_process(python),
        "gunicorn": _request(gunicorn.port),
        "runserver": _request(runserver.port),
    }
    rounds = [{name: _one_then_two(send) for name, send in senders.items()} for _ in range(5)]
    ratio = {name: statistics.median(r[name][1] / r[name][0] for r in rounds) for name in senders}
    print(
        "\nCPU-bound, time of two at once / time of one: "
        + ", ".join(f"{name} x{value:.2f}" for name, value in ratio.items())
        + f" (single {statistics.median(r['gunicorn'][0] for r in rounds):.2f} s)"
    )
    assert ratio["runserver"] > 1.6  # ~2.0: two threads, one GIL, whatever the machine
    # ~1.0 on two idle cores; on a machine busy with other jobs, no worse than what it gives
    # two independent processes at the same moment.
    assert ratio["gunicorn"] < max(1.6, ratio["two processes"] + 0.2)
