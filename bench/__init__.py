"""Benchmark of the generated project: gunicorn against `manage.py runserver`, with plots.

Run it from the repository root with `uv run python -m bench` (`--quick` for a fast check);
docs/benchmarks.md explains what it measures and holds the latest report.
"""
