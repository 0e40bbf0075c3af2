"""HTTP over loopback to a server under test: one request, raw bytes, a free port."""

import contextlib
import http.client
import json
import re
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

HOST = "127.0.0.1"
# What the TLS-terminating proxy in front sends: the production settings redirect without it.
PROXY_HEADERS = {"Host": "localhost", "X-Forwarded-Proto": "https"}
# WhiteNoise's header for a content-hashed static file (the project's STATIC_HASHED_MAX_AGE).
IMMUTABLE = "max-age=31536000, public, immutable"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def json(self) -> dict:
        return json.loads(self.body)


def get(
    port: int, path: str, headers: dict[str, str] | None = None, timeout: float = 10
) -> Response:
    """One GET on a fresh connection, with the proxy's headers unless others are given."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    started = time.perf_counter()
    try:
        connection.request("GET", path, headers=PROXY_HEADERS if headers is None else headers)
        answer = connection.getresponse()
        body = answer.read()
        return Response(answer.status, dict(answer.headers), body, time.perf_counter() - started)
    finally:
        connection.close()


def healthy(port: int) -> bool:
    try:
        return get(port, "/healthz", timeout=2).status == 200
    except OSError:
        return False


def exchange(port: int, request: bytes, timeout: float = 10) -> bytes:
    """Send raw bytes, return everything the server answers before it closes."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    return b"".join(chunks)


def status_of(raw: bytes) -> int | None:
    match = re.match(rb"HTTP/1\.[01] (\d{3}) ", raw)
    return int(match[1]) if match else None


def concurrently(port: int, paths: list[str], timeout: float = 30) -> list[Response]:
    """The same moment, one request per path, each on its own connection."""
    with ThreadPoolExecutor(len(paths)) as pool:
        return list(pool.map(lambda path: get(port, path, timeout=timeout), paths))
