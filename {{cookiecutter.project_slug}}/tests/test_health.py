"""/healthz and /readyz answer probes from inside the network, and tell the truth."""

import json
import wsgiref.util

import pytest
from django.core.management import call_command

from tests.conftest import run_django

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


UNREACHABLE_DATABASES = [
    "sqlite:////nonexistent-directory/db.sqlite3",
{%- if cookiecutter.database == "postgresql" %}
    "postgres://nobody:wrong@127.0.0.1:9/none",
{%- endif %}
]


@pytest.mark.parametrize("database_url", UNREACHABLE_DATABASES)
def test_readyz_is_unavailable_when_the_database_is_unreachable(database_url):
    result = run_django(
        "from django.test import Client\n"
        "r = Client().get('/readyz')\n"
        "print(r.status_code, r.content.decode())",
        DATABASE_URL=database_url,
        DATABASE_POOL_TIMEOUT="2",
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.splitlines()[-1].split(" ", 1)  # after the logged error
    assert status == "503"
    assert json.loads(body) == {"status": "unavailable", "reason": "database unreachable"}
