"""A server process of a generated project (gunicorn's master, or runserver) and everything it
forks: started on a free loopback port, waited for, inspected, and stopped by PID."""

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil

from support.client import HOST, free_port, healthy

_running: list["Server"] = []  # every server started by this process, for stop_all()


class ServerFailed(Exception):
    pass


class Server:
    """Started at once on a free port: GUNICORN_BIND is set (unless `env` has it), "{port}" in
    the command filled in. Its output goes to a file, never to a pipe nobody reads (a full
    pipe blocks it), and it leads a process group of its own."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str], log: Path, label=""):
        self.port = free_port()
        self.label = label or Path(command[0]).name
        self.command = [part.replace("{port}", str(self.port)) for part in command]
        self.log_path = log
        env = {"GUNICORN_BIND": f"{HOST}:{self.port}", **env}  # unless the caller binds it
        with log.open("wb") as output:
            self.process = subprocess.Popen(
                self.command,
                cwd=cwd,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid = self.process.pid
        self.master = psutil.Process(self.pid)
        _running.append(self)

    # --- state ---------------------------------------------------------------------------

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def exited(self) -> bool:
        return self.process.poll() is not None

    def worker_pids(self) -> set[int]:
        """The master's live children: gunicorn's workers (zombies excluded). Read from
        /proc/PID/task/PID/children, cheap enough to poll every few milliseconds under load,
        where psutil would scan all of /proc each time."""
        try:
            children = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
        except OSError:
            return set()
        return {int(pid) for pid in children if _running_pid(int(pid))}

    def rss(self, master: bool = False) -> dict[int, int]:
        """Resident memory in bytes of each worker (and of the master, if asked)."""
        sizes = {}
        for pid in ({self.pid} if master else set()) | self.worker_pids():
            with contextlib.suppress(psutil.Error):
                sizes[pid] = psutil.Process(pid).memory_info().rss
        return sizes

    def pss_total(self) -> int:
        """Proportional set size of the master and workers: shared pages counted once."""
        total = 0
        for pid in [self.pid, *self.worker_pids()]:
            with contextlib.suppress(psutil.Error, AttributeError):
                total += psutil.Process(pid).memory_full_info().pss
        return total

    # --- waiting -------------------------------------------------------------------------

    def wait_ready(self, workers: int | None = None, timeout: float = 60) -> "Server":
        """Until /healthz answers 200 and (if given) `workers` workers are up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exited():
                code = self.process.returncode
                raise ServerFailed(f"{self.label} exited {code}:\n{self.log_tail()}")
            if healthy(self.port) and (workers is None or len(self.worker_pids()) == workers):
                return self
            time.sleep(0.05)
        raise ServerFailed(f"{self.label} not ready in {timeout} s:\n{self.log_tail()}")

    def wait_for_replacements(
        self, known: set[int], count: int, timeout: float, new: int = 1
    ) -> set[int]:
        """Until `count` workers are alive, at least `new` of them not in `known`: returns the
        new ones (an empty set if that did not happen within `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == count and len(pids - known) >= new:
                return pids - known
            time.sleep(0.002)
        return set()

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    # --- ending --------------------------------------------------------------------------

    def send(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def stop(self, grace: float = 15) -> None:
        """SIGTERM (a graceful stop) and `grace` seconds to exit, then kill()."""
        if not self.exited():
            self.send(signal.SIGTERM)
            self.wait_exit(grace)
        self.kill()

    def kill(self) -> None:
        """SIGKILL the master and everything it forked, by PID, whatever state they are in.
        The master is stopped first, so that it forks no replacement meanwhile; the process
        group it leads catches a worker orphaned before that."""
        if not self.exited():
            with contextlib.suppress(psutil.Error):
                self.master.suspend()
                for child in self.master.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        child.kill()
            self.process.kill()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        if self in _running:
            _running.remove(self)


def stop_all() -> None:
    """Kill every server this process started and has not stopped (after an error)."""
    for server in list(_running):
        with contextlib.suppress(Exception):
            server.kill()


def _running_pid(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"  # the state follows "(command)"
