"""One mining round: (street, shop) pairs embedded by the current model, each given its semi-hard negative.

The only home of the round that :func:`fashionsim.training.train_siamese` runs before every epoch
and notebook 03 shows step by step: pairs from :func:`fashionsim.mining.sample_pairs` (products
in proportion to their street photos), every distinct image embedded once, the negative of a
pair chosen among the other pairs' shop photos by :func:`fashionsim.mining.semihard_negatives`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from fashionsim import mining
from fashionsim._compat import renamed

__all__ = ["MinedTriplets", "embedding_spread", "mine_triplets"]


@dataclasses.dataclass
class MinedTriplets:
    """One mining round.

    ``triplets``: a DataFrame with one row per (street, shop) pair: ``anchor``,
    ``positive``, ``negative`` (image ids), ``product_id``,
    ``negative_product_id``, ``d_ap``, ``d_an`` and ``margin`` = d_an − d_ap
    (squared L2 of the model's embeddings). ``spread``: mean squared distance
    of the embedded images to their centroid (0 = collapsed; 1 for unit
    vectors spread evenly over the sphere). From :func:`mine_triplets` also
    ``pairs`` (the drawn pairs: ``street``, ``shop``, ``product_id``, ``label``),
    ``anchors`` and ``positives`` (their embeddings, (n, d)) and ``negative_rows``
    (per pair, the row of ``positives`` that is its negative).
    """

    triplets: pd.DataFrame
    spread: float
    n_images: int
    pairs: pd.DataFrame | None = None
    anchors: np.ndarray | None = None
    positives: np.ndarray | None = None
    negative_rows: np.ndarray | None = None

    def summary(self, margin: float) -> dict[str, float]:
        """Mean distances, the semi-hard fraction (margin > 0) and the fraction inside the loss margin."""
        t = self.triplets
        return {
            "mined_d_ap": float(t["d_ap"].mean()),
            "mined_d_an": float(t["d_an"].mean()),
            "mined_semihard_fraction": float((t["margin"] > 0).mean()),
            "mined_active_fraction": float((t["margin"] < margin).mean()),
            "spread": self.spread,
        }


def embedding_spread(vectors: np.ndarray) -> float:
    """Mean squared L2 distance of the rows of ``vectors`` (n, d) to their mean: 0 when they all coincide.

    >>> embedding_spread(np.array([[1.0, 0.0], [-1.0, 0.0]]))
    1.0
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or len(vectors) == 0:
        raise ValueError(f"vectors must be a non-empty (n, d) array, got shape {vectors.shape}")
    return float(((vectors - vectors.mean(axis=0)) ** 2).sum(axis=1).mean())


@renamed(input_size="image_size")
def mine_triplets(
    model,
    cat,
    n: int,
    *,
    image_size: int,
    seed: Any = None,
    batch_size: int = 64,
    progress: bool = False,
) -> MinedTriplets:
    """Draw ``n`` (street, shop) pairs of ``cat`` and give each its semi-hard negative under ``model``.

    ``model`` embeds [0, 1] images of ``image_size``; ``seed`` draws the pairs. Every distinct
    image is embedded once; the negative of a pair is a shop photo of another drawn pair.
    Returns a :class:`MinedTriplets`.
    """
    from fashionsim.embed import embed_images

    pairs = mining.sample_pairs(cat, n, seed)
    if pairs["label"].nunique() < 2:
        raise ValueError(
            f"{getattr(cat, 'source', 'catalog')}: the {n} pairs drawn all come from one product, so there is "
            "no negative; the catalog needs at least two products with street and shop photos"
        )
    wanted = pd.unique(np.concatenate([pairs["street"].to_numpy(), pairs["shop"].to_numpy()]))
    vectors = embed_images(model, cat.image_paths(wanted), image_size, batch_size=batch_size, progress=progress)
    position = pd.Index(wanted)
    anchors = vectors[position.get_indexer(pairs["street"])]
    positives = vectors[position.get_indexer(pairs["shop"])]
    negatives, margins = mining.semihard_negatives(anchors, positives, pairs["label"].to_numpy(), return_margins=True)
    d_ap = ((anchors.astype(np.float64) - positives) ** 2).sum(axis=1)
    triplets = pd.DataFrame({
        "anchor": pairs["street"].to_numpy(),
        "positive": pairs["shop"].to_numpy(),
        "negative": pairs["shop"].to_numpy()[negatives],
        "product_id": pairs["product_id"].to_numpy(),
        "negative_product_id": pairs["product_id"].to_numpy()[negatives],
        "d_ap": d_ap,
        "d_an": d_ap + margins,
        "margin": margins,
    })
    return MinedTriplets(triplets=triplets, spread=embedding_spread(vectors), n_images=len(wanted), pairs=pairs,
                         anchors=anchors, positives=positives, negative_rows=negatives)
