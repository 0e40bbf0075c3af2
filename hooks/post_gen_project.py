"""Finish the generated project: .env, option files, smoke test (logic: hooks/post_generation.py)."""

import sys

sys.path.insert(0, {{ hooks_dir | tojson }})

from post_generation import main  # noqa: E402

main(
    {
        "database": {{ cookiecutter.database | tojson }},
        "ci": {{ cookiecutter.ci | tojson }},
        "run_smoke_test": {{ cookiecutter.run_smoke_test | string | tojson }},
    }
)
