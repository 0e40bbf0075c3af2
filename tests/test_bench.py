"""The benchmark harness (`python -m bench`), run end to end in quick mode: it generates a
project, measures every server x URL x connection count and the three experiments, and writes
its report, JSON and plots. No speed is asserted: the figures belong to the machine."""

import json
import subprocess
import sys

import psutil
import pytest

from bench import load
from bench.plan import CONNECTIONS, SERVERS, URLS
from support.generate import TEMPLATE_DIR, explain, tool_env

PLOTS = (
    "throughput.png",
    "latency.png",
    "errors.png",
    "memory.png",
    "ratios.png",
    "recycling.png",
    "leak.png",
    "cpu.png",
)
COUNTERS = ("non2xx", "connect", "read", "write", "timeout", "closes", "socket_errors")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """(results folder, results.json, the run's output) of one `python -m bench --quick`."""
    base = tmp_path_factory.mktemp("bench")
    out, workdir = base / "results", base / "work"
    command = [sys.executable, "-m", "bench", "--quick", "--out", str(out)]
    result = subprocess.run(
        [*command, "--workdir", str(workdir)],
        cwd=TEMPLATE_DIR,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, explain(result)
    return out, json.loads((out / "results.json").read_text()), result.stdout, workdir


def test_writes_the_report_the_json_and_every_plot(quick_run):
    out, results, stdout, _ = quick_run
    report = (out / "report.md").read_text()
    for name in PLOTS:
        image = (out / name).read_bytes()
        assert image.startswith(b"\x89PNG\r\n\x1a\n"), name
        assert len(image) > 5000, name
        assert f"]({name})" in report, name
    assert results["settings"]["mode"] == "quick"
    assert results["machine"]["load_average_during"]  # recorded after every run
    assert "Headline:" in stdout
    for section in ("## Headline", "## Machine", "CPU pinning:", "## Experiment 3"):
        assert section in report
    for server in results["matrix"]["servers"]:
        assert server["label"] in report


def test_every_server_url_and_connection_count_was_measured(quick_run):
    _, results, _, _ = quick_run
    points = {(p["server"], p["url"], p["connections"]): p for p in results["matrix"]["points"]}
    expected = {(s.key, u.key, c) for s in SERVERS for u in URLS for c in CONNECTIONS}
    assert set(points) == expected
    for key, point in points.items():
        assert len(point["runs"]) == results["settings"]["repeats"], key
        for run in point["runs"]:
            assert run["requests"] > 0, key
            assert run["rps"] > 0 and run["p50_ms"] > 0 and run["p99_ms"] >= run["p50_ms"], key
            assert run["rss_peak_mib"] > 0, key
            assert all(isinstance(run[name], int) and run[name] >= 0 for name in COUNTERS), key
        summary = point["summary"]
        assert summary["requests"] == sum(run["requests"] for run in point["runs"])
        assert summary["socket_errors"] == sum(run["socket_errors"] for run in point["runs"])
        if point["server"] != "runserver":
            assert any(r["server"] == point["server"] for r in results["ratios"])


def test_each_server_answered_each_url_and_whitenoise_served_the_static_file(quick_run):
    _, results, _, _ = quick_run
    urls = {url["key"]: url for url in results["matrix"]["urls"]}
    assert urls["static"]["path"].startswith("/static/") and urls["static"]["path"].endswith(
        ".css"
    )
    assert set(urls["static"]["served_by"]) == {spec.key for spec in SERVERS}
    for who in urls["static"]["served_by"].values():
        assert who.startswith("WhiteNoise"), who
    servers = {server["key"]: server for server in results["matrix"]["servers"]}
    assert servers["runserver"]["configuration"] is None
    assert servers["gunicorn"]["configuration"]["workers"] >= 3  # as gunicorn resolved it
    assert servers["gunicorn-sync4"]["processes"] == 5  # master + 4 workers
    assert servers["gunicorn-sync4"]["configuration"]["worker_class"] == "sync"
    gthread = servers["gunicorn-gthread"]["configuration"]
    assert (gthread["workers"], gthread["threads"], gthread["worker_class"]) == (2, 4, "gthread")


def test_the_three_experiments_ran(quick_run):
    _, results, _, _ = quick_run
    experiments = results["experiments"]
    rows = experiments["recycling"]["rows"]
    assert {row["max_requests"] for row in rows} == {*experiments["recycling"]["max_requests"]}
    assert 0 in experiments["recycling"]["max_requests"]
    for row in rows:
        assert row["summary"]["requests"] > 0
        assert row["configuration"]["max_requests"] == row["max_requests"]
    leak = {run["max_requests"]: run for run in experiments["leak"]["runs"]}
    assert 0 in leak and len(leak) == 2
    for run in leak.values():
        assert run["result"]["requests"] > 0
        assert run["series"] and max(len(points) for points in run["series"].values()) >= 2
    cpu = {row["server"]: row for row in experiments["cpu_bound"]["rows"]}
    assert set(cpu) == {"runserver", "gunicorn-2sync"}
    assert all(row["summary"]["requests"] > 0 for row in cpu.values())
    assert set(results["headline"]["by_url"]) == {url.key for url in URLS}


def test_no_server_outlives_the_run(quick_run):
    _, _, _, workdir = quick_run
    project = str(workdir / "generated")
    left = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if project in cmdline or (process.info["cwd"] or "").startswith(project):
            left.append(f"{process.pid}: {cmdline}")
    assert not left


def test_wrk_summary_is_parsed_and_closes_are_not_errors():
    output = (
        "Running 1s test @ http://127.0.0.1:1/healthz\n"
        '{"not": "this"}\n'
        'BENCH_JSON {"requests": 200, "duration_us": 1000000, "bytes": 4000, "connect": 1, '
        '"read": 203, "write": 0, "timeout": 2, "non2xx": 5, "p50_us": 1500, "p90_us": 2000, '
        '"p99_us": 9000, "max_us": 12000, "mean_us": 1700.5}\n'
    )
    result = load.parse(output)
    assert (result.rps, result.p50_ms, result.p99_ms, result.non2xx) == (200.0, 1.5, 9.0, 5)
    plain = result.to_json()
    assert plain["socket_errors"] == 1 + 203 + 2 and plain["closes"] == 0
    closing = result.to_json(close_delimited=True)
    assert (closing["closes"], closing["read"], closing["read_raw"]) == (200, 3, 203)
    assert closing["socket_errors"] == 1 + 3 + 2
    with pytest.raises(load.LoadFailed):
        load.parse("wrk: connection refused\n")
