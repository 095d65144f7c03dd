"""Sharded embeddings: one catalog cut into N deterministic shares, the shard files checked and streamed back.

``fashionsim embed --shard K/N`` embeds share K of the n selected images;
``fashionsim index a.npy b.npy ...`` merges the shares into one index. Pure
NumPy and JSON: no TensorFlow, so merging runs anywhere.

**Which rows a shard holds.** Shard K of N holds the contiguous block of rows
``[(K-1)*n // N, K*n // N)`` of the selected images *in catalog order* (the
order an unsharded ``embed`` writes). It depends only on the catalog files,
never on the machine, the process or a hash seed; the N blocks tile the
selection, so shards in K order, concatenated, are exactly the unsharded
file, and the merged index equals the unsharded one for the same seed.

**What a shard file records** (beside the ``.npy``, in the ``.json`` sidecar
that ``embed`` writes): ``ids`` and ``products`` of its rows, the model
``fingerprint``, ``shard`` ("K/N"), ``first_row``, ``n_total`` (size of the
whole selection) and ``ids_digest`` (:func:`ids_digest` of the whole
selection's ids). :func:`check_shards` refuses, naming the file: another
model, another dimension, another selection (count or digest), a shard given
twice, a shard missing, overlapping ids, or a block of the wrong size; and at
the end it checks that the concatenated ids hash to the recorded digest.
An embeddings file without ``shard`` (plain ``embed``) is shard 1/1.

>>> parse_shard("2/3"), shard_bounds(10, 2, 3)
((2, 3), (3, 6))
>>> [shard_bounds(10, k, 3) for k in (1, 2, 3)]
[(0, 3), (3, 6), (6, 10)]
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from fashionsim._io import atomic_path, write_text_atomic

__all__ = [
    "NpyWriter", "ShardFile", "ShardSet", "check_shards", "ids_digest", "iter_blocks", "parse_shard",
    "read_npy_header", "read_shard", "shard_bounds", "write_embeddings",
]

_SHARD_RE = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")
BLOCK_ROWS = 16_384          # rows read from a shard at a time while streaming (8 MiB at 128-d float32)


# ------------------------------------------------------------------ which rows
def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with 1 <= K <= N; ValueError naming ``--shard`` otherwise.

    >>> parse_shard("1/1")
    (1, 1)
    """
    match = _SHARD_RE.fullmatch(str(text))
    if match is None:
        raise ValueError(f"--shard must be K/N (shard K of N, e.g. --shard 1/4), got {text!r}")
    k, n = int(match.group(1)), int(match.group(2))
    if n < 1 or not 1 <= k <= n:
        raise ValueError(f"--shard K/N needs 1 <= K <= N, got {text!r} (shards are numbered 1..N, "
                         f"e.g. --shard 1/{max(n, 1)})")
    return k, n


def shard_bounds(n_total: int, k: int, n_shards: int) -> tuple[int, int]:
    """Rows ``[start, stop)`` of shard ``k`` (1-based) of ``n_shards`` over ``n_total`` rows: contiguous blocks."""
    if not 1 <= k <= n_shards:
        raise ValueError(f"shard {k}/{n_shards}: K must be in 1..{n_shards}")
    return (k - 1) * n_total // n_shards, k * n_total // n_shards


def _json_ids(ids: Iterable) -> list:
    return [i.item() if hasattr(i, "item") else i for i in ids]


def ids_digest(ids: Iterable) -> str:
    """SHA-256 (hex) of an id list in its order, ints and strings as JSON keeps them.

    >>> ids_digest(["a", "b"]) == ids_digest(["a", "b"]) != ids_digest(["b", "a"])
    True
    """
    return hashlib.sha256(json.dumps(_json_ids(ids), separators=(",", ":")).encode()).hexdigest()


# ------------------------------------------------------------------ the .npy format, streamed
class NpyWriter:
    """Append float32 rows to a ``.npy`` file of known shape with plain writes, then fsync.

    The header is written first; a short or failed write raises ``OSError``
    (ENOSPC on a full disk) instead of the SIGBUS a memory-mapped write gets.
    """

    def __init__(self, handle, shape: tuple[int, int]) -> None:
        self._handle, self.shape, self.rows = handle, shape, 0
        header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)), "fortran_order": False,
                  "shape": shape}
        np.lib.format.write_array_header_1_0(handle, header)

    def write(self, block: np.ndarray) -> None:
        block = np.ascontiguousarray(block, dtype=np.float32)
        if block.ndim != 2 or block.shape[1] != self.shape[1] or self.rows + len(block) > self.shape[0]:
            raise RuntimeError(f"block of shape {block.shape} does not fit rows {self.rows}.. of {self.shape}")
        self._handle.write(block.tobytes())
        self.rows += len(block)

    def close(self) -> None:
        if self.rows != self.shape[0]:
            raise RuntimeError(f"wrote {self.rows} rows, expected {self.shape[0]}")
        self._handle.flush()
        os.fsync(self._handle.fileno())   # a delayed ENOSPC surfaces here, before the rename


def write_embeddings(path: str | os.PathLike, blocks: Iterable[np.ndarray], ids: Sequence, *, dim: int,
                     fingerprint: str, extra: dict | None = None) -> Path:
    """Stream ``blocks`` of (b, dim) vectors into ``path`` (.npy) + its ``.json`` sidecar, both atomically.

    The format ``fashionsim embed`` writes; ``extra`` goes into the sidecar
    (e.g. the shard keys). Memory stays one block whatever the file size.
    """
    path = Path(path)
    if path.suffix != ".npy":
        raise ValueError(f"path must be a .npy path, got {path}")
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        writer = NpyWriter(handle, (len(ids), int(dim)))
        for block in blocks:
            writer.write(block)
        writer.close()
    meta = {"ids": _json_ids(ids), "dim": int(dim), "fingerprint": fingerprint, **(extra or {})}
    write_text_atomic(path.with_suffix(".json"), json.dumps(meta, sort_keys=True))
    return path


def read_npy_header(path: str | os.PathLike) -> tuple[tuple[int, ...], np.dtype, int]:
    """``(shape, dtype, data offset)`` of a ``.npy`` file, reading only its header (no pickles)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read(fh)
            offset = fh.tell()
    except (ValueError, EOFError) as exc:
        raise ValueError(f"{path} is truncated or not a .npy array ({exc}); embed again to rewrite it") from exc
    if fortran or dtype.hasobject:
        raise ValueError(f"{path} is not a C-ordered numeric .npy array; embed again to rewrite it")
    expected = offset + int(np.prod(shape)) * dtype.itemsize
    if path.stat().st_size != expected:
        raise ValueError(f"{path} has {path.stat().st_size} bytes, its header promises {expected}: truncated; "
                         "embed again to rewrite it")
    return tuple(int(s) for s in shape), dtype, offset


# ------------------------------------------------------------------ one shard file
@dataclasses.dataclass(frozen=True)
class ShardFile:
    """What one embeddings file's sidecar and header say (vectors not read)."""

    path: Path
    k: int
    n_shards: int
    first_row: int
    n_total: int
    ids_digest: str
    dim: int
    fingerprint: str | None
    ids: list
    products: list | None
    meta: dict
    offset: int            # byte offset of the vectors in the .npy

    @property
    def label(self) -> str:
        return f"{self.k}/{self.n_shards}"


def read_shard(path: str | os.PathLike) -> ShardFile:
    """Read the header and sidecar of an embeddings file written by ``fashionsim embed`` (with or without --shard)."""
    path = Path(path)
    meta_path = path.with_suffix(".json")
    if not path.is_file() or not meta_path.is_file():
        raise FileNotFoundError(f"embeddings not found: {path} and its {meta_path.name} sidecar are both needed")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or not isinstance(meta.get("ids"), list):
            raise ValueError("no list of ids in it")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{meta_path} is truncated or not the sidecar `fashionsim embed` writes ({exc}); "
                         f"embed again to rewrite {path.name} and its sidecar") from exc
    shape, dtype, offset = read_npy_header(path)
    ids = meta["ids"]
    if len(shape) != 2 or dtype != np.float32:
        raise ValueError(f"{path} holds {dtype} {shape}, not float32 (n, d) vectors; embed again")
    if shape[0] != len(ids):
        raise ValueError(f"{path}: {shape[0]} vectors but {len(ids)} ids in {meta_path.name}")
    products = meta.get("products")
    if products is not None and len(products) != len(ids):
        raise ValueError(f"{meta_path}: {len(products)} products for {len(ids)} ids")
    if "shard" in meta:
        try:
            k, n_shards = parse_shard(meta["shard"])
            first_row, n_total, digest = int(meta["first_row"]), int(meta["n_total"]), str(meta["ids_digest"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{meta_path}: shard keys (shard, first_row, n_total, ids_digest) missing or "
                             f"invalid ({exc}); embed the shard again") from exc
    else:
        k, n_shards, first_row, n_total, digest = 1, 1, 0, len(ids), ids_digest(ids)
    return ShardFile(path=path, k=k, n_shards=n_shards, first_row=first_row, n_total=n_total, ids_digest=digest,
                     dim=shape[1], fingerprint=meta.get("fingerprint"), ids=ids, products=products, meta=meta,
                     offset=offset)


# ------------------------------------------------------------------ a complete set
@dataclasses.dataclass(frozen=True)
class ShardSet:
    """Shards checked to form one whole selection, in K order."""

    shards: tuple[ShardFile, ...]
    fingerprint: str | None
    dim: int

    @property
    def n(self) -> int:
        return self.shards[0].n_total

    @property
    def ids(self) -> list:
        return [i for s in self.shards for i in s.ids]

    @property
    def products(self) -> list | None:
        """The product of every id, or None when some shard recorded none."""
        if any(s.products is None for s in self.shards):
            return None
        return [p for s in self.shards for p in s.products]

    @property
    def meta(self) -> dict:
        """The sidecar of shard 1 (catalog, catalog_spec, model, image_size are the same in all)."""
        return self.shards[0].meta


def check_shards(paths: Sequence[str | os.PathLike]) -> ShardSet:
    """Read and check shard files: one model, one dimension, one selection, each shard once, none missing.

    Every refusal is a ValueError (FileNotFoundError for a missing file) in
    one line naming the file.
    """
    if not paths:
        raise ValueError("no embeddings files given")
    shards = [read_shard(p) for p in paths]
    first = shards[0]
    for s in shards[1:]:
        if s.fingerprint != first.fingerprint:
            raise ValueError(f"{s.path} was made by model {s.fingerprint}, {first.path} by model {first.fingerprint}: "
                             "embed every shard with the same model")
        if s.dim != first.dim:
            raise ValueError(f"{s.path} holds {s.dim}-dimensional vectors, {first.path} {first.dim}-dimensional")
        if s.n_shards != first.n_shards:
            raise ValueError(f"{s.path} is shard {s.label}, {first.path} shard {first.label}: "
                             "all shards must be cut N the same way")
        if (s.n_total, s.ids_digest) != (first.n_total, first.ids_digest):
            raise ValueError(f"{s.path} was cut from another selection ({s.n_total} images, ids digest "
                             f"{s.ids_digest[:12]}) than {first.path} ({first.n_total}, {first.ids_digest[:12]}): "
                             "same catalog, --split and --source for every shard")
    by_k: dict[int, ShardFile] = {}
    for s in shards:
        if s.k in by_k:
            raise ValueError(f"{s.path} and {by_k[s.k].path} are both shard {s.label}: give each shard once")
        by_k[s.k] = s
    missing = [k for k in range(1, first.n_shards + 1) if k not in by_k]
    if missing:
        given = ", ".join(f"{by_k[k].label} {by_k[k].path}" for k in sorted(by_k))
        raise ValueError(f"shard(s) {', '.join(f'{k}/{first.n_shards}' for k in missing)} missing (given: {given}): "
                         "embed and pass every shard")
    ordered = tuple(by_k[k] for k in sorted(by_k))
    for s in ordered:
        start, stop = shard_bounds(s.n_total, s.k, s.n_shards)
        if (s.first_row, len(s.ids)) != (start, stop - start):
            raise ValueError(f"{s.path} holds rows {s.first_row}..{s.first_row + len(s.ids)} but shard {s.label} "
                             f"of {s.n_total} is rows {start}..{stop}: embed it again")
    _check_disjoint(ordered)
    merged = ShardSet(ordered, first.fingerprint, first.dim)
    if ids_digest(merged.ids) != first.ids_digest:
        raise ValueError(f"the ids of the {len(ordered)} shards ({', '.join(str(s.path) for s in ordered)}) do not "
                         "add up to the selection they were cut from (digest differs): embed them again")
    return merged


def _check_disjoint(shards: Sequence[ShardFile]) -> None:
    import pandas as pd

    ids = pd.Index([i for s in shards for i in s.ids])
    if ids.is_unique:
        return
    owner = np.repeat(np.arange(len(shards)), [len(s.ids) for s in shards])
    dup = ids.duplicated(keep=False)
    first_id = ids[dup][0]
    files = sorted({str(shards[j].path) for j in owner[np.flatnonzero(ids == first_id)]})
    raise ValueError(f"shards overlap: id {first_id!r} is in {' and '.join(files)} "
                     f"({int(ids.duplicated().sum())} repeated ids in all); shards must be disjoint")


def iter_blocks(shard_set: ShardSet | Sequence[ShardFile], rows: int = BLOCK_ROWS
                ) -> Iterator[tuple[np.ndarray, list]]:
    """Yield ``(vectors (b, d) float32, ids)`` blocks of every shard in order, reading ``rows`` at a time.

    Plain reads (no memory map), so only one block of vectors is resident at once.
    """
    shards = shard_set.shards if isinstance(shard_set, ShardSet) else tuple(shard_set)
    for s in shards:
        with open(s.path, "rb") as fh:
            fh.seek(s.offset)
            for start in range(0, len(s.ids), rows):
                count = min(rows, len(s.ids) - start)
                block = np.fromfile(fh, dtype=np.float32, count=count * s.dim)
                if block.size != count * s.dim:
                    raise ValueError(f"{s.path} ended early at row {start}: truncated; embed it again")
                yield block.reshape(count, s.dim), s.ids[start:start + count]

