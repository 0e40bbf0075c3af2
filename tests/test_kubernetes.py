"""The generated Kubernetes manifests (deploy/kubernetes), checked offline, never on a cluster.

`kubectl kustomize` renders the base and the example overlay of one generated project (the
default answers: PostgreSQL); every object must validate against Kubernetes' JSON schemas in
strict mode (kubernetes-validate, which bundles them), and the rendered objects must fit the
project: probes on the port the image serves, a grace period longer than gunicorn's, the
image's user, the migrate Job on the web pods' image and environment, selectors that meet,
and the database connection budget that docs/kubernetes.md states. The project's own
declarations (config/variables.py, config/cpus.py, the Dockerfile) give the expected values.
deploy/kubernetes/deploy.sh runs as far as it can without a cluster: `--render` prints what it
would apply, which must be the overlay's objects with the release's image, and as valid.
Skipped without kubectl, except in CI (CI=true), where that is a failure.
"""

import base64
import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from support.generate import explain, generate, run, succeeded
from tests.conftest import IN_CI

# The kubectl on this machine, and the newest Kubernetes that the pinned kubernetes-validate
# bundles schemas for: an API removed since would fail there.
KUBERNETES_VERSIONS = ("1.32", "1.37")
BASE = Path("deploy/kubernetes/base")
OVERLAY = Path("deploy/kubernetes/overlays/example")
MIGRATE = ["python", "manage.py", "migrate", "--noinput"]
DEPLOY = "deploy/kubernetes/deploy.sh"
DIGEST = "sha256:" + "0123456789abcdef" * 4
# Where the tag starts is the hard part: after the last colon of the last path segment.
RELEASES = {
    "commit-sha-tag": "ghcr.io/your-org/site:0123abc",
    "registry-port": "registry:5000/site:0123abc",
    "digest": f"registry:5000/team/site@{DIGEST}",
}
NO_CLUSTER = {"KUBECONFIG": "/nonexistent"}  # so that nothing can reach one by mistake
TRUE = {"true", "yes", "on", "1"}
PROBE_PATHS = {
    "startupProbe": "/healthz",  # answered before Django: the process serves
    "livenessProbe": "/healthz",
    "readinessProbe": "/readyz",  # 503 until the release's migrations are applied
}

# What the project's own code makes of the manifests: run by the template's Python in the
# generated project (its config package imports the standard library only).
FACTS = """
import json, sys, tempfile
from pathlib import Path
from config import cpus
from config.environment import Resolver
from config.variables import BASE_DIR, VARIABLES

cpu_limit, behind_proxy = float(sys.argv[1]), sys.argv[2] == "true"
cgroup = Path(tempfile.mkdtemp())  # a cgroup v2 CPU quota of cpu_limit CPUs
(cgroup / "cpu.max").write_text(f"{round(cpu_limit * 100000)} 100000")
workers = cpus.default_workers(str(cgroup), str(cgroup / "no-proc-cgroup"))
declared = {v.name: v for v in VARIABLES}
given = {"GUNICORN_BEHIND_PROXY": behind_proxy, "GUNICORN_WORKERS": workers}
print(json.dumps({
    "workers": workers,
    "pool_max_size": Resolver(declared, given)["DATABASE_POOL_MAX_SIZE"],
    "graceful_timeout": declared["GUNICORN_GRACEFUL_TIMEOUT"].default,
    "secret": sorted(name for name, v in declared.items() if v.secret),
    "declared": sorted(declared),
    "media_folder": str(declared["DJANGO_MEDIA_ROOT"].default.relative_to(BASE_DIR)),
}))
"""


class Rendered:
    """The objects `kubectl kustomize` printed for one kustomization."""

    def __init__(self, text: str):
        self.objects = [item for item in yaml.safe_load_all(text) if item]

    def kinds(self) -> set[str]:
        return {item["kind"] for item in self.objects}

    def one(self, kind: str, name: str | None = None) -> dict:
        found = [
            item
            for item in self.objects
            if item["kind"] == kind and name in (None, item["metadata"]["name"])
        ]
        assert len(found) == 1, f"expected one {kind} {name or ''}, got {len(found)}"
        return found[0]

    def config(self) -> dict[str, str]:
        return self.one("ConfigMap")["data"]


def pod(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def container(workload: dict) -> dict:
    (only,) = pod(workload)["containers"]
    return only


def selects(selector: dict, workload: dict) -> bool:
    labels = workload["spec"]["template"]["metadata"]["labels"]
    return bool(selector) and selector.items() <= labels.items()


def container_port(workload: dict, port: int | str) -> int:
    """A port as a probe or Service names it (a number or the container port's name)."""
    ports = {entry["name"]: entry["containerPort"] for entry in container(workload)["ports"]}
    return ports[port] if isinstance(port, str) else port


def cpus(quantity: str) -> float:
    return float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


@pytest.fixture(scope="module")
def kubectl() -> str:
    found = shutil.which("kubectl")
    if not found:
        problem = "kubectl is not on the PATH (`kubectl kustomize` renders the manifests)"
        if IN_CI:
            pytest.fail(f"CI must check the Kubernetes manifests, but {problem}")
        pytest.skip(problem)
    return found


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    path = generate(tmp_path_factory.mktemp("kubernetes"), {"run_smoke_test": "no"})
    # What a user does before the first deploy: secret.env is not committed.
    shutil.copy(path / OVERLAY / "secret.env.example", path / OVERLAY / "secret.env")
    return path


def kustomize(kubectl: str, folder: Path) -> subprocess.CompletedProcess:
    return run([kubectl, "kustomize", str(folder)], cwd=folder, timeout=60)


@pytest.fixture(scope="module")
def base(kubectl, project) -> Rendered:
    return Rendered(succeeded(kustomize(kubectl, project / BASE)))


@pytest.fixture(scope="module")
def overlay(kubectl, project) -> Rendered:
    return Rendered(succeeded(kustomize(kubectl, project / OVERLAY)))


@pytest.fixture(scope="module")
def facts(project, overlay) -> dict:
    web = overlay.one("Deployment", "web")
    cpu_limit = cpus(container(web)["resources"]["limits"]["cpu"])
    behind_proxy = overlay.config()["GUNICORN_BEHIND_PROXY"].lower() in TRUE
    arguments = [str(cpu_limit), "true" if behind_proxy else "false"]
    return json.loads(succeeded(run([sys.executable, "-B", "-c", FACTS, *arguments], project)))


BASE_KINDS = {"ConfigMap", "Deployment", "Service", "Ingress", "NetworkPolicy", "Job"}
BASE_KINDS |= {"PodDisruptionBudget", "HorizontalPodAutoscaler", "PersistentVolumeClaim"}
EXPECTED_KINDS = {"base": BASE_KINDS, "overlay": BASE_KINDS | {"Secret"}}  # secret.env's


@pytest.mark.parametrize("rendering", ["base", "overlay"])
def test_kustomize_renders_every_object(request, rendering):
    assert request.getfixturevalue(rendering).kinds() == EXPECTED_KINDS[rendering]


def invalid(rendered: Rendered, version: str) -> list[str]:
    """What is wrong with each object, against Kubernetes `version`'s schemas, strictly."""
    problems = []
    for item in rendered.objects:
        name = f"{item['kind']}/{item['metadata']['name']}"
        try:
            used = kubernetes_validate.validate(item, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{name}: {'.'.join(map(str, error.path))}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:  # an unknown kind or API
            problems.append(f"{name}: {error.message}")
        else:
            assert used == version, f"{name}: validated against {used}, not {version}"
    return problems


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("rendering", ["base", "overlay"])
def test_every_object_validates_strictly(request, rendering, version):
    assert invalid(request.getfixturevalue(rendering), version) == []


def test_probes_ask_the_port_the_image_serves(overlay, project):
    exposed = re.findall(r"^EXPOSE (\d+)$", (project / "Dockerfile").read_text(), re.M)
    web = overlay.one("Deployment", "web")
    probes = {kind: container(web)[kind]["httpGet"] for kind in PROBE_PATHS}
    assert {kind: probe["path"] for kind, probe in probes.items()} == PROBE_PATHS
    for probe in probes.values():
        assert [str(container_port(web, probe["port"]))] == exposed == ["8000"]


def test_rolling_update_never_lowers_capacity(overlay):
    web = overlay.one("Deployment", "web")
    assert web["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    assert "replicas" not in web["spec"]  # the HPA's: `kubectl apply` would reset it


def test_grace_period_covers_the_pre_stop_sleep_and_gunicorn(overlay, facts):
    web = overlay.one("Deployment", "web")
    sleep, seconds = container(web)["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep == "sleep"  # /bin/sleep of the python image: works on any cluster version
    assert pod(web)["terminationGracePeriodSeconds"] > int(seconds) + facts["graceful_timeout"]


@pytest.mark.parametrize("workload", ["Deployment/web", "Job/migrate"])
def test_pods_run_as_the_image_user_on_a_read_only_root(overlay, project, workload):
    dockerfile = (project / "Dockerfile").read_text()
    uid = re.search(r"useradd --uid (\d+)", dockerfile)[1]
    gid = re.search(r"groupadd --gid (\d+)", dockerfile)[1]
    assert re.search(r"^USER (\d+):(\d+)$", dockerfile, re.M).groups() == (uid, gid)
    item = overlay.one(*workload.split("/"))
    # The web pods' volumes (the uploads') are made writable to the image's group.
    shared = {"fsGroup": int(gid), "fsGroupChangePolicy": "OnRootMismatch"}
    assert pod(item)["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": int(uid),
        "runAsGroup": int(gid),
        **(shared if workload == "Deployment/web" else {}),
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert container(item)["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    (tmp,) = [m for m in container(item)["volumeMounts"] if m["mountPath"] == "/tmp"]
    (volume,) = [v for v in pod(item)["volumes"] if v["name"] == tmp["name"]]
    assert volume["emptyDir"]["medium"] == "Memory"


def test_uploads_are_on_a_claim_every_web_pod_shares(overlay, project, facts):
    app = re.findall(r"^WORKDIR (.+)$", (project / "Dockerfile").read_text(), re.M)[-1]
    media_root = f"{app}/{facts['media_folder']}"  # the default DJANGO_MEDIA_ROOT in the image
    assert "DJANGO_MEDIA_ROOT" not in overlay.config()
    web = overlay.one("Deployment", "web")
    (mount,) = [m for m in container(web)["volumeMounts"] if m["mountPath"] == media_root]
    (volume,) = [v for v in pod(web)["volumes"] if v["name"] == mount["name"]]
    claim = overlay.one("PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # pods on any node at once


def test_migrate_job_runs_the_release_with_the_web_environment(overlay):
    web, job = overlay.one("Deployment", "web"), overlay.one("Job", "migrate")
    assert container(job)["command"] == MIGRATE
    assert container(job)["image"] == container(web)["image"]
    assert container(job)["envFrom"] == container(web)["envFrom"]
    assert pod(job)["restartPolicy"] == "Never"
    for bound in ("backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
        assert job["spec"][bound] > 0, bound
    # Its pod never gets the site's traffic, nor counts in the web pods' budget.
    for kind in ("Service", "PodDisruptionBudget", "NetworkPolicy"):
        spec = overlay.one(kind)["spec"]
        selector = spec.get("selector", spec.get("podSelector", {}))
        selector = selector.get("matchLabels", selector)
        assert selects(selector, web) and not selects(selector, job), kind


def test_overlay_sets_the_release_image_and_host(overlay, base, project):
    settings = yaml.safe_load((project / OVERLAY / "kustomization.yaml").read_text())
    (image,) = settings["images"]
    assert image["newTag"] not in ("", "latest")
    release = f"{image['newName']}:{image['newTag']}"
    for rendering, expected in ((overlay, release), (base, image["name"])):
        for workload in ("Deployment", "Job"):
            assert container(rendering.one(workload))["image"] == expected
    ingress = overlay.one("Ingress", "web")["spec"]
    hosts = [rule["host"] for rule in ingress["rules"]]
    (tls,) = ingress["tls"]
    assert hosts == tls["hosts"] == ["example.com"]  # the generator's default domain_name
    assert hosts != [rule["host"] for rule in base.one("Ingress")["spec"]["rules"]]
    assert set(hosts) <= set(overlay.config()["DJANGO_ALLOWED_HOSTS"].split(","))


def test_settings_are_declared_variables_and_secrets_stay_secret(overlay, facts):
    config = overlay.config()
    secrets = {
        name: base64.b64decode(value).decode()
        for name, value in overlay.one("Secret")["data"].items()
    }
    assert set(config) | set(secrets) <= set(facts["declared"])
    assert not set(config) & set(facts["secret"])  # a ConfigMap is readable by many
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL"} <= set(secrets)
    assert secrets["DATABASE_URL"].startswith("postgres://")


def test_any_forwarding_address_is_trusted_only_behind_the_network_policy(overlay):
    config, web = overlay.config(), overlay.one("Deployment", "web")
    assert config["GUNICORN_BEHIND_PROXY"].lower() in TRUE  # ingress-nginx buffers requests
    if config["FORWARDED_ALLOW_IPS"].strip() != "*":
        return
    policy = overlay.one("NetworkPolicy", "web")["spec"]
    assert selects(policy["podSelector"]["matchLabels"], web)
    assert "Ingress" in policy["policyTypes"]
    for rule in policy["ingress"]:
        assert rule["from"] and all("ipBlock" not in peer for peer in rule["from"]), rule
        assert [container_port(web, port["port"]) for port in rule["ports"]] == [8000]


@pytest.mark.parametrize("workload", ["Deployment/web", "Job/migrate"])
def test_resources_are_bounded(overlay, workload):
    resources = container(overlay.one(*workload.split("/")))["resources"]
    assert {"cpu", "memory"} <= resources["limits"].keys() & resources["requests"].keys()


def test_cpu_limit_gives_three_sync_workers(facts):
    assert facts["workers"] == 3  # 2 x 1 CPU + 1 (config/cpus.py)
    assert facts["pool_max_size"] == 1  # one thread per worker behind the ingress


def test_autoscaler_budget_service_and_ingress_meet_the_web_pods(overlay):
    web = overlay.one("Deployment", "web")
    hpa = overlay.one("HorizontalPodAutoscaler")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    assert 2 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert selects(overlay.one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"], web)
    service = overlay.one("Service")
    assert selects(service["spec"]["selector"], web)
    (port,) = service["spec"]["ports"]
    assert container_port(web, port["targetPort"]) == 8000
    (rule,) = overlay.one("Ingress")["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    backend = path["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"] in ({"name": port["name"]}, {"number": port["port"]})


def test_docs_state_the_connection_budget_of_the_manifests(overlay, facts, project):
    surge = overlay.one("Deployment")["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    most = overlay.one("HorizontalPodAutoscaler")["spec"]["maxReplicas"]
    workers, pool = facts["workers"], facts["pool_max_size"]
    total = (most + surge) * workers * pool + 1  # + 1: the migrate Job
    figure = f"({most} + {surge}) x {workers} x {pool} + 1 = {total}"
    assert figure in (project / "docs" / "kubernetes.md").read_text()


def test_overlay_without_its_secret_file_fails_naming_it(kubectl, project, tmp_path):
    copy = tmp_path / "kubernetes"
    shutil.copytree(project / "deploy" / "kubernetes", copy)
    (copy / "overlays" / "example" / "secret.env").unlink()
    result = kustomize(kubectl, copy / "overlays" / "example")
    assert result.returncode != 0
    assert "secret.env" in result.stderr and "no such file" in result.stderr, explain(result)


def test_secret_file_is_kept_out_of_git_and_the_image(project, tmp_path):
    shutil.copy(project / ".gitignore", tmp_path / ".gitignore")
    succeeded(run(["git", "init", "--quiet"], tmp_path))
    secret = str(OVERLAY / "secret.env")
    assert run(["git", "check-ignore", "--quiet", secret], tmp_path).returncode == 0
    assert run(["git", "check-ignore", "--quiet", f"{secret}.example"], tmp_path).returncode == 1
    assert "deploy/" in (project / ".dockerignore").read_text().splitlines()


@pytest.mark.parametrize("named", ["relative", "absolute"])
@pytest.mark.parametrize("image", RELEASES.values(), ids=RELEASES.keys())
def test_deploy_renders_the_overlay_with_the_release_image(
    kubectl, project, overlay, image, named, tmp_path
):
    settings = project / OVERLAY / "kustomization.yaml"
    before = settings.read_text()
    folder = OVERLAY if named == "relative" else project / OVERLAY
    rendering = run(
        ["sh", DEPLOY, "--render", image, str(folder)],
        project,
        timeout=60,
        TMPDIR=str(tmp_path),  # where its temporary kustomization goes, and must leave
        **NO_CLUSTER,
    )
    release = Rendered(succeeded(rendering))
    for workload in ("Deployment", "Job"):
        assert container(release.one(workload))["image"] == image
    # The overlay's objects with that image, and nothing else changed: not even the overlay.
    expected = copy.deepcopy(overlay.objects)
    for item in expected:
        if item["kind"] in ("Deployment", "Job"):
            container(item)["image"] = image
    assert release.objects == expected
    assert settings.read_text() == before
    assert list(tmp_path.iterdir()) == []
    for version in KUBERNETES_VERSIONS:
        assert invalid(release, version) == []


def test_deploy_refuses_an_overlay_it_cannot_use(kubectl, project, tmp_path):
    image = RELEASES["commit-sha-tag"]
    absent = run(["sh", DEPLOY, image], project, timeout=60, **NO_CLUSTER)  # overlays/production
    assert absent.returncode == 2, explain(absent)
    assert absent.stderr == (
        "deploy.sh: deploy/kubernetes/overlays/production has no kustomization.yaml"
        " (docs/kubernetes.md sets one up)\n"
    )
    # Without a namespace, every command would act on the context's: refused, once rendered.
    kubernetes = tmp_path / "kubernetes"
    shutil.copytree(project / "deploy" / "kubernetes", kubernetes)
    settings = kubernetes / "overlays" / "example" / "kustomization.yaml"
    settings.write_text(re.sub(r"^namespace: .*\n", "", settings.read_text(), flags=re.M))
    unnamed = run(["sh", DEPLOY, image, str(settings.parent)], project, timeout=60, **NO_CLUSTER)
    assert unnamed.returncode == 2, explain(unnamed)
    assert unnamed.stderr.endswith("must put every object in one namespace (namespace:)\n")
