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
    DEFAULT_KS, best_threshold, cross_pair_distances, first_hit_rank, matching_test, pair_roc,
)
from fashionsim.retrieval_tasks import street_to_shop_recall, take_vectors

__all__ = [
    "embed_split", "evaluate_representation", "l2_normalize", "summary_table", "worst_queries",
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
