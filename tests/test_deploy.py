"""scripts/deploy.py for real, against the local Docker engine, as on a deploy host.

One generated project (PostgreSQL) is built once; the tests then run in this file's order
through a host's life: deploy v1, deploy v2, refuse a broken v3 (its /readyz fails), roll a v3
back when the canary is skipped, stop on a failing migration and on an image that cannot be
pulled, queue a second deploy behind a running one, and roll back by hand. A light load (a GET
every 20 ms) runs through each deploy; each test prints what users saw. Skipped without Docker,
except in CI (CI=true), where that is a failure.
"""

import fcntl
import json
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest

from support.client import get
from support.generate import cookiecutter, explain, run, tool_env
from support.load import LoadResult
from tests.containers import Stack, docker, require_docker
from tests.deploying import (
    FAILING_MIGRATION,
    UNREADY_SETTINGS,
    VERSION_URL,
    build_variant,
    environment,
    report,
    watching,
)

BROKEN_TIMEOUT = "30"  # seconds deploy.py waits for a v3 that never becomes ready
FIGURES: list[str] = []  # one line per deploy, printed at the end of the module


@dataclass
class Outcome:
    result: subprocess.CompletedProcess
    load: LoadResult
    history: dict  # the last line of .deploy/history.jsonl

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


class DeployHost:
    """The generated project as a deploy host: compose project `name`, images name-app:TAG."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.path = stack.path
        self.env = environment(stack)

    def image(self, tag: str) -> str:
        return f"{self.stack.name}-app:{tag}"

    def command(self, *args: str) -> list[str]:
        return [sys.executable, "scripts/deploy.py", *args]

    def deploy(self, label: str, *args: str) -> Outcome:
        with watching(self.stack.port) as load:
            result = run(self.command(*args), self.path, **self.env)
        history = self.path / ".deploy" / "history.jsonl"
        last = json.loads(history.read_text().splitlines()[-1]) if history.exists() else {}
        seconds = ", ".join(f"{step} {value:.1f} s" for step, value in last["seconds"].items())
        figure = f"{label}: exit {result.returncode} ({seconds}); {report(load.result)}"
        FIGURES.append(figure)
        print(figure, file=sys.stderr)
        return Outcome(result, load.result, last)

    def record(self, name: str) -> str:
        path = self.path / ".deploy" / name
        return path.read_text().strip() if path.exists() else ""

    def serving(self) -> str:
        try:
            return get(self.stack.port, VERSION_URL).body.decode().strip()
        except OSError:
            return ""


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    require_docker()
    output = tmp_path_factory.mktemp("deploy")
    generated = cookiecutter(output, {"database": "postgresql", "run_smoke_test": "no"})
    assert generated.returncode == 0, explain(generated)
    (project,) = output.iterdir()
    stack = Stack(project, f"tpl-deploy-{secrets.token_hex(3)}")
    host = DeployHost(stack)
    variants = tmp_path_factory.mktemp("variants")
    try:
        built = stack.compose("build")
        assert built.returncode == 0, explain(built)
        base = stack.image
        home = f"{project.name}/templates/{project.name}/home.html"  # the variant's tag
        for tag in ("v1", "v2"):
            build_variant(base, host.image(tag), variants / tag, {home: tag})
        build_variant(
            base,
            host.image("v3"),
            variants / "v3",
            {home: "v3", "unready_settings.py": UNREADY_SETTINGS},
            env="DJANGO_SETTINGS_MODULE=unready_settings",
        )
        migration_settings = (
            "from config.settings import *  # noqa: F403\n\n"
            f"MIGRATION_MODULES = {{'{project.name}': 'failing_migrations'}}\n"
        )
        build_variant(
            base,
            host.image("v3-migration"),
            variants / "v3-migration",
            {
                home: "v3-migration",
                "failing_migrations/__init__.py": "",
                "failing_migrations/0001_fails.py": FAILING_MIGRATION,
                "migration_settings.py": migration_settings,
            },
            env="DJANGO_SETTINGS_MODULE=migration_settings",
        )
        yield host
    finally:
        print("\n".join(["", "Deploys (what the load saw):", *FIGURES]), file=sys.stderr)
        stack.remove()  # containers (one-off runs too), volumes, network, the built image
        for tag in ("v1", "v2", "v3", "v3-migration"):
            docker("image", "rm", host.image(tag))


def test_first_deploy_becomes_ready(host):
    outcome = host.deploy("v1, first deploy", host.image("v1"))
    assert outcome.result.returncode == 0, explain(outcome.result)
    assert host.serving() == "v1"
    assert host.record("current") == host.image("v1")
    assert host.record("previous") == ""
    assert outcome.history["outcome"] == "deployed"


def test_deploy_v2_replaces_v1(host):
    outcome = host.deploy("v1 -> v2", host.image("v2"))
    assert outcome.result.returncode == 0, explain(outcome.result)
    assert host.serving() == "v2"
    assert (host.record("current"), host.record("previous")) == (
        host.image("v2"),
        host.image("v1"),
    )
    # Users saw v1, then v2, and no failed request: the proxy held them during the swap.
    assert set(outcome.load.bodies()) <= {"v1", "v2"}
    assert outcome.load.failures == []
    assert "candidate" in outcome.history["seconds"]  # the canary ran before the swap


def test_broken_v3_is_refused_and_v2_keeps_serving(host):
    outcome = host.deploy("v2 -> broken v3", "--timeout", BROKEN_TIMEOUT, host.image("v3"))
    assert outcome.result.returncode == 1, explain(outcome.result)
    assert "the new image is not ready, so web was left alone" in outcome.output
    assert "database unreachable" in outcome.output  # the reason /readyz gave
    assert host.serving() == "v2"
    assert outcome.load.failures == []  # v2 never stopped
    assert set(outcome.load.bodies()) == {"v2"}
    assert host.record("current") == host.image("v2")
    assert outcome.history["outcome"] == "failed"


def test_broken_v3_without_canary_is_rolled_back_to_v2(host):
    outcome = host.deploy(
        "v2 -> broken v3, no canary: rollback",
        "--no-canary",
        "--timeout",
        BROKEN_TIMEOUT,
        host.image("v3"),
    )
    assert outcome.result.returncode == 1, explain(outcome.result)
    assert f"rolled back to {host.image('v2')}" in outcome.output
    assert host.serving() == "v2"
    assert [o.body.strip() for o in outcome.load.outcomes if o.ok][-1] == b"v2"
    assert (host.record("current"), host.record("previous")) == (
        host.image("v2"),
        host.image("v1"),
    )
    assert "rollback" in outcome.history["seconds"]


def test_failing_migration_stops_before_web_is_touched(host):
    outcome = host.deploy("v2 -> v3 whose migration fails", host.image("v3-migration"))
    assert outcome.result.returncode == 1, explain(outcome.result)
    assert "migrate failed" in outcome.output
    assert "this migration fails on purpose" in outcome.output
    assert outcome.load.failures == []
    assert host.serving() == "v2"


def test_image_that_cannot_be_pulled_changes_nothing(host):
    # A registry on a closed loopback port: the pull is attempted for real and fails at once.
    outcome = host.deploy("v2 -> unpullable image", "127.0.0.1:9/nowhere/app:v9")
    assert outcome.result.returncode == 1, explain(outcome.result)
    assert "could not pull 127.0.0.1:9/nowhere/app:v9" in outcome.output
    assert outcome.load.failures == []
    assert host.serving() == "v2"


def test_a_second_deploy_waits_for_the_running_one(host):
    with (host.path / ".deploy" / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as a deploy in progress holds it
        waiting = subprocess.Popen(
            host.command(host.image("v2")),
            cwd=host.path,
            env=tool_env(**host.env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        time.sleep(3)
        assert waiting.poll() is None  # still waiting for the lock
    output, _ = waiting.communicate(timeout=600)
    assert waiting.returncode == 0, output
    assert "another deploy is running on this host; waiting for it" in output
    assert host.serving() == "v2"


def test_rollback_by_hand_deploys_the_previous_image(host):
    outcome = host.deploy("manual rollback v2 -> v1", "--rollback")
    assert outcome.result.returncode == 0, explain(outcome.result)
    assert host.serving() == "v1"
    assert (host.record("current"), host.record("previous")) == (
        host.image("v1"),
        host.image("v2"),
    )
    outcomes = [
        json.loads(line)["outcome"]
        for line in (host.path / ".deploy" / "history.jsonl").read_text().splitlines()
    ]
    assert outcomes == ["deployed", "deployed", "failed", "failed", "failed", "failed"] + [
        "deployed",
        "deployed",
    ]


def test_records_are_plain_files_next_to_compose_yaml(host):
    records = host.path / ".deploy"
    assert sorted(path.name for path in records.iterdir()) == [
        "current",
        "history.jsonl",
        "lock",
        "previous",
    ]
    assert (records / "current").read_text() == host.image("v1") + "\n"


def test_refuses_to_start_without_the_host_files(tmp_path):
    # Needs no Docker: the script checks its folder before anything else.
    generated = cookiecutter(tmp_path, {"database": "sqlite", "run_smoke_test": "no"})
    assert generated.returncode == 0, explain(generated)
    (project,) = tmp_path.iterdir()
    (project / ".env").unlink()
    result = run([sys.executable, "scripts/deploy.py", "example/app:v1"], project)
    assert result.returncode == 2, explain(result)
    assert f"{project / '.env'} is missing" in result.stderr
    assert not (project / ".deploy" / "history.jsonl").exists()
