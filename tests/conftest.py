"""Fixtures of the template's tests. Generating projects, running tools, servers and clients
are in the support package, which the benchmark uses too."""

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL server for the postgresql combinations: TEST_DATABASE_URL.

    It names a role that may create databases (the generated tests create theirs).
    .ci/run starts Debian's PostgreSQL on loopback and sets it.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if IN_CI:
            pytest.fail("TEST_DATABASE_URL is not set: CI must run the PostgreSQL tests")
        pytest.skip("TEST_DATABASE_URL is not set: no PostgreSQL server to test against")
    return url.rstrip("/")
