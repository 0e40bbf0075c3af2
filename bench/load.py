"""The load generator: wrk, written in C (one thread, an event loop), so that the client is not
the bottleneck. A small Lua script makes wrk print its own summary as one JSON line."""

import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from support.client import HOST, PROXY_HEADERS

MARKER = "BENCH_JSON "
INSTALL_HINT = (
    "Install it and run again: `sudo apt-get install wrk` (Debian, Ubuntu), "
    "`sudo dnf install wrk` (Fedora), `brew install wrk` (macOS)."
)
SUMMARY_LUA = """\
-- Written by bench/load.py. done() runs once, after the run: wrk's own counters as JSON.
%(pacing)s
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%(marker)s{"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect": %%d, ' ..
    '"read": %%d, "write": %%d, "timeout": %%d, "non2xx": %%d, "p50_us": %%d, ' ..
    '"p90_us": %%d, "p99_us": %%d, "max_us": %%d, "mean_us": %%.1f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.timeout, e.status, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
"""
# delay() makes each connection wait before its next request: a paced, not a flat-out, load.
PACING_LUA = "delay = function() return %d end"


class LoadFailed(Exception):
    pass


def ensure_wrk() -> str:
    """wrk's path; installs Debian's package when missing and this process is root."""
    found = shutil.which("wrk")
    if found:
        return found
    apt_get = shutil.which("apt-get")
    if apt_get and os.geteuid() == 0:
        print(
            "wrk, the load generator (written in C), is not installed: installing Debian's "
            "package with `apt-get install -y wrk`.",
            flush=True,
        )
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in ([apt_get, "update", "-qq"], [apt_get, "install", "-y", "-qq", "wrk"]):
            subprocess.run(command, env=env, timeout=600, check=False, stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
        if found:
            return found
        raise SystemExit(f"ERROR: installing wrk with apt-get failed. {INSTALL_HINT}")
    raise SystemExit(f"ERROR: wrk, the load generator, is not installed. {INSTALL_HINT}")


def write_script(folder: Path, pace_ms: int = 0) -> Path:
    """The Lua script; with pace_ms, each connection also waits that long between requests
    (wrk then paces every request through a timer, so flat-out runs go without it)."""
    pacing = PACING_LUA % pace_ms if pace_ms else ""
    path = folder / (f"wrk-paced-{pace_ms}ms.lua" if pace_ms else "wrk-summary.lua")
    path.write_text(SUMMARY_LUA % {"pacing": pacing, "marker": MARKER})
    return path


@dataclass
class WrkResult:
    requests: int
    seconds: float
    bytes: int
    connect: int  # socket errors, by kind
    read: int
    write: int
    timeout: int
    non2xx: int  # answers with a status >= 400 (wrk's "Non-2xx or 3xx responses")
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def to_json(self, close_delimited: bool = False) -> dict:
        """The figures; `close_delimited`: the server ends each response by closing the
        connection (no Content-Length, no chunks). wrk then counts every such close, after a
        complete response, as a read error too: those are moved to `closes`."""
        closes = min(self.read, self.requests) if close_delimited else 0
        read = self.read - closes
        return {
            **asdict(self),
            "read": read,
            "read_raw": self.read,
            "closes": closes,
            "rps": round(self.rps, 1),
            "socket_errors": self.connect + read + self.write + self.timeout,
        }


def parse(output: str) -> WrkResult:
    """wrk's output with the summary line of SUMMARY_LUA in it."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            break
    else:
        raise LoadFailed(f"no summary line in wrk's output:\n{output}")
    ms = {name: round(data[f"{name}_us"] / 1000, 3) for name in ("p50", "p90", "p99", "max")}
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1_000_000,
        bytes=data["bytes"],
        connect=data["connect"],
        read=data["read"],
        write=data["write"],
        timeout=data["timeout"],
        non2xx=data["non2xx"],
        p50_ms=ms["p50"],
        p90_ms=ms["p90"],
        p99_ms=ms["p99"],
        max_ms=ms["max"],
        mean_ms=round(data["mean_us"] / 1000, 3),
    )


def command(
    wrk: str,
    port: int,
    path: str,
    *,
    connections: int,
    duration: int,
    timeout: int,
    script: Path,
    prefix: list[str],
) -> list[str]:
    headers = [
        part for name, value in PROXY_HEADERS.items() for part in ("-H", f"{name}: {value}")
    ]
    return [
        *prefix,
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        f"--timeout={timeout}s",
        "--latency",
        *headers,
        "-s",
        str(script),
        f"http://{HOST}:{port}{path}",
    ]


def run(argv: list[str], duration: int, timeout: int) -> WrkResult:
    """Runs wrk to its end; bounded: killed if it outlives its duration by far."""
    try:
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=duration + timeout + 30, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise LoadFailed(f"wrk did not finish: {' '.join(argv)}") from error
    if result.returncode != 0:
        raise LoadFailed(f"wrk failed ({result.returncode}): {result.stdout}{result.stderr}")
    return parse(result.stdout)
