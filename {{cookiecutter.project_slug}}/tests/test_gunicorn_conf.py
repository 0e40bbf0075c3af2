"""Tests for gunicorn.conf.py: every variable, the CPU maths, and gunicorn itself reading it.

Each test runs a copy of gunicorn.conf.py placed in tmp_path, with every variable it reads
(ENV_FILE too) removed from the environment first. The file reads the `.env` next to itself,
so the project's own .env can never leak into these tests; the test of .env support writes
one. No Django and no database are needed, except by the last tests, which run gunicorn for
real from the project root, with ENV_FILE="" so that no .env is read there either.
"""

import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

PROJECT = Path(__file__).resolve().parents[1]
CONF = PROJECT / "gunicorn.conf.py"
OWN_VARIABLES = ("PORT", "WEB_CONCURRENCY", "ENV_FILE")  # besides every GUNICORN_* one
SHM = "/dev/shm"  # noqa: S108


def _clean_environ() -> dict[str, str]:
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("GUNICORN_") and name not in OWN_VARIABLES
    }


@pytest.fixture
def load(tmp_path, monkeypatch):
    """load(NAME=value, ...) runs the config file with that environment; returns its names."""
    for name in os.environ.keys() - _clean_environ().keys():
        monkeypatch.delenv(name)
    copy = tmp_path / "gunicorn.conf.py"
    shutil.copy(CONF, copy)

    def run(**environ: str) -> dict:
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(copy))

    return run


@pytest.fixture
def conf(load):
    return load()


def test_defaults(conf):
    assert conf["bind"] == ["0.0.0.0:8000"]
    assert (conf["workers"], conf["workers_source"]) == conf["default_workers"]()
    assert conf["workers_source"].startswith("2 x ")
    assert conf["threads"] == -(-64 // conf["workers"])  # 64 connections, rounded up
    assert conf["worker_class"] == "gthread"  # at most 12 workers by default, so threads > 1
    assert conf["worker_connections"] == conf["threads"]
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (10000, 1000)
    assert conf["preload_app"] is True
    assert conf["backlog"] == 2048
    assert (conf["timeout"], conf["graceful_timeout"], conf["keepalive"]) == (30, 30, 0)
    assert conf["loglevel"] == "info"
    assert (conf["accesslog"], conf["errorlog"]) == ("-", "-")
    assert conf["limit_request_line"] == 4094
    assert conf["limit_request_fields"] == 100
    assert conf["limit_request_field_size"] == 8190
    assert conf["control_socket_disable"] is True
    assert conf["wsgi_app"] == "config.wsgi:application"
    assert "forwarded_allow_ips" not in conf  # gunicorn reads FORWARDED_ALLOW_IPS itself


def test_access_log_format_has_duration_and_request(conf):
    for atom in ("M", "s", "m", "U", "B", "h"):  # ms, status, method, path, bytes, remote
        assert f"%({atom})s" in conf["access_log_format"]


@pytest.mark.parametrize(
    ("name", "value", "setting", "expected"),
    [
        ("GUNICORN_BIND", "127.0.0.1:9000", "bind", ["127.0.0.1:9000"]),
        ("GUNICORN_BIND", "localhost:80", "bind", ["localhost:80"]),
        (
            "GUNICORN_BIND",
            "[::1]:8000, unix:/run/app.sock",
            "bind",
            ["[::1]:8000", "unix:/run/app.sock"],
        ),
        ("PORT", "5000", "bind", ["0.0.0.0:5000"]),
        ("GUNICORN_WORKERS", "1", "workers", 1),
        ("GUNICORN_WORKERS", "256", "workers", 256),
        ("WEB_CONCURRENCY", "3", "workers", 3),
        ("GUNICORN_THREADS", "64", "threads", 64),
        ("GUNICORN_WORKER_CLASS", "gthread", "worker_class", "gthread"),
        ("GUNICORN_WORKER_CLASS", "SYNC", "worker_class", "sync"),
        ("GUNICORN_MAX_REQUESTS", "0", "max_requests", 0),
        ("GUNICORN_MAX_REQUESTS", "10000000", "max_requests", 10_000_000),
        ("GUNICORN_MAX_REQUESTS_JITTER", "0", "max_requests_jitter", 0),
        ("GUNICORN_MAX_REQUESTS_JITTER", "10000", "max_requests_jitter", 10000),
        ("GUNICORN_PRELOAD_APP", "false", "preload_app", False),
        ("GUNICORN_PRELOAD_APP", "0", "preload_app", False),
        ("GUNICORN_PRELOAD_APP", "yes", "preload_app", True),
        ("GUNICORN_BACKLOG", "1", "backlog", 1),
        ("GUNICORN_BACKLOG", "65535", "backlog", 65535),
        ("GUNICORN_TIMEOUT", "3600", "timeout", 3600),
        ("GUNICORN_GRACEFUL_TIMEOUT", "1", "graceful_timeout", 1),
        ("GUNICORN_KEEPALIVE", "0", "keepalive", 0),
        ("GUNICORN_KEEPALIVE", "300", "keepalive", 300),
        ("GUNICORN_LOG_LEVEL", "warning", "loglevel", "warning"),
        ("GUNICORN_LOG_LEVEL", "DEBUG", "loglevel", "debug"),
        ("GUNICORN_ACCESS_LOG", "off", "accesslog", None),
        ("GUNICORN_LIMIT_REQUEST_LINE", "0", "limit_request_line", 0),
        ("GUNICORN_LIMIT_REQUEST_LINE", "8190", "limit_request_line", 8190),
        ("GUNICORN_LIMIT_REQUEST_FIELDS", "32768", "limit_request_fields", 32768),
        ("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", "65536", "limit_request_field_size", 65536),
        ("GUNICORN_CONTROL_SOCKET", "/run/gunicorn.ctl", "control_socket", "/run/gunicorn.ctl"),
    ],
)
def test_valid_value(load, name, value, setting, expected):
    assert load(**{name: value})[setting] == expected


def test_empty_value_means_unset(load, conf):
    empty = load(GUNICORN_WORKERS="", GUNICORN_BIND=" ", GUNICORN_LOG_LEVEL="")
    assert (empty["workers"], empty["bind"], empty["loglevel"]) == (
        conf["workers"],
        ["0.0.0.0:8000"],
        "info",
    )


def test_bind_precedence(load):
    assert load(PORT="5000", GUNICORN_BIND="127.0.0.1:9000")["bind"] == ["127.0.0.1:9000"]
    assert load(GUNICORN_BIND="")["bind"] == ["0.0.0.0:5000"]  # PORT=5000 is still set


def test_workers_precedence(load):
    both = load(GUNICORN_WORKERS="2", WEB_CONCURRENCY="7")
    assert (both["workers"], both["workers_source"]) == (2, "GUNICORN_WORKERS")
    fallback = load(GUNICORN_WORKERS="")  # empty: unset
    assert (fallback["workers"], fallback["workers_source"]) == (7, "WEB_CONCURRENCY")


def test_threads_select_gthread(load):
    assert load(GUNICORN_THREADS="4")["worker_class"] == "gthread"


def test_threads_are_published_for_the_database_pool(load, monkeypatch):
    monkeypatch.setenv("WORKER_THREADS", "stale")  # restored when the test ends
    load(GUNICORN_WORKERS="4")
    assert os.environ["WORKER_THREADS"] == "16"


@pytest.mark.parametrize(
    ("workers", "threads", "worker_class"),
    [
        ("1", 64, "gthread"),
        ("2", 32, "gthread"),
        ("5", 13, "gthread"),
        ("12", 6, "gthread"),
        ("63", 2, "gthread"),
        ("64", 1, "sync"),
        ("256", 1, "sync"),
    ],
)
def test_default_threads_hold_64_connections(load, workers, threads, worker_class):
    conf = load(GUNICORN_WORKERS=workers)
    assert (conf["threads"], conf["worker_class"]) == (threads, worker_class)


def test_sync_class_alone_means_one_thread(load):
    conf = load(GUNICORN_WORKERS="2", GUNICORN_WORKER_CLASS="sync")
    assert (conf["threads"], conf["worker_class"]) == (1, "sync")


def test_a_worker_takes_connections_for_its_threads_only_without_keepalive(load):
    assert load(GUNICORN_THREADS="8")["worker_connections"] == 8
    assert load(GUNICORN_THREADS="8", GUNICORN_KEEPALIVE="5")["worker_connections"] == 1000


def test_jitter_is_ten_percent_and_zero_max_requests_disables_it(load):
    assert load(GUNICORN_MAX_REQUESTS="5000")["max_requests_jitter"] == 500
    assert load(GUNICORN_MAX_REQUESTS="0")["max_requests_jitter"] == 0


def test_control_socket_only_when_asked_for(load):
    assert load(GUNICORN_CONTROL_SOCKET="/run/g.ctl")["control_socket_disable"] is False


def test_dotenv_next_to_file_is_read_and_real_environment_wins(load, tmp_path):
    (tmp_path / ".env").write_text("GUNICORN_TIMEOUT=60\nGUNICORN_BACKLOG=100\n")
    conf = load(GUNICORN_BACKLOG="200")
    assert (conf["timeout"], conf["backlog"]) == (60, 200)
    assert "GUNICORN_TIMEOUT" not in os.environ  # environs keeps .env values to itself


def test_env_file_names_another_file_or_none(load, tmp_path):
    (tmp_path / ".env").write_text("GUNICORN_TIMEOUT=60\n")
    (tmp_path / "other.env").write_text("GUNICORN_TIMEOUT=90\n")
    assert load(ENV_FILE=str(tmp_path / "other.env"))["timeout"] == 90
    assert load(ENV_FILE="")["timeout"] == 30


@pytest.mark.parametrize("writable", [True, False])
def test_worker_tmp_dir_is_dev_shm_when_writable(load, monkeypatch, writable):
    real_isdir, real_access = os.path.isdir, os.access
    monkeypatch.setattr(os.path, "isdir", lambda path: path == SHM or real_isdir(path))
    monkeypatch.setattr(
        os, "access", lambda path, mode: writable if path == SHM else real_access(path, mode)
    )
    assert load()["worker_tmp_dir"] == (SHM if writable else None)


BAD_VALUES = {
    "GUNICORN_BIND": ["nonsense", "host:0", "host:99999", "::1:8000", "unix:", "a b:80"],
    "PORT": ["http", "0", "-1", "65536"],
    "GUNICORN_WORKERS": ["abc", "0", "-1", "257", "2.5", "1e3"],
    "WEB_CONCURRENCY": ["abc", "0", "1000"],
    "GUNICORN_THREADS": ["x", "0", "65"],
    "GUNICORN_WORKER_CLASS": ["gevent", "uvicorn"],
    "GUNICORN_MAX_REQUESTS": ["lots", "-1", "10000001"],
    "GUNICORN_MAX_REQUESTS_JITTER": ["x", "-5", "10000001"],
    "GUNICORN_PRELOAD_APP": ["maybe", "2"],
    "GUNICORN_BACKLOG": ["x", "0", "65536"],
    "GUNICORN_TIMEOUT": ["x", "0", "-1", "3601"],
    "GUNICORN_GRACEFUL_TIMEOUT": ["x", "0", "3601"],
    "GUNICORN_KEEPALIVE": ["x", "-1", "301"],
    "GUNICORN_LOG_LEVEL": ["verbose", "warn"],
    "GUNICORN_ACCESS_LOG": ["sometimes"],
    "GUNICORN_LIMIT_REQUEST_LINE": ["x", "-1", "8191"],
    "GUNICORN_LIMIT_REQUEST_FIELDS": ["x", "0", "32769"],
    "GUNICORN_LIMIT_REQUEST_FIELD_SIZE": ["x", "0", "65537"],
}
INVALID = [
    pytest.param({name: value}, [f"{name}={value!r} is invalid: expected "], id=f"{name}={value}")
    for name, values in BAD_VALUES.items()
    for value in values
]
INVALID += [  # inconsistent pairs: the message names both variables
    pytest.param(
        {"GUNICORN_WORKER_CLASS": "sync", "GUNICORN_THREADS": "4"},
        ["GUNICORN_WORKER_CLASS='sync' is invalid: expected ", "GUNICORN_THREADS=4"],
        id="sync-with-threads",
    ),
    pytest.param(
        {"GUNICORN_MAX_REQUESTS": "100", "GUNICORN_MAX_REQUESTS_JITTER": "101"},
        ["GUNICORN_MAX_REQUESTS_JITTER='101' is invalid: expected ", "GUNICORN_MAX_REQUESTS=100"],
        id="jitter-above-max-requests",
    ),
    pytest.param(
        {"GUNICORN_MAX_REQUESTS": "0", "GUNICORN_MAX_REQUESTS_JITTER": "1"},
        ["GUNICORN_MAX_REQUESTS_JITTER='1' is invalid: expected ", "GUNICORN_MAX_REQUESTS=0"],
        id="jitter-without-recycling",
    ),
]


@pytest.mark.parametrize(("environ", "fragments"), INVALID)
def test_invalid_value_exits_with_one_line(load, capsys, environ, fragments):
    with pytest.raises(SystemExit) as exit_info:
        load(**environ)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("gunicorn.conf.py: ")
    assert len(err.splitlines()) == 1
    for fragment in fragments:
        assert fragment in err


def test_every_error_is_reported_before_exiting(load, capsys):
    with pytest.raises(SystemExit):
        load(GUNICORN_WORKERS="abc", GUNICORN_TIMEOUT="0", GUNICORN_LOG_LEVEL="loud")
    err = capsys.readouterr().err.splitlines()
    assert [line.split("=")[0] for line in err] == [
        "gunicorn.conf.py: GUNICORN_WORKERS",
        "gunicorn.conf.py: GUNICORN_TIMEOUT",
        "gunicorn.conf.py: GUNICORN_LOG_LEVEL",
    ]


def test_docstring_table_documents_every_variable(conf):
    code = CONF.read_text().split('"""', 2)[2]
    read = set(re.findall(r'"(GUNICORN_[A-Z_]+|PORT|WEB_CONCURRENCY|ENV_FILE)"', code))
    documented = set(re.findall(r"^([A-Z][A-Z_]+) ", conf["__doc__"], re.MULTILINE))
    assert len(read) == 20
    assert read | {"FORWARDED_ALLOW_IPS"} == documented


def _when_ready_line(conf, **overrides) -> str:
    from gunicorn.config import Config

    cfg = Config()
    for name, value in conf.items():
        if name in cfg.settings:
            cfg.set(name, value)  # gunicorn's own validators accept every value
    for name, value in overrides.items():
        cfg.set(name, value)
    lines = []
    log = SimpleNamespace(info=lambda message, *args: lines.append(message % args))
    conf["when_ready"](SimpleNamespace(cfg=cfg, log=log))
    assert len(lines) == 1
    return lines[0]


def test_when_ready_logs_effective_values(load):
    line = _when_ready_line(load(GUNICORN_WORKERS="3", GUNICORN_THREADS="2"))
    assert line == (
        "Configuration: workers=3 (GUNICORN_WORKERS) threads=2 worker_connections=2 "
        "worker_class=gthread max_requests=10000 max_requests_jitter=1000 backlog=2048 "
        "timeout=30s graceful_timeout=30s keepalive=0s preload_app=True"
    )


def test_pre_fork_freezes_the_masters_objects(conf):
    import gc

    try:
        conf["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_when_ready_notices_a_command_line_override(load):
    line = _when_ready_line(load(GUNICORN_WORKERS="3"), workers=7, timeout=90)
    assert "workers=7 (command line)" in line
    assert "timeout=90s" in line


# CPU detection, against fake cgroup files ------------------------------------------------


@pytest.fixture
def cgroup(tmp_path):
    """cgroup({path: content}, proc) writes fake cgroup files; returns (root, fake /proc file)."""
    root = tmp_path / "cgroup"
    root.mkdir()

    def write(files: dict[str, str] | None = None, proc: str = "0::/\n") -> tuple[str, str]:
        for relative, content in (files or {}).items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        (tmp_path / "proc_cgroup").write_text(proc)
        return str(root), str(tmp_path / "proc_cgroup")

    return write


def _affinity(monkeypatch, count: int) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(count)), raising=False)


@pytest.mark.parametrize(
    ("cpu_max", "quota", "usable"),
    [
        ("max 100000\n", None, 8),
        ("150000 100000\n", 1.5, 2),
        ("50000 100000\n", 0.5, 1),
        ("400000 100000\n", 4.0, 4),
        ("garbage\n", None, 8),
        ("", None, 8),
        ("abc 100000\n", None, 8),
        ("100000 0\n", None, 8),
    ],
)
def test_cgroup_v2(conf, cgroup, monkeypatch, cpu_max, quota, usable):
    _affinity(monkeypatch, 8)
    paths = cgroup({"cpu.max": cpu_max})
    assert conf["cgroup_cpu_quota"](*paths) == quota
    assert conf["usable_cpus"](*paths) == usable


@pytest.mark.parametrize(
    ("cfs_quota", "cfs_period", "quota"),
    [("200000\n", "100000\n", 2.0), ("-1\n", "100000\n", None), ("x\n", "100000\n", None)],
)
def test_cgroup_v1(conf, cgroup, cfs_quota, cfs_period, quota):
    paths = cgroup({"cpu/cpu.cfs_quota_us": cfs_quota, "cpu/cpu.cfs_period_us": cfs_period})
    assert conf["cgroup_cpu_quota"](*paths) == quota


def test_no_cgroup_files_means_no_limit(conf, cgroup):
    assert conf["cgroup_cpu_quota"](*cgroup()) is None


def test_own_cgroup_v2_path_is_preferred(conf, cgroup):
    files = {"cpu.max": "300000 100000", "kubepods/pod1/cpu.max": "100000 100000"}
    root, proc = cgroup(files, proc="1:name=systemd:/x\n0::/kubepods/pod1\n")
    assert conf["cgroup_cpu_quota"](root, proc) == 1.0
    cgroup(proc="0::/elsewhere\n")  # no such directory: the root's cpu.max
    assert conf["cgroup_cpu_quota"](root, proc) == 3.0
    assert conf["cgroup_cpu_quota"](root, str(Path(root) / "no-such-proc-file")) == 3.0


def test_affinity_smaller_than_quota_wins(conf, cgroup, monkeypatch):
    _affinity(monkeypatch, 2)
    assert conf["usable_cpus"](*cgroup({"cpu.max": "400000 100000"})) == 2


def test_cpu_count_without_affinity(conf, cgroup, monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert conf["usable_cpus"](*cgroup()) == 3


@pytest.mark.parametrize(
    ("affinity", "cpu_max", "expected"),
    [
        (2, "max 100000", (5, "2 x 2 usable CPUs + 1 (affinity 2, cgroup quota none)")),
        (4, "50000 100000", (3, "2 x 1 usable CPUs + 1 (affinity 4, cgroup quota 0.5)")),
        (
            16,
            "max 100000",
            (12, "2 x 16 usable CPUs + 1, capped at 12 (affinity 16, cgroup quota none)"),
        ),
    ],
)
def test_default_workers(conf, cgroup, monkeypatch, affinity, cpu_max, expected):
    _affinity(monkeypatch, affinity)
    assert conf["default_workers"](*cgroup({"cpu.max": cpu_max})) == expected


# gunicorn itself reading the file ----------------------------------------------------------


def _gunicorn(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    """Run gunicorn from the project root; a config that fails to stop it times out."""
    environ = {
        **_clean_environ(),
        "ENV_FILE": "",  # neither gunicorn.conf.py nor config/settings.py reads a .env
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": "x" * 50,
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "GUNICORN_BIND": f"unix:{tmp_path / 'gunicorn.sock'}",  # never bound, if all goes well
        **extra,
    }
    command = [sys.executable, "-m", "gunicorn", *args]
    return subprocess.run(
        command, cwd=PROJECT, env=environ, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("args", [["--check-config"], []], ids=["check-config", "serve"])
def test_gunicorn_stops_on_a_bad_value_before_any_worker(tmp_path, args):
    result = _gunicorn(tmp_path, *args, GUNICORN_WORKERS="abc")
    assert result.returncode == 1
    assert "GUNICORN_WORKERS='abc' is invalid: expected an integer from 1 to 256" in result.stderr
    assert "Booting worker" not in result.stderr + result.stdout


def test_gunicorn_accepts_the_config_and_the_app(tmp_path):
    result = _gunicorn(tmp_path, "--check-config")
    assert result.returncode == 0, result.stderr
