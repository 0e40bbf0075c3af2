"""/healthz and /readyz answer probes from inside the network, and tell the truth."""
{% if cookiecutter.database == "postgresql" %}
import contextlib
{%- endif %}
import json
import os
{%- if cookiecutter.database == "postgresql" %}
import socket
import subprocess
import sys
import threading
{%- endif %}
import wsgiref.util

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import Client, override_settings
{% if cookiecutter.database == "postgresql" %}
from tests.conftest import PROJECT_DIR, run_django
{%- else %}
from tests.conftest import run_django
{%- endif %}

INTERNAL_HOSTS = ["web:8000", "10.1.2.3:8000", "my-pod.default.svc.cluster.local"]


def wsgi_get(path: str, host: str) -> tuple[str, dict, bytes]:
    """A GET through config.wsgi's application, as gunicorn calls it: status, headers, body."""
    from config.wsgi import application

    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "HTTP_HOST": host}
    wsgiref.util.setup_testing_defaults(environ)
    answered = {}

    def start_response(status, headers):
        answered.update(status=status, headers=dict(headers))

    body = b"".join(application(environ, start_response))
    return answered["status"], answered["headers"], body


@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_healthz_answers_any_host_over_plain_http_before_django(host):
    status, headers, body = wsgi_get("/healthz", host)
    assert status == "200 OK"  # not 400 (host) and not 301 (HTTPS redirect)
    assert json.loads(body) == {"status": "ok"}
    assert headers == {"Content-Type": "application/json", "Content-Length": str(len(body))}


@pytest.mark.django_db  # Django closes stale connections at each request's start
def test_other_paths_go_to_django():
    status, _, _ = wsgi_get("/healthz/", "evil.example")
    assert status.startswith("400 ")  # Django's Host check: this was not the probe


@pytest.mark.django_db
@pytest.mark.parametrize("host", INTERNAL_HOSTS)
def test_readyz_answers_any_host_when_database_is_migrated(client, host):
    response = client.get("/readyz", headers={"host": host})
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db(transaction=True)
def test_readyz_is_unavailable_while_migrations_are_unapplied(client, monkeypatch):
    from {{ cookiecutter.project_slug }} import health

    monkeypatch.setattr(health, "_migrations_applied", False)
    call_command("migrate", "sessions", "zero", verbosity=0)
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["reason"].startswith("unapplied migrations")
    finally:
        call_command("migrate", "sessions", verbosity=0)
    assert client.get("/readyz").status_code == 200


def readyz(client) -> tuple[int, str | None]:
    response = client.get("/readyz")
    return response.status_code, response.json().get("reason")


@pytest.mark.django_db
def test_readyz_is_unavailable_while_no_host_is_allowed(client):
    with override_settings(ALLOWED_HOSTS=[]):
        assert client.get("/", secure=True).status_code == 400  # every page
        assert readyz(client) == (503, "no allowed hosts")
    assert readyz(client) == (200, None)


@pytest.mark.django_db
def test_readyz_is_unavailable_until_static_files_are_collected(collected_static):
    client = Client(raise_request_exception=False)
    manifest = collected_static / staticfiles_storage.manifest_name
    manifest.rename(manifest.with_suffix(".away"))
    staticfiles_storage.hashed_files = {}  # as in a process started before collectstatic
    try:
        assert client.get("/", secure=True).status_code == 500  # every page
        assert readyz(client) == (503, "static files not collected")
    finally:
        manifest.with_suffix(".away").rename(manifest)
        recovered = readyz(client)  # it reads the manifest again
    assert recovered == (200, None)
    assert client.get("/", secure=True).status_code == 200


# Code for run_answering: a client, and what it answers printed as JSON, apart from the log.
ANSWERING = """\
import json
import os
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
call_command('migrate', verbosity=0)
client = Client(raise_request_exception=False)
def answer(value):
    print('answer', json.dumps(value))
def readyz():
    response = client.get('/readyz')
    answer([response.status_code, response.json().get('reason')])
name, password = f'ada{os.getpid()}', 'a-long-passphrase'
User.objects.create_user(name, password=password, is_staff=True)
connection.close()  # as at a request's end (the test client leaves connections open)
def make_read_only():  # the connection the next request gets
    connection.cursor().execute(os.environ['READ_ONLY'])
    if connection.vendor == 'postgresql':
        connection.close()  # back to the pool, as at a request's end
def log_in():  # which writes the user's last login and session
    form = {'username': name, 'password': password}
    answer(client.post('/admin/login/', form, secure=True).status_code)
"""

READ_ONLY = {
    # As a connection opened while the file was read-only stays: SQLite's query_only fails
    # writes the same way, even for root (whom a file's mode does not stop).
    "sqlite": "PRAGMA query_only = ON",
{%- if cookiecutter.database == "postgresql" %}
    # As a server turned read-only (as some managed ones do on a full disk).
    "postgresql": "SET default_transaction_read_only = on",
{%- endif %}
}


@pytest.fixture(params=list(READ_ONLY))
def database(request, tmp_path) -> tuple[str, str]:
    """An engine and the URL of a database whose connections really close: pytest's SQLite
    database lives in memory, whose connection Django never closes."""
    if request.param == "sqlite":
        return "sqlite", f"sqlite:///{tmp_path / 'db.sqlite3'}"
    from django.db import connection

    test = connection.settings_dict  # the migrated test database
    return "postgresql", (
        f"postgres://{test['USER']}:{test['PASSWORD']}@{test['HOST']}:{test['PORT']}/{test['NAME']}"
    )


def run_answering(database: tuple[str, str], code: str) -> list:
    """Run ANSWERING then `code` in a fresh Django on `database`, with one pooled connection
    (PostgreSQL) that make_read_only() makes read-only: what it answers."""
    engine, url = database
    pool = {"DATABASE_POOL_MIN_SIZE": "1", "DATABASE_POOL_MAX_SIZE": "1"}
    result = run_django(ANSWERING + code, DATABASE_URL=url, READ_ONLY=READ_ONLY[engine], **pool)
    assert result.returncode == 0, result.stderr
    answers = [line for line in result.stdout.splitlines() if line.startswith("answer ")]
    return [json.loads(line.removeprefix("answer ")) for line in answers]


@pytest.mark.django_db  # the PostgreSQL test database
def test_readyz_notices_a_connection_that_cannot_write_and_replaces_it(database):
    answers = run_answering(database, "readyz()\nmake_read_only()\nreadyz()\nreadyz()\n")
    assert answers == [[200, None], [503, "database read-only"], [200, None]]


@pytest.mark.django_db
def test_a_request_failing_on_the_database_leaves_no_broken_connection(database):
    answers = run_answering(database, "make_read_only()\nlog_in()\nlog_in()\n")
    assert answers == [500, 302]  # the failed request closed the connection: the next works


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes whatever the file's mode says")
@pytest.mark.parametrize("read_only", ["db.sqlite3", "."])
def test_readyz_notices_read_only_files_until_they_are_writable_again(tmp_path, read_only):
    path = str(tmp_path / read_only)
    answers = run_answering(
        ("sqlite", f"sqlite:///{tmp_path / 'db.sqlite3'}"),
        f"readyz()\nos.chmod({path!r}, 0o555)\nreadyz()\nos.chmod({path!r}, 0o755)\nreadyz()\n",
    )
    assert answers == [[200, None], [503, "database read-only"], [200, None]]


UNREACHABLE_DATABASES = [
    "sqlite:////nonexistent-directory/db.sqlite3",
{%- if cookiecutter.database == "postgresql" %}
    "postgres://nobody:wrong@127.0.0.1:9/none",  # connection refused
{%- endif %}
]


@pytest.mark.parametrize("database_url", UNREACHABLE_DATABASES)
def test_readyz_is_unavailable_at_once_when_the_database_is_unreachable(database_url):
    result = run_django(
        "import time\n"
        "from django.test import Client\n"
        "start = time.monotonic()\n"
        "r = Client().get('/readyz')\n"
        "print(round((time.monotonic() - start) * 1000), r.status_code, r.content.decode())",
        DATABASE_URL=database_url,  # with the default DATABASE_POOL_TIMEOUT, 10 s
    )
    assert result.returncode == 0, result.stderr
    milliseconds, status, body = result.stdout.splitlines()[-1].split(" ", 2)
    assert status == "503"
    assert json.loads(body) == {"status": "unavailable", "reason": "database unreachable"}
    assert int(milliseconds) < 1000  # a probe's timeout is 1-2 s
    assert "Not ready: database unreachable (" in result.stdout  # the details, in one line
    assert "Traceback" not in result.stdout + result.stderr
{%- if cookiecutter.database == "postgresql" %}


class Outage:
    """A TCP relay to the PostgreSQL server that can stop answering, as a black-holed host
    does: it accepts connections and holds them silent until restore()."""

    def __init__(self, server: tuple[str, int]):
        self.server = server
        self.answering = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                threading.Thread(target=self.relay, args=(client,), daemon=True).start()

    def relay(self, client: socket.socket):
        self.answering.wait()
        server = socket.create_connection(self.server)
        for source, target in ((client, server), (server, client)):
            threading.Thread(target=pipe, args=(source, target), daemon=True).start()

    def restore(self):
        self.answering.set()


def pipe(source: socket.socket, target: socket.socket):
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
        target.shutdown(socket.SHUT_WR)


READYZ_UNTIL_READY = """
import time
from django.test import Client
def readyz():
    start = time.monotonic()
    response = Client().get('/readyz')
    return response.status_code, round((time.monotonic() - start) * 1000)
print('answer', *readyz(), flush=True)
input()  # the server answers again
start = time.monotonic()
while readyz()[0] != 200 and time.monotonic() - start < 30:
    time.sleep(0.1)
print('answer', round((time.monotonic() - start) * 1000), flush=True)
"""


def next_answer(django: subprocess.Popen) -> list[str]:
    """The next line READYZ_UNTIL_READY answers, after the log's."""
    while not (line := django.stdout.readline()).startswith("answer "):
        assert line, "Django ended"
    return line.split()[1:]


@pytest.mark.django_db
def test_readyz_fails_fast_while_postgresql_does_not_answer_and_recovers():
    from django.db import connection

    database = connection.settings_dict  # the migrated test database
    outage = Outage((database["HOST"], int(database["PORT"])))
    url = f"postgres://{database['USER']}:{database['PASSWORD']}@127.0.0.1:{outage.port}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    env["DATABASE_URL"] = f"{url}/{database['NAME']}"
    with subprocess.Popen(
        [sys.executable, "-c", f"import django\ndjango.setup()\n{READYZ_UNTIL_READY}"],
        cwd=PROJECT_DIR,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as django:
        status, milliseconds = next_answer(django)
        assert status == "503"
        assert int(milliseconds) < 1000  # not DATABASE_POOL_TIMEOUT's 10 s
        outage.restore()
        django.stdin.write("\n")
        django.stdin.flush()
        (milliseconds,) = next_answer(django)
        assert int(milliseconds) < 5000  # 200 again, without a restart
    outage.listener.close()
{%- endif %}
