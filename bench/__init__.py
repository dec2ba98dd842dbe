"""Benchmarks: the cost of reactivity against stock ipykernel, side by side.

Not part of the test run; ``python -m bench`` prints the table, and
``tests/test_bench_smoke.py`` runs it in smoke mode so it never rots.
"""
