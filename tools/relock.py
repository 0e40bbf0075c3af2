"""Refresh the lock files of the generated project, one per database choice.

They live in {{cookiecutter.project_slug}}/.locks/. The generated pyproject.toml differs by
database (psycopg for postgresql), so each database choice has its own uv.lock; the
post-generation hook keeps the chosen one. Run this after changing a pinned version in the
project's pyproject.toml:

    uv run python tools/relock.py
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE = Path(__file__).resolve().parent.parent
LOCKS = TEMPLATE / "{{cookiecutter.project_slug}}" / ".locks"
SLUG = "relock_placeholder"
NAME_LINE = f'name = "{SLUG.replace("_", "-")}"'
TEMPLATED_NAME_LINE = "name = \"{{ cookiecutter.project_slug|replace('_', '-') }}\""


def relock(database: str, workdir: Path) -> None:
    project = Path(
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            output_dir=str(workdir),
            extra_context={"project_slug": SLUG, "database": database, "run_smoke_test": "no"},
        )
    )
    (project / "uv.lock").unlink()  # resolve from scratch: newest versions the pins allow
    subprocess.run(["uv", "lock"], cwd=project, check=True)
    lock = (project / "uv.lock").read_text(encoding="utf-8")
    if lock.count(NAME_LINE) != 1:
        sys.exit(f"expected the project's name once in {database}'s uv.lock")
    (LOCKS / f"{database}.lock").write_text(lock.replace(NAME_LINE, TEMPLATED_NAME_LINE))
    print(f"{database}: {LOCKS / f'{database}.lock'}")


if __name__ == "__main__":
    for database in ("postgresql", "sqlite"):
        with tempfile.TemporaryDirectory() as workdir:
            relock(database, Path(workdir))
