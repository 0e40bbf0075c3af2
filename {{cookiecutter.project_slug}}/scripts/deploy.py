"""Deploy an image of this project on a Docker host, with a readiness gate and rollback.

    python3 scripts/deploy.py IMAGE        deploy IMAGE (e.g. ghcr.io/owner/repo:<commit sha>)
    python3 scripts/deploy.py --rollback   deploy the image that ran before the current one

Runs in the project folder on the host (compose.yaml, compose.deploy.yaml, .env), with only
Python 3.10+ and Docker Compose v2. Steps, each timed:

1. pull IMAGE, unless the engine already has it (a commit-SHA tag never changes; --pull always
   for tags that move);
2. run the one-shot `migrate` service with IMAGE (starts the database first if needed);
3. canary: start IMAGE as a second `web` container that takes no traffic and wait for its
   /readyz, so a broken image is rejected while the current one keeps serving (--no-canary
   skips this on hosts too small for two web containers);
4. swap: the one-shot `static` copies IMAGE's static files to the proxy's volume, then
   `docker compose up -d web proxy` replaces the web container (and starts the proxy on a
   first deploy). The proxy holds requests while the new gunicorn starts: none fails;
5. wait for /readyz through the proxy; if it does not pass within --timeout, put the previous
   image back (its static files too) and exit non-zero.

Migrations are not rolled back: each release's migrations must work with the previous release's
code (add first, remove a release later). Records, next to compose.yaml: .deploy/current and
.deploy/previous (one image reference each) and .deploy/history.jsonl (one line per attempt).
Exit status: 0 deployed; 1 not deployed, the previous image still serves; 2 bad usage;
3 not deployed and the rollback failed too, so the site may be down.
"""

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
RECORDS = PROJECT_DIR / ".deploy"
COMPOSE_FILES = ("compose.yaml", "compose.deploy.yaml")
CONTAINER_PORT = "8000"  # the port gunicorn listens on inside the container (compose.yaml)
PROXY_PORT = "80"  # the proxy's plain-HTTP port inside its container (compose.yaml)
ANY_ADDRESS = {"0.0.0.0", "::", "[::]", ""}  # noqa: S104  (published everywhere: ask loopback)
LOGS_SHOWN = 30  # lines of a failed container's log printed with the reason
# Longer than the database pool's wait (DATABASE_POOL_TIMEOUT, 10 s), so a /readyz that waits
# for an unreachable database still answers with its reason.
PROBE_TIMEOUT = 12

# Asks /readyz from inside a container (no curl there): `python -c PROBE URL TIMEOUT`.
PROBE = """
import sys, urllib.error, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    opener.open(sys.argv[1], timeout=float(sys.argv[2]))
except urllib.error.HTTPError as error:
    sys.exit(f"HTTP {error.code} {error.read()[:200].decode(errors='replace')}")
except OSError as error:
    sys.exit(str(error))
"""


class DeployError(Exception):
    """A step failed: the message says which and why."""


class RollbackFailed(DeployError):
    """The new image failed and the previous one could not be brought back either."""


def log(message: str) -> None:
    print(f"[deploy {time.strftime('%H:%M:%S')}] {message}", flush=True)


class Host:
    """Docker and Compose on this host, for this project."""

    def __init__(self, timeout: float):
        for name in (*COMPOSE_FILES, ".env"):
            if not (PROJECT_DIR / name).is_file():
                raise DeployError(f"{PROJECT_DIR / name} is missing (docs/deploying.md)")
        docker = shutil.which("docker")
        if docker is None:
            raise DeployError("the docker CLI is not on the PATH")
        self.docker = docker
        self.timeout = timeout

    def run(self, *args: str, image: str | None = None, quiet: bool = False):
        """docker ARGS; `image` is what compose.deploy.yaml's ${WEB_IMAGE} means for this call."""
        env = {**os.environ, "WEB_IMAGE": image or os.environ.get("WEB_IMAGE", "none")}
        output = subprocess.PIPE if quiet else None
        return subprocess.run(
            [self.docker, *args],
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.DEVNULL,  # never read what ssh or CI hands this script
            stdout=output,
            stderr=output,
            text=True,
            check=False,
        )

    def compose(self, *args: str, image: str | None = None, quiet: bool = False):
        files = [arg for name in COMPOSE_FILES for arg in ("-f", name)]
        return self.run("compose", *files, *args, image=image, quiet=quiet)

    def inspect(self, container: str) -> dict:
        result = self.run("container", "inspect", container, quiet=True)
        return json.loads(result.stdout)[0] if result.returncode == 0 else {}

    def web_container(self) -> str:
        """The ID of the running `web` container, or ""."""
        found = self.compose("ps", "--quiet", "--status", "running", "web", quiet=True)
        return found.stdout.split()[0] if found.stdout.split() else ""

    def running_image(self) -> str:
        container = self.web_container()
        return self.inspect(container).get("Config", {}).get("Image", "") if container else ""

    def has_image(self, image: str) -> bool:
        return self.run("image", "inspect", image, quiet=True).returncode == 0

    def logs(self, container: str) -> str:
        result = self.run("logs", "--tail", str(LOGS_SHOWN), container, quiet=True)
        return (result.stdout + result.stderr).strip()

    def wait_ready(self, container: str, url: str | None) -> str | None:
        """Poll /readyz until it answers 200 (None), or say why it did not within --timeout.

        `url` is the published address; without one, ask from inside the container.
        """
        deadline = time.monotonic() + self.timeout
        while True:
            state = self.inspect(container).get("State", {}).get("Status", "gone")
            if state not in {"running", "created"}:
                reason = f"the container is {state}"
                break
            reason = probe_url(url) if url else self.probe_inside(container)
            if reason is None:
                return None
            if time.monotonic() >= deadline:
                reason = f"/readyz did not pass within {self.timeout:.0f} s: {reason}"
                break
            time.sleep(0.5)
        return f"{reason}\n--- the last lines of its log:\n{self.logs(container)}"

    def probe_inside(self, container: str) -> str | None:
        url = f"http://127.0.0.1:{CONTAINER_PORT}/readyz"
        result = self.run(
            "exec", container, "python", "-c", PROBE, url, str(PROBE_TIMEOUT), quiet=True
        )
        return None if result.returncode == 0 else (result.stderr.strip() or "not ready")

    def published_readyz(self) -> str | None:
        """http://host:port/readyz as users reach web (through the proxy), or None when the
        proxy publishes no port."""
        address = self.compose("port", "proxy", PROXY_PORT, quiet=True).stdout.strip()
        if not address:
            return None
        host, port = address.rsplit(":", 1)
        return f"http://{'127.0.0.1' if host in ANY_ADDRESS else host}:{port}/readyz"


def probe_url(url: str) -> str | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=PROBE_TIMEOUT):
            return None
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code} {error.read()[:200].decode(errors='replace')}"
    except OSError as error:
        return str(error)


class Deploy:
    def __init__(self, host: Host, image: str, canary: bool, pull: str):
        self.host = host
        self.image = image
        self.canary = canary
        self.pull_policy = pull
        self.started = time.monotonic()
        self.seconds: dict[str, float] = {}
        self.previous = host.running_image() or read_record("current")

    def step(self, name: str, since: float) -> None:
        self.seconds[name] = round(time.monotonic() - since, 2)
        log(f"{name}: {self.seconds[name]:.1f} s")

    def run(self) -> None:
        log(f"deploying {self.image} (running now: {self.previous or 'nothing'})")
        self.pull()
        self.migrate()
        if self.canary and self.previous and self.previous != self.image:
            self.check_candidate()
        self.swap()

    def pull(self) -> None:
        since = time.monotonic()
        if self.pull_policy == "missing" and self.host.has_image(self.image):
            log(f"{self.image} is already on this host: not pulled")
        elif self.host.run("pull", self.image).returncode != 0:
            raise DeployError(f"could not pull {self.image}")
        self.step("pull", since)

    def migrate(self) -> None:
        since = time.monotonic()
        result = self.host.compose("run", "--rm", "migrate", image=self.image)
        if result.returncode != 0:
            raise DeployError(f"migrate failed (exit {result.returncode}); see its output above")
        self.step("migrate", since)

    def check_candidate(self) -> None:
        """Start the new image beside the running one, unpublished, and wait for /readyz."""
        since = time.monotonic()
        # `run` publishes no port, so the candidate takes no traffic; it prints its ID.
        started = self.host.compose(
            "run", "--detach", "--no-deps", "web", image=self.image, quiet=True
        )
        if started.returncode != 0:
            raise DeployError(f"could not start the new image: {started.stderr.strip()}")
        candidate = started.stdout.split()[-1]
        try:
            reason = self.host.wait_ready(candidate, url=None)
        finally:
            self.host.run("rm", "--force", "--volumes", candidate, quiet=True)
        if reason:
            raise DeployError(f"the new image is not ready, so web was left alone: {reason}")
        self.step("candidate", since)

    def swap(self) -> None:
        since = time.monotonic()
        reason = self.switch_to(self.image)
        if reason is None:
            self.step("swap", since)
            return
        self.step("swap", since)
        if not self.previous or self.previous == self.image:
            raise DeployError(f"web is not ready and there is no previous image: {reason}")
        log(f"web is not ready on {self.image}; rolling back to {self.previous}")
        since = time.monotonic()
        rollback_reason = self.switch_to(self.previous)
        self.step("rollback", since)
        if rollback_reason:
            raise RollbackFailed(f"{reason}\nand the rollback failed too: {rollback_reason}")
        raise DeployError(f"rolled back to {self.previous}: {reason}")

    def switch_to(self, image: str) -> str | None:
        """Serve `image`'s static files and run web on it; None once it is ready, else why."""
        copied = self.host.compose("run", "--rm", "--no-deps", "static", image=image)
        if copied.returncode != 0:
            return f"copying the static files failed (exit {copied.returncode})"
        result = self.host.compose("up", "--detach", "--no-deps", "web", "proxy", image=image)
        if result.returncode != 0:
            return f"docker compose up failed (exit {result.returncode})"
        container = self.host.web_container()
        if not container:
            return "web is not running after docker compose up"
        return self.host.wait_ready(container, self.host.published_readyz())

    def record(self, outcome: str, reason: str = "") -> None:
        self.seconds["total"] = round(time.monotonic() - self.started, 2)
        RECORDS.mkdir(exist_ok=True)
        if outcome == "deployed":
            if self.previous and self.previous != self.image:
                write_record("previous", self.previous)
            write_record("current", self.image)
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "image": self.image,
            "previous": self.previous,
            "outcome": outcome,
            "reason": reason,
            "seconds": self.seconds,
        }
        with (RECORDS / "history.jsonl").open("a", encoding="utf-8") as history:
            history.write(json.dumps(entry) + "\n")


def read_record(name: str) -> str:
    path = RECORDS / name
    return path.read_text(encoding="utf-8").strip() if path.exists() else ""


def write_record(name: str, value: str) -> None:
    temporary = RECORDS / f".{name}.tmp"
    temporary.write_text(value + "\n", encoding="utf-8")
    temporary.replace(RECORDS / name)  # atomic: a reader never sees half a file


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("image", nargs="?", help="image reference to deploy")
    target.add_argument(
        "--rollback", action="store_true", help="deploy the image in .deploy/previous"
    )
    parser.add_argument(
        "--timeout", type=float, default=120, help="seconds to wait for /readyz (default 120)"
    )
    parser.add_argument(
        "--no-canary", dest="canary", action="store_false", help="skip the canary container"
    )
    parser.add_argument(
        "--pull",
        choices=["missing", "always"],
        default="missing",
        help="pull the image only when the host lacks it (default), or always",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(argv)
    RECORDS.mkdir(exist_ok=True)
    with (RECORDS / "lock").open("w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log("another deploy is running on this host; waiting for it")
            fcntl.flock(lock, fcntl.LOCK_EX)
        image = options.image or read_record("previous")  # read under the lock
        try:
            if not image:
                raise DeployError("nothing to roll back to: .deploy/previous is empty")
            deploy = Deploy(Host(options.timeout), image, options.canary, options.pull)
        except DeployError as error:
            print(f"deploy: {error}", file=sys.stderr)
            return 2
        try:
            deploy.run()
        except DeployError as error:
            deploy.record("failed", str(error))
            log(f"FAILED after {deploy.seconds['total']:.1f} s: {error}")
            return 3 if isinstance(error, RollbackFailed) else 1
        deploy.record("deployed")
        log(f"deployed {image} in {deploy.seconds['total']:.1f} s")
        return 0


if __name__ == "__main__":
    sys.exit(main())
