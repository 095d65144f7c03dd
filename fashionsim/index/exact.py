"""Exact nearest neighbours by a chunked matrix product: the ground truth Annoy is measured against."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fashionsim._io import atomic_path
from fashionsim.index._checks import check_k, check_metric, check_vectors, normalise_ids
from fashionsim.index._metadata import check_expected, ids_from_metadata, read_metadata, write_metadata
from fashionsim.index.base import Neighbours

__all__ = ["ExactIndex"]

_RERANK_EXTRA = 8          # exact search re-ranks k + this many float32 candidates in float64


def _stable_topk(positions: np.ndarray, distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row by (distance, position): a deterministic order among ties."""
    order = np.lexsort((positions, distances), axis=-1)
    return np.take_along_axis(positions, order, -1), np.take_along_axis(distances, order, -1)


def _unit_rows(arr: np.ndarray) -> np.ndarray:
    return (arr / np.linalg.norm(arr.astype(np.float64), axis=1, keepdims=True)).astype(np.float32)


class ExactIndex:
    """Exact nearest neighbours by a chunked matrix product (the ground truth for Annoy).

    Working memory is about ``max_chunk_mib`` (the queries go through in
    chunks sized to it, whatever their number); the candidates of each
    chunk are chosen by ``argpartition`` on float32 scores and then re-ranked by
    their float64 distances, so distances are accurate and ties break by
    position. Same interface as :class:`~fashionsim.index.EmbeddingIndex`
    (:class:`~fashionsim.index.SearchIndex`); taught in notebook 03.

    >>> idx = ExactIndex.build([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]], ["a", "b", "c"], metric="euclidean")
    >>> ids, distances = idx.query([[0.0, 0.1]], k=2)
    >>> ids.tolist(), [round(float(d), 3) for d in distances[0]]
    ([['a', 'c']], [0.1, 1.005])
    """

    kind = "exact"

    def __init__(self, vectors: np.ndarray, ids: np.ndarray, metric: str, *, fingerprint: str | None = None,
                 max_chunk_mib: float = 64.0) -> None:
        self.metric = check_metric(metric)
        self.vectors_ = vectors            # float32 (n, d); unit rows for "angular"
        self.ids_ = ids
        self.fingerprint = fingerprint
        if max_chunk_mib <= 0:
            raise ValueError(f"max_chunk_mib must be > 0, got {max_chunk_mib}")
        self.max_chunk_mib = float(max_chunk_mib)
        self._sq_norms32 = (np.einsum("ij,ij->i", vectors, vectors, dtype=np.float64).astype(np.float32)
                            if metric == "euclidean" else None)

    @classmethod
    def build(cls, vectors: Any, ids: Sequence | np.ndarray, metric: str = "angular", *,
              fingerprint: str | None = None, max_chunk_mib: float = 64.0) -> ExactIndex:
        """Index ``vectors`` (n, d) under ``ids`` (n unique ints or strings)."""
        metric = check_metric(metric)
        arr = check_vectors(vectors, "vectors", metric=metric)
        ids = normalise_ids(ids, len(arr))
        if metric == "angular":
            arr = _unit_rows(arr)
        else:
            arr = np.array(arr, dtype=np.float32, copy=True)   # detach from the caller's buffer
        return cls(arr, ids, metric, fingerprint=fingerprint, max_chunk_mib=max_chunk_mib)

    @property
    def dim(self) -> int:
        return int(self.vectors_.shape[1])

    @property
    def ids(self) -> np.ndarray:
        return self.ids_

    def __len__(self) -> int:
        return int(self.vectors_.shape[0])

    def __repr__(self) -> str:
        return f"ExactIndex({len(self)} items, dim={self.dim}, metric={self.metric!r})"

    def get_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "metric": self.metric, "dim": self.dim, "n_items": len(self),
                "fingerprint": self.fingerprint, "max_chunk_mib": self.max_chunk_mib}

    # ------------------------------------------------------------ queries
    def search(self, vectors: Any, k: int, *, search_k: int | None = None) -> Neighbours:
        """The ``k`` nearest indexed items of each query vector (n_queries, d), best first.

        ``search_k`` is accepted so both indexes are interchangeable and must be None.
        """
        if search_k is not None:
            raise ValueError("search_k applies to Annoy only; ExactIndex always inspects every item")
        k = check_k(k, len(self))
        q = check_vectors(vectors, "query vectors", dim=self.dim, metric=self.metric)
        if self.metric == "angular":
            q = _unit_rows(q)
        n = len(self)
        # Candidates: a few more than k chosen on float32 scores, re-ranked on float64 distances, so
        # rounding in |x|^2 - 2 q.x cannot push a true neighbour out at the k-th place.
        n_cand = min(n, k + _RERANK_EXTRA)
        budget = self.max_chunk_mib * 2**20
        # per score: 4 bytes, 4 more for argpartition's working copy, 8 for the index array it returns
        rows = int(max(1, min(budget // (16 * n), budget // (8 * n_cand * self.dim))))
        out_pos = np.empty((len(q), k), dtype=np.int64)
        out_dist = np.empty((len(q), k), dtype=np.float32)
        base = self.vectors_
        for start in range(0, len(q), rows):
            chunk = q[start:start + rows]
            scores = chunk @ base.T                              # (c, n) float32; larger = closer
            if self.metric == "euclidean":                       # key |x|^2 - 2 q.x (|q|^2 is constant per row)
                scores *= -2.0
                scores += self._sq_norms32
            else:
                np.negative(scores, out=scores)
            if n_cand < n:
                cand = np.argpartition(scores, n_cand - 1, axis=1)[:, :n_cand]
            else:
                cand = np.broadcast_to(np.arange(n), (len(chunk), n)).copy()
            del scores
            diff = base[cand].astype(np.float64)                 # (c, n_cand, d)
            diff -= chunk[:, None, :]
            dist = np.sqrt(np.einsum("ckd,ckd->ck", diff, diff))
            del diff
            pos, dist = _stable_topk(cand, dist)
            out_pos[start:start + len(chunk)] = pos[:, :k]
            out_dist[start:start + len(chunk)] = dist[:, :k]
        return Neighbours(ids=self.ids_[out_pos], distances=out_dist, positions=out_pos)

    def query(self, vectors: Any, k: int, *, search_k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(ids (n_queries, k), distances (n_queries, k) float32)`` of :meth:`search`."""
        found = self.search(vectors, k, search_k=search_k)
        return found.ids, found.distances

    # ------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Write the vectors to ``path`` (.npy) and the metadata to ``<path>.json``, both atomically."""
        path = Path(path)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, np.ascontiguousarray(self.vectors_), allow_pickle=False)
        write_metadata(path, kind=self.kind, dim=self.dim, metric=self.metric, ids=self.ids_,
                       fingerprint=self.fingerprint)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, *, fingerprint: str | None = None, dim: int | None = None,
             mmap: bool = True) -> ExactIndex:
        """Read an index written by :meth:`save`; refuse another model's vectors or another dimension."""
        path = Path(path)
        meta = read_metadata(path, cls.kind)
        check_expected(meta, path, fingerprint, dim)
        try:
            vectors = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise ValueError(f"index file {path} is corrupt or not a .npy array: {exc}") from exc
        if vectors.ndim != 2 or vectors.shape != (meta["n_items"], meta["dim"]) or vectors.dtype != np.float32:
            raise ValueError(
                f"index file {path} holds {vectors.dtype} {vectors.shape}, its metadata says "
                f"float32 ({meta['n_items']}, {meta['dim']})"
            )
        return cls(vectors, ids_from_metadata(meta, path), meta["metric"], fingerprint=meta["fingerprint"])
