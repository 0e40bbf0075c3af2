"""The benchmark harness (`python -m bench`), run end to end in quick mode: it generates a
project, measures every server (runserver, the peers' setup, the project's defaults, Caddy in
front of gunicorn, the two floors) x its URLs x connection counts, unpinned and pinned, with
the CPU time per request, and the three experiments, and writes its report, JSON and plots.
No speed is asserted: the figures belong to the machine; the targets are the report's."""

import json
import subprocess
import sys

import psutil
import pytest

from bench import caddy, load
from bench.__main__ import estimate_minutes
from bench.plan import FULL, PINNED, QUICK, SERVERS, UNPINNED, URLS, connections_of, urls_of
from support.generate import TEMPLATE_DIR, explain, tool_env

PLOTS = (
    "throughput.png",
    "latency.png",
    "cpu_per_request.png",
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
    sections = ("## Headline", "## Machine", "CPU pinning:", "## Experiment 3")
    sections += ("## CPU time per request", "## Against the peers' setup")
    sections += ("## Floors and the proxy's overhead", "Targets (unpinned, 64 connections)")
    for section in sections:
        assert section in report, section
    for server in results["matrix"]["servers"]:
        assert server["label"] in report
    # Pinned and unpinned side by side, in every table of the matrix.
    assert f"| {UNPINNED}, 64 conn. | {PINNED}, 64 conn. |" in report


def test_every_server_url_connection_count_and_placement_was_measured(quick_run):
    _, results, _, _ = quick_run
    placements = [p["key"] for p in results["matrix"]["placements"]]
    assert placements == [UNPINNED, PINNED]  # 2 CPUs here: pinning is on
    unpinned, pinned = results["matrix"]["placements"]
    assert pinned["server_cpus"] and pinned["client_cpus"]
    assert not set(pinned["server_cpus"]) & set(pinned["client_cpus"])
    # Unpinned: both get every CPU, not only the one the bench process pinned itself to.
    every = set(pinned["server_cpus"]) | set(pinned["client_cpus"])
    assert set(unpinned["server_cpus"]) == set(unpinned["client_cpus"]) == every
    points = {
        (p["server"], p["url"], p["connections"], p["placement"]): p
        for p in results["matrix"]["points"]
    }
    expected = {
        (s.key, u.key, c, placement)
        for s in SERVERS
        for u in urls_of(s)
        for c in connections_of(s, QUICK)
        for placement in placements
    }
    assert set(points) == expected
    assert {p["url"] for p in points.values()} == {"home", "page", "static", "healthz"}
    assert {p["server"] for p in points.values()} == {
        "runserver",
        "peers",
        "gunicorn",
        "proxy",
        "floor-wsgi",
        "floor-caddy",
    }
    for key, point in points.items():
        assert len(point["runs"]) == results["settings"]["repeats"], key
        for run in point["runs"]:
            assert run["requests"] > 0, key
            assert run["rps"] > 0 and run["p50_ms"] > 0 and run["p99_ms"] >= run["p50_ms"], key
            assert run["rss_peak_mib"] > 0, key
            assert all(isinstance(run[name], int) and run[name] >= 0 for name in COUNTERS), key
            # The server's CPU time, read from /proc around each wrk run, per request.
            assert run["cpu_ms"] > 0 and run["cpu_ms_per_request"] > 0, key
            assert run["cpu_ms_per_request"] == pytest.approx(
                run["cpu_ms"] / run["requests"], rel=0.01, abs=0.01
            ), key
            assert run["cpu_ms_per_request"] < 1000, key  # per request, not per run
            if point["server"] == "proxy":
                split = run["cpu_ms_per_request_by_process"]
                assert set(split) == {"caddy", "gunicorn"}, key
                assert split["caddy"] > 0, key
        summary = point["summary"]
        assert summary["cpu_ms_per_request_median"] > 0
        assert summary["requests"] == sum(run["requests"] for run in point["runs"])
        assert summary["socket_errors"] == sum(run["socket_errors"] for run in point["runs"])
        if point["server"] != "runserver":
            assert any(r["server"] == point["server"] for r in results["ratios"])


def test_each_server_answered_its_urls_and_who_served_the_static_file(quick_run):
    _, results, _, _ = quick_run
    urls = {url["key"]: url for url in results["matrix"]["urls"]}
    assert urls["static"]["path"].startswith("/static/") and urls["static"]["path"].endswith(
        ".css"
    )
    static_servers = {spec.key for spec in SERVERS if "static" in [u.key for u in urls_of(spec)]}
    assert set(urls["static"]["served_by"]) == static_servers
    for server, who in urls["static"]["served_by"].items():
        expected = "Caddy file_server" if server in ("proxy", "floor-caddy") else "WhiteNoise"
        assert who.startswith(expected), (server, who)
    assert urls["healthz"]["served_by"]["floor-wsgi"] == "WSGI hello app"
    assert urls["page"]["bytes"] > 2000  # the realistic page: kilobytes of HTML
    servers = {server["key"]: server for server in results["matrix"]["servers"]}
    assert servers["runserver"]["configuration"] is None
    assert servers["gunicorn"]["configuration"]["workers"] >= 3  # as gunicorn resolved it
    # The peers: 4 sync workers, gunicorn's own defaults, an empty config file, our address.
    peers = servers["peers"]
    assert peers["processes"] == 5  # master + 4 workers
    assert peers["configuration"]["worker_class"] == "sync"
    assert peers["configuration"]["preload_app"] is False
    assert peers["configuration"]["accesslog"] is None
    assert "gunicorn.conf.py" not in peers["command"]
    assert "--config <workdir>/gunicorn-empty.conf.py" in peers["command"]
    assert "--bind 127.0.0.1:" in peers["command"]
    assert peers["command"].endswith("config.wsgi:application")
    assert peers["env"] == {}
    # The raw WSGI floor: the defaults' own gunicorn.conf.py, another app.
    floor = servers["floor-wsgi"]
    assert floor["configurations"] == servers["gunicorn"]["configurations"]
    assert floor["command"].endswith("--config gunicorn.conf.py support_wsgi:application")
    # The proxy: the project's Caddyfile, compose.yaml's web variables for its gunicorn.
    proxy = servers["proxy"]
    assert " run --config Caddyfile --adapter caddyfile" in proxy["command"]
    assert "SITE_ADDRESS=http://:" in proxy["command"]
    assert proxy["processes"] == 2 + proxy["configuration"]["workers"]  # caddy, master
    web_env, problem = caddy.web_environment(TEMPLATE_DIR.parent / "missing")
    assert web_env == {} and problem  # an unreadable compose.yaml is said, not hidden
    assert proxy["env"] == results["project"]["compose_web_env"]
    assert "caddy" in results["project"]["versions"]
    assert servers["floor-caddy"]["configuration"] is None


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


def test_ratios_and_targets_are_side_by_side_in_the_report(quick_run):
    out, results, _, _ = quick_run
    report = (out / "report.md").read_text()
    headline = results["headline"]
    peers = {(r["url"], r["placement"]) for r in headline["peers"]}
    assert peers == {(u.key, p) for u in URLS for p in (UNPINNED, PINNED)}
    for row in headline["peers"]:
        assert row["rps_ratio"] > 0 and row["p99_ratio"] > 0
    floors = {(r["url"], r["placement"]) for r in headline["cpu"] if r["kind"] == "floor"}
    assert floors == {(u, p) for u in ("healthz", "static") for p in (UNPINNED, PINNED)}
    proxy = [r for r in headline["cpu"] if r["kind"] == "proxy"]
    assert {r["url"] for r in proxy} == {u.key for u in URLS}
    for row in proxy:
        assert row["overhead_cpu_ms"] == pytest.approx(row["cpu_ms"] - row["direct_cpu_ms"])
    names = [t["name"] for t in headline["targets"]]
    assert names == [
        "peers-home",
        "peers-page",
        "peers-static",
        "peers-healthz",
        "runserver-home",
        "floor-wsgi",
        "floor-caddy",
    ]
    for target in headline["targets"]:
        assert target["met"] in (True, False), target  # every one measured in a quick run
        mark = "**met**" if target["met"] else "**not met**"
        assert f"- {mark}: {target['text']}: {target['value']}" in report


def test_no_server_outlives_the_run(quick_run):
    _, _, _, workdir = quick_run
    project = str(workdir / "generated")
    left = []
    for process in psutil.process_iter(["cmdline", "cwd"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if project in cmdline or (process.info["cwd"] or "").startswith(project):
            left.append(f"{process.pid}: {cmdline}")
    assert not left


def test_a_full_run_is_planned_within_half_an_hour():
    assert estimate_minutes(FULL, placements=2) < 30
    assert estimate_minutes(QUICK, placements=2) < 3


def test_compose_web_environment_is_read_through_the_merge_key(tmp_path):
    (tmp_path / "compose.yaml").write_text(
        "x-app: &app\n"
        "  environment:\n"
        "    DATABASE_URL: sqlite:////app/data/db.sqlite3\n"
        '    FORWARDED_ALLOW_IPS: "*"\n'
        '    GUNICORN_BEHIND_PROXY: "true"\n'
        "    GUNICORN_FROM_ENV_FILE:\n"
        "services:\n"
        "  web:\n"
        "    <<: *app\n"
        "    restart: unless-stopped\n"
    )
    assert caddy.web_environment(tmp_path) == (
        {"FORWARDED_ALLOW_IPS": "*", "GUNICORN_BEHIND_PROXY": "true"},
        "",
    )


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
