"""A generated project keeps up with the template through cruft: `cruft create`, then
`cruft update` after the template changed, in a git repository with the user's own commits.

The template is a copy of this one in a repository of its own (tests/template_repo.py), at
commit A. Then, as in a project's life: the user commits an edit (a new view, a changed
setting); the template commits B (a changed default, and a new file); `cruft update` must bring
B, keep the user's edit and `.env`, run none of the hook's side effects (no virtualenv made, no
smoke test), and leave a project whose own test suite passes. Then a template change C on a
line the user edited too: the update leaves a normal merge conflict, and nothing is lost.
"""

import json
import subprocess
from pathlib import Path

import pytest

from support.generate import explain, run, tool
from tests.template_repo import (
    GIT_IDENTITY,
    SIDE_EFFECTS,
    assert_b_arrived_and_the_user_edits_stayed,
    assert_c_conflicts_and_nothing_is_lost,
    commit_all,
    commit_template_change_b,
    commit_template_change_c,
    git,
    make_user_edits,
    template_repository,
)

SLUG = "kept_current"
ANSWERS = {"project_name": "Kept Current", "project_slug": SLUG, "database": "sqlite"}


def cruft(folder: Path, *arguments: str) -> subprocess.CompletedProcess:
    return run([tool("cruft"), *arguments], folder, timeout=900, **GIT_IDENTITY)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_repository(tmp_path_factory.mktemp("cruft") / "template")


@pytest.fixture(scope="module")
def project(template, tmp_path_factory) -> Path:
    """`cruft create` of commit A, as a user runs it (smoke test on), then a git repository
    with the user's own commit."""
    output = tmp_path_factory.mktemp("cruft-projects")
    created = cruft(
        output, "create", str(template), "--no-input", "--extra-context", json.dumps(ANSWERS)
    )
    assert created.returncode == 0, explain(created)
    assert "Smoke test passed" in created.stdout, explain(created)
    path = output / SLUG
    git(path, "init", "--quiet", "--initial-branch", "main")
    commit_all(path, "Generated from the template")
    make_user_edits(path, SLUG)
    return path


def test_a_fresh_project_is_current_and_knows_its_template(project, template):
    state = json.loads((project / ".cruft.json").read_text())
    assert state["template"] == str(template)
    assert state["commit"] == git(template, "rev-parse", "HEAD").strip()
    assert state["context"]["cookiecutter"]["project_name"] == "Kept Current"
    checked = cruft(project, "check")
    assert checked.returncode == 0, explain(checked)


def test_an_update_brings_the_template_change_and_keeps_the_users(project, template):
    commit_template_change_b(template)
    env_before = (project / ".env").read_bytes()
    venv_config = project / ".venv" / "pyvenv.cfg"
    venv_before = venv_config.stat().st_mtime_ns

    outdated = cruft(project, "check")
    assert outdated.returncode != 0 and "out of date" in outdated.stdout, explain(outdated)
    updated = cruft(project, "update", "--skip-apply-ask")
    assert updated.returncode == 0, explain(updated)

    assert_b_arrived_and_the_user_edits_stayed(project, SLUG)
    assert (project / ".env").read_bytes() == env_before
    assert venv_config.stat().st_mtime_ns == venv_before
    for side_effect in SIDE_EFFECTS:
        assert side_effect not in updated.stdout + updated.stderr, explain(updated)
    assert not list(project.rglob("*.rej"))
    current = cruft(project, "check")
    assert current.returncode == 0, explain(current)

    commit_all(project, "Update from the template (B)")
    suite = run(["uv", "run", "--locked", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert suite.returncode == 0, explain(suite)


def test_a_conflicting_change_is_left_to_the_user_and_nothing_is_lost(project, template):
    commit_template_change_c(template)
    env_before = (project / ".env").read_bytes()

    updated = cruft(project, "update", "--skip-apply-ask")
    assert updated.returncode == 0, explain(updated)
    assert_c_conflicts_and_nothing_is_lost(project)
    status = git(project, "status", "--porcelain").splitlines()
    assert "UU config/settings.py" in status, status
    assert (project / ".env").read_bytes() == env_before
