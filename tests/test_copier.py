"""The same repository as a Copier template (copier.yml): the questions, defaults and checks
of cookiecutter.json; `copier copy` renders the same files as cookiecutter for the same
answers; `copier update` brings a template change and keeps the user's, with the tasks' side
effects (.env, dependencies, smoke test) on the first copy only, as in test_updates.py.
"""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from hooks import answers
from support.generate import TEMPLATE_DIR, cookiecutter, explain, run, tool
from tests.combinations import COMBINATIONS
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

COOKIECUTTER_JSON = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))
COPIER_YML = yaml.safe_load((TEMPLATE_DIR / "copier.yml").read_text(encoding="utf-8"))
QUESTIONS = {name: q for name, q in COPIER_YML.items() if not name.startswith("_")}
ANSWERS_FILE = ".copier-answers.yml"
# Random per generation: compared by name only.
SECRETS = ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD")
SLUG = "kopie"


def copier(folder: Path, *arguments: str) -> subprocess.CompletedProcess:
    return run([tool("copier"), *arguments], folder, timeout=900, **GIT_IDENTITY)


def copier_copy(template: Path, destination: Path, data: dict) -> subprocess.CompletedProcess:
    """`copier copy` with the answers in a data file (as typed: no shell, no YAML guessing)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    data_file = destination.parent / f"{destination.name}-answers.yml"
    data_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return copier(
        destination.parent,
        "copy", "--trust", "--defaults", "--data-file", str(data_file),
        str(template), str(destination),
    )  # fmt: skip


# --- The questions --------------------------------------------------------------------------


def test_the_questions_are_cookiecutters():
    asked = {name for name in COOKIECUTTER_JSON if not name.startswith("_")}
    assert set(QUESTIONS) - {"cookiecutter"} == asked
    prompts = COOKIECUTTER_JSON["__prompts__"]
    for name in asked:
        question, default = QUESTIONS[name], COOKIECUTTER_JSON[name]
        prompt = prompts[name]["__prompt__"] if isinstance(prompts[name], dict) else prompts[name]
        assert question["help"] == prompt, name
        if isinstance(default, list):  # a choice: the same values, the first by default
            assert list(question["choices"].values()) == default, name
            assert question["default"] == default[0], name
        elif isinstance(default, bool):
            assert (question["type"], question["default"]) == ("bool", default), name
        else:  # the same text, or the same expression (Copier names answers without a prefix)
            assert question["default"] == default.replace("cookiecutter.", "").replace(
                "|", " | "
            ), name
        if name in answers.CHECKS and not isinstance(default, list | bool):
            assert question["validator"] == f"{{{{ {name} | answer_problem('{name}') }}}}"
    # Every answer reaches the files as cookiecutter.<name>.
    computed = QUESTIONS["cookiecutter"]
    assert computed["when"] is False
    assert set(re.findall(r'"(\w+)": (\w+)', computed["default"])) == {(n, n) for n in asked}


# --- One tree for both tools ----------------------------------------------------------------


def tree(project: Path) -> dict[str, str]:
    files = {}
    for path in sorted(project.rglob("*")):
        relative = str(path.relative_to(project))
        if path.is_file() and relative != ANSWERS_FILE:
            files[relative] = path.read_text(encoding="utf-8")
    env = files.pop(".env").splitlines()
    files[".env"] = "\n".join(
        re.sub(rf"^({'|'.join(SECRETS)})=.*", r"\1=<random>", line) for line in env
    )
    return files


@pytest.mark.parametrize(
    "answers_given", [COMBINATIONS[0], COMBINATIONS[1]], ids=["defaults", "free-text"]
)
def test_copier_renders_what_cookiecutter_renders(tmp_path, answers_given):
    given = {**answers_given, "run_smoke_test": "no"}
    generated = cookiecutter(tmp_path / "cookiecutter", given)
    assert generated.returncode == 0, explain(generated)
    (by_cookiecutter,) = (tmp_path / "cookiecutter").iterdir()
    data = {**given, "run_smoke_test": False}
    copied = copier_copy(TEMPLATE_DIR, tmp_path / "copier" / by_cookiecutter.name, data)
    assert copied.returncode == 0, explain(copied)
    by_copier = tmp_path / "copier" / by_cookiecutter.name

    cookiecutter_files, copier_files = tree(by_cookiecutter), tree(by_copier)
    assert sorted(copier_files) == sorted(cookiecutter_files)
    for name, text in cookiecutter_files.items():
        assert copier_files[name] == text, name
    recorded = yaml.safe_load((by_copier / ANSWERS_FILE).read_text(encoding="utf-8"))
    for name, value in data.items():
        assert recorded[name] == value, name


def test_a_bad_answer_is_refused_with_cookiecutters_words(tmp_path):
    refused = copier_copy(TEMPLATE_DIR, tmp_path / "out" / "x", {"project_slug": "class"})
    assert refused.returncode != 0
    assert "project_slug='class' is a Python keyword" in refused.stdout + refused.stderr
    assert not (tmp_path / "out" / "x").exists() or not list((tmp_path / "out" / "x").iterdir())


# --- Updates --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_repository(tmp_path_factory.mktemp("copier") / "template")


@pytest.fixture(scope="module")
def project(template, tmp_path_factory) -> Path:
    """`copier copy` of commit A, smoke test on, then a git repository with a user commit."""
    path = tmp_path_factory.mktemp("copier-projects") / SLUG
    data = {"project_name": "Kopie", "project_slug": SLUG, "database": "sqlite"}
    copied = copier_copy(template, path, data)
    assert copied.returncode == 0, explain(copied)
    assert "Smoke test passed" in copied.stdout + copied.stderr, explain(copied)
    git(path, "init", "--quiet", "--initial-branch", "main")
    commit_all(path, "Generated from the template")
    make_user_edits(path, SLUG)
    return path


def test_an_update_brings_the_template_change_and_keeps_the_users(project, template):
    commit_template_change_b(template)
    env_before = (project / ".env").read_bytes()
    venv_config = project / ".venv" / "pyvenv.cfg"
    venv_before = venv_config.stat().st_mtime_ns

    updated = copier(project, "update", "--trust", "--defaults", "--vcs-ref", "HEAD")
    assert updated.returncode == 0, explain(updated)

    assert_b_arrived_and_the_user_edits_stayed(project, SLUG)
    assert (project / ".env").read_bytes() == env_before
    assert venv_config.stat().st_mtime_ns == venv_before
    for side_effect in SIDE_EFFECTS:
        assert side_effect not in updated.stdout + updated.stderr, explain(updated)
    assert not list(project.rglob("*.rej"))
    recorded = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    assert recorded["_commit"] == git(template, "rev-parse", "--short", "HEAD").strip()

    commit_all(project, "Update from the template (B)")
    suite = run(["uv", "run", "--locked", "pytest", "-q", "-p", "no:cacheprovider"], project)
    assert suite.returncode == 0, explain(suite)


def test_a_conflicting_change_is_left_to_the_user_and_nothing_is_lost(project, template):
    commit_template_change_c(template)
    env_before = (project / ".env").read_bytes()

    updated = copier(project, "update", "--trust", "--defaults", "--vcs-ref", "HEAD")
    assert updated.returncode == 0, explain(updated)
    assert_c_conflicts_and_nothing_is_lost(project)
    assert (project / ".env").read_bytes() == env_before
