"""Fixtures of the runtime tests: one generated project, and servers started from it that are
always killed at the end of their test (or module), passed or failed."""

from pathlib import Path

import pytest

from tests.conftest import explain, free_port, interpreter_for, run, run_cookiecutter
from tests.runtime.harness import Server, server_environment

ANSWERS = {"database": "sqlite", "python_version": "3.13", "run_smoke_test": "no"}


@pytest.fixture(scope="session")
def project(tmp_path_factory) -> Path:
    """A generated project with its own virtualenv, shared by every runtime test."""
    output = tmp_path_factory.mktemp("runtime-project")
    generation = run_cookiecutter(output, ANSWERS)
    assert generation.returncode == 0, explain(generation)
    (path,) = output.iterdir()
    sync = run(["uv", "sync", "--locked", "--python", interpreter_for("3.13")], cwd=path)
    assert sync.returncode == 0, explain(sync)
    return path


@pytest.fixture(scope="session")
def migrated_database(project, tmp_path_factory) -> str:
    """DATABASE_URL of an SQLite database with every migration applied (for /readyz)."""
    directory = tmp_path_factory.mktemp("database")
    environ = server_environment(directory, free_port())
    names = ("ENV_FILE", "DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL")
    result = run(
        [str(project / ".venv" / "bin" / "python"), "manage.py", "migrate", "--no-input"],
        project,
        DJANGO_SETTINGS_MODULE="config.settings",
        **{name: environ[name] for name in names},
    )
    assert result.returncode == 0, explain(result)
    return environ["DATABASE_URL"]


class Servers:
    """Starts servers from the project, each with its own port and log; kills them all."""

    def __init__(self, project: Path, directory: Path):
        self.project = project
        self.directory = directory
        self.started: list[Server] = []

    def start(self, *, workers=None, prefix=(), command=None, ready=True, **env) -> Server:
        """The project's own gunicorn (reading its gunicorn.conf.py) unless `command` says
        otherwise ("{port}" in it is replaced); `prefix` runs it under e.g. taskset.
        `workers`: wait for that many workers. ready=False: return at once."""
        port = free_port()
        command = [part.format(port=port) for part in command or [self.gunicorn]]
        log = self.directory / f"server-{len(self.started)}.log"
        environ = server_environment(self.directory, port, **env)
        server = Server([*prefix, *command], self.project, environ, port, log)
        self.started.append(server)
        return server.wait_ready(workers) if ready else server

    @property
    def gunicorn(self) -> str:
        return str(self.project / ".venv" / "bin" / "gunicorn")

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
