"""Benchmarks: one module per stage, each with ``run() -> dict`` of figures; ``python -m benchmarks.run``."""
