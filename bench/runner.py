"""What every measurement shares: starting a server of the project from a spec, with the
settings it will run with as gunicorn resolves them; checking that it answers each URL with
200, warming it up, and measuring one point (wrk while the server's memory is sampled). It also
holds the run's time budget."""

import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench import caddy, load
from bench.machine import Pinning, taskset
from bench.plan import (
    CONFIGURATION,
    PEERS_WORKERS,
    PINNED,
    UNPINNED,
    WRK_TIMEOUT,
    Mode,
    ServerSpec,
)
from bench.project import python_of
from bench.sampling import MIB, RssSampler, cpu_seconds
from support.client import HOST, IMMUTABLE, get
from support.environment import PLAIN_HTTP
from support.generate import succeeded
from support.server import Server, ServerFailed

# Kept out of the peers' environment: every variable gunicorn.conf.py or gunicorn reads.
PEERS_OUT = ("GUNICORN_", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "PORT", "SENDFILE")


class BudgetExceeded(Exception):
    pass


class Stack:
    """Caddy in front of gunicorn, measured as one server: the port is Caddy's; memory and CPU
    are both processes' (and gunicorn's workers'); the log and the workers are gunicorn's."""

    def __init__(self, front: Server, back: Server, label: str):
        self.front, self.back, self.label = front, back, label
        self.port, self.pid = front.port, front.pid
        self.command = [*front.command, "->", *back.command]

    @property
    def parts(self) -> dict[str, Server]:
        return {"caddy": self.front, "gunicorn": self.back}

    def rss(self, master: bool = False) -> dict[int, int]:
        return {**self.front.rss(master=True), **self.back.rss(master=True)}

    def pss_total(self) -> int:
        return self.front.pss_total() + self.back.pss_total()

    def worker_pids(self) -> set[int]:
        return self.back.worker_pids()

    def log(self) -> str:
        return self.back.log()


def parts(target: "Server | Stack") -> dict[str, Server]:
    """The processes (each with what it forked) whose CPU time a measurement counts."""
    return target.parts if isinstance(target, Stack) else {"server": target}


@dataclass
class Runner:
    project: Path
    workdir: Path
    env: dict[str, str]
    pinning: Pinning
    mode: Mode
    wrk_path: str
    deadline: float  # time.monotonic() past which the run stops
    caddy: str = ""  # caddy's binary, for the proxy tier and the static floor
    web_env: dict[str, str] = field(default_factory=dict)  # compose.yaml's, for the proxy tier
    _configurations: dict[tuple, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.logs = self.workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.script = load.write_script(self.workdir)
        self.started = 0
        self.empty_config = self.workdir / "gunicorn-empty.conf.py"
        self.empty_config.write_text("# Empty: gunicorn's own defaults (bench, the peers).\n")
        self.static_root = Path(self.env["DJANGO_STATIC_ROOT"])

    # --- where things run ----------------------------------------------------------------------

    def placements(self) -> list[tuple[str, list[int] | None, list[int] | None]]:
        """(name, the servers' CPUs, the client's CPUs): unpinned, every CPU for both (named,
        since this process and so its children are pinned); pinned, when pinning is on."""
        every = self.pinning.every if self.pinning.server else None
        placements = [(UNPINNED, every, every)]
        if self.pinning.server:
            placements.append((PINNED, self.pinning.server, self.pinning.client))
        return placements

    # --- servers -------------------------------------------------------------------------------

    def command(self, spec: ServerSpec, cpus: list[int] | None) -> list[str]:
        python = python_of(self.project)
        if spec.kind == "runserver":
            # --noreload: one process, no autoreloader parent; {port} is filled in by Server.
            server = [python, "manage.py", "runserver", "--noreload", "--insecure"]
            return [*taskset(cpus), *server, "127.0.0.1:{port}"]
        gunicorn = str(Path(python).with_name("gunicorn"))
        if spec.kind == "peers":
            # support.server.Server sets GUNICORN_BIND, which only gunicorn.conf.py reads:
            # `env -u` (which execs, one process) keeps even that out of the peers' environment.
            peers = [gunicorn, "-w", str(PEERS_WORKERS), "--config", str(self.empty_config)]
            return [
                *taskset(cpus),
                "env",
                "-u",
                "GUNICORN_BIND",
                *peers,
                "--bind",
                "127.0.0.1:{port}",
                "config.wsgi:application",
            ]
        if spec.kind == "caddy":
            floor, _ = caddy.floor_caddyfile(self.workdir, self.static_root)
            run = [self.caddy, "run", "--config", str(floor), "--adapter", "caddyfile"]
            return [*taskset(cpus), "env", "BENCH_PORT={port}", *run]
        # gunicorn, and the proxy's gunicorn: plain `gunicorn`, reading gunicorn.conf.py.
        app = [spec.app] if spec.app else []
        return [*taskset(cpus), gunicorn, "--config", "gunicorn.conf.py", *app]

    def environment(self, spec: ServerSpec, **env: str) -> dict[str, str]:
        if spec.kind == "peers":
            # support.environment keeps out the caller's GUNICORN_*, not its GUNICORN_LOG_LEVEL.
            base = {
                name: value
                for name, value in self.env.items()
                if not name.startswith(PEERS_OUT) and name not in PEERS_OUT
            }
            # gunicorn's default control socket would go to ~/.gunicorn: the workdir instead.
            runtime = self.workdir / "peers-runtime"
            runtime.mkdir(exist_ok=True)
            return {**base, "XDG_RUNTIME_DIR": str(runtime), **env}
        if spec.kind == "proxy":
            # Caddy listens on plain HTTP and sets X-Forwarded-Proto to http: what .env.example
            # sets for plain HTTP (SITE_ADDRESS=http://), or Django redirects every page.
            return {**self.env, **self.web_env, **PLAIN_HTTP, **spec.env, **env}
        if spec.kind == "runserver":
            # Django trusts no X-Forwarded-Proto itself (only gunicorn does, from the proxies of
            # FORWARDED_ALLOW_IPS): runserver serves plain HTTP, with .env.example's settings.
            return {**self.env, **PLAIN_HTTP, **spec.env, **env}
        return {**self.env, **spec.env, **env}

    def configuration(self, spec: ServerSpec, cpus: list[int] | None, env: dict) -> dict | None:
        """gunicorn's own resolved settings for this server (`--print-config`, run on the same
        CPUs with the same environment), as data; None for runserver and Caddy alone."""
        if spec.kind in ("runserver", "caddy"):
            return None
        key = (spec.key, tuple(cpus or ()), tuple(sorted(env.items())))
        if key not in self._configurations:
            command = [*self._gunicorn_command(spec, cpus), "--print-config"]
            printed = succeeded(
                subprocess.run(
                    command, cwd=self.project, env=env, capture_output=True, text=True, timeout=120
                )
            )
            pairs = [line.split(" = ", 1) for line in printed.splitlines() if " = " in line]
            resolved = {name.strip(): value.strip() for name, value in pairs}
            self._configurations[key] = {name: _value(resolved[name]) for name in CONFIGURATION}
        return self._configurations[key]

    def _gunicorn_command(self, spec: ServerSpec, cpus: list[int] | None) -> list[str]:
        gunicorn_spec = replace(spec, kind="gunicorn") if spec.kind == "proxy" else spec
        return self.command(gunicorn_spec, cpus)

    @contextlib.contextmanager
    def server(
        self, spec: ServerSpec, cpus: list[int] | None = None, **env: str
    ) -> Iterator[tuple["Server | Stack", dict | None]]:
        """A ready server (pinned to `cpus`, by default the servers' CPUs) and its resolved
        configuration; always stopped."""
        self.check_time()
        cpus = self.pinning.server if cpus is None else cpus
        env = self.environment(spec, **env)
        configuration = self.configuration(spec, cpus, env)
        with contextlib.ExitStack() as stack:
            if spec.kind == "caddy":
                server = stack.enter_context(self._process(spec, cpus, self._caddy_env()))
                _wait_answers(server, self.static_file())
            elif spec.kind == "proxy":
                back_spec = replace(spec, kind="gunicorn", label=f"{spec.label}: gunicorn")
                back = stack.enter_context(self._process(back_spec, cpus, env))
                back.wait_ready(configuration["workers"])
                front_env = self._caddy_env(
                    PROXY_UPSTREAM=f"{HOST}:{back.port}",
                    PROXY_ADMIN="off",  # no admin endpoint: runs never clash on its port
                )
                # The project's own Caddyfile, as generated; SITE_ADDRESS names Caddy's port.
                run = [self.caddy, "run", "--config", "Caddyfile", "--adapter", "caddyfile"]
                front_command = [*taskset(cpus), "env", "SITE_ADDRESS=http://:{port}", *run]
                front_spec = replace(spec, kind="caddy", label=f"{spec.label}: caddy")
                front = stack.enter_context(
                    self._process(front_spec, cpus, front_env, command=front_command)
                )
                front.wait_ready()
                server = Stack(front, back, spec.label)
            else:
                server = stack.enter_context(self._process(spec, cpus, env))
                server.wait_ready(configuration["workers"] if configuration else None)
            yield server, configuration

    @contextlib.contextmanager
    def _process(
        self, spec: ServerSpec, cpus, env: dict[str, str], command: list[str] | None = None
    ) -> Iterator[Server]:
        self.started += 1
        log = self.logs / f"{self.started:03d}-{spec.key}-{spec.kind}.log"
        command = command or self.command(spec, cpus)
        server = Server(command, self.project, env, log, label=spec.label)
        try:
            yield server
        finally:
            server.stop()
            _trim(log)

    def _caddy_env(self, **variables: str) -> dict[str, str]:
        """Caddy's environment: PROXY_ROOT holds static/, the collected files, for the floor's
        Caddyfile and the project's alike."""
        _, root = caddy.floor_caddyfile(self.workdir, self.static_root)
        return caddy.caddy_environment(self.workdir, PROXY_ROOT=str(root), **variables)

    def static_file(self) -> str:
        """The hashed stylesheet the home page links to, from the manifest collectstatic
        wrote: for a server that has no home page (Caddy alone)."""
        manifest = json.loads((self.static_root / "staticfiles.json").read_text())
        names = [name for name in manifest["paths"] if name.endswith("css/site.css")]
        return "/static/" + manifest["paths"][(names or sorted(manifest["paths"]))[0]]

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(
                f"the run took longer than its budget of {self.mode.budget_minutes:g} minutes "
                "(--budget-minutes): stopped"
            )

    # --- URLs ----------------------------------------------------------------------------------

    def verify(self, server: Server, paths: list[str]) -> dict[str, dict]:
        """Each path answers 200 (else the run stops); for each, its status and headers,
        and who served it."""
        checks = {}
        who = "WSGI hello app" if "support_wsgi" in " ".join(server.command) else "Django"
        for path in paths:
            response = get(server.port, path)
            status, headers = response.status, response.headers
            checks[path] = {
                "status": status,
                "bytes": len(response.body),
                "cache_control": headers.get("Cache-Control", ""),
                "served_by": served_by(status, headers, server) if "/static/" in path else who,
                "framing": framing(headers),
            }
            if status != 200:
                raise load.LoadFailed(f"{server.label}: GET {path} answered {status}")
        return checks

    def warm_up(
        self, server: Server, paths: list[str], client_cpus: list[int] | None = None
    ) -> None:
        """Every worker has imported, compiled and cached what the paths need."""
        for path in paths:
            if self.mode.warmup:
                self.wrk(server, path, 16, self.mode.warmup, client_cpus=client_cpus)
            else:
                for _ in range(20):
                    get(server.port, path)

    # --- load ----------------------------------------------------------------------------------

    def wrk(
        self,
        server: Server,
        path: str,
        connections: int,
        duration: int,
        pace_ms: int = 0,
        client_cpus: list[int] | None = None,
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
            prefix=taskset(self.pinning.client if client_cpus is None else client_cpus),
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
        client_cpus: list[int] | None = None,
    ) -> tuple[dict, RssSampler]:
        """One run of one point: wrk's figures, the server's peak memory during it, and the CPU
        time its processes used (master and workers; Caddy and gunicorn) per request served."""
        processes = parts(server)
        before = {name: cpu_seconds(part.pid) for name, part in processes.items()}
        with RssSampler(server) as sampler:
            result = self.wrk(server, path, connections, duration, pace_ms, client_cpus)
        used = {name: cpu_seconds(part.pid) - before[name] for name, part in processes.items()}
        run = result.to_json(close_delimited)
        run["rss_peak_mib"] = sampler.peak_total_mib()
        requests = max(result.requests, 1)
        run["cpu_ms"] = round(sum(used.values()) * 1000, 1)
        run["cpu_ms_per_request"] = round(sum(used.values()) * 1000 / requests, 4)
        if len(processes) > 1:
            run["cpu_ms_per_request_by_process"] = {
                name: round(seconds * 1000 / requests, 4) for name, seconds in used.items()
            }
        run["load_1min"] = round(os.getloadavg()[0], 2)  # was anything else running?
        return run, sampler


def framing(headers: dict[str, str]) -> str:
    """How a response's body ends: Content-Length, chunks, or the connection's close."""
    if "Content-Length" in headers:
        return "content-length"
    if "chunked" in headers.get("Transfer-Encoding", ""):
        return "chunked"
    return "close"


def served_by(status: int, headers: dict[str, str], server: "Server | Stack") -> str:
    """Who answered a static file, from its headers: WhiteNoise marks hashed files immutable;
    django.contrib.staticfiles' view (runserver's own static handling) does not. Caddy's
    file_server answers byte ranges, which WhiteNoise does not announce."""
    if status != 200:
        return f"nobody: status {status}"
    if headers.get("Accept-Ranges") == "bytes" and "caddy" in " ".join(server.command):
        marked = " (Cache-Control: immutable)" if headers.get("Cache-Control") == IMMUTABLE else ""
        return f"Caddy file_server{marked}"
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


def _wait_answers(server: Server, path: str, timeout: float = 30) -> None:
    """Until `path` answers 200: for a server without /healthz (Caddy alone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.exited():
            raise ServerFailed(f"{server.label} exited:\n{server.log_tail()}")
        with contextlib.suppress(OSError):
            if get(server.port, path, timeout=2).status == 200:
                return
        time.sleep(0.05)
    raise ServerFailed(f"{server.label}: {path} not answered in {timeout} s:\n{server.log_tail()}")


def say(text: str) -> None:
    print(text, flush=True)


def _trim(log: Path, keep: int = 200) -> None:
    """A server's log keeps its first and last lines: access logs of a long run are large."""
    with contextlib.suppress(OSError):
        if log.stat().st_size > 1 << 20:
            lines = log.read_text(errors="replace").splitlines()
            cut = len(lines) - 2 * keep
            log.write_text("\n".join([*lines[:keep], f"... {cut} lines cut ...", *lines[-keep:]]))
