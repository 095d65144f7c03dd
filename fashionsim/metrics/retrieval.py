"""Retrieval figures of merit: recall@K, precision@K, R-precision, mAP@R, the chance level, street-to-shop.

Every ranking metric takes ``retrieved`` (n_queries, width) ids ranked best
first and ``relevant``, one collection of ids per query. The ids get integer
codes in one hash pass and (query, id) pairs are matched by binary search, so
no per-query Python loop runs (the only Python-level pass flattens the
relevant sets). Integer ids are the fast path; string ids cost one hash of
each retrieved id. :func:`street_to_shop_recall` skips ids altogether and
compares integer product codes. recall@K follows
the street-to-shop notebook: a query is a hit at K when any of its relevant ids
is in its top K. mAP@R and R-precision follow Musgrave et al., "A Metric
Learning Reality Check" (2020). Taught in notebooks 03 and 05.

>>> recall_at_k([["a", "b", "c"], ["c", "a", "b"]], [{"b"}, {"b"}], ks=(1, 2, 3))
{1: 0.0, 2: 0.5, 3: 1.0}
"""

from __future__ import annotations

import itertools
import numbers
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_KS", "StreetToShopQueries", "chance_recall_at_k", "first_hit_rank", "map_at_r", "precision_at_k",
    "r_precision", "recall_at_k", "street_to_shop_queries", "street_to_shop_recall",
]

DEFAULT_KS = (1, 3, 5, 10, 25, 50, 100)   # the K of the street-to-shop reference
_MAX_LISTED = 5
_CHANCE_CHUNK = 1024         # chance level: product terms summed per step


# ---------------------------------------------------------------- input checks
def _check_ks(ks: int | Iterable[int]) -> list[int]:
    values = [ks] if isinstance(ks, numbers.Integral) else list(ks)
    if not values:
        raise ValueError("ks is empty: give at least one K")
    for k in values:
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
            raise ValueError(f"every K must be a positive int, got {k!r} in ks={values}")
    return [int(k) for k in values]


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
    ks = _check_ks(ks)
    hits, _ = _hits(retrieved, relevant, width=max(ks))
    return _recall_from_hits(hits, ks)


def _recall_from_hits(hits: np.ndarray, ks: list[int]) -> dict[int, float]:
    first = np.where(hits.any(axis=1), hits.argmax(axis=1), np.iinfo(np.int64).max)
    return {k: float(np.mean(first < k)) for k in ks}


def precision_at_k(retrieved: Any, relevant: Any, ks: int | Iterable[int]) -> dict[int, float]:
    """Mean fraction of the top K that is relevant, for each K of ``ks`` (ids must not repeat in a row).

    >>> precision_at_k([[1, 2, 3, 4]], [{1, 3}], ks=(1, 2, 4))
    {1: 1.0, 2: 0.5, 4: 0.5}
    """
    ks = _check_ks(ks)
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
    return _map_at_r_from_hits(hits, n_rel)


def _map_at_r_from_hits(hits: np.ndarray, n_rel: np.ndarray) -> float:
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
    ks = _check_ks(ks)
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


# ---------------------------------------------------------------- street-to-shop
class StreetToShopQueries(NamedTuple):
    """Street photos as queries, shop photos as candidates, and each query's relevant shop photos."""

    query_ids: np.ndarray          # (n_queries,) street image ids
    candidate_ids: np.ndarray      # (n_candidates,) shop image ids
    relevant: list[frozenset]      # per query: the shop image ids of its product


def street_to_shop_queries(cat, split: str | None = "test", clean_only: bool = False, *, gallery: str = "split",
                           skip_unmatched: bool = False) -> StreetToShopQueries:
    """The street-to-shop retrieval task of a catalog split.

    Queries are the split's street images (only ``clean`` ones with
    ``clean_only``; needs a boolean ``clean`` column in the images table),
    candidates the shop images of the split (``gallery="split"``) or of the
    whole catalog (``gallery="all"``, as the reference notebook searched every
    seller image), and a query's relevant set is the shop images of its
    product. ``split=None`` uses every product. A query product without shop
    images among the candidates is an error, or with ``skip_unmatched`` a
    warning naming what was dropped. Taught in notebooks 03 and 05.

    >>> q = street_to_shop_queries(cat, "test")     # doctest: +SKIP
    >>> len(q.query_ids), len(q.candidate_ids)       # doctest: +SKIP
    """
    street, shop = _street_and_shop(cat, split, clean_only, gallery, skip_unmatched)
    shop_sets = shop.groupby("product_id", sort=False)["image_id"].agg(frozenset)   # one set per product
    return StreetToShopQueries(
        query_ids=street["image_id"].to_numpy(), candidate_ids=shop["image_id"].to_numpy(),
        relevant=street["product_id"].map(shop_sets).tolist(),
    )


def _street_and_shop(cat, split: str | None, clean_only: bool, gallery: str, skip_unmatched: bool
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The query (street) and candidate (shop) rows of the images table, checked; see street_to_shop_queries."""
    from fashionsim.data.catalog import SPLITS, CatalogError

    if gallery not in ("split", "all"):
        raise ValueError(f"gallery must be 'split' or 'all', got {gallery!r}")
    products, images = cat.products, cat.images
    if split is None:
        in_split = np.ones(len(images), dtype=bool)
    else:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {list(SPLITS)} or None, got {split!r}")
        in_split = images["product_id"].isin(products.loc[products["split"] == split, "product_id"]).to_numpy()
    source = images["source"].to_numpy()
    is_street = in_split & (source == "street")
    where = f"{cat.source}: split {split!r}" if split is not None else f"{cat.source}"
    if clean_only:
        if "clean" not in images.columns:
            raise CatalogError(
                f"{cat.source}: clean_only=True needs a boolean 'clean' column in the images table "
                f"(street photos without occlusion); the table has {list(images.columns)}"
            )
        values = images["clean"][is_street]
        if values.isna().any() or not values.isin([True, False]).all():
            raise CatalogError(f"{cat.source}: images.clean must be True or False for every street image")
        is_street &= (images["clean"].where(is_street) == True).to_numpy()  # noqa: E712 - elementwise
    is_shop = (source == "shop") & (in_split if gallery == "split" else True)
    street, shop = images.loc[is_street], images.loc[is_shop]
    if len(street) == 0:
        raise CatalogError(f"{where} has no {'clean ' if clean_only else ''}street images to query with")
    if len(shop) == 0:
        raise CatalogError(f"{where} has no shop images to search")
    missing = ~street["product_id"].isin(shop["product_id"]).to_numpy()
    if missing.any():
        lost = street.loc[missing, "product_id"].unique()
        more = f" and {len(lost) - _MAX_LISTED} more" if len(lost) > _MAX_LISTED else ""
        text = f"{lost[:_MAX_LISTED].tolist()}{more}"
        if not skip_unmatched:
            raise CatalogError(
                f"{where}: product(s) {text} have street images but no shop image among the candidates; "
                "pass skip_unmatched=True to drop their queries"
            )
        warnings.warn(f"{where}: dropped {int(missing.sum())} street queries of {len(lost)} product(s) "
                      f"without shop images: {text}", stacklevel=3)
        street = street.loc[~missing]
        if len(street) == 0:
            raise CatalogError(f"{where}: no street query has a shop image to find")
    return street, shop


def _lookup(embeddings: Any) -> tuple[np.ndarray, pd.Index]:
    """(vectors (n, d), an Index of their ids) from a mapping id -> vector or a (vectors, ids) pair."""
    if isinstance(embeddings, Mapping):
        if not embeddings:
            raise ValueError("embeddings is an empty mapping")
        ids = pd.Index(list(embeddings.keys()))
        vectors = np.stack([np.asarray(v) for v in embeddings.values()])
    elif isinstance(embeddings, tuple) and len(embeddings) == 2:
        vectors, ids = embeddings
        ids = pd.Index(np.asarray(ids.to_numpy() if isinstance(ids, (pd.Series, pd.Index)) else ids))
    else:
        raise ValueError("embeddings must be a mapping image_id -> vector or a (vectors, ids) pair")
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or len(vectors) != len(ids):
        raise ValueError(f"embeddings: vectors must be (n, d) with n == len(ids) == {len(ids)}, got {vectors.shape}")
    if not ids.is_unique:
        raise ValueError(f"embeddings: duplicated image ids {ids[ids.duplicated()].unique()[:_MAX_LISTED].tolist()}")
    return vectors, ids


def _take(vectors: np.ndarray, ids: pd.Index, wanted: np.ndarray, what: str) -> np.ndarray:
    pos = ids.get_indexer(wanted)
    if (pos < 0).any():
        absent = wanted[pos < 0]
        raise ValueError(f"embeddings lack {len(absent)} {what} image id(s), e.g. {absent[:_MAX_LISTED].tolist()}")
    return np.asarray(vectors[pos], dtype=np.float32)


def street_to_shop_recall(embeddings: Mapping[Any, Any] | tuple[Any, Any], cat, split: str | None = "test",
                          ks: Iterable[int] = DEFAULT_KS, index: str = "exact", clean_only: bool = False, *,
                          metric: str = "euclidean", gallery: str = "split", n_trees: int = 50,
                          search_k: int = -1, seed: int | None = 0, annoy_k: int = 10,
                          skip_unmatched: bool = False, return_retrieved: bool = False) -> dict[str, Any]:
    """recall@K of street photos searching the shop photos of a catalog split.

    embeddings: a mapping image_id -> vector, or ``(vectors (n, d), ids)``,
    covering the split's street and shop images. The shop vectors are indexed
    (``index="exact"`` NumPy search or ``"annoy"``), each street vector queries
    it, and a query is a hit at K when a shop image of its product is in the
    top K. K larger than the number of candidates N counts as K = N (every
    candidate retrieved, recall 1).

    Returns a dict: ``recall`` {K: float}, ``chance`` {K: float} (a random
    ranking's recall), ``map_at_r``, ``n_queries``, ``n_candidates``, the
    settings, and for Annoy ``annoy_recall`` (the fraction of the exact top
    ``annoy_recall_k`` that Annoy found) — report it next to Annoy's recall.
    Annoy is asked once for the top max(ks) and recall@K is read off its
    first K, as the reference did; ``annoy_recall`` is measured on that same
    ranking, and ``annoy_requeried`` counts queries Annoy answered short
    that were re-run over the whole forest. ``return_retrieved`` adds ``query_ids``, ``retrieved`` (ids, best first),
    ``distances`` and ``relevant``. Taught in notebooks 03 and 05.

    >>> street_to_shop_recall((vectors, ids), cat, "test")["recall"][10]    # doctest: +SKIP
    """
    from fashionsim import index as index_module

    ks = _check_ks(ks)
    if index not in ("exact", "annoy"):
        raise ValueError(f"index must be 'exact' or 'annoy', got {index!r}")
    street, shop = _street_and_shop(cat, split, clean_only, gallery, skip_unmatched)
    query_ids, candidate_ids = street["image_id"].to_numpy(), shop["image_id"].to_numpy()
    vectors, ids = _lookup(embeddings)
    query_vectors = _take(vectors, ids, query_ids, "street (query)")
    shop_vectors = _take(vectors, ids, candidate_ids, "shop (candidate)")
    # Relevance by integer product codes: candidate j is relevant to query i when their products match.
    product_codes = pd.Index(pd.unique(shop["product_id"]))
    shop_code = product_codes.get_indexer(shop["product_id"])
    query_code = product_codes.get_indexer(street["product_id"])
    n_rel = np.bincount(shop_code, minlength=len(product_codes))[query_code]
    n_cand = len(candidate_ids)
    depth = min(max(max(ks), int(n_rel.max())), n_cand)

    exact = index_module.ExactIndex.build(shop_vectors, candidate_ids, metric=metric)
    result: dict[str, Any] = {"split": split, "clean_only": clean_only, "gallery": gallery, "index": index,
                              "metric": metric, "n_queries": len(query_ids), "n_candidates": n_cand,
                              "annoy_recall": None, "annoy_recall_k": None}
    if index == "annoy":
        searcher = index_module.EmbeddingIndex.build(shop_vectors, candidate_ids, metric=metric,
                                                     n_trees=n_trees, search_k=search_k, seed=seed)
        k_check = min(annoy_k, n_cand)
        result.update(n_trees=n_trees, search_k=search_k, annoy_recall_k=k_check,
                      annoy_recall=index_module.annoy_recall(searcher, exact, query_vectors, k_check,
                                                             depth=max(depth, k_check)))
    else:
        searcher = exact
    found = searcher.search(query_vectors, depth)
    positions, distances = found.positions, found.distances
    if index == "annoy":
        result["annoy_requeried"] = found.n_requeried
    hits = shop_code[positions] == query_code[:, None]                 # (n_queries, depth)
    clipped = _recall_from_hits(hits, sorted({min(k, n_cand) for k in ks}))
    result["recall"] = {k: clipped[min(k, n_cand)] for k in ks}
    result["chance"] = chance_recall_at_k(n_cand, n_rel, ks)
    result["map_at_r"] = _map_at_r_from_hits(hits, n_rel)
    if return_retrieved:
        shop_sets = shop.groupby("product_id", sort=False)["image_id"].agg(frozenset)
        result.update(query_ids=query_ids, retrieved=candidate_ids[positions], distances=distances,
                      relevant=street["product_id"].map(shop_sets).tolist())
    return result
