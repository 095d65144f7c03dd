"""Item pictures decoded once into a memory-mapped file, for catalogs too large to hold in memory."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fashionsim.recommend.scoring import embed_array

__all__ = ["PictureCache", "embed_cache"]

logger = logging.getLogger("fashionsim.recommend.training")


class PictureCache:
    """Every item's picture decoded once, streamed from the files, into a float32 ``.npy`` file read by memory map.

    ``cache[rows]`` gathers pictures (rows sorted: sequential reads); the operating
    system keeps the hot pages, the process holds only the batch it asked for.
    Values are exactly those of ``images.dataset`` (float32 in [0, 1]). The file is
    n_items × s² × 3 × 4 bytes (25,000 items at 48 px: 691 MB) in ``folder``
    (default: a temporary folder, removed by :meth:`close`).
    """

    def __init__(self, paths: Sequence[str], size: int, folder: str | os.PathLike | None = None,
                 batch_size: int = 256) -> None:
        import tempfile

        from fashionsim import images

        self._tmp = tempfile.TemporaryDirectory(prefix="fashionsim-pictures-") if folder is None else None
        where = Path(self._tmp.name if folder is None else folder)
        where.mkdir(parents=True, exist_ok=True)
        self.path = where / f"pictures_{int(size)}px_{len(paths)}.npy"
        started = time.perf_counter()
        out = np.lib.format.open_memmap(self.path, mode="w+", dtype=np.float32,
                                        shape=(len(paths), int(size), int(size), 3))
        k = 0
        for batch in images.dataset(list(paths), int(size), batch_size):
            batch = np.asarray(batch)
            out[k:k + len(batch)] = batch
            k += len(batch)
        out.flush()
        del out
        if k != len(paths):
            raise RuntimeError(f"decoded {k} item pictures, expected {len(paths)}")
        self.array = np.load(self.path, mmap_mode="r")
        self.seconds = time.perf_counter() - started
        logger.info("decoded %d item pictures at %d px into %s in %.1f s", len(paths), size, self.path, self.seconds)

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, rows) -> np.ndarray:
        return np.asarray(self.array[rows])

    def close(self) -> None:
        self.array = None
        if self._tmp is not None:
            self._tmp.cleanup()


def embed_cache(model, cache: PictureCache, batch_size: int = 256) -> np.ndarray:
    """``model`` over every cached item picture, ``batch_size`` pictures read at a time."""
    return np.concatenate([embed_array(model, cache[k:k + batch_size], batch_size)
                           for k in range(0, len(cache), batch_size)])
