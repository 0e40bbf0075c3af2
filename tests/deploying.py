"""Helpers of test_deploy.py: images that differ by version, and the light load that measures
what users see while scripts/deploy.py replaces `web`.

No registry can be reached here, so the "registry" is the local engine: every image is built and
tagged locally, and deploy.py pulls only what the engine lacks (its default), so these images
are used as they are.
"""

from pathlib import Path

from support.generate import explain, run
from support.load import Load, LoadResult

VERSION_URL = "/"  # each variant's home page template is its tag: served by gunicorn

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


def watching(port: int) -> Load:
    """A GET of VERSION_URL every 20 ms while a `with` block deploys, and half a second after
    it; at most 10 minutes."""
    return Load(port, VERSION_URL, period=0.02, deadline=600, timeout=5, linger=0.5)


def report(result: LoadResult) -> str:
    return (
        f"{len(result.failures)} of {len(result.outcomes)} requests failed "
        f"{result.errors() or ''}, longest gap {result.longest_gap():.2f} s, "
        f"served {result.bodies()}"
    )


def environment(stack) -> dict[str, str]:
    """What deploy.py needs from the environment to act on this test's compose project."""
    ports = {"WEB_PORT": str(stack.port), "WEB_HTTPS_PORT": str(stack.https_port)}
    return {"COMPOSE_PROJECT_NAME": stack.name, "WEB_HOST": "127.0.0.1", **ports}
