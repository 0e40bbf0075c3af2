"""The report's figures, from results.json: python bench/plots.py RESULTS_JSON OUT_DIR

Run by `python -m bench` in an environment of its own with the pinned matplotlib of
requirements-plots.txt; it needs nothing else (not even the bench package). Prints the names
of the PNG files it wrote.
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DPI = 110
COLORS = ["#8c8c8c", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#d62728"]


def _summary(results, server, url, connections, placement="unpinned"):
    for point in results["matrix"]["points"]:
        key = (point["server"], point["url"], point["connections"])
        if key == (server, url, connections) and point.get("placement", "unpinned") == placement:
            return point["summary"]
    return None


def _placements(results) -> list[str]:
    return [p["key"] for p in results["matrix"].get("placements", [{"key": "unpinned"}])]


def _servers_of(results, url):
    return [s for s in results["matrix"]["servers"] if url["key"] in s.get("urls", [url["key"]])]


def _spread(figure: str) -> dict:
    """The median of `figure` over the repeats, with whiskers from its min to its max."""
    return {
        "value": lambda s: s[f"{figure}_median"],
        "low": lambda s: s[f"{figure}_min"],
        "high": lambda s: s[f"{figure}_max"],
    }


def _grouped_bars(ax, results, url, value, low=None, high=None, log=False, placement="unpinned"):
    """One group of bars per connection count, one bar per server; whiskers from low to high.
    Every server keeps its colour in every panel."""
    every = results["matrix"]["servers"]
    servers = _servers_of(results, url)
    connections = results["settings"]["connections"]
    width = 0.8 / len(servers)
    for index, server in enumerate(servers):
        colour = COLORS[every.index(server) % len(COLORS)]
        xs, heights, errors = [], [], [[], []]
        for group, count in enumerate(connections):
            summary = _summary(results, server["key"], url["key"], count, placement)
            if summary is None or value(summary) is None:
                continue
            height = value(summary)
            xs.append(group + (index - (len(servers) - 1) / 2) * width)
            heights.append(height)
            errors[0].append(max(0.0, height - low(summary)) if low else 0.0)
            errors[1].append(max(0.0, high(summary) - height) if high else 0.0)
        ax.bar(
            xs,
            heights,
            width,
            label=server["label"],
            color=colour,
            yerr=errors if (low or high) else None,
            capsize=2,
        )
    ax.set_xticks(range(len(connections)), [f"{c} conn." for c in connections])
    if log:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)


def _title(url) -> str:
    return f"{url['label']}\n{url['path']}" if url["key"] == "static" else url["label"]


def _label(text: str) -> str:
    """A server's label on two lines, for an axis."""
    return text.replace(", ", ",\n", 1)


def _save(fig, out: Path, name: str, written: list[str], title: str, legend=None, columns=4):
    """Titled, and with `legend` (an axes) one legend for the whole figure under the plots,
    where it hides no bar; written to out/name."""
    fig.suptitle(title)
    if legend is not None:
        found: dict = {}  # label: handle, each once, over every panel given
        for ax in legend if isinstance(legend, list) else [legend]:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                found.setdefault(label, handle)
        handles, labels = list(found.values()), list(found)
        fig.legend(handles, labels, loc="lower center", ncol=columns, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.07, 1, 1) if legend is not None else None)
    fig.savefig(out / name, dpi=DPI)
    plt.close(fig)
    written.append(name)


def _by_placement(results, out, written, name, title, ylabel, draw, height=4.2):
    """A row of panels (one a URL) per placement, unpinned above pinned."""
    urls, placements = results["matrix"]["urls"], _placements(results)
    fig, axes = plt.subplots(
        len(placements),
        len(urls),
        figsize=(5 * len(urls), height * len(placements)),
        squeeze=False,
    )
    for row, placement in enumerate(placements):
        for ax, url in zip(axes[row], urls, strict=True):
            draw(ax, url, placement)
            ax.set_title(f"{placement}: {_title(url)}", fontsize=10)
            ax.set_ylabel(ylabel, fontsize=8)
    _save(fig, out, name, written, title, list(axes.flat), columns=3)


def throughput(results, out, written):
    def draw(ax, url, placement):
        _grouped_bars(ax, results, url, **_spread("rps"), placement=placement)

    ylabel = "requests/s (median; whiskers min-max)"
    title = "Throughput: higher is better"
    _by_placement(results, out, written, "throughput.png", title, ylabel, draw)


def latency(results, out, written):
    def draw(ax, url, placement):
        _grouped_bars(ax, results, url, **_spread("p99_ms"), log=True, placement=placement)

    ylabel = "p99 ms (median; whiskers min-max, log)"
    title = "Latency, p99: lower is better (p50 in the report's table)"
    _by_placement(results, out, written, "latency.png", title, ylabel, draw)


def cpu_per_request(results, out, written):
    def draw(ax, url, placement):
        _grouped_bars(ax, results, url, **_spread("cpu_ms_per_request"), placement=placement)

    ylabel = "server CPU-ms per request (median; min-max)"
    title = "CPU time of the server's processes per request: lower is better"
    _by_placement(results, out, written, "cpu_per_request.png", title, ylabel, draw)


def errors(results, out, written):
    def draw(ax, url, placement):
        value = lambda s: s["failed"] + s["socket_errors"]  # noqa: E731
        _grouped_bars(ax, results, url, value, placement=placement)
        for bars in ax.containers:
            ax.bar_label(bars, fontsize=7)
        ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1] * 1.1, 1))

    ylabel = "failed requests + socket errors (sum)"
    title = "Failed requests (HTTP >= 400) and socket errors, all repeats (0: none)"
    _by_placement(results, out, written, "errors.png", title, ylabel, draw, height=3.8)


def memory(results, out, written):
    servers = results["matrix"]["servers"]
    peaks = {
        s["key"]: max(
            p["summary"]["rss_peak_mib"]
            for p in results["matrix"]["points"]
            if p["server"] == s["key"]
        )
        for s in servers
    }
    series = [
        ("idle, RSS summed", [max(s["idle_rss_mib"]) for s in servers]),
        ("peak under load, RSS summed", [peaks[s["key"]] for s in servers]),
        ("after load, PSS summed", [max(s["pss_after_mib"]) for s in servers]),
    ]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(series)
    for index, (label, values) in enumerate(series):
        xs = [i + (index - 1) * width for i in range(len(servers))]
        bars = ax.bar(xs, values, width, label=label, color=COLORS[index + 1])
        ax.bar_label(bars, fmt="%.0f", fontsize=7)
    ax.set_xticks(range(len(servers)), [_label(s["label"]) for s in servers], fontsize=8)
    ax.set_ylabel("MiB, master + workers")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    title = "Server memory (RSS counts shared copy-on-write pages once per process)"
    _save(fig, out, "memory.png", written, title)


def ratios(results, out, written):
    """Unpinned: each server over runserver."""
    urls = results["matrix"]["urls"]
    every = results["matrix"]["servers"]
    connections = results["settings"]["connections"]
    fig, axes = plt.subplots(1, len(urls), figsize=(5 * len(urls), 4.2), squeeze=False)
    for ax, url in zip(axes[0], urls, strict=True):
        servers = [s for s in _servers_of(results, url) if s["key"] != "runserver"]
        for server in servers:
            index = every.index(server) - 1
            values = []
            for count in connections:
                row = next(
                    (
                        r
                        for r in results["ratios"]
                        if (r["server"], r["url"], r["connections"])
                        == (server["key"], url["key"], count)
                        and r.get("placement", "unpinned") == "unpinned"
                    ),
                    None,
                )
                values.append(row["rps"] if row and row["rps"] else float("nan"))
            ax.plot(
                connections,
                values,
                marker="o",
                label=server["label"],
                color=COLORS[(index + 1) % len(COLORS)],
            )
        ax.axhline(1, color="#8c8c8c", linestyle="--", linewidth=1, label="runserver = 1")
        ax.set_yscale("log")
        ax.set_xscale("log", base=2)
        ax.set_xticks(connections, [str(c) for c in connections])
        ax.set_xlabel("connections")
        ax.set_ylabel("throughput / runserver's (medians, log)")
        ax.set_title(_title(url), fontsize=10)
        ax.grid(alpha=0.3, which="both")
    title = "Throughput relative to runserver (unpinned): above 1, more"
    _save(fig, out, "ratios.png", written, title, list(axes.flat), columns=3)


def recycling(results, out, written):
    """Groups: the servers; bars: the max_requests settings."""
    experiment = results["experiments"]["recycling"]
    rows = experiment["rows"]
    servers = list(dict.fromkeys((r["server"], r["label"]) for r in rows))
    settings = experiment["max_requests"]
    width = 0.8 / len(settings)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    panels = (
        ("requests/s (median)", lambda s: s["rps_median"], "%.0f"),
        (
            "failed requests + socket errors (sum)",
            lambda s: s["failed"] + s["socket_errors"],
            "%d",
        ),
        ("workers recycled during the load (sum)", lambda s: s["workers_recycled"], "%d"),
    )
    for ax, (ylabel, value, fmt) in zip(axes, panels, strict=True):
        for index, setting in enumerate(settings):
            xs, heights = [], []
            for group, (key, _) in enumerate(servers):
                row = next(r for r in rows if (r["server"], r["max_requests"]) == (key, setting))
                xs.append(group + (index - (len(settings) - 1) / 2) * width)
                heights.append(value(row["summary"]))
            label = f"max_requests={setting or 'off (0)'}"
            bars = ax.bar(xs, heights, width, label=label, color=COLORS[1 + index])
            ax.bar_label(bars, fmt=fmt, fontsize=7)
        ax.set_xticks(range(len(servers)), [_label(label) for _, label in servers], fontsize=8)
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1] * 1.1, 1))
        ax.grid(axis="y", alpha=0.3)
    title = f"Experiment 1: worker recycling, home page at {experiment['connections']} connections"
    _save(fig, out, "recycling.png", written, title, axes[0], columns=len(settings))


def leak(results, out, written):
    experiment = results["experiments"]["leak"]
    runs = experiment["runs"]
    fig, axes = plt.subplots(1, len(runs), figsize=(6 * len(runs), 4.4), sharey=True)
    for ax, run in zip(axes, runs, strict=True):
        for index, points in enumerate(run["series"].values()):
            ax.plot(
                [t for t, _ in points],
                [mib for _, mib in points],
                color=COLORS[1 + index % (len(COLORS) - 1)],
                linewidth=1.4,
            )
        setting = run["max_requests"] or "off"
        ax.set_title(
            f"max_requests={setting}: {run['workers_booted']} workers booted, "
            f"peak {run['worker_peak_rss_mib']:.0f} MiB",
            fontsize=10,
        )
        ax.set_xlabel("seconds")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("RSS of each worker, MiB (a line a worker)")
    title = (
        f"Experiment 2: a view keeping {experiment['kib_per_request']} KiB a request, "
        f"2 sync workers, {experiment['connections']} connections paced "
        f"{experiment['pace_ms']} ms"
    )
    _save(fig, out, "leak.png", written, title)


def cpu_bound(results, out, written):
    experiment = results["experiments"]["cpu_bound"]
    rows = experiment["rows"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    labels = [_label(r["label"]) for r in rows]
    bars = left.bar(labels, [r["summary"]["rps_median"] for r in rows], color=COLORS[:2])
    left.bar_label(bars, fmt="%.1f", fontsize=8)
    left.set_ylabel("requests/s (median)")
    width = 0.4
    for index, (name, key) in enumerate((("p50", "p50_ms_median"), ("p99", "p99_ms_median"))):
        xs = [i + (index - 0.5) * width for i in range(len(rows))]
        bars = right.bar(xs, [r["summary"][key] for r in rows], width, label=name)
        right.bar_label(bars, fmt="%.0f", fontsize=8)
    right.set_xticks(range(len(rows)), labels)
    right.set_ylabel("ms (median of repeats)")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(axis="y", alpha=0.3)
        ax.tick_params(axis="x", labelsize=8)
    cpus = experiment["server_cpus"]
    where = f"CPUs {','.join(map(str, cpus))}" if cpus else "unpinned"
    title = (
        f"Experiment 3: {experiment['cpu_ms']} ms of CPU a request, "
        f"{experiment['connections']} connections, servers on {where}"
    )
    _save(fig, out, "cpu.png", written, title)


FIGURES = (
    throughput,
    latency,
    cpu_per_request,
    errors,
    memory,
    ratios,
    recycling,
    leak,
    cpu_bound,
)


def main(argv: list[str]) -> int:
    results = json.loads(Path(argv[0]).read_text())
    out = Path(argv[1])
    written: list[str] = []
    for figure in FIGURES:
        figure(results, out, written)
    print("\n".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
