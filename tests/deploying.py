"""Helpers of test_deploy.py: images that differ by version, and the light load that measures
what users see while scripts/deploy.py replaces `web`.

No registry can be reached here, so the "registry" is the local engine: every image is built and
tagged locally, and deploy.py pulls only what the engine lacks (its default), so these images
are used as they are.
"""

import collections
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import explain, run

VERSION_URL = "/static/version.txt"  # WhiteNoise serves every file under staticfiles/

# v3: gunicorn's settings point at a database host that does not exist, so /healthz passes and
# /readyz fails ("database unreachable"), while `manage.py migrate` still works. It stands for a
# release that needs a setting the host does not have yet.
UNREADY_SETTINGS = """\
import sys

from config.settings import *  # noqa: F403

if "gunicorn" in sys.argv[0]:
    DATABASES["default"]["HOST"] = "no-such-database-host"  # noqa: F405
"""

# A release whose migration fails: `migrate` exits 1 before web is touched.
FAILING_MIGRATION = """\
from django.db import migrations


def fail(apps, schema_editor):
    raise RuntimeError("this migration fails on purpose")


class Migration(migrations.Migration):
    operations = [migrations.RunPython(fail)]
"""


def build_variant(base: str, tag: str, folder: Path, files: dict[str, str], env: str = "") -> None:
    """`FROM base` + files under /app (+ ENV), built by the classic builder, tagged `tag`."""
    folder.mkdir(parents=True)
    lines = [f"FROM {base}"]
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
        (folder / name).chmod(0o644)  # readable by the image's user
        lines.append(f"COPY {name} /app/{name}")
    if env:
        lines.append(f"ENV {env}")
    (folder / "Dockerfile").write_text("\n".join(lines) + "\n")
    built = run(
        ["docker", "build", "--quiet", "--tag", tag, str(folder)], folder, DOCKER_BUILDKIT="0"
    )
    assert built.returncode == 0, explain(built)


@dataclass
class Load:
    """GET `url` every 20 ms from a thread while the `with` block runs, at most `limit` s."""

    url: str
    period: float = 0.02
    limit: float = 600
    samples: list[tuple[float, bool, str]] = field(default_factory=list)

    def __enter__(self) -> "Load":
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        time.sleep(0.5)  # a few requests after the deploy has returned
        self.stop.set()
        self.thread.join()

    def loop(self) -> None:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + self.limit
        while not self.stop.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            try:
                with opener.open(self.url, timeout=5) as response:
                    self.samples.append((started, True, response.read().decode().strip()))
            except OSError as error:  # refused, reset, timed out, or an HTTP error
                reason = getattr(error, "reason", error)  # what URLError wraps
                self.samples.append((started, False, type(reason).__name__))
            self.stop.wait(max(0.0, self.period - (time.monotonic() - started)))

    @property
    def failed(self) -> int:
        return sum(1 for _, ok, _ in self.samples if not ok)

    @property
    def longest_gap(self) -> float:
        """The longest time between two successful responses: what a user waited at worst."""
        times = [at for at, ok, _ in self.samples if ok]
        return max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)

    @property
    def served(self) -> dict[str, int]:
        return dict(collections.Counter(body for _, ok, body in self.samples if ok))

    @property
    def failures(self) -> dict[str, int]:
        return dict(collections.Counter(kind for _, ok, kind in self.samples if not ok))

    @property
    def last_version(self) -> str:
        return next((body for _, ok, body in reversed(self.samples) if ok), "")

    def report(self) -> str:
        return (
            f"{self.failed} of {len(self.samples)} requests failed {self.failures or ''}, "
            f"longest gap {self.longest_gap:.2f} s, served {self.served}"
        )


def environment(name: str, port: int) -> dict[str, str]:
    """What deploy.py needs from the environment to act on this test's compose project."""
    return {"COMPOSE_PROJECT_NAME": name, "WEB_HOST": "127.0.0.1", "WEB_PORT": str(port)}
