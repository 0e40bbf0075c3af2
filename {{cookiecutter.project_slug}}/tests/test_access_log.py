"""The access log (config/access_log.py): one line per request, with the fields people read,
that no request can split into two."""

import datetime
import json

import pytest
from gunicorn.config import Config

from config.access_log import AccessLogger, JsonAccessLogger, escaped, masked


class Response:
    status = "404 Not Found"
    sent = 399


def lines(logger_class, path: str, capfd, query: str = "", status: str = "") -> list[str]:
    config = Config()
    config.set("accesslog", "-")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "REMOTE_ADDR": "192.0.2.7"}
    if query:
        environ["QUERY_STRING"] = query
    response = Response()
    if status:
        response.status = status
    logger_class(config).access(response, None, environ, datetime.timedelta(microseconds=1234))
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


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_that_succeed_are_not_logged(path, capfd):
    assert lines(AccessLogger, path, capfd, status="200 OK") == []
    assert lines(JsonAccessLogger, path, capfd, status="200 OK") == []


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_that_fail_are_logged(path, capfd):
    (line,) = lines(AccessLogger, path, capfd, status="503 Service Unavailable")
    assert f'path="{path}" status=503' in line


def test_other_paths_that_succeed_are_logged(capfd):
    (line,) = lines(AccessLogger, "/healthz/", capfd, status="200 OK")
    assert 'path="/healthz/" status=200' in line


@pytest.mark.parametrize(
    ("query", "logged"),
    [
        ("q=shoes&page=2", "q=shoes&page=2"),
        ("password=hunter2&q=1", "password=***&q=1"),
        ("access_token=abc&API_KEY=k&next=/a", "access_token=***&API_KEY=***&next=/a"),
        ("pass%77ord=x&Auth+Code=y", "pass%77ord=***&Auth+Code=***"),  # names decoded to match
        ("secret", "secret"),  # a bare name has no value to mask
        ("csrfmiddlewaretoken=a=b&sessionid=s&x=", "csrfmiddlewaretoken=***&sessionid=***&x="),
        ("signature=s;code=c", "signature=***"),  # only & separates, as Django parses it
    ],
)
def test_the_query_string_is_logged_with_secret_values_masked(query, logged):
    assert masked(query) == logged


def test_a_line_has_the_query_string_after_the_path(capfd):
    (line,) = lines(AccessLogger, "/shop/", capfd, query="q=1&token=abc")
    assert 'path="/shop/?q=1&token=***" status=404' in line
    assert "abc" not in line


@pytest.mark.parametrize(
    "query",
    ["%", "%zz=1&&=&==&token", "a=%ff%fe&key=%0a", "\udcff=1", 'q=\n"x"&token=\r\n'],
)
def test_a_malformed_query_string_is_logged_escaped(query, capfd):
    (line,) = lines(AccessLogger, "/", capfd, query=query)
    assert line.count('"') - line.count('\\"') == 2  # quotes balanced
    assert "\n" not in line and "\r" not in line
    (entry,) = map(json.loads, lines(JsonAccessLogger, "/", capfd, query=query))
    assert entry["query"] == masked(query)


def test_a_forged_line_in_the_query_string_stays_one_line(capfd):
    query = 'q="\n2026-12-01 20:09:00 remote=10.0.0.1 method=GET path="/admin/'
    (line,) = lines(AccessLogger, "/", capfd, query=query)
    assert 'path="/?q=\\"\\n2026-12-01 20:09:00 remote=10.0.0.1' in line


def test_json_lines_have_the_masked_query_apart(capfd):
    (line,) = lines(JsonAccessLogger, "/shop/", capfd, query="q=1&password=x")
    entry = json.loads(line)
    assert (entry["path"], entry["query"]) == ("/shop/", "q=1&password=***")
