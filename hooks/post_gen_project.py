"""Finish the generated project: option files, .env, smoke test (logic: hooks/post_generation.py)."""

import json
import sys

sys.path.insert(0, r"{{ hooks_dir }}")  # raw: Windows paths are full of backslashes
from post_generation import main  # noqa: E402

# See pre_gen_project.py for why the answers travel as JSON in a raw string.
ANSWERS = r"""{{ {
    "database": cookiecutter.database,
    "ci": cookiecutter.ci,
    "run_smoke_test": cookiecutter.run_smoke_test,
} | tojson }}"""

main(json.loads(ANSWERS), rerendering={{ rerendering }})
