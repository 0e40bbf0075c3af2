"""A swarm of several nodes on this one machine, from swarm-nodes.sh (each node its own dockerd
in its own network namespace, at 10.213.0.1N), and the generated stack deployed on it.

The docker CLI talks to node 1, the manager, through DOCKER_HOST given per command: the other
test modules keep using this machine's own engine, where the images are built and from which
`load` copies them into the nodes.
"""

import contextlib
import json
import os
import sys
import time
from pathlib import Path

import pytest

from support.generate import TEMPLATE_DIR, explain, run
from support.load import Load
from tests.containers import IN_CI
from tests.releases import VERSION_URL, watching
from tests.swarm import SwarmStack

# In ../shared beside this repository, as on the CI machine, unless SWARM_NODES_TOOL says.
SHIPPED_TOOL = TEMPLATE_DIR.parent / "shared" / "tools" / "swarm-nodes.sh"
TOOL = Path(os.environ.get("SWARM_NODES_TOOL", SHIPPED_TOOL))
MANAGER = 1
HEARTBEAT = "1s"  # how often nodes report to the manager: a cut node is Down within ~3 s


def address(node: int) -> str:
    return f"10.213.0.{10 + node}"


def engine(node: int) -> dict[str, str]:
    return {"DOCKER_HOST": f"unix:///run/swarm-nodes/{node}/docker.sock"}


def tool(*args: str, timeout: float = 600):
    """swarm-nodes.sh COMMAND ...; fails the test when it fails."""
    result = run(["bash", str(TOOL), *args], Path.cwd(), timeout=timeout)
    assert result.returncode == 0, explain(result)
    return result


def on_node(node: int, *args: str, timeout: float = 60):
    return run(["docker", *args], Path.cwd(), timeout=timeout, **engine(node))


def manager(*args: str, timeout: float = 60):
    return on_node(MANAGER, *args, timeout=timeout)


def require_tool() -> None:
    """Skip without swarm-nodes.sh (or root) on a laptop; in CI that is a failure."""
    problem = None
    if not TOOL.is_file():
        problem = f"{TOOL} is missing"
    elif os.geteuid() != 0:
        problem = "swarm-nodes.sh needs root"
    if problem and IN_CI:
        pytest.fail(f"CI must run the multi-node Swarm tests, but {problem}")
    if problem:
        pytest.skip(problem)


@contextlib.contextmanager
def swarm_of(count: int):
    """Nodes 1..count in one swarm, node 1 its only manager; all gone after (`down`)."""
    try:
        started = time.monotonic()
        tool("up", str(count), "--managers", "1")
        updated = manager("swarm", "update", "--dispatcher-heartbeat", HEARTBEAT)
        assert updated.returncode == 0, explain(updated)
        print(
            f"\nswarm of {count} nodes up in {time.monotonic() - started:.1f} s", file=sys.stderr
        )
        yield
    finally:
        tool("down", timeout=300)


def node_id(node: int) -> str:
    found = on_node(node, "info", "--format", "{{.Swarm.NodeID}}")
    assert found.returncode == 0 and found.stdout.strip(), explain(found)
    return found.stdout.strip()


def status_of(node: int) -> str:
    """Ready, Down, ... as the manager sees the node."""
    shown = manager("node", "inspect", "--format", "{{.Status.State}}", f"swarmnode{node}")
    return shown.stdout.strip().capitalize() if shown.returncode == 0 else ""


def wait_for(what: str, condition, timeout: float, interval: float = 0.5) -> float:
    """Seconds until condition() is true; fails the test after `timeout`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"not {what} within {timeout} s"
        time.sleep(interval)
    return time.monotonic() - started


class NodesStack(SwarmStack):
    """The stack on the nodes: deployed through the manager, watched on one node's address."""

    PORT = 8080  # WEB_PORT on every node (each node has its own ports)

    def __init__(self, project, name: str):
        super().__init__(project, name)
        self.port = self.PORT
        self.engine = engine(MANAGER)
        self.entry = MANAGER  # the node whose proxy the client talks to

    def env(self) -> dict[str, str]:
        return {**super().env(), "WEB_REPLICAS": "3"}

    def watching(self, path: str = VERSION_URL) -> Load:
        return watching(self.port, path, host=address(self.entry))

    def placement(self, service: str = "web") -> dict[str, int]:
        """Running task -> node, for the tasks Swarm wants running, from `docker service ps`."""
        listed = self.docker(
            "service",
            "ps",
            "--filter",
            "desired-state=running",
            "--format",
            "json",
            f"{self.name}_{service}",
        )
        assert listed.returncode == 0, explain(listed)
        tasks = [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]
        return {
            t["Name"]: int(t["Node"].removeprefix("swarmnode"))
            for t in tasks
            if t["CurrentState"].startswith("Running")
        }

    def manage_on(self, node: int, *command: str) -> str:
        """`manage.py COMMAND` in a `web` container of that node: its output."""
        label = f"label=com.docker.swarm.service.name={self.name}_web"
        (container, *_) = on_node(node, "ps", "-q", "--filter", label).stdout.split()
        ran = on_node(node, "exec", container, "python", "manage.py", *command, timeout=120)
        assert ran.returncode == 0, explain(ran)
        return ran.stdout
