"""A fresh project from the template, installed and prepared as a deployment would be: default
answers with SQLite, `uv sync --locked --no-dev`, migrate, collectstatic."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

from support.environment import server_environment
from support.generate import SetupFailed, generate, install, run, succeeded

ANSWERS = {"database": "sqlite", "run_smoke_test": "no"}


def python_of(project: Path) -> str:
    python = project / ".venv" / "bin" / "python"
    if not python.exists():
        raise SetupFailed(f"{project} has no .venv: generate it with `python -m bench`")
    return str(python)


def prepare(project: Path, env: dict[str, str]) -> None:
    """migrate and collectstatic, as a deployment does before starting its server."""
    python = python_of(project)
    for command in (
        ["manage.py", "migrate", "--noinput", "--verbosity", "0"],
        ["manage.py", "collectstatic", "--noinput", "--clear", "--verbosity", "0"],
    ):
        # Not support's run(): the server's environment, and nothing of this process's.
        result = subprocess.run(
            [python, *command], cwd=project, env=env, capture_output=True, text=True, timeout=600
        )
        succeeded(result)


def versions(project: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, sys; print(sys.version.split()[0]); "
        "[print(m.version(n)) for n in ('django', 'gunicorn', 'whitenoise')]"
    )
    lines = succeeded(run([python_of(project), "-c", code], project)).split()
    return dict(zip(("python", "django", "gunicorn", "whitenoise"), lines, strict=True))


def set_up(workdir: Path, existing: Path | None) -> tuple[Path, dict[str, str], dict]:
    """(project, server environment, what was done), generating and installing unless given
    an `existing` project that already has its .venv."""
    workdir.mkdir(parents=True, exist_ok=True)
    steps = {}
    started = time.monotonic()
    if existing is None:
        output = workdir / "generated"
        shutil.rmtree(output, ignore_errors=True)
        output.mkdir()
        project = generate(output, ANSWERS)
        steps["generated"] = f"{time.monotonic() - started:.1f} s"
        # The interpreter running this, by path: the venv's own, if this runs in one.
        install(project, getattr(sys, "_base_executable", "") or sys.executable, "--no-dev")
        steps["installed"] = f"{time.monotonic() - started:.1f} s"
    else:
        project = existing.resolve()
        steps["reused"] = str(project)
    for leftover in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"):
        (workdir / leftover).unlink(missing_ok=True)
    env = server_environment(workdir)
    prepare(project, env)
    steps["prepared"] = f"{time.monotonic() - started:.1f} s"
    return project, env, {"steps": steps, "versions": versions(project)}
