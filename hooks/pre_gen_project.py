"""Reject bad answers before cookiecutter writes anything (logic: hooks/answers.py)."""

import json
import sys

sys.path.insert(0, r"{{ hooks_dir }}")  # raw: Windows paths are full of backslashes
from answers import main  # noqa: E402

# tojson escapes every quote and backslash (and <>&'), and a raw string keeps those escapes for
# json.loads, so any answer (quotes, backslashes, newlines, emoji) arrives exactly as typed.
ANSWERS = r"""{{ {
    "project_name": cookiecutter.project_name,
    "project_slug": cookiecutter.project_slug,
    "description": cookiecutter.description,
    "author_name": cookiecutter.author_name,
    "author_email": cookiecutter.author_email,
    "domain_name": cookiecutter.domain_name,
    "python_version": cookiecutter.python_version,
    "database": cookiecutter.database,
    "ci": cookiecutter.ci,
    "time_zone": cookiecutter.time_zone,
    "run_smoke_test": cookiecutter.run_smoke_test,
} | tojson }}"""

main(json.loads(ANSWERS))
