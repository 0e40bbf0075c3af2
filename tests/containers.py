"""Helpers of test_containers.py: a generated project run by docker compose, spoken to over HTTP.

Every stack has its own compose project name and loopback port, so it can run beside others, and
`remove()` takes away exactly what it created: containers, volumes, network and its one image.
"""

import functools
import http.cookiejar
import json
import re
import secrets
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from support.client import free_port
from support.environment import VIEWS
from support.generate import explain, run
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
        command = ["docker", "compose", *(chosen if files else []), *args]
        return run(command, cwd=self.path, **self.environment())

    def script(self, *args: str) -> subprocess.CompletedProcess:
        """`bash scripts/...` of the project, whose `docker compose` then means this stack."""
        return run(["bash", *args], cwd=self.path, **self.environment())

    def environment(self) -> dict[str, str]:
        """What makes `docker compose` mean this stack, as if set in .env."""
        return {
            "COMPOSE_PROJECT_NAME": self.name,
            # The same ports every time: a different one would make `up` recreate the proxy.
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(self.port),
            "WEB_HTTPS_PORT": str(self.https_port),
            **self.proxy_environment,
        }

    def create_superuser(self, username: str) -> str:
        """A superuser in the running `web`'s database; returns its fresh password."""
        password = secrets.token_urlsafe(16)
        create = self.compose(
            "exec", "-T", "-e", f"DJANGO_SUPERUSER_PASSWORD={password}", "web",
            "python", "manage.py", "createsuperuser", "--noinput",
            "--username", username, "--email", f"{username}@example.com",
        )  # fmt: skip
        assert create.returncode == 0, explain(create)
        return password

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


class Browser:
    """Forms of a site, filled in and sent as a browser does, with its cookies."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.opener = urllib.request.build_opener(
            NO_PROXY, urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def open(self, path: str, data: bytes | None = None, headers=None) -> tuple[str, str]:
        """(final URL, page) of a GET, or of a POST of `data`."""
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers or {})
        with self.opener.open(request, timeout=60) as response:
            return response.url, response.read().decode()

    def submit(self, path: str, fields: dict[str, str], files=None) -> tuple[str, str]:
        """The form at `path`, with its CSRF token, `fields` and `files` ({field: (name,
        bytes)}, sent as multipart/form-data)."""
        _, form = self.open(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
        assert token, form
        fields = {"csrfmiddlewaretoken": token[1], **fields}
        if not files:
            return self.open(path, urllib.parse.urlencode(fields).encode())
        boundary = secrets.token_hex(16)
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            for name, value in fields.items()
        ]
        parts += [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + content
            for name, (filename, content) in files.items()
        ]
        body = b"\r\n".join(parts) + f"\r\n--{boundary}--\r\n".encode()
        content_type = f"multipart/form-data; boundary={boundary}"
        return self.open(path, body, headers={"Content-Type": content_type})

    def log_in(self, username: str, password: str) -> tuple[str, str]:
        fields = {"username": username, "password": password, "next": "/admin/"}
        return self.submit("/admin/login/?next=/admin/", fields)


def admin_login(base_url: str, username: str, password: str) -> tuple[str, str]:
    """Log in through the admin's form: (final URL, page)."""
    return Browser(base_url).log_in(username, password)


def logged_in_admin(base_url: str, username: str, password: str) -> Browser:
    """A browser logged in to the admin."""
    browser = Browser(base_url)
    url, page = browser.log_in(username, password)
    assert url == f"{base_url}/admin/", page
    return browser


# An app with an upload, as a project's first one often is: a file field in the admin.
UPLOAD_APP = {
    "models.py": """from django.db import models


class Document(models.Model):
    file = models.FileField(upload_to="documents/")
""",
    "admin.py": """from django.contrib import admin

from .models import Document

admin.site.register(Document)
""",
    "migrations/__init__.py": "",
    "migrations/0001_initial.py": """from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = []
    operations = [
        migrations.CreateModel(
            name="Document",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True)),
                ("file", models.FileField(upload_to="documents/")),
            ],
        ),
    ]
""",
    "__init__.py": "",
}


UPLOAD_APP_NAME = "library"
ADD_DOCUMENT = f"/admin/{UPLOAD_APP_NAME}/document/add/"  # the admin's page for a new upload


def add_upload_app(project: Path) -> None:
    """Adds the app to the project, and to its INSTALLED_APPS."""
    for file, text in UPLOAD_APP.items():
        (project / UPLOAD_APP_NAME / file).parent.mkdir(parents=True, exist_ok=True)
        (project / UPLOAD_APP_NAME / file).write_text(text)
    settings = project / "config" / "settings.py"
    installed = '    "django.contrib.staticfiles",\n'
    assert installed in settings.read_text()
    app = f'    "{UPLOAD_APP_NAME}",\n'
    settings.write_text(settings.read_text().replace(installed, installed + app))


def upload(browser: Browser, filename: str, content: bytes) -> str:
    """Uploads a file through the admin's add page: returns the link the admin shows to it."""
    url, page = browser.submit(ADD_DOCUMENT, {"_continue": "1"}, {"file": (filename, content)})
    assert url.endswith("/change/"), page  # saved, and shown again to be edited
    link = re.search(r'href="(/media/[^"]+)"', page)
    assert link, page
    return link[1]


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
