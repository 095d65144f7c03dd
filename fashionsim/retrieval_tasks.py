"""The street-to-shop retrieval task of a catalog split, and its recall@K for given vectors.

A task is the catalog's part of retrieval: street photos are the queries, shop
photos the candidates, and a query's relevant set is the shop photos of its
product (:func:`street_to_shop_queries`). :func:`street_to_shop_recall` runs
it for a set of vectors: it indexes the candidates (exact NumPy search or
Annoy), searches with every query and maps the ranking to numbers with
:mod:`fashionsim.metrics`. Everything here is pure NumPy / pandas (no
TensorFlow), so the training harness measures validation recall with it and
:mod:`fashionsim.evaluation` builds its reports on it. Taught in notebooks 03
and 05.

>>> import pandas as pd
>>> from fashionsim.data import Catalog
>>> products = pd.DataFrame({"product_id": ["p0", "p1"], "category": "dress", "color": ["red", "blue"],
...                          "gender": "women", "description": "", "split": "test"})
>>> images = pd.DataFrame({"image_id": ["s0", "s1", "u0", "u1"], "product_id": ["p0", "p1", "p0", "p1"],
...                        "path": ["s0.png", "s1.png", "u0.png", "u1.png"],
...                        "source": ["shop", "shop", "street", "street"]})
>>> cat = Catalog(products, images, root=".")
>>> task = street_to_shop_queries(cat, "test")
>>> task.query_ids.tolist(), task.candidate_ids.tolist(), task.relevant
(['u0', 'u1'], ['s0', 's1'], [frozenset({'s0'}), frozenset({'s1'})])
>>> vectors = {"s0": [1.0, 0.0], "s1": [0.0, 1.0], "u0": [0.9, 0.2], "u1": [0.1, 0.8]}
>>> street_to_shop_recall(vectors, cat, "test", ks=(1,))["recall"]
{1: 1.0}
"""

from __future__ import annotations

import dataclasses
import functools
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from fashionsim.data.catalog import SPLITS, Catalog, CatalogError
from fashionsim.index import EmbeddingIndex, ExactIndex, annoy_recall, overlap
from fashionsim.metrics import DEFAULT_KS, chance_recall_at_k, check_ks, map_at_r_from_hits, recall_at_k_from_hits

__all__ = [
    "StreetToShopQueries", "embedding_lookup", "street_to_shop_queries", "street_to_shop_recall", "take_vectors",
]

_MAX_LISTED = 5
_GALLERIES = ("split", "all")


# ---------------------------------------------------------------- the task
@dataclasses.dataclass(frozen=True, eq=False)
class StreetToShopQueries:
    """Street photos as queries, shop photos as candidates, and each query's relevant shop photos.

    ``query_ids`` (n_queries,) street image ids and ``query_products`` their
    products; ``candidate_ids`` (n_candidates,) shop image ids and
    ``candidate_products`` theirs. ``relevant`` (one frozenset of shop image
    ids per query) and the integer product codes are derived on first use.
    """

    query_ids: np.ndarray
    candidate_ids: np.ndarray
    query_products: np.ndarray
    candidate_products: np.ndarray

    @functools.cached_property
    def _codes(self) -> tuple[np.ndarray, np.ndarray]:
        names = pd.Index(pd.unique(self.candidate_products))
        return names.get_indexer(self.query_products), names.get_indexer(self.candidate_products)

    @property
    def query_codes(self) -> np.ndarray:
        """(n_queries,) int: the product of each query as a code shared with ``candidate_codes``."""
        return self._codes[0]

    @property
    def candidate_codes(self) -> np.ndarray:
        """(n_candidates,) int: the product of each candidate as a code."""
        return self._codes[1]

    @functools.cached_property
    def n_relevant(self) -> np.ndarray:
        """(n_queries,) int: how many candidates share each query's product (R of mAP@R)."""
        return np.bincount(self.candidate_codes)[self.query_codes]

    @functools.cached_property
    def relevant(self) -> list[frozenset]:
        """Per query: the shop image ids of its product."""
        sets = pd.Series(self.candidate_ids).groupby(self.candidate_codes, sort=False).agg(frozenset)
        return sets.reindex(self.query_codes).tolist()

    def hits(self, positions: np.ndarray) -> np.ndarray:
        """Relevance matrix (n_queries, depth) bool of a ranking given as candidate positions (n_queries, depth)."""
        return self.candidate_codes[positions] == self.query_codes[:, None]


def street_to_shop_queries(cat: Catalog, split: str | None = "test", clean_only: bool = False, *,
                           gallery: str = "split", skip_unmatched: bool = False) -> StreetToShopQueries:
    """The street-to-shop retrieval task of a catalog split.

    Queries are the split's street images (only ``clean`` ones with
    ``clean_only``; needs a boolean ``clean`` column in the images table),
    candidates the shop images of the split (``gallery="split"``) or of the
    whole catalog (``gallery="all"``, as the reference notebook searched every
    seller image), and a query's relevant set is the shop images of its
    product. ``split=None`` uses every product. A query product without shop
    images among the candidates is an error, or with ``skip_unmatched`` a
    warning naming what was dropped.
    """
    street, shop = _street_and_shop(cat, split, clean_only, gallery, skip_unmatched)
    return StreetToShopQueries(
        query_ids=street["image_id"].to_numpy(), candidate_ids=shop["image_id"].to_numpy(),
        query_products=street["product_id"].to_numpy(), candidate_products=shop["product_id"].to_numpy(),
    )


def _street_and_shop(cat: Catalog, split: str | None, clean_only: bool, gallery: str, skip_unmatched: bool
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The query (street) and candidate (shop) rows of the images table, checked; see street_to_shop_queries."""
    if gallery not in _GALLERIES:
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


# ---------------------------------------------------------------- vectors by image id
def embedding_lookup(embeddings: Mapping[Any, Any] | tuple[Any, Any]) -> tuple[np.ndarray, pd.Index]:
    """``(vectors (n, d), an Index of their ids)`` from a mapping id -> vector or a ``(vectors, ids)`` pair."""
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


def take_vectors(vectors: np.ndarray, ids: pd.Index, wanted: np.ndarray, what: str) -> np.ndarray:
    """The float32 rows of ``vectors`` for the ``wanted`` ids; ValueError naming ``what`` when some are absent."""
    pos = ids.get_indexer(wanted)
    if (pos < 0).any():
        absent = wanted[pos < 0]
        raise ValueError(f"embeddings lack {len(absent)} {what} image id(s), e.g. {absent[:_MAX_LISTED].tolist()}")
    return np.asarray(vectors[pos], dtype=np.float32)


# ---------------------------------------------------------------- recall of a task
def street_to_shop_recall(embeddings: Mapping[Any, Any] | tuple[Any, Any], cat: Catalog, split: str | None = "test",
                          ks: Iterable[int] = DEFAULT_KS, index: str = "exact", clean_only: bool = False, *,
                          metric: str = "euclidean", gallery: str = "split", n_trees: int = 50,
                          search_k: int = -1, seed: int | np.random.Generator | None = 0, annoy_k: int = 10,
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
    that were re-run over the whole forest. ``return_retrieved`` adds
    ``query_ids``, ``retrieved`` (ids, best first), ``distances`` and ``relevant``.
    """
    ks = check_ks(ks)
    if index not in ("exact", "annoy"):
        raise ValueError(f"index must be 'exact' or 'annoy', got {index!r}")
    task = street_to_shop_queries(cat, split, clean_only, gallery=gallery, skip_unmatched=skip_unmatched)
    vectors, ids = embedding_lookup(embeddings)
    query_vectors = take_vectors(vectors, ids, task.query_ids, "street (query)")
    shop_vectors = take_vectors(vectors, ids, task.candidate_ids, "shop (candidate)")
    n_cand = len(task.candidate_ids)
    depth = min(max(max(ks), int(task.n_relevant.max())), n_cand)

    exact = ExactIndex.build(shop_vectors, task.candidate_ids, metric=metric)
    result: dict[str, Any] = {"split": split, "clean_only": clean_only, "gallery": gallery, "index": index,
                              "metric": metric, "n_queries": len(task.query_ids), "n_candidates": n_cand,
                              "annoy_recall": None, "annoy_recall_k": None}
    if index == "annoy":
        forest = EmbeddingIndex.build(shop_vectors, task.candidate_ids, metric=metric, n_trees=n_trees,
                                      search_k=search_k, seed=seed)
        k_check = min(annoy_k, n_cand)
        found = forest.search(query_vectors, depth)
        if depth >= k_check:     # Annoy's recall measured on the very ranking recall@K is read from
            measured = overlap(found, exact.search(query_vectors, k_check), k_check)
        else:
            measured = annoy_recall(forest, exact, query_vectors, k_check)
        result.update(n_trees=n_trees, search_k=search_k, annoy_recall_k=k_check, annoy_recall=measured,
                      annoy_requeried=found.n_requeried)
    else:
        found = exact.search(query_vectors, depth)
    hits = task.hits(found.positions)                                  # (n_queries, depth)
    clipped = recall_at_k_from_hits(hits, sorted({min(k, n_cand) for k in ks}))
    result["recall"] = {k: clipped[min(k, n_cand)] for k in ks}
    result["chance"] = chance_recall_at_k(n_cand, task.n_relevant, ks)
    result["map_at_r"] = map_at_r_from_hits(hits, task.n_relevant)
    if return_retrieved:
        result.update(query_ids=task.query_ids, retrieved=found.ids, distances=found.distances,
                      relevant=task.relevant)
    return result
