"""gunicorn's access log, one line per request in a tenth of the time gunicorn's own takes.

gunicorn's logger builds a dictionary of every header and environ entry for each request,
then goes through Python's logging: about 35 us a request, a tenth of a small page's whole
cost. This one formats the few fields it logs and writes the line with one system call, which
is atomic on a pipe (so lines of several threads never mix). The path is escaped: a decoded
%0a in it would otherwise start a forged line. With DJANGO_LOG_FORMAT=json each line is a JSON
object, as Django's are.

Probes that succeed (/healthz and /readyz answering below 400) are not logged: one every few
seconds would bury the requests people read. A failing one is. The query string is logged as
sent, but with the values of parameters whose names look secret (token, password...) as ***.
"""

import json
import os
import time
from urllib.parse import unquote_plus

from gunicorn.glogging import Logger
from pythonjsonlogger.json import JsonFormatter

from config.logs import TEXT_FORMAT

STDOUT = 1  # the file descriptor; gunicorn.conf.py logs to "-"

PROBES = frozenset({"/healthz", "/readyz"})  # as in config/urls.py; logged when they fail

# A parameter whose name (decoded, lowercased) contains one of these has its value masked.
SECRET_NAMES = (
    "token", "password", "passwd", "secret", "key", "auth", "signature", "code", "session",
    "csrf",
)  # fmt: skip
MASK = "***"


def escaped(text: str) -> str:
    """Control characters and quotes as backslash escapes: one line, quotes balanced."""
    if text.isprintable() and '"' not in text:
        return text
    return text.encode("unicode_escape").decode("ascii").replace('"', '\\"')


def masked(query: str) -> str:
    """The query string as sent, but the values of secret-looking parameters replaced by ***.
    Never raises: a part that is not name=value is kept as it is (a bare name has no value)."""
    parts = query.split("&")
    for index, part in enumerate(parts):
        name, equals, _ = part.partition("=")
        if equals and any(word in unquote_plus(name).lower() for word in SECRET_NAMES):
            parts[index] = f"{name}={MASK}"
    return "&".join(parts)


class AccessLogger(Logger):
    """gunicorn's logger (logger_class in gunicorn.conf.py) with its own access lines."""

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        path = environ.get("PATH_INFO", "")
        status = int(str(resp.status)[:3])
        if path in PROBES and status < 400:
            return
        query = environ.get("QUERY_STRING", "")
        line = self.line(
            time=time.strftime("%Y-%m-%d %H:%M:%S"),
            remote=environ.get("REMOTE_ADDR", "-"),
            method=environ["REQUEST_METHOD"],
            path=path,
            query=masked(query) if query else "",
            status=status,
            bytes=resp.sent or 0,
            duration_ms=round(request_time.total_seconds() * 1000, 1),
        )
        if self.cfg.accesslog == "-":
            os.write(STDOUT, (line + "\n").encode())
        else:  # a file, syslog or a logging config: through gunicorn's handlers
            self.access_log.info(line)

    def line(self, **fields) -> str:
        return (
            f"{fields['time']} remote={fields['remote']} method={escaped(fields['method'])} "
            f'path="{escaped(target(fields))}" status={fields["status"]} '
            f"bytes={fields['bytes']} duration_ms={fields['duration_ms']}"
        )


def target(fields: dict) -> str:
    """The path and the query string, as in the request line."""
    return f"{fields['path']}?{fields['query']}" if fields["query"] else fields["path"]


class JsonAccessLogger(AccessLogger):
    """The same fields as one JSON object per line (DJANGO_LOG_FORMAT=json), and gunicorn's
    own lines (start, workers, errors with their tracebacks) as JSON too, with the fields of
    Django's: so that every line a log collector reads is JSON."""

    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter(TEXT_FORMAT))

    def line(self, **fields) -> str:
        return json.dumps({"name": "gunicorn.access", **fields})
