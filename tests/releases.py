"""Releases for the Swarm tests: images that differ by version, and the light load that
measures what users see while one replaces another.

No registry can be reached here, so the "registry" is the local engine: every image is built and
tagged locally, and the nodes (one) use it as it is.
"""

from pathlib import Path

from support.client import HOST
from support.generate import explain, run
from support.load import Load, LoadResult

VERSION_URL = "/"  # each variant's home page template is its tag: served by gunicorn

# A release whose gunicorn points at a database that does not exist, so /healthz passes and
# /readyz fails ("database unreachable"), while `manage.py migrate` still works. It stands for a
# release that needs a setting the deployment does not have yet.
UNREADY_SETTINGS = """\
import sys

from config.settings import *  # noqa: F403

if "gunicorn" in sys.argv[0]:
    if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
        DATABASES["default"]["NAME"] = "/no-such-directory/db.sqlite3"  # noqa: F405
    else:
        DATABASES["default"]["HOST"] = "no-such-database-host"  # noqa: F405
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


def watching(port: int, path: str = VERSION_URL, host: str = HOST) -> Load:
    """A GET of `path` every 20 ms while a `with` block deploys, and half a second after it;
    at most 10 minutes."""
    return Load(port, path, period=0.02, deadline=600, timeout=5, linger=0.5, host=host)


def report(result: LoadResult) -> str:
    return (
        f"{len(result.failures)} of {len(result.outcomes)} requests failed "
        f"{result.errors() or ''}, longest gap {result.longest_gap():.2f} s, "
        f"served {result.bodies()}"
    )
