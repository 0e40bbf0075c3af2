"""Benchmark of the generated project: its gunicorn against runserver, the peers' setup,
Caddy in front, and the floors, with plots.

Run it from the repository root with `uv run python -m bench` (`--quick` for a fast check);
docs/benchmarks.md explains what it measures and holds the latest report.
"""
