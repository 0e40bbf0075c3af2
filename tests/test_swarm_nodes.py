"""deploy/swarm/ on several hosts: a swarm of 4 nodes from swarm-nodes.sh on this machine (each
node its own dockerd and network namespace), with the project's image, Caddy and PostgreSQL.

Node 1 is the only manager, node 2 keeps the database (init.sh labels it, DB_NODE), and `web`
runs 3 replicas. The tests run in this file's order through the stack's life, with a client on
this machine sending a GET every 20 ms to node 1's proxy and counting what fails: a rolling
update, a `web` node cut off the network, then the database's node. Skipped without Docker or
swarm-nodes.sh, except in CI.
"""

import http.client
import sys
import time

import pytest

from support.client import PROXY_HEADERS
from tests.containers import require_docker
from tests.releases import report
from tests.swarm import initialized_stack
from tests.swarm_nodes import (
    MANAGER,
    NodesStack,
    address,
    node_id,
    require_tool,
    status_of,
    swarm_of,
    tool,
    wait_for,
)

NODES = 4  # 3 replicas and a spare node, where a lost replica goes
DB_NODE = 2
RELEASES = ("v1", "v2")
STABLE = 5.0  # seconds of 200s only: the site is back for good
USER = "written-before-the-cut"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require_docker()
    require_tool()
    started = time.monotonic()
    with (
        swarm_of(NODES),
        initialized_stack(
            tmp_path_factory.mktemp("swarm-nodes"),
            "postgresql",
            RELEASES,
            make_stack=NodesStack,
            DB_NODE=node_id(DB_NODE),
        ) as stack,
    ):
        loading = time.monotonic()
        tool("load", *(stack.image(tag) for tag in RELEASES), "caddy:2.11", "postgres:17")
        stack.record(f"images loaded into {NODES} nodes in {time.monotonic() - loading:.0f} s")
        yield stack
    print(f"multi-node module: {time.monotonic() - started:.0f} s", file=sys.stderr)


def answer(node: int, path: str = "/") -> tuple[int, str]:
    """One GET through node's proxy: (status, body)."""
    connection = http.client.HTTPConnection(address(node), NodesStack.PORT, timeout=10)
    try:
        connection.request("GET", path, headers=PROXY_HEADERS)
        response = connection.getresponse()
        return response.status, response.read().decode().strip()
    finally:
        connection.close()


def spread_over_distinct_nodes(stack) -> dict[str, int]:
    placement = stack.placement()
    stack.figures.append(f"web placement: {placement}")
    assert len(placement) == 3 and len(set(placement.values())) == 3, placement
    return placement


def test_the_replicas_run_on_distinct_nodes_and_every_proxy_serves(stack):
    stack.deploy("first deploy, v1", "v1")
    spread_over_distinct_nodes(stack)
    assert set(stack.placement("db").values()) == {DB_NODE}
    for node in range(1, NODES + 1):
        # Each proxy re-resolves `web` at each connection: any task may answer.
        assert answer(node) == (200, "v1"), node


def test_a_rolling_update_fails_no_request(stack):
    _, load = stack.deploy("rolling update v1 -> v2", "v2")
    assert load.failures == [], report(load)
    assert set(load.bodies()) <= {"v1", "v2"}
    spread_over_distinct_nodes(stack)
    assert answer(MANAGER) == (200, "v2")


def test_a_web_node_cut_off_fails_no_request(stack):
    before = stack.placement()
    (victim, *_) = sorted(set(before.values()) - {MANAGER, DB_NODE})

    def rescheduled():
        nodes = list(stack.placement().values())
        return len(nodes) == 3 and victim not in nodes

    with stack.watching() as load:
        tool("cut", str(victim))
        down = wait_for(f"node {victim} Down", lambda: status_of(victim) == "Down", 60)
        moved = wait_for("the lost replica running elsewhere", rescheduled, 180)
        tool("heal", str(victim))
        ready = wait_for(f"node {victim} Ready", lambda: status_of(victim) == "Ready", 120)
    figure = (
        f"cut node {victim} (web): Down after {down:.1f} s, its replica healthy elsewhere "
        f"after {moved:.1f} s ({stack.placement()}), Ready {ready:.1f} s after heal; "
        f"{report(load.result)}"
    )
    stack.record(figure)
    assert load.result.failures == [], report(load.result)
    assert load.result.bodies() == {"v2": len(load.result.outcomes)}


def test_losing_the_database_node_fails_requests_until_it_is_back(stack):
    (writer, *_) = sorted(set(stack.placement().values()) - {DB_NODE})
    stack.manage_on(
        writer, "createsuperuser", "--noinput", f"--username={USER}", "--email=user@example.com"
    )
    with stack.watching() as site, stack.watching("/readyz") as readiness:
        cut = time.monotonic()
        tool("cut", str(DB_NODE))
        # Long enough for the web tasks' health checks (every 5 s, 3 retries) to fail.
        unready = wait_for("/readyz 503", lambda: _saw(readiness, 503), 60)
        time.sleep(30)
        tool("heal", str(DB_NODE))
        healed = time.monotonic()
        wait_for("the site back", lambda: _back_for_good((site, readiness), healed), 240)
        time.sleep(2)  # and it stays so
    recovered = _last_failure_ended((site, readiness), after=healed) - healed
    result = site.result
    failed = [o.started for o in result.failures]
    window = (max(failed) - min(failed)) if failed else 0.0
    figure = (
        f"cut node {DB_NODE} (db) for {healed - cut:.0f} s: /readyz 503 after {unready:.1f} s, "
        f"site and /readyz 200 again {recovered:.1f} s after heal; site: {report(result)}, "
        f"errors over {window:.1f} s; /readyz: {readiness.result.errors()}"
    )
    stack.record(figure)
    # Errors only while the node was away and until the site recovered, none after.
    assert all(cut <= started <= healed + recovered for started in failed), figure
    assert result.outcomes[-1].ok and readiness.result.outcomes[-1].ok, figure
    assert 503 in [o.status for o in readiness.result.outcomes], figure
    count = "from django.contrib.auth.models import User as U; "
    count += f"print(U.objects.filter(username={USER!r}).count())"
    (reader, *_) = sorted(set(stack.placement().values()))
    # The last line: Django's shell may first say what it imported.
    assert stack.manage_on(reader, "shell", "-c", count).split()[-1] == "1"
    assert status_of(DB_NODE) == "Ready"


def _saw(load, status: int) -> bool:
    return any(o.status == status for o in list(load.result.outcomes))


def _back_for_good(loads, since: float) -> bool:
    """Every request of each load answered 200 for STABLE seconds, all sent after `since`, and
    none is hanging: each task behind the proxy is back, not just the one that last answered."""
    now = time.monotonic()
    window = [list(load.result.outcomes) for load in loads]
    if now - STABLE < since or not all(window):
        return False
    recent = [o for outcomes in window for o in outcomes if o.started >= now - STABLE]
    answering = all(now - (o.started + o.seconds) < 1 for o in (w[-1] for w in window))
    return answering and bool(recent) and all(o.ok for o in recent)


def _last_failure_ended(loads, after: float) -> float:
    """When the last failed request after `after` got its answer (or gave up): `after` if none."""
    ends = [o.started + o.seconds for load in loads for o in load.result.failures]
    return max([after, *(end for end in ends if end > after)])
