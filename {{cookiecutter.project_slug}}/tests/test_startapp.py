"""`manage.py startapp` writes an app that passes the project's own lint (ruff check, ruff
format), from the project's app template ({{ cookiecutter.project_slug }}/management/)."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
# Not a module that exists (Django refuses those), whatever the project is called.
APP = "startapp_lint_example"


@pytest.mark.parametrize("ruff", [["check"], ["format", "--check"]], ids=" ".join)
def test_startapp_writes_an_app_that_passes_the_lint(tmp_path, ruff):
    call_command("startapp", APP, str(tmp_path))
    assert (tmp_path / "apps.py").read_text().count("class StartappLintExampleConfig(") == 1
    assert (tmp_path / "migrations" / "__init__.py").exists()
    config = ["--config", str(ROOT / "pyproject.toml")]
    command = [sys.executable, "-m", "ruff", *ruff, *config, str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
