"""Shared test set-up: static files collected once, and a helper to run Django afresh.

The environment of the test run is set by tests/settings.py.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def collected_static(django_db_blocker):
    """The manifest storage needs collectstatic before any page renders."""
    from django.core.management import call_command

    with django_db_blocker.unblock():
        call_command("collectstatic", "--noinput", verbosity=0)
    return Path(os.environ["DJANGO_STATIC_ROOT"])


@pytest.fixture
def clean_environ(monkeypatch):
    """No declared variable in os.environ but the test run's own (tests/settings.py, where
    ENV_FILE="" keeps any .env out): what a test sets is all there is."""
    from config.variables import VARIABLES
    from tests.settings import TEST_ENV

    for variable in VARIABLES:
        if variable.name not in TEST_ENV:
            monkeypatch.delenv(variable.name, raising=False)
    return monkeypatch


def run_django(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python with Django set up from `env`, as a deployment would."""
    full_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    full_env = {name: value for name, value in full_env.items() if value is not None}
    script = f"import django\ndjango.setup()\n{code}"
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_DIR,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
