"""config/variables.py: every variable read as declared, every bad value refused with one line
that names it, and README.md's table and .env.example rendered from the declarations."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config import cpus, variables
from config.environment import InvalidEnvironment

PROJECT = Path(__file__).resolve().parents[1]
DECLARATIONS = (PROJECT / "config" / "variables.py").read_text()
DECLARED = {variable.name: variable for variable in variables.VARIABLES}
PLACEHOLDER = variables.FRESH_SECRET.value


@pytest.fixture
def read(clean_environ):
    """read(NAME=value, ...): variables.read() with only those set, besides the test run's
    own environment."""

    def read_with(**environ: str):
        for name, value in environ.items():
            clean_environ.setenv(name, value)
        return variables.read()

    return read_with


def test_gunicorn_defaults(read):
    env = read()
    assert env["GUNICORN_BIND"] == ["0.0.0.0:8000"]
    assert env["GUNICORN_WORKERS"] == cpus.default_workers()
    assert env["GUNICORN_THREADS"] == -(-64 // env["GUNICORN_WORKERS"])  # 64, rounded up
    assert env["GUNICORN_WORKER_CLASS"] == "gthread"  # at most 12 workers, so threads > 1
    assert (env["GUNICORN_MAX_REQUESTS"], env["GUNICORN_MAX_REQUESTS_JITTER"]) == (10000, 1000)
    assert env["GUNICORN_PRELOAD_APP"] is True
    assert env["GUNICORN_BACKLOG"] == 2048
    assert (env["GUNICORN_TIMEOUT"], env["GUNICORN_GRACEFUL_TIMEOUT"]) == (30, 30)
    assert env["GUNICORN_KEEPALIVE"] == 0
    assert (env["GUNICORN_LOG_LEVEL"], env["GUNICORN_ACCESS_LOG"]) == ("info", True)
    assert env["GUNICORN_LIMIT_REQUEST_LINE"] == 4094
    assert env["GUNICORN_LIMIT_REQUEST_FIELDS"] == 100
    assert env["GUNICORN_LIMIT_REQUEST_FIELD_SIZE"] == 8190
    assert env["GUNICORN_CONTROL_SOCKET"] == ""
    assert "FORWARDED_ALLOW_IPS" not in env  # gunicorn reads it itself
    test_run_folders = {"DJANGO_STATIC_ROOT", "DJANGO_MEDIA_ROOT"}
    assert env.given == {"DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", *test_run_folders}


def test_django_defaults_are_the_production_ones(read):
    env = read(DJANGO_ALLOWED_HOSTS="")
    assert env["DJANGO_DEBUG"] is False
    assert env["DJANGO_ALLOWED_HOSTS"] == []
    assert env["DJANGO_SECURE_SSL_REDIRECT"] is True
    assert env["DJANGO_SECURE_HSTS_SECONDS"] == 31_536_000
    assert env["DJANGO_SECURE_COOKIES"] is True
    assert env["DATABASE_URL"]["NAME"] == str(PROJECT / "db.sqlite3")
    assert env["EMAIL_URL"]["EMAIL_HOST"] == "localhost"
    assert env["DJANGO_SERVER_EMAIL"] == env["DJANGO_DEFAULT_FROM_EMAIL"]


def test_debug_allows_local_hosts_and_a_development_key(read):
    env = read(DJANGO_DEBUG="true", DJANGO_SECRET_KEY="", DJANGO_ALLOWED_HOSTS="")
    assert env["DJANGO_ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
    assert env["DJANGO_SECRET_KEY"].startswith("django-insecure-")


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("GUNICORN_BIND", "127.0.0.1:9000", ["127.0.0.1:9000"]),
        ("GUNICORN_BIND", "localhost:80", ["localhost:80"]),
        ("GUNICORN_BIND", "[::1]:8000, unix:/run/app.sock", ["[::1]:8000", "unix:/run/app.sock"]),
        ("GUNICORN_WORKERS", "1", 1),
        ("GUNICORN_WORKERS", "256", 256),
        ("WEB_CONCURRENCY", "3", 3),
        ("GUNICORN_THREADS", "64", 64),
        ("GUNICORN_WORKER_CLASS", "gthread", "gthread"),
        ("GUNICORN_WORKER_CLASS", "SYNC", "sync"),
        ("GUNICORN_MAX_REQUESTS", "0", 0),
        ("GUNICORN_MAX_REQUESTS", "10000000", 10_000_000),
        ("GUNICORN_MAX_REQUESTS_JITTER", "0", 0),
        ("GUNICORN_MAX_REQUESTS_JITTER", "10000", 10000),
        ("GUNICORN_PRELOAD_APP", "false", False),
        ("GUNICORN_PRELOAD_APP", "0", False),
        ("GUNICORN_PRELOAD_APP", "yes", True),
        ("GUNICORN_BACKLOG", "1", 1),
        ("GUNICORN_BACKLOG", "65535", 65535),
        ("GUNICORN_TIMEOUT", "3600", 3600),
        ("GUNICORN_GRACEFUL_TIMEOUT", "1", 1),
        ("GUNICORN_KEEPALIVE", "300", 300),
        ("GUNICORN_LOG_LEVEL", "DEBUG", "debug"),
        ("GUNICORN_ACCESS_LOG", "off", False),
        ("GUNICORN_LIMIT_REQUEST_LINE", "0", 0),
        ("GUNICORN_LIMIT_REQUEST_LINE", "8190", 8190),
        ("GUNICORN_LIMIT_REQUEST_FIELDS", "32768", 32768),
        ("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", "65536", 65536),
        ("GUNICORN_CONTROL_SOCKET", "/run/gunicorn.ctl", "/run/gunicorn.ctl"),
        ("DJANGO_ALLOWED_HOSTS", "a.example, b.example", ["a.example", "b.example"]),
        ("DJANGO_CSRF_TRUSTED_ORIGINS", "https://a.example", ["https://a.example"]),
        ("DJANGO_SECURE_HSTS_SECONDS", "0", 0),
        ("DJANGO_ADMIN_URL", "staff/", "staff/"),
        ("DATABASE_POOL_MIN_SIZE", "0", 0),
        ("DATABASE_POOL_TIMEOUT", "2.5", 2.5),
        ("DJANGO_LOG_LEVEL", "warning", 30),
        ("DJANGO_LOG_FORMAT", "JSON", "json"),
        ("MEDIA_S3_BUCKET", " uploads ", "uploads"),
        ("MEDIA_S3_CUSTOM_DOMAIN", "cdn.example.com/media", "cdn.example.com/media"),
    ],
)
def test_valid_value(read, name, value, expected):
    assert read(**{name: value})[name] == expected


def test_empty_value_means_unset(read):
    default = read()
    empty = read(GUNICORN_WORKERS="", GUNICORN_BIND=" ", GUNICORN_LOG_LEVEL="")
    assert empty["GUNICORN_WORKERS"] == default["GUNICORN_WORKERS"]
    assert (empty["GUNICORN_BIND"], empty["GUNICORN_LOG_LEVEL"]) == (["0.0.0.0:8000"], "info")
    assert not {"GUNICORN_WORKERS", "GUNICORN_BIND"} & empty.given


def test_bind_follows_port_unless_given(read):
    assert read(PORT="5000")["GUNICORN_BIND"] == ["0.0.0.0:5000"]
    assert read(GUNICORN_BIND="127.0.0.1:9000")["GUNICORN_BIND"] == ["127.0.0.1:9000"]


def test_workers_precedence(read):
    assert read(GUNICORN_WORKERS="2", WEB_CONCURRENCY="7")["GUNICORN_WORKERS"] == 2
    assert read(GUNICORN_WORKERS="")["GUNICORN_WORKERS"] == 7  # WEB_CONCURRENCY is still 7


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
def test_default_threads_hold_64_connections(read, workers, threads, worker_class):
    env = read(GUNICORN_WORKERS=workers)
    assert (env["GUNICORN_THREADS"], env["GUNICORN_WORKER_CLASS"]) == (threads, worker_class)


def test_threads_select_gthread_and_sync_alone_means_one_thread(read):
    assert read(GUNICORN_THREADS="4")["GUNICORN_WORKER_CLASS"] == "gthread"
    env = read(GUNICORN_WORKERS="2", GUNICORN_WORKER_CLASS="sync", GUNICORN_THREADS="")
    assert (env["GUNICORN_THREADS"], env["GUNICORN_WORKER_CLASS"]) == (1, "sync")


def test_the_database_pool_follows_the_threads_of_a_worker(read):
    assert read(GUNICORN_WORKERS="4")["DATABASE_POOL_MAX_SIZE"] == 16
    assert read(GUNICORN_THREADS="3")["DATABASE_POOL_MAX_SIZE"] == 3
    assert read(DATABASE_POOL_MAX_SIZE="5")["DATABASE_POOL_MAX_SIZE"] == 5


def test_jitter_is_a_tenth_and_zero_max_requests_disables_it(read):
    assert read(GUNICORN_MAX_REQUESTS="5000")["GUNICORN_MAX_REQUESTS_JITTER"] == 500
    assert read(GUNICORN_MAX_REQUESTS="0")["GUNICORN_MAX_REQUESTS_JITTER"] == 0


def test_env_file_is_read_and_the_real_environment_wins(read, tmp_path, monkeypatch):
    env_file = tmp_path / "settings.env"
    env_file.write_text("GUNICORN_TIMEOUT=60\nGUNICORN_BACKLOG=100\n")
    env = read(ENV_FILE=str(env_file), GUNICORN_BACKLOG="200")
    assert (env["GUNICORN_TIMEOUT"], env["GUNICORN_BACKLOG"]) == (60, 200)
    assert "GUNICORN_TIMEOUT" not in os.environ  # environs keeps it to itself
    assert read(ENV_FILE="")["GUNICORN_TIMEOUT"] == 30
    assert read(ENV_FILE=str(tmp_path / "missing.env"))["GUNICORN_TIMEOUT"] == 30


def _a_folder(tmp_path: Path) -> Path:
    return tmp_path


def _not_utf_8(tmp_path: Path) -> Path:
    env_file = tmp_path / ".env"
    env_file.write_bytes("DJANGO_ADMIN_URL=café/\n".encode("latin-1"))
    return env_file


def _unreadable(tmp_path: Path) -> Path:
    env_file = tmp_path / ".env"
    env_file.write_text("DJANGO_DEBUG=true\n")
    env_file.chmod(0)
    return env_file


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_a_folder, "path must be a filename, not a directory."),
        (
            _not_utf_8,
            "'utf-8' codec can't decode byte 0xe9 in position 20: invalid continuation byte",
        ),
        pytest.param(
            _unreadable,
            "Permission denied",
            marks=pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file"),
        ),
    ],
    ids=["a folder", "not UTF-8", "unreadable"],
)
def test_an_env_file_that_cannot_be_read_is_the_only_line(read, tmp_path, make, reason):
    """Alone: the variables it would have set are unknown, so lines about them would mislead."""
    env_file = make(tmp_path)
    with pytest.raises(InvalidEnvironment) as invalid:
        read(ENV_FILE=str(env_file), DJANGO_DEBUG="maybe")
    assert invalid.value.lines == [f"ENV_FILE={str(env_file)!r} cannot be read: {reason}"]


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
    "DJANGO_DEBUG": ["maybe"],
    "DJANGO_CSRF_TRUSTED_ORIGINS": ["example.com"],
    "DJANGO_SECURE_HSTS_SECONDS": ["a year", "-1", "63072001"],
    "DJANGO_ADMIN_URL": ["admin", "/admin/"],
    "DATABASE_POOL_MIN_SIZE": ["-1", "many"],
    "DATABASE_POOL_MAX_SIZE": ["0", "1001"],
    "DATABASE_POOL_TIMEOUT": ["soon", "0", "601"],
    "DJANGO_LOG_LEVEL": ["loud"],
    "DJANGO_LOG_FORMAT": ["xml"],
    "MEDIA_S3_ENDPOINT_URL": ["s3.example.com"],
    "MEDIA_S3_CUSTOM_DOMAIN": ["https://cdn.example.com"],  # a host name, as links are made
}
INVALID = [
    pytest.param({name: value}, [f"{name}={value!r} is invalid: expected "], id=f"{name}={value}")
    for name, values in BAD_VALUES.items()
    for value in values
]
# Values refused with a message of their own: (environment, what its one line says).
REFUSED = {
    # Values that may hold a password are never shown.
    "DATABASE_URL": (
        {"DATABASE_URL": "nosuchdb://user:hunter2@host/db"},
        ["DATABASE_URL is invalid (its value is not shown): expected a database URL"],
    ),
    "EMAIL_URL": (
        {"EMAIL_URL": "smtp+tls://user:hunter2@smtp.example.com"},
        ["EMAIL_URL is invalid (its value is not shown): expected smtp://, smtps://"],
    ),
    "no-secret-key": (
        {"DJANGO_SECRET_KEY": ""},
        ["DJANGO_SECRET_KEY is not set: it is required while DJANGO_DEBUG is off; make one"],
    ),
    # A database URL must name a database that lasts: not none, not one in memory.
    "postgres-without-a-name": (
        {"DATABASE_URL": "postgres://user:hunter2@db:5432"},
        ["DATABASE_URL is invalid (its value is not shown): expected a database URL: sqlite:///"],
    ),
    "sqlite-with-two-slashes": (
        {"DATABASE_URL": "sqlite://db.sqlite3"},
        ["DATABASE_URL is invalid (its value is not shown): expected a database URL: sqlite:///"],
    ),
    "sqlite-in-memory": (
        {"DATABASE_URL": "sqlite:///:memory:"},
        ["DATABASE_URL is invalid (its value is not shown): expected a database URL: sqlite:///"],
    ),
    # The examples' placeholder, left in place, is a known secret.
    "placeholder-secret-key": (
        {"DJANGO_SECRET_KEY": PLACEHOLDER},
        [
            "DJANGO_SECRET_KEY is invalid (its value is not shown): it is the placeholder of the "
            'example files, refused while DJANGO_DEBUG is off; make one with python -c "'
        ],
    ),
    "placeholder-database-password": (
        {"DATABASE_URL": f"postgres://app:{PLACEHOLDER}@db:5432/app"},
        [
            "DATABASE_URL is invalid (its value is not shown): its password is the placeholder "
            "of the example files, refused while DJANGO_DEBUG is off; make one with python -c"
        ],
    ),
    # Inconsistent pairs: the message names both variables.
    "sync-with-threads": (
        {"GUNICORN_WORKER_CLASS": "sync", "GUNICORN_THREADS": "4"},
        ["GUNICORN_WORKER_CLASS='sync' is invalid: expected ", "GUNICORN_THREADS=4"],
    ),
    "jitter-above-max-requests": (
        {"GUNICORN_MAX_REQUESTS": "100", "GUNICORN_MAX_REQUESTS_JITTER": "101"},
        ["GUNICORN_MAX_REQUESTS_JITTER='101' is invalid: expected ", "GUNICORN_MAX_REQUESTS=100"],
    ),
    "jitter-without-recycling": (
        {"GUNICORN_MAX_REQUESTS": "0", "GUNICORN_MAX_REQUESTS_JITTER": "1"},
        ["GUNICORN_MAX_REQUESTS_JITTER='1' is invalid: expected ", "GUNICORN_MAX_REQUESTS=0"],
    ),
    "pool-max-below-min": (
        {"DATABASE_POOL_MIN_SIZE": "4", "DATABASE_POOL_MAX_SIZE": "2"},
        ["DATABASE_POOL_MAX_SIZE='2' is invalid: expected ", "DATABASE_POOL_MIN_SIZE=4"],
    ),
}
INVALID += [pytest.param(*case, id=name) for name, case in REFUSED.items()]


@pytest.mark.parametrize(("environ", "fragments"), INVALID)
def test_a_bad_value_is_refused_with_one_line_naming_it(read, environ, fragments):
    with pytest.raises(InvalidEnvironment) as invalid:
        read(**environ)
    (line,) = invalid.value.lines
    for fragment in fragments:
        assert fragment in line
    assert "hunter2" not in line


def test_placeholders_are_accepted_with_debug_on(read):
    database_url = f"postgres://app:{PLACEHOLDER}@db:5432/app"
    env = read(DJANGO_DEBUG="true", DJANGO_SECRET_KEY=PLACEHOLDER, DATABASE_URL=database_url)
    assert (env["DJANGO_SECRET_KEY"], env["DATABASE_URL"]["PASSWORD"]) == (PLACEHOLDER,) * 2


def test_a_copy_of_env_example_is_refused_until_its_secrets_are_made(read, clean_environ):
    clean_environ.delenv("DJANGO_SECRET_KEY")  # so that .env.example's own is read
    with pytest.raises(InvalidEnvironment) as invalid:
        read(ENV_FILE=str(PROJECT / ".env.example"))
    assert [line.split(" ")[0] for line in invalid.value.lines] == ["DJANGO_SECRET_KEY"]
    assert "placeholder" in invalid.value.lines[0]


def test_every_bad_value_is_reported_at_once_in_declaration_order(read):
    with pytest.raises(InvalidEnvironment) as invalid:
        read(GUNICORN_LOG_LEVEL="loud", GUNICORN_WORKERS="abc", DJANGO_DEBUG="maybe")
    names = [line.split("=")[0] for line in invalid.value.lines]
    assert names == ["DJANGO_DEBUG", "GUNICORN_WORKERS", "GUNICORN_LOG_LEVEL"]


def test_every_value_used_is_declared():
    code = "\n".join(
        path.read_text() for path in [*PROJECT.glob("config/*.py"), PROJECT / "gunicorn.conf.py"]
    )
    used = set(re.findall(r'env\["([A-Z_]+)"\]', code))
    assert used and used <= DECLARED.keys()


@pytest.mark.parametrize("name", DECLARED)
def test_every_variable_is_used_where_the_docs_say(name):
    variable = DECLARED[name]
    used_in = PROJECT / variable.used_in
    if not used_in.is_file():  # read by gunicorn itself
        assert variable.kind.parse is None
        return
    text = used_in.read_text()
    if used_in.name == "compose.yaml":  # compose applies the default itself: the same one
        default = f":-{variable.default}}}" if variable.default else ":?"
        assert "${" + name + default in text
    elif used_in.name == "Caddyfile":  # Caddy applies the default itself: the same one
        assert "{$" + f"{name}:{variable.default}}}" in text
        compose = (PROJECT / "compose.yaml").read_text()
        assert f"- {name}\n" in compose  # passed on from .env only when set there
    else:  # in that file, or in the default of a variable used there
        assert f'"{name}"' in text or re.search(rf"values\[['\"]{name}['\"]\]", DECLARATIONS)


def test_the_caddyfile_defaults_are_the_declared_ones():
    """Caddy applies each {$NAME:default} itself: the same default, and compose passes the
    value on from .env (for variables used by Python and the proxy alike, such as the body
    limit, too)."""
    lines = (PROJECT / "Caddyfile").read_text().splitlines()
    caddyfile = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    compose = (PROJECT / "compose.yaml").read_text()
    used = dict(re.findall(r"\{\$([A-Z_]+):([^}]*)\}", caddyfile))
    assert "REQUEST_BODY_MAX_MB" in used
    for name, default in used.items():
        assert default == str(DECLARED[name].default), name
        assert f"- {name}\n" in compose, name


def render(project: Path, *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "scripts/render_variables.py", *options]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)


def test_readme_and_env_example_are_rendered_from_the_declarations():
    result = render(PROJECT, "--check")
    assert result.returncode == 0, result.stderr


def test_a_changed_default_changes_the_readme_and_env_example_only(tmp_path):
    """What a user does: edit a default in its declaration, render, and nothing else."""
    copy = tmp_path / "project"
    for name in ("config", "scripts", "README.md", ".env.example", "compose.yaml"):
        source = PROJECT / name
        copier = shutil.copytree if source.is_dir() else shutil.copy
        copier(source, copy / name)
    declarations = copy / "config" / "variables.py"
    text = declarations.read_text()
    assert text.count("            2048,\n") == 1  # GUNICORN_BACKLOG's default
    declarations.write_text(text.replace("            2048,\n", "            1024,\n"))

    stale = render(copy, "--check")
    assert stale.returncode == 1
    assert "README.md differs" in stale.stderr and ".env.example differs" in stale.stderr
    assert render(copy).returncode == 0
    assert "| `GUNICORN_BACKLOG` | `1024` |" in (copy / "README.md").read_text()
    assert "# GUNICORN_BACKLOG=1024\n" in (copy / ".env.example").read_text()
    assert render(copy, "--check").returncode == 0


# --- Secrets from files (Docker and Kubernetes mount them as files) ----------------------------

KEY = "a-secret-key-read-from-a-file-that-is-long-enough-for-the-deploy-check-0123"


def test_a_secret_is_read_from_the_file_its_file_variable_names(read, clean_environ, tmp_path):
    secret = tmp_path / "django_secret_key"
    secret.write_text(KEY + "\n")  # `docker secret create` and editors add a newline
    clean_environ.delenv("DJANGO_SECRET_KEY")  # restored after the test, as the file sets it
    assert read(DJANGO_SECRET_KEY_FILE=str(secret))["DJANGO_SECRET_KEY"] == KEY


def test_a_secret_and_its_file_variable_both_set_are_refused(read, tmp_path):
    secret = tmp_path / "django_secret_key"
    secret.write_text(KEY)
    with pytest.raises(InvalidEnvironment) as invalid:
        read(DJANGO_SECRET_KEY_FILE=str(secret))  # the test run sets DJANGO_SECRET_KEY
    assert invalid.value.lines == [
        "DJANGO_SECRET_KEY and DJANGO_SECRET_KEY_FILE are both set: set one of them"
    ]


def test_reading_again_keeps_the_value_the_file_gave(read, clean_environ, tmp_path):
    """gunicorn.conf.py and then Django's settings read the environment in one process."""
    secret = tmp_path / "django_secret_key"
    secret.write_text(KEY)
    clean_environ.delenv("DJANGO_SECRET_KEY")
    assert read(DJANGO_SECRET_KEY_FILE=str(secret))["DJANGO_SECRET_KEY"] == KEY
    assert variables.read()["DJANGO_SECRET_KEY"] == KEY


def test_an_unreadable_secret_file_is_named_with_the_reason(read, clean_environ, tmp_path):
    clean_environ.delenv("DJANGO_SECRET_KEY")
    missing = tmp_path / "missing"
    with pytest.raises(InvalidEnvironment) as invalid:
        read(DJANGO_SECRET_KEY_FILE=str(missing))
    assert invalid.value.lines[0] == (
        f"DJANGO_SECRET_KEY_FILE={str(missing)!r} cannot be read: No such file or directory"
    )


def test_only_secrets_have_a_file_variable():
    with_files = {v.name for v in variables.VARIABLES if v.file_variable}
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL"} <= with_files
    assert all(DECLARED[name].secret for name in with_files)
