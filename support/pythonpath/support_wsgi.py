"""The benchmark's floor: the least a WSGI app can do, with no framework. gunicorn serves it
with the project's own gunicorn.conf.py (`gunicorn --config gunicorn.conf.py
support_wsgi:application`), so that the difference to /healthz is what Django adds."""

BODY = b'{"status": "ok"}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
