"""What a representation retrieves, as pictures: a PCA map of the vectors, the worst street queries, the
matching test. The last two read a report of ``evaluation.evaluate_representation``. Taught in notebook 05.

Each function takes ``ax=None``, returns the Axes and never calls ``plt.show()``.

>>> import matplotlib.pyplot as plt
>>> rng = np.random.default_rng(0)
>>> vectors = np.repeat(np.eye(3), 4, axis=0) + 0.1 * rng.normal(size=(12, 3))
>>> ax = projection(vectors, np.repeat(["dress", "shirt", "shoe"], 4), sources=["shop", "street"] * 6)
>>> ax.get_xlabel().startswith("principal component 1"), len(ax.collections)
(True, 6)
>>> plt.close("all")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fashionsim.data.catalog import Catalog
from fashionsim.plots.grids import image_grid

__all__ = ["matching", "projection", "worst_queries"]


def projection(vectors: np.ndarray, labels: Sequence, *, sources: Sequence | None = None,
               groups: Sequence | None = None, ax=None, title: str | None = None):
    """A 2-D PCA projection of (L2-normalised) vectors, coloured by label; with ``sources``, shop photos
    are drawn as dots and street photos as crosses. With ``groups`` too (the product of each photo), a
    thin line joins every street photo to the mean position of its product's shop photos: short lines
    mean the two kinds of photo of one product land together. Axes are the two principal components,
    labelled with the share of the variance each explains."""
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from sklearn.decomposition import PCA

    from fashionsim.evaluation import l2_normalize

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    pca = PCA(n_components=2, random_state=0)
    points = pca.fit_transform(l2_normalize(vectors))
    labels = np.asarray(labels)
    sources = np.asarray(sources) if sources is not None else np.full(len(labels), "shop")
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    if groups is not None:
        groups = np.asarray(groups)
        shop = sources == "shop"
        names, codes = np.unique(groups, return_inverse=True)
        counts = np.bincount(codes[shop], minlength=len(names))
        centre = np.stack([np.bincount(codes[shop], weights=points[shop, d], minlength=len(names)) for d in (0, 1)], 1)
        centre = centre / np.maximum(counts, 1)[:, None]
        street = np.flatnonzero(~shop & (counts[codes] > 0))
        segments = np.stack([points[street], centre[codes[street]]], axis=1)
        ax.add_collection(LineCollection(segments, colors="0.45", linewidths=0.6, alpha=0.6, zorder=1))
    for n, name in enumerate(sorted(set(labels.tolist()))):
        for source, marker in (("shop", "o"), ("street", "x")):
            mask = (labels == name) & (sources == source)
            if mask.any():
                ax.scatter(points[mask, 0], points[mask, 1], s=12, marker=marker, color=colors[n % len(colors)],
                           alpha=0.8, zorder=2,
                           label=name if source == "shop" or not (sources == "shop").any() else None)
    share = pca.explained_variance_ratio_
    ax.set_xlabel(f"principal component 1 ({share[0]:.0%} of the variance)")
    ax.set_ylabel(f"principal component 2 ({share[1]:.0%})")
    ax.set_xticks([])
    ax.set_yticks([])
    categories = ax.legend(fontsize=7, markerscale=1.5, ncols=2, loc="upper left", title="category",
                           title_fontsize=7)
    if (sources == "street").any():
        kinds = [Line2D([], [], marker="o", ls="", color="0.3", label="shop photo"),
                 Line2D([], [], marker="x", ls="", color="0.3", label="street photo")]
        if groups is not None:
            kinds.append(Line2D([], [], color="0.45", lw=0.8, label="street photo → its product's shop photos"))
        ax.add_artist(categories)
        ax.legend(handles=kinds, fontsize=7, loc="lower right")
    if title:
        ax.set_title(title)
    return ax


def worst_queries(report: Mapping[str, Any], cat: Catalog, n: int = 4, *, k: int = 5, ax=None,
                  title: str | None = "worst street queries: the correct product and what was found instead"):
    """The ``n`` street queries whose correct product ranks lowest: each query, a shop photo of its own
    product, then its top-``k`` shop photos (red: another product). A row is labelled with the rank of
    the first correct photo, or "not in top N" when the ranking (N deep) never reached it."""
    from fashionsim.evaluation import worst_queries as worst_table

    worst = worst_table(report, n=n)
    ranking = report["ranking"]
    depth = np.asarray(ranking["retrieved"]).shape[1]
    where = pd.Index(np.asarray(ranking["query_ids"]))
    correct = [sorted(ranking["relevant"][where.get_loc(q)])[0] for q in worst["query"]]
    rows = [[q, c, *top[:k]] for q, c, top in zip(worst["query"], correct, worst["top"])]
    relevant = [ranking["relevant"][where.get_loc(q)] for q in worst["query"]]
    marks = [[None, None, *[t in rel for t in top[:k]]] for top, rel in zip(worst["top"], relevant)]
    labels = [f"rank {r}" if r <= depth else f"not in top {depth}" for r in worst["first_correct_rank"]]
    return image_grid(cat, rows, marks=marks, row_labels=labels, ax=ax, title=title,
                      col_labels=["street query", "its product", *[f"found {i + 1}" for i in range(k)]])


def matching(report: Mapping[str, Any], cat: Catalog, queries: Sequence[int], *, ax=None,
             title: str | None = None):
    """The matching test for a few street queries (row numbers of the split's street photos, in the order
    ``evaluate_representation`` used): each query, then the representatives (medoid shop photos) of the
    products within the threshold, closest first, captioned with their distance. Green: the query's own
    product, red: another one; an empty slot: fewer products were close enough."""
    match = report["matching_result"]
    street_ids = _street_ids(cat, report["split"])
    k = match.products.shape[1]
    rows, marks, titles = [], [], []
    for q in queries:
        answers = [p for p in match.products[q] if p is not None]
        rows.append([street_ids[q]] + [report["medoid_images"][p] for p in answers])
        marks.append([None] + list(match.correct[q][: len(answers)]))
        titles.append(["query"] + [f"d = {d:.2f}" for d in match.distances[q][: len(answers)]])
    if title is None:
        title = (f"matching test at threshold {match.threshold:.2f}: each street query and the products\n"
                 f"whose representative is within it (d: distance to the query)")
    return image_grid(cat, rows, marks=marks, titles=titles, ax=ax, title=title,
                      col_labels=["street query", *[f"match {i + 1}" for i in range(k)]])


def _street_ids(cat: Catalog, split: str | None) -> np.ndarray:
    """The street photos of ``split`` (None: all) in catalog order, as ``evaluate_representation`` numbers them."""
    table = (cat if split is None else cat.split(split)).images
    return table.loc[table["source"] == "street", "image_id"].to_numpy()
