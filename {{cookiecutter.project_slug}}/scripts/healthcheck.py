"""Container health check (Dockerfile HEALTHCHECK, compose.yaml): exit 0 if /healthz answers 200.

`healthcheck.py /readyz` asks readiness instead (the Swarm stack: a task gets traffic, and a
rolling update goes on, only once its release can serve). The image has no curl; this is the
standard library only. It asks the address gunicorn listens on: the first TCP address of
GUNICORN_BIND, else port PORT (default 8000), over loopback.
"""

import os
import sys
import urllib.request

ANY_ADDRESS = {"", "0.0.0.0", "[::]"}  # noqa: S104  (gunicorn listens there; we ask loopback)


PROBES = ("/healthz", "/readyz")


def probe_url(probe: str) -> str:
    for address in os.environ.get("GUNICORN_BIND", "").split(","):
        address = address.strip()
        if address and not address.startswith("unix:"):
            host, port = address.rsplit(":", 1)
            return f"http://{'127.0.0.1' if host in ANY_ADDRESS else host}:{port}{probe}"
    return f"http://127.0.0.1:{os.environ.get('PORT', '').strip() or '8000'}{probe}"


def main(arguments: list[str]) -> int:
    probe = arguments[0] if arguments else "/healthz"
    if probe not in PROBES or len(arguments) > 1:
        print(f"usage: healthcheck.py [{' | '.join(PROBES)}]", file=sys.stderr)
        return 2
    url = probe_url(probe)
    # No proxy: an HTTP_PROXY in the container's environment must not catch a loopback request.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except OSError as error:  # refused, timed out, or an HTTP error status
        print(f"healthcheck: {url}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
