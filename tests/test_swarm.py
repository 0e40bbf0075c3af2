"""deploy/swarm/ for real: `docker stack deploy` on a single-node swarm, as on a manager.

One generated project (PostgreSQL); its image is tagged as releases v1..v4 that differ by their
home page, plus a v5 whose /readyz fails. The tests run in this file's order through a
stack's life, with a client sending a GET through the proxy every 20 ms and counting what
fails. The swarm is created for this module and left after it, unless this engine was
already in one (then only the stack goes). Skipped without Docker, except in CI.
"""

import itertools
import json
import re
import secrets
import sys
import time

import pytest

from support.client import free_port, get
from support.environment import PLAIN_HTTP
from support.generate import cookiecutter, explain, run
from tests.containers import docker, require_docker
from tests.deploying import UNREADY_SETTINGS, build_variant, report, watching

# settings.env for plain HTTP on loopback: no certificate, no redirect.
LOCAL_SETTINGS = {
    "SITE_ADDRESS": "http://",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    **PLAIN_HTTP,
}
RELEASES = ("v1", "v2", "v3", "v4")
UNREADY = "v5-unready"
FIGURES: list[str] = []  # one line per rollout, printed at the end of the module


class SwarmStack:
    def __init__(self, project, name: str):
        self.project = project
        self.name = name
        self.port = free_port()
        self.https_port = free_port()

    def image(self, tag: str) -> str:
        return f"{self.name}-app:{tag}"

    def env(self) -> dict[str, str]:
        return {"WEB_PORT": str(self.port), "WEB_HTTPS_PORT": str(self.https_port)}

    def deploy(self, label: str, tag: str, expect: int = 0):
        """deploy.sh IMAGE under a light load: (its result, what the load saw)."""
        started = time.monotonic()
        with watching(self.port) as load:
            result = run(
                ["sh", "deploy/swarm/deploy.sh", self.image(tag), self.name],
                self.project,
                timeout=900,
                **self.env(),
            )
        seconds = time.monotonic() - started
        figure = f"{label}: exit {result.returncode} in {seconds:.0f} s; {report(load.result)}"
        FIGURES.append(figure)
        print(figure, file=sys.stderr)
        assert result.returncode == expect, explain(result)
        return result, load.result

    def tasks(self, service: str) -> list[dict]:
        listed = docker("service", "ps", f"{self.name}_{service}", "--format", "json")
        assert listed.returncode == 0, explain(listed)
        return [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]

    def running(self, service: str = "web") -> list[dict]:
        return [t for t in self.tasks(service) if t["CurrentState"].startswith("Running")]

    def containers(self, service: str) -> list[str]:
        """The IDs of the service's running containers on this node."""
        label = f"label=com.docker.swarm.service.name={self.name}_{service}"
        return docker("ps", "-q", "--filter", label).stdout.split()

    def migrations_of(self, tag: str) -> int:
        """How many times the migrate job completed with this release's image."""
        tasks = self.tasks("migrate")
        return sum(
            t["Image"] == self.image(tag) and "Complete" in t["CurrentState"] for t in tasks
        )

    def serving(self) -> str:
        try:
            return get(self.port, "/").body.decode().strip()
        except OSError:
            return ""


@pytest.fixture(scope="module")
def swarm():
    require_docker()
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    created = state == "inactive"
    if created:
        joined = docker("swarm", "init", "--advertise-addr", "127.0.0.1")
        assert joined.returncode == 0, explain(joined)
    try:
        yield
    finally:
        if created:
            docker("swarm", "leave", "--force")


@pytest.fixture(scope="module")
def stack(swarm, tmp_path_factory):
    output = tmp_path_factory.mktemp("swarm")
    slug = f"swarm_{secrets.token_hex(3)}"
    answers = {"project_slug": slug, "database": "postgresql", "run_smoke_test": "no"}
    generated = cookiecutter(output, answers)
    assert generated.returncode == 0, explain(generated)
    project = output / slug
    stack = SwarmStack(project, slug.replace("_", "-"))
    variants = tmp_path_factory.mktemp("variants")
    built_image = f"{stack.name}-web"
    try:
        built = run(["docker", "compose", "-p", stack.name, "build", "web"], project)
        assert built.returncode == 0, explain(built)
        home = f"{slug}/templates/{slug}/home.html"  # each release's page is its tag
        for tag in RELEASES:
            build_variant(built_image, stack.image(tag), variants / tag, {home: tag})
        build_variant(
            built_image,
            stack.image(UNREADY),
            variants / UNREADY,
            {home: UNREADY, "unready_settings.py": UNREADY_SETTINGS},
            env="DJANGO_SETTINGS_MODULE=unready_settings",
        )
        settings = "".join(f"{name}={value}\n" for name, value in LOCAL_SETTINGS.items())
        (project / "deploy/swarm/settings.env").write_text(settings)
        initialized = run(["sh", "deploy/swarm/init.sh"], project)
        assert initialized.returncode == 0, explain(initialized)
        yield stack
    finally:
        print("\n".join(["", "Swarm rollouts (what the load saw):", *FIGURES]), file=sys.stderr)
        docker("stack", "rm", stack.name)
        for _ in range(60):  # volumes go once the tasks' containers have (stopped ones too)
            if not docker(
                "ps", "-aq", "--filter", f"label=com.docker.stack.namespace={stack.name}"
            ).stdout.strip():
                break
            time.sleep(1)
        volumes = docker(
            "volume", "ls", "-q", "--filter", f"label=com.docker.stack.namespace={stack.name}"
        )
        for volume in volumes.stdout.split():
            docker("volume", "rm", volume)
        for secret in ("django_secret_key", "database_url", "postgres_password"):
            docker("secret", "rm", f"{slug}_{secret}")
        configs = docker("config", "ls", "-q", "--filter", f"name={slug}_caddyfile")
        for config in configs.stdout.split():
            docker("config", "rm", config)
        # --force: Swarm removes the old tasks' stopped containers only some time after.
        for tag in (*RELEASES, UNREADY):
            docker("image", "rm", "--force", stack.image(tag))
        docker("image", "rm", "--force", built_image)
        node = docker("info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
        if node:
            docker("node", "update", "--label-rm", f"{slug}.db", node)


def test_init_is_idempotent(stack):
    again = run(["sh", "deploy/swarm/init.sh"], stack.project)
    assert again.returncode == 0, explain(again)
    assert again.stdout.count("exists, kept") == 3


def test_first_deploy_serves_v1_through_the_proxy(stack):
    stack.deploy("first deploy, v1", "v1")
    assert stack.serving() == "v1"
    assert len(stack.running("web")) == 2
    assert stack.migrations_of("v1") == 1


def test_rolling_updates_fail_no_request(stack):
    for old, new in itertools.pairwise(RELEASES):
        _, load = stack.deploy(f"rolling update {old} -> {new}", new)
        assert load.failures == [], report(load)
        assert set(load.bodies()) <= {old, new}
        assert stack.serving() == new
        assert stack.migrations_of(new) == 1  # once per release, before its tasks served


def test_an_unready_release_is_rolled_back_by_swarm(stack):
    result, load = stack.deploy(f"update to {UNREADY}: its /readyz fails", UNREADY, expect=1)
    assert "rolled back" in result.stderr
    assert load.failures == [], report(load)
    assert set(load.bodies()) == {RELEASES[-1]}  # the unready tasks never got a request
    assert stack.serving() == RELEASES[-1]


def test_gunicorn_in_a_one_cpu_task_starts_three_workers(stack):
    # The tasks' own containers (one node): `docker service logs` can hang on old tasks.
    containers = stack.containers("web")
    assert len(containers) == 2
    configured = []
    for container in containers:
        logs = docker("logs", container)
        found = re.findall(r"Configuration: (workers=\d+ \(2 x \d+ usable CPUs)", logs.stderr)
        assert found, logs.stderr[-2000:]
        configured += found
    assert set(configured) == {"workers=3 (2 x 1 usable CPUs"}, configured  # the task's limit


def test_scaling_out_and_in_fails_no_request(stack):
    with watching(stack.port) as load:
        for replicas in (3, 1, 2):
            scaled = docker("service", "scale", "--detach=false", f"{stack.name}_web={replicas}")
            assert scaled.returncode == 0, explain(scaled)
            assert len(stack.running("web")) == replicas
    FIGURES.append(f"scale 2 -> 3 -> 1 -> 2: {report(load.result)}")
    assert load.result.failures == [], report(load.result)


def test_a_killed_task_is_replaced_while_the_other_serves(stack):
    (victim, *_) = stack.containers("web")
    with watching(stack.port) as load:
        killed = docker("kill", victim)
        assert killed.returncode == 0, explain(killed)
        for _ in range(120):
            time.sleep(1)
            if len(stack.running("web")) == 2 and victim not in docker("ps", "-q").stdout:
                break
    FIGURES.append(f"docker kill of one of 2 tasks: {report(load.result)}")
    assert len(stack.running("web")) == 2
    # At most what the killed task held at that instant fails; the rest is served.
    assert len(load.result.failures) <= 2, report(load.result)
    assert load.result.outcomes[-1].ok
