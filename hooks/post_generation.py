"""What happens right after the project is written: by cookiecutter (and cruft), through
post_gen_project.py; by Copier, through copier_task.py.

1. The files of options that were not chosen are removed; the chosen lock file becomes uv.lock.
2. README.md's table of environment variables and .env.example are rendered from the
   project's declarations (scripts/render_variables.py, standard library only).
3. `.env` is written from `.env.example`, with a fresh secret key (and database password),
   unless the folder has one already (generated over an existing project): that one is kept.
4. The project's smoke test runs (scripts/smoke_test.py), unless it is turned off.
5. The next steps are printed: the folder to go to, the command that runs the site, the tests.

When cruft or Copier renders the template again to update the project (hooks/rerender.py,
Copier's operation), only 1 and 2 happen: they shape the files the update compares; 3 to 5
belong to a project, not to a render.

Plain Python (>= 3.10, the standard library only): it runs under whatever Python runs
cookiecutter. A failure exits non-zero, and cookiecutter then deletes the half-made project.
"""

import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from answers import as_bool

SKIP_VARIABLE = "SKIP_SMOKE_TEST"
SMOKE_COMMAND = "uv run python scripts/smoke_test.py"
# The generated README's "Run it" command (tests/test_generation.py checks they are the same).
RUN_COMMAND = "uv run python manage.py serve"
RENDER_SCRIPT = "scripts/render_variables.py"

# Files that belong to one value of an option: removed when another value is chosen.
OPTION_FILES = {
    ("ci", "github"): [".github"],
    ("ci", "gitlab"): [".gitlab-ci.yml"],
    # Pods on several machines share one database server: not a SQLite file.
    ("database", "postgresql"): ["deploy/kubernetes", "docs/kubernetes.md"],
}
LOCKS_DIR = ".locks"  # one uv.lock per database choice: their dependencies differ
PROJECT_MODULES = {
    "postgresql": ["django", "gunicorn", "whitenoise", "environs", "pythonjsonlogger", "psycopg"],
    "sqlite": ["django", "gunicorn", "whitenoise", "environs", "pythonjsonlogger"],
}


def render_variables(project: Path) -> None:
    """README.md's table and .env.example, from config/variables.py."""
    command = [sys.executable, RENDER_SCRIPT]
    result = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"ERROR: {RENDER_SCRIPT} failed:\n{result.stdout}{result.stderr}")


def write_env_file(project: Path) -> None:
    """Copy .env.example to .env, giving every secret a fresh random value; keep an existing
    .env, whose secrets a database volume or live sessions may already depend on."""
    env_file = project / ".env"
    if env_file.exists():
        print(".env exists: kept as it is (its secret key and passwords unchanged).")
        return
    fresh = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
    }
    lines = []
    for line in (project / ".env.example").read_text(encoding="utf-8").splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={fresh[name]}" if name in fresh else line)
    env_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env_file.chmod(0o600)


def remove_unchosen_files(project: Path, answers: dict) -> None:
    for (option, value), paths in OPTION_FILES.items():
        if answers[option] != value:
            for relative in paths:
                remove(project / relative)
    locks = project / LOCKS_DIR
    (locks / f"{answers['database']}.lock").replace(project / "uv.lock")
    remove(locks)


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def has_dependencies(python: str, database: str) -> bool:
    modules = ", ".join(PROJECT_MODULES[database])
    probe = subprocess.run([python, "-c", f"import {modules}"], capture_output=True, check=False)
    return probe.returncode == 0


def project_python(project: Path, database: str) -> str | None:
    """A Python that has the project's dependencies: this one, or the project's own venv."""
    if has_dependencies(sys.executable, database):
        return sys.executable
    uv = shutil.which("uv")
    if uv is None:
        return None
    print("Installing the project's dependencies: uv sync --locked", flush=True)
    started = time.monotonic()
    result = subprocess.run([uv, "sync", "--locked"], cwd=project, check=False)
    if result.returncode != 0:
        raise SystemExit("ERROR: `uv sync --locked` failed; see its output above.")
    print(f"  done in {time.monotonic() - started:.1f} s", flush=True)
    return str(project / ".venv" / "bin" / "python")


def run_smoke_test(project: Path, database: str) -> None:
    python = project_python(project, database)
    if python is None:
        print(
            "The full smoke test was skipped: the project's dependencies are not installed "
            f"and uv is not on the PATH. Install uv, then run: {SMOKE_COMMAND}"
        )
        command = [sys.executable, "scripts/smoke_test.py", "--compile-only"]
    else:
        command = [python, "scripts/smoke_test.py"]
    if subprocess.run(command, cwd=project, check=False).returncode != 0:
        raise SystemExit(
            "ERROR: the generated project failed its smoke test (see above). "
            f"Set {SKIP_VARIABLE}=1 to generate it anyway and debug with: {SMOKE_COMMAND}"
        )


def skipped_by_environment() -> bool:
    value = os.environ.get(SKIP_VARIABLE, "")
    try:
        return bool(value) and as_bool(value)
    except ValueError:
        message = f"ERROR: {SKIP_VARIABLE}={value!r} is not a yes/no value: use 1 or 0."
        raise SystemExit(message) from None


def main(answers: dict, project: Path | None = None, rerendering: bool = False) -> None:
    project = project or Path.cwd()
    remove_unchosen_files(project, answers)
    render_variables(project)
    if rerendering:
        return
    write_env_file(project)
    if not as_bool(answers["run_smoke_test"]):
        print(f"Smoke test turned off (run_smoke_test). Run it later with: {SMOKE_COMMAND}")
    elif skipped_by_environment():
        print(f"Smoke test turned off ({SKIP_VARIABLE}). Run it later with: {SMOKE_COMMAND}")
    else:
        run_smoke_test(project, answers["database"])
    print_next_steps(project)


def print_next_steps(project: Path) -> None:
    """What to type next: the project's README says the same, at its top."""
    print(
        "\nNext steps:\n"
        f"  cd {project.resolve()}\n"
        f"  {RUN_COMMAND}\n"
        "  then open http://localhost:8000 (Ctrl-C stops it)\n"
        "  uv run pytest    # the project's tests; README.md has the rest",
        flush=True,
    )
