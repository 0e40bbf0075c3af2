"""Helpers of the update tests (test_updates.py, test_copier.py): this template copied into a
git repository of its own, where a test commits template changes, and git as a user runs it."""

import re
import shutil
from pathlib import Path

from support.generate import TEMPLATE_DIR, run, succeeded

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}
PROJECT_TEMPLATE = "{{cookiecutter.project_slug}}"
# Printed by the hook when it installs dependencies or runs the smoke test.
SIDE_EFFECTS = ("Installing the project's dependencies", "Smoke test", "smoke test")
# Template change B: a shorter pool timeout in config/variables.py.
POOL_TIMEOUT = re.compile(r'("DATABASE_POOL_TIMEOUT",\n\s+number\(0\.1, 600\),\n\s+)10,')


def git(folder: Path, *arguments: str) -> str:
    return succeeded(run(["git", *arguments], folder, **GIT_IDENTITY))


def commit_all(folder: Path, message: str) -> None:
    git(folder, "add", "--all")
    git(folder, "commit", "--quiet", "--message", message)


def edit(path: Path, old: str | re.Pattern, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    changed = old.sub(new, text) if isinstance(old, re.Pattern) else text.replace(old, new)
    assert changed != text, f"{path}: nothing to change"
    path.write_text(changed, encoding="utf-8")


def template_repository(folder: Path) -> Path:
    """This template's files (as git sees them, committed or not) in a new repository at
    `folder`, committed as A."""
    folder.mkdir(parents=True)
    listed = git(TEMPLATE_DIR, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        if (TEMPLATE_DIR / name).is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE_DIR / name, folder / name)
    git(folder, "init", "--quiet", "--initial-branch", "main")
    commit_all(folder, "A")
    return folder


def make_user_edits(project: Path, slug: str) -> None:
    """What a user commits after generating: an about page, and the site in German."""
    views = project / slug / "views.py"
    edit(
        views,
        "from django.shortcuts",
        "from django.http import HttpResponse\nfrom django.shortcuts",
    )
    views.write_text(
        views.read_text()
        + '\n\n@require_safe\ndef about(request):\n    return HttpResponse("About us")\n'
    )
    edit(
        project / "config/urls.py",
        '    path("", views.home, name="home"),\n',
        '    path("", views.home, name="home"),\n    path("about/", views.about, name="about"),\n',
    )
    edit(project / "config/settings.py", 'LANGUAGE_CODE = "en-us"', 'LANGUAGE_CODE = "de-de"')
    commit_all(project, "An about page, in German")


def commit_template_change_b(template: Path) -> None:
    """A changed default (so the README table and .env.example that the hook renders change
    too) and a new file."""
    edit(template / PROJECT_TEMPLATE / "config/variables.py", POOL_TIMEOUT, r"\g<1>5,")
    (template / PROJECT_TEMPLATE / "docs/release-b.md").write_text("# New in release B\n")
    commit_all(template, "B: a shorter pool timeout, and a new page")


def commit_template_change_c(template: Path) -> None:
    """A change on the line the user edited too, and a new file."""
    edit(
        template / PROJECT_TEMPLATE / "config/settings.py",
        'LANGUAGE_CODE = "en-us"',
        'LANGUAGE_CODE = "en-gb"',
    )
    (template / PROJECT_TEMPLATE / "docs/release-c.md").write_text("# New in release C\n")
    commit_all(template, "C: British English, and a page")


def assert_b_arrived_and_the_user_edits_stayed(project: Path, slug: str) -> None:
    assert (project / "docs/release-b.md").read_text() == "# New in release B\n"
    variables = (project / "config/variables.py").read_text()
    assert re.search(r"number\(0\.1, 600\),\n\s+5,", variables)
    # The hook rendered these again from the new default.
    assert "| `DATABASE_POOL_TIMEOUT` | `5` |" in (project / "README.md").read_text()
    assert "# DATABASE_POOL_TIMEOUT=5\n" in (project / ".env.example").read_text()
    assert "def about(request):" in (project / slug / "views.py").read_text()
    assert 'LANGUAGE_CODE = "de-de"' in (project / "config/settings.py").read_text()


def assert_c_conflicts_and_nothing_is_lost(project: Path) -> None:
    # A merge conflict, as after `git merge`: both lines kept, between conflict markers.
    settings = (project / "config/settings.py").read_text()
    assert re.search(
        r'<<<<<<< [^\n]*\nLANGUAGE_CODE = "de-de"\n=======\nLANGUAGE_CODE = "en-gb"\n>>>>>>> ',
        settings,
    ), settings
    # The rest of C applied cleanly.
    assert (project / "docs/release-c.md").read_text() == "# New in release C\n"
