"""Run every benchmark area and format one table (``fashionsim bench``, ``make bench``)."""

from __future__ import annotations

import importlib
import os
import platform
import time
from typing import Any

AREAS = ("triplets", "mining", "bpr", "tags", "images", "retrieval", "embedding", "scale")


def machine() -> dict[str, Any]:
    """Cores, CPU model and library versions of this machine."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import numpy

    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "numpy": numpy.__version__,
            "platform": platform.platform()}


def run_all(*, quick: bool = False, only: list[str] | None = None, progress: bool = True) -> dict[str, Any]:
    """Run the areas (all, or ``only``) and return ``{"machine", "quick", "rows", "seconds"}``."""
    areas = only or list(AREAS)
    unknown = sorted(set(areas) - set(AREAS))
    if unknown:
        raise ValueError(f"unknown benchmark area(s) {unknown}; choose from {list(AREAS)}")
    rows, start = [], time.perf_counter()
    for area in areas:
        module = importlib.import_module(f"fashionsim.bench.{area}")
        if progress:
            print(f"[bench] {area} ...", flush=True)
        for row in module.run(quick=quick):
            rows.append({"area": area, **row.as_dict()})
    return {"machine": machine(), "quick": quick, "rows": rows, "seconds": time.perf_counter() - start}


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "x":
        return f"{value:,.0f}×" if value >= 10 else f"{value:.1f}×"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def format_table(report: dict[str, Any]) -> str:
    """A Markdown table of the report, headed by the machine it ran on."""
    m = report["machine"]
    lines = [
        f"Machine: {m['cores']} cores, {m['cpu']}, Python {m['python']}"
        f"{' (quick sizes)' if report['quick'] else ''}; total {report['seconds']:.0f} s",
        "",
        "| what | size | fashionsim | reference | ratio | peak MiB | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["rows"]:
        lines.append(
            f"| {r['name']} | {r['size']} | {_fmt(r['ours_s'], 's')} | {_fmt(r['reference_s'], 's')} | "
            f"{_fmt(r['ratio'], 'x')} | {_fmt(r['peak_mib'])} | {r['note']} |"
        )
    return "\n".join(lines)
