"""A fresh project from the template, installed and prepared as a deployment would be: default
answers with SQLite, `uv sync --locked`, migrate, collectstatic. Also the environment every
server of the benchmark gets (production settings, nothing read from .env)."""

import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH_PYTHONPATH = Path(__file__).resolve().parent / "pythonpath"  # bench-only views
TOOLS_BIN = Path(sys.executable).parent  # cookiecutter and uv of the template's venv
ANSWERS = {"database": "sqlite", "run_smoke_test": "no"}
# Variables the project reads: the caller's own must not leak into the servers.
INHERITED_OUT = ("GUNICORN_", "DJANGO_", "WEB_CONCURRENCY", "PORT", "ENV_FILE", "DATABASE_")


class SetupFailed(Exception):
    pass


def tool(name: str) -> str:
    """A tool of the template's venv, else from the PATH."""
    local = TOOLS_BIN / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise SetupFailed(
            f"{name} not found: run from the template's venv (uv run python -m bench)"
        )
    return found


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout=600) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        shown = " ".join(command)
        raise SetupFailed(
            f"`{shown}` failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
    return result.stdout


def generate(workdir: Path) -> Path:
    """cookiecutter --no-input into workdir/generated (emptied first); the project's path."""
    output = workdir / "generated"
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    config = workdir / "cookiecutter.yaml"
    config.write_text(
        f"cookiecutters_dir: {workdir / 'cc-cache'}\nreplay_dir: {workdir / 'cc-replay'}\n"
    )
    answers = [f"{name}={value}" for name, value in ANSWERS.items()]
    command = [tool("cookiecutter"), str(REPO), "--no-input", "--output-dir", str(output)]
    env = {**os.environ, "PATH": f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    _run([*command, "--config-file", str(config), *answers], cwd=workdir, env=env)
    (project,) = output.iterdir()
    return project


def install(project: Path) -> None:
    """The project's own pinned dependencies into its .venv, on the interpreter running this
    (named by path: uv would otherwise look for, and perhaps download, a newer patch)."""
    python = getattr(sys, "_base_executable", "") or sys.executable
    _run([tool("uv"), "sync", "--locked", "--no-dev", "--python", python], cwd=project)


def python_of(project: Path) -> str:
    python = project / ".venv" / "bin" / "python"
    if not python.exists():
        raise SetupFailed(f"{project} has no .venv: generate it with `python -m bench`")
    return str(python)


def server_environment(project: Path, workdir: Path) -> dict[str, str]:
    """Production settings, nothing read from .env, the bench-only views on the path."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(INHERITED_OUT) and name not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    env.update(
        ENV_FILE="",
        PYTHONPATH=str(BENCH_PYTHONPATH),
        DJANGO_SETTINGS_MODULE="bench_settings",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="localhost,127.0.0.1",
        DJANGO_DEBUG="false",
        # wrk sends X-Forwarded-Proto: https as the TLS proxy in front would; this is only a
        # guard, so that no server can answer a redirect instead of the page.
        DJANGO_SECURE_SSL_REDIRECT="false",
        DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}",
        DJANGO_STATIC_ROOT=str(workdir / "static"),
    )
    return env


def prepare(project: Path, env: dict[str, str]) -> None:
    """migrate and collectstatic, as a deployment does before starting its server."""
    python = python_of(project)
    _run([python, "manage.py", "migrate", "--noinput", "--verbosity", "0"], project, env)
    static = ["manage.py", "collectstatic", "--noinput", "--clear", "--verbosity", "0"]
    _run([python, *static], project, env)


def versions(project: Path) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, sys; print(sys.version.split()[0]); "
        "[print(m.version(n)) for n in ('django', 'gunicorn', 'whitenoise')]"
    )
    lines = _run([python_of(project), "-c", code], project).split()
    return dict(zip(("python", "django", "gunicorn", "whitenoise"), lines, strict=True))


def set_up(workdir: Path, existing: Path | None) -> tuple[Path, dict[str, str], dict]:
    """(project, server environment, what was done), generating and installing unless given
    an `existing` project that already has its .venv."""
    workdir.mkdir(parents=True, exist_ok=True)
    steps = {}
    started = time.monotonic()
    if existing is None:
        project = generate(workdir)
        steps["generated"] = f"{time.monotonic() - started:.1f} s"
        install(project)
        steps["installed"] = f"{time.monotonic() - started:.1f} s"
    else:
        project = existing.resolve()
        steps["reused"] = str(project)
    for leftover in ("db.sqlite3", "db.sqlite3-wal", "db.sqlite3-shm"):
        (workdir / leftover).unlink(missing_ok=True)
    env = server_environment(project, workdir)
    prepare(project, env)
    steps["prepared"] = f"{time.monotonic() - started:.1f} s"
    return project, env, {"steps": steps, "versions": versions(project)}
