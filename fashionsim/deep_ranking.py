"""Method 2, deep ranking: triplets from catalog metadata, negatives re-mined semi-hard each epoch.

For a catalog with one studio photo per product and no street photos,
metadata is the only supervision there is. Each epoch of
``train_siamese(..., triplets="metadata")``:

1. draws triplets with :class:`fashionsim.triplets.TripletSampler`: the four
   kinds of the deep-ranking article in its proportions (positive: another
   photo of the product, else the same category and colour; negative: same
   category in another colour, or another category), afresh from
   ``(seed, epoch)``;
2. embeds them with the current model and, for every triplet, replaces the
   drawn negative by the semi-hard one among all the epoch's drawn negatives
   that its own rule allows (:func:`fashionsim.mining.semihard_among`): an
   in-class triplet keeps an in-class negative, an out-of-class one an
   out-of-class negative;
3. trains on them with the margin triplet loss, as the mined route does.

It is judged by :func:`evaluate_metadata`: the share of a photo's nearest
neighbours of the same category, and of the same category and colour
(:func:`fashionsim.metrics.label_precision_at_k`). Taught in notebook 02; run it with
``train_siamese(cat, triplets="metadata", backbone="small_cnn", image_size=48)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from fashionsim import mining
from fashionsim._compat import renamed

__all__ = ["metadata_sampler", "mine_metadata_triplets", "evaluate_metadata", "METADATA_KEYS"]

#: History keys of the metadata route's evaluation: ``{prefix}{k}`` for every k.
METADATA_KEYS = ("val_category_precision@", "val_color_precision@")


def metadata_sampler(cat, *, p_same_product: float = 0.9, p_in_class: float = 0.3):
    """A fitted :class:`~fashionsim.triplets.TripletSampler` on ``cat``, or ``ValueError`` naming what is missing."""
    from fashionsim.triplets import TripletFallbackWarning, TripletSampler

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TripletFallbackWarning)  # excluded queries are counted in the history
        try:
            return TripletSampler(p_same_product=p_same_product, p_in_class=p_in_class).fit(cat)
        except ValueError as exc:
            raise ValueError(f"{getattr(cat, 'source', 'catalog')}: cannot draw metadata triplets: {exc}") from None


def _rule_mask(category: np.ndarray, color: np.ndarray, in_class: np.ndarray, cand_category: np.ndarray,
               cand_color: np.ndarray):
    """allowed(start, stop): the candidates each triplet's negative rule admits (codes −1 = missing)."""
    def allowed(start: int, stop: int) -> np.ndarray:
        qc, ql, ic = category[start:stop, None], color[start:stop, None], in_class[start:stop, None]
        known = (qc >= 0) & (cand_category[None, :] >= 0)
        same_category = known & (qc == cand_category[None, :])
        other_color = (ql >= 0) & (cand_color[None, :] >= 0) & (ql != cand_color[None, :])
        return np.where(ic, same_category & other_color, known & ~same_category)
    return allowed


@renamed(input_size="image_size")
def mine_metadata_triplets(model, cat, sampler, n: int, *, image_size: int, seed: Any, batch_size: int = 64):
    """One epoch's metadata triplets of ``cat`` with their negatives re-mined semi-hard under ``model``.

    Returns a :class:`fashionsim.training.MinedTriplets` whose table has
    ``anchor`` (the query), ``positive``, ``negative``, ``kind``,
    ``product_id``, ``negative_product_id``, ``d_ap``, ``d_an`` and
    ``margin``; ``table.attrs["fallbacks"]`` counts the sampler's fallback draws.
    """
    from fashionsim.embed import embed_images
    from fashionsim.siamese.mine import MinedTriplets, embedding_spread

    with warnings.catch_warnings():
        from fashionsim.triplets import TripletFallbackWarning

        warnings.simplefilter("ignore", TripletFallbackWarning)   # counted in attrs, reported per epoch
        drawn = sampler.sample(int(n), seed)
    wanted = pd.unique(np.concatenate([drawn[c].to_numpy() for c in ("query", "positive", "negative")]))
    vectors = embed_images(model, cat.image_paths(wanted), image_size, batch_size=batch_size, progress=False)
    at = pd.Index(wanted)
    anchors, positives, pool = (vectors[at.get_indexer(drawn[c])] for c in ("query", "positive", "negative"))
    info = cat.image_table().set_index("image_id")
    category = pd.factorize(info["category"])[0]
    color = pd.factorize(info["color"])[0]
    where = info.index
    q, neg = where.get_indexer(drawn["query"]), where.get_indexer(drawn["negative"])
    in_class = drawn["kind"].astype(str).str.endswith("/in_class").to_numpy()
    allowed = _rule_mask(category[q], color[q], in_class, category[neg], color[neg])
    chosen, margins = mining.semihard_among(anchors, positives, pool, allowed, return_margins=True)
    # The drawn negative of row i obeys row i's rule, so every row has a candidate (chosen >= 0).
    d_ap = ((anchors.astype(np.float64) - positives) ** 2).sum(axis=1)
    negatives = drawn["negative"].to_numpy()[chosen]
    products = info["product_id"]
    table = pd.DataFrame({
        "anchor": drawn["query"].to_numpy(), "positive": drawn["positive"].to_numpy(), "negative": negatives,
        "kind": drawn["kind"].to_numpy(), "product_id": products.to_numpy()[q],
        "negative_product_id": products.to_numpy()[where.get_indexer(negatives)],
        "d_ap": d_ap, "d_an": d_ap + margins, "margin": margins,
    })
    table.attrs["fallbacks"] = dict(drawn.attrs.get("fallbacks", {}))
    return MinedTriplets(triplets=table, spread=embedding_spread(vectors), n_images=len(wanted))


@renamed(input_size="image_size")
def evaluate_metadata(model, cat, split: str | None = "val", *, image_size: int, ks: Iterable[int] = (1, 5, 10),
                      batch_size: int = 64, vectors: np.ndarray | None = None) -> dict[str, dict[int, float]]:
    """Same-category and same-category-and-colour precision@K of ``model`` on a split's photos.

    Every photo of the split queries all the split's other photos (exact
    cosine search). Returns ``{"category": {k: p}, "category_color": {k: p}}``
    plus ``n_queries``; p is None for a k not below the split's number of
    photos. Photos missing the field are not queries.
    """
    from fashionsim.embed import embed_images
    from fashionsim.metrics.neighbours import label_precision_at_k

    part = cat if split is None else cat.split(split)
    table = part.image_table()
    if vectors is None:
        vectors = embed_images(model, part.image_paths(table["image_id"]), image_size, batch_size=batch_size,
                               progress=False)
    ks = tuple(int(k) for k in ks)
    valid = [k for k in ks if 1 <= k < len(table)]   # a larger k than the split has photos is not measured
    both = table["category"].astype(object).where(table["color"].notna() & table["category"].notna())
    both = both.where(both.isna(), table["category"].astype(str) + "/" + table["color"].astype(str))
    out: dict = {"n_queries": int(table["category"].notna().sum())}
    for name, labels in (("category", table["category"].tolist()), ("category_color", both.tolist())):
        measured = label_precision_at_k(vectors, labels, valid) if valid else {}
        out[name] = {k: measured.get(k) for k in ks}
    return out
