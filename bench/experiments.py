"""Three experiments that make the template's claims visible:

1. recycling: what max_requests costs, in throughput and errors, at 100 and 1000 against off;
2. a leaking view: each worker's memory over time, with and without max_requests;
3. a CPU-bound view: runserver (threads sharing one GIL) against 2 sync workers on 2 cores.
"""

from bench.plan import GUNICORN_DEFAULTS, GUNICORN_TWO_SYNC, HOME, RUNSERVER
from bench.runner import Runner, restarts, say

# The defaults (gthread, as gunicorn.conf.py resolves them here) and sync workers (what
# gunicorn.conf.py gives behind the proxy).
RECYCLING_SERVERS = (GUNICORN_DEFAULTS, GUNICORN_TWO_SYNC)
RECYCLING_CONNECTIONS = 64


def recycling(runner: Runner) -> dict:
    """The home page at 64 connections, each server with max_requests 100, 1000 and 0 (off);
    jitter left to gunicorn.conf.py's default for each value."""
    mode = runner.mode
    settings = (*mode.recycle_max_requests, 0)
    rows: dict[tuple[str, int], dict] = {}
    for repeat in range(mode.repeats):
        for spec in RECYCLING_SERVERS:
            for max_requests in settings:
                env = {"GUNICORN_MAX_REQUESTS": str(max_requests)}
                with runner.server(spec, **env) as (server, configuration):
                    runner.warm_up(server, [HOME.path])
                    booted_before = restarts(server)["workers_booted"]
                    result, _ = runner.measure(
                        server, HOME.path, RECYCLING_CONNECTIONS, mode.duration
                    )
                    booted = restarts(server)["workers_booted"]
                    result["workers_recycled"] = booted - booted_before
                    row = rows.setdefault(
                        (spec.key, max_requests),
                        {
                            "server": spec.key,
                            "label": spec.label,
                            "max_requests": max_requests,
                            "configuration": configuration,
                            "runs": [],
                        },
                    )
                    row["runs"].append(result)
                    say(
                        f"  recycling, repeat {repeat + 1}: {spec.key:<17} "
                        f"max_requests={max_requests:<4} {result['rps']:>7.0f} req/s, "
                        f"errors {result['non2xx'] + result['socket_errors']}, "
                        f"{result['workers_recycled']} workers recycled"
                    )
    return {
        "url": HOME.path,
        "connections": RECYCLING_CONNECTIONS,
        "max_requests": list(settings),
        "rows": list(rows.values()),
    }


def leak(runner: Runner) -> dict:
    """Two sync workers under a paced load of a view that keeps leak_kib per request, once
    with max_requests off and once with it on; every worker's RSS sampled over time."""
    mode = runner.mode
    path = f"/test/leak?kib={mode.leak_kib}"
    runs = []
    for max_requests in (0, mode.leak_max_requests):
        env = {"GUNICORN_MAX_REQUESTS": str(max_requests)}
        with runner.server(GUNICORN_TWO_SYNC, **env) as (server, configuration):
            booted_before = restarts(server)["workers_booted"]
            result, sampler = runner.measure(
                server,
                path,
                mode.leak_connections,
                mode.leak_duration,
                pace_ms=mode.leak_pace_ms,
            )
            series = sampler.worker_series()
            peak = max((mib for points in series.values() for _, mib in points), default=0.0)
            run = {
                "max_requests": max_requests,
                "configuration": configuration,
                "result": result,
                "workers_booted": restarts(server)["workers_booted"] - booted_before,
                "worker_peak_rss_mib": peak,
                "series": {str(pid): points for pid, points in series.items()},
            }
            runs.append(run)
            say(
                f"  leak: max_requests={max_requests:<5} {result['requests']} requests, "
                f"peak worker RSS {peak} MiB, {run['workers_booted']} workers booted, "
                f"errors {result['non2xx'] + result['socket_errors']}"
            )
    return {
        "path": path,
        "kib_per_request": mode.leak_kib,
        "connections": mode.leak_connections,
        "pace_ms": mode.leak_pace_ms,
        "duration": mode.leak_duration,
        "runs": runs,
    }


def cpu_bound(runner: Runner) -> dict:
    """A view burning cpu_ms of CPU a request: runserver against 2 sync workers, both on the
    same 2 CPUs."""
    mode = runner.mode
    cpus = runner.pinning.cpu_experiment_server
    path = f"/test/cpu?ms={mode.cpu_ms}"
    rows = {}
    for repeat in range(mode.repeats):
        for spec in (RUNSERVER, GUNICORN_TWO_SYNC):
            with runner.server(spec, cpus=cpus or []) as (server, _):
                runner.warm_up(server, [path])
                result, _ = runner.measure(server, path, mode.cpu_connections, mode.duration)
                row = rows.setdefault(
                    spec.key, {"server": spec.key, "label": spec.label, "runs": []}
                )
                row["runs"].append(result)
                say(
                    f"  cpu-bound, repeat {repeat + 1}: {spec.key:<17} "
                    f"{result['rps']:>6.1f} req/s, p50 {result['p50_ms']:.0f} ms, "
                    f"p99 {result['p99_ms']:.0f} ms"
                )
    return {
        "path": path,
        "cpu_ms": mode.cpu_ms,
        "connections": mode.cpu_connections,
        "server_cpus": cpus,
        "rows": list(rows.values()),
    }
