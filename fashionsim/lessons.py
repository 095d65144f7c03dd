"""The notebooks' asserted lessons, checked and recorded so they can be measured over seeds.

A notebook states what it teaches as a check::

    lessons = Lessons("03_siamese_semihard")
    lessons.check("trained recall@10 >= untrained + 0.2", trained_r10, ">=", untrained_r10 + 0.2)

In a notebook run this is an ``assert`` whose message says what was
measured. ``tools/lessons.py`` re-runs every notebook for seeds 0–4 with
``FASHIONSIM_SEED`` set and ``FASHIONSIM_LESSONS_OUT`` naming a JSON-lines
file: then each check (and each :meth:`Lessons.measure`, a figure shown for
its spread, never asserted) appends one record there instead of stopping the
run, and the tool tables min / median / max, the threshold and the margin
over the seeds (``docs/lessons.md``).

>>> lessons = Lessons("doc", out=None)
>>> lessons.check("two beats one", 2.0, ">", 1.0)
>>> lessons.records[0]["margin"]
1.0
"""

from __future__ import annotations

import json
import math
import operator
import os
from pathlib import Path
from typing import Any

__all__ = ["Lessons", "notebook_seed", "SEED_ENV", "OUT_ENV"]

SEED_ENV = "FASHIONSIM_SEED"
OUT_ENV = "FASHIONSIM_LESSONS_OUT"
_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


def notebook_seed(default: int = 0) -> int:
    """The seed a notebook runs with: ``$FASHIONSIM_SEED`` (set by ``tools/lessons.py``), else ``default``."""
    raw = os.environ.get(SEED_ENV)
    if raw is None or raw == "":
        return int(default)
    try:
        seed = int(raw)
    except ValueError:
        raise ValueError(f"{SEED_ENV} must be a non-negative int, got {raw!r}") from None
    if seed < 0:
        raise ValueError(f"{SEED_ENV} must be a non-negative int, got {raw!r}")
    return seed


class Lessons:
    """Checks (asserted) and measures (shown) of one notebook; see the module docstring.

    ``out``: the JSON-lines file records are appended to; default ``$FASHIONSIM_LESSONS_OUT``.
    With a file, a failed check is recorded and the run goes on (so one seed's
    failure does not hide the other lessons); without one it raises.
    """

    def __init__(self, notebook: str, *, out: str | os.PathLike | None = "env", seed: int | None = None) -> None:
        self.notebook = str(notebook)
        if out == "env":
            out = os.environ.get(OUT_ENV) or None
        self.out = Path(out) if out is not None else None
        self.seed = notebook_seed() if seed is None else int(seed)
        self.records: list[dict[str, Any]] = []

    def _write(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        if self.out is not None:
            with open(self.out, "a", encoding="utf-8") as fh:  # one short line per record: appends stay whole
                fh.write(json.dumps(record, allow_nan=False) + "\n")

    def check(self, name: str, value: float, op: str, threshold: float) -> None:
        """Assert ``value op threshold`` (op: ``>``, ``>=``, ``<``, ``<=``) and record it with its margin.

        The margin is how far ``value`` clears ``threshold``, in the direction of ``op``
        (negative: the lesson failed).
        """
        if op not in _OPS:
            raise ValueError(f"op must be one of {sorted(_OPS)}, got {op!r}")
        value, threshold = float(value), float(threshold)
        if not (math.isfinite(value) and math.isfinite(threshold)):
            raise ValueError(f"{self.notebook}: lesson {name!r} measured {value} against {threshold}: not finite")
        holds = bool(_OPS[op](value, threshold))
        margin = value - threshold if op in (">", ">=") else threshold - value
        self._write({"notebook": self.notebook, "seed": self.seed, "kind": "check", "name": name, "value": value,
                     "op": op, "threshold": threshold, "margin": margin, "holds": holds})
        if not holds and self.out is None:
            raise AssertionError(f"{self.notebook}: lesson {name!r} does not hold: measured {value:.4g}, "
                                 f"needs {op} {threshold:.4g} (seed {self.seed})")

    def measure(self, name: str, value: float) -> float:
        """Record a figure whose spread over seeds the notebook discusses (a tie, say); nothing is asserted."""
        value = float(value)
        self._write({"notebook": self.notebook, "seed": self.seed, "kind": "measure", "name": name,
                     "value": value})
        return value
