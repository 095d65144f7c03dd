"""Image mosaics from a catalog: result grids (marks, captions, row and column labels) and contact sheets.

Grids take image ids and a catalog, not preloaded arrays: only the images shown are read from disk.
:func:`image_grid` draws on one Axes and returns it; :func:`contact_sheet` returns a whole
``matplotlib.figure.Figure`` (not registered with pyplot). Taught in every notebook.

>>> import tempfile
>>> import matplotlib.pyplot as plt
>>> from PIL import Image
>>> folder = tempfile.TemporaryDirectory()
>>> for name, colour in [("a", "red"), ("b", "blue"), ("c", "pink")]:
...     Image.new("RGB", (40, 30), colour).save(Path(folder.name, name + ".png"))
>>> products = pd.DataFrame({"product_id": ["p0", "p1"], "category": "dress", "color": ["red", "blue"],
...                          "gender": "women", "description": "a dress", "split": "test"})
>>> photos = pd.DataFrame({"image_id": ["a", "b", "c"], "product_id": ["p0", "p1", "p0"],
...                        "path": ["a.png", "b.png", "c.png"], "source": ["shop", "shop", "street"]})
>>> cat = Catalog(products, photos, root=folder.name)
>>> ax = image_grid(cat, [["c"], ["a", "b"]], marks=[[None], [True, False]], titles=[["query"], ["p0", "p1"]],
...                 row_labels=["street", "found"], tile=24)
>>> ax.images[0].get_array().shape, [t.get_text() for t in ax.texts]
((88, 64, 3), ['query', 'p0', 'p1'])
>>> sheet = contact_sheet(cat, n=2)
>>> len([a for a in sheet.axes if a.images]), sheet.get_suptitle()
(3, 'catalog: shop | street images per product')
>>> plt.close("all"); folder.cleanup()
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from fashionsim.data.catalog import Catalog
from fashionsim.plots.saving import save_figure

__all__ = ["contact_sheet", "image_grid"]

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


def contact_sheet(
    cat: Catalog,
    path: str | os.PathLike | None = None,
    *,
    n: int = 12,
    seed: int = 0,
    product_ids: Iterable[object] | None = None,
    per_row: int = 3,
    title: str | None = None,
):
    """A figure of sample products, each with its shop and street images side by side.

    Products are ``product_ids`` or ``n`` picked at random (``seed``) across
    categories. Returns a ``matplotlib.figure.Figure`` (not registered with
    pyplot); saved to ``path`` when given. A demo catalog is titled as
    generated data. Shown in notebook 01 and by ``make demo``
    (``contact_sheet(data.load_demo(), "sheet.png", n=12)``).
    """
    from matplotlib.figure import Figure
    from PIL import Image

    from fashionsim.data.demo import is_demo

    products = cat.products
    if product_ids is None:
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        rng = np.random.default_rng(seed)
        shuffled = products.iloc[rng.permutation(len(products))]
        rank = shuffled.groupby("category", sort=False).cumcount().to_numpy()
        order = np.lexsort((shuffled["category"].to_numpy(), rank))  # round-robin over categories
        chosen = shuffled.iloc[order[:n]]
    else:
        ids = pd.Index(list(product_ids))
        pos = pd.Index(products["product_id"]).get_indexer(ids)
        if (pos < 0).any():
            raise KeyError(f"contact_sheet: unknown product_id(s) {list(ids[pos < 0][:5])}")
        chosen = products.iloc[pos]
    imgs = cat.images
    shop = imgs[imgs["source"] == "shop"].groupby("product_id", sort=False)["image_id"].agg(list)
    street = imgs[imgs["source"] == "street"].groupby("product_id", sort=False)["image_id"].agg(list)
    def most(groups: pd.Series) -> int:  # images per product shown for one source (at most 2)
        lengths = groups.reindex(chosen["product_id"]).dropna().map(len)
        return int(min(2, lengths.max())) if len(lengths) else 0

    n_shop, n_street = most(shop), most(street)
    block = max(1, n_shop + n_street)
    per_row = max(1, min(per_row, len(chosen)))
    n_rows = math.ceil(len(chosen) / per_row)
    fig = Figure(figsize=(1.25 * block * per_row + 0.2 * per_row, 1.45 * n_rows + 0.7), layout="constrained")
    axes = fig.subplots(n_rows, block * per_row, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for j, (_, row) in enumerate(chosen.iterrows()):
        r, c0 = divmod(j, per_row)
        pid = row["product_id"]
        ids = shop.get(pid, [])[:n_shop] + street.get(pid, [])[:n_street]
        kinds = ["shop"] * len(shop.get(pid, [])[:n_shop]) + ["street"] * len(street.get(pid, [])[:n_street])
        for k, (image_id, kind) in enumerate(zip(ids, kinds)):
            ax = axes[r, c0 * block + k]
            with Image.open(cat.image_path(image_id)) as im:
                ax.imshow(np.asarray(im.convert("RGB")))
            ax.set_title(kind, fontsize=7, color="0.35" if kind == "shop" else "tab:red", pad=2)
        label = f"{pid} {row['color']} {row['category']}"
        if "pattern" in row.index and row["pattern"] != "plain":
            label += f" ({row['pattern']})"
        axes[r, c0 * block].text(0.0, -0.08, label, transform=axes[r, c0 * block].transAxes, fontsize=7,
                                 va="top", ha="left")
    if title is None:
        title = ("GENERATED demo catalog (drawn garments, not real photos): shop | street images per product"
                 if is_demo(cat) else f"{cat.source}: shop | street images per product")
    fig.suptitle(title, fontsize=10)
    if path is not None:
        save_figure(fig, path, dpi=110)
    return fig
