"""The main comparison: every server x its URLs x its connection counts, unpinned and pinned,
repeated. Each repeat starts every server afresh, in each placement, and measures all its
points, so a passing disturbance of the machine touches one repeat of every server rather than
every repeat of one."""

from dataclasses import dataclass, field

from bench.plan import SERVERS, STATIC, URLS, ServerSpec, connections_of, urls_of
from bench.runner import Runner, idle_rss_mib, restarts, say
from bench.sampling import MIB
from support.server import Server


@dataclass
class Collected:
    servers: dict[str, dict] = field(default_factory=dict)
    urls: dict[str, dict] = field(default_factory=dict)
    points: dict[tuple[str, str, int, str], dict] = field(default_factory=dict)
    done: int = 0


def count(runner: Runner) -> int:
    """Points measured in all: for the progress lines and the estimate."""
    per_repeat = sum(len(urls_of(s)) * len(connections_of(s, runner.mode)) for s in SERVERS)
    return per_repeat * len(runner.placements()) * runner.mode.repeats


def run(runner: Runner) -> dict:
    collected = Collected()
    total = count(runner)
    for repeat in range(runner.mode.repeats):
        for placement, server_cpus, client_cpus in runner.placements():
            for spec in SERVERS:
                with runner.server(spec, cpus=server_cpus or []) as (server, configuration):
                    progress = f"/{total} repeat {repeat + 1}"
                    where = (placement, server_cpus, client_cpus)
                    _measure_server(
                        runner, spec, server, configuration, collected, progress, where
                    )
    for url in URLS:
        collected.urls[url.key].update(key=url.key, label=url.label)
    return {
        "placements": [
            {"key": placement, "server_cpus": server_cpus, "client_cpus": client_cpus}
            for placement, server_cpus, client_cpus in runner.placements()
        ],
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
    where: tuple[str, list[int] | None, list[int] | None],
) -> None:
    """Checks, warms up, then measures each of its URLs at each connection count."""
    placement, _, client_cpus = where
    urls = collected.urls
    if STATIC.key not in urls:
        urls[STATIC.key] = {"path": runner.static_file()}
    own_urls = urls_of(spec)
    paths = {url.key: url.path or urls[url.key]["path"] for url in own_urls}
    checks = runner.verify(server, list(paths.values()))
    runner.warm_up(server, list(paths.values()), client_cpus)
    if spec.key not in collected.servers:
        collected.servers[spec.key] = _server_info(spec, server, runner, configuration)
    info = collected.servers[spec.key]
    info["configurations"][placement] = configuration
    info["idle_rss_mib"].append(idle_rss_mib(server))
    for url in own_urls:
        check = checks[paths[url.key]]
        entry = urls.setdefault(url.key, {"path": paths[url.key]})
        entry["bytes"] = check["bytes"]
        entry.setdefault("served_by", {})[spec.key] = check["served_by"]
        entry.setdefault("framing", {})[spec.key] = check["framing"]
        for connections in connections_of(spec, runner.mode):
            result, _ = runner.measure(
                server,
                paths[url.key],
                connections,
                runner.mode.duration,
                close_delimited=check["framing"] == "close",
                client_cpus=client_cpus,
            )
            key = (spec.key, url.key, connections, placement)
            point = collected.points.setdefault(
                key,
                {
                    "server": spec.key,
                    "url": url.key,
                    "connections": connections,
                    "placement": placement,
                    "runs": [],
                },
            )
            point["runs"].append(result)
            collected.done += 1
            say(
                f"  [{collected.done}{progress}] {placement:<8} {spec.key:<11} {url.key:<7} "
                f"c={connections:<3} {_line(result)}"
            )
    info["pss_after_mib"].append(round(server.pss_total() / MIB, 1))
    info["restarts"].append(restarts(server))


def _server_info(spec: ServerSpec, server: Server, runner: Runner, configuration) -> dict:
    env = dict(spec.env)
    if spec.kind == "proxy":
        env = {**runner.web_env, **env}
    return {
        "key": spec.key,
        "label": spec.label,
        "kind": spec.kind,
        "note": spec.note,
        "env": env,
        "urls": [url.key for url in urls_of(spec)],
        "connections": list(connections_of(spec, runner.mode)),
        "command": _command(server, runner),
        "configuration": configuration,
        "configurations": {},  # by placement: the worker count follows the CPUs
        "processes": 1 + len(server.worker_pids()) + (1 if spec.kind == "proxy" else 0),
        "idle_rss_mib": [],
        "pss_after_mib": [],
        "restarts": [],
    }


def _command(server, runner: Runner) -> str:
    text = " ".join(server.command).replace(f"{runner.project}/", "")
    text = text.replace(str(runner.workdir) + "/", "<workdir>/")
    return text.replace(runner.caddy, "caddy") if runner.caddy else text


def _line(result: dict) -> str:
    errors = result["non2xx"] + result["socket_errors"]
    return (
        f"{result['rps']:>8.0f} req/s  p50 {result['p50_ms']:>7.2f} ms  "
        f"p99 {result['p99_ms']:>8.2f} ms  errors {errors:<4} "
        f"CPU {result['cpu_ms_per_request']:.3f} ms/req  RSS {result['rss_peak_mib']} MiB"
    )
