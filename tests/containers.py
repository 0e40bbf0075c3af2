"""Helpers of test_containers.py: a generated project run by docker compose, spoken to over HTTP.

Every stack has its own compose project name and loopback port, so it can run beside others, and
`remove()` takes away exactly what it created: containers, volumes, network and its one image.
"""

import functools
import http.cookiejar
import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from support.client import free_port
from support.environment import VIEWS
from support.generate import run
from tests.conftest import IN_CI

WAIT = ("--wait", "--wait-timeout", "300")  # generous: CI machines may be busy
# Loopback needs no proxy, whatever the environment says.
NO_PROXY = urllib.request.ProxyHandler({})


@functools.cache
def _missing(what: str) -> str | None:
    """Why docker with compose v2 ("cli"), or those plus an engine ("engine"), cannot be used."""
    if shutil.which("docker") is None:
        return "the docker CLI is not installed"
    commands = [["docker", "compose", "version"]]
    if what == "engine":
        commands.append(["docker", "info"])
    for command in commands:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            return f"`{' '.join(command)}` failed: {result.stderr.strip()[-300:]}"
    return None


def require_docker(what: str = "engine") -> None:
    """Skip without Docker on a laptop; in CI (CI=true) a missing engine is a failure."""
    problem = _missing(what)
    if problem and IN_CI:
        pytest.fail(f"CI must run the container tests, but {problem}")
    if problem:
        pytest.skip(f"no Docker here: {problem}")


def docker(*args: str) -> subprocess.CompletedProcess:
    return run(["docker", *args], cwd=Path.cwd())


class Stack:
    """A generated project as one compose project: `<name>-web-1`, `<name>_data`, ..."""

    def __init__(self, path: Path, name: str):
        self.path = path
        self.name = name
        self.port = free_port()  # the proxy's HTTP port
        self.https_port = free_port()
        self.image = f"{name}-web"  # compose.yaml names it ${COMPOSE_PROJECT_NAME}-web
        self.build_seconds = 0.0
        self.proxy_environment: dict[str, str] = {}  # SITE_ADDRESS, ... as if set in .env

    def compose(self, *args: str, files: tuple[Path, ...] = ()) -> subprocess.CompletedProcess:
        """`docker compose` in the project; extra files (overrides) come after compose.yaml."""
        chosen = [arg for file in ("compose.yaml", *files) for arg in ("-f", str(file))]
        command = ["docker", "compose", "-p", self.name, *(chosen if files else []), *args]
        # The same ports every time: a different one would make `up` recreate the proxy.
        ports = {"WEB_PORT": str(self.port), "WEB_HTTPS_PORT": str(self.https_port)}
        return run(command, cwd=self.path, WEB_HOST="127.0.0.1", **ports, **self.proxy_environment)

    def services(self) -> dict[str, dict]:
        """`docker compose ps -a` by service: State, Health, ExitCode, ..."""
        result = self.compose("ps", "--all", "--format", "json")
        assert result.returncode == 0, result.stderr
        rows = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        return {row["Service"]: row for row in rows}

    def inspect(self, service: str) -> dict:
        result = docker("inspect", f"{self.name}-{service}-1")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)[0]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def remove(self) -> None:
        """Everything this stack created, and nothing else (never a prune, never a base image)."""
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "10")
        docker("image", "rm", self.image)


def admin_login(base_url: str, username: str, password: str) -> tuple[str, str]:
    """Log in through the admin's form, as a browser does: (final URL, page)."""
    opener = urllib.request.build_opener(
        NO_PROXY, urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    login = f"{base_url}/admin/login/?next=/admin/"
    with opener.open(login, timeout=30) as response:
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token, form
    fields = {"csrfmiddlewaretoken": token[1], "username": username, "password": password}
    data = urllib.parse.urlencode({**fields, "next": "/admin/"}).encode()
    with opener.open(urllib.request.Request(login, data=data), timeout=30) as response:
        return response.url, response.read().decode()


def views_override(folder: Path) -> Path:
    """A compose override that gives `web` the test-only views of support/pythonpath (such
    as /test/sleep?ms=2000). The shipped files stay untouched: the views are a folder mounted
    read-only into the container, and DJANGO_SETTINGS_MODULE names settings that import the
    project's own."""
    code = folder / "views"
    shutil.copytree(VIEWS, code, ignore=shutil.ignore_patterns("__pycache__"))
    for path in [code, *code.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # readable by the image's user
    web = {
        "volumes": [f"{code}:/views:ro"],
        "environment": {"PYTHONPATH": "/views", "DJANGO_SETTINGS_MODULE": "support_settings"},
    }
    return web_override(folder / "compose.views.yaml", web)


def web_override(path: Path, web: dict) -> Path:
    """A compose override file at `path` that adds `web` to the `web` service."""
    path.write_text(json.dumps({"services": {"web": web}}))  # JSON is YAML
    return path
