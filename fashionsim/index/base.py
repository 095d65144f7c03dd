"""What every index is: the :class:`SearchIndex` protocol and the :class:`Neighbours` it returns.

An index is built from vectors and their ids, searched for the ``k`` nearest
items of query vectors, saved beside a JSON metadata file, loaded again, and
describes itself with ``get_config``. ``search`` returns a :class:`Neighbours`
that carries everything a caller or a metric needs (ids, distances, row
positions, how many queries were re-run); nothing is left behind on the index.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

__all__ = ["Neighbours", "SearchIndex"]


@dataclasses.dataclass(frozen=True)
class Neighbours:
    """The ``k`` nearest indexed items of each query vector, best first.

    ``ids`` (n_queries, k) in the dtype of the ids given at build (int64, or
    object for strings); ``distances`` (n_queries, k) float32; ``positions``
    (n_queries, k) int64 row numbers of the items in the index;
    ``n_requeried``: queries Annoy answered with fewer than ``k`` items and
    that were re-run over the whole forest (always 0 for exact search).

    >>> from fashionsim.index import ExactIndex
    >>> found = ExactIndex.build([[0.0, 1.0], [1.0, 0.0]], ["a", "b"], "euclidean").search([[0.9, 0.1]], k=1)
    >>> found.ids.tolist(), found.positions.tolist(), found.n_requeried
    ([['b']], [[1]], 0)
    """

    ids: np.ndarray
    distances: np.ndarray
    positions: np.ndarray
    n_requeried: int = 0

    def __len__(self) -> int:
        return int(self.positions.shape[0])

    @property
    def k(self) -> int:
        """Neighbours per query."""
        return int(self.positions.shape[1])


@runtime_checkable
class SearchIndex(Protocol):
    """Nearest-neighbour search over vectors with ids: build, search / query, save, load, get_config.

    :class:`~fashionsim.index.ExactIndex` (NumPy, exact) and
    :class:`~fashionsim.index.EmbeddingIndex` (Annoy, approximate) implement it.
    """

    kind: ClassVar[str]
    metric: str
    fingerprint: str | None

    @classmethod
    def build(cls, vectors: Any, ids: Sequence | np.ndarray, metric: str = "angular", **options: Any
              ) -> SearchIndex: ...

    @property
    def ids(self) -> np.ndarray: ...

    @property
    def dim(self) -> int: ...

    def __len__(self) -> int: ...

    def search(self, vectors: Any, k: int, *, search_k: int | None = None) -> Neighbours: ...

    def query(self, vectors: Any, k: int, *, search_k: int | None = None) -> tuple[np.ndarray, np.ndarray]: ...

    def save(self, path: str | os.PathLike) -> Path: ...

    @classmethod
    def load(cls, path: str | os.PathLike, *, fingerprint: str | None = None, dim: int | None = None
             ) -> SearchIndex: ...

    def get_config(self) -> dict[str, Any]: ...
