"""Plots: every figure of fashionsim lives here (the notebooks, the CLI and the library draw through it).

Functions that draw on one Axes take ``ax=None`` (a new figure is made when missing), return the Axes
and never call ``plt.show()``. Image grids take image ids and a catalog, not preloaded arrays: only
the images shown are read from disk. Plots never import TensorFlow. One module per kind of picture:

* :mod:`~fashionsim.plots.grids`: :func:`image_grid` (results with marks and captions), :func:`contact_sheet`;
* :mod:`~fashionsim.plots.charts`: :func:`history_curves`, :func:`recall_curves`, :func:`val_far`,
  :func:`tag_frequencies`;
* :mod:`~fashionsim.plots.retrieval`: :func:`projection` (PCA map), :func:`worst_queries`, :func:`matching`;
* :mod:`~fashionsim.plots.saving`: :func:`save_figure` (atomic write).

>>> import matplotlib.pyplot as plt
>>> from fashionsim import plots
>>> ax = plots.history_curves({"loss": [3, 2, 1]})
>>> ax.get_xlabel(), len(ax.lines)
('epoch', 1)
>>> plt.close(ax.figure)
"""

from __future__ import annotations

from fashionsim.plots.charts import (
    history_curves,
    recall_curves,
    tag_frequencies,
    val_far,
)
from fashionsim.plots.grids import contact_sheet, image_grid
from fashionsim.plots.retrieval import matching, projection, worst_queries
from fashionsim.plots.saving import save_figure

__all__ = [
    "contact_sheet",
    "history_curves",
    "image_grid",
    "matching",
    "projection",
    "recall_curves",
    "save_figure",
    "tag_frequencies",
    "val_far",
    "worst_queries",
]
