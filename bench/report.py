"""The Markdown report (bench/results/report.md, docs/benchmarks.md) and the closing note,
from the results' JSON."""

import re
from statistics import median

from bench.plan import BASELINE, GUNICORN_DEFAULTS
from bench.stats import busy, point

REPRODUCE = "uv run python -m bench"


def _fmt(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.{digits}f}"


def _ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _image(images: list[str], name: str, prefix: str, alt: str) -> str:
    return f"![{alt}]({prefix}{name})" if name in images else f"({name} was not drawn)"


def _labels(results: dict) -> dict[str, str]:
    return {server["key"]: server["label"] for server in results["matrix"]["servers"]}


def _url_labels(results: dict) -> dict[str, str]:
    return {url["key"]: url["label"] for url in results["matrix"]["urls"]}


def _errors(summary: dict) -> int:
    return summary["failed"] + summary["socket_errors"]


def _load(machine: dict) -> str:
    cpus = len(machine["allowed_cpus"])
    during = machine.get("load_average_during") or []
    text = f"1-minute load average {machine['load_average_before'][0]} before the run"
    if during:
        text += f", median {median(during):.1f} and max {max(during):.1f} during it"
    text += f", {machine.get('load_average_after', ['?'])[0]} after it, on {cpus} CPUs"
    text += (
        " (the load during the run is mostly its own: it counts runnable threads, and a"
        " threaded server under 64 connections has dozens)."
    )
    if busy(machine):
        return text + " **The machine was busy with other work: " + BUSY + "**"
    return text + " The machine was otherwise idle."


BUSY = (
    "the figures are disturbed (wide min-max ranges) and the ratios unreliable; rerun on an "
    "idle machine."
)


def headline_lines(results: dict) -> list[str]:
    head = results["headline"]
    top = head["connections"]
    labels = _url_labels(results)
    defaults = next(s for s in results["matrix"]["servers"] if s["key"] == GUNICORN_DEFAULTS.key)
    lines = []
    for key, figures in head["by_url"].items():
        lines.append(
            f"{labels[key]}, {top} connections: gunicorn with the project's defaults "
            f"{_fmt(figures['gunicorn_rps'])} requests/s against runserver's "
            f"{_fmt(figures['runserver_rps'])} (**{_ratio(figures['rps_ratio'])}**); p99 "
            f"{_ms(figures['gunicorn_p99_ms'])} ms against {_ms(figures['runserver_p99_ms'])} ms; "
            f"errors {figures['gunicorn_errors']} against {figures['runserver_errors']}."
        )
    lines.append(f"gunicorn's defaults here: {defaults['configuration']}.")
    by_server: dict[str, list[dict]] = {}
    for row in head["recycling"]:
        by_server.setdefault(row["server"], []).append(row)
    for server, rows in by_server.items():
        settings = " / ".join(str(row["max_requests"] or "off") for row in rows)
        lines.append(
            f"Recycling, {_labels(results)[server]}, max_requests {settings}: "
            + " / ".join(_fmt(row["rps_median"]) for row in rows)
            + " requests/s; errors "
            + " / ".join(str(row["errors"]) for row in rows)
            + " in "
            + " / ".join(_fmt(row["requests"]) for row in rows)
            + " requests; workers recycled "
            + " / ".join(str(row["workers_recycled"]) for row in rows)
            + "."
        )
    leak = head["leak_worker_peak_mib"]
    if len(leak) == 2:
        (off, off_mib), (on, on_mib) = sorted(leak.items(), key=lambda item: int(item[0]))
        lines.append(
            f"Leaking view: a worker peaked at {_fmt(off_mib)} MiB with recycling off and "
            f"{_fmt(on_mib)} MiB with max_requests={on}."
        )
    if "cpu_bound_rps_ratio" in head:
        lines.append(
            "CPU-bound view on 2 cores: 2 gunicorn sync workers served "
            f"**{_ratio(head['cpu_bound_rps_ratio'])}** runserver's throughput."
        )
    return lines


def closing_note(results: dict) -> str:
    return "Headline:\n" + "\n".join(f"- {line}" for line in headline_lines(results))


def _matrix_table(results: dict, cell) -> str:
    labels, url_labels = _labels(results), _url_labels(results)
    connections = results["settings"]["connections"]
    rows = []
    for server in results["matrix"]["servers"]:
        for url in results["matrix"]["urls"]:
            cells = []
            for count in connections:
                summary = point(results, server["key"], url["key"], count)
                cells.append(cell(summary) if summary else "n/a")
            rows.append([labels[server["key"]], url_labels[url["key"]], *cells])
    return _table(["Server", "URL", *(f"{c} conn." for c in connections)], rows)


def _machine(results: dict) -> str:
    machine, versions = results["machine"], results["project"]["versions"]
    rows = [
        ["CPU", f"{machine['cpu_model']}, {machine['logical_cpus']} logical CPUs"],
        ["CPUs this run may use", ", ".join(map(str, machine["allowed_cpus"]))],
        ["cgroup CPU limit", machine["cgroup_cpu_limit"]],
        ["Memory", f"{machine['memory_gib']} GiB"],
        ["OS, kernel", f"{machine['os']}, Linux {machine['kernel']}"],
        ["Python (bench, project)", f"{machine['python']}, {versions['python']}"],
        [
            "Django, gunicorn, WhiteNoise",
            f"{versions['django']}, {versions['gunicorn']}, {versions['whitenoise']}",
        ],
        ["Load generator", machine["wrk"]],
        ["Date", machine["date"]],
    ]
    return _table(["", ""], rows)


def _servers(results: dict) -> str:
    rows = []
    for server in results["matrix"]["servers"]:
        env = " ".join(f"{k}={v}" for k, v in server["env"].items()) or "(none: the defaults)"
        rows.append(
            [
                server["label"],
                f"`{server['command']}`",
                f"`{env}`" if server["env"] else env,
                server["configuration"],
                str(server["processes"]),
            ]
        )
    header = ["Server", "Command", "GUNICORN_* set", "In force (gunicorn's own log line)", "Procs"]
    return _table(header, rows)


def _urls(results: dict) -> str:
    labels = _labels(results)
    rows = []
    for url in results["matrix"]["urls"]:
        rows.append(
            [
                url["label"],
                f"`{url['path']}`",
                f"{url['bytes']:,}",
                _per_server(url.get("served_by", {}), labels),
                _per_server(url.get("framing", {}), labels),
            ]
        )
    header = ["URL", "Path", "Bytes", "Answered 200 before the load, served by", "Body ends by"]
    return _table(header, rows)


def _per_server(values: dict[str, str], labels: dict[str, str]) -> str:
    """`value` when every server agrees, else each server's."""
    if len(set(values.values())) == 1:
        return f"{next(iter(values.values()))} (every server)"
    return "; ".join(f"{labels[key]}: {value}" for key, value in values.items())


def _memory(results: dict) -> str:
    rows = []
    for server in results["matrix"]["servers"]:
        peak = max(
            p["summary"]["rss_peak_mib"]
            for p in results["matrix"]["points"]
            if p["server"] == server["key"]
        )
        rows.append(
            [
                server["label"],
                str(server["processes"]),
                _fmt(max(server["idle_rss_mib"])),
                _fmt(peak),
                _fmt(max(server["pss_after_mib"])),
            ]
        )
    header = ["Server", "Processes", "Idle RSS, MiB", "Peak RSS under load", "PSS after load"]
    return _table(header, rows)


def _ratios(results: dict) -> str:
    labels, url_labels = _labels(results), _url_labels(results)
    rows = [
        [
            labels[r["server"]],
            url_labels[r["url"]],
            str(r["connections"]),
            _ratio(r["rps"]),
            _ratio(r["p50"]),
            _ratio(r["p99"]),
            _ratio(r["rss_peak"]),
        ]
        for r in results["ratios"]
    ]
    header = ["Server", "URL", "Conn.", "Throughput", "p50", "p99", "Peak RSS"]
    return _table(header, rows)


def _recycling(results: dict) -> str:
    experiment = results["experiments"]["recycling"]
    rows = []
    for row in experiment["rows"]:
        s = row["summary"]
        rows.append(
            [
                row["label"],
                str(row["max_requests"] or "off (0)"),
                _in_force(row["configuration"]),
                f"{_fmt(s['rps_median'])} ({_fmt(s['rps_min'])})",
                _ms(s["p99_ms_median"]),
                _fmt(s["requests"]),
                str(s["workers_recycled"]),
                f"{s['failed']} / {s['socket_errors']}",
            ]
        )
    header = [
        "Server",
        "max_requests",
        "In force",
        "Req/s median (min)",
        "p99 ms",
        "Requests",
        "Recycled",
        "Failed / socket errors",
    ]
    return _table(header, rows)


def _in_force(configuration: str) -> str:
    """The settings that matter to recycling, from gunicorn's configuration line."""
    wanted = ("workers", "threads", "worker_class", "max_requests_jitter")
    parts = [part for part in configuration.split() if part.split("=")[0] in wanted]
    return " ".join(parts) or "unknown"


def _leak(results: dict) -> str:
    experiment = results["experiments"]["leak"]
    rows = []
    for run in experiment["runs"]:
        r = run["result"]
        rows.append(
            [
                str(run["max_requests"] or "off (0)"),
                _fmt(r["requests"]),
                _fmt(r["rps"]),
                str(run["workers_booted"]),
                _fmt(run["worker_peak_rss_mib"]),
                f"{r['non2xx']} / {r['socket_errors']}",
            ]
        )
    header = ["max_requests", "Requests", "Req/s", "Workers booted", "Peak worker RSS, MiB"]
    return _table([*header, "Failed / socket errors"], rows)


def _cpu(results: dict) -> str:
    experiment = results["experiments"]["cpu_bound"]
    rows = []
    for row in experiment["rows"]:
        s = row["summary"]
        rows.append(
            [
                row["label"],
                f"{_fmt(s['rps_median'], 1)} ({_fmt(s['rps_min'], 1)})",
                _ms(s["p50_ms_median"]),
                _ms(s["p99_ms_median"]),
                f"{s['failed']} / {s['socket_errors']}",
            ]
        )
    return _table(["Server", "Req/s median (min)", "p50 ms", "p99 ms", "Failed / socket"], rows)


def _closes(results: dict) -> str:
    """A sentence on the responses whose end is the connection's close, if any."""
    labels, url_labels = _labels(results), _url_labels(results)
    framing = {url["key"]: url.get("framing", {}) for url in results["matrix"]["urls"]}
    pairs = sorted(
        {(p["server"], p["url"]) for p in results["matrix"]["points"] if p["summary"]["closes"]}
    )
    if not pairs:
        return "No server ended a response by closing the connection."
    named = "; ".join(f"{labels[server]}, {url_labels[url]}" for server, url in pairs)
    others = sorted(
        {
            f"{labels[server]}: {how}"
            for _, url in pairs
            for server, how in framing[url].items()
            if how != "close"
        }
    )
    return (
        f"Not counted as errors: {named}. There the response has no Content-Length and the "
        "server ends it by closing the connection; wrk counts each such close, after a "
        "complete 200, as a read error as well. Those closes are in `closes`, the raw count "
        "in `read_raw` (results.json)."
        + (f" The other servers frame it otherwise ({'; '.join(others)})." if others else "")
    )


def _keeps_alive(server: dict) -> bool:
    """From gunicorn's own configuration line: sync workers, and gthread ones with
    keepalive=0s, close the connection after every response; runserver keeps it."""
    config = server["configuration"]
    if server["kind"] == "runserver":
        return True
    keepalive = re.search(r"\bkeepalive=(\d+)s", config)
    return "worker_class=sync" not in config and bool(keepalive and int(keepalive[1]) > 0)


def _keep_alive(results: dict) -> str:
    servers = results["matrix"]["servers"]
    closing = "; ".join(s["label"] for s in servers if not _keeps_alive(s)) or "none"
    keeping = "; ".join(s["label"] for s in servers if _keeps_alive(s)) or "none"
    return (
        "- Connections closed after every response, so that wrk reconnects for every request "
        f"(sync workers, or gthread with keepalive=0s): {closing}. Connections kept open "
        f"between requests: {keeping}. That is how each of them treats any client, a proxy "
        "included."
    )


def _backlog(results: dict, top: int) -> str:
    """runserver's listen queue of 10, and what it does to clients that reconnect."""
    healthz = point(results, BASELINE, "healthz", top)
    defaults = next(s for s in results["matrix"]["servers"] if s["key"] == GUNICORN_DEFAULTS.key)
    backlog = re.search(r"\bbacklog=(\d+)", defaults["configuration"])
    seen = (
        " The likely cause of runserver's p99 of "
        f"{_ms(healthz['p99_ms_median'])} ms on /healthz at {top} connections, where it "
        "closes the connection after every response."
        if healthz and healthz["closes"]
        else ""
    )
    return (
        "- runserver's listen queue holds 10 connections (Django's "
        f"`WSGIServer.request_queue_size`), gunicorn's {backlog[1] if backlog else '?'} "
        "(GUNICORN_BACKLOG, capped by net.core.somaxconn). Past it, Linux "
        "drops the last step of a new connection's handshake; the client believes it is "
        "connected, sends its request, and waits for the retransmissions (1 s, then 3 s, ...)."
        + seen
    )


def _nagle(results: dict) -> str:
    """runserver's floor of about 40 ms a request on a kept-alive connection."""
    summary = point(results, BASELINE, "home", min(results["settings"]["connections"]))
    if summary is None:
        return ""
    return (
        f"- runserver's p50 at one connection on the home page is {_ms(summary['p50_ms_median'])}"
        " ms: on a kept-alive connection, wsgiref (under runserver) writes the status line, "
        "Date, Server, the headers and the body as separate unbuffered `send()`s on a socket "
        "with Nagle's algorithm on (`socketserver.StreamRequestHandler`: `wbufsize = 0`, "
        "`disable_nagle_algorithm = False`), so the last small write waits for the client's "
        "delayed ACK (about 40 ms on Linux). Browsers keep connections alive too. gunicorn "
        "sets TCP_NODELAY."
    )


def render(results: dict, images: list[str], image_prefix: str) -> str:
    settings, pinning = results["settings"], results["pinning"]
    top = max(settings["connections"])
    server_cpus = pinning["server"] or results["machine"]["allowed_cpus"]
    experiments = results["experiments"]
    leak, cpu = experiments["leak"], experiments["cpu_bound"]
    recycle_settings = [m for m in experiments["recycling"]["max_requests"] if m]

    def image(name: str, alt: str) -> str:
        return _image(images, name, image_prefix, alt)

    bounded = (
        f"The servers had {len(server_cpus)} CPU{'s' if len(server_cpus) > 1 else ''}: "
        "every gunicorn worker shares it, so the comparison is bounded by that. With more "
        "cores, gunicorn's default worker count follows them while runserver's threads share "
        "one GIL: expect the gap to widen (not measured here)."
        if len(server_cpus) <= 2
        else f"The servers had {len(server_cpus)} CPUs."
    )
    sections = [
        "# Benchmark: gunicorn against `manage.py runserver`",
        (
            f"Generated by `{results['command']}` ({settings['mode']} mode: "
            f"{settings['duration']} s a point, {settings['repeats']} repeat(s), medians shown, "
            f"min in brackets) in {settings['elapsed_minutes']} minutes, on a fresh project "
            "generated from this template (default answers, database=sqlite). Rerun it on your "
            f"own machine with `{REPRODUCE}` from the repository root (`--quick` for a check "
            "in about two minutes); see [How it works](#how-it-works)."
        ),
        *(
            [f"> **Warning: the machine was busy with other work during this run**: {BUSY}"]
            if busy(results["machine"])
            else []
        ),
        "## Headline",
        "\n".join(f"- {line}" for line in headline_lines(results)),
        "## Machine",
        _machine(results),
        f"CPU pinning: {pinning['note']} {bounded}",
        f"Load: {_load(results['machine'])}",
        "## What was measured",
        _servers(results),
        _urls(results),
        (
            "runserver's `--insecure` does nothing here: the project lists "
            "`whitenoise.runserver_nostatic` before `django.contrib.staticfiles`, which turns "
            "runserver's own static handler off; WhiteNoise's middleware serves the collected "
            "files (STATIC_ROOT) in every server, as in production."
        ),
        "## Throughput",
        image("throughput.png", "Requests per second by server, URL and connections"),
        "Requests/s, median (min) over the repeats:",
        _matrix_table(results, lambda s: f"{_fmt(s['rps_median'])} ({_fmt(s['rps_min'])})"),
        "## Latency",
        image("latency.png", "p50 and p99 latency by server, URL and connections"),
        "p50 / p99 in ms (medians over the repeats; wrk's histogram):",
        _matrix_table(results, lambda s: f"{_ms(s['p50_ms_median'])} / {_ms(s['p99_ms_median'])}"),
        "## Failed requests and socket errors",
        image("errors.png", "Failed requests and socket errors"),
        (
            "Failed requests (status >= 400) / socket errors (connect, read, write, timeout "
            f"over {settings['wrk_timeout']} s), summed over the repeats, of all requests:"
        ),
        _matrix_table(
            results, lambda s: f"{s['failed']} / {s['socket_errors']} of {_fmt(s['requests'])}"
        ),
        _closes(results),
        "## Memory",
        image("memory.png", "Server memory"),
        (
            "RSS summed over the master and its workers (runserver: one process), sampled "
            "every 0.25 s. RSS counts each shared page once per process: with `preload_app` "
            "the workers share Django's pages with the master copy-on-write, so PSS (each "
            "shared page split between its sharers) is the fairer total."
        ),
        _memory(results),
        "## Ratios to runserver",
        image("ratios.png", "Throughput relative to runserver"),
        "Each server's median over runserver's, same URL and connections (p50, p99: lower is "
        "better; below 1x is faster):",
        _ratios(results),
        "## Experiment 1: recycling (max_requests)",
        (
            f"The home page at {experiments['recycling']['connections']} connections, "
            f"max_requests {' and '.join(map(str, recycle_settings))} against 0 (off); the "
            "jitter is gunicorn.conf.py's default for each value. A recycled worker finishes "
            "its request and exits; the master forks a replacement, with Django already "
            "imported (`preload_app`)."
        ),
        image("recycling.png", "Throughput and errors with and without recycling"),
        _recycling(results),
        "## Experiment 2: a leaking view",
        (
            f"`{leak['path']}` keeps {leak['kib_per_request']} KiB per request forever; 2 sync "
            f"workers; {leak['connections']} connections each waiting {leak['pace_ms']} ms "
            f"between requests, for {leak['duration']} s; every worker's RSS sampled every "
            "0.25 s. Without recycling a worker grows for as long as it lives; with "
            "max_requests each worker is replaced before it grows far."
        ),
        image("leak.png", "Worker RSS over time with and without max_requests"),
        _leak(results),
        "## Experiment 3: a CPU-bound view",
        (
            f"`{cpu['path']}` burns {cpu['cpu_ms']} ms of CPU in pure Python per request, at "
            f"{cpu['connections']} connections; both servers on the same CPUs "
            f"({', '.join(map(str, cpu['server_cpus'] or [])) or 'unpinned'}). runserver runs "
            "a thread per request, but threads share one GIL: one core at most. Two gunicorn "
            "sync workers are two processes, two GILs, two cores. (Enough connections that "
            "runserver's 40 ms stall, below, is hidden behind the other requests' CPU time.)"
        ),
        image("cpu.png", "CPU-bound view: runserver against 2 gunicorn workers"),
        _cpu(results),
        "## How it works",
        "\n".join(
            [
                "- `python -m bench` generates a project with cookiecutter (`database=sqlite`, "
                "the smoke test off), installs it with `uv sync --locked --no-dev`, runs "
                "`migrate` and `collectstatic`, then starts each server on 127.0.0.1 with the "
                "production settings (`DJANGO_DEBUG=false`, nothing read from `.env`). Bench-"
                "only views (`bench/pythonpath/`) reach the servers through `PYTHONPATH` and "
                "`DJANGO_SETTINGS_MODULE=bench_settings`; the generated project never has them.",
                "- Load: [wrk](https://github.com/wg/wrk) (C, one thread), "
                f"`wrk -t1 -c<connections> -d{settings['duration']}s "
                f"--timeout={settings['wrk_timeout']}s --latency`, with the headers a TLS proxy "
                "sends (`Host: localhost`, `X-Forwarded-Proto: https`) and a Lua `done()` that "
                "prints wrk's own counters as JSON. Experiment 2 paces requests with Lua's "
                "`delay()`.",
                "- Each repeat starts every server afresh, checks each URL answers 200, warms "
                "it up, then measures every URL at every connection count "
                f"({', '.join(map(str, settings['connections']))}).",
                _keep_alive(results),
                "- Request logging as each server does it by default (runserver logs every "
                "request; gunicorn follows GUNICORN_ACCESS_LOG's default in gunicorn.conf.py), "
                "into a file: that cost is in every figure.",
                _nagle(results),
                _backlog(results, top),
                "- Loopback only: no network, no TLS, no proxy in front; absolute numbers are "
                "this machine's. The ratios are what carries over.",
                "- Every server is stopped by PID with everything it forked, also on an error "
                "or Ctrl-C; every wrk run and the whole run are bounded in time.",
            ]
        ),
        "Written by `python -m bench` (the code is in `bench/`): `bench/results/report.md`, "
        "`results.json` (every run's raw figures) and the PNG plots beside them; a full run "
        "also copies the report to `docs/benchmarks.md`.",
    ]
    return "\n\n".join(sections) + "\n"
