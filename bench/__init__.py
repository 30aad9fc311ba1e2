"""Benchmarks: one module per benchmark, each with a `main()` that prints its figures next
to a floor measured in the same run and writes them to bench/out/<name>.json.

Run one with `python -m bench.<name>`, or all of them with `python -m bench`.
They are not tests: they measure, and say whether the goals in the issues were met.
"""
