"""Evaluate image representations side by side on a catalog split (notebook 05, ``fashionsim evaluate``).

The home of catalog-level evaluation: embed a catalog's images
(:func:`embed_split`), then measure a representation on the street-to-shop
task of a split (:func:`evaluate_representation`), tabulate several
(:func:`summary_table`), find the worst queries and draw the figures of
notebook 05 (``plot_*``). A *representation* is any map from images to
vectors: an untrained embedding model, the pooled features of the multilabel
classifier, the triplet-trained siamese model. Every representation is
L2-normalised before it is compared, so they all live on the unit sphere and
Euclidean distance ranks as cosine does. For each one this module measures
street-to-shop recall@K and mAP@R (:func:`fashionsim.retrieval_tasks.street_to_shop_recall`,
which the training harness uses too), VAL and FAR of street–shop pairs with
the best threshold under a FAR bound, the ROC AUC of those pairs, and the
matching test against one medoid per product. Recommendation splits are
evaluated by :func:`fashionsim.recommend.evaluate_split`.

>>> import pandas as pd
>>> from fashionsim.data import Catalog
>>> products = pd.DataFrame({"product_id": ["p0", "p1"], "category": "dress", "color": ["red", "blue"],
...                          "gender": "women", "description": "", "split": "test"})
>>> images = pd.DataFrame({"image_id": ["s0", "s1", "u0", "u1"], "product_id": ["p0", "p1", "p0", "p1"],
...                        "path": ["s0.png", "s1.png", "u0.png", "u1.png"],
...                        "source": ["shop", "shop", "street", "street"]})
>>> cat = Catalog(products, images, root=".")
>>> vectors = np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.2], [0.1, 0.8]])
>>> report = evaluate_representation(vectors, images["image_id"], cat, "test", ks=(1,))
>>> report["retrieval"]["recall"], float(report["verification"]["pair_auc"])
({1: 1.0}, 1.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fashionsim.data.catalog import Catalog
from fashionsim.metrics import (
    DEFAULT_KS, best_threshold, cross_pair_distances, first_hit_rank, matching_test, pair_roc, val_far,
)
from fashionsim.retrieval_tasks import street_to_shop_recall, take_vectors

__all__ = [
    "embed_split", "evaluate_representation", "l2_normalize", "plot_matching", "plot_projection",
    "plot_recall_curves", "plot_val_far", "plot_worst_queries", "summary_table", "worst_queries",
]


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero).

    >>> l2_normalize([[3.0, 4.0], [0.0, 0.0]]).tolist()
    [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def embed_split(model, cat: Catalog, split: str | None = "test", *, batch_size: int = 64,
                progress: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Embed every image of a split (``None``: the whole catalog) with ``model``; ``(vectors, image ids)``."""
    from fashionsim.embed import embed_images, model_input_size

    part = cat if split is None else cat.split(split)
    ids = part.images["image_id"].to_numpy()
    vectors = embed_images(model, part.image_paths(ids), model_input_size(model), batch_size=batch_size,
                           progress=progress)
    return vectors, ids


def _street_shop(cat: Catalog, split: str | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    table = (cat if split is None else cat.split(split)).images
    return table[table["source"] == "street"], table[table["source"] == "shop"]


def evaluate_representation(
    vectors: np.ndarray,
    ids: Sequence,
    cat: Catalog,
    split: str | None = "test",
    *,
    ks: Sequence[int] = DEFAULT_KS,
    far_bound: float = 0.20,
    match_k: int = 5,
    index: str = "exact",
    gallery: str = "all",
) -> dict[str, Any]:
    """Every figure of merit of one representation on the street-to-shop task of ``split``.

    Retrieval searches the shop images of the whole catalog (``gallery="all"``,
    as the reference notebook did: products of other splits are distractors)
    or of the split only (``"split"``); ``vectors``/``ids`` must cover them.
    VAL/FAR and the matching test use the split's own street and shop images.

    Returns a dict with ``retrieval`` (recall@K, chance, mAP@R; with
    ``index="annoy"`` Annoy's recall against exact search too), ``clean``
    (the same on street photos without occlusion, when the catalog marks them),
    ``verification`` (the best threshold under ``far_bound`` with its VAL and
    FAR, and the pair ROC AUC) and ``matching`` (accuracy@1, accuracy@k and
    no-match rate of the matching test at that threshold).
    """
    vectors = l2_normalize(vectors)
    lookup = (vectors, np.asarray(ids))
    report: dict[str, Any] = {"split": split}
    retrieval = street_to_shop_recall(lookup, cat, split, ks=ks, index=index, gallery=gallery,
                                      return_retrieved=True)
    report["retrieval"] = {k: retrieval[k] for k in ("recall", "chance", "map_at_r", "n_queries", "n_candidates",
                                                      "annoy_recall", "annoy_recall_k")}
    report["ranking"] = {k: retrieval[k] for k in ("query_ids", "retrieved", "distances", "relevant")}
    if "clean" in cat.images.columns:
        clean = street_to_shop_recall(lookup, cat, split, ks=ks, index="exact", clean_only=True, gallery=gallery)
        report["clean"] = {k: clean[k] for k in ("recall", "map_at_r", "n_queries")}
    street, shop = _street_shop(cat, split)
    id_index = pd.Index(ids)
    q = take_vectors(vectors, id_index, street["image_id"].to_numpy(), "street (query)")
    g = take_vectors(vectors, id_index, shop["image_id"].to_numpy(), "shop (gallery)")
    distances, same = cross_pair_distances(q, street["product_id"].to_numpy(), g, shop["product_id"].to_numpy())
    best = best_threshold(distances, same, far_bound=far_bound)
    report["pairs"] = {"distances": distances, "same": same}
    report["verification"] = {**best, "pair_auc": pair_roc(distances, same)["auc"],
                              "n_same_pairs": int(same.sum()), "n_different_pairs": int((~same).sum())}
    matching = matching_test(q, street["product_id"].to_numpy(), g, shop["product_id"].to_numpy(),
                             best["threshold"], k=match_k)
    report["matching_result"] = matching
    shop_ids = shop["image_id"].to_numpy()
    report["medoid_images"] = {product: shop_ids[row] for product, row in matching.representatives.items()}
    report["matching"] = matching.summary()
    return report


def summary_table(reports: Mapping[str, Mapping[str, Any]], ks: Sequence[int] = (1, 10, 100)) -> pd.DataFrame:
    """One row per representation, one column per figure of merit."""
    rows = {}
    for name, r in reports.items():
        row = {f"recall@{k}": r["retrieval"]["recall"][k] for k in ks if k in r["retrieval"]["recall"]}
        if "clean" in r:
            row["clean recall@10"] = r["clean"]["recall"].get(10)
        row["mAP@R"] = r["retrieval"]["map_at_r"]
        v = r["verification"]
        row.update({"threshold": v["threshold"], "VAL": v["val"], f"FAR (≤{v['far_bound']:.2f})": v["far"],
                    "pair AUC": v["pair_auc"]})
        row.update({f"match {k}": value for k, value in r["matching"].items()})
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def worst_queries(report: Mapping[str, Any], n: int = 4) -> pd.DataFrame:
    """The ``n`` street queries whose first correct shop image ranks lowest: query id, rank, top results."""
    ranking = report["ranking"]
    retrieved = np.asarray(ranking["retrieved"])
    rank = first_hit_rank(retrieved, ranking["relevant"])
    first = np.where(rank >= 0, rank + 1, retrieved.shape[1] + 1)   # 1-based; past the list when never found
    order = np.argsort(-first, kind="stable")[:n]
    return pd.DataFrame({"query": np.asarray(ranking["query_ids"])[order], "first_correct_rank": first[order],
                         "top": [list(retrieved[i, :5]) for i in order]})


# ------------------------------------------------------------------- figures
def plot_recall_curves(reports: Mapping[str, Mapping[str, Any]], *, ax=None, chance: bool = True):
    """recall@K against K (log scale) for every representation, with the chance level."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    for name, r in reports.items():
        recall = r["retrieval"]["recall"]
        ax.plot(list(recall), list(recall.values()), marker="o", label=name)
    if chance and reports:
        first = next(iter(reports.values()))["retrieval"]["chance"]
        ax.plot(list(first), list(first.values()), ls="--", color="grey", label="chance")
    ax.set_xscale("log")
    ax.set_xlabel("K")
    ax.set_ylabel("recall@K")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_val_far(report: Mapping[str, Any], *, ax=None, n_thresholds: int = 200):
    """VAL and FAR of street–shop pairs against the distance threshold, the chosen threshold marked."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    d, same = report["pairs"]["distances"], report["pairs"]["same"]
    grid = np.linspace(0, float(d.max()), n_thresholds)
    val, far = val_far(d, same, grid)
    best = report["verification"]
    ax.plot(grid, val, label="VAL (same product accepted)")
    ax.plot(grid, far, label="FAR (other product accepted)")
    ax.axhline(best["far_bound"], color="grey", lw=0.8, ls=":")
    ax.axvline(best["threshold"], color="black", ls="--",
               label=f"threshold {best['threshold']:.2f}: VAL {best['val']:.2f}, FAR {best['far']:.2f}")
    ax.set_xlabel("distance threshold")
    ax.set_ylabel("fraction of pairs")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_projection(vectors: np.ndarray, labels: Sequence, *, sources: Sequence | None = None,
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


def plot_worst_queries(report: Mapping[str, Any], cat: Catalog, n: int = 4, *, k: int = 5, ax=None,
                       title: str | None = "worst street queries: the correct product and what was found instead"):
    """The ``n`` street queries whose correct product ranks lowest: each query, a shop photo of its own
    product, then its top-``k`` shop photos (red: another product). A row is labelled with the rank of
    the first correct photo, or "not in top N" when the ranking (N deep) never reached it."""
    from fashionsim.plots import image_grid

    worst = worst_queries(report, n=n)
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


def plot_matching(report: Mapping[str, Any], cat: Catalog, queries: Sequence[int], *, ax=None,
                  title: str | None = None):
    """The matching test for a few street queries (row numbers of the split's street photos, in the order
    ``evaluate_representation`` used): each query, then the representatives (medoid shop photos) of the
    products within the threshold, closest first, captioned with their distance. Green: the query's own
    product, red: another one; an empty slot: fewer products were close enough."""
    from fashionsim.plots import image_grid

    match = report["matching_result"]
    street, _ = _street_shop(cat, report["split"])
    street_ids = street["image_id"].to_numpy()
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
