"""Solutions to the exercises of notebook 03 (siamese network, semi-hard triplets). Try them yourself first.

Each function is one exercise; ``tests/test_exercises.py`` runs them at small sizes and checks the
expected outcome the notebook states.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def hardest_negatives(anchors: np.ndarray, positives: np.ndarray, labels: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """Exercise 1: batch-hard mining, the closest shop photo of another product; returns (negatives, margins)."""
    a, p = np.asarray(anchors, np.float64), np.asarray(positives, np.float64)
    labels = np.asarray(labels)
    d = ((a[:, None, :] - p[None, :, :]) ** 2).sum(-1)                   # (n, n) d(a_i, p_j)
    d = np.where(labels[:, None] != labels[None, :], d, np.inf)          # only other products
    negatives = d.argmin(axis=1)
    d_ap = ((a - p) ** 2).sum(-1)
    return negatives, d[np.arange(len(a)), negatives] - d_ap


def annoy_recall_by_trees(vectors: np.ndarray, trees: Sequence[int] = (1, 5, 50), *, k: int = 10,
                          n_queries: int = 200, seed: int = 0) -> dict[int, float]:
    """Exercise 2: Annoy's recall@k against exact search for several numbers of trees."""
    from fashionsim.index import EmbeddingIndex, ExactIndex, annoy_recall

    ids = np.arange(len(vectors))
    exact = ExactIndex.build(vectors, ids, "angular")
    queries = vectors[np.random.default_rng(seed).choice(len(vectors), n_queries, replace=False)]
    return {int(t): annoy_recall(EmbeddingIndex.build(vectors, ids, "angular", n_trees=int(t), seed=seed), exact,
                                 queries, k=k) for t in trees}
