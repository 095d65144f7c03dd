"""Benchmarks: fashionsim's vectorised code against the reference approaches, measured in one run.

Each area has a module with ``run(quick: bool) -> list[BenchRow]``;
``fashionsim bench`` (and ``make bench``) runs them all and prints one table.
"""

from fashionsim.bench._core import BenchRow, median_time, peak_memory_mib

__all__ = ["BenchRow", "median_time", "peak_memory_mib"]
