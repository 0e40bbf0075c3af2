"""Smoke test: does this project compile, configure, collect its static files and serve?

Run it with the project's own Python:  uv run python scripts/smoke_test.py
It needs no server and touches nothing in the project: the database and the collected static
files go to a temporary folder. Only the standard library is used here, so that
`--compile-only` also runs with a Python that lacks the project's dependencies.
"""

import argparse
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".venv", "staticfiles", "node_modules", ".git"}
# WhiteNoise's header for a content-hashed file (its lifetime: STATIC_HASHED_MAX_AGE).
IMMUTABLE = re.compile(r"max-age=[1-9][0-9]*, public, immutable")


class SmokeTestFailed(Exception):
    pass


def compile_python_files() -> str:
    files = [p for p in PROJECT_DIR.rglob("*.py") if not SKIPPED_DIRS & set(p.parts)]
    for path in files:
        try:
            compile(path.read_text(encoding="utf-8"), str(path), "exec")
        except SyntaxError as error:
            relative = path.relative_to(PROJECT_DIR)
            raise SmokeTestFailed(f"{relative} does not compile: {error}") from None
    return f"{len(files)} files"


def production_env(workdir: Path) -> dict[str, str]:
    """The settings a real deployment would give, with nothing read from .env."""
    return {
        **os.environ,
        "ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
    }


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise SmokeTestFailed(f"manage.py {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout


def check_deploy(env: dict[str, str]) -> str:
    manage(env, "check", "--deploy", "--fail-level", "WARNING")
    return "no issues"


def collect_static(env: dict[str, str]) -> str:
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")
    count = sum(1 for p in Path(env["DJANGO_STATIC_ROOT"]).rglob("*") if p.is_file())
    return f"{count} files"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    # The proxy header stands for the TLS-terminating proxy that sits in front in production.
    request = urllib.request.Request(
        url, headers={"Host": "localhost", "X-Forwarded-Proto": "https"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_until_serving(server: subprocess.Popen, base_url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SmokeTestFailed(f"gunicorn exited with code {server.returncode}")
        try:
            if get(f"{base_url}/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SmokeTestFailed("gunicorn did not answer /healthz within 30 s")


def check_responses(base_url: str) -> str:
    status, _, body = get(f"{base_url}/")
    if status != 200:
        raise SmokeTestFailed(f"GET / answered {status}")
    link = re.search(rb'href="(/static/[^"]+)"', body)
    if not link:
        raise SmokeTestFailed("GET / has no stylesheet link")
    stylesheet = link.group(1).decode()
    status, headers, _ = get(f"{base_url}{stylesheet}")
    cache_control = headers.get("Cache-Control", "")
    if status != 200 or not IMMUTABLE.fullmatch(cache_control):
        raise SmokeTestFailed(
            f"GET {stylesheet} answered {status} with Cache-Control {cache_control!r}, "
            f"expected 200 and {IMMUTABLE.pattern!r}"
        )
    return f"/healthz, / and {stylesheet} answered 200"


def serve_with_gunicorn(env: dict[str, str]) -> str:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2"}
    with tempfile.TemporaryFile(mode="w+") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_serving(server, base_url, time.monotonic() + 30)
            return check_responses(base_url)
        except SmokeTestFailed as failure:
            log.seek(0)
            output = log.read().strip()
            raise SmokeTestFailed(f"{failure}\ngunicorn's output:\n{output}") from None
        finally:
            stop(server)


def stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=35)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def run_step(number: int, title: str, step, *args) -> None:
    started = time.monotonic()
    print(f"  {number}. {title} ...", end=" ", flush=True)
    try:
        detail = step(*args)
    except SmokeTestFailed:
        print(f"FAILED ({time.monotonic() - started:.1f} s)", flush=True)
        raise
    print(f"ok ({detail}, {time.monotonic() - started:.1f} s)", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--compile-only", action="store_true", help="only step 1 (needs no dependencies)"
    )
    options = parser.parse_args()
    started = time.monotonic()
    print(f"Smoke test of {PROJECT_DIR.name}, with {sys.executable}")
    try:
        run_step(1, "every Python file compiles", compile_python_files)
        if not options.compile_only:
            with tempfile.TemporaryDirectory(prefix="smoke-") as workdir:
                env = production_env(Path(workdir))
                run_step(2, "settings load, check --deploy passes", check_deploy, env)
                run_step(3, "collectstatic into a temporary folder", collect_static, env)
                run_step(4, "gunicorn serves pages and static files", serve_with_gunicorn, env)
    except SmokeTestFailed as failure:
        print(f"Smoke test failed: {failure}", file=sys.stderr)
        return 1
    print(f"Smoke test passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
