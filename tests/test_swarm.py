"""deploy/swarm/ for real: `docker stack deploy` on a single-node swarm, as on a manager.

One generated project (PostgreSQL); its image is tagged as releases v1..v4 that differ by their
home page, plus a v5 whose /readyz fails. The tests run in this file's order through a
stack's life, with a client sending a GET through the proxy every 20 ms and counting what
fails. The swarm is created for this module and left after it, unless this engine was
already in one (then only the stack goes). Skipped without Docker, except in CI.
"""

import itertools
import re
import time

import pytest

from support.generate import explain, run
from tests.containers import docker, require_docker
from tests.releases import report, watching
from tests.swarm import UNREADY, initialized_stack, swarm_mode

RELEASES = ("v1", "v2", "v3", "v4")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require_docker()
    with (
        swarm_mode(),
        initialized_stack(tmp_path_factory.mktemp("swarm"), "postgresql", RELEASES) as stack,
    ):
        yield stack


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
    stack.figures.append(f"scale 2 -> 3 -> 1 -> 2: {report(load.result)}")
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
    stack.figures.append(f"docker kill of one of 2 tasks: {report(load.result)}")
    assert len(stack.running("web")) == 2
    # At most what the killed task held at that instant fails; the rest is served.
    assert len(load.result.failures) <= 2, report(load.result)
    assert load.result.outcomes[-1].ok
