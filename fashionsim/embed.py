"""Embedding many images with a Keras model: streamed in batches, written incrementally.

The images go through ``images.dataset`` (parallel decode, prefetch), the
model runs batch by batch, and the vectors land in a preallocated array or in
a ``.npy`` file opened as a memory map, so memory stays bounded whatever the
catalog size. Files are written atomically and carry the fingerprint of the
model that made them. Taught in notebooks 01, 03 and 05.

>>> vectors = embed_images(model, cat.image_paths(), size=96)        # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fashionsim._io import atomic_path, write_text_atomic
from fashionsim._progress import progress as _progress


def model_fingerprint(model) -> str:
    """A short hash of a Keras model's architecture and weights (16 hex digits).

    Two models with the same layers and the same weights share it; any trained
    step changes it. Indexes and embedding files store it to refuse mismatches.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps([layer.__class__.__name__ for layer in model.layers]).encode())
    digest.update(repr(model.output_shape).encode())
    for weight in model.weights:
        value = np.ascontiguousarray(weight.numpy())
        digest.update(str(value.shape).encode())
        digest.update(value.tobytes())
    return digest.hexdigest()[:16]


def model_input_size(model) -> int:
    """The square input side (pixels) of a fashionsim image model; ValueError for other inputs."""
    shape = model.input_shape
    if isinstance(shape, list):
        shape = shape[0]
    if len(shape) != 4 or shape[1] != shape[2]:
        raise ValueError(f"the model does not take square images (input shape {shape})")
    return int(shape[1])


def _batches(paths: Sequence[str], size: int, batch_size: int):
    from fashionsim import images

    return images.dataset(list(paths), size, batch_size, augment=False)


def embed_images(
    model,
    paths: Sequence[str | os.PathLike],
    size: int,
    *,
    batch_size: int = 64,
    out: str | os.PathLike | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Embed every image of ``paths`` with ``model`` (input [0, 1] images, output (d,) vectors).

    Returns a float32 array (n, d) in the order of ``paths``. With ``out`` (a
    ``.npy`` path) the vectors are written batch by batch into a memory-mapped
    file that appears atomically when complete, and the memory map is returned.
    """
    paths = [str(p) for p in paths]
    if not paths:
        raise ValueError("paths is empty: nothing to embed")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    dim = int(model.output_shape[-1])
    n_batches = -(-len(paths) // batch_size)
    batches = _progress(_batches(paths, size, batch_size), enabled=progress, total=n_batches, desc="embed")
    if out is None:
        result = np.empty((len(paths), dim), dtype=np.float32)
        _fill(model, batches, result)
        return result
    out = Path(out)
    if out.suffix != ".npy":
        raise ValueError(f"out must be a .npy path, got {out}")
    with atomic_path(out) as tmp:
        mm = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(paths), dim))
        _fill(model, batches, mm)
        mm.flush()
        del mm
    return np.load(out, mmap_mode="r")


def _fill(model, batches, target: np.ndarray) -> None:
    start = 0
    for batch in batches:
        vectors = np.asarray(model.predict_on_batch(batch), dtype=np.float32)
        target[start:start + len(vectors)] = vectors
        start += len(vectors)
    if start != len(target):
        raise RuntimeError(f"embedded {start} images, expected {len(target)}")


def save_embeddings(path: str | os.PathLike, vectors: np.ndarray, ids: Sequence, *, fingerprint: str,
                    extra: dict | None = None) -> Path:
    """Write ``vectors`` (n, d) to ``path`` (.npy) with a ``.json`` sidecar of ids and the model fingerprint."""
    path = Path(path)
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(ids):
        raise ValueError(f"vectors must be (n, d) with n == len(ids) == {len(ids)}, got {vectors.shape}")
    with atomic_path(path) as tmp:
        np.save(tmp, vectors, allow_pickle=False)
    meta = {"ids": [i.item() if hasattr(i, "item") else i for i in ids], "dim": int(vectors.shape[1]),
            "fingerprint": fingerprint, **(extra or {})}
    write_text_atomic(path.with_suffix(".json"), json.dumps(meta, sort_keys=True))
    return path


def load_embeddings(path: str | os.PathLike, *, fingerprint: str | None = None) -> tuple[np.ndarray, list, dict]:
    """Read what :func:`save_embeddings` wrote: ``(vectors, ids, metadata)``.

    With ``fingerprint`` given, refuse a file made by another model.
    """
    path = Path(path)
    meta_path = path.with_suffix(".json")
    if not path.is_file() or not meta_path.is_file():
        raise FileNotFoundError(f"embeddings not found: {path} and its {meta_path.name} sidecar are both needed")
    meta = json.loads(meta_path.read_text())
    vectors = np.load(path, allow_pickle=False)
    if len(vectors) != len(meta["ids"]):
        raise ValueError(f"{path}: {len(vectors)} vectors but {len(meta['ids'])} ids in {meta_path.name}")
    if fingerprint is not None and meta.get("fingerprint") != fingerprint:
        raise ValueError(
            f"{path} was made by model {meta.get('fingerprint')}, not by the model given ({fingerprint})"
        )
    return vectors, meta["ids"], meta


def embed_to_file(
    model,
    paths: Sequence[str | os.PathLike],
    ids: Sequence,
    out: str | os.PathLike,
    size: int,
    *,
    batch_size: int = 64,
    chunk_size: int = 2048,
    resume: bool = True,
    progress: bool = True,
    extra: dict | None = None,
) -> Path:
    """Embed ``paths`` into ``out`` (.npy + .json sidecar), resumable chunk by chunk.

    Finished chunks land in ``<out>.parts/`` (each written atomically); an
    interrupted run started again with ``resume=True`` skips them, as long as
    the model fingerprint, the ids and the chunk size are unchanged. The final
    file is assembled atomically and the parts folder removed.
    """
    import shutil

    out = Path(out)
    if out.suffix != ".npy":
        raise ValueError(f"out must be a .npy path, got {out}")
    paths = [str(p) for p in paths]
    if len(paths) != len(ids) or not paths:
        raise ValueError(f"paths and ids must be non-empty and of equal length, got {len(paths)} and {len(ids)}")
    fingerprint = model_fingerprint(model)
    parts = out.with_name(out.name + ".parts")
    plan = {"fingerprint": fingerprint, "n": len(paths), "chunk_size": int(chunk_size), "size": int(size),
            "ids_hash": hashlib.sha256(json.dumps([str(i) for i in ids]).encode()).hexdigest()}
    plan_file = parts / "plan.json"
    if parts.exists() and (not resume or not plan_file.is_file() or json.loads(plan_file.read_text()) != plan):
        shutil.rmtree(parts)
    parts.mkdir(parents=True, exist_ok=True)
    write_text_atomic(plan_file, json.dumps(plan, sort_keys=True))
    starts = list(range(0, len(paths), chunk_size))
    for number, start in enumerate(_progress(starts, enabled=progress, desc="chunks")):
        part = parts / f"part-{number:06d}.npy"
        if part.is_file():
            continue
        vectors = embed_images(model, paths[start:start + chunk_size], size, batch_size=batch_size, progress=False)
        with atomic_path(part) as tmp:
            np.save(tmp, vectors, allow_pickle=False)
    dim = int(model.output_shape[-1])
    with atomic_path(out) as tmp:
        mm = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(len(paths), dim))
        for number, start in enumerate(starts):
            block = np.load(parts / f"part-{number:06d}.npy", allow_pickle=False)
            mm[start:start + len(block)] = block
        mm.flush()
        del mm
    meta = {"ids": [i.item() if hasattr(i, "item") else i for i in ids], "dim": dim, "fingerprint": fingerprint,
            "image_size": int(size), **(extra or {})}
    write_text_atomic(out.with_suffix(".json"), json.dumps(meta, sort_keys=True))
    shutil.rmtree(parts)
    return out
