"""`manage.py serve` prepares the site and becomes gunicorn: ready means migrated, with the
static files collected (what /readyz checks), on an empty database."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings

from {{ cookiecutter.project_slug }}.management.commands.serve import local_bind


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def readyz(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_serve_migrates_collects_and_becomes_gunicorn(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
    }
    command = [sys.executable, "manage.py", "serve"]
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, body = readyz(port)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError((tmp_path / "serve.log").read_text())
        assert (status, body) == (200, {"status": "ok"}), (tmp_path / "serve.log").read_text()
        assert (tmp_path / "static" / "staticfiles.json").exists()
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_text()
        assert "gunicorn" in cmdline  # the same process, now gunicorn
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=40) == 0  # gunicorn's graceful stop


def test_serve_listens_on_this_machine_only_unless_an_address_is_given():
    assert local_bind(set()) == {"GUNICORN_BIND": "127.0.0.1:8000"}
    assert local_bind({"DJANGO_DEBUG", "PORT"}) == {}  # a platform's port: every interface
    assert local_bind({"GUNICORN_BIND"}) == {}
