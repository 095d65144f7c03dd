"""Verification metrics: same-product vs different-product pairs under a distance threshold.

FaceNet's VAL and FAR: for a threshold ``d``, VAL(d) is the fraction of
same-product pairs closer than ``d`` (true accepts) and FAR(d) the fraction of
different-product pairs closer than ``d`` (false accepts). The item-recognition
README picks the threshold with the highest VAL whose FAR stays under 0.20.
The matching test compares each query with one representative embedding per
product (the medoid of its shop images). All vectorised. Taught in notebook 05.

>>> d, same = pair_distances([[0.0], [0.1], [1.0], [1.2]], ["a", "a", "b", "b"])
>>> best = best_threshold(d, same, far_bound=0.2)
>>> float(best["val"]), float(best["far"])
(1.0, 0.0)
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence

import numpy as np

from fashionsim._random import RandomState, as_generator

__all__ = [
    "pair_distances", "cross_pair_distances", "val_far", "best_threshold", "pair_roc", "product_medoids", "matching_test", "MatchingResult",
]


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def _check_vectors(vectors: np.ndarray, labels: Sequence, name: str = "vectors") -> tuple[np.ndarray, np.ndarray]:
    vectors = np.asarray(vectors, dtype=np.float64)
    labels = np.asarray(labels)
    if vectors.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n, d), got shape {vectors.shape}")
    if len(labels) != len(vectors):
        raise ValueError(f"{name} has {len(vectors)} rows but labels has {len(labels)}")
    if not np.isfinite(vectors).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return vectors, labels


def pair_distances(
    vectors: np.ndarray,
    labels: Sequence,
    *,
    max_pairs: int | None = 2_000_000,
    seed: RandomState = 0,
    random_state: RandomState = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distances of every pair ``i < j`` and whether the pair shares a label.

    With more than ``max_pairs`` pairs, ``max_pairs`` pairs are drawn uniformly
    (without replacement of ``i == j``) using ``seed`` (``random_state`` is its
    deprecated old name). Returns ``(distances (m,), same (m,) bool)``.

    >>> d, same = pair_distances([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]], ["a", "b", "a"])
    >>> d.tolist(), same.tolist()
    ([5.0, 1.0, 4.242640687119285], [False, True, False])
    """
    if random_state is not None:
        warnings.warn("pair_distances(random_state=...) is deprecated: pass seed=...", DeprecationWarning,
                      stacklevel=2)
        seed = random_state
    vectors, labels = _check_vectors(vectors, labels)
    n = len(vectors)
    if n < 2:
        raise ValueError("pair_distances needs at least 2 vectors")
    n_pairs = n * (n - 1) // 2
    if max_pairs is None or n_pairs <= max_pairs:
        i, j = np.triu_indices(n, k=1)
    else:
        rng = as_generator(seed, name="seed")
        i = rng.integers(0, n, size=max_pairs)
        j = rng.integers(0, n - 1, size=max_pairs)
        j = j + (j >= i)  # uniform over j != i
    diff = vectors[i] - vectors[j]
    return np.sqrt((diff * diff).sum(1)), labels[i] == labels[j]


def cross_pair_distances(
    query_vectors: np.ndarray, query_labels: Sequence, gallery_vectors: np.ndarray, gallery_labels: Sequence
) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean distances of every (query, gallery) pair and whether the two share a label.

    The pairs of the street-to-shop task: a street photo against every shop
    photo. Returns ``(distances (n_q * n_g,), same (n_q * n_g,) bool)``.
    """
    q, q_labels = _check_vectors(query_vectors, query_labels, "query_vectors")
    g, g_labels = _check_vectors(gallery_vectors, gallery_labels, "gallery_vectors")
    if q.shape[1] != g.shape[1]:
        raise ValueError(f"query and gallery dimensions differ: {q.shape[1]} vs {g.shape[1]}")
    distances = np.sqrt(_sq_dist(q, g)).ravel()
    return distances, (q_labels[:, None] == g_labels[None, :]).ravel()


def _split_pairs(distances, same) -> tuple[np.ndarray, np.ndarray]:
    distances = np.asarray(distances, dtype=np.float64)
    same = np.asarray(same, dtype=bool)
    if distances.shape != same.shape or distances.ndim != 1:
        raise ValueError(f"distances and same must be 1-D of equal length, got {distances.shape} and {same.shape}")
    pos, neg = np.sort(distances[same]), np.sort(distances[~same])
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("need both same-product and different-product pairs")
    return pos, neg


def val_far(distances: np.ndarray, same: np.ndarray, thresholds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """VAL(d) and FAR(d) for every threshold ``d``: fractions of same / different pairs with distance ≤ d."""
    pos, neg = _split_pairs(distances, same)
    thresholds = np.asarray(thresholds, dtype=np.float64)
    val = np.searchsorted(pos, thresholds, side="right") / len(pos)
    far = np.searchsorted(neg, thresholds, side="right") / len(neg)
    return val, far


def best_threshold(
    distances: np.ndarray, same: np.ndarray, *, far_bound: float = 0.20, thresholds: np.ndarray | None = None
) -> dict[str, float]:
    """The threshold with the highest VAL whose FAR stays at or under ``far_bound``.

    ``thresholds`` defaults to every observed pair distance (the exact optimum);
    among thresholds of equal VAL the one with the lowest FAR wins.
    Returns ``{"threshold", "val", "far", "far_bound"}``.
    """
    if not 0.0 <= far_bound <= 1.0:
        raise ValueError(f"far_bound must be in [0, 1], got {far_bound}")
    if thresholds is None:
        thresholds = np.unique(np.concatenate([[0.0], np.asarray(distances, dtype=np.float64)]))
    val, far = val_far(distances, same, thresholds)
    ok = far <= far_bound
    if not ok.any():
        raise ValueError(f"no threshold keeps FAR under {far_bound}")
    candidates = np.flatnonzero(ok)
    order = np.lexsort((far[candidates], -val[candidates]))
    best = candidates[order[0]]
    return {"threshold": float(thresholds[best]), "val": float(val[best]), "far": float(far[best]),
            "far_bound": float(far_bound)}


def pair_roc(distances: np.ndarray, same: np.ndarray) -> dict[str, np.ndarray | float]:
    """ROC of same-product pairs scored by negative distance: ``{"far", "val", "thresholds", "auc"}``."""
    from sklearn.metrics import roc_auc_score, roc_curve

    _split_pairs(distances, same)
    distances = np.asarray(distances, dtype=np.float64)
    fpr, tpr, thr = roc_curve(np.asarray(same, dtype=bool), -distances)
    return {"far": fpr, "val": tpr, "thresholds": -thr, "auc": float(roc_auc_score(same, -distances))}


def product_medoids(vectors: np.ndarray, labels: Sequence, *, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """One representative per label: the medoid (the member with the least summed distance to the others).

    Groups are padded to the largest group size and processed in chunks of
    ``chunk`` groups, so memory stays bounded. Returns ``(unique labels, medoid
    row indices into vectors)``.
    """
    vectors, labels = _check_vectors(vectors, labels)
    uniq, codes = np.unique(labels, return_inverse=True)
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes, minlength=len(uniq))
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    width = int(sizes.max())
    slot = np.arange(width)
    medoids = np.empty(len(uniq), dtype=np.int64)
    for lo in range(0, len(uniq), chunk):
        hi = min(lo + chunk, len(uniq))
        valid = slot[None, :] < sizes[lo:hi, None]                          # (g, w)
        rows = order[np.minimum(starts[lo:hi, None] + slot[None, :], len(order) - 1)]
        rows = np.where(valid, rows, rows[:, :1])                            # pad with the first member
        block = vectors[rows]                                                # (g, w, d)
        sq = (block * block).sum(-1)
        dist = np.sqrt(np.maximum(sq[:, :, None] + sq[:, None, :] - 2 * block @ block.transpose(0, 2, 1), 0))
        dist = np.where(valid[:, None, :], dist, 0.0).sum(-1)
        dist = np.where(valid, dist, np.inf)
        medoids[lo:hi] = rows[np.arange(hi - lo), dist.argmin(1)]
    return uniq, medoids


@dataclasses.dataclass
class MatchingResult:
    """Per query: the top-k products under the threshold (``None`` where fewer matched) and their distances."""

    products: np.ndarray      # (n_queries, k) object, None when no representative is under the threshold
    distances: np.ndarray     # (n_queries, k) float, inf where no match
    correct: np.ndarray       # (n_queries, k) bool: the product is the query's own
    threshold: float
    representatives: dict = dataclasses.field(default_factory=dict)  # product -> row of its medoid in the gallery

    def summary(self) -> dict[str, float]:
        """Accuracy@1, accuracy@k (own product among the matches) and the fraction of queries with no match."""
        return {
            "accuracy@1": float(self.correct[:, 0].mean()),
            f"accuracy@{self.correct.shape[1]}": float(self.correct.any(1).mean()),
            "no_match": float((self.distances[:, 0] == np.inf).mean()),
        }


def matching_test(
    query_vectors: np.ndarray,
    query_labels: Sequence,
    gallery_vectors: np.ndarray,
    gallery_labels: Sequence,
    threshold: float,
    *,
    k: int = 5,
) -> MatchingResult:
    """Match each query against one representative (medoid) per gallery product.

    A product matches when its representative is within ``threshold``
    (Euclidean); the k closest matches are kept, best first.
    """
    q, q_labels = _check_vectors(query_vectors, query_labels, "query_vectors")
    g, g_labels = _check_vectors(gallery_vectors, gallery_labels, "gallery_vectors")
    if q.shape[1] != g.shape[1]:
        raise ValueError(f"query and gallery dimensions differ: {q.shape[1]} vs {g.shape[1]}")
    products, rows = product_medoids(g, g_labels)
    k = min(int(k), len(products))
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    dist = np.sqrt(_sq_dist(q, g[rows]))
    top = np.argpartition(dist, k - 1, axis=1)[:, :k] if k < len(products) else np.tile(np.arange(k), (len(q), 1))
    top_d = np.take_along_axis(dist, top, 1)
    order = np.argsort(top_d, axis=1, kind="stable")
    top, top_d = np.take_along_axis(top, order, 1), np.take_along_axis(top_d, order, 1)
    under = top_d <= threshold
    names = np.where(under, products[top].astype(object), None)
    correct = under & (products[top] == q_labels[:, None])
    return MatchingResult(products=names, distances=np.where(under, top_d, np.inf), correct=correct,
                          threshold=float(threshold), representatives=dict(zip(products.tolist(), rows.tolist())))
