"""The main comparison: every server x URL x connection count, repeated. Each repeat starts
every server afresh and measures all its points, so a passing disturbance of the machine
touches one repeat of every server rather than every repeat of one."""

from dataclasses import dataclass, field

from bench.plan import CONNECTIONS, SERVERS, STATIC, URLS, ServerSpec
from bench.runner import Runner, idle_rss_mib, restarts, say
from bench.sampling import MIB
from support.server import Server


@dataclass
class Collected:
    servers: dict[str, dict] = field(default_factory=dict)
    urls: dict[str, dict] = field(default_factory=dict)
    points: dict[tuple[str, str, int], dict] = field(default_factory=dict)
    done: int = 0


def run(runner: Runner) -> dict:
    collected = Collected()
    total = len(SERVERS) * len(URLS) * len(CONNECTIONS) * runner.mode.repeats
    for repeat in range(runner.mode.repeats):
        for spec in SERVERS:
            with runner.server(spec) as (server, configuration):
                progress = f"/{total} repeat {repeat + 1}"
                _measure_server(runner, spec, server, configuration, collected, progress)
    for url in URLS:
        collected.urls[url.key].update(key=url.key, label=url.label)
    return {
        "servers": list(collected.servers.values()),
        "urls": [collected.urls[url.key] for url in URLS],
        "points": list(collected.points.values()),
    }


def _measure_server(
    runner: Runner,
    spec: ServerSpec,
    server: Server,
    configuration: dict | None,
    collected: Collected,
    progress: str,
) -> None:
    """Checks, warms up, then measures every URL at every connection count on one server."""
    urls = collected.urls
    if STATIC.key not in urls:
        urls[STATIC.key] = {"path": runner.static_path(server)}
    paths = {url.key: url.path or urls[url.key]["path"] for url in URLS}
    checks = runner.verify(server, list(paths.values()))
    runner.warm_up(server, list(paths.values()))
    if spec.key not in collected.servers:
        collected.servers[spec.key] = _server_info(spec, server, runner, configuration)
    info = collected.servers[spec.key]
    info["idle_rss_mib"].append(idle_rss_mib(server))
    for url in URLS:
        check = checks[paths[url.key]]
        entry = urls.setdefault(url.key, {"path": paths[url.key]})
        entry["bytes"] = check["bytes"]
        entry.setdefault("served_by", {})[spec.key] = check["served_by"]
        entry.setdefault("framing", {})[spec.key] = check["framing"]
        for connections in CONNECTIONS:
            result, _ = runner.measure(
                server,
                paths[url.key],
                connections,
                runner.mode.duration,
                close_delimited=check["framing"] == "close",
            )
            key = (spec.key, url.key, connections)
            point = collected.points.setdefault(
                key, {"server": spec.key, "url": url.key, "connections": connections, "runs": []}
            )
            point["runs"].append(result)
            collected.done += 1
            say(
                f"  [{collected.done}{progress}] {spec.key:<17} {url.key:<8} "
                f"c={connections:<3} {_line(result)}"
            )
    info["pss_after_mib"].append(round(server.pss_total() / MIB, 1))
    info["restarts"].append(restarts(server))


def _server_info(spec: ServerSpec, server: Server, runner: Runner, configuration) -> dict:
    return {
        "key": spec.key,
        "label": spec.label,
        "kind": spec.kind,
        "env": spec.env,
        "command": " ".join(server.command).replace(f"{runner.project}/", ""),
        "configuration": configuration,
        "processes": 1 + len(server.worker_pids()),
        "idle_rss_mib": [],
        "pss_after_mib": [],
        "restarts": [],
    }


def _line(result: dict) -> str:
    errors = result["non2xx"] + result["socket_errors"]
    return (
        f"{result['rps']:>8.0f} req/s  p50 {result['p50_ms']:>7.2f} ms  "
        f"p99 {result['p99_ms']:>8.2f} ms  errors {errors:<4} RSS {result['rss_peak_mib']} MiB"
    )
