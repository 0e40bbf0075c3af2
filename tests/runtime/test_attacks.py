"""Attacks on gunicorn exposed directly, with the project's defaults: what an attack run on a
generated project found open (issue "Hardening"), each now closed, and the classes that held.
Malformed and oversized requests and smuggling are in test_bad_requests.py, stalled and
trickling connections in test_slow_clients.py, bad configuration in test_bad_config.py. Each
attack here is followed by a normal request, answered by the same workers, and nothing of the
server's internals in any answer."""

import json
import select
import socket
import time

import pytest

from support.client import HOST, exchange, get, status_of

BODY_MAX_MB = 1
FORGED_LINE = "2026-12-01 20:09:00,000 INFO django.security forged"
INTERNALS = (b"Traceback", b"SECRET_KEY", b"DEBUG", b"site-packages", b"root:")


@pytest.fixture(scope="module")
def temporary_files(tmp_path_factory):
    return tmp_path_factory.mktemp("tmp")


@pytest.fixture(scope="module")
def server(start_module_server, temporary_files):
    return start_module_server(
        workers=2,
        GUNICORN_WORKERS="2",
        REQUEST_BODY_MAX_MB=str(BODY_MAX_MB),
        TMPDIR=str(temporary_files),
        **{"DJANGO_SECURE_SSL_REDIRECT": "false"},
    )


@pytest.fixture
def survives(server):
    """The workers before the attack; after it, the same ones answer a normal request."""
    workers = server.worker_pids()
    yield
    assert get(server.port, "/test/pid").status == 200
    assert server.worker_pids() == workers  # none died or was replaced


def _post_head(length: int, content_type: str = "application/octet-stream") -> bytes:
    return (
        b"POST /test/pid HTTP/1.1\r\nHost: localhost\r\nCookie: csrftoken=forged\r\n"
        b"Content-Type: %s\r\nContent-Length: %d\r\n\r\n" % (content_type.encode(), length)
    )


# --- Request bodies -------------------------------------------------------------------------


def test_an_oversized_body_is_refused_before_it_is_read(server, survives, temporary_files):
    """200 MB announced: the 413 comes once the head is in, while the body is being sent."""
    length, sent, chunk = 200_000_000, 0, b"\0" * 65536
    with socket.create_connection((HOST, server.port), timeout=10) as sock:
        sock.sendall(_post_head(length, "multipart/form-data; boundary=x"))
        try:
            while not select.select([sock], [], [], 0)[0] and sent < length:
                sent += sock.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered and closed between two sends
        answer = sock.recv(65536)
    print(f"\n{length:,} bytes announced: {answer[:32]!r} after {sent:,} sent")
    assert status_of(answer) == 413
    assert b"Too large" in answer and b"Content-Security-Policy" in answer  # the project's page
    assert sent < 10 * BODY_MAX_MB * 1_000_000
    assert list(temporary_files.iterdir()) == []


def test_an_upload_within_the_limit_leaves_no_temporary_file(server, survives, temporary_files):
    """A 900 kB multipart body, read whole (into a temporary file while it arrives), then
    refused by the CSRF check: nothing stays in the temporary folder."""
    part = b"a" * 900_000
    body = (
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n\r\n'
        + part
        + b"\r\n--x--\r\n"
    )
    answer = exchange(server.port, _post_head(len(body), "multipart/form-data; boundary=x") + body)
    assert status_of(answer) == 403
    assert list(temporary_files.iterdir()) == []


# --- Logs -----------------------------------------------------------------------------------


def test_a_request_cannot_forge_a_log_line(server, survives):
    path = "/x%0a" + FORGED_LINE.replace(" ", "%20")
    assert get(server.port, path).status == 404
    time.sleep(0.5)
    lines = server.log().splitlines()
    assert not [line for line in lines if line.startswith(FORGED_LINE)], server.log_tail()
    assert [line for line in lines if "\\n" + FORGED_LINE in line]  # there, escaped


def test_in_json_mode_every_line_is_json(start_server):
    """Start-up, workers, access lines, Django's warnings and gunicorn's refusals alike."""
    server = start_server(workers=2, GUNICORN_WORKERS="2", DJANGO_LOG_FORMAT="json")
    assert get(server.port, "/nothing-here").status == 404
    assert status_of(exchange(server.port, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n")) == 400
    server.stop()
    lines = server.log().splitlines()
    names = set()
    for line in lines:
        names.add(json.loads(line)["name"])  # fails on the first line that is not JSON
    print(f"\n{len(lines)} lines, all JSON, from {sorted(names)}")
    assert {"gunicorn.error", "gunicorn.access", "django.request"} <= names


def test_in_json_mode_a_configuration_error_is_json_too(start_server):
    server = start_server(ready=False, DJANGO_LOG_FORMAT="json", GUNICORN_WORKERS="many")
    assert server.wait_exit(timeout=60) == 1
    (line,) = server.log().splitlines()
    entry = json.loads(line)
    assert entry["name"] == "gunicorn.conf.py" and entry["levelname"] == "CRITICAL"
    assert entry["message"].startswith("GUNICORN_WORKERS='many' is invalid: expected")


# --- Forwarded headers ----------------------------------------------------------------------

HTTPS_ONLY = {"DJANGO_SECURE_SSL_REDIRECT": "true", "DJANGO_SECURE_HSTS_SECONDS": "3600"}
FORGED_HTTPS = {"Host": "localhost", "X-Forwarded-Proto": "https"}


def test_x_forwarded_proto_from_a_client_that_is_not_the_proxy_is_ignored(start_server):
    """gunicorn takes the scheme only from FORWARDED_ALLOW_IPS (here, an address the client
    is not), and Django reads nothing else: still plain HTTP, so redirected, and no HSTS."""
    server = start_server(FORWARDED_ALLOW_IPS="10.9.9.9", **HTTPS_ONLY)
    response = get(server.port, "/test/pid", headers=FORGED_HTTPS)
    assert response.status == 301
    assert response.headers["Location"].startswith("https://")
    assert "Strict-Transport-Security" not in response.headers


def test_x_forwarded_proto_from_the_proxy_is_trusted(start_server):
    server = start_server(FORWARDED_ALLOW_IPS="127.0.0.1", **HTTPS_ONLY)
    response = get(server.port, "/test/pid", headers=FORGED_HTTPS)
    assert response.status == 200
    assert response.headers["Strict-Transport-Security"].startswith("max-age=3600")


# --- Paths and hosts ------------------------------------------------------------------------

TRAVERSALS = [
    "/static/../config/settings.py",
    "/static/%2e%2e/%2e%2e/config/settings.py",
    "/static/..%2f..%2fmanage.py",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/....//....//etc/passwd",
    "/..%00/etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_a_path_outside_the_static_files_is_never_served(server, survives, path):
    answer = exchange(server.port, b"GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path.encode())
    assert status_of(answer) in (400, 404), answer[:200]
    assert not [word for word in INTERNALS if word in answer]


def test_a_forged_host_gets_the_projects_400_page(server, survives):
    response = get(server.port, "/test/pid", headers={"Host": "attacker.example"})
    assert response.status == 400
    assert b"Bad request" in response.body  # the project's own page
    assert not [word for word in INTERNALS if word in response.body]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_gunicorn_refusals_carry_the_security_headers(server, survives):
    answer = exchange(server.port, b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n")
    head = answer.split(b"\r\n\r\n")[0]
    assert status_of(answer) == 400
    for header in (b"X-Content-Type-Options: nosniff", b"X-Frame-Options: DENY"):
        assert header in head
    assert b"Content-Security-Policy: default-src 'none'" in head
