"""The access log (config/access_log.py): one line per request, with the fields people read,
that no request can split into two."""

import datetime
import json

import pytest
from gunicorn.config import Config

from config.access_log import AccessLogger, JsonAccessLogger, escaped


class Response:
    status = "404 Not Found"
    sent = 399


def lines(logger_class, path: str, capfd) -> list[str]:
    config = Config()
    config.set("accesslog", "-")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "REMOTE_ADDR": "192.0.2.7"}
    logger_class(config).access(Response(), None, environ, datetime.timedelta(microseconds=1234))
    return capfd.readouterr().out.splitlines()


def test_a_line_has_the_fields_people_read(capfd):
    (line,) = lines(AccessLogger, "/shop/", capfd)
    date, time, *fields = line.split(" ")
    datetime.datetime.fromisoformat(f"{date} {time}")
    assert fields == [
        "remote=192.0.2.7",
        "method=GET",
        'path="/shop/"',
        "status=404",
        "bytes=399",
        "duration_ms=1.2",
    ]


FORGED = '/x\n2026-12-01 20:09:00 remote=10.0.0.1 method=GET path="/admin/" status=200'


def test_a_decoded_line_break_cannot_forge_a_line(capfd):
    (line,) = lines(AccessLogger, FORGED, capfd)
    assert 'path="/x\\n2026-12-01 20:09:00 remote=10.0.0.1 method=GET path=\\"/admin/\\"' in line


def test_json_lines_are_json_objects(capfd):
    (line,) = lines(JsonAccessLogger, FORGED, capfd)
    entry = json.loads(line)
    assert entry["path"] == FORGED
    assert (entry["name"], entry["status"], entry["duration_ms"]) == ("gunicorn.access", 404, 1.2)


@pytest.mark.parametrize(
    ("text", "logged"),
    [("/plain", "/plain"), ("/café", "/café"), ('/"q"', '/\\"q\\"'), ("/\t\r", "/\\t\\r")],
)
def test_escaped(text, logged):
    assert escaped(text) == logged


def test_off_writes_nothing(capfd):
    config = Config()  # gunicorn's default: no access log
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/"}
    AccessLogger(config).access(Response(), None, environ, datetime.timedelta(0))
    assert capfd.readouterr().out == ""
