"""The measuring tools every benchmark shares: repeated timing, peak memory, one row type."""

from __future__ import annotations

import dataclasses
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass
class BenchRow:
    """One line of the benchmark table.

    ``ours_s`` and ``reference_s`` are median seconds for the same work (or, when
    the reference could only run a smaller size, its time scaled to ours: say so
    in ``note``); ``peak_mib`` is the peak traced memory of our side.
    """

    name: str
    size: str
    ours_s: float
    reference_s: float | None = None
    peak_mib: float | None = None
    note: str = ""
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """How many times faster ours is than the reference (reference time / our time)."""
        if self.reference_s is None or self.ours_s <= 0:
            return None
        return self.reference_s / self.ours_s

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["ratio"] = self.ratio
        return out


def median_time(fn: Callable[[], Any], *, repeat: int = 3, warmup: int = 0) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs, after ``warmup`` untimed runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(max(1, repeat)):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_memory_mib(fn: Callable[[], Any]) -> float:
    """Peak memory traced by ``tracemalloc`` (Python and NumPy allocations) while ``fn()`` runs, in MiB."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20
