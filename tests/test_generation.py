"""Generation itself: bad answers are refused, the smoke test catches a broken project, and
the switches that turn the smoke test off work. Each case runs the real cookiecutter CLI."""

import os
import shutil

import pytest

from support.generate import TEMPLATE_DIR, cookiecutter, explain

BAD_ANSWERS = [
    ({"project_slug": "class"}, "ERROR: project_slug='class'"),
    ({"project_slug": "django"}, "ERROR: project_slug='django'"),
    ({"project_slug": "My-Project"}, "ERROR: project_slug='My-Project'"),
    ({"domain_name": "https://example.com"}, "ERROR: domain_name='https://example.com'"),
    ({"domain_name": "example.com:8000"}, "ERROR: domain_name='example.com:8000'"),
    ({"author_email": "not-an-email"}, "ERROR: author_email='not-an-email'"),
    # cookiecutter itself refuses a value outside a choice list given on the command line;
    # hooks/answers.py still checks it, for answers that arrive by other routes (replay files).
    ({"python_version": "3.11"}, "3.11 provided for choice variable python_version"),
    ({"time_zone": "Mars/Olympus_Mons"}, "ERROR: time_zone='Mars/Olympus_Mons'"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS, ids=lambda v: str(v)[:40])
def test_bad_answer_is_refused_and_nothing_is_written(tmp_path, answers, message):
    output = tmp_path / "out"
    result = cookiecutter(output, {**answers, "run_smoke_test": "no"})
    assert result.returncode != 0
    assert message in result.stderr, explain(result)
    assert not output.exists() or list(output.iterdir()) == []


def test_smoke_test_can_be_turned_off_by_environment(tmp_path):
    result = cookiecutter(tmp_path / "out", {"database": "sqlite"}, SKIP_SMOKE_TEST="1")
    assert result.returncode == 0, explain(result)
    assert "Smoke test turned off (SKIP_SMOKE_TEST)" in result.stdout
    assert not (tmp_path / "out" / "my_project" / ".venv").exists()


def test_generation_ends_with_the_next_steps_of_the_readme(tmp_path):
    result = cookiecutter(tmp_path / "out", {"database": "sqlite"}, SKIP_SMOKE_TEST="1")
    assert result.returncode == 0, explain(result)
    project = (tmp_path / "out" / "my_project").resolve()
    readme = (project / "README.md").read_text()
    run_command = readme.split("## Run it", 1)[1].split("```bash\n", 1)[1].split("\n", 1)[0]
    next_steps = result.stdout.split("Next steps:\n", 1)[1].splitlines()
    assert next_steps[0].strip() == f"cd {project}"
    assert next_steps[1].strip() == run_command  # the README's own "Run it" command
    assert "http://localhost:8000" in next_steps[2]
    assert next_steps[3].strip().startswith("uv run pytest")


@pytest.mark.parametrize(
    "again",
    [("--overwrite-if-exists",), ("--replay", "--overwrite-if-exists")],
    ids=["overwrite", "replay"],
)
def test_generating_over_a_project_keeps_its_env_file(tmp_path, again):
    # A new secret key would end every session; a new POSTGRES_PASSWORD would lock the site
    # out of the database volume that still holds the old one.
    answers = {"database": "postgresql", "run_smoke_test": "no"}
    first = cookiecutter(tmp_path / "out", answers)
    assert first.returncode == 0, explain(first)
    project = tmp_path / "out" / "my_project"
    env_file = project / ".env"
    env_file.write_text(env_file.read_text() + "MY_OWN_SETTING=kept\n")
    before = env_file.read_bytes()
    (project / "notes.txt").write_text("mine\n")

    given = {} if "--replay" in again else answers  # a replay takes no answers
    regenerated = cookiecutter(tmp_path / "out", given, options=again)
    assert regenerated.returncode == 0, explain(regenerated)
    assert ".env exists: kept as it is" in regenerated.stdout
    assert env_file.read_bytes() == before
    assert (project / "notes.txt").read_text() == "mine\n"


def test_bad_skip_variable_is_refused(tmp_path):
    result = cookiecutter(tmp_path / "out", {}, SKIP_SMOKE_TEST="perhaps")
    assert result.returncode != 0
    assert "SKIP_SMOKE_TEST='perhaps' is not a yes/no value" in result.stderr, explain(result)


def test_smoke_test_without_dependencies_or_uv_only_compiles(tmp_path):
    # A PATH with no uv on it, and cookiecutter's Python lacks Django: the hook says so.
    entries = os.environ["PATH"].split(os.pathsep)
    path_without_uv = os.pathsep.join(e for e in entries if not shutil.which("uv", path=e))
    result = cookiecutter(tmp_path / "out", {"database": "sqlite"}, PATH=path_without_uv)
    assert result.returncode == 0, explain(result)
    assert "1. every Python file compiles ... ok" in result.stdout
    assert "The full smoke test was skipped" in result.stdout
    assert "uv run python scripts/smoke_test.py" in result.stdout


def broken_template(tmp_path, file: str, text: str):
    """A copy of the template with `text` appended to one of the project's files."""
    copy = tmp_path / "template"
    shutil.copytree(TEMPLATE_DIR, copy, ignore=shutil.ignore_patterns(".venv", ".tools", ".git"))
    target = copy / "{{cookiecutter.project_slug}}" / file
    target.write_text(target.read_text() + text)
    return copy


def test_smoke_test_fails_generation_of_a_broken_project(tmp_path):
    template = broken_template(
        tmp_path, "config/settings.py", '\nraise RuntimeError("settings deliberately broken")\n'
    )
    output = tmp_path / "out"
    result = cookiecutter(output, {"database": "sqlite"}, template=template)
    assert result.returncode != 0
    assert "2. settings load, check --deploy passes ... FAILED" in result.stdout + result.stderr
    assert "settings deliberately broken" in result.stderr, explain(result)
    assert "the generated project failed its smoke test" in result.stderr
    assert not (output / "my_project").exists()  # cookiecutter removes what it wrote


def test_smoke_test_catches_a_file_that_does_not_compile(tmp_path):
    template = broken_template(tmp_path, "config/urls.py", "\ndef broken(:\n")
    result = cookiecutter(tmp_path / "out", {"database": "sqlite"}, template=template)
    assert result.returncode != 0
    assert "config/urls.py does not compile" in result.stderr, explain(result)
