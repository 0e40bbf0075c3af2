"""Tests for the answer checks in hooks/answers.py and their hand-over in pre_gen_project.py."""

import json
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest

from hooks import answers
from hooks.template_location import TemplateLocation

REPO = Path(__file__).resolve().parent.parent
HOOKS_DIR = REPO / "hooks"

# What cookiecutter.json produces with --no-input.
DEFAULTS = {
    "project_name": "My Project",
    "project_slug": "my_project",
    "description": "A Django project served by gunicorn.",
    "author_name": "Your Name",
    "author_email": "you@example.com",
    "domain_name": "example.com",
    "python_version": "3.13",
    "database": "postgresql",
    "ci": "github",
    "time_zone": "UTC",
    "run_smoke_test": True,
}

# Values that break generated files or the hand-over if passed along naively.
NASTY = {
    **DEFAULTS,
    "project_name": 'O\'Brien "quoted" \\ back\nline 2',
    "description": '<script>alert(\'x\')</script> & """ {{ not jinja }}',
    "author_name": "Zoë 🚀 line1\nline2",
    "author_email": "ends with a backslash \\",
    "run_smoke_test": "no",
}


def test_defaults_pass():
    assert answers.validate(DEFAULTS) == []


def test_choices_match_cookiecutter_json():
    config = json.loads((REPO / "cookiecutter.json").read_text(encoding="utf-8"))
    assert set(config["python_version"]) == set(answers.PYTHON_VERSIONS)
    assert set(config["database"]) == set(answers.DATABASES)
    assert set(config["ci"]) == set(answers.CI_CHOICES)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("project_slug", "a"),
        ("project_slug", "shop2_api"),
        ("project_slug", "match"),  # soft keyword: importable
        ("project_slug", "x" * 50),
        ("project_name", "Café 🚀 <Shop> & Co's"),
        ("project_name", 'Läden "quoted" {braces} \\ back'),  # escaped per file, not refused
        ("project_name", "a { {spaced} } %"),
        ("description", ""),
        ("description", 'C:\\path "quoted" {x} `code` *stars* #1'),
        ("author_name", "Zoë O'Brien"),
        ("author_name", 'Jo "JJ" Doe \\ tab\there'),
        ("author_email", "first.last+tag@mail.example.org"),
        ("author_email", "You@Example.COM"),
        ("domain_name", "localhost"),
        ("domain_name", "sub.my-site.co.uk"),
        ("domain_name", "xn--bcher-kva.de"),
        ("domain_name", "a" * 63 + ".com"),
        ("python_version", "3.12"),
        ("python_version", "3.14"),
        ("database", "sqlite"),
        ("ci", "gitlab"),
        ("ci", "none"),
        ("time_zone", "Europe/Paris"),
        ("time_zone", "America/Argentina/Buenos_Aires"),
        ("run_smoke_test", False),
        ("run_smoke_test", "False"),
        ("run_smoke_test", "yes"),
        ("run_smoke_test", "0"),
    ],
)
def test_good_value(key, value):
    assert answers.validate({**DEFAULTS, key: value}) == []


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("project_slug", "class", "Python keyword"),
        ("project_slug", "import", "Python keyword"),
        ("project_slug", "django", "package the project imports"),
        ("project_slug", "psycopg_pool", "package the project imports"),
        ("project_slug", "test", "standard-library module"),
        ("project_slug", "site", "standard-library module"),
        ("project_slug", "json", "standard-library module"),
        ("project_slug", "config", "top-level module or folder"),
        ("project_slug", "My_Project", "lowercase Python identifier"),
        ("project_slug", "1abc", "lowercase Python identifier"),
        ("project_slug", "_x", "lowercase Python identifier"),
        ("project_slug", "my-project", "lowercase Python identifier"),
        ("project_slug", "", "lowercase Python identifier"),
        ("project_slug", "x" * 51, "limit is 50"),
        ("project_name", "   ", "blank"),
        ("project_name", "x" * 101, "limit is 100"),
        ("project_name", "two\nlines", "line break"),
        ("project_name", "one\u2028line", "line break"),
        ("project_name", "{{ oops }}", "'{{': cookiecutter would render it"),
        ("project_name", "bell\x07", "control character U+0007"),
        ("description", "one\ntwo", "line break"),
        ("description", "uses {% tags %}", "'{%'"),
        ("description", "a {# comment", "'{#'"),
        ("description", "x" * 201, "limit is 200"),
        ("author_name", "", "blank"),
        ("author_name", "Jo\r\nDoe", "line break"),
        ("author_email", "a{{b@example.com", "'{{'"),
        ("author_email", "no-at-sign", "exactly one @"),
        ("author_email", "two@@example.com", "exactly one @"),
        ("author_email", "a@b", "needs a dot"),
        ("author_email", "x@example.com ", "spaces"),
        ("author_email", "x y@example.com", "spaces"),
        ("author_email", "@example.com", "before the @"),
        ("author_email", 'a"b@example.com', "before the @"),
        ("author_email", "Name <x@example.com>", "spaces"),
        ("author_email", "<x@example.com>", "before the @"),
        ("author_email", ".x@example.com", "before the @"),
        ("author_email", "x..y@example.com", "before the @"),
        ("author_email", "x@-bad.com", "starts or ends with '-'"),
        ("domain_name", "https://example.com", "must not include a scheme like https://"),
        ("domain_name", "example.com/path", "path"),
        ("domain_name", "example.com:8000", "port"),
        ("domain_name", "example.com?a=1", "query"),
        ("domain_name", "user@example.com", "user name"),
        ("domain_name", "exa mple.com", "spaces"),
        ("domain_name", "-bad.com", "starts or ends with '-'"),
        ("domain_name", "bad-.com", "starts or ends with '-'"),
        ("domain_name", "Example.com", "use lowercase"),
        ("domain_name", "exa_mple.com", "a-z, 0-9 and '-'"),
        ("domain_name", "bücher.de", "xn--"),
        ("domain_name", "example..com", "empty label"),
        ("domain_name", "example.com.", "empty label"),
        ("domain_name", "example", "needs a dot"),
        ("domain_name", "", "empty"),
        ("domain_name", "a" * 64 + ".com", "longer than 63"),
        ("domain_name", ("a" * 63 + ".") * 4 + "com", "limit is 253"),
        ("python_version", "3.11", "3.12, 3.13, 3.14"),
        ("python_version", "3.15", "3.12, 3.13, 3.14"),
        ("python_version", "2", "3.12, 3.13, 3.14"),
        ("python_version", "3.13.1", "3.12, 3.13, 3.14"),
        ("database", "mysql", "postgresql, sqlite"),
        ("ci", "jenkins", "github, gitlab, none"),
        ("time_zone", "Mars/Olympus", "e.g. Europe/Paris"),
        ("time_zone", "../etc/passwd", "e.g. Europe/Paris"),
        ("time_zone", "/usr/share/zoneinfo/UTC", "e.g. Europe/Paris"),
        ("time_zone", "", "e.g. Europe/Paris"),
        ("time_zone", "europe/paris", "did you mean 'Europe/Paris'"),
        ("run_smoke_test", "maybe", "true or false"),
        ("run_smoke_test", "", "true or false"),
    ],
)
def test_bad_value(key, value, rule):
    errors = answers.validate({**DEFAULTS, key: value})
    assert len(errors) == 1, errors
    # One line that names the answer, its value and the rule.
    assert errors[0].startswith(f"{key}={value!r} ")
    assert rule in errors[0]
    assert "\n" not in errors[0]


def test_missing_key_is_an_error_and_unknown_keys_are_ignored():
    given = {key: value for key, value in DEFAULTS.items() if key != "time_zone"}
    assert answers.validate({**given, "_extensions": ["x"], "extra": "?"}) == [
        "time_zone is missing"
    ]


def test_every_bad_answer_is_reported():
    errors = answers.validate({**DEFAULTS, "project_slug": "class", "ci": "jenkins"})
    assert [error.split("=")[0] for error in errors] == ["project_slug", "ci"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("True", True), ("false", False), (" YES ", True)]
    + [("yes", True), ("no", False), ("1", True), ("0", False), ("on", True), ("off", False)],
)
def test_as_bool(value, expected):
    assert answers.as_bool(value) is expected


@pytest.mark.parametrize("value", ["maybe", "", "2", "truee"])
def test_as_bool_rejects(value):
    with pytest.raises(ValueError, match="yes/no"):
        answers.as_bool(value)


def test_main_exits_1_and_prints_to_stderr(capsys):
    with pytest.raises(SystemExit) as exit_info:
        answers.main({**DEFAULTS, "project_slug": "class", "python_version": "3.11"})
    assert exit_info.value.code == 1
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("ERROR: project_slug='class' ")
    assert lines[1].startswith("ERROR: python_version='3.11' ")


def test_main_is_quiet_for_good_answers(capsys):
    assert answers.main(DEFAULTS) is None
    assert capsys.readouterr() == ("", "")


def render_hook(hooks_dir, context):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.globals["hooks_dir"] = str(hooks_dir)
    source = (HOOKS_DIR / "pre_gen_project.py").read_text(encoding="utf-8")
    return env.from_string(source).render(cookiecutter=context)


def run_script(tmp_path, source):
    # Like cookiecutter: a temporary file, run by this Python, from another directory.
    script = tmp_path / "hook.py"
    script.write_text(source, encoding="utf-8")
    workdir = tmp_path / "project"
    workdir.mkdir()
    return subprocess.run(
        [sys.executable, str(script)], cwd=workdir, capture_output=True, encoding="utf-8"
    )


def test_hook_hands_answers_over_intact(tmp_path):
    stub_dir = tmp_path / "stub"
    stub_dir.mkdir()
    (stub_dir / "answers.py").write_text(
        "import json\n\ndef main(answers):\n    print(json.dumps(answers))\n", encoding="utf-8"
    )
    result = run_script(tmp_path, render_hook(stub_dir, NASTY))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == NASTY


def test_rendered_hook_runs_the_real_checks(tmp_path):
    # The extension is what gives real hook renders their hooks_dir.
    env = jinja2.Environment(extensions=[TemplateLocation])
    assert env.globals["hooks_dir"] == str(HOOKS_DIR)

    result = run_script(tmp_path, render_hook(HOOKS_DIR, NASTY))
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "ERROR: project_name='O\\'Brien \"quoted\" \\\\ back\\nline 2' must be one line: "
        "it contains a line break"
    )
    assert [line.split("=")[0] for line in lines] == [
        "ERROR: project_name",
        "ERROR: description",
        "ERROR: author_name",
        "ERROR: author_email",
    ]


def test_rendered_hook_accepts_defaults(tmp_path):
    result = run_script(tmp_path, render_hook(HOOKS_DIR, DEFAULTS))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_cookiecutter_stops_and_leaves_nothing(tmp_path, capfd):
    cookiecutter = pytest.importorskip("cookiecutter.main").cookiecutter
    from cookiecutter.exceptions import FailedHookException

    # Keep cookiecutter's replay files and clones out of the home directory.
    config = tmp_path / "config.yaml"
    config.write_text(
        f"cookiecutters_dir: {tmp_path / 'cookiecutters'}\nreplay_dir: {tmp_path / 'replay'}\n",
        encoding="utf-8",
    )
    output = tmp_path / "out"
    output.mkdir()
    with pytest.raises(FailedHookException):
        cookiecutter(
            str(REPO),
            no_input=True,
            extra_context={"project_slug": "class"},
            output_dir=str(output),
            config_file=str(config),
        )
    assert "ERROR: project_slug='class' is a Python keyword" in capfd.readouterr().err
    assert list(output.iterdir()) == []
