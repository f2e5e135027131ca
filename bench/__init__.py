"""Benchmarks (`make bench`): they report figures and ratios against targets, they assert nothing.

A package so that gunicorn can import `bench.floor`, the settings and URLconf of bench/intake.py's floor."""
