"""A release names an image that cannot change: both deploy scripts of a generated project
(deploy/swarm/deploy.sh, deploy/kubernetes/deploy.sh, through deploy/immutable-image.sh)
refuse `latest` and an untagged name with exit status 2 before they contact anything, and take
a commit-SHA tag or a digest. Without a Docker engine or a cluster, the swarm script's check is
run on its own; the Kubernetes script goes as far as `--render`, which needs kubectl (skipped
without it, except in CI).
"""

import shutil
from pathlib import Path

import pytest

from support.generate import explain, generate, run, tool
from tests.conftest import IN_CI

SCRIPTS = ("deploy/swarm/deploy.sh", "deploy/kubernetes/deploy.sh")
OVERLAY = "deploy/kubernetes/overlays/example"
REFUSED = ("x:latest", "registry:5000/x", "x")
ACCEPTED = ("x:0123abc", "registry:5000/x:0123abc", "x@sha256:" + "0123456789abcdef" * 4)
NOWHERE = {"DOCKER_HOST": "unix:///nonexistent", "KUBECONFIG": "/nonexistent"}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    path = generate(tmp_path_factory.mktemp("release-images"), {"run_smoke_test": "no"})
    shutil.copy(path / OVERLAY / "secret.env.example", path / OVERLAY / "secret.env")
    return path


def deploy(project: Path, script: str, *arguments: str):
    # The Kubernetes script gets an overlay that exists: only the image can be refused.
    overlay = [OVERLAY] if "kubernetes" in script else []
    return run(["sh", script, *arguments, *overlay], project, timeout=60, **NOWHERE)


@pytest.mark.parametrize("image", REFUSED)
@pytest.mark.parametrize("script", SCRIPTS)
def test_a_mutable_image_is_refused_before_anything_runs(project, script, image):
    result = deploy(project, script, image)
    assert result.returncode == 2, explain(result)
    assert result.stdout == ""
    (message,) = result.stderr.splitlines()
    assert message.startswith(f"deploy.sh: {image}: "), message


@pytest.mark.parametrize("image", ACCEPTED)
def test_the_check_takes_an_immutable_image(project, image):
    check = '. deploy/immutable-image.sh; require_immutable_image t "$1" && echo ok'
    result = run(["sh", "-c", check, "sh", image], project, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", ""), explain(result)


@pytest.mark.parametrize("image", ACCEPTED)
def test_kubernetes_deploy_renders_an_immutable_image(project, image):
    if not shutil.which("kubectl"):
        if IN_CI:
            pytest.fail("CI must render the Kubernetes deploy, but kubectl is not on the PATH")
        pytest.skip("kubectl is not on the PATH")
    result = deploy(project, "deploy/kubernetes/deploy.sh", "--render", image)
    assert result.returncode == 0, explain(result)
    assert result.stdout.count(f"image: {image}\n") == 2  # the web pods' and the migrate Job's


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_every_deploy_script_passes_shellcheck(tmp_path, database):
    path = generate(tmp_path, {"database": database, "run_smoke_test": "no"})
    scripts = sorted(str(script.relative_to(path)) for script in path.glob("deploy/**/*.sh"))
    assert len(scripts) == (4 if database == "postgresql" else 3), scripts
    # --external-sources: deploy/immutable-image.sh is also checked as the scripts source it.
    command = [tool("shellcheck"), "--external-sources", "--severity", "style", *scripts]
    result = run(command, path, timeout=120)
    assert result.returncode == 0, explain(result)
