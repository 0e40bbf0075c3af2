"""A generated project's Swarm stack on this engine's single-node swarm, for the Swarm tests:
the swarm itself, the project and its release images, and what the stack runs."""

import contextlib
import json
import secrets
import sys
import time
from pathlib import Path

from support.client import free_port, get
from support.environment import PLAIN_HTTP
from support.generate import cookiecutter, explain, run
from support.load import Load
from tests.containers import docker
from tests.releases import UNREADY_SETTINGS, VERSION_URL, build_variant, report, watching

# settings.env for plain HTTP on loopback: no certificate, no redirect.
LOCAL_SETTINGS = {
    "SITE_ADDRESS": "http://",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    **PLAIN_HTTP,
}
UNREADY = "v5-unready"
SECRETS = ("django_secret_key", "database_url", "postgres_password")


class SwarmStack:
    def __init__(self, project, name: str):
        self.project = project
        self.name = name
        self.port = free_port()
        self.https_port = free_port()
        self.figures: list[str] = []  # one line per rollout, printed when the stack goes
        self.engine: dict[str, str] = {}  # the environment of its docker commands: DOCKER_HOST

    def docker(self, *args: str):
        return run(["docker", *args], Path.cwd(), **self.engine)

    def watching(self, path: str = VERSION_URL) -> Load:
        """The light load of a rollout, through the proxy."""
        return watching(self.port, path)

    def record(self, figure: str) -> None:
        """A measured figure, printed now and again with the others when the stack goes."""
        self.figures.append(figure)
        print(figure, file=sys.stderr)

    def image(self, tag: str) -> str:
        return f"{self.name}-app:{tag}"

    def env(self) -> dict[str, str]:
        return {"WEB_PORT": str(self.port), "WEB_HTTPS_PORT": str(self.https_port)}

    def deploy(self, label: str, tag: str, expect: int = 0):
        """deploy.sh IMAGE under a light load: (its result, what the load saw)."""
        started = time.monotonic()
        with self.watching() as load:
            result = run(
                ["sh", "deploy/swarm/deploy.sh", self.image(tag), self.name],
                self.project,
                timeout=900,
                **self.env(),
                **self.engine,
            )
        seconds = time.monotonic() - started
        self.record(f"{label}: exit {result.returncode} in {seconds:.0f} s; {report(load.result)}")
        assert result.returncode == expect, explain(result)
        return result, load.result

    def tasks(self, service: str) -> list[dict]:
        listed = self.docker("service", "ps", f"{self.name}_{service}", "--format", "json")
        assert listed.returncode == 0, explain(listed)
        return [json.loads(line) for line in listed.stdout.splitlines() if line.strip()]

    def running(self, service: str = "web") -> list[dict]:
        return [t for t in self.tasks(service) if t["CurrentState"].startswith("Running")]

    def containers(self, service: str) -> list[str]:
        """The IDs of the service's running containers on this node."""
        label = f"label=com.docker.swarm.service.name={self.name}_{service}"
        return docker("ps", "-q", "--filter", label).stdout.split()

    def migrations_of(self, tag: str) -> int:
        """How many times the migrate job completed with this release's image."""
        tasks = self.tasks("migrate")
        return sum(
            t["Image"] == self.image(tag) and "Complete" in t["CurrentState"] for t in tasks
        )

    def serving(self) -> str:
        try:
            return get(self.port, "/").body.decode().strip()
        except OSError:
            return ""

    def manage(self, *command: str) -> str:
        """`manage.py COMMAND` in one of the running `web` tasks' containers: its output."""
        (container, *_) = self.containers("web")
        ran = docker("exec", container, "python", "manage.py", *command)
        assert ran.returncode == 0, explain(ran)
        return ran.stdout


@contextlib.contextmanager
def swarm_mode():
    """This engine in a swarm; left as it was found (it leaves only a swarm it created)."""
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    created = state == "inactive"
    if created:
        joined = docker("swarm", "init", "--advertise-addr", "127.0.0.1")
        assert joined.returncode == 0, explain(joined)
    try:
        yield
    finally:
        if created:
            docker("swarm", "leave", "--force")


@contextlib.contextmanager
def initialized_stack(
    output, database: str, releases: tuple[str, ...], make_stack=SwarmStack, **init_env: str
):
    """A project generated with `database`, its images tagged as `releases` (each one's home
    page is its tag) and UNREADY, settings.env for loopback, init.sh run (with `init_env`, on
    the stack's engine); all removed after. Images are built on this engine."""
    slug = f"swarm_{secrets.token_hex(3)}"
    answers = {"project_slug": slug, "database": database, "run_smoke_test": "no"}
    generated = cookiecutter(output, answers)
    assert generated.returncode == 0, explain(generated)
    project = output / slug
    stack = make_stack(project, slug.replace("_", "-"))
    variants = output / "variants"
    built_image = f"{stack.name}-web"
    try:
        built = run(["docker", "compose", "-p", stack.name, "build", "web"], project)
        assert built.returncode == 0, explain(built)
        home = f"{slug}/templates/{slug}/home.html"
        for tag in releases:
            build_variant(built_image, stack.image(tag), variants / tag, {home: tag})
        build_variant(
            built_image,
            stack.image(UNREADY),
            variants / UNREADY,
            {home: UNREADY, "unready_settings.py": UNREADY_SETTINGS},
            env="DJANGO_SETTINGS_MODULE=unready_settings",
        )
        settings = "".join(f"{name}={value}\n" for name, value in LOCAL_SETTINGS.items())
        (project / "deploy/swarm/settings.env").write_text(settings)
        initialized = run(["sh", "deploy/swarm/init.sh"], project, **stack.engine, **init_env)
        assert initialized.returncode == 0, explain(initialized)
        yield stack
    finally:
        lines = ["", "Swarm rollouts (what the load saw):", *stack.figures]
        print("\n".join(lines), file=sys.stderr)
        images = [stack.image(tag) for tag in (*releases, UNREADY)]
        remove(stack, slug, [*images, built_image])


def remove(stack: SwarmStack, slug: str, images: list[str]) -> None:
    """The stack, its volumes, secrets, configs, images and node label."""
    docker("stack", "rm", stack.name)
    # A volume goes once no container holds it. Swarm removes the tasks' containers some
    # seconds after the stack, but not those of a completed job (migrate): those go here.
    stack_label = f"label=com.docker.stack.namespace={stack.name}"
    for _ in range(90):
        volumes = docker("volume", "ls", "-q", "--filter", stack_label).stdout.split()
        if not volumes:
            break
        for container in docker(
            "ps", "-aq", "--filter", "status=exited", "--filter", stack_label
        ).stdout.split():
            docker("rm", container)
        for volume in volumes:
            docker("volume", "rm", volume)
        time.sleep(1)
    for secret in SECRETS:
        docker("secret", "rm", f"{slug}_{secret}")
    configs = docker("config", "ls", "-q", "--filter", f"name={slug}_caddyfile")
    for config in configs.stdout.split():
        docker("config", "rm", config)
    # --force: Swarm removes the old tasks' stopped containers only some time after.
    for image in images:
        docker("image", "rm", "--force", image)
    node = docker("info", "--format", "{{.Swarm.NodeID}}").stdout.strip()
    if node:
        docker("node", "update", "--label-rm", f"{slug}.db", node)
