"""Figures derived from the raw runs: min/median over repeats, ratios to runserver, and the
headline numbers. Pure functions of the results' JSON."""

from statistics import median

from bench.plan import BASELINE, GUNICORN_DEFAULTS, GUNICORN_TWO_SYNC

ERROR_KINDS = ("non2xx", "connect", "read", "write", "timeout")


def summarize(runs: list[dict]) -> dict:
    """Over the repeats of one point: median and min (and max) of each figure, error sums."""
    rps = [run["rps"] for run in runs]
    p50 = [run["p50_ms"] for run in runs]
    p99 = [run["p99_ms"] for run in runs]
    errors = {kind: sum(run[kind] for run in runs) for kind in ERROR_KINDS}
    return {
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


def point(results: dict, server: str, url: str, connections: int) -> dict | None:
    for candidate in results["matrix"]["points"]:
        if (candidate["server"], candidate["url"], candidate["connections"]) == (
            server,
            url,
            connections,
        ):
            return candidate["summary"]
    return None


def _ratio(value: float, baseline: float) -> float | None:
    return round(value / baseline, 2) if baseline else None


def ratios(results: dict) -> list[dict]:
    """Each server against runserver at the same URL and connection count (medians)."""
    rows = []
    memory = {s["key"]: max(s["idle_rss_mib"]) for s in results["matrix"]["servers"]}
    for candidate in results["matrix"]["points"]:
        if candidate["server"] == BASELINE:
            continue
        base = point(results, BASELINE, candidate["url"], candidate["connections"])
        if base is None:
            continue
        own = candidate["summary"]
        rows.append(
            {
                "server": candidate["server"],
                "url": candidate["url"],
                "connections": candidate["connections"],
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
    return figures


def keeps_alive(server: dict) -> bool:
    """From gunicorn's resolved settings: sync workers, and gthread ones with keepalive 0,
    close the connection after every response; runserver keeps it."""
    config = server["configuration"]
    if config is None:  # runserver
        return True
    return config["worker_class"] != "sync" and config["keepalive"] > 0


def close_delimited(results: dict) -> list[tuple[str, str]]:
    """(server, url) of the points whose responses ended by closing the connection."""
    points = results["matrix"]["points"]
    return sorted({(p["server"], p["url"]) for p in points if p["summary"]["closes"]})


def server(results: dict, key: str) -> dict:
    return next(s for s in results["matrix"]["servers"] if s["key"] == key)
