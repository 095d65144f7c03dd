"""Load a saved index of either kind, read from the metadata file beside it."""

from __future__ import annotations

import os
from pathlib import Path

from fashionsim.index._metadata import metadata_path, read_kind
from fashionsim.index.annoy_index import EmbeddingIndex
from fashionsim.index.exact import ExactIndex

__all__ = ["load"]

KINDS = {EmbeddingIndex.kind: EmbeddingIndex, ExactIndex.kind: ExactIndex}


def load(path: str | os.PathLike, *, fingerprint: str | None = None, dim: int | None = None
         ) -> EmbeddingIndex | ExactIndex:
    """Load a saved index of either kind; refuses another model's vectors (``fingerprint``) or ``dim``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     saved = ExactIndex.build([[1.0, 0.0], [0.0, 1.0]], [7, 8], "angular").save(Path(tmp) / "shop.npy")
    ...     load(saved)
    ExactIndex(2 items, dim=2, metric='angular')
    """
    path = Path(path)
    kind = read_kind(path)
    if kind not in KINDS:
        raise ValueError(f"{metadata_path(path)}: unknown index kind {kind!r}")
    return KINDS[kind].load(path, fingerprint=fingerprint, dim=dim)
