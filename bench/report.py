"""The Markdown report of a run, from its results' JSON. The prose is in report.md.j2; this
module formats the figures (computed by stats.py) into its tables and sentences' numbers."""

from pathlib import Path
from statistics import median

import jinja2

from bench import stats
from bench.plan import BASELINE, CONFIGURATION, GUNICORN_DEFAULTS

TEMPLATE = "report.md.j2"
HEADLINE = "headline.md.j2"  # a macro of the report, printed at the end of a run too
REPRODUCE = "uv run python -m bench"
RECYCLING_SETTINGS = ("workers", "threads", "worker_class", "max_requests_jitter")


def fmt(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def settings_text(configuration: dict | None, names=CONFIGURATION, kind: str = "") -> str:
    """gunicorn's resolved settings as `name=value` words; runserver and Caddy have none."""
    if configuration is None and kind == "caddy":
        return "Caddy: one process, a goroutine a connection"
    if configuration is None:
        return "runserver: one process, a thread a request"
    return " ".join(f"{name}={configuration[name]}" for name in names)


def _cpu(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _cpus(cpus: list[int] | None) -> str:
    return ",".join(map(str, cpus or [])) or "any"


def failed(summary: dict) -> str:
    return f"{summary['failed']} / {summary['socket_errors']}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


class Figures:
    """The tables and values the template places, from one run's results."""

    def __init__(self, results: dict):
        self.results = results
        experiments = results["experiments"]
        rows = experiments["recycling"]["rows"] + experiments["cpu_bound"]["rows"]
        self.labels = {row["server"]: row["label"] for row in rows}
        self.labels.update({s["key"]: s["label"] for s in results["matrix"]["servers"]})
        self.url_labels = {u["key"]: u["label"] for u in results["matrix"]["urls"]}
        self.connections = results["settings"]["connections"]
        self.defaults = stats.server(results, GUNICORN_DEFAULTS.key)

        self.placements = stats.placements(results)

    def point(
        self, server: str, url: str, connections: int, placement: str = stats.UNPINNED
    ) -> dict | None:
        return stats.point(self.results, server, url, connections, placement)

    def load_during(self) -> dict | None:
        during = self.results["machine"].get("load_average_during") or []
        return {"median": median(during), "max": max(during)} if during else None

    def matrix(self, cell) -> str:
        """A row a server and URL it was measured on; unpinned columns, then pinned ones."""
        rows = []
        for server in self.results["matrix"]["servers"]:
            for url in self.results["matrix"]["urls"]:
                if url["key"] not in server.get("urls", [url["key"]]):
                    continue
                cells = []
                for placement in self.placements:
                    for count in self.connections:
                        summary = self.point(server["key"], url["key"], count, placement)
                        cells.append(cell(summary) if summary else "-")
                rows.append([self.labels[server["key"]], self.url_labels[url["key"]], *cells])
        header = [f"{p}, {c} conn." for p in self.placements for c in self.connections]
        return table(["Server", "URL", *header], rows)

    def cpu_matrix(self) -> str:
        def cell(s: dict) -> str:
            value = s.get("cpu_ms_per_request_median")
            if value is None:
                return "n/a"
            parts = s.get("cpu_ms_per_request_by_process") or {}
            split = " (" + " + ".join(f"{k} {v:.2f}" for k, v in parts.items()) + ")"
            return f"{value:.3f}{split if parts else ''}"

        return self.matrix(cell)

    def peers(self) -> str:
        rows = [
            [
                self.url_labels[r["url"]],
                r["placement"],
                str(r["connections"]),
                f"{fmt(r['defaults_rps'])} / {fmt(r['peers_rps'])}",
                f"**{ratio(r['rps_ratio'])}**",
                f"{ms(r['defaults_p99_ms'])} / {ms(r['peers_p99_ms'])}",
                ratio(r["p99_ratio"]),
                f"{r['defaults_errors']} / {r['peers_errors']}",
                f"{_cpu(r['defaults_cpu_ms'])} / {_cpu(r['peers_cpu_ms'])}",
            ]
            for r in self.results["headline"]["peers"]
        ]
        header = ["URL", "Placement", "Conn.", "Req/s defaults / peers", "Ratio"]
        header += ["p99 ms", "p99 ratio", "Errors", "CPU-ms/request"]
        return table(header, rows)

    def cpu_comparisons(self, kind: str) -> str:
        rows = []
        for r in self.results["headline"]["cpu"]:
            if r["kind"] != kind:
                continue
            if kind == "floor":
                rows.append(
                    [
                        r["label"],
                        r["placement"],
                        str(r["connections"]),
                        _cpu(r["cpu_ms"]),
                        _cpu(r["floor_cpu_ms"]),
                        f"**{ratio(r['ratio'])}**",
                    ]
                )
            else:
                split = " + ".join(f"{k} {v:.3f}" for k, v in r["by_process"].items())
                rows.append(
                    [
                        self.url_labels[r["url"]],
                        r["placement"],
                        str(r["connections"]),
                        f"{_cpu(r['cpu_ms'])} ({split})",
                        _cpu(r["direct_cpu_ms"]),
                        f"**{r['overhead_cpu_ms']:+.3f}**",
                        ratio(r["ratio"]),
                    ]
                )
        if kind == "floor":
            header = ["Comparison", "Placement", "Conn.", "CPU-ms/request", "Floor's", "Ratio"]
        else:
            header = ["URL", "Placement", "Conn.", "Proxy tier CPU-ms/request"]
            header += ["gunicorn defaults alone", "Overhead, ms", "Ratio"]
        return table(header, rows)

    def targets(self) -> list[str]:
        marks = {True: "**met**", False: "**not met**", None: "not measured"}
        return [
            f"{marks[t['met']]}: {t['text']}: {t['value']}"
            for t in self.results["headline"]["targets"]
        ]

    def placement_text(self) -> str:
        texts = []
        for placement in self.results["matrix"].get("placements", []):
            server, client = placement["server_cpus"], placement["client_cpus"]
            if placement["key"] == stats.UNPINNED:
                texts.append("unpinned: client and servers share every CPU")
            else:
                texts.append(
                    f"pinned: the servers on CPU {_cpus(server)}, wrk on CPU {_cpus(client)}"
                )
        return "; ".join(texts) or "unpinned"

    def throughput(self) -> str:
        return self.matrix(lambda s: f"{fmt(s['rps_median'])} ({fmt(s['rps_min'])})")

    def latency(self) -> str:
        return self.matrix(lambda s: f"{ms(s['p50_ms_median'])} / {ms(s['p99_ms_median'])}")

    def errors(self) -> str:
        return self.matrix(lambda s: f"{failed(s)} of {fmt(s['requests'])}")

    def machine(self) -> str:
        machine, versions = self.results["machine"], self.results["project"]["versions"]
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
        return table(["", ""], rows)

    def servers(self) -> str:
        rows = []
        for server in self.results["matrix"]["servers"]:
            env = " ".join(f"{k}={v}" for k, v in server["env"].items())
            in_force = []
            for placement, configuration in server.get("configurations", {}).items():
                text = settings_text(configuration, kind=server.get("kind", ""))
                in_force.append(f"{placement}: {text}")
            rows.append(
                [
                    server["label"],
                    server.get("note", ""),
                    f"`{server['command']}`",
                    f"`{env}`" if env else "(none)",
                    "; ".join(in_force) or settings_text(server["configuration"]),
                    str(server["processes"]),
                ]
            )
        header = ["Server", "What", "Command", "Variables set", "In force (--print-config)"]
        return table([*header, "Procs"], rows)

    def urls(self) -> str:
        rows = [
            [
                url["label"],
                f"`{url['path']}`",
                f"{url['bytes']:,}",
                self._per_server(url.get("served_by", {})),
                self._per_server(url.get("framing", {})),
            ]
            for url in self.results["matrix"]["urls"]
        ]
        header = [
            "URL",
            "Path",
            "Bytes",
            "Answered 200 before the load, served by",
            "Body ends by",
        ]
        return table(header, rows)

    def _per_server(self, values: dict[str, str]) -> str:
        """`value` when every server agrees, else each server's."""
        if len(set(values.values())) == 1:
            return f"{next(iter(values.values()))} (every server)"
        return "; ".join(f"{self.labels[key]}: {value}" for key, value in values.items())

    def memory(self) -> str:
        rows = []
        for server in self.results["matrix"]["servers"]:
            peak = max(
                p["summary"]["rss_peak_mib"]
                for p in self.results["matrix"]["points"]
                if p["server"] == server["key"]
            )
            rows.append(
                [
                    server["label"],
                    str(server["processes"]),
                    fmt(max(server["idle_rss_mib"])),
                    fmt(peak),
                    fmt(max(server["pss_after_mib"])),
                ]
            )
        header = ["Server", "Processes", "Idle RSS, MiB", "Peak RSS under load", "PSS after load"]
        return table(header, rows)

    def ratios(self) -> str:
        rows = [
            [
                self.labels[r["server"]],
                self.url_labels[r["url"]],
                r.get("placement", stats.UNPINNED),
                str(r["connections"]),
                *(ratio(r[name]) for name in ("rps", "p50", "p99", "rss_peak")),
            ]
            for r in self.results["ratios"]
        ]
        header = ["Server", "URL", "Placement", "Conn.", "Throughput", "p50", "p99", "Peak RSS"]
        return table(header, rows)

    def recycling(self) -> str:
        rows = [
            [
                row["label"],
                str(row["max_requests"] or "off (0)"),
                settings_text(row["configuration"], RECYCLING_SETTINGS),
                f"{fmt(row['summary']['rps_median'])} ({fmt(row['summary']['rps_min'])})",
                ms(row["summary"]["p99_ms_median"]),
                fmt(row["summary"]["requests"]),
                str(row["summary"]["workers_recycled"]),
                failed(row["summary"]),
            ]
            for row in self.results["experiments"]["recycling"]["rows"]
        ]
        header = ["Server", "max_requests", "In force", "Req/s median (min)", "p99 ms"]
        return table([*header, "Requests", "Recycled", "Failed / socket errors"], rows)

    def leak(self) -> str:
        rows = [
            [
                str(run["max_requests"] or "off (0)"),
                fmt(run["result"]["requests"]),
                fmt(run["result"]["rps"]),
                str(run["workers_booted"]),
                fmt(run["worker_peak_rss_mib"]),
                f"{run['result']['non2xx']} / {run['result']['socket_errors']}",
            ]
            for run in self.results["experiments"]["leak"]["runs"]
        ]
        header = ["max_requests", "Requests", "Req/s", "Workers booted", "Peak worker RSS, MiB"]
        return table([*header, "Failed / socket errors"], rows)

    def cpu(self) -> str:
        rows = []
        for row in self.results["experiments"]["cpu_bound"]["rows"]:
            s = row["summary"]
            speed = f"{fmt(s['rps_median'], 1)} ({fmt(s['rps_min'], 1)})"
            p50, p99 = ms(s["p50_ms_median"]), ms(s["p99_ms_median"])
            rows.append([row["label"], speed, p50, p99, failed(s)])
        return table(["Server", "Req/s median (min)", "p50 ms", "p99 ms", "Failed / socket"], rows)

    def recycling_by_server(self) -> list[tuple[str, list[dict]]]:
        """The headline's recycling rows, grouped by server."""
        grouped: dict[str, list[dict]] = {}
        for row in self.results["headline"]["recycling"]:
            grouped.setdefault(row["server"], []).append(row)
        return [(self.labels[server], rows) for server, rows in grouped.items()]

    def leak_peaks(self) -> tuple[float, str, float] | None:
        """(peak MiB with recycling off, the max_requests it had on, peak MiB then)."""
        leak = self.results["headline"]["leak_worker_peak_mib"]
        if len(leak) != 2:
            return None
        (_, off_mib), (on, on_mib) = sorted(leak.items(), key=lambda item: int(item[0]))
        return off_mib, on, on_mib

    def closing(self) -> list[tuple[str, str]]:
        """(server label, url label) of the points whose responses ended with a close."""
        pairs = stats.close_delimited(self.results)
        return [(self.labels[server], self.url_labels[url]) for server, url in pairs]

    def other_framings(self) -> list[str]:
        urls = {url for _, url in stats.close_delimited(self.results)}
        framing = {u["key"]: u.get("framing", {}) for u in self.results["matrix"]["urls"]}
        return sorted(
            {
                f"{self.labels[server]}: {how}"
                for url in urls
                for server, how in framing[url].items()
                if how != "close"
            }
        )

    def keeping_alive(self, keeps: bool) -> str:
        servers = self.results["matrix"]["servers"]
        return "; ".join(s["label"] for s in servers if stats.keeps_alive(s) == keeps) or "none"


def _environment() -> jinja2.Environment:
    loader = jinja2.FileSystemLoader(Path(__file__).parent)
    environment = jinja2.Environment(
        loader=loader,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # noqa: S701 (Markdown, not HTML)
    )
    environment.filters.update(fmt=fmt, ms=ms, ratio=ratio, settings=settings_text)
    return environment


def render(results: dict, images: list[str], image_prefix: str) -> str:
    template = _environment().get_template(TEMPLATE)
    return template.render(
        results=results,
        figures=Figures(results),
        busy=stats.busy(results["machine"]),
        images=images,
        image_prefix=image_prefix,
        baseline=BASELINE,
        reproduce=REPRODUCE,
    )


def closing_note(results: dict) -> str:
    """The headline, as the run prints it at its end."""
    headline = _environment().get_template(HEADLINE).module.headline(Figures(results))
    return "Headline:\n" + str(headline).strip()
