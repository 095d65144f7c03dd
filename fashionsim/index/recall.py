"""How much of exact search Annoy finds: report it next to every Annoy result."""

from __future__ import annotations

from typing import Any

import numpy as np

from fashionsim.index._checks import check_k
from fashionsim.index.annoy_index import EmbeddingIndex
from fashionsim.index.base import Neighbours
from fashionsim.index.exact import ExactIndex

__all__ = ["annoy_recall", "overlap"]


def overlap(approx: Neighbours | np.ndarray, exact: Neighbours | np.ndarray, k: int) -> float:
    """Fraction of the exact top-``k`` positions also in the approximate top ``k`` (mean over queries).

    Both are :class:`~fashionsim.index.Neighbours` (or their ``positions``,
    (n_queries, >= k) int arrays) of the same queries over the same items.

    >>> overlap(np.array([[0, 1], [2, 3]]), np.array([[1, 0], [2, 4]]), k=2)
    0.75
    """
    approx_pos = approx.positions if isinstance(approx, Neighbours) else np.asarray(approx)
    exact_pos = exact.positions if isinstance(exact, Neighbours) else np.asarray(exact)
    if approx_pos.shape[0] != exact_pos.shape[0] or min(approx_pos.shape[1], exact_pos.shape[1]) < k:
        raise ValueError(f"need (n_queries, >= {k}) positions of the same queries, got {approx_pos.shape} "
                         f"and {exact_pos.shape}")
    a, e = approx_pos[:, :k], exact_pos[:, :k]
    width = int(max(a.max(), e.max())) + 1
    rows = np.arange(len(e))[:, None]
    return float(np.isin(rows * width + e, rows * width + a).mean())   # exact neighbour also in Annoy's top k


def annoy_recall(annoy_index: EmbeddingIndex, exact_index: ExactIndex, queries: Any, k: int = 10, *,
                 search_k: int | None = None, depth: int | None = None) -> float:
    """Fraction of the exact top-``k`` neighbours that Annoy also returns in its top ``k`` (mean over queries).

    Both indexes must hold the same ids (in the same order). ``depth`` (>= k)
    asks Annoy for that many neighbours and keeps its first ``k``, as a
    recall@K evaluation that queries the top 100 once does. 1.0 means Annoy's
    answers equal exact search's; report this next to every Annoy result.

    >>> vectors = np.random.default_rng(0).normal(size=(40, 4))
    >>> forest = EmbeddingIndex.build(vectors, range(40), "angular", n_trees=5)
    >>> annoy_recall(forest, ExactIndex.build(vectors, range(40), "angular"), vectors, k=5, search_k=400)
    1.0
    """
    if len(annoy_index) != len(exact_index) or not np.array_equal(annoy_index.ids, exact_index.ids):
        raise ValueError("annoy_index and exact_index must index the same ids in the same order")
    if annoy_index.metric != exact_index.metric:
        raise ValueError(f"metrics differ: annoy {annoy_index.metric!r}, exact {exact_index.metric!r}")
    k = check_k(k, len(exact_index))
    depth = k if depth is None else check_k(depth, len(exact_index))
    if depth < k:
        raise ValueError(f"depth ({depth}) must be >= k ({k})")
    approx = annoy_index.search(queries, depth, search_k=search_k)
    return overlap(approx, exact_index.search(queries, k), k)
