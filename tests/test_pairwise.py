"""The generated combinations cover every pair of option values (see combinations.py)."""

import itertools
import json

from support.generate import TEMPLATE_DIR
from tests.combinations import COMBINATIONS


def option_values() -> dict[str, list[str]]:
    """Every option with a fixed set of values: the choice lists and the yes/no options."""
    context = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    options = {}
    for name, value in context.items():
        if name.startswith("_"):
            continue  # cookiecutter's own keys, e.g. _extensions
        if isinstance(value, list):
            options[name] = value
        elif isinstance(value, bool):
            options[name] = ["yes", "no"] if value else ["no", "yes"]
    return options


def test_every_pair_of_option_values_is_generated():
    options = option_values()
    assert set(options) == {"python_version", "database", "ci", "run_smoke_test"}
    covered = {
        (a, combo.get(a, options[a][0]), b, combo.get(b, options[b][0]))
        for combo in COMBINATIONS
        for a, b in itertools.combinations(options, 2)
    }
    missing = [
        (a, value_a, b, value_b)
        for a, b in itertools.combinations(options, 2)
        for value_a in options[a]
        for value_b in options[b]
        if (a, value_a, b, value_b) not in covered
    ]
    assert missing == []
