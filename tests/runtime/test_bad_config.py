"""Claim 8: bad configuration stops gunicorn before any worker starts. Every GUNICORN_*
variable given a bad value (text, a fraction, negative, zero where not allowed, absurdly
large, inconsistent with another) makes the real gunicorn exit non-zero at once, with one
line per bad variable naming it. What the Django settings refuse stops gunicorn and
manage.py alike, each with that one line."""

import re

import pytest

# Every variable gunicorn.conf.py reads as an integer, with its smallest allowed value.
INTEGERS = {
    "PORT": 1,
    "GUNICORN_WORKERS": 1,
    "WEB_CONCURRENCY": 1,
    "GUNICORN_THREADS": 1,
    "GUNICORN_MAX_REQUESTS": 0,
    "GUNICORN_MAX_REQUESTS_JITTER": 0,
    "GUNICORN_BACKLOG": 1,
    "GUNICORN_TIMEOUT": 1,
    "GUNICORN_GRACEFUL_TIMEOUT": 1,
    "GUNICORN_KEEPALIVE": 0,
    "GUNICORN_LIMIT_REQUEST_LINE": 0,
    "GUNICORN_LIMIT_REQUEST_FIELDS": 1,
    "GUNICORN_LIMIT_REQUEST_FIELD_SIZE": 1,
}
WORDS = ["GUNICORN_PRELOAD_APP", "GUNICORN_ACCESS_LOG", "GUNICORN_WORKER_CLASS",
         "GUNICORN_LOG_LEVEL"]  # fmt: skip
# gunicorn itself reads WEB_CONCURRENCY as its default worker count when it starts, before
# its config file: a value that is not a positive integer stops it there (last test).
CHECKED_BY_CONF = [name for name in INTEGERS if name != "WEB_CONCURRENCY"]

KINDS = {
    "text": dict.fromkeys([*CHECKED_BY_CONF, *WORDS], "ten"),
    "fraction": dict.fromkeys(CHECKED_BY_CONF, "2.5"),
    "negative": dict.fromkeys(CHECKED_BY_CONF, "-1"),
    "zero-not-allowed": {name: "0" for name, low in INTEGERS.items() if low > 0},
    "absurdly-large": dict.fromkeys(INTEGERS, "99999999999999999999"),
    "jitter-above-max-requests": {
        "GUNICORN_MAX_REQUESTS": "100",
        "GUNICORN_MAX_REQUESTS_JITTER": "101",
    },
    "jitter-without-recycling": {
        "GUNICORN_MAX_REQUESTS": "0",
        "GUNICORN_MAX_REQUESTS_JITTER": "10",
    },
    "sync-with-threads": {"GUNICORN_WORKER_CLASS": "sync", "GUNICORN_THREADS": "4"},
    "bind-without-port": {"GUNICORN_BIND": "localhost"},
    "bind-port-out-of-range": {"GUNICORN_BIND": "127.0.0.1:99999"},
}
# Which variable each inconsistent pair blames.
BLAMED = {
    "jitter-above-max-requests": ["GUNICORN_MAX_REQUESTS_JITTER"],
    "jitter-without-recycling": ["GUNICORN_MAX_REQUESTS_JITTER"],
    "sync-with-threads": ["GUNICORN_WORKER_CLASS"],
}


def _fails_before_any_worker(start_server, **environ) -> str:
    server = start_server(ready=False, **environ)
    exit_code = server.wait_exit(timeout=60)
    output = server.log()
    assert exit_code not in (0, None), output
    assert "Booting worker" not in output and "Listening at" not in output, output
    return output


@pytest.mark.parametrize("kind", KINDS)
def test_bad_values_stop_gunicorn_naming_each_variable(start_server, kind):
    environ = KINDS[kind]
    if "GUNICORN_BIND" not in environ:
        environ = {**environ, "GUNICORN_BIND": ""}  # so that PORT is read
    output = _fails_before_any_worker(start_server, **environ)
    blamed = BLAMED.get(kind, list(KINDS[kind]))
    lines = output.splitlines()
    print(f"\n{kind}: {len(blamed)} variables refused, e.g. {lines[0]}")
    assert all(" is invalid: expected " in line for line in lines), output
    named = [line.removeprefix("gunicorn.conf.py: ").split("=")[0] for line in lines]
    assert sorted(named) == sorted(blamed), output  # one line each, and nothing else


@pytest.mark.parametrize(
    ("value", "message"),
    [("ten", "invalid literal for int() with base 10: 'ten'"), ("-1", "Value must be positive")],
)
def test_a_bad_web_concurrency_stops_gunicorn_itself(start_server, value, message):
    """gunicorn's own check, before gunicorn.conf.py runs: a traceback naming the variable
    for text, a line that does not name it for a negative number (docs/production.md)."""
    output = _fails_before_any_worker(start_server, WEB_CONCURRENCY=value)
    assert message in output


def _placeholder(project) -> str:
    """The secret .env.example holds until one is made (config/variables.py, FRESH_SECRET)."""
    example = (project / ".env.example").read_text()
    return re.search(r"^DJANGO_SECRET_KEY=(.*)$", example, re.MULTILINE)[1]


MAKE_ONE = 'make one with python -c "import secrets; print(secrets.token_urlsafe(50))"'
NO_DATABASE = (
    "DATABASE_URL is invalid (its value is not shown): expected a database URL: "
    "sqlite:///path/to/file or postgres://user:password@host:5432/name"
)
# What the settings refuse, whichever program reads them: (environment, its one line), both
# with {placeholder}, {folder} (an empty one) and {latin_1} (a file that is not UTF-8) filled in.
SETTINGS_REFUSED = {
    "debug-maybe": (
        {"DJANGO_DEBUG": "maybe"},
        "DJANGO_DEBUG='maybe' is invalid: expected true or false (or yes/no, on/off, 1/0)",
    ),
    "postgres-without-a-name": ({"DATABASE_URL": "postgres://"}, NO_DATABASE),
    "sqlite-with-two-slashes": ({"DATABASE_URL": "sqlite://db.sqlite3"}, NO_DATABASE),
    "placeholder-secret-key": (
        {"DJANGO_SECRET_KEY": "{placeholder}"},
        "DJANGO_SECRET_KEY is invalid (its value is not shown): it is the placeholder of the "
        f"example files, refused while DJANGO_DEBUG is off; {MAKE_ONE}",
    ),
    "placeholder-database-password": (
        {"DATABASE_URL": "postgres://app:{placeholder}@db:5432/app"},
        "DATABASE_URL is invalid (its value is not shown): its password is the placeholder of "
        f"the example files, refused while DJANGO_DEBUG is off; {MAKE_ONE}",
    ),
    # Alone, though DJANGO_DEBUG is bad too: what the file would set is unknown.
    "env-file-a-folder": (
        {"ENV_FILE": "{folder}", "DJANGO_DEBUG": "maybe"},
        "ENV_FILE='{folder}' cannot be read: path must be a filename, not a directory.",
    ),
    "env-file-not-utf-8": (
        {"ENV_FILE": "{latin_1}", "DJANGO_DEBUG": "maybe"},
        "ENV_FILE='{latin_1}' cannot be read: 'utf-8' codec can't decode byte 0xe9 in position "
        "20: invalid continuation byte",
    ),
}


@pytest.mark.parametrize("case", SETTINGS_REFUSED)
@pytest.mark.parametrize("program", ["gunicorn.conf.py", "manage.py"])
def test_bad_settings_stop_gunicorn_and_manage_py_with_one_line(
    start_server, project, tmp_path, case, program
):
    latin_1 = tmp_path / "latin-1.env"
    latin_1.write_bytes("DJANGO_ADMIN_URL=café/\n".encode("latin-1"))
    names = {"placeholder": _placeholder(project), "folder": tmp_path, "latin_1": latin_1}
    environ, line = SETTINGS_REFUSED[case]
    environ = {name: value.format(**names) for name, value in environ.items()}
    manage_py = [str(project / ".venv" / "bin" / "python"), "manage.py", "migrate"]
    command = manage_py if program == "manage.py" else None  # None: the project's gunicorn
    output = _fails_before_any_worker(start_server, command=command, **environ)
    assert output == f"{program}: {line.format(**names)}\n"
