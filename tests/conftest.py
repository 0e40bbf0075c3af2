"""Shared helpers of the template's tests: generate projects for real, find interpreters."""

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"
TOOLS_BIN = Path(sys.executable).parent  # cookiecutter, uv and ruff of the template's venv


def interpreter_for(version: str) -> str:
    """The Python `version` if this machine has it, else the one running the tests (>= 3.12).

    Only some versions exist on a given machine (here: 3.12 and 3.13); the generated project
    supports 3.12 to 3.14, so the newest available one stands in for a missing one.
    """
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return str(candidate)
    return sys.executable


def tool_env(**extra: str | None) -> dict[str, str]:
    """The environment for cookiecutter, uv and the hooks: our tools first on the PATH."""
    env = {
        **os.environ,
        "PATH": f"{TOOLS_BIN}{os.pathsep}{os.environ['PATH']}",
        "UV_PYTHON_DOWNLOADS": "never",
        "SKIP_SMOKE_TEST": "",
        **extra,
    }
    return {name: value for name, value in env.items() if value is not None}


def run_cookiecutter(
    output_dir: Path, answers: dict[str, str], template: Path = TEMPLATE_DIR, **env: str | None
) -> subprocess.CompletedProcess:
    """`cookiecutter --no-input` as a user runs it, in its own process."""
    config = output_dir.parent / f"{output_dir.name}-cookiecutter.yaml"
    config.write_text(
        f"cookiecutters_dir: {output_dir.parent / 'cc-cache'}\n"
        f"replay_dir: {output_dir.parent / 'cc-replay'}\n"
    )
    command = [
        str(TOOLS_BIN / "cookiecutter"),
        str(template),
        "--no-input",
        "--output-dir",
        str(output_dir),
        "--config-file",
        str(config),
        *(f"{name}={value}" for name, value in answers.items()),
    ]
    return subprocess.run(
        command, env=tool_env(**env), capture_output=True, text=True, timeout=600, check=False
    )


def run(command: list[str], cwd: Path, **env: str | None) -> subprocess.CompletedProcess:
    """Run a command to completion; the caller asserts on its exit code and output."""
    return subprocess.run(
        command,
        cwd=cwd,
        env=tool_env(**env),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def explain(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL server for the postgresql combinations: TEST_DATABASE_URL.

    It names a role that may create databases (the generated tests create theirs).
    .ci/run starts Debian's PostgreSQL on loopback and sets it.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if IN_CI:
            pytest.fail("TEST_DATABASE_URL is not set: CI must run the PostgreSQL tests")
        pytest.skip("TEST_DATABASE_URL is not set: no PostgreSQL server to test against")
    return url.rstrip("/")
