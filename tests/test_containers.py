"""The generated Dockerfile and compose.yaml, for real: built, started and used as a user would.

One stack per database option is generated, built and brought up once (module-scoped), then the
tests run in this file's order through its life: serve, restart, stop, `down -v`. Those that
need Docker are skipped without it, except in CI (CI=true), where that is a failure.
"""

import json
import re
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from support.client import IMMUTABLE, get
from support.generate import TOOLS_BIN, cookiecutter, explain, run
from tests.containers import (
    WAIT,
    Stack,
    add_upload_app,
    admin_login,
    docker,
    logged_in_admin,
    require_docker,
    upload,
    views_override,
)

USER_ID = "10001"
BASE_IMAGE = "python:3.13-slim"  # the only Python the CI machine has an image of
MAX_ADDED_MB = 100  # what the image adds to its base: today about 81 MB, 32 of them boto3 (S3)


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def database(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def project(database, tmp_path_factory):
    output = tmp_path_factory.mktemp(f"containers-{database}")
    answers = {"python_version": "3.13", "database": database, "run_smoke_test": "no"}
    result = cookiecutter(output, answers)
    assert result.returncode == 0, explain(result)
    (path,) = output.iterdir()
    add_upload_app(path)  # the user's first app: a file field in the admin
    return path


@pytest.fixture(scope="module")
def stack(project, database):
    """The project built and brought up with `docker compose up -d --wait`; removed after."""
    require_docker()
    stack = Stack(project, f"tpl-{database}-{secrets.token_hex(3)}")
    try:
        started = time.monotonic()
        build = stack.compose("build")
        assert build.returncode == 0, explain(build)
        stack.build_seconds = time.monotonic() - started
        up = stack.compose("up", "--detach", *WAIT)
        assert up.returncode == 0, explain(up) + explain(stack.compose("logs"))
        yield stack
    finally:
        stack.remove()


# --- The files themselves -------------------------------------------------------------------


def test_compose_file_is_valid(project):
    require_docker("cli")
    result = run(["docker", "compose", "config", "--quiet"], cwd=project)
    assert result.returncode == 0, explain(result)


def test_dockerfile_passes_hadolint(project):
    result = run(
        [str(TOOLS_BIN / "hadolint"), "--failure-threshold", "warning", "Dockerfile"], project
    )
    assert result.returncode == 0, explain(result)
    assert result.stdout.strip() == "", result.stdout  # nothing to report, not even at info


# --- Up and serving -------------------------------------------------------------------------


def test_up_wait_leaves_every_service_ready(stack):
    services = stack.services()
    assert services["web"]["Health"] == "healthy", services
    assert (services["migrate"]["State"], services["migrate"]["ExitCode"]) == ("exited", 0)
    if "db" in services:
        assert services["db"]["Health"] == "healthy", services


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz"])
def test_page_and_probes_answer_200(stack, path):
    response = get(stack.port, path, headers={})
    assert response.status == 200, response.body


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_hashed_static_file_is_immutable_and_compressed(stack, encoding):
    page = get(stack.port, "/", headers={}).body.decode()
    stylesheet = re.search(r'href="(/static/[^"]+\.[0-9a-f]{12}\.css)"', page)  # hashed name
    assert stylesheet, page
    response = get(stack.port, stylesheet[1], headers={"Accept-Encoding": encoding})
    assert response.status == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert response.headers["Content-Encoding"] == encoding


def test_admin_login_page_renders(stack):
    response = get(stack.port, "/admin/login/", headers={})
    assert response.status == 200
    assert b'name="username"' in response.body and b'name="password"' in response.body


# --- The image and the container ------------------------------------------------------------

PID1 = """
import pathlib
lines = pathlib.Path("/proc/1/status").read_text().splitlines()
status = dict(line.split(":", 1) for line in lines)
print(status["Name"].strip(), status["Uid"].split()[0])
"""


def test_gunicorn_is_pid_1_and_not_root(stack):
    result = stack.compose("exec", "-T", "web", "python", "-c", PID1)
    assert result.returncode == 0, explain(result)
    assert result.stdout.split() == ["gunicorn", USER_ID]


WRITES = """
import errno, pathlib
pathlib.Path("/tmp/probe").write_text("tmpfs is writable")
try:
    pathlib.Path("/app/probe").write_text("must fail")
except OSError as error:
    print(errno.errorcode[error.errno])
"""


def test_image_carries_the_release_it_was_built_as(stack):
    # As the pipelines build it. (`up` builds it again, without: compose gives no release.)
    built = stack.compose("build", "--build-arg", "RELEASE=0123abc", "web")
    assert built.returncode == 0, explain(built)
    inspected = docker("image", "inspect", "--format", "{{json .Config.Env}}", stack.image)
    assert "SENTRY_RELEASE=0123abc" in json.loads(inspected.stdout), explain(inspected)


def test_container_is_read_only_without_privileges(stack):
    host = stack.inspect("web")["HostConfig"]
    assert host["ReadonlyRootfs"] is True
    (tmp,) = [mount for mount in host["Mounts"] if mount["Target"] == "/tmp"]
    assert tmp["Type"] == "tmpfs" and tmp["TmpfsOptions"]["SizeBytes"] == 64 * 1024 * 1024
    assert host["CapDrop"] == ["ALL"]
    assert "no-new-privileges:true" in host["SecurityOpt"]
    result = stack.compose("exec", "-T", "web", "python", "-c", WRITES)
    assert result.stdout.strip() == "EROFS", explain(result)


def test_logs_are_rotated(stack):
    for service in ("web", "proxy"):
        log_config = stack.inspect(service)["HostConfig"]["LogConfig"]
        assert log_config == {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}}


CONTENTS = """
import json, pathlib, shutil
print(json.dumps({
    "tools": [tool for tool in ("uv", "gcc", "cc", "make", "curl") if shutil.which(tool)],
    "files": [name for name in (".env", "tests", "scripts/smoke_test.py", "db.sqlite3")
              if pathlib.Path(name).exists()],
    "static": pathlib.Path("staticfiles/staticfiles.json").is_file(),
}))
"""


def test_image_is_lean_and_holds_no_secrets_or_tests(stack):
    result = stack.compose("exec", "-T", "web", "python", "-c", CONTENTS)
    assert result.returncode == 0, explain(result)
    assert json.loads(result.stdout) == {"tools": [], "files": [], "static": True}
    sizes = docker("image", "inspect", "--format", "{{.Size}}", stack.image, BASE_IMAGE)
    image, base = (int(size) / 1e6 for size in sizes.stdout.split())
    print(
        f"{stack.image}: {image:.0f} MB, {image - base:.0f} MB over {BASE_IMAGE}, "
        f"built in {stack.build_seconds:.1f} s",
        file=sys.stderr,
    )
    assert image - base < MAX_ADDED_MB


def test_database_is_on_a_named_volume(stack, database):
    if database == "postgresql":
        service, volume, target = "db", "db-data", "/var/lib/postgresql/data"
    else:
        service, volume, target = "web", "data", "/app/data"
    mounts = {mount["Destination"]: mount for mount in stack.inspect(service)["Mounts"]}
    assert mounts[target]["Type"] == "volume"
    assert mounts[target]["Name"] == f"{stack.name}_{volume}"


# --- Its life: restart, a bad setting, stop, down -------------------------------------------


def test_data_survives_restart(stack):
    password = stack.create_superuser("admin")
    restart = stack.compose("restart")
    assert restart.returncode == 0, explain(restart)
    up = stack.compose("up", "--detach", *WAIT)
    assert up.returncode == 0, explain(up)
    url, page = admin_login(stack.url(""), "admin", password)
    assert url == stack.url("/admin/"), page
    assert "Site administration" in page


# Any upload may be a page with a script: from the site's origin, a download, in a sandbox.
PAGE = b"<html><script>fetch('/admin/')</script></html>"
SANDBOX = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def assert_served_safely(stack, link: str, content: bytes, disposition: str) -> None:
    response = get(stack.port, link, headers={}, timeout=60)
    assert response.status == 200, response.body[:300]
    assert response.body == content
    assert response.headers["Content-Disposition"].startswith(disposition)
    assert response.headers["Content-Security-Policy"] == SANDBOX
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_uploads_through_the_admin_survive_a_new_web_container(stack):
    browser = logged_in_admin(stack.url(""), "uploader", stack.create_superuser("uploader"))
    # Larger than Django keeps in memory (2.5 MB): it goes through a temporary file in /tmp.
    photo = b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(5_000_000)
    started = time.monotonic()
    links = {
        "page": upload(browser, "page.html", PAGE),
        "photo": upload(browser, "photo.png", photo),
    }
    upload_seconds = time.monotonic() - started
    assert_served_safely(stack, links["page"], PAGE, "attachment")
    assert_served_safely(stack, links["photo"], photo, "inline")

    recreated = stack.compose("up", "--detach", "--force-recreate", "--no-deps", *WAIT, "web")
    assert recreated.returncode == 0, explain(recreated)
    assert_served_safely(stack, links["page"], PAGE, "attachment")
    assert_served_safely(stack, links["photo"], photo, "inline")
    print(f"{stack.name}: 2 uploads ({len(PAGE) + len(photo)} bytes) in {upload_seconds:.1f} s")


def test_backup_survives_deleting_the_volumes_and_restores(stack, tmp_path):
    password = stack.create_superuser("backed-up")
    browser = logged_in_admin(stack.url(""), "backed-up", password)
    link = upload(browser, "minutes.html", PAGE)
    backup = tmp_path / "site.backup"
    started = time.monotonic()
    made = stack.script("scripts/backup.sh", str(backup))
    backup_seconds = time.monotonic() - started
    assert made.returncode == 0, explain(made)
    assert not list(tmp_path.glob("*.partial"))

    down = stack.compose("down", "--volumes")
    assert down.returncode == 0, explain(down)
    up = stack.compose("up", "--detach", *WAIT)
    assert up.returncode == 0, explain(up)
    url, _ = admin_login(stack.url(""), "backed-up", password)
    assert url != stack.url("/admin/"), "the user outlived its volume: nothing was deleted"
    assert get(stack.port, link, headers={}).status == 404, "the upload outlived its volume"

    started = time.monotonic()
    restored = stack.script("scripts/restore.sh", str(backup))
    restore_seconds = time.monotonic() - started
    assert restored.returncode == 0, explain(restored)
    url, page = admin_login(stack.url(""), "backed-up", password)
    assert url == stack.url("/admin/"), page
    assert_served_safely(stack, link, PAGE, "attachment")
    media = backup.with_name(f"{backup.name}.media.tar")
    print(
        f"{stack.name}: backup {backup.stat().st_size} bytes and uploads "
        f"{media.stat().st_size} bytes in {backup_seconds:.1f} s, "
        f"restore in {restore_seconds:.1f} s"
    )


def test_restore_refuses_a_file_that_is_no_backup(stack, tmp_path):
    before = stack.compose("exec", "-T", "web", "python", "manage.py", "dumpdata", "auth.user")
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("not a database\n" * 100)
    refused = stack.script("scripts/restore.sh", str(not_a_backup))
    assert refused.returncode != 0
    up = stack.compose("up", "--detach", *WAIT)
    assert up.returncode == 0, explain(up)
    after = stack.compose("exec", "-T", "web", "python", "manage.py", "dumpdata", "auth.user")
    assert after.returncode == 0, explain(after)
    assert after.stdout == before.stdout  # nothing lost: every user still there


def test_bad_gunicorn_workers_stops_the_container_with_a_clear_message(stack):
    name = f"{stack.name}-bad-workers"
    started = stack.compose(
        "run", "--detach", "--no-deps", "--name", name, "-e", "GUNICORN_WORKERS=many", "web"
    )
    try:
        assert started.returncode == 0, explain(started)
        assert docker("wait", name).stdout.strip() == "1"
        logs = docker("logs", name)
        output = logs.stdout + logs.stderr
        assert "GUNICORN_WORKERS='many' is invalid: expected an integer" in output, output
        assert "Booting worker" not in output
    finally:
        docker("rm", "--force", name)


def test_stop_lets_a_running_request_finish(stack, tmp_path):
    override = views_override(tmp_path)
    up = stack.compose("up", "--detach", *WAIT, "web", files=(override,))
    assert up.returncode == 0, explain(up)
    with ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        request = pool.submit(get, stack.port, "/test/sleep?ms=2000", headers={}, timeout=60)
        time.sleep(1)  # the request is now inside the view's 2 s
        stop = stack.compose("stop", "web", files=(override,))
        response = request.result()
    assert stop.returncode == 0, explain(stop)
    assert (response.status, response.json()["slept_ms"]) == (200, 2000)
    assert time.monotonic() - started >= 2
    state = stack.inspect("web")["State"]
    assert (state["Status"], state["ExitCode"]) == ("exited", 0)  # not killed (137)


def test_down_v_removes_containers_volumes_and_network(stack):
    down = stack.compose("down", "--volumes")
    assert down.returncode == 0, explain(down)
    label = f"label=com.docker.compose.project={stack.name}"
    for kind in ("container", "volume", "network"):
        listed = docker(kind, "ls", *(["--all"] if kind == "container" else []), "-q", "-f", label)
        assert listed.stdout.strip() == "", f"{kind}s left: {listed.stdout}"
