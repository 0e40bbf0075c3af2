"""What every measurement shares: starting a server of the project from a spec, with the
settings it will run with as gunicorn resolves them; checking that it answers each URL with
200, warming it up, and measuring one point (wrk while the server's memory is sampled). It also
holds the run's time budget."""

import contextlib
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench import load
from bench.machine import Pinning, taskset
from bench.plan import CONFIGURATION, WRK_TIMEOUT, Mode, ServerSpec
from bench.project import python_of
from bench.sampling import MIB, RssSampler
from support.client import IMMUTABLE, get
from support.generate import succeeded
from support.server import Server


class BudgetExceeded(Exception):
    pass


@dataclass
class Runner:
    project: Path
    workdir: Path
    env: dict[str, str]
    pinning: Pinning
    mode: Mode
    wrk_path: str
    deadline: float  # time.monotonic() past which the run stops
    _configurations: dict[tuple, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.logs = self.workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.script = load.write_script(self.workdir)
        self.started = 0

    # --- servers -------------------------------------------------------------------------------

    def command(self, spec: ServerSpec, cpus: list[int] | None) -> list[str]:
        python = python_of(self.project)
        if spec.kind == "runserver":
            # --noreload: one process, no autoreloader parent; {port} is filled in by Server.
            server = [python, "manage.py", "runserver", "--noreload", "--insecure"]
            return [*taskset(cpus), *server, "127.0.0.1:{port}"]
        gunicorn = str(Path(python).with_name("gunicorn"))
        return [*taskset(cpus), gunicorn, "--config", "gunicorn.conf.py"]

    def configuration(self, spec: ServerSpec, cpus: list[int] | None, env: dict) -> dict | None:
        """gunicorn's own resolved settings for this server (`--print-config`, run on the same
        CPUs with the same environment), as data; None for runserver."""
        if spec.kind == "runserver":
            return None
        key = (spec.key, tuple(cpus or ()), tuple(sorted(env.items())))
        if key not in self._configurations:
            command = [*self.command(spec, cpus), "--print-config"]
            printed = succeeded(
                subprocess.run(
                    command, cwd=self.project, env=env, capture_output=True, text=True, timeout=120
                )
            )
            pairs = [line.split(" = ", 1) for line in printed.splitlines() if " = " in line]
            resolved = {name.strip(): value.strip() for name, value in pairs}
            self._configurations[key] = {name: _value(resolved[name]) for name in CONFIGURATION}
        return self._configurations[key]

    @contextlib.contextmanager
    def server(
        self, spec: ServerSpec, cpus: list[int] | None = None, **env: str
    ) -> Iterator[tuple[Server, dict | None]]:
        """A ready server (pinned to `cpus`, by default the servers' CPUs) and its resolved
        configuration; always stopped."""
        self.check_time()
        cpus = self.pinning.server if cpus is None else cpus
        env = {**self.env, **spec.env, **env}
        configuration = self.configuration(spec, cpus, env)
        self.started += 1
        log = self.logs / f"{self.started:03d}-{spec.key}.log"
        server = Server(self.command(spec, cpus), self.project, env, log, label=spec.label)
        try:
            server.wait_ready(configuration["workers"] if configuration else None)
            yield server, configuration
        finally:
            server.stop()
            _trim(log)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(
                f"the run took longer than its budget of {self.mode.budget_minutes:g} minutes "
                "(--budget-minutes): stopped"
            )

    # --- URLs ----------------------------------------------------------------------------------

    def static_path(self, server: Server) -> str:
        """The hashed stylesheet the home page links to."""
        response = get(server.port, "/")
        link = re.search(rb'href="(/static/[^"]+\.css)"', response.body)
        if response.status != 200 or not link:
            raise load.LoadFailed(f"GET / answered {response.status} without a stylesheet link")
        return link[1].decode()

    def verify(self, server: Server, paths: list[str]) -> dict[str, dict]:
        """Each path answers 200 (else the run stops); for each, its status and headers,
        and who served it."""
        checks = {}
        for path in paths:
            response = get(server.port, path)
            status, headers = response.status, response.headers
            checks[path] = {
                "status": status,
                "bytes": len(response.body),
                "cache_control": headers.get("Cache-Control", ""),
                "served_by": served_by(status, headers) if "/static/" in path else "Django",
                "framing": framing(headers),
            }
            if status != 200:
                raise load.LoadFailed(f"{server.label}: GET {path} answered {status}")
        return checks

    def warm_up(self, server: Server, paths: list[str]) -> None:
        """Every worker has imported, compiled and cached what the paths need."""
        for path in paths:
            if self.mode.warmup:
                self.wrk(server, path, 16, self.mode.warmup)
            else:
                for _ in range(20):
                    get(server.port, path)

    # --- load ----------------------------------------------------------------------------------

    def wrk(
        self, server: Server, path: str, connections: int, duration: int, pace_ms: int = 0
    ) -> load.WrkResult:
        self.check_time()
        script = load.write_script(self.workdir, pace_ms) if pace_ms else self.script
        argv = load.command(
            self.wrk_path,
            server.port,
            path,
            connections=connections,
            duration=duration,
            timeout=WRK_TIMEOUT,
            script=script,
            prefix=taskset(self.pinning.client),
        )
        return load.run(argv, duration, WRK_TIMEOUT)

    def measure(
        self,
        server: Server,
        path: str,
        connections: int,
        duration: int,
        pace_ms: int = 0,
        close_delimited: bool = False,
    ) -> tuple[dict, RssSampler]:
        """One run of one point: wrk's figures and the server's peak memory during it."""
        with RssSampler(server) as sampler:
            result = self.wrk(server, path, connections, duration, pace_ms)
        run = result.to_json(close_delimited)
        run["rss_peak_mib"] = sampler.peak_total_mib()
        run["load_1min"] = round(os.getloadavg()[0], 2)  # was anything else running?
        return run, sampler


def framing(headers: dict[str, str]) -> str:
    """How a response's body ends: Content-Length, chunks, or the connection's close."""
    if "Content-Length" in headers:
        return "content-length"
    if "chunked" in headers.get("Transfer-Encoding", ""):
        return "chunked"
    return "close"


def served_by(status: int, headers: dict[str, str]) -> str:
    """Who answered a static file, from its headers: WhiteNoise marks hashed files immutable;
    django.contrib.staticfiles' view (runserver's own static handling) does not."""
    if status != 200:
        return f"nobody: status {status}"
    if headers.get("Cache-Control") == IMMUTABLE:
        return "WhiteNoise middleware (Cache-Control: immutable)"
    return f"not WhiteNoise (Cache-Control: {headers.get('Cache-Control')!r})"


def restarts(server: Server) -> dict[str, int]:
    """Workers booted (the first ones included), and recycling announcements, from the log."""
    text = server.log()
    return {
        "workers_booted": text.count("Booting worker with pid"),
        "recycled": text.count("Autorestarting worker after current request"),
    }


def idle_rss_mib(server: Server) -> float:
    return round(sum(server.rss(master=True).values()) / MIB, 1)


def _value(text: str) -> int | bool | str | None:
    """A value of `--print-config` (its str()) back as data."""
    if text.isdigit():
        return int(text)
    return {"True": True, "False": False, "None": None}.get(text, text)


def say(text: str) -> None:
    print(text, flush=True)


def _trim(log: Path, keep: int = 200) -> None:
    """A server's log keeps its first and last lines: access logs of a long run are large."""
    with contextlib.suppress(OSError):
        if log.stat().st_size > 1 << 20:
            lines = log.read_text(errors="replace").splitlines()
            cut = len(lines) - 2 * keep
            log.write_text("\n".join([*lines[:keep], f"... {cut} lines cut ...", *lines[-keep:]]))
