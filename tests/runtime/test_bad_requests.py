"""Claim 9: bad requests are refused by gunicorn before Django sees them, within the limits
set from the environment (GUNICORN_LIMIT_REQUEST_*), and the workers survive them."""

import pytest

from support.client import exchange, get, status_of

LINE, FIELDS, FIELD_SIZE = 512, 20, 256
HOST = b"Host: localhost\r\n"


def _request(target: bytes = b"/healthz", headers: bytes = b"", line: bytes | None = None):
    line = line if line is not None else b"GET " + target + b" HTTP/1.1"
    return line + b"\r\n" + HOST + headers + b"Connection: close\r\n\r\n"


def _headers(count: int, size: int = 8) -> bytes:
    return b"".join(b"X-Header-%d: %s\r\n" % (i, b"v" * size) for i in range(count))


CASES = {
    # Within the limits: served.
    "line-under-limit": (_request(b"/healthz?" + b"a" * (LINE - 40)), 200),
    "headers-under-limit": (_request(headers=_headers(FIELDS - 2)), 200),  # + Host, Connection
    "header-under-limit": (_request(headers=b"X-Big: " + b"b" * (FIELD_SIZE - 20) + b"\r\n"), 200),
    # Over them: refused.
    "line-over-limit": (_request(b"/healthz?" + b"a" * LINE), 414),
    "too-many-headers": (_request(headers=_headers(FIELDS)), 431),
    "header-over-limit": (_request(headers=b"X-Big: " + b"b" * FIELD_SIZE + b"\r\n"), 431),
    # Malformed.
    "garbage": (b"GARBAGE\r\n\r\n", 400),
    "unknown-http-version": (_request(line=b"GET /healthz HTTP/9.9"), 400),
    "lowercase-method": (_request(line=b"get /healthz HTTP/1.1"), 400),
    "nul-in-target": (_request(b"/heal\x00thz"), 400),
    "space-in-header-name": (_request(headers=b"Bad Header: x\r\n"), 400),
    "header-without-colon": (_request(headers=b"NoColon\r\n"), 400),
    "bare-newlines": (b"GET /healthz HTTP/1.1\n" + HOST.replace(b"\r\n", b"\n") + b"\n", 400),
    "text-content-length": (_request(headers=b"Content-Length: ten\r\n"), 400),
    # Smuggling: a body whose end two servers could see in different places.
    "length-and-chunked": (
        _request(headers=b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"),
        400,
    ),
    "two-lengths": (_request(headers=b"Content-Length: 3\r\nContent-Length: 4\r\n"), 400),
    "signed-length": (_request(headers=b"Content-Length: +3\r\n"), 400),
    "chunked-not-last": (_request(headers=b"Transfer-Encoding: chunked, identity\r\n"), 400),
    "obsolete-line-folding": (_request(headers=b"X-A: a\r\n b\r\n"), 400),
}


@pytest.fixture(scope="module")
def server(start_module_server):
    return start_module_server(
        workers=2,
        GUNICORN_WORKERS="2",
        GUNICORN_LIMIT_REQUEST_LINE=str(LINE),
        GUNICORN_LIMIT_REQUEST_FIELDS=str(FIELDS),
        GUNICORN_LIMIT_REQUEST_FIELD_SIZE=str(FIELD_SIZE),
    )


@pytest.mark.parametrize("case", CASES)
def test_bad_request_is_refused_and_the_workers_serve_on(server, case):
    request, expected = CASES[case]
    workers = server.worker_pids()
    assert status_of(exchange(server.port, request)) == expected
    assert get(server.port, "/healthz").status == 200  # the next normal request
    assert server.worker_pids() == workers  # no worker died or was replaced
