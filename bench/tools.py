"""Tools the bench runs in environments of their own, never in the template's tooling: uv
installs each from its pinned requirements file (and caches it)."""

import subprocess
import sys
from pathlib import Path

from support.generate import TEMPLATE_DIR, tool


def run_isolated(requirements: Path, *command: str) -> subprocess.CompletedProcess:
    """`python COMMAND...` in an environment with only `requirements` installed."""
    uv_run = [tool("uv"), "run", "--no-project", "--quiet", "--python", sys.executable]
    return subprocess.run(
        [*uv_run, "--with-requirements", str(requirements), "python", *command],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=TEMPLATE_DIR,
    )
