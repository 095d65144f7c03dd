"""Saving a figure to a file atomically (a half-written picture is never left behind).

>>> import tempfile
>>> from matplotlib.figure import Figure
>>> fig = Figure()
>>> _ = fig.subplots().plot([0, 1], [1, 0])
>>> with tempfile.TemporaryDirectory() as folder:
...     path = save_figure(fig, Path(folder, "line.png"), dpi=50)
...     print(path.name, path.stat().st_size > 0)
line.png True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fashionsim._io import atomic_path

__all__ = ["save_figure"]


def save_figure(figure: Any, path: str | os.PathLike, *, dpi: int = 110, **savefig: Any) -> Path:
    """Write ``figure`` (a ``matplotlib.figure.Figure``) to ``path``, format from its suffix (PNG without one).

    The file appears complete or not at all. ``savefig`` options (``bbox_inches="tight"``, ...) are
    passed on. Returns the absolute path.
    """
    out = Path(path)
    with atomic_path(out) as tmp:
        figure.savefig(tmp, dpi=dpi, format=out.suffix.lstrip(".").lower() or "png", **savefig)
    return out.resolve()
