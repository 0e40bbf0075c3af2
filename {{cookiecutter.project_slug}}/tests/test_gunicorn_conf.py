"""gunicorn.conf.py, as gunicorn itself reads it: `gunicorn --print-config` shows the settings it
resolves from the environment, a bad value stops it before any worker, and its hooks work.

The values themselves (defaults, ranges, precedence) are tested in test_variables.py.
"""

import gc
import os
import runpy
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from config import cpus

PROJECT = Path(__file__).resolve().parents[1]
CONF = PROJECT / "gunicorn.conf.py"
SHM = "/dev/shm"  # noqa: S108
WORKER = "config.worker.ThreadWorker"  # GUNICORN_WORKER_CLASS=gthread

# Every test here starts from the test run's own environment, and no other declared variable.
pytestmark = pytest.mark.usefixtures("clean_environ")


def _gunicorn(*args: str, **extra: str) -> subprocess.CompletedProcess:
    """gunicorn run from the project root; a config that fails to stop it times out."""
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", *args],
        cwd=PROJECT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **extra},
        capture_output=True,
        text=True,
        timeout=60,
    )


def resolved(*args: str, **extra: str) -> dict[str, str]:
    """gunicorn's own view of its settings: `--print-config` prints `name = value` lines."""
    result = _gunicorn("--print-config", *args, **extra)
    assert result.returncode == 0, result.stderr
    pairs = [line.split(" = ", 1) for line in result.stdout.splitlines() if " = " in line]
    return {name.strip(): value.strip() for name, value in pairs}


def test_gunicorn_resolves_the_defaults():
    config = resolved()
    workers = cpus.default_workers()
    expected = {
        "wsgi_app": "config.wsgi:application",
        "bind": "['0.0.0.0:8000']",
        "workers": str(workers),
        "threads": str(-(-64 // workers)),
        "worker_class": "config.worker.ThreadWorker",  # gthread, reading off its threads
        "worker_connections": str(-(-64 // workers)),  # keep-alive off: one per thread
        "max_requests": "10000",
        "max_requests_jitter": "1000",
        "preload_app": "True",
        "backlog": "2048",
        "timeout": "30",
        "graceful_timeout": "30",
        "keepalive": "0",
        "loglevel": "info",
        "accesslog": "-",
        "errorlog": "-",
        "limit_request_line": "4094",
        "limit_request_fields": "100",
        "limit_request_field_size": "8190",
        "control_socket_disable": "True",
        "logger_class": "config.access_log.AccessLogger",
        "secure_scheme_headers": "{'X-FORWARDED-PROTO': 'https'}",
    }
    assert {name: config[name] for name in expected} == expected


def test_behind_a_proxy_the_defaults_are_sync_workers_without_an_access_log():
    def chosen(**env: str) -> tuple[str, str, str]:
        config = resolved(GUNICORN_BEHIND_PROXY="true", **env)
        return config["worker_class"], config["threads"], config["accesslog"]

    assert chosen() == ("sync", "1", "None")
    # What is set explicitly still wins.
    assert chosen(GUNICORN_THREADS="4", GUNICORN_ACCESS_LOG="on") == (WORKER, "4", "-")


def test_json_logs_give_json_access_lines():
    config = resolved(DJANGO_LOG_FORMAT="json")
    assert config["logger_class"] == "config.access_log.JsonAccessLogger"


def test_gunicorn_resolves_what_the_environment_sets():
    config = resolved(
        GUNICORN_BIND="127.0.0.1:9000",
        GUNICORN_WORKERS="3",
        GUNICORN_THREADS="2",
        GUNICORN_KEEPALIVE="5",
        GUNICORN_ACCESS_LOG="off",
        GUNICORN_CONTROL_SOCKET="/run/g.ctl",
    )
    assert config["bind"] == "['127.0.0.1:9000']"
    assert (config["workers"], config["threads"], config["worker_class"]) == ("3", "2", WORKER)
    assert config["worker_connections"] == "1000"  # keep-alive on: gunicorn's own default
    assert config["accesslog"] == "None"
    assert (config["control_socket"], config["control_socket_disable"]) == ("/run/g.ctl", "False")


def test_command_line_flags_override_the_file():
    assert resolved("--workers", "7", GUNICORN_WORKERS="3")["workers"] == "7"


@pytest.mark.parametrize("args", [["--check-config"], []], ids=["check-config", "serve"])
def test_gunicorn_stops_on_bad_values_before_any_worker(tmp_path, args):
    result = _gunicorn(
        *args,
        GUNICORN_BIND=f"unix:{tmp_path / 'gunicorn.sock'}",  # never bound, if all goes well
        GUNICORN_WORKERS="abc",
        DJANGO_DEBUG="maybe",
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "gunicorn.conf.py: DJANGO_DEBUG='maybe' is invalid: expected true or false "
        "(or yes/no, on/off, 1/0)",
        "gunicorn.conf.py: GUNICORN_WORKERS='abc' is invalid: expected an integer from 1 to 256",
    ]
    assert "Booting worker" not in result.stderr + result.stdout


def test_gunicorn_accepts_the_config_and_the_app():
    result = _gunicorn("--check-config")
    assert result.returncode == 0, result.stderr


# The file's own code, run as gunicorn runs it ----------------------------------------------


@pytest.fixture
def conf():
    """conf() runs gunicorn.conf.py in this process and returns its names."""
    return lambda: runpy.run_path(str(CONF))


@pytest.mark.parametrize("writable", [True, False])
def test_worker_tmp_dir_is_dev_shm_when_writable(conf, monkeypatch, writable):
    real_isdir, real_access = os.path.isdir, os.access
    monkeypatch.setattr(os.path, "isdir", lambda path: path == SHM or real_isdir(path))
    monkeypatch.setattr(
        os, "access", lambda path, mode: writable if path == SHM else real_access(path, mode)
    )
    assert conf()["worker_tmp_dir"] == (SHM if writable else None)


def test_pre_fork_freezes_the_masters_objects(conf):
    try:
        conf()["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def _when_ready_line(names: dict, **overrides) -> str:
    from gunicorn.config import Config

    cfg = Config()
    for name, value in names.items():
        if name in cfg.settings:
            cfg.set(name, value)  # gunicorn's own validators accept every value
    for name, value in overrides.items():
        cfg.set(name, value)
    lines = []
    log = SimpleNamespace(info=lambda message, *args: lines.append(message % args))
    names["when_ready"](SimpleNamespace(cfg=cfg, log=log))
    assert len(lines) == 1
    return lines[0]


def test_when_ready_logs_the_values_in_force(conf, monkeypatch):
    monkeypatch.setenv("GUNICORN_WORKERS", "3")
    monkeypatch.setenv("GUNICORN_THREADS", "2")
    assert _when_ready_line(conf()) == (
        "Configuration: workers=3 (GUNICORN_WORKERS) threads=2 worker_connections=2 "
        f"worker_class={WORKER} max_requests=10000 max_requests_jitter=1000 backlog=2048 "
        "timeout=30s graceful_timeout=30s keepalive=0s preload_app=True"
    )


def test_when_ready_says_how_the_worker_count_was_chosen(conf, monkeypatch):
    assert f"({cpus.explain_default_workers()})" in _when_ready_line(conf())
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert "workers=4 (WEB_CONCURRENCY)" in _when_ready_line(conf())
    line = _when_ready_line(conf(), workers=7, timeout=90)
    assert "workers=7 (command line)" in line and "timeout=90s" in line
