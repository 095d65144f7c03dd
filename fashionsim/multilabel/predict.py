"""What a trained tag classifier gives: tag probabilities, tags, image vectors, and their nearest neighbours."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from fashionsim._compat import renamed
from fashionsim.data.catalog import Catalog

__all__ = ["predict_proba", "predict_tags", "image_vectors", "cosine_top_k"]


@renamed(size="image_size")
def predict_proba(model, paths: Sequence[str | os.PathLike], image_size: int, *, batch_size: int = 64,
                  progress: bool = True) -> np.ndarray:
    """Tag probabilities (n, n_tags) float32 of the images at ``paths``, streamed in batches."""
    from fashionsim.embed import embed_images

    return embed_images(model, paths, image_size, batch_size=batch_size, progress=progress)


@renamed(size="image_size")
def predict_tags(model, paths: Sequence[str | os.PathLike], image_size: int, classes: Sequence[str], *,
                 top_k: int | None = 3, threshold: float | None = None, batch_size: int = 64,
                 progress: bool = True) -> list[list[str]]:
    """Each image's tags, most probable first (see :func:`fashionsim.tags.decode_tags`)."""
    from fashionsim.tags import decode_tags

    proba = predict_proba(model, paths, image_size, batch_size=batch_size, progress=progress)
    return decode_tags(proba, classes, top_k=top_k, threshold=threshold)


@renamed(size="image_size")
def image_vectors(model, cat: Catalog, image_size: int, *, image_ids: Sequence | None = None, batch_size: int = 64,
                  out: str | os.PathLike | None = None, progress: bool = True) -> np.ndarray:
    """The backbone's pooled vector (n, d) float32 of every image of ``cat`` (or of ``image_ids``), streamed.

    ``model`` is a classifier from :func:`~fashionsim.multilabel.build_multilabel_classifier` (cut
    before its head) or any model whose output is already a vector. With
    ``out`` (a ``.npy`` path) the vectors are written incrementally to disk.
    """
    from fashionsim.embed import embed_images
    from fashionsim.models.multilabel import FEATURES_LAYER, image_vector_model

    names = {layer.name for layer in model.layers}
    vector_model = image_vector_model(model) if FEATURES_LAYER in names else model
    return embed_images(vector_model, cat.image_paths(image_ids), image_size, batch_size=batch_size, out=out,
                        progress=progress)


def cosine_top_k(queries: np.ndarray, vectors: np.ndarray, k: int, *, exclude: Sequence[int] | None = None,
                 chunk_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``vectors`` most cosine-similar to each query, best first.

    ``queries`` (q, d), ``vectors`` (n, d); ``exclude`` (q,) optional row of
    ``vectors`` to leave out per query (e.g. the query itself; -1 for none).
    Returns ``(indices (q, k) int64, similarities (q, k) float32)``. Queries are
    processed ``chunk_size`` at a time: memory is O(chunk_size × n). A zero
    vector has similarity 0 to everything.

    The search is :class:`fashionsim.index.ExactIndex` (the package's one exact
    search) over the unit rows with one extra coordinate, 0 for a non-zero row
    and 1 for a zero row, so every indexed row has norm 1 and the euclidean
    distance of a unit query is sqrt(2 − 2 cos): nearest first is most similar
    first, zero rows included.

    >>> v = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    >>> idx, sim = cosine_top_k(v[:2], v, k=1, exclude=np.arange(2))
    >>> idx.tolist(), [round(float(s), 2) for s in sim[:, 0]]
    ([[1], [0]], [0.8, 0.8])
    """
    from fashionsim.index import ExactIndex

    q = np.asarray(queries, dtype=np.float32)
    v = np.asarray(vectors, dtype=np.float32)
    if q.ndim != 2 or v.ndim != 2 or q.shape[1] != v.shape[1]:
        raise ValueError(f"queries (q, d) and vectors (n, d) must share d, got {q.shape} and {v.shape}")
    n_valid = len(v) - (1 if exclude is not None else 0)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n_valid:
        raise ValueError(f"k must be an int in [1, {n_valid}], got {k!r}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if exclude is not None:
        exclude = np.asarray(exclude, dtype=np.int64)
        if exclude.shape != (len(q),) or (exclude >= len(v)).any() or (exclude < -1).any():
            raise ValueError(f"exclude must be ({len(q)},) row indices of vectors or -1")

    def unit_plus_one(x: np.ndarray, extra: bool) -> tuple[np.ndarray, np.ndarray]:
        norm = np.linalg.norm(x.astype(np.float64), axis=1, keepdims=True)
        lifted = np.zeros((len(x), x.shape[1] + 1), dtype=np.float32)
        lifted[:, :-1] = x / np.where(norm > 0, norm, 1.0)
        if extra:
            lifted[:, -1] = norm[:, 0] == 0
        return lifted, norm[:, 0] > 0

    gallery, _ = unit_plus_one(v, extra=True)
    lifted, nonzero = unit_plus_one(q, extra=False)
    n_search = k + (exclude is not None)
    index = ExactIndex.build(gallery, np.arange(len(v)), metric="euclidean",
                             max_chunk_mib=max(chunk_size * 16 * len(v) / 2**20, 1e-6))
    found = index.search(lifted, n_search)
    positions, distances = found.positions, found.distances
    if exclude is not None:
        # drop the excluded row where it was found, else the last (the (k+1)-th) candidate
        drop = positions == exclude[:, None]
        drop[~drop.any(axis=1), -1] = True
        keep = ~drop
        positions = positions[keep].reshape(len(q), k)
        distances = distances[keep].reshape(len(q), k)
    sims = np.where(nonzero[:, None], 1.0 - np.square(distances.astype(np.float64)) / 2.0, 0.0)
    return positions.astype(np.int64, copy=False), sims.astype(np.float32)
