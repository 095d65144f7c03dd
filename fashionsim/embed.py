"""Embedding many images with a Keras model: streamed in batches, written incrementally.

The images go through ``images.dataset`` (parallel decode, prefetch), the
model runs batch by batch, and the vectors land in a preallocated array or are
appended to a ``.npy`` file with ordinary writes (never a writable memory map:
a full disk must be an ``OSError``, not a SIGBUS), so memory stays bounded
whatever the catalog size. Files are written atomically (a failed write leaves
no temporary file) and carry the fingerprint of the model that made them.
A catalog can also be embedded in N shares on N machines (``--shard K/N``,
see :mod:`fashionsim.shards`) and merged into one index. Taught in notebooks
01, 03 and 05.

>>> import tempfile, keras
>>> from PIL import Image
>>> tmp = tempfile.TemporaryDirectory(); folder = Path(tmp.name)
>>> paths = [folder / f"{i}.png" for i in range(3)]
>>> for i, path in enumerate(paths):
...     Image.new("RGB", (40, 40), (90 * i, 60, 0)).save(path)
>>> model = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.GlobalAveragePooling2D(),
...                           keras.layers.Dense(4)])
>>> embed_images(model, paths, 32, batch_size=2, progress=False).shape
(3, 4)
>>> out = embed_to_file(model, paths, ["a", "b", "c"], folder / "emb.npy", 32, progress=False)
>>> vectors, ids, meta = load_embeddings(out, fingerprint=model_fingerprint(model))
>>> ids, vectors.shape, meta["image_size"]
(['a', 'b', 'c'], (3, 4), 32)
>>> tmp.cleanup()
"""

from __future__ import annotations

import hashlib
import json
import os
import weakref
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fashionsim._compat import renamed
from fashionsim._io import atomic_path, write_text_atomic
from fashionsim._progress import progress as _progress
from fashionsim.shards import NpyWriter as _NpyWriter
from fashionsim.shards import ids_digest


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


def model_image_size(model) -> int:
    """The square input side (pixels) of a fashionsim image model; ValueError for other inputs."""
    shape = model.input_shape
    if isinstance(shape, list):
        shape = shape[0]
    if len(shape) != 4 or shape[1] != shape[2]:
        raise ValueError(f"the model does not take square images (input shape {shape})")
    return int(shape[1])


model_input_size = model_image_size   # the earlier name, kept for callers


def _batches(paths: Sequence[str], image_size: int, batch_size: int):
    from fashionsim import images

    return images.dataset(list(paths), image_size, batch_size, augment=False)


def _check_batch_size(batch_size: object) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r} (e.g. --batch-size 64)")
    return int(batch_size)


@renamed(size="image_size")
def embed_images(
    model,
    paths: Sequence[str | os.PathLike],
    image_size: int,
    *,
    batch_size: int = 64,
    out: str | os.PathLike | None = None,
    progress: bool = True,
) -> np.ndarray:
    """Embed every image of ``paths`` with ``model`` (input [0, 1] images, output (d,) vectors).

    Returns a float32 array (n, d) in the order of ``paths``. With ``out`` (a
    ``.npy`` path) the vectors are appended batch by batch to a file that
    appears atomically when complete, and a read-only memory map of it is
    returned. An unreadable image raises :class:`fashionsim.images.ImageDecodeError`
    naming the file.
    """
    paths = [str(p) for p in paths]
    if not paths:
        raise ValueError("paths is empty: nothing to embed")
    batch_size = _check_batch_size(batch_size)
    dim = int(model.output_shape[-1])
    n_batches = -(-len(paths) // batch_size)
    batches = _progress(_batches(paths, image_size, batch_size), enabled=progress, total=n_batches, desc="embed")
    if out is None:
        result = np.empty((len(paths), dim), dtype=np.float32)
        _fill(model, batches, result)
        return result
    out = Path(out)
    if out.suffix != ".npy":
        raise ValueError(f"out must be a .npy path, got {out}")
    with atomic_path(out) as tmp, open(tmp, "wb") as handle:
        writer = _NpyWriter(handle, (len(paths), dim))
        _fill(model, batches, writer)
        writer.close()
    return np.load(out, mmap_mode="r")


_FORWARD: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _forward(model):
    """The model's compiled forward pass, traced once per model and kept while the model lives.

    Not ``predict_on_batch``: under a tf.distribute strategy (a model built in
    MirroredStrategy's scope) that runs the whole batch on every replica and
    returns one row per image per replica; a plain call reads the mirrored
    variables once. Kept per model because tracing InceptionV3 takes seconds
    (3.3 s at 96 px on one core, as long as embedding seven batches of 32),
    which ``embed_to_file`` would otherwise pay again on every chunk.
    """
    import tensorflow as tf

    try:
        return _FORWARD[model]
    except (KeyError, TypeError):
        pass
    ref = weakref.ref(model)      # the cached function must not keep its model alive
    forward = tf.function(lambda x: ref()(x, training=False), reduce_retracing=True, autograph=False)
    try:
        _FORWARD[model] = forward
    except TypeError:             # an unhashable model: traced for this call only
        pass
    return forward


def _fill(model, batches, target: np.ndarray | _NpyWriter) -> None:
    import tensorflow as tf

    from fashionsim.images import image_error

    forward = _forward(model)
    start = 0
    total = len(target) if isinstance(target, np.ndarray) else target.shape[0]
    try:
        for batch in batches:
            vectors = np.asarray(forward(tf.convert_to_tensor(batch)), dtype=np.float32)
            if isinstance(target, np.ndarray):
                target[start:start + len(vectors)] = vectors
            else:
                target.write(vectors)
            start += len(vectors)
    except Exception as exc:
        found = image_error(exc)
        if found is None or found is exc:
            raise
        raise found from None   # the ImageDecodeError naming the file, not TensorFlow's wrapping of it
    if start != total:
        raise RuntimeError(f"embedded {start} images, expected {total}")


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
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or not isinstance(meta.get("ids"), list):
            raise ValueError("no list of ids in it")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{meta_path} is truncated or not the sidecar `fashionsim embed` writes ({exc}); "
                         f"embed again to rewrite {path.name} and its sidecar") from exc
    try:
        vectors = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, OSError) as exc:
        raise ValueError(f"{path} is truncated or not a .npy array ({exc}); embed again to rewrite it") from exc
    if vectors.ndim != 2:
        raise ValueError(f"{path} holds an array of shape {vectors.shape}, not (n, d) vectors; embed again")
    if len(vectors) != len(meta["ids"]):
        raise ValueError(f"{path}: {len(vectors)} vectors but {len(meta['ids'])} ids in {meta_path.name}")
    if fingerprint is not None and meta.get("fingerprint") != fingerprint:
        raise ValueError(
            f"{path} was made by model {meta.get('fingerprint')}, not by the model given ({fingerprint})"
        )
    return vectors, meta["ids"], meta


def _read_plan(plan_file: Path) -> dict | None:
    """The plan of an earlier run, or None when it is missing or unreadable (then the parts start over)."""
    try:
        return json.loads(plan_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


@renamed(size="image_size")
def embed_to_file(
    model,
    paths: Sequence[str | os.PathLike],
    ids: Sequence,
    out: str | os.PathLike,
    image_size: int,
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
    batch_size = _check_batch_size(batch_size)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive int, got {chunk_size!r}")
    fingerprint = model_fingerprint(model)
    parts = out.with_name(out.name + ".parts")
    plan = {"fingerprint": fingerprint, "n": len(paths), "chunk_size": int(chunk_size), "image_size": int(image_size),
            "ids_digest": ids_digest(ids)}
    plan_file = parts / "plan.json"
    if parts.exists() and (not resume or _read_plan(plan_file) != plan):
        shutil.rmtree(parts)
    parts.mkdir(parents=True, exist_ok=True)
    write_text_atomic(plan_file, json.dumps(plan, sort_keys=True))
    starts = list(range(0, len(paths), chunk_size))
    for number, start in enumerate(_progress(starts, enabled=progress, desc="chunks")):
        part = parts / f"part-{number:06d}.npy"
        if part.is_file():
            continue
        vectors = embed_images(model, paths[start:start + chunk_size], image_size, batch_size=batch_size,
                               progress=False)
        with atomic_path(part) as tmp:
            np.save(tmp, vectors, allow_pickle=False)
    dim = int(model.output_shape[-1])
    with atomic_path(out) as tmp, open(tmp, "wb") as handle:
        writer = _NpyWriter(handle, (len(paths), dim))
        for number, _ in enumerate(starts):
            part = parts / f"part-{number:06d}.npy"
            try:
                block = np.load(part, allow_pickle=False)
            except (ValueError, EOFError, OSError) as exc:
                raise ValueError(f"{part} is truncated or not a .npy file ({exc}); run again with --no-resume "
                                 "(resume=False) to embed every chunk afresh") from exc
            writer.write(block)
        writer.close()
    meta = {"ids": [i.item() if hasattr(i, "item") else i for i in ids], "dim": dim, "fingerprint": fingerprint,
            "image_size": int(image_size), **(extra or {})}
    write_text_atomic(out.with_suffix(".json"), json.dumps(meta, sort_keys=True))
    shutil.rmtree(parts)
    return out
