"""Generate each combination of options for real and check the project it gives.

Each project is generated once (module-scoped fixture) with `cookiecutter --no-input`, gets its
own virtualenv from its uv.lock, and then runs its own test suite and checks.
"""

import ast
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from support.generate import TEMPLATE_DIR, cookiecutter, explain, interpreter_for, run
from tests.combinations import COMBINATIONS, label

CONTEXT = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
UNRENDERED = re.compile(r"\{\{|\{%|\{#|cookiecutter\.\w")  # a variable left as it was
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")  # ${{ ... }} in workflows: meant to be there
# The docker CLI's Go templates in shell scripts: --format '{{.Swarm.NodeID}}'
GO_TEMPLATE = re.compile(r"\{\{(?:\.|if |end\}).*?\}\}")


class Project:
    """A generated project, with its options and its own virtualenv."""

    def __init__(self, path: Path, answers: dict[str, str], interpreter: str, generation):
        self.path = path
        self.answers = answers
        self.interpreter = interpreter  # the Python the venv was made from
        self.generation = generation
        self.python = path / ".venv" / "bin" / "python"

    def option(self, name: str) -> str:
        default = CONTEXT[name][0] if isinstance(CONTEXT[name], list) else CONTEXT[name]
        return str(self.answers.get(name, default))

    def run(self, *command: str, **env: str | None):
        return run(list(command), cwd=self.path, **env)


@pytest.fixture(scope="module", params=COMBINATIONS, ids=label)
def project(request, tmp_path_factory) -> Project:
    answers = request.param
    python = interpreter_for(answers.get("python_version", CONTEXT["python_version"][0]))
    output = tmp_path_factory.mktemp(label(answers))
    generation = cookiecutter(output, answers, UV_PYTHON=python)
    assert generation.returncode == 0, explain(generation)
    (path,) = output.iterdir()
    project = Project(path, answers, python, generation)
    if not project.python.exists():  # the hook's smoke test did not create it
        sync = project.run("uv", "sync", "--locked", "--python", python)
        assert sync.returncode == 0, explain(sync)
    return project


def project_files(project: Project) -> list[Path]:
    return [
        path
        for path in project.path.rglob("*")
        if path.is_file() and ".venv" not in path.parts and "__pycache__" not in path.parts
    ]


def test_nothing_is_left_unrendered(project):
    leftovers = []
    for path in project_files(project):
        # Django's templates use {% %} and {{ }} themselves: pages, and startapp's app template.
        if path.suffix in {".html", ".py-tpl"}:
            text = re.sub(r"\{%.*?%\}|\{\{.*?\}\}", "", path.read_text())
        elif ".github" in path.parts:
            text = GITHUB_EXPRESSION.sub("", path.read_text())
        elif path.suffix == ".sh":
            text = GO_TEMPLATE.sub("", path.read_text())
        else:
            text = path.read_text()
        leftovers += [f"{path.name}: {match}" for match in UNRENDERED.findall(text)]
    assert leftovers == []


def test_files_match_the_options(project):
    root = project.path
    assert (root / ".github/workflows/ci.yml").exists() == (project.option("ci") == "github")
    assert (root / ".gitlab-ci.yml").exists() == (project.option("ci") == "gitlab")
    assert (root / ".python-version").read_text().strip() == project.option("python_version")
    assert (root / "uv.lock").exists()
    assert not (root / ".locks").exists()
    # Swarm for every project; Kubernetes, whose pods share a database server, for PostgreSQL.
    for path in ["deploy/swarm/stack.yaml", "deploy/swarm/deploy.sh", "docs/swarm.md"]:
        assert (root / path).is_file(), path
    for path in ["deploy/kubernetes", "docs/kubernetes.md"]:
        assert (root / path).exists() == (project.option("database") == "postgresql"), path
    assert ("psycopg" in (root / "uv.lock").read_text()) == (
        project.option("database") == "postgresql"
    )
    for name in ["manage.py", "gunicorn.conf.py", "README.md", ".env.example", ".gitignore"]:
        assert (root / name).is_file(), name
    for name in ["settings.py", "urls.py", "wsgi.py", "asgi.py"]:
        assert (root / "config" / name).is_file(), name


def test_env_file_has_fresh_secrets(project):
    env = dict(
        line.split("=", 1)
        for line in (project.path / ".env").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert len(env["DJANGO_SECRET_KEY"]) >= 50
    assert env["DJANGO_SECRET_KEY"] != "replace-me"
    assert ("POSTGRES_PASSWORD" in env) == (project.option("database") == "postgresql")
    assert (project.path / ".env").stat().st_mode & 0o077 == 0  # only its owner reads it
    assert ".env" in (project.path / ".gitignore").read_text().split()


def test_ruff_is_clean(project):
    ruff = str(project.path / ".venv" / "bin" / "ruff")
    check = project.run(ruff, "check", ".")
    assert check.returncode == 0, explain(check)
    formatting = project.run(ruff, "format", "--check", ".")
    assert formatting.returncode == 0, explain(formatting)


def test_yaml_and_toml_files_parse(project):
    for path in project_files(project):
        if path.suffix in {".yml", ".yaml"}:
            assert yaml.safe_load(path.read_text()) is not None, path
        elif path.suffix == ".toml" or path.name == "uv.lock":
            tomllib.loads(path.read_text())


def test_free_text_answers_read_back_as_typed(project):
    # Escaped for each file's syntax, they parse back to the answers (the home page's heading
    # is checked by the project's own tests/test_pages.py).
    metadata = tomllib.loads((project.path / "pyproject.toml").read_text())["project"]
    assert metadata["description"] == project.option("description")
    assert metadata["authors"] == [
        {"name": project.option("author_name"), "email": project.option("author_email")}
    ]
    apps = (project.path / project.path.name / "apps.py").read_text()  # the slug, twice
    (verbose_name,) = [
        node.value.value
        for node in ast.walk(ast.parse(apps))
        if isinstance(node, ast.Assign) and node.targets[0].id == "verbose_name"
    ]
    assert verbose_name == project.option("project_name")


def test_lock_file_matches_pyproject(project):
    check = project.run("uv", "lock", "--check", "--python", project.interpreter)
    assert check.returncode == 0, explain(check)


def test_deploy_check_is_clean_with_only_secret_key_and_allowed_hosts(project):
    check = project.run(
        str(project.python),
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        ENV_FILE="",
        DJANGO_SECRET_KEY="x" * 20 + "-deploy-check-" + "y" * 30,
        DJANGO_ALLOWED_HOSTS=project.option("domain_name"),
    )
    assert check.returncode == 0, explain(check)


def test_smoke_test_ran_in_the_hook_when_asked(project):
    output = project.generation.stdout
    if project.option("run_smoke_test") == "no":
        assert "Smoke test turned off (run_smoke_test)" in output
        return
    for step in ["1. every Python file compiles", "4. gunicorn serves pages and static files"]:
        assert step in output, output
    duration = re.search(r"Smoke test passed in ([\d.]+) s", output)
    assert duration, output
    print(f"smoke test of {label(project.answers)}: {duration.group(1)} s", file=sys.stderr)


def test_generated_test_suite_passes(project, request):
    env = {}
    if project.option("database") == "postgresql":
        database = re.sub(r"\W", "_", project.path.parent.name)
        env["DATABASE_URL"] = f"{request.getfixturevalue('postgres_url')}/{database}"
    tests = project.run(str(project.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", **env)
    assert tests.returncode == 0, explain(tests)
    assert re.search(r"\d+ passed", tests.stdout)
