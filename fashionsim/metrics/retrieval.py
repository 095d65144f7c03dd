"""Retrieval figures of merit: recall@K, precision@K, R-precision, mAP@R and the chance level.

Every ranking metric takes ``retrieved`` (n_queries, width) ids ranked best
first and ``relevant``, one collection of ids per query. The ids get integer
codes in one hash pass and (query, id) pairs are matched by binary search, so
no per-query Python loop runs (the only Python-level pass flattens the
relevant sets). Integer ids are the fast path; string ids cost one hash of
each retrieved id. A caller that already knows which retrieved items are
relevant (e.g. by comparing product codes) passes the boolean ``hits`` matrix
to :func:`recall_at_k_from_hits` and :func:`map_at_r_from_hits` and skips ids
altogether. recall@K follows the street-to-shop notebook: a query is a hit at
K when any of its relevant ids is in its top K. mAP@R and R-precision follow
Musgrave et al., "A Metric Learning Reality Check" (2020). The street-to-shop
task of a catalog is built in :mod:`fashionsim.retrieval_tasks`. Taught in
notebooks 03 and 05.

>>> recall_at_k([["a", "b", "c"], ["c", "a", "b"]], [{"b"}, {"b"}], ks=(1, 2, 3))
{1: 0.0, 2: 0.5, 3: 1.0}
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from fashionsim.metrics.cutoffs import check_ks

__all__ = [
    "chance_recall_at_k", "first_hit_rank", "map_at_r", "map_at_r_from_hits", "precision_at_k",
    "r_precision", "recall_at_k", "recall_at_k_from_hits",
]

_MAX_LISTED = 5
_CHANCE_CHUNK = 1024         # chance level: product terms summed per step


# ---------------------------------------------------------------- input checks
def _as_ranking(retrieved: Any) -> np.ndarray:
    try:   # lists go through dtype=object: np.asarray([[1, "a"]]) would silently turn 1 into "1"
        arr = retrieved if isinstance(retrieved, np.ndarray) else _typed(np.array(retrieved, dtype=object))
    except ValueError as exc:   # numpy refuses inhomogeneous nested lists
        raise ValueError(f"retrieved is ragged: every query needs the same number of ranked ids ({exc})") from exc
    if arr.ndim == 1 and arr.dtype == object and len(arr) and isinstance(arr[0], (list, tuple, np.ndarray)):
        raise ValueError("retrieved is ragged: every query needs the same number of ranked ids")
    if arr.ndim != 2:
        raise ValueError(f"retrieved must be a 2-D (n_queries, k) array of ids, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError("retrieved has no queries")
    return arr


def _flatten_relevant(relevant: Any, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """(query index per relevant id, the relevant ids), flattened; checks lengths and emptiness."""
    if isinstance(relevant, (str, bytes)) or not hasattr(relevant, "__len__"):
        raise ValueError(f"relevant must be a sequence of id collections, got {type(relevant).__name__}")
    if len(relevant) != n_queries:
        raise ValueError(f"relevant has {len(relevant)} entries but retrieved has {n_queries} queries")
    if any(isinstance(r, (str, bytes)) for r in relevant):
        raise ValueError("each entry of relevant must be a collection of ids (e.g. a set), not a string")
    try:
        lengths = np.fromiter(map(len, relevant), dtype=np.int64, count=n_queries)
    except TypeError as exc:
        raise ValueError(f"each entry of relevant must be a collection of ids (e.g. a set): {exc}") from exc
    empty = lengths == 0
    if empty.any():
        rows = np.flatnonzero(empty)
        raise ValueError(
            f"relevant set is empty for query(ies) {rows[:_MAX_LISTED].tolist()}"
            f"{f' and {len(rows) - _MAX_LISTED} more' if len(rows) > _MAX_LISTED else ''}: "
            "recall is undefined without a relevant item"
        )
    flat = _typed(np.array(list(itertools.chain.from_iterable(relevant)), dtype=object))
    return np.repeat(np.arange(n_queries), lengths), flat


def _typed(ids: np.ndarray) -> np.ndarray:
    """An object array of ids as int64 when every id is an integer (fast factorize), else unchanged."""
    if ids.dtype == object and ids.size and pd.api.types.infer_dtype(ids.ravel(), skipna=False) == "integer":
        return ids.astype(np.int64)
    return ids


def _hits(retrieved: Any, relevant: Any, *, width: int | None = None, unique_rows: bool = False
          ) -> tuple[np.ndarray, np.ndarray]:
    """Relevance matrix ``hits`` (n_queries, width) bool and the number R of distinct relevant ids per query."""
    ranking = _as_ranking(retrieved)
    n, w = ranking.shape
    if width is not None and w < width:
        raise ValueError(f"retrieved has {w} ids per query, fewer than the {width} needed")
    query_of, flat = _flatten_relevant(relevant, n)
    a, b = ranking.ravel(), flat
    if not (a.dtype.kind in "iu" and b.dtype.kind in "iu"):
        a, b = a.astype(object), b.astype(object)
    # One hash pass gives every id an integer code (-1 for None/NaN); (query, code) keys of the
    # retrieved ids are then matched against the sorted relevant keys by binary search.
    codes = pd.factorize(np.concatenate([a, b]))[0]
    ret_codes, rel_codes = codes[: a.size], codes[a.size:]
    if (ret_codes < 0).any():
        raise ValueError("retrieved contains missing ids (None or NaN)")
    if (rel_codes < 0).any():
        raise ValueError("relevant contains missing ids (None or NaN)")
    if unique_rows:
        srt = np.sort(ret_codes.reshape(n, w), axis=1)
        dup = (srt[:, 1:] == srt[:, :-1]).any(axis=1)
        if dup.any():
            raise ValueError(f"retrieved repeats an id within query(ies) {np.flatnonzero(dup)[:_MAX_LISTED].tolist()}")
    n_codes = int(codes.max()) + 1
    rel_keys = np.unique(query_of * n_codes + rel_codes)
    ret_keys = np.arange(n).repeat(w) * n_codes + ret_codes
    found = np.minimum(np.searchsorted(rel_keys, ret_keys), len(rel_keys) - 1)
    hits = (rel_keys[found] == ret_keys).reshape(n, w)
    n_relevant = np.bincount(rel_keys // n_codes, minlength=n)
    return hits, n_relevant


# ---------------------------------------------------------------- metrics
def first_hit_rank(retrieved: Any, relevant: Any) -> np.ndarray:
    """0-based rank of the first relevant id per query, -1 where none was retrieved.

    retrieved: (n_queries, k) ids, best first; relevant: one collection of ids per query.
    The worst queries of a model are those with rank -1 or a large rank.
    """
    hits, _ = _hits(retrieved, relevant)
    return np.where(hits.any(axis=1), hits.argmax(axis=1), -1)


def recall_at_k(retrieved: Any, relevant: Any, ks: int | Iterable[int]) -> dict[int, float]:
    """Fraction of queries with at least one relevant id in their top K, for each K of ``ks``.

    retrieved: (n_queries, >= max(ks)) ids ranked best first; relevant: a
    sequence of sets of ids (non-empty). The street-to-shop recall@K of
    notebook 03 (a hit when any shop image of the query's product is in the top K).

    >>> recall_at_k([[1, 2, 3]], [{3}], ks=(1, 3))
    {1: 0.0, 3: 1.0}
    """
    ks = check_ks(ks)
    hits, _ = _hits(retrieved, relevant, width=max(ks))
    return recall_at_k_from_hits(hits, ks)


def recall_at_k_from_hits(hits: Any, ks: int | Iterable[int]) -> dict[int, float]:
    """recall@K from a relevance matrix: ``hits`` (n_queries, width) bool, True where a retrieved item is relevant.

    A K larger than ``width`` reads the whole row.

    >>> recall_at_k_from_hits([[False, True], [False, False]], ks=(1, 2))
    {1: 0.0, 2: 0.5}
    """
    ks = check_ks(ks)
    hits = _as_hits(hits)
    first = np.where(hits.any(axis=1), hits.argmax(axis=1), np.iinfo(np.int64).max)
    return {k: float(np.mean(first < k)) for k in ks}


def _as_hits(hits: Any) -> np.ndarray:
    arr = np.asarray(hits)
    if arr.ndim != 2 or arr.dtype != bool:
        raise ValueError(f"hits must be a 2-D bool (n_queries, width) array, got {arr.dtype} of shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError("hits has no queries")
    return arr


def precision_at_k(retrieved: Any, relevant: Any, ks: int | Iterable[int]) -> dict[int, float]:
    """Mean fraction of the top K that is relevant, for each K of ``ks`` (ids must not repeat in a row).

    >>> precision_at_k([[1, 2, 3, 4]], [{1, 3}], ks=(1, 2, 4))
    {1: 1.0, 2: 0.5, 4: 0.5}
    """
    ks = check_ks(ks)
    hits, _ = _hits(retrieved, relevant, width=max(ks), unique_rows=True)
    cum = np.cumsum(hits, axis=1)
    return {k: float(np.mean(cum[:, k - 1] / k)) for k in ks}


def r_precision(retrieved: Any, relevant: Any) -> float:
    """Mean R-precision: the fraction of the top R that is relevant, R = the query's number of relevant ids.

    retrieved must hold at least max(R) ids per query.

    >>> r_precision([[1, 2, 3, 4]], [{1, 3}])
    0.5
    """
    hits, n_rel = _hits(retrieved, relevant, width=None, unique_rows=True)
    if hits.shape[1] < n_rel.max():
        raise ValueError(f"retrieved has {hits.shape[1]} ids per query; R-precision needs R = {n_rel.max()}")
    cum = np.cumsum(hits, axis=1)
    return float(np.mean(cum[np.arange(len(cum)), n_rel - 1] / n_rel))


def map_at_r(retrieved: Any, relevant: Any) -> float:
    """Mean average precision at R (Musgrave et al. 2020): per query (1/R) sum_{i<=R} P@i * rel(i).

    R is the query's number of relevant ids; retrieved must hold at least
    max(R) ids per query. It rewards putting all relevant items first, not just one.

    >>> map_at_r([[1, 2, 3, 4]], [{1, 3}])    # (1/2) * (1/1 + 0)
    0.5
    """
    hits, n_rel = _hits(retrieved, relevant, width=None, unique_rows=True)
    return map_at_r_from_hits(hits, n_rel)


def map_at_r_from_hits(hits: Any, n_relevant: Any) -> float:
    """mAP@R from a relevance matrix ``hits`` (n_queries, width) bool and R per query (``n_relevant``, >= 1).

    >>> map_at_r_from_hits([[True, False, True, False]], [2])
    0.5
    """
    hits = _as_hits(hits)
    n_rel = np.asarray(n_relevant, dtype=np.int64).reshape(-1)
    if len(n_rel) != len(hits):
        raise ValueError(f"n_relevant has {len(n_rel)} entries but hits has {len(hits)} queries")
    if (n_rel < 1).any():
        raise ValueError("n_relevant must be >= 1 for every query: mAP@R is undefined without a relevant item")
    r_max = int(n_rel.max())
    if hits.shape[1] < r_max:
        raise ValueError(f"retrieved has {hits.shape[1]} ids per query; mAP@R needs R = {r_max}")
    hits = hits[:, :r_max]
    ranks = np.arange(1, r_max + 1)
    precision = np.cumsum(hits, axis=1) / ranks
    within = ranks[None, :] <= n_rel[:, None]
    return float(np.mean((precision * hits * within).sum(axis=1) / n_rel))


def chance_recall_at_k(n_candidates: int | Sequence[int] | np.ndarray, n_relevant: int | Sequence[int] | np.ndarray,
                       ks: int | Iterable[int]) -> dict[int, float]:
    """Expected recall@K of a random ranking: mean over queries of 1 - C(N - m, K) / C(N, K).

    n_candidates (N) and n_relevant (m) are ints or per-query arrays
    (broadcast together); K > N - m gives 1. Computed as the product
    prod_{j<min(m,K)} (1 - max(m,K) / (N - j)) in log1p form (accurate for
    large N, where log-gamma differences lose digits), once per distinct
    (N, m) pair, vectorised over K.

    >>> chance_recall_at_k(100, 2, ks=(1, 10))[1]
    0.02
    """
    ks = check_ks(ks)
    n_cand, n_rel = np.broadcast_arrays(np.asarray(n_candidates), np.asarray(n_relevant))
    n_cand, n_rel = n_cand.ravel(), n_rel.ravel()
    for name, arr in (("n_candidates", n_cand), ("n_relevant", n_rel)):
        if arr.size == 0:
            raise ValueError(f"{name} is empty")
        if arr.dtype.kind not in "iu":
            if not (arr.dtype.kind == "f" and np.all(arr == np.round(arr))):
                raise ValueError(f"{name} must hold integers, got dtype {arr.dtype}")
    n_cand, n_rel = n_cand.astype(np.int64), n_rel.astype(np.int64)
    if (n_cand < 1).any():
        raise ValueError("n_candidates must be >= 1")
    bad = (n_rel < 1) | (n_rel > n_cand)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"n_relevant must lie in [1, n_candidates]; query {i} has {n_rel[i]} of {n_cand[i]}")
    # Few distinct (N, m) pairs in practice: compute once per pair, then spread back to the queries.
    pairs, inverse = np.unique(np.stack([n_cand, n_rel], axis=1), axis=0, return_inverse=True)
    N, m = pairs[:, :1].astype(np.float64), pairs[:, 1:2].astype(np.float64)      # (p, 1)
    kk = np.asarray(ks, dtype=np.float64)[None, :]                                 # (1, K)
    possible = kk <= N - m                       # otherwise C(N - m, K) = 0: a hit is certain
    # C(N-m, K) / C(N, K) = prod_{j<a} (1 - b / (N - j)) with a = min(m, K), b = max(m, K); summed in
    # log1p form (log-gamma differences lose digits for large N), a chunk of j at a time.
    a, b = np.minimum(m, kk), np.maximum(m, kk)
    a_max = int(np.where(possible, a, 0).max())
    log_ratio = np.zeros(possible.shape)
    for start in range(0, a_max, _CHANCE_CHUNK):
        j = np.arange(start, min(start + _CHANCE_CHUNK, a_max), dtype=np.float64)[None, None, :]
        use = (j < a[..., None]) & possible[..., None]
        log_ratio += np.log1p(np.where(use, -b[..., None] / np.maximum(N[..., None] - j, 1.0), 0.0)).sum(axis=-1)
    chance = np.where(possible, -np.expm1(log_ratio), 1.0)[np.ravel(inverse)]      # (n_queries, K)
    return {k: float(v) for k, v in zip(ks, chance.mean(axis=0))}
