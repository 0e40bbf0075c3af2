"""deploy/swarm/ with the SQLite choice, for real: every `web` task opens the one SQLite file on
the database's node, and a rolling update keeps both the site and the data.

Shorter than test_swarm.py (PostgreSQL), which proves the rest of a stack's life: the rollout
machinery is the same. Skipped without Docker, except in CI.
"""

import pytest

from tests.containers import require_docker
from tests.releases import report
from tests.swarm import initialized_stack, swarm_mode

RELEASES = ("v1", "v2")
USER = "kept-across-releases"
COUNT_USERS = (
    "from django.contrib.auth.models import User;"
    f" print(User.objects.filter(username='{USER}').count())"
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    require_docker()
    output = tmp_path_factory.mktemp("swarm-sqlite")
    with swarm_mode(), initialized_stack(output, "sqlite", RELEASES) as stack:
        yield stack


def test_first_deploy_serves_from_the_sqlite_file(stack):
    stack.deploy("sqlite: first deploy, v1", "v1")
    assert stack.serving() == "v1"
    assert len(stack.running("web")) == 2
    assert stack.migrations_of("v1") == 1
    stack.manage(
        "shell",
        "-c",
        f"from django.contrib.auth.models import User; User.objects.create_user('{USER}')",
    )
    assert stack.manage("shell", "--no-imports", "-c", COUNT_USERS).strip() == "1"


def test_a_rolling_update_fails_no_request_and_keeps_the_data(stack):
    _, load = stack.deploy("sqlite: rolling update v1 -> v2", "v2")
    assert load.failures == [], report(load)
    assert set(load.bodies()) <= {"v1", "v2"}
    assert stack.serving() == "v2"
    assert stack.migrations_of("v2") == 1
    # Every task now runs v2: the user written through v1 is in the file they share.
    assert {task["Image"] for task in stack.running("web")} == {stack.image("v2")}
    assert stack.manage("shell", "--no-imports", "-c", COUNT_USERS).strip() == "1"
