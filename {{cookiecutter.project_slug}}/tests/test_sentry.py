"""Error tracking (config/sentry.py): off without SENTRY_DSN; with one, a crashing request's
event reaches the DSN's server with its environment and release, and the probes and static
files are never traced. A fake ingestion server on 127.0.0.1 stands for Sentry: no network.
"""

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from wsgiref.util import setup_testing_defaults

import brotli
import pytest
import sentry_sdk
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from config import sentry, variables
from config.environment import InvalidEnvironment

PROJECT_ID = "1"


class Ingestion(ThreadingHTTPServer):
    """Sentry's envelope endpoint, recording each item (header and payload) it receives."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.items: list[dict] = []

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self.server_address[1]}/{PROJECT_ID}"

    def of_type(self, kind: str) -> list[dict]:
        return [payload for header, payload in self.items if header.get("type") == kind]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        body = {"gzip": gzip.decompress, "br": brotli.decompress, None: bytes}[
            self.headers.get("Content-Encoding")
        ](body)
        if self.path == f"/api/{PROJECT_ID}/envelope/":
            lines = [json.loads(line) for line in body.splitlines() if line.strip()]
            self.server.items += zip(lines[1::2], lines[2::2], strict=True)  # after the header
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def ingestion():
    server = Ingestion()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def start(clean_environ, ingestion):  # the server outlives the SDK: it gets the last events
    """start(NAME=value, ...): the variables read with those set, and config/sentry.py's init
    called with them, as config/settings.py does. Afterwards the SDK is off again."""

    def start_with(**environ: str):
        for name, value in environ.items():
            clean_environ.setenv(name, value)
        sentry.init(variables.read())

    yield start_with
    sentry_sdk.flush(timeout=5)
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)  # the SDK's inactive client


def request(path: str, **headers: str) -> int:
    """`path` asked of Django's WSGI handler, as gunicorn asks it (the test client is not WSGI,
    and Sentry traces at the WSGI entry point). Returns the status code."""
    environ = {"PATH_INFO": path, "HTTP_HOST": "testserver", "wsgi.url_scheme": "https"}
    environ |= {f"HTTP_{name.upper()}": value for name, value in headers.items()}
    setup_testing_defaults(environ)
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    # As the test client does: the test database's connection is not the request's to close.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        body = WSGIHandler()(environ, start_response)
        b"".join(body)
        body.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return int(statuses[0].split()[0])


@pytest.mark.urls("tests.test_error_pages")  # its /crash/ raises RuntimeError("boom-...")
def test_a_crashing_request_is_sent_with_environment_and_release(start, ingestion):
    start(SENTRY_DSN=ingestion.dsn, SENTRY_ENVIRONMENT="staging", SENTRY_RELEASE="v1.2.3")
    assert request("/crash/", cookie="sessionid=cookie-secret") == 500
    sentry_sdk.flush(timeout=5)

    (event,) = [event for event in ingestion.of_type("event") if "exception" in event]
    exception = event["exception"]["values"][-1]
    assert (exception["type"], exception["value"]) == ("RuntimeError", "boom-internal-detail")
    assert (event["environment"], event["release"]) == ("staging", "v1.2.3")
    assert event["request"]["url"] == "https://testserver/crash/"
    assert "cookie-secret" not in json.dumps(ingestion.items)  # no personal data


@pytest.mark.urls("tests.test_error_pages")
def test_nothing_is_sent_without_a_dsn(start, ingestion, clean_environ):
    clean_environ.setenv("SENTRY_DSN", "")  # empty: unset, as in .env.example
    start(SENTRY_RELEASE="v1.2.3")
    assert not sentry_sdk.get_client().is_active()
    assert request("/crash/") == 500
    sentry_sdk.flush(timeout=1)
    assert ingestion.items == []


def test_the_defaults_are_production_and_no_tracing(start, ingestion):
    start(SENTRY_DSN=ingestion.dsn)
    options = sentry_sdk.get_client().options
    assert options["environment"] == "production"
    collected = options["data_collection"]
    assert (collected["user_info"], collected["http_bodies"]) == (False, [])
    assert options["traces_sampler"] is None and options["traces_sample_rate"] is None
    assert request("/") == 200
    sentry_sdk.flush(timeout=5)
    assert ingestion.of_type("transaction") == []


@pytest.mark.django_db  # /readyz asks the database
def test_probes_and_static_files_are_never_traced(start, ingestion, collected_static):
    start(SENTRY_DSN=ingestion.dsn, SENTRY_TRACES_SAMPLE_RATE="1")
    static = next(path for path in collected_static.rglob("*.css"))
    static_url = "/static/" + static.relative_to(collected_static).as_posix()
    for path in ["/healthz", "/readyz", static_url]:
        request(path)
    assert request("/") == 200
    sentry_sdk.flush(timeout=5)

    (transaction,) = ingestion.of_type("transaction")
    assert transaction["request"]["url"] == "https://testserver/"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SENTRY_TRACES_SAMPLE_RATE", "2"),
        ("SENTRY_TRACES_SAMPLE_RATE", "-0.5"),
        ("SENTRY_TRACES_SAMPLE_RATE", "abc"),
        ("SENTRY_DSN", "sentry.example.com"),
        ("SENTRY_DSN", "https://o0.ingest.sentry.io/0"),  # no key
        ("SENTRY_DSN", "https://key@o0.ingest.sentry.io/"),  # no project
    ],
)
def test_a_bad_value_is_one_line_naming_it(clean_environ, name, value):
    clean_environ.setenv(name, value)
    with pytest.raises(InvalidEnvironment) as invalid:
        variables.read()
    (line,) = invalid.value.lines
    assert line.startswith(f"{name}={value!r} is invalid: expected a")
