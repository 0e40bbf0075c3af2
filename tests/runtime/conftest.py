"""Fixtures of the runtime tests: one generated project, and servers started from it that are
always killed at the end of their test (or module), passed or failed."""

from pathlib import Path

import pytest

from support.environment import server_environment
from support.generate import explain, generate, install, interpreter_for, run
from support.server import Server

ANSWERS = {"database": "sqlite", "python_version": "3.13", "run_smoke_test": "no"}


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    """A generated project with its own virtualenv, shared by every runtime test."""
    path = generate(tmp_path_factory.mktemp("runtime-project"), ANSWERS)
    install(path, interpreter_for("3.13"))
    return path


@pytest.fixture(scope="session")
def migrated_database(project, tmp_path_factory) -> str:
    """DATABASE_URL of an SQLite database with every migration applied (for /readyz)."""
    environ = server_environment(tmp_path_factory.mktemp("database"))
    names = ("ENV_FILE", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL")
    result = run(
        [str(project / ".venv" / "bin" / "python"), "manage.py", "migrate", "--no-input"],
        project,
        DJANGO_SETTINGS_MODULE="config.settings",
        **{name: environ[name] for name in names},
    )
    assert result.returncode == 0, explain(result)
    return environ["DATABASE_URL"]


@pytest.fixture(scope="session")
def collected_static(project, tmp_path_factory) -> str:
    """DJANGO_STATIC_ROOT with collectstatic run (the pages' manifest, for /readyz)."""
    root = tmp_path_factory.mktemp("static")
    environ = server_environment(root)
    result = run(
        [str(project / ".venv" / "bin" / "python"), "manage.py", "collectstatic", "--no-input"],
        project,
        DJANGO_SETTINGS_MODULE="config.settings",
        **{name: environ[name] for name in ("ENV_FILE", "DJANGO_SECRET_KEY")},
        DJANGO_STATIC_ROOT=str(root),
    )
    assert result.returncode == 0, explain(result)
    return str(root)


class Servers:
    """Starts servers from the project, each with its own port and log; kills them all."""

    def __init__(self, project: Path, directory: Path):
        self.project = project
        self.directory = directory
        self.started: list[Server] = []

    def start(self, *, workers=None, prefix=(), command=None, ready=True, **env) -> Server:
        """The project's own gunicorn (reading its gunicorn.conf.py) unless `command` says
        otherwise ("{port}" in it is filled in); `prefix` runs it under e.g. taskset.
        `workers`: wait for that many workers. ready=False: return at once."""
        command = [*prefix, *(command or [str(self.project / ".venv" / "bin" / "gunicorn")])]
        log = self.directory / f"server-{len(self.started)}.log"
        environ = server_environment(self.directory, **env)
        server = Server(command, self.project, environ, log)
        self.started.append(server)
        return server.wait_ready(workers) if ready else server

    def kill_all(self) -> None:
        for server in self.started:
            server.kill()


@pytest.fixture
def start_server(project, tmp_path):
    """start_server(workers=N, prefix=[...], command=[...], **env) -> a ready Server."""
    servers = Servers(project, tmp_path)
    yield servers.start
    servers.kill_all()


@pytest.fixture(scope="module")
def start_module_server(project, tmp_path_factory):
    """The same, for a server shared by the tests of one module."""
    servers = Servers(project, tmp_path_factory.mktemp("servers"))
    yield servers.start
    servers.kill_all()
