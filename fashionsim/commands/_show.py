"""What ``search`` and ``recommend`` say about each product, and their ``--show`` picture.

``--show FILE.png`` saves one image grid (:func:`fashionsim.plots.image_grid`,
Agg backend, written atomically): one row per query, the query picture
first, then its results, each tile captioned with product id, category,
colour and distance (or score).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd


def product_info(cat) -> pd.DataFrame:
    """Per product id: ``category``, ``color`` and ``image_id`` (its first shop photo, else its first photo)."""
    images = cat.images.assign(_street=(cat.images["source"] != "shop").astype(int))
    first = images.sort_values(["_street"], kind="stable").drop_duplicates("product_id").set_index("product_id")
    info = cat.products.set_index("product_id")[["category", "color"]].copy()
    info["image_id"] = first["image_id"].reindex(info.index)
    return info


def _text(value) -> str:
    return "unknown" if value is None or (isinstance(value, float) and value != value) or value == "" else str(value)


def describe(info: pd.DataFrame | None, product_id) -> dict:
    """``{"category": ..., "color": ...}`` of a product (empty when there is no catalog to ask)."""
    if info is None or product_id is None or product_id not in info.index:
        return {}
    row = info.loc[product_id]
    return {"category": _text(row["category"]), "color": _text(row["color"])}


def label(entry: dict) -> str:
    """``dress, red`` from an entry with category and colour ('' when unknown)."""
    return f"{entry['category']}, {entry['color']}" if "category" in entry else ""


def save_grid(path: str | os.PathLike, cat, rows: Sequence[Sequence], titles: Sequence[Sequence],
              row_labels: Sequence[str], title: str) -> Path:
    """Draw ``rows`` of image ids (or query :class:`~pathlib.Path` s) with their ``titles`` into ``path`` (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fashionsim import plots
    from fashionsim._io import atomic_path

    out = Path(path)
    if out.suffix.lower() != ".png":
        raise ValueError(f"--show writes a PNG picture: give a file name ending in .png, got {out}")
    lines = max((str(t).count("\n") + 1 for row in titles for t in row if t), default=1)
    ax = plots.image_grid(cat, rows, titles=titles, row_labels=row_labels, tile=112, title_lines=lines,
                          title=title)
    with atomic_path(out) as tmp:
        ax.figure.savefig(tmp, dpi=120, format="png", bbox_inches="tight")
    plt.close(ax.figure)
    return out.resolve()
