"""Approximate nearest neighbours over an Annoy forest: seeded builds, streamed builds, memory-mapped loads."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fashionsim._io import atomic_path
from fashionsim._progress import progress as _progress
from fashionsim.index._annoy_files import annoy_save, import_annoy
from fashionsim.index._checks import (
    annoy_seed, check_k, check_metric, check_search_k, check_vectors, normalise_ids,
)
from fashionsim.index._metadata import check_expected, ids_from_metadata, read_metadata, write_metadata
from fashionsim.index.base import Neighbours

__all__ = ["EmbeddingIndex", "build_from_batches"]

Seed = int | np.random.Generator | None
_ADD_CHUNK = 4096          # rows converted and checked at a time while adding to Annoy


class EmbeddingIndex:
    """Approximate nearest neighbours over an Annoy forest, with ids and a model fingerprint.

    Build with :meth:`build` (or :meth:`build_from_chunks` for vectors that
    come in chunks); ``n_trees`` trades build time and size for recall,
    ``search_k`` (nodes inspected per query; -1 = Annoy's default
    ``n_trees * k``) trades query time for recall. Seeded and built with
    ``n_jobs=1`` the index is reproducible. A saved index is memory-mapped
    when loaded. Taught in notebook 03.

    >>> vectors = np.random.default_rng(0).normal(size=(50, 8))
    >>> idx = EmbeddingIndex.build(vectors, [f"img{i}" for i in range(50)], metric="angular", n_trees=10, seed=0)
    >>> ids, distances = idx.query(vectors[:2], k=3)
    >>> ids[:, 0].tolist(), ids.shape, distances.dtype
    (['img0', 'img1'], (2, 3), dtype('float32'))
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
        #: Deprecated: the ``n_requeried`` of the last search, kept for old callers; read ``search(...).n_requeried``.
        self.last_requeried_ = 0

    # ------------------------------------------------------------ building
    @classmethod
    def build(cls, vectors: Any, ids: Sequence | np.ndarray, metric: str = "angular", n_trees: int = 50, *,
              search_k: int = -1, seed: Seed = 0, fingerprint: str | None = None,
              on_disk_path: str | os.PathLike | None = None, n_jobs: int = 1,
              progress: bool = False) -> EmbeddingIndex:
        """Index ``vectors`` (n, d; an array or a ``.npy`` memmap) under ``ids`` (n unique ints or strings).

        ``on_disk_path`` builds the forest in that file instead of RAM (large
        catalogs); :meth:`save` then copies it to its final place. ``n_jobs``
        other than 1 builds faster but the forest may differ run to run.
        """
        arr = np.asarray(vectors) if not isinstance(vectors, np.ndarray) else vectors
        if arr.ndim != 2:
            check_vectors(arr, "vectors")   # raises the shape error
        n = arr.shape[0]
        if n == 0:
            raise ValueError(f"vectors is empty (shape {arr.shape})")
        ids = normalise_ids(ids, n)
        batches = ((arr[s:s + _ADD_CHUNK], None) for s in range(0, n, _ADD_CHUNK))
        return _build(batches, ids, metric=metric, n_trees=n_trees, search_k=search_k, seed=seed,
                      fingerprint=fingerprint, on_disk_path=on_disk_path, n_jobs=n_jobs, progress=progress,
                      total=-(-n // _ADD_CHUNK))

    @classmethod
    def build_from_chunks(cls, chunks: Iterable[tuple[np.ndarray, Sequence]], *, dim: int, metric: str = "angular",
                          n_trees: int = 50, seed: Seed = 0, fingerprint: str | None = None,
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

    def search(self, vectors: Any, k: int, *, search_k: int | None = None) -> Neighbours:
        """The ``k`` approximate nearest items of each query vector (n_queries, d), best first.

        ``search_k`` overrides the index's default for this call. A query for
        which Annoy finds fewer than ``k`` items is re-run over the whole forest
        (counted in the result's ``n_requeried``).
        """
        n_items = len(self)
        k = check_k(k, n_items)
        search_k = check_search_k(self.search_k if search_k is None else int(search_k))
        q = check_vectors(vectors, "query vectors", dim=self.dim, metric=self.metric)
        pos = np.empty((len(q), k), dtype=np.int64)
        dist = np.empty((len(q), k), dtype=np.float32)
        get = self._annoy.get_nns_by_vector
        full = max(n_items * self.n_trees, 1) * 2     # inspects the whole forest: every item comes back
        requeried = 0
        for i, row in enumerate(q):                    # Annoy answers one query vector per call
            items, d = get(row, k, search_k, True)
            if len(items) < k:   # Annoy can return fewer than k with a small search_k
                items, d = get(row, k, full, True)
                requeried += 1
            pos[i] = items
            dist[i] = d
        self.last_requeried_ = requeried
        return Neighbours(ids=self.ids_[pos], distances=dist, positions=pos, n_requeried=requeried)

    def query(self, vectors: Any, k: int, *, search_k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(ids (n_queries, k), distances (n_queries, k) float32)`` of :meth:`search`.

        Distances are Annoy's own: ``angular`` is ``sqrt(2 - 2 cos)``, ``euclidean`` the L2 distance.
        """
        found = self.search(vectors, k, search_k=search_k)
        return found.ids, found.distances

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
                annoy_save(self._annoy, tmp, path)
        write_metadata(path, kind=self.kind, dim=self.dim, metric=self.metric, ids=self.ids_,
                       fingerprint=self.fingerprint, n_trees=self.n_trees, search_k=self.search_k, seed=self.seed)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike, *, fingerprint: str | None = None, dim: int | None = None,
             prefault: bool = False) -> EmbeddingIndex:
        """Memory-map an index written by :meth:`save`.

        Refuses (ValueError naming the file) an index built from another model's
        vectors (``fingerprint``) or of another dimension (``dim``); a missing
        file raises FileNotFoundError, a corrupt one ValueError.
        """
        annoy = import_annoy()
        path = Path(path)
        meta = read_metadata(path, cls.kind)
        check_expected(meta, path, fingerprint, dim)
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
        return cls(ann, ids_from_metadata(meta, path), dim=meta["dim"], metric=meta["metric"],
                   n_trees=meta.get("n_trees", ann.get_n_trees()), search_k=meta.get("search_k", -1),
                   seed=meta.get("seed"), fingerprint=meta["fingerprint"])


def _build(batches: Iterable[tuple[Any, Any]], ids: np.ndarray | None, *, metric: str, n_trees: int,
           search_k: int, seed: Seed, fingerprint: str | None, on_disk_path: str | os.PathLike | None,
           n_jobs: int, progress: bool, total: int | None = None, dim: int | None = None,
           unit: str = "batch") -> EmbeddingIndex:
    """Add every batch of vectors to a fresh Annoy index, then build it; ids from the batches when ``ids`` is None.

    ``dim`` given: the index is made before the first batch and every batch must have that dimension.
    ``unit`` names a batch in error messages ("batch" or "chunk").
    """
    annoy = import_annoy()
    metric = check_metric(metric)
    if isinstance(n_trees, bool) or not isinstance(n_trees, (int, np.integer)) or n_trees < 1:
        raise ValueError(f"n_trees must be a positive int, got {n_trees!r}")
    search_k = check_search_k(search_k)
    seed = annoy_seed(seed)
    if n_jobs == 0 or n_jobs < -1:
        raise ValueError(f"n_jobs must be -1 or >= 1, got {n_jobs}")
    disk = Path(on_disk_path) if on_disk_path is not None else None

    def new_index(d: int) -> Any:
        made = annoy.AnnoyIndex(d, metric)
        if seed is not None:
            made.set_seed(seed)
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
        arr = check_vectors(arr, f"vectors of {unit} {b}" if ids is None else "vectors", dim=dim, metric=metric,
                            offset=0 if ids is None else n)
        if ids is None:
            batch_ids.append(normalise_ids(vids, len(arr), where=f"ids of {unit} {b}"))
        for i, row in enumerate(arr):                   # Annoy adds one item per call
            ann.add_item(n + i, row)
        n += len(arr)
    if n == 0:
        raise ValueError(f"no vectors to index: every {unit} was empty")
    if ids is None:
        ids = normalise_ids(np.concatenate(batch_ids) if all(a.dtype.kind == "i" for a in batch_ids)
                            else np.concatenate([a.astype(object) for a in batch_ids]), n)
    elif len(ids) != n:
        raise ValueError(f"ids has {len(ids)} entries but there are {n} vectors")
    ann.build(int(n_trees), n_jobs=int(n_jobs))
    return EmbeddingIndex(ann, ids, dim=dim, metric=metric, n_trees=int(n_trees), search_k=search_k,
                          seed=seed, fingerprint=fingerprint, on_disk_path=disk)


def build_from_batches(batches: Iterable[tuple[Any, Sequence]], metric: str = "angular", n_trees: int = 50, *,
                       search_k: int = -1, seed: Seed = 0, fingerprint: str | None = None,
                       on_disk_path: str | os.PathLike | None = None, n_jobs: int = 1,
                       progress: bool = False) -> EmbeddingIndex:
    """Build an :class:`EmbeddingIndex` from an iterable of ``(vectors (b, d), ids (b,))`` batches.

    The dimension is read from the first non-empty batch; otherwise the same as
    :meth:`EmbeddingIndex.build_from_chunks`, which new code should call.

    >>> vectors = np.eye(6)
    >>> len(build_from_batches([(vectors[:4], range(4)), (vectors[4:], range(4, 6))], n_trees=2))
    6
    """
    return _build(batches, None, metric=metric, n_trees=n_trees, search_k=search_k, seed=seed,
                  fingerprint=fingerprint, on_disk_path=on_disk_path, n_jobs=n_jobs, progress=progress)
