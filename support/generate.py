"""Generate a project from this template with the real cookiecutter CLI, and run tools."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
TOOLS_BIN = Path(sys.executable).parent  # cookiecutter, uv and ruff of the template's venv


class SetupFailed(Exception):
    pass


def tool(name: str) -> str:
    """A tool of the template's venv, else from the PATH."""
    local = TOOLS_BIN / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise SetupFailed(f"{name} not found: run from the template's venv (uv run ...)")
    return found


def tool_env(**extra: str | None) -> dict[str, str]:
    """The environment for cookiecutter, uv and the hooks: our tools first on the PATH.
    A None value removes that variable."""
    env = {
        **os.environ,
        "PATH": f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "UV_PYTHON_DOWNLOADS": "never",
        "SKIP_SMOKE_TEST": "",
        **extra,
    }
    return {name: value for name, value in env.items() if value is not None}


def run(
    command: list[str], cwd: Path, timeout: float = 900, **env: str | None
) -> subprocess.CompletedProcess:
    """Run a command to completion; the caller looks at its exit code and output."""
    return subprocess.run(
        command,
        cwd=cwd,
        env=tool_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def explain(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def succeeded(result: subprocess.CompletedProcess) -> str:
    """The output of a command that exited 0; SetupFailed, with all it printed, otherwise."""
    if result.returncode != 0:
        raise SetupFailed(explain(result))
    return result.stdout


def cookiecutter(
    output_dir: Path,
    answers: dict[str, str],
    template: Path = TEMPLATE_DIR,
    options: tuple[str, ...] = (),
    **env: str | None,
) -> subprocess.CompletedProcess:
    """`cookiecutter --no-input [options]` as a user runs it, in its own process, with a config
    file of its own (so that no user's cache or replay files are read or written)."""
    config = output_dir.parent / f"{output_dir.name}-cookiecutter.yaml"
    config.write_text(
        f"cookiecutters_dir: {output_dir.parent / 'cc-cache'}\n"
        f"replay_dir: {output_dir.parent / 'cc-replay'}\n"
    )
    command = [
        tool("cookiecutter"),
        str(template),
        *(() if "--replay" in options else ("--no-input",)),  # a replay never prompts
        "--output-dir",
        str(output_dir),
        "--config-file",
        str(config),
        *options,
        *(f"{name}={value}" for name, value in answers.items()),
    ]
    return run(command, cwd=output_dir.parent, timeout=600, **env)


def generate(output_dir: Path, answers: dict[str, str], **env: str | None) -> Path:
    """A project generated into the empty `output_dir`: its path."""
    succeeded(cookiecutter(output_dir, answers, **env))
    (project,) = output_dir.iterdir()
    return project


def interpreter_for(version: str) -> str:
    """The Python `version` if this machine has it, else the one running this (>= 3.12).

    Only some versions exist on a given machine; the generated project supports 3.12 to 3.14,
    so the one running this stands in for a missing one.
    """
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python{version}"))
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return str(candidate)
    return sys.executable


def install(project: Path, python: str, *options: str) -> None:
    """The project's locked dependencies into its .venv, on `python` (named by path: uv would
    otherwise look for, and perhaps download, a newer patch release)."""
    succeeded(run([tool("uv"), "sync", "--locked", "--python", python, *options], cwd=project))
