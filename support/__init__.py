"""What the template's tests and its benchmark share: generating a project for real, the
environment its servers get, starting and stopping those servers, HTTP and load clients, and
the test-only views (pythonpath/) that reach a server through its PYTHONPATH, never through
the generated project's files."""
