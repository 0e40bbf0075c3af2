"""Figures derived from the raw runs: min/median over repeats, ratios to runserver, and the
headline numbers. Pure functions of the results' JSON."""

from statistics import median

from bench.plan import (
    BASELINE,
    CADDY_FLOOR,
    GUNICORN_DEFAULTS,
    GUNICORN_TWO_SYNC,
    PEERS,
    PROXY,
    UNPINNED,
    WSGI_FLOOR,
)

# The targets (bench figures, never timed tests).
TARGET_URLS = ("home", "page", "static", "healthz")
TARGET_CONNECTIONS = 64
MIN_PEERS_RPS_RATIO = 1.0  # the defaults' throughput over the peers', at least
MAX_PEERS_P99_RATIO = 1.5  # the defaults' p99 over the peers', at most
MIN_RUNSERVER_RPS_RATIO = 3.0  # the defaults' home page over runserver's
MAX_FLOOR_CPU_RATIO = 1.5  # CPU per request over its floor's

ERROR_KINDS = ("non2xx", "connect", "read", "write", "timeout")


def summarize(runs: list[dict]) -> dict:
    """Over the repeats of one point: median and min (and max) of each figure, error sums."""
    rps = [run["rps"] for run in runs]
    p50 = [run["p50_ms"] for run in runs]
    p99 = [run["p99_ms"] for run in runs]
    errors = {kind: sum(run[kind] for run in runs) for kind in ERROR_KINDS}
    cpu = [run["cpu_ms_per_request"] for run in runs if "cpu_ms_per_request" in run]
    by_process: dict[str, list[float]] = {}
    for run in runs:
        for name, value in run.get("cpu_ms_per_request_by_process", {}).items():
            by_process.setdefault(name, []).append(value)
    return {
        "cpu_ms_per_request_median": round(median(cpu), 4) if cpu else None,
        "cpu_ms_per_request_min": round(min(cpu), 4) if cpu else None,
        "cpu_ms_per_request_max": round(max(cpu), 4) if cpu else None,
        "cpu_ms_per_request_by_process": {
            name: round(median(values), 4) for name, values in by_process.items()
        },
        "repeats": len(runs),
        "requests": sum(run["requests"] for run in runs),
        "rps_median": round(median(rps), 1),
        "rps_min": round(min(rps), 1),
        "rps_max": round(max(rps), 1),
        "p50_ms_median": round(median(p50), 3),
        "p50_ms_min": round(min(p50), 3),
        "p99_ms_median": round(median(p99), 3),
        "p99_ms_min": round(min(p99), 3),
        "p99_ms_max": round(max(p99), 3),
        "errors": errors,
        "socket_errors": sum(errors[kind] for kind in ERROR_KINDS[1:]),
        "failed": errors["non2xx"],
        "closes": sum(run.get("closes", 0) for run in runs),
        "rss_peak_mib": max(run.get("rss_peak_mib", 0.0) for run in runs),
    }


def load_during(results: dict) -> list[float]:
    """The 1-minute load average taken after every measured run."""
    runs = [run for p in results["matrix"]["points"] for run in p["runs"]]
    experiments = results["experiments"]
    runs += [run for row in experiments["recycling"]["rows"] for run in row["runs"]]
    runs += [run for row in experiments["cpu_bound"]["rows"] for run in row["runs"]]
    runs += [run["result"] for run in experiments["leak"]["runs"]]
    return [run["load_1min"] for run in runs if "load_1min" in run]


def busy(machine: dict) -> bool:
    """Other work was running when the run started: 1-minute load above 1.

    The load during the run says little about other work: it counts runnable threads, and
    runserver or a gthread server under 64 connections has dozens of them by itself."""
    return machine["load_average_before"][0] > 1


def add_summaries(results: dict) -> None:
    for point in results["matrix"]["points"]:
        point["summary"] = summarize(point["runs"])
    experiments = results["experiments"]
    for row in experiments["recycling"]["rows"] + experiments["cpu_bound"]["rows"]:
        row["summary"] = summarize(row["runs"])
        recycled = [run.get("workers_recycled", 0) for run in row["runs"]]
        row["summary"]["workers_recycled"] = sum(recycled)


def point(
    results: dict, server: str, url: str, connections: int, placement: str = UNPINNED
) -> dict | None:
    for candidate in results["matrix"]["points"]:
        if (
            candidate["server"],
            candidate["url"],
            candidate["connections"],
            candidate.get("placement", UNPINNED),
        ) == (server, url, connections, placement):
            return candidate["summary"]
    return None


def placements(results: dict) -> list[str]:
    return [p["key"] for p in results["matrix"].get("placements", [{"key": UNPINNED}])]


def _ratio(value: float, baseline: float) -> float | None:
    return round(value / baseline, 2) if baseline else None


def ratios(results: dict) -> list[dict]:
    """Each server against runserver at the same URL, connection count and placement
    (medians)."""
    rows = []
    memory = {s["key"]: max(s["idle_rss_mib"]) for s in results["matrix"]["servers"]}
    for candidate in results["matrix"]["points"]:
        if candidate["server"] == BASELINE:
            continue
        placement = candidate.get("placement", UNPINNED)
        base = point(results, BASELINE, candidate["url"], candidate["connections"], placement)
        if base is None:
            continue
        own = candidate["summary"]
        rows.append(
            {
                "server": candidate["server"],
                "url": candidate["url"],
                "connections": candidate["connections"],
                "placement": placement,
                "rps": _ratio(own["rps_median"], base["rps_median"]),
                "p50": _ratio(own["p50_ms_median"], base["p50_ms_median"]),
                "p99": _ratio(own["p99_ms_median"], base["p99_ms_median"]),
                "rss_peak": _ratio(own["rss_peak_mib"], base["rss_peak_mib"]),
                "idle_rss": _ratio(memory[candidate["server"]], memory[BASELINE]),
            }
        )
    return rows


def headline(results: dict) -> dict:
    """The closing note's numbers: gunicorn defaults against runserver at 64 connections,
    static files through WhiteNoise, errors under recycling, the CPU-bound view."""
    top = max(c for c in results["settings"]["connections"])
    figures: dict = {"connections": top, "by_url": {}}
    for url in results["matrix"]["urls"]:
        base = point(results, BASELINE, url["key"], top)
        own = point(results, GUNICORN_DEFAULTS.key, url["key"], top)
        if base and own:
            figures["by_url"][url["key"]] = {
                "runserver_rps": base["rps_median"],
                "gunicorn_rps": own["rps_median"],
                "rps_ratio": _ratio(own["rps_median"], base["rps_median"]),
                "runserver_p99_ms": base["p99_ms_median"],
                "gunicorn_p99_ms": own["p99_ms_median"],
                "p99_ratio": _ratio(own["p99_ms_median"], base["p99_ms_median"]),
                "runserver_errors": base["failed"] + base["socket_errors"],
                "gunicorn_errors": own["failed"] + own["socket_errors"],
            }
    recycling = results["experiments"]["recycling"]
    figures["recycling"] = [
        {
            "server": row["server"],
            "max_requests": row["max_requests"],
            "rps_median": row["summary"]["rps_median"],
            "errors": row["summary"]["failed"] + row["summary"]["socket_errors"],
            "requests": row["summary"]["requests"],
            "workers_recycled": row["summary"]["workers_recycled"],
        }
        for row in recycling["rows"]
    ]
    cpu = {row["server"]: row["summary"] for row in results["experiments"]["cpu_bound"]["rows"]}
    if BASELINE in cpu and GUNICORN_TWO_SYNC.key in cpu:
        figures["cpu_bound_rps_ratio"] = _ratio(
            cpu[GUNICORN_TWO_SYNC.key]["rps_median"], cpu[BASELINE]["rps_median"]
        )
    leak = results["experiments"]["leak"]["runs"]
    figures["leak_worker_peak_mib"] = {
        str(run["max_requests"]): run["worker_peak_rss_mib"] for run in leak
    }
    figures["peers"] = against_peers(results)
    figures["cpu"] = cpu_comparisons(results)
    figures["targets"] = targets(results, figures)
    return figures


def _errors(summary: dict) -> int:
    return summary["failed"] + summary["socket_errors"]


def against_peers(results: dict) -> list[dict]:
    """The defaults over the peers' setup, each URL, placement and connection count both ran."""
    rows = []
    for placement in placements(results):
        for url in results["matrix"]["urls"]:
            for count in results["settings"]["connections"]:
                own = point(results, GUNICORN_DEFAULTS.key, url["key"], count, placement)
                peers = point(results, PEERS.key, url["key"], count, placement)
                if not (own and peers):
                    continue
                rows.append(
                    {
                        "url": url["key"],
                        "connections": count,
                        "placement": placement,
                        "defaults_rps": own["rps_median"],
                        "peers_rps": peers["rps_median"],
                        "rps_ratio": _ratio(own["rps_median"], peers["rps_median"]),
                        "defaults_p99_ms": own["p99_ms_median"],
                        "peers_p99_ms": peers["p99_ms_median"],
                        "p99_ratio": _ratio(own["p99_ms_median"], peers["p99_ms_median"]),
                        "defaults_errors": _errors(own),
                        "peers_errors": _errors(peers),
                        "defaults_cpu_ms": own["cpu_ms_per_request_median"],
                        "peers_cpu_ms": peers["cpu_ms_per_request_median"],
                    }
                )
    return rows


def _cpu(results, server, url, count, placement) -> float | None:
    summary = point(results, server, url, count, placement)
    return summary["cpu_ms_per_request_median"] if summary else None


def cpu_comparisons(results: dict) -> list[dict]:
    """CPU-ms per request, side by side: /healthz over the raw WSGI floor, the static file
    through the proxy over Caddy's file_server floor, and the proxy's overhead (the proxy
    tier against gunicorn alone, and Caddy's own share), at each placement and count."""
    rows = []
    for placement in placements(results):
        for count in results["settings"]["connections"]:
            pairs = [
                ("healthz", GUNICORN_DEFAULTS.key, WSGI_FLOOR.key, "healthz over raw WSGI floor"),
                ("static", PROXY.key, CADDY_FLOOR.key, "static via proxy over Caddy floor"),
            ]
            for url, server, floor, label in pairs:
                own, base = (_cpu(results, key, url, count, placement) for key in (server, floor))
                if own is not None and base is not None:
                    rows.append(
                        {
                            "kind": "floor",
                            "label": label,
                            "url": url,
                            "server": server,
                            "floor": floor,
                            "connections": count,
                            "placement": placement,
                            "cpu_ms": own,
                            "floor_cpu_ms": base,
                            "ratio": _ratio(own, base),
                        }
                    )
            for url in results["matrix"]["urls"]:
                proxied = point(results, PROXY.key, url["key"], count, placement)
                direct = _cpu(results, GUNICORN_DEFAULTS.key, url["key"], count, placement)
                if not proxied or direct is None:
                    continue
                own = proxied["cpu_ms_per_request_median"]
                rows.append(
                    {
                        "kind": "proxy",
                        "label": "proxy tier over gunicorn alone",
                        "url": url["key"],
                        "connections": count,
                        "placement": placement,
                        "cpu_ms": own,
                        "direct_cpu_ms": direct,
                        "overhead_cpu_ms": round(own - direct, 4),
                        "by_process": proxied["cpu_ms_per_request_by_process"],
                        "ratio": _ratio(own, direct),
                    }
                )
    return rows


def targets(results: dict, figures: dict) -> list[dict]:
    """The issue's targets, each met, not met, or not measured (None), unpinned at 64."""
    count, rows = TARGET_CONNECTIONS, []

    def add(name: str, text: str, met: bool | None, value: str) -> None:
        rows.append({"name": name, "text": text, "met": met, "value": value})

    peers = {
        r["url"]: r
        for r in figures["peers"]
        if r["placement"] == UNPINNED and r["connections"] == count
    }
    for url in TARGET_URLS:
        row = peers.get(url)
        text = (
            f"{url}: defaults / peers >= {MIN_PEERS_RPS_RATIO:g}x requests/s, "
            f"p99 <= {MAX_PEERS_P99_RATIO:g}x the peers', 0 errors (unpinned, {count} conn.)"
        )
        if row is None or row["rps_ratio"] is None or row["p99_ratio"] is None:
            add(f"peers-{url}", text, None, "not measured")
            continue
        met = (
            row["rps_ratio"] >= MIN_PEERS_RPS_RATIO
            and row["p99_ratio"] <= MAX_PEERS_P99_RATIO
            and row["defaults_errors"] == 0
        )
        value = (
            f"{row['rps_ratio']:.2f}x requests/s, p99 {row['p99_ratio']:.2f}x, "
            f"{row['defaults_errors']} errors"
        )
        add(f"peers-{url}", text, met, value)
    home = figures["by_url"].get("home")
    text = f"home: defaults >= {MIN_RUNSERVER_RPS_RATIO:g}x runserver's requests/s ({count} conn.)"
    if home and home["rps_ratio"] is not None and figures["connections"] == count:
        met = home["rps_ratio"] >= MIN_RUNSERVER_RPS_RATIO
        add("runserver-home", text, met, f"{home['rps_ratio']:.2f}x")
    else:
        add("runserver-home", text, None, "not measured")
    for url, name in (("healthz", "floor-wsgi"), ("static", "floor-caddy")):
        row = next(
            (
                r
                for r in figures["cpu"]
                if r["kind"] == "floor"
                and r["url"] == url
                and r["placement"] == UNPINNED
                and r["connections"] == count
            ),
            None,
        )
        what = "/healthz CPU per request" if url == "healthz" else "static via proxy CPU"
        floor = "the raw WSGI floor's" if url == "healthz" else "the Caddy floor's"
        text = f"{what} <= {MAX_FLOOR_CPU_RATIO:g}x {floor} (unpinned, {count} conn.)"
        if row is None or row["ratio"] is None:
            add(name, text, None, "not measured")
        else:
            value = f"{row['ratio']:.2f}x ({row['cpu_ms']:.3f} / {row['floor_cpu_ms']:.3f} ms)"
            add(name, text, row["ratio"] <= MAX_FLOOR_CPU_RATIO, value)
    return rows


def keeps_alive(server: dict) -> bool:
    """From gunicorn's resolved settings: sync workers, and gthread ones with keepalive 0,
    close the connection after every response; runserver keeps it."""
    config = server["configuration"]
    if server.get("kind") in ("proxy", "caddy") or config is None:  # Caddy; runserver
        return True
    return config["worker_class"] != "sync" and config["keepalive"] > 0


def close_delimited(results: dict) -> list[tuple[str, str]]:
    """(server, url) of the points whose responses ended by closing the connection."""
    points = results["matrix"]["points"]
    return sorted({(p["server"], p["url"]) for p in points if p["summary"]["closes"]})


def server(results: dict, key: str) -> dict:
    return next(s for s in results["matrix"]["servers"] if s["key"] == key)
