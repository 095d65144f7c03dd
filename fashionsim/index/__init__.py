"""Nearest-neighbour search over embeddings: Annoy for speed, exact NumPy search for truth.

Two indexes implement one small protocol, :class:`SearchIndex` (build,
search / query, save, load, get_config), one file each:

* :class:`EmbeddingIndex` (``annoy_index.py``) wraps an Annoy forest
  (approximate, fast, memory-mapped from disk once saved). Builds are seeded
  and single-threaded by default, so the same vectors give the same index and
  the same answers; :meth:`EmbeddingIndex.build_from_chunks` builds from
  chunks of vectors, on disk if asked, for indexes larger than memory.
* :class:`ExactIndex` (``exact.py``) scans every vector with a batched matrix
  product, in chunks so memory stays bounded. It is the ground truth that
  :func:`annoy_recall` measures Annoy against: Annoy's recall depends strongly
  on the data, so report it next to every Annoy result.

``search`` returns a :class:`Neighbours` (``ids``, ``distances``,
``positions``, ``n_requeried``); ``query`` returns its ``(ids, distances)``:
``ids`` (n_queries, k) in the dtype of the ids given at build (int64, or
object for strings), ``distances`` (n_queries, k) float32, best first.
Distances are Annoy's own: ``angular`` is ``sqrt(2 - 2 cos)`` (the L2 distance
of the normalised vectors), ``euclidean`` the L2 distance. A saved index is two
files: the index itself and a JSON metadata file beside it (``<path>.json``:
dimension, metric, ids, the fingerprint of the model that made the vectors, a
format version); loading refuses a mismatched model or dimension. Taught in
notebook 03.

>>> import numpy as np
>>> vectors = np.random.default_rng(0).normal(size=(100, 8))
>>> forest = EmbeddingIndex.build(vectors, range(100), metric="euclidean", n_trees=10, seed=0)
>>> exact = ExactIndex.build(vectors, range(100), metric="euclidean")
>>> exact.query(vectors[:3], k=1)[0].ravel().tolist()
[0, 1, 2]
>>> isinstance(forest, SearchIndex), annoy_recall(forest, exact, vectors[:10], k=5, search_k=10_000)
(True, 1.0)
"""

from fashionsim.index._checks import METRICS
from fashionsim.index._metadata import FORMAT, FORMAT_VERSION, metadata_path
from fashionsim.index.annoy_index import EmbeddingIndex, build_from_batches
from fashionsim.index.base import Neighbours, SearchIndex
from fashionsim.index.exact import ExactIndex
from fashionsim.index.loading import load
from fashionsim.index.recall import annoy_recall, overlap

__all__ = [
    "FORMAT", "FORMAT_VERSION", "METRICS", "EmbeddingIndex", "ExactIndex", "Neighbours", "SearchIndex",
    "annoy_recall", "build_from_batches", "load", "metadata_path", "overlap",
]
