"""Pictures the notebooks share: image grids drawn from a catalog, and training curves.

Every function takes ``ax=None`` (a new figure is made when missing), returns
the Axes and never calls ``plt.show()``. Image grids take image ids and a
catalog, not preloaded arrays: only the images shown are read from disk.

>>> ax = image_grid(cat, cat.images.image_id[:6], ncols=3)     # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from fashionsim.data.catalog import Catalog

_MARK_COLORS = {True: (0.10, 0.65, 0.20), False: (0.85, 0.15, 0.15)}


def _thumbnail(path: str, tile: int) -> np.ndarray:
    from PIL import Image, ImageOps

    with Image.open(path) as img:
        img = ImageOps.exif_transpose(img).convert("RGB")
        img.thumbnail((tile, tile))
        canvas = Image.new("RGB", (tile, tile), (255, 255, 255))
        canvas.paste(img, ((tile - img.width) // 2, (tile - img.height) // 2))
    return np.asarray(canvas, dtype=np.float32) / 255.0


def _as_rows(image_ids, ncols: int | None) -> list[list]:
    ids = list(image_ids)
    if ids and isinstance(ids[0], (list, tuple, np.ndarray)) and not isinstance(ids[0], str):
        return [list(row) for row in ids]
    ncols = ncols or min(len(ids), 8) or 1
    return [ids[i:i + ncols] for i in range(0, len(ids), ncols)]


def image_grid(
    cat: Catalog,
    image_ids: Sequence | Sequence[Sequence],
    *,
    titles: Sequence | Sequence[Sequence] | None = None,
    marks: Sequence | Sequence[Sequence] | None = None,
    row_labels: Sequence[str] | None = None,
    ncols: int | None = None,
    tile: int = 96,
    border: int = 4,
    title_lines: int = 1,
    wrap: int | None = None,
    col_labels: Sequence[str] | None = None,
    ax=None,
    title: str | None = None,
):
    """Draw images of ``cat`` as one mosaic on one Axes.

    ``image_ids`` is a flat list (wrapped into rows of ``ncols``) or a list of
    rows (ragged rows and ``None`` gaps are fine). ``titles`` and ``marks`` have
    the same shape; a mark ``True`` draws a green frame (a correct result),
    ``False`` a red one, ``None`` none. ``row_labels`` label each row on the left.
    An entry that is a :class:`pathlib.Path` is drawn from that file instead
    of the catalog (a query photo that is not in it). ``title_lines`` makes
    room for titles of that many lines (``"p0003\\ndress, red"``); the strip
    grows by itself to the longest title, after ``wrap`` (a line length in
    characters, e.g. 22 for 96-pixel tiles) breaks long lines at spaces.
    ``col_labels`` head each column above the first row.
    """
    import textwrap

    import matplotlib.pyplot as plt

    rows = _as_rows(image_ids, ncols)
    title_rows = _as_rows(titles, ncols) if titles is not None else None
    if title_rows is not None:
        if wrap:
            title_rows = [[None if t is None else "\n".join(textwrap.fill(line, wrap) for line in str(t).split("\n"))
                           for t in row] for row in title_rows]
        title_lines = max([title_lines] + [str(t).count("\n") + 1 for row in title_rows for t in row
                                           if t is not None and t != ""])
    mark_rows = _as_rows(marks, ncols) if marks is not None else None
    n_rows, n_cols = len(rows), max((len(r) for r in rows), default=1)
    cell = tile + 2 * border
    band = max(12, tile // 6) * max(1, title_lines) if title_rows is not None else 0   # strip for the titles
    cell_h = cell + band
    canvas = np.ones((n_rows * cell_h, n_cols * cell, 3), dtype=np.float32)
    wanted = [i for row in rows for i in row if i is not None and not isinstance(i, Path)]
    paths: dict = dict(zip(wanted, cat.image_paths(wanted)))
    paths.update({i: os.fspath(i) for row in rows for i in row if isinstance(i, Path)})
    for r, row in enumerate(rows):
        for c, image_id in enumerate(row):
            if image_id is None:
                continue
            y, x = r * cell_h, c * cell
            mark = mark_rows[r][c] if mark_rows is not None and c < len(mark_rows[r]) else None
            if mark is not None:
                canvas[y:y + cell, x:x + cell] = _MARK_COLORS[bool(mark)]
            canvas[y + border:y + border + tile, x + border:x + border + tile] = _thumbnail(paths[image_id], tile)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.25 * n_cols + (1.2 if row_labels else 0), 1.25 * n_rows * cell_h / cell))
    ax.imshow(canvas, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    if title_rows is not None:
        for r, row in enumerate(title_rows):
            for c, text in enumerate(row):
                if text is not None and text != "":
                    ax.text(c * cell + cell / 2, r * cell_h + cell + band / 2, str(text), ha="center",
                            va="center", fontsize=7, clip_on=True)
    if row_labels is not None:
        ax.set_yticks([r * cell_h + cell / 2 for r in range(n_rows)], [str(t) for t in row_labels], fontsize=8)
    if col_labels is not None:
        for c, text in enumerate(col_labels):
            if text:
                ax.text(c * cell + cell / 2, -border, str(text), ha="center", va="bottom", fontsize=8)
    if title:
        ax.set_title(title, pad=14 if col_labels is not None else 6)
    return ax


def history_curves(history: Mapping[str, Sequence[float]], keys: Sequence[str] | None = None, *,
                   xlabel: str = "epoch", ylabel: str | None = None,
                   references: Mapping[str, float] | None = None, ax=None, title: str | None = None):
    """Plot training curves (``{"loss": [...], "val_auc": [...]}``) against the epoch number.

    ``references`` adds a dashed horizontal line per entry (``{"popularity": 0.65}``): a baseline
    that does not train, so it has one value for every epoch.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    for key in keys or list(history):
        values = np.asarray(history[key], dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=3, label=key)
    for n, (name, value) in enumerate((references or {}).items()):
        ax.axhline(float(value), color=("0.3", "0.6")[n % 2], ls="--", lw=1.2, label=f"{name} ({float(value):.3f})")
    ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax
