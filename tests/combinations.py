"""The option combinations the suite generates: every pair of option values appears at least
once (pairwise coverage, checked by test_pairwise.py), in 9 projects instead of all 36.

The first is `cookiecutter --no-input` with nothing changed. The free-text answers vary too,
so unusual but valid names, domains and time zones get through every generated file: quotes,
apostrophes, backslashes, braces, `&`, `<`, Markdown marks, non-ASCII letters and emoji.
"""

DEFAULTS: dict[str, str] = {}

COMBINATIONS: list[dict[str, str]] = [
    DEFAULTS,  # python 3.13, postgresql, github, smoke test on
    {"python_version": "3.13", "database": "sqlite", "ci": "gitlab", "run_smoke_test": "no",
     "project_name": "Läden \"quoted\" {braces} & <b>Zoë's</b> \\ 🚀", "project_slug": "cafe_bar",
     "time_zone": "Europe/Paris"},
    {"python_version": "3.13", "database": "postgresql", "ci": "none", "run_smoke_test": "no",
     "domain_name": "shop.example.co.uk", "project_name": "Shop \"Ω\" {x} \\ <&> # 1."},
    {"python_version": "3.12", "database": "sqlite", "ci": "github", "run_smoke_test": "no",
     "project_name": "Inventory", "author_name": "Ana María O'Neil"},
    {"python_version": "3.12", "database": "postgresql", "ci": "gitlab", "run_smoke_test": "yes",
     "project_name": "Billing API", "time_zone": "America/Argentina/Buenos_Aires"},
    {"python_version": "3.12", "database": "sqlite", "ci": "none", "run_smoke_test": "yes",
     "description": "- Tracks <things> & \"stuff\" \\ {x} `code` *it's* fine?"},
    {"python_version": "3.14", "database": "sqlite", "ci": "github", "run_smoke_test": "yes",
     "project_name": "blog", "domain_name": "localhost"},
    {"python_version": "3.14", "database": "postgresql", "ci": "gitlab", "run_smoke_test": "no",
     "project_name": "Data Hub 2", "author_email": "first.last+django@sub.example.org",
     "author_name": "Ana \"Nan\" O'Neil \\ Ü"},
    {"python_version": "3.14", "database": "sqlite", "ci": "none", "run_smoke_test": "no",
     "project_name": "x"},
]  # fmt: skip


def label(combination: dict[str, str]) -> str:
    if not combination:
        return "defaults"
    return "-".join(
        combination.get(name, "default")
        for name in ("python_version", "database", "ci", "run_smoke_test")
    )
