"""Claim 7: GUNICORN_BACKLOG is the listening socket's backlog: the queue of connections the
kernel completes while every worker is busy (`ss -ltn` shows it as Send-Q). The kernel caps
it at net.core.somaxconn."""

from pathlib import Path

import pytest

from tests.runtime.sockets import listen_backlog

SOMAXCONN = int(Path("/proc/sys/net/core/somaxconn").read_text())


@pytest.mark.parametrize(("value", "expected"), [("64", 64), ("777", 777), (None, 2048)])
def test_backlog_is_the_listening_sockets_backlog(start_server, value, expected):
    settings = {"GUNICORN_BACKLOG": value} if value else {}
    server = start_server(GUNICORN_WORKERS="1", **settings)
    backlog = listen_backlog(server.port)
    print(f"\nGUNICORN_BACKLOG={value or '(default)'}: ss -ltn Send-Q {backlog}")
    assert backlog == min(expected, SOMAXCONN)
