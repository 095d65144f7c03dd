"""Nearest-neighbour search over embeddings: Annoy for speed, exact NumPy search for truth.

Two indexes share one small interface (build, query, save, load, get_config):

* :class:`EmbeddingIndex` wraps an Annoy forest (approximate, fast, memory-mapped
  from disk once saved). Builds are seeded and single-threaded by default, so
  the same vectors give the same index and the same answers.
* :class:`ExactIndex` scans every vector with a batched matrix product, in
  chunks so memory stays bounded. It is the ground truth that
  :func:`annoy_recall` measures Annoy against: Annoy's recall depends strongly
  on the data, so report it next to every Annoy result.

``query`` returns ``(ids, distances)``: ``ids`` (n_queries, k) in the dtype of
the ids given at build (int64, or object for strings), ``distances`` (n_queries,
k) float32, best first. Distances are Annoy's own: ``angular`` is
``sqrt(2 - 2 cos)`` (the L2 distance of the normalised vectors), ``euclidean``
the L2 distance. A saved index is two files: the index itself and a JSON
metadata file beside it (``<path>.json``: dimension, metric, ids, the
fingerprint of the model that made the vectors, a format version); loading
refuses a mismatched model or dimension. Taught in notebook 03.

>>> idx = EmbeddingIndex.build(vectors, ids, metric="euclidean", seed=0)   # doctest: +SKIP
>>> top_ids, dists = idx.query(queries, k=10)                               # doctest: +SKIP
>>> idx.save("artifacts/shop.ann"); EmbeddingIndex.load("artifacts/shop.ann", fingerprint=fp)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fashionsim._io import atomic_path, write_text_atomic
from fashionsim._progress import progress as _progress

__all__ = [
    "METRICS", "EmbeddingIndex", "ExactIndex", "annoy_recall", "build_from_batches", "load", "metadata_path",
]

METRICS = ("angular", "euclidean")
FORMAT = "fashionsim.index"
FORMAT_VERSION = 1
_ADD_CHUNK = 4096          # rows converted and checked at a time while adding to Annoy
_MAX_LISTED = 5
_RERANK_EXTRA = 8          # exact search re-ranks k + this many float32 candidates in float64


# ---------------------------------------------------------------- validation
def _import_annoy():
    try:
        import annoy
    except ImportError as exc:  # pragma: no cover - annoy is a declared dependency
        raise ImportError(
            "fashionsim.index.EmbeddingIndex needs Annoy: `pip install annoy` (or use ExactIndex)"
        ) from exc
    return annoy


def _check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {list(METRICS)}, got {metric!r}")
    return metric


def _rows(mask: np.ndarray, offset: int = 0) -> str:
    """The first offending row numbers of a boolean mask, as text."""
    bad = np.flatnonzero(mask) + offset
    more = f" and {len(bad) - _MAX_LISTED} more" if len(bad) > _MAX_LISTED else ""
    return ", ".join(str(int(i)) for i in bad[:_MAX_LISTED]) + more


def _check_vectors(vectors: Any, name: str, *, dim: int | None = None, metric: str | None = None,
                   offset: int = 0) -> np.ndarray:
    """Return ``vectors`` as a float32 (n, d) array after checking shape, finiteness and (angular) norms.

    ``offset`` is added to row numbers in error messages (rows of a batch).
    """
    arr = np.asarray(vectors)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ValueError(f"{name} must be a numeric (n, d) array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        hint = " (one vector? pass vectors[None])" if arr.ndim == 1 else ""
        raise ValueError(f"{name} must be a 2-D (n, d) array, got shape {arr.shape}{hint}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} has dimension 0 (shape {arr.shape})")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"{name} have dimension {arr.shape[1]}, the index has dimension {dim}")
    arr = arr.astype(np.float32, copy=False)
    finite = np.isfinite(arr).all(axis=1)
    if not finite.all():
        raise ValueError(f"{name} contain NaN or infinite values at row(s) {_rows(~finite, offset)}")
    if metric == "angular":
        zero = ~np.any(arr != 0, axis=1)
        if zero.any():
            raise ValueError(
                f"{name} contain all-zero vector(s) at row(s) {_rows(zero, offset)}: "
                "the angular metric is undefined for them"
            )
    return arr


def _normalise_ids(ids: Any, n: int | None = None, *, where: str = "ids") -> np.ndarray:
    """ids as an int64 array or an object array of str; unique, no missing values."""
    if isinstance(ids, (str, bytes)) or not hasattr(ids, "__len__"):
        raise ValueError(f"{where} must be a sequence of ids, got {type(ids).__name__}")
    if isinstance(ids, (pd.Series, pd.Index)):
        arr = ids.to_numpy()
    else:
        # dtype=object: np.asarray([1, "a"]) would silently turn 1 into "1"
        arr = ids if isinstance(ids, np.ndarray) else np.array(list(ids), dtype=object)
    if arr.ndim != 1:
        raise ValueError(f"{where} must be 1-D, got shape {arr.shape}")
    if n is not None and len(arr) != n:
        raise ValueError(f"{where} has {len(arr)} entries but there are {n} vectors")
    kind = "integer" if arr.dtype.kind in "iu" else pd.api.types.infer_dtype(arr, skipna=False)
    if kind == "integer":
        if arr.dtype.kind == "u" and len(arr) and arr.max() > np.iinfo(np.int64).max:
            raise ValueError(f"{where} contains integers too large for int64")
        arr = arr.astype(np.int64)
    elif kind == "string":
        arr = arr.astype(object)
    elif len(arr) == 0:
        arr = arr.astype(np.int64)
    else:
        raise ValueError(f"{where} must be all integers or all strings, found {kind!r} values")
    index = pd.Index(arr)
    if not index.is_unique:
        dup = index[index.duplicated()].unique()[:_MAX_LISTED].tolist()
        raise ValueError(f"{where} must be unique; duplicated: {dup} (index image ids, then map them to products)")
    return arr


def _check_k(k: Any, n_items: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"k must be a positive int, got {k!r}")
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if k > n_items:
        raise ValueError(f"k={k} is larger than the number of indexed items ({n_items})")
    return k


def metadata_path(path: str | os.PathLike) -> Path:
    """The metadata file saved beside an index: ``<path>.json`` (``shop.ann`` -> ``shop.ann.json``)."""
    return Path(f"{os.fspath(path)}.json")


def _ids_to_json(ids: np.ndarray) -> list:
    return ids.tolist()


def _ids_from_json(values: list, where: str) -> np.ndarray:
    return _normalise_ids(np.array(values, dtype=object) if values else np.array([], dtype=np.int64), where=where)


def _read_metadata(path: Path, kind: str) -> dict:
    meta_file = metadata_path(path)
    if not path.is_file():
        raise FileNotFoundError(f"index file not found: {path}")
    if not meta_file.is_file():
        raise FileNotFoundError(f"index metadata not found: {meta_file} (saved beside {path.name} by .save)")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"index metadata {meta_file} is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError(f"{meta_file} is not fashionsim index metadata (no 'format': {FORMAT!r})")
    if meta.get("version") != FORMAT_VERSION:
        raise ValueError(
            f"{meta_file} has format version {meta.get('version')!r}; this fashionsim reads {FORMAT_VERSION}"
        )
    missing = [key for key in ("kind", "dim", "metric", "ids", "fingerprint", "n_items") if key not in meta]
    if missing:
        raise ValueError(f"{meta_file} lacks key(s) {missing}")
    if meta["kind"] != kind:
        raise ValueError(f"{path} holds a {meta['kind']!r} index, not {kind!r}; use fashionsim.index.load")
    if meta["metric"] not in METRICS:
        raise ValueError(f"{meta_file}: unknown metric {meta['metric']!r}")
    if len(meta["ids"]) != meta["n_items"]:
        raise ValueError(f"{meta_file}: {len(meta['ids'])} ids for {meta['n_items']} items")
    return meta


def _check_expected(meta: dict, path: Path, fingerprint: str | None, dim: int | None) -> None:
    if fingerprint is not None and meta["fingerprint"] != fingerprint:
        made_by = meta["fingerprint"] or "no recorded model"
        raise ValueError(
            f"index {path} was built from vectors of model {made_by}, not of the model given ({fingerprint}); "
            "re-embed and rebuild the index"
        )
    if dim is not None and int(meta["dim"]) != int(dim):
        raise ValueError(f"index {path} holds {meta['dim']}-dimensional vectors, expected {dim}")


def _stable_topk(positions: np.ndarray, distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort each row by (distance, position): a deterministic order among ties."""
    order = np.lexsort((positions, distances), axis=-1)
    return np.take_along_axis(positions, order, -1), np.take_along_axis(distances, order, -1)


# ---------------------------------------------------------------- exact search
class ExactIndex:
    """Exact nearest neighbours by a chunked matrix product (the ground truth for Annoy).

    Working memory is about ``max_chunk_mib`` (the queries go through in
    chunks sized to it, whatever their number); the candidates of each
    chunk are chosen by ``argpartition`` on float32 scores and then re-ranked by
    their float64 distances, so distances are accurate and ties break by
    position. Same interface as :class:`EmbeddingIndex`; taught in notebook 03.

    >>> ExactIndex.build(vectors, ids, metric="euclidean").query(queries, k=5)  # doctest: +SKIP
    """

    kind = "exact"

    def __init__(self, vectors: np.ndarray, ids: np.ndarray, metric: str, *, fingerprint: str | None = None,
                 max_chunk_mib: float = 64.0) -> None:
        self.metric = _check_metric(metric)
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
        metric = _check_metric(metric)
        arr = _check_vectors(vectors, "vectors", metric=metric)
        ids = _normalise_ids(ids, len(arr))
        if metric == "angular":
            arr = (arr / np.linalg.norm(arr.astype(np.float64), axis=1, keepdims=True)).astype(np.float32)
        else:
            arr = np.array(arr, dtype=np.float32, copy=True)   # detach from the caller's buffer
        return cls(arr, ids, metric, fingerprint=fingerprint, max_chunk_mib=max_chunk_mib)

    @property
    def dim(self) -> int:
        return int(self.vectors_.shape[1])

    def __len__(self) -> int:
        return int(self.vectors_.shape[0])

    def __repr__(self) -> str:
        return f"ExactIndex({len(self)} items, dim={self.dim}, metric={self.metric!r})"

    def get_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "metric": self.metric, "dim": self.dim, "n_items": len(self),
                "fingerprint": self.fingerprint, "max_chunk_mib": self.max_chunk_mib}

    @property
    def ids(self) -> np.ndarray:
        return self.ids_

    def query_positions(self, vectors: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`query` but returns row positions (n, k) int64 instead of ids."""
        k = _check_k(k, len(self))
        q = _check_vectors(vectors, "query vectors", dim=self.dim, metric=self.metric)
        if self.metric == "angular":
            q = (q / np.linalg.norm(q.astype(np.float64), axis=1, keepdims=True)).astype(np.float32)
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
        return out_pos, out_dist

    def query(self, vectors: Any, k: int, *, search_k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest indexed items of each query vector, best first.

        vectors: (n_queries, d). Returns ``(ids (n_queries, k), distances (n_queries, k) float32)``.
        ``search_k`` is accepted so both indexes are interchangeable and must be None.
        """
        if search_k is not None:
            raise ValueError("search_k applies to Annoy only; ExactIndex always inspects every item")
        pos, dist = self.query_positions(vectors, k)
        return self.ids_[pos], dist

    def save(self, path: str | os.PathLike) -> Path:
        """Write the vectors to ``path`` (.npy) and the metadata to ``<path>.json``, both atomically."""
        path = Path(path)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.save(fh, np.ascontiguousarray(self.vectors_), allow_pickle=False)
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "kind": self.kind, "dim": self.dim,
                "metric": self.metric, "n_items": len(self), "fingerprint": self.fingerprint,
                "file_bytes": path.stat().st_size, "ids": _ids_to_json(self.ids_)}
        write_text_atomic(metadata_path(path), json.dumps(meta))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, *, fingerprint: str | None = None, dim: int | None = None,
             mmap: bool = True) -> ExactIndex:
        """Read an index written by :meth:`save`; refuse another model's vectors or another dimension."""
        path = Path(path)
        meta = _read_metadata(path, cls.kind)
        _check_expected(meta, path, fingerprint, dim)
        try:
            vectors = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise ValueError(f"index file {path} is corrupt or not a .npy array: {exc}") from exc
        if vectors.ndim != 2 or vectors.shape != (meta["n_items"], meta["dim"]) or vectors.dtype != np.float32:
            raise ValueError(
                f"index file {path} holds {vectors.dtype} {vectors.shape}, its metadata says "
                f"float32 ({meta['n_items']}, {meta['dim']})"
            )
        ids = _ids_from_json(meta["ids"], where=f"ids in {metadata_path(path)}")
        return cls(vectors, ids, meta["metric"], fingerprint=meta["fingerprint"])


# ---------------------------------------------------------------- Annoy
class EmbeddingIndex:
    """Approximate nearest neighbours over an Annoy forest, with ids and a model fingerprint.

    Build with :meth:`build` (or :func:`build_from_batches` for streamed
    vectors); ``n_trees`` trades build time and size for recall, ``search_k``
    (nodes inspected per query; -1 = Annoy's default ``n_trees * k``) trades
    query time for recall. Seeded and built with ``n_jobs=1`` the index is
    reproducible. Taught in notebook 03.

    >>> idx = EmbeddingIndex.build(vectors, ids, metric="angular", n_trees=50, seed=0)   # doctest: +SKIP
    >>> ids, dists = idx.query(queries, k=10)                                           # doctest: +SKIP
    """

    kind = "annoy"

    def __init__(self, annoy_index: Any, ids: np.ndarray, *, dim: int, metric: str, n_trees: int, search_k: int,
                 seed: int | None, fingerprint: str | None, on_disk_path: Path | None = None) -> None:
        self._annoy = annoy_index
        self.ids_ = ids
        self.dim = int(dim)
        self.metric = metric
        self.n_trees = int(n_trees)
        self.search_k = int(search_k)
        self.seed = seed
        self.fingerprint = fingerprint
        self._on_disk_path = on_disk_path
        self.last_requeried_ = 0   # queries re-run with a full search because Annoy returned < k items

    # ------------------------------------------------------------ building
    @classmethod
    def build(cls, vectors: Any, ids: Sequence | np.ndarray, metric: str = "angular", n_trees: int = 50, *,
              search_k: int = -1, seed: int | None = 0, fingerprint: str | None = None,
              on_disk_path: str | os.PathLike | None = None, n_jobs: int = 1,
              progress: bool = False) -> EmbeddingIndex:
        """Index ``vectors`` (n, d; an array or a ``.npy`` memmap) under ``ids`` (n unique ints or strings).

        ``on_disk_path`` builds the forest in that file instead of RAM (large
        catalogs); :meth:`save` then copies it to its final place. ``n_jobs``
        other than 1 builds faster but the forest may differ run to run.
        """
        arr = np.asarray(vectors) if not isinstance(vectors, np.ndarray) else vectors
        if arr.ndim != 2:
            _check_vectors(arr, "vectors")   # raises the shape error
        n = arr.shape[0]
        if n == 0:
            raise ValueError(f"vectors is empty (shape {arr.shape})")
        ids = _normalise_ids(ids, n)
        batches = ((arr[s:s + _ADD_CHUNK], None) for s in range(0, n, _ADD_CHUNK))
        return _build(batches, ids, metric=metric, n_trees=n_trees, search_k=search_k, seed=seed,
                      fingerprint=fingerprint, on_disk_path=on_disk_path, n_jobs=n_jobs, progress=progress,
                      total=-(-n // _ADD_CHUNK))

    @classmethod
    def build_from_chunks(cls, chunks: Iterable[tuple[np.ndarray, Sequence]], *, dim: int, metric: str = "angular",
                          n_trees: int = 50, seed: int | None = 0, fingerprint: str | None = None,
                          on_disk: str | os.PathLike | None = None, search_k: int = -1, n_jobs: int = 1,
                          progress: bool = False) -> EmbeddingIndex:
        """Index ``(vectors (b, dim), ids (b,))`` chunks added in order, for indexes larger than memory.

        The answers equal :meth:`build` on the concatenated vectors and ids with
        the same ``seed`` (and ``n_trees``). Only one chunk is held at a time;
        with ``on_disk`` the forest is built in that file (Annoy's
        ``on_disk_build``) instead of RAM, and :meth:`save` copies it to its
        final place. Ids must be unique across chunks (all ints or all strings);
        empty chunks are skipped. A chunk of another dimension is refused with
        its number.

        >>> rng = np.random.default_rng(0)
        >>> vectors = rng.normal(size=(20, 4))
        >>> chunks = ((vectors[s:s + 8], range(s, min(s + 8, 20))) for s in range(0, 20, 8))
        >>> idx = EmbeddingIndex.build_from_chunks(chunks, dim=4, n_trees=5)
        >>> len(idx), idx.query(vectors[:2], k=1)[0].ravel().tolist()
        (20, [0, 1])
        """
        if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        return _build(chunks, None, metric=metric, n_trees=n_trees, search_k=search_k, seed=seed,
                      fingerprint=fingerprint, on_disk_path=on_disk, n_jobs=n_jobs, progress=progress,
                      dim=int(dim), unit="chunk")

    # ------------------------------------------------------------ queries
    def __len__(self) -> int:
        return int(self._annoy.get_n_items())

    def __repr__(self) -> str:
        return (f"EmbeddingIndex({len(self)} items, dim={self.dim}, metric={self.metric!r}, "
                f"n_trees={self.n_trees}, search_k={self.search_k})")

    @property
    def ids(self) -> np.ndarray:
        return self.ids_

    def get_config(self) -> dict[str, Any]:
        return {"kind": self.kind, "metric": self.metric, "dim": self.dim, "n_items": len(self),
                "n_trees": self.n_trees, "search_k": self.search_k, "seed": self.seed,
                "fingerprint": self.fingerprint}

    def query_positions(self, vectors: Any, k: int, *, search_k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Like :meth:`query` but returns row positions (n, k) int64 instead of ids."""
        n_items = len(self)
        k = _check_k(k, n_items)
        search_k = self.search_k if search_k is None else int(search_k)
        if search_k < -1 or search_k == 0:
            raise ValueError(f"search_k must be -1 (Annoy's default) or >= 1, got {search_k}")
        q = _check_vectors(vectors, "query vectors", dim=self.dim, metric=self.metric)
        pos = np.empty((len(q), k), dtype=np.int64)
        dist = np.empty((len(q), k), dtype=np.float32)
        get = self._annoy.get_nns_by_vector
        full = max(n_items * self.n_trees, 1) * 2     # inspects the whole forest: every item comes back
        requeried = 0
        for i, row in enumerate(q):
            items, d = get(row, k, search_k, True)
            if len(items) < k:   # Annoy can return fewer than k with a small search_k
                items, d = get(row, k, full, True)
                requeried += 1
            pos[i] = items
            dist[i] = d
        self.last_requeried_ = requeried
        return pos, dist

    def query(self, vectors: Any, k: int, *, search_k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` approximate nearest items of each query vector, best first.

        vectors: (n_queries, d). Returns ``(ids (n_queries, k), distances
        (n_queries, k) float32)``; ``search_k`` overrides the index's default
        for this call. A query for which Annoy finds fewer than ``k`` items is
        re-run over the whole forest (counted in ``last_requeried_``).
        """
        pos, dist = self.query_positions(vectors, k, search_k=search_k)
        return self.ids_[pos], dist

    # ------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike) -> Path:
        """Write the forest to ``path`` (.ann) and the metadata to ``<path>.json``, both atomically."""
        path = Path(path)
        if self._on_disk_path is not None:
            # Annoy's save is a no-op for on-disk builds: the forest already lives in that file.
            with atomic_path(path) as tmp:
                shutil.copyfile(self._on_disk_path, tmp)
        else:
            with atomic_path(path) as tmp:
                _annoy_save(self._annoy, tmp, path)
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "kind": self.kind, "dim": self.dim,
                "metric": self.metric, "n_items": len(self), "n_trees": self.n_trees, "search_k": self.search_k,
                "seed": self.seed, "fingerprint": self.fingerprint, "file_bytes": path.stat().st_size,
                "ids": _ids_to_json(self.ids_)}
        write_text_atomic(metadata_path(path), json.dumps(meta))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, *, fingerprint: str | None = None, dim: int | None = None,
             prefault: bool = False) -> EmbeddingIndex:
        """Memory-map an index written by :meth:`save`.

        Refuses (ValueError naming the file) an index built from another model's
        vectors (``fingerprint``) or of another dimension (``dim``); a missing
        file raises FileNotFoundError, a corrupt one ValueError.
        """
        annoy = _import_annoy()
        path = Path(path)
        meta = _read_metadata(path, cls.kind)
        _check_expected(meta, path, fingerprint, dim)
        size = path.stat().st_size
        if "file_bytes" in meta and size != meta["file_bytes"]:
            raise ValueError(f"index file {path} has {size} bytes, its metadata says {meta['file_bytes']}: "
                             "corrupt or replaced without its metadata")
        ann = annoy.AnnoyIndex(int(meta["dim"]), meta["metric"])
        try:
            ann.load(os.fspath(path), prefault)
        except OSError as exc:
            raise ValueError(f"index file {path} is corrupt or not an Annoy index: {exc}") from exc
        if ann.get_n_items() != meta["n_items"]:
            raise ValueError(f"index file {path} holds {ann.get_n_items()} items, its metadata {meta['n_items']}")
        ids = _ids_from_json(meta["ids"], where=f"ids in {metadata_path(path)}")
        return cls(ann, ids, dim=meta["dim"], metric=meta["metric"], n_trees=meta.get("n_trees", ann.get_n_trees()),
                   search_k=meta.get("search_k", -1), seed=meta.get("seed"), fingerprint=meta["fingerprint"])


def _open_files() -> dict[int, str]:
    """This process's open descriptors and what they point at (Linux /proc; empty elsewhere)."""
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return {}
    files = {}
    for name in names:
        try:
            files[int(name)] = os.readlink(f"/proc/self/fd/{name}")
        except (OSError, ValueError):
            continue
    return files


def _annoy_save(ann: Any, tmp: Path, path: Path) -> None:
    """``ann.save(tmp)``, closing the descriptor Annoy leaves open on a failed write.

    Annoy returns from a failed ``fwrite`` without closing its file: the
    temporary file is then deleted but its space stays taken while the
    process lives. The descriptor is found in /proc and closed, and the
    error names the final path (ENOSPC when the disk is full).
    """
    import errno

    before = _open_files()
    try:
        if not ann.save(os.fspath(tmp)):
            raise OSError("Annoy returned failure")
    except OSError as exc:
        target = os.fspath(tmp)
        for fd, name in _open_files().items():
            if fd not in before and name.split(" (deleted)")[0] == target:
                with contextlib.suppress(OSError):
                    os.close(fd)
        text = str(exc)
        code = exc.errno or (errno.ENOSPC if "No space left" in text or "(28)" in text else errno.EIO)
        raise OSError(code, f"could not save the Annoy index ({text})", os.fspath(path)) from exc


def _build(batches: Iterable[tuple[Any, Any]], ids: np.ndarray | None, *, metric: str, n_trees: int,
           search_k: int, seed: int | None, fingerprint: str | None, on_disk_path: str | os.PathLike | None,
           n_jobs: int, progress: bool, total: int | None = None, dim: int | None = None,
           unit: str = "batch") -> EmbeddingIndex:
    """Add every batch of vectors to a fresh Annoy index, then build it; ids from the batches when ``ids`` is None.

    ``dim`` given: the index is made before the first batch and every batch must have that dimension.
    ``unit`` names a batch in error messages ("batch" or "chunk").
    """
    annoy = _import_annoy()
    metric = _check_metric(metric)
    if isinstance(n_trees, bool) or not isinstance(n_trees, (int, np.integer)) or n_trees < 1:
        raise ValueError(f"n_trees must be a positive int, got {n_trees!r}")
    if search_k < -1 or search_k == 0:
        raise ValueError(f"search_k must be -1 (Annoy's default) or >= 1, got {search_k}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be -1 or >= 1, got {n_jobs}")
    disk = Path(on_disk_path) if on_disk_path is not None else None

    def new_index(d: int) -> Any:
        made = annoy.AnnoyIndex(d, metric)
        if seed is not None:
            made.set_seed(int(seed))
        if disk is not None:
            disk.parent.mkdir(parents=True, exist_ok=True)
            made.on_disk_build(os.fspath(disk))
        return made

    ann = None if dim is None else new_index(dim)
    n = 0
    batch_ids: list[np.ndarray] = []
    for b, (vectors, vids) in enumerate(_progress(batches, enabled=progress, total=total, desc="index")):
        arr = np.asarray(vectors)
        if arr.ndim != 2:
            raise ValueError(f"{unit} {b}: vectors must be a 2-D (n, d) array, got shape {arr.shape}")
        if len(arr) == 0:
            continue
        if ann is None:
            dim = int(arr.shape[1])
            ann = new_index(dim)
        arr = _check_vectors(arr, f"vectors of {unit} {b}" if ids is None else "vectors", dim=dim, metric=metric,
                             offset=0 if ids is None else n)
        if ids is None:
            batch_ids.append(_normalise_ids(vids, len(arr), where=f"ids of {unit} {b}"))
        for i, row in enumerate(arr):
            ann.add_item(n + i, row)
        n += len(arr)
    if n == 0:
        raise ValueError(f"no vectors to index: every {unit} was empty")
    if ids is None:
        ids = _normalise_ids(np.concatenate(batch_ids) if all(a.dtype.kind == "i" for a in batch_ids)
                             else np.concatenate([a.astype(object) for a in batch_ids]), n)
    elif len(ids) != n:
        raise ValueError(f"ids has {len(ids)} entries but there are {n} vectors")
    ann.build(int(n_trees), n_jobs=int(n_jobs))
    return EmbeddingIndex(ann, ids, dim=dim, metric=metric, n_trees=int(n_trees), search_k=int(search_k),
                          seed=None if seed is None else int(seed), fingerprint=fingerprint, on_disk_path=disk)


def build_from_batches(batches: Iterable[tuple[Any, Sequence]], metric: str = "angular", n_trees: int = 50, *,
                       search_k: int = -1, seed: int | None = 0, fingerprint: str | None = None,
                       on_disk_path: str | os.PathLike | None = None, n_jobs: int = 1,
                       progress: bool = False) -> EmbeddingIndex:
    """Build an :class:`EmbeddingIndex` from an iterable of ``(vectors (b, d), ids (b,))`` batches.

    The batches are added one by one, so a catalog's embeddings never need to
    sit in memory at once (with ``on_disk_path`` the forest doesn't either).
    Ids must be unique across all batches.

    >>> build_from_batches(((model(x), ids) for x, ids in stream), metric="euclidean")   # doctest: +SKIP
    """
    return _build(batches, None, metric=metric, n_trees=n_trees, search_k=search_k, seed=seed,
                  fingerprint=fingerprint, on_disk_path=on_disk_path, n_jobs=n_jobs, progress=progress)


def load(path: str | os.PathLike, *, fingerprint: str | None = None, dim: int | None = None
         ) -> EmbeddingIndex | ExactIndex:
    """Load a saved index of either kind (read from its metadata file)."""
    path = Path(path)
    meta_file = metadata_path(path)
    if not meta_file.is_file():
        if not path.is_file():
            raise FileNotFoundError(f"index file not found: {path}")
        raise FileNotFoundError(f"index metadata not found: {meta_file} (saved beside {path.name} by .save)")
    try:
        kind = json.loads(meta_file.read_text(encoding="utf-8")).get("kind")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as exc:
        raise ValueError(f"index metadata {meta_file} is not valid JSON metadata: {exc}") from exc
    classes = {EmbeddingIndex.kind: EmbeddingIndex, ExactIndex.kind: ExactIndex}
    if kind not in classes:
        raise ValueError(f"{meta_file}: unknown index kind {kind!r}")
    return classes[kind].load(path, fingerprint=fingerprint, dim=dim)


# ---------------------------------------------------------------- Annoy vs exact
def annoy_recall(annoy_index: EmbeddingIndex, exact_index: ExactIndex, queries: Any, k: int = 10, *,
                 search_k: int | None = None, depth: int | None = None) -> float:
    """Fraction of the exact top-``k`` neighbours that Annoy also returns in its top ``k`` (mean over queries).

    Both indexes must hold the same ids (in the same order). ``depth`` (>= k)
    asks Annoy for that many neighbours and keeps its first ``k``, as a
    recall@K evaluation that queries the top 100 once does. 1.0 means Annoy's
    answers equal exact search's; report this next to every Annoy result.

    >>> annoy_recall(forest, ExactIndex.build(vectors, ids, "angular"), queries, k=10)   # doctest: +SKIP
    """
    if len(annoy_index) != len(exact_index) or not np.array_equal(annoy_index.ids, exact_index.ids):
        raise ValueError("annoy_index and exact_index must index the same ids in the same order")
    if annoy_index.metric != exact_index.metric:
        raise ValueError(f"metrics differ: annoy {annoy_index.metric!r}, exact {exact_index.metric!r}")
    k = _check_k(k, len(exact_index))
    depth = k if depth is None else _check_k(depth, len(exact_index))
    if depth < k:
        raise ValueError(f"depth ({depth}) must be >= k ({k})")
    approx, _ = annoy_index.query_positions(queries, depth, search_k=search_k)
    exact, _ = exact_index.query_positions(queries, k)
    n = len(exact_index)
    rows = np.arange(len(exact))[:, None]
    found = np.isin(rows * n + exact, rows * n + approx[:, :k])   # (n_queries, k): exact neighbour also in Annoy's
    return float(found.mean())
