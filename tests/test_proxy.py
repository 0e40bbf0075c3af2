"""The proxy in front of gunicorn (Caddy, compose.yaml's `proxy`), for real: one generated
project brought up with `docker compose up`, then spoken to as clients and attackers would.

The tests run in this file's order through the stack's life: plain HTTP as generated; slow
clients; `web` recreated under load (into HTTPS-only Django settings); forged forwarding
headers; then HTTPS for a test domain with certificates from the proxy's own CA.
"""

import json
import re
import secrets
import select
import socket
import ssl
import time

import pytest

from support.client import HOST, IMMUTABLE, exchange, get, status_of
from support.generate import cookiecutter, explain
from support.load import Load
from tests.containers import WAIT, Stack, require_docker, web_override
from tests.runtime.sockets import Stalled, Tricklers

DOMAIN = "site.test"  # a reserved name (RFC 2606): never a real site
SLOW_CLIENTS = 50
# Django's settings for a site served over HTTPS: what a deployment's .env has.
HTTPS_SETTINGS = {
    "DJANGO_SECURE_SSL_REDIRECT": "true",
    "DJANGO_SECURE_HSTS_SECONDS": "31536000",
    "DJANGO_SECURE_COOKIES": "true",
    "DJANGO_ALLOWED_HOSTS": f"{DOMAIN},127.0.0.1",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require_docker()
    output = tmp_path_factory.mktemp("proxy")
    answers = {"python_version": "3.13", "database": "sqlite", "run_smoke_test": "no"}
    result = cookiecutter(output, answers)
    assert result.returncode == 0, explain(result)
    (project,) = output.iterdir()
    stack = Stack(project, f"tpl-proxy-{secrets.token_hex(3)}")
    try:
        build = stack.compose("build")
        assert build.returncode == 0, explain(build)
        up = stack.compose("up", "--detach", *WAIT)
        assert up.returncode == 0, explain(up) + explain(stack.compose("logs"))
        yield stack
    finally:
        stack.remove()


def https_override(stack: Stack) -> tuple:
    """A compose override giving `web` the settings of a site served over HTTPS."""
    return (web_override(stack.path / "compose.https.yaml", {"environment": HTTPS_SETTINGS}),)


def container_id(stack: Stack, service: str) -> str:
    return stack.inspect(service)["Id"]


# --- As generated: plain HTTP on 127.0.0.1 ----------------------------------------------------


def test_only_the_proxy_is_published(stack):
    web_ports = stack.inspect("web")["HostConfig"]["PortBindings"] or {}
    assert web_ports == {}
    proxy_ports = stack.inspect("proxy")["HostConfig"]["PortBindings"]
    assert proxy_ports["80/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(stack.port)}]
    assert proxy_ports["443/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(stack.https_port)}]
    assert get(stack.port, "/", headers={}).status == 200


def test_proxy_runs_read_only_with_one_capability_and_is_healthy(stack):
    container = stack.inspect("proxy")
    host = container["HostConfig"]
    assert host["ReadonlyRootfs"] is True
    assert host["CapDrop"] == ["ALL"] and host["CapAdd"] == ["CAP_NET_BIND_SERVICE"]
    assert "no-new-privileges:true" in host["SecurityOpt"]
    mounts = {mount["Destination"]: (mount["Type"], mount["RW"]) for mount in container["Mounts"]}
    assert mounts == {
        "/etc/caddy/Caddyfile": ("bind", False),
        "/srv/static": ("volume", False),
        "/data": ("volume", True),
        "/config": ("volume", True),
    }
    assert container["State"]["Health"]["Status"] == "healthy"


def test_caddyfile_is_valid_and_formatted(stack):
    """As docs/proxy.md tells users to check it, in the running proxy; and as `caddy fmt`
    writes it, so that Caddy logs no warning at start."""
    caddyfile = "/etc/caddy/Caddyfile"
    valid = stack.compose("exec", "-T", "proxy", "caddy", "validate", "--config", caddyfile)
    assert valid.returncode == 0, explain(valid)
    formatted = stack.compose("exec", "-T", "proxy", "caddy", "fmt", caddyfile)
    assert formatted.stdout == (stack.path / "Caddyfile").read_text()
    logs = stack.compose("logs", "--no-log-prefix", "proxy").stdout
    assert "not formatted" not in logs


@pytest.mark.parametrize("path", ["/", "/healthz", "/static/missing.css", "/missing/"])
def test_no_response_names_its_server(stack, path):
    response = get(stack.port, path, headers={})
    assert response.status in (200, 404)
    assert "Server" not in response.headers and "Via" not in response.headers, response.headers


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_proxy_serves_static_files_itself(stack, encoding):
    response = get(stack.port, hashed_stylesheet(stack), headers={"Accept-Encoding": encoding})
    assert response.status == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers["Content-Encoding"] == encoding
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Cross-Origin-Opener-Policy" not in response.headers  # Django never saw it


def hashed_stylesheet(stack) -> str:
    """The path of the content-hashed stylesheet the home page links to."""
    page = get(stack.port, "/", headers={}).body.decode()
    stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, page
    return stylesheet[1]


def test_a_static_file_missing_from_the_volume_is_served_by_gunicorn(stack):
    """A proxy without the files (the Swarm stack's, or one whose volume a release has not
    filled yet) asks gunicorn, where WhiteNoise serves the same file with the same caching."""
    stylesheet = hashed_stylesheet(stack)
    on_disk = "/srv" + stylesheet
    removed = stack.compose("run", "--rm", "--no-deps", "static", "rm", on_disk)
    assert removed.returncode == 0, explain(removed)
    try:
        response = get(stack.port, stylesheet, headers={})
        assert response.status == 200
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"  # Django's
        missing = get(stack.port, "/static/missing.css", headers={})
        assert missing.status == 404
        # Django's answer, not Caddy's (which adds X-Frame-Options and others, not this one).
        assert missing.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    finally:
        refilled = stack.compose("run", "--rm", "--no-deps", "static")
        assert refilled.returncode == 0, explain(refilled)


def test_a_body_over_request_body_max_mb_is_refused_before_gunicorn_sees_it(stack):
    """20 MB against the default 10: the answer comes once the headers are read, while the
    body is still being sent (what is in flight, buffered by the kernel and Docker's port
    forwarding, is discarded)."""
    chunk, sent = b"\0" * 65536, 0
    with socket.create_connection((HOST, stack.port), timeout=10) as sock:
        sock.sendall(
            b"POST /admin/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Length: 20000000\r\n\r\n"
        )
        try:
            while not select.select([sock], [], [], 0)[0] and sent < 20_000_000:
                sent += sock.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the proxy answered and closed between two sends: the answer waits unread
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413 "), answer
    assert sent < 20_000_000, "the whole body was sent before the answer"


@pytest.mark.parametrize(
    ("host", "path", "status"),
    [
        ("attacker.example", "/", 400),  # Django's: the Host fails CommonMiddleware
        ("127.0.0.1", "/" + "a" * 9000, 414),  # gunicorn's own: a request line too long
    ],
)
def test_error_pages_written_before_the_middleware_get_the_security_headers(
    stack, host, path, status
):
    """Such pages lack headers the site's pages carry; the proxy adds any that are missing
    and leaves those of Django's pages alone."""
    response = get(stack.port, path, headers={"Host": host})
    assert response.status == status
    headers = ["X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"]
    assert not [name for name in headers if name not in response.headers], response.headers
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    page = get(stack.port, "/", headers={})
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]  # Django's policy


def test_temporary_files_live_in_bounded_memory(stack):
    """/tmp, where uploads wait while they arrive, is a tmpfs of 64 MiB: a flood of them fills
    it, not the host's memory."""
    statvfs = "import os; s = os.statvfs('/tmp'); print(s.f_blocks * s.f_frsize)"
    size = stack.compose("exec", "-T", "web", "python", "-c", statvfs)
    assert size.returncode == 0, explain(size)
    assert int(size.stdout) == 64 * 1024 * 1024


def _raw(line: bytes, headers: bytes = b"", body: bytes = b"") -> bytes:
    return line + b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers + b"\r\n" + body


ATTACKS = {
    "length-and-chunked": _raw(
        b"POST / HTTP/1.1", b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"
    ),
    "two-lengths": _raw(
        b"POST / HTTP/1.1", b"Content-Length: 3\r\nContent-Length: 4\r\n", b"abcd"
    ),
    "space-in-header-name": _raw(b"GET / HTTP/1.1", b"Bad Header: x\r\n"),
    "nul-in-target": _raw(b"GET /a\x00b HTTP/1.1"),
    "unknown-version": _raw(b"GET / HTTP/9.9"),
    "headers-over-1-mb": _raw(b"GET / HTTP/1.1", b"X-Big: " + b"a" * 1_100_000 + b"\r\n"),
    "traversal": _raw(b"GET /static/../config/settings.py HTTP/1.1"),
    "encoded-traversal": _raw(b"GET /static/%2e%2e/%2e%2e/etc/passwd HTTP/1.1"),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_malformed_and_smuggling_requests_are_refused_through_the_proxy(stack, attack):
    """Refused by the proxy, or by gunicorn behind it, with a 4xx (the proxy answers an
    unknown HTTP version 505) and nothing of the server's internals; the site answers the
    next request."""
    answer = exchange(stack.port, ATTACKS[attack])
    status = status_of(answer) or 0
    assert 400 <= status < 500 or (attack == "unknown-version" and status == 505), answer[:300]
    assert not [word for word in (b"Traceback", b"SECRET_KEY", b"root:") if word in answer]
    assert get(stack.port, "/", headers={}).status == 200


def test_access_log_has_the_client_address_and_the_duration(stack):
    marker = f"/?request={secrets.token_hex(4)}"
    assert get(stack.port, marker, headers={}).status == 200
    logs = stack.compose("logs", "--no-log-prefix", "proxy").stdout
    (line,) = [line for line in logs.splitlines() if marker in line]
    entry = json.loads(line)
    assert entry["request"]["uri"] == marker and entry["status"] == 200
    assert entry["request"]["remote_ip"]  # the client (here, Docker's gateway): not the proxy
    assert 0 < entry["duration"] < 10
    assert "headers" not in entry["request"]  # cookies and tokens never reach the log
    web_logs = stack.compose("logs", "--no-log-prefix", "web").stdout
    assert marker not in web_logs  # one line per request: the proxy's


# --- Slow clients ------------------------------------------------------------------------------


def test_fifty_slow_clients_cost_the_proxy_not_gunicorn(stack):
    """50 connections trickling their headers a byte a second: normal requests are answered
    within a second throughout, and the proxy closes the slow ones after its header timeout
    (10 s, in the Caddyfile)."""
    tricklers = Tricklers(stack.port, SLOW_CLIENTS)
    try:
        time.sleep(2)  # every slow connection is accepted and sending
        seconds = []
        for _ in range(12):
            seconds.append(get(stack.port, "/", headers={}, timeout=5).seconds)
            time.sleep(0.5)
        time.sleep(10)  # past the header timeout: the trickling thread finds them closed
    finally:
        tricklers.close()
    print(f"\n{SLOW_CLIENTS} slow clients: slowest normal request {max(seconds) * 1000:.0f} ms")
    assert max(seconds) < 1
    assert tricklers.broken == SLOW_CLIENTS  # cut by the proxy, not held forever


def test_hundreds_of_silent_connections_cost_the_proxy_not_gunicorn(stack):
    """300 connections that send half a request's head and then nothing: normal requests are
    answered throughout, and the proxy closes them all after its header timeout (10 s)."""
    stalled = Stalled(stack.port, silent=300, trickling=0)
    try:
        seconds = []
        for _ in range(10):
            seconds.append(get(stack.port, "/", headers={}, timeout=5).seconds)
            time.sleep(0.5)
        assert stalled.all_ended(timeout=20), f"{len(stalled.ended)} of 300 closed"
        ended_at = sorted(at for at, _ in stalled.ended.values())
    finally:
        stalled.close()
    slowest, last = max(seconds) * 1000, ended_at[-1]
    print(f"\n300 silent: slowest normal request {slowest:.0f} ms, all closed by {last:.1f} s")
    assert max(seconds) < 1
    assert ended_at[-1] < 15


# --- web recreated under load -------------------------------------------------------------------


def test_recreating_web_under_load_fails_no_request(stack):
    """`docker compose up -d` after a change to web's settings recreates it: gunicorn stops
    (finishing its requests), a new one starts; the proxy holds and retries meanwhile."""
    proxy_before, web_before = container_id(stack, "proxy"), container_id(stack, "web")
    with Load(stack.port, "/healthz", connections=4, period=0.02, deadline=120) as load:
        time.sleep(2)
        up = stack.compose("up", "--detach", *WAIT, files=https_override(stack))
        time.sleep(2)
        result = load.stop()
    assert up.returncode == 0, explain(up)
    assert container_id(stack, "web") != web_before  # recreated
    assert container_id(stack, "proxy") == proxy_before  # and the proxy left alone
    wait = result.longest_gap()
    print(f"\nweb recreated under load: {result.summary()}, longest wait {wait:.2f} s")
    assert len(result.outcomes) > 200
    assert result.failures == []


# --- Forwarded headers --------------------------------------------------------------------------


def test_forged_forwarding_headers_do_not_make_plain_http_secure(stack):
    """web now redirects plain HTTP to HTTPS. A client claiming HTTPS itself is still on plain
    HTTP: the proxy replaces X-Forwarded-Proto, and gunicorn ignores X-Forwarded-Ssl."""
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on", "X-Forwarded-For": "6.6.6.6"}
    response = get(stack.port, "/", headers=forged)
    assert response.status == 301, response.headers
    assert response.headers["Location"] == f"https://127.0.0.1:{stack.port}/"
    assert "Strict-Transport-Security" not in response.headers


# --- HTTPS with a domain ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def https_stack(stack):
    """The same stack with SITE_ADDRESS set to a domain, certificates from the proxy's CA."""
    stack.proxy_environment = {"SITE_ADDRESS": DOMAIN, "PROXY_CERTIFICATE_ISSUER": "internal"}
    up = stack.compose("up", "--detach", *WAIT, files=https_override(stack))
    assert up.returncode == 0, explain(up)
    return stack


def tls_context(stack: Stack) -> ssl.SSLContext:
    """Trusting only the proxy's own root CA, read from its data volume."""
    root = stack.compose(
        "exec", "-T", "proxy", "cat", "/data/caddy/pki/authorities/local/root.crt"
    )
    assert root.returncode == 0, explain(root)
    context = ssl.create_default_context(cadata=root.stdout)
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


def https_connection(stack: Stack, context: ssl.SSLContext) -> ssl.SSLSocket:
    """A TLS connection to the proxy for DOMAIN, certificate checked, retried while the
    proxy is still obtaining it."""
    deadline = time.monotonic() + 30
    while True:
        sock = socket.create_connection((HOST, stack.https_port), timeout=10)
        try:
            return context.wrap_socket(sock, server_hostname=DOMAIN)
        except (ssl.SSLError, ConnectionResetError):
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_https_serves_a_certificate_for_the_domain_over_http2(https_stack):
    context = tls_context(https_stack)
    with https_connection(https_stack, context) as tls:
        certificate = tls.getpeercert()
        assert tls.selected_alpn_protocol() == "h2"
    names = [value for kind, value in certificate["subjectAltName"] if kind == "DNS"]
    assert names == [DOMAIN]
    issuer = dict(pair for rdn in certificate["issuer"] for pair in rdn)
    assert issuer["commonName"].startswith("Caddy Local Authority")


def test_https_page_has_hsts_and_secure_cookies(https_stack):
    context = tls_context(https_stack)
    context.set_alpn_protocols(["http/1.1"])
    with https_connection(https_stack, context) as tls:
        tls.sendall(
            f"GET /admin/login/ HTTP/1.1\r\nHost: {DOMAIN}\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode()
    assert head.startswith("HTTP/1.1 200 "), head
    assert "Strict-Transport-Security: max-age=31536000" in head
    assert re.search(r"Set-Cookie: csrftoken=.*; Secure", head), head


def test_plain_http_to_the_domain_is_redirected_to_https(https_stack):
    response = get(https_stack.port, "/some/page?x=1", headers={"Host": DOMAIN})
    assert response.status == 308
    assert response.headers["Location"] == f"https://{DOMAIN}/some/page?x=1"
