"""Train the multilabel tag classifier on a catalog, predict tags, and find similar images.

:func:`train_multilabel` is the whole recipe of notebook 01 (and what a
command-line ``train`` calls): tags from the training descriptions
(:class:`fashionsim.tags.TagExtractor`, fitted on the train split only), one
label vector per product given to each of its images, a backbone + sigmoid
classifier trained with binary cross-entropy on augmented, shuffled batches
streamed by :func:`fashionsim.images.dataset`, a checkpoint after every
epoch written atomically with a small JSON state, and resume from it.

:func:`image_vectors` embeds images with the backbone's pooled vector and
:func:`cosine_top_k` finds the most similar ones by chunked matrix products.

>>> run = train_multilabel(cat, "artifacts/multilabel", backbone="resnet50",
...                        input_size=224, epochs=10)               # doctest: +SKIP
>>> predict_tags(run.model, cat.image_paths()[:4], 224, run.classes)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from fashionsim._io import atomic_path, write_text_atomic
from fashionsim.data.catalog import SOURCES, Catalog

__all__ = [
    "build_multilabel_classifier", "image_vector_model", "LabelledImages", "labelled_images",
    "MultilabelRun", "train_multilabel", "load_multilabel", "predict_proba", "predict_tags",
    "image_vectors", "cosine_top_k", "STATE_FILE", "MODEL_FILE", "TAGS_FILE",
]

STATE_FILE = "state.json"
MODEL_FILE = "model.keras"
TAGS_FILE = "tags.json"
_STATE_VERSION = 1


def build_multilabel_classifier(n_tags: int, **kwargs):
    """See :func:`fashionsim.models.multilabel.build_multilabel_classifier` (imported lazily: it needs Keras)."""
    from fashionsim.models.multilabel import build_multilabel_classifier as build

    return build(n_tags, **kwargs)


def image_vector_model(classifier):
    """See :func:`fashionsim.models.multilabel.image_vector_model`."""
    from fashionsim.models.multilabel import image_vector_model as cut

    return cut(classifier)


# --------------------------------------------------------------------------- labels per image
@dataclasses.dataclass(frozen=True)
class LabelledImages:
    """Images with their product's tag vector: ``image_ids`` (n,), ``paths`` (n,), ``labels`` (n, n_tags) float32."""

    image_ids: np.ndarray
    paths: list[str]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.image_ids)


def _check_sources(sources: Sequence[str] | None) -> tuple[str, ...]:
    if sources is None:
        return SOURCES
    sources = tuple(sources)
    bad = [s for s in sources if s not in SOURCES]
    if bad or not sources:
        raise ValueError(f"sources must be a non-empty subset of {list(SOURCES)}, got {list(sources)}")
    return sources


def labelled_images(cat: Catalog, extractor, *, sources: Sequence[str] | None = None) -> LabelledImages:
    """Every image of ``cat`` (of the given ``sources``) with its product's labels from a fitted ``extractor``.

    The descriptions are tagged once per product; the label rows are then
    gathered per image by integer position (no per-row lookups).
    """
    sources = _check_sources(sources)
    products = cat.products
    Y = extractor.transform(products["description"])
    table = cat.images[cat.images["source"].isin(sources)]
    pos = pd.Index(products["product_id"]).get_indexer(table["product_id"])
    return LabelledImages(
        image_ids=table["image_id"].to_numpy(),
        paths=cat.image_paths(table["image_id"]),
        labels=Y[pos].astype(np.float32),
    )


# --------------------------------------------------------------------------- training
@dataclasses.dataclass
class MultilabelRun:
    """What :func:`train_multilabel` returns.

    ``model`` (compiled Keras model), ``extractor`` (fitted TagExtractor),
    ``classes`` (tag of each output column), ``history`` (per-epoch lists,
    all epochs so far), ``epoch`` (epochs completed in total),
    ``epochs_run`` (in this call), ``seconds`` (training wall time of this
    call), ``out_dir`` and ``model_path``.
    """

    model: Any
    extractor: Any
    classes: list[str]
    history: dict[str, list[float]]
    epoch: int
    epochs_run: int
    seconds: float
    out_dir: Path
    model_path: Path


def _config(**kwargs) -> dict:
    weights = kwargs["weights"]
    kwargs["weights"] = None if weights is None else str(weights)
    kwargs["sources"] = list(kwargs["sources"])
    return kwargs


def _read_state(out_dir: Path) -> dict | None:
    path = out_dir / STATE_FILE
    if not path.is_file():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a valid training state ({exc})") from exc
    if not isinstance(state, dict) or state.get("version") != _STATE_VERSION:
        raise ValueError(f"{path}: unknown training state format (expected version {_STATE_VERSION})")
    return state


def _load_model(path: Path):
    import keras

    import fashionsim.models.backbones  # noqa: F401 - registers ImagenetPreprocess for deserialisation

    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return keras.saving.load_model(path)


def train_multilabel(
    cat: Catalog,
    out_dir: str | os.PathLike,
    *,
    backbone: str = "inception_v3",
    input_size: int = 299,
    weights: str | os.PathLike | None = "imagenet",
    epochs: int = 10,
    batch_size: int = 32,
    learning_rate: float = 1e-3,
    dropout: float = 0.2,
    bn_momentum: float | None = None,
    top_k: int = 10,
    n_nouns: int = 25,
    n_adjectives: int = 25,
    tagger: str = "auto",
    sources: Sequence[str] | None = None,
    augment: bool = True,
    validation: bool = True,
    seed: int = 0,
    resume: bool = False,
    strategy: Any = None,
    progress: bool = True,
) -> MultilabelRun:
    """Fit tags on the train split's descriptions and train the multilabel classifier on its images.

    Parameters
    ----------
    cat: a catalog with ``split`` train (trained on) and, when ``validation``, val (validation loss).
    out_dir: folder for ``checkpoint-NNNN.keras`` (one per epoch, the older ones removed), ``state.json``
        (epoch, history, vocabulary, configuration) and, at the end, ``model.keras`` and ``tags.json``.
        Without ``resume`` an existing state there is overwritten.
    backbone, input_size, weights, dropout, learning_rate, bn_momentum: see
        :func:`fashionsim.models.multilabel.build_multilabel_classifier`.
    top_k, n_nouns, n_adjectives, tagger: see :class:`fashionsim.tags.TagExtractor`.
    sources: image sources trained on (``"shop"``, ``"street"``; default both).
    augment: the reference augmentations (:func:`fashionsim.images.augment_batch`).
    seed: seeds the weights, the shuffling and the augmentation (:mod:`fashionsim.repeatable`);
        epoch ``e`` uses ``seed + e``, so a resumed run sees the batches an uninterrupted one would.
    resume: continue from ``out_dir/state.json`` when it exists (same configuration, same
        vocabulary from the catalog's train split, else ``ValueError``) up to ``epochs`` in total;
        without a state there, start from scratch.
    strategy: an optional ``tf.distribute.Strategy``; the model is built and compiled in its scope.
    progress: Keras' progress bar per epoch.

    Every checkpoint is written atomically and ``state.json`` (also atomic) is
    written after it, so an interrupted run resumes from its last full epoch.
    """
    import keras

    from fashionsim import images
    from fashionsim.repeatable import seed_epoch, seed_training
    from fashionsim.tags import TagExtractor

    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    sources = _check_sources(sources)
    out_dir = Path(out_dir)
    config = _config(backbone=backbone, input_size=int(input_size), weights=weights, batch_size=int(batch_size),
                     learning_rate=float(learning_rate), dropout=float(dropout),
                     bn_momentum=None if bn_momentum is None else float(bn_momentum), top_k=int(top_k),
                     n_nouns=int(n_nouns), n_adjectives=int(n_adjectives), tagger=tagger, sources=sources,
                     augment=bool(augment), validation=bool(validation), seed=int(seed))

    if not (cat.products["split"] == "train").any():
        raise ValueError(f"{cat.source}: no product has split 'train': nothing to train on")
    train_cat = cat.split("train")
    extractor = TagExtractor(top_k=top_k, n_nouns=n_nouns, n_adjectives=n_adjectives, tagger=tagger)
    extractor.fit(train_cat.products["description"])
    classes = [str(c) for c in extractor.classes_]
    train = labelled_images(train_cat, extractor, sources=sources)
    if len(train) == 0:
        raise ValueError(f"{cat.source}: the train split has no {'/'.join(sources)} images")
    val = None
    if validation and (cat.products["split"] == "val").any():
        val = labelled_images(cat.split("val"), extractor, sources=sources)
        val = val if len(val) else None

    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    seed_training(int(seed))
    state = _read_state(out_dir) if resume else None
    if state is not None:
        differs = sorted(k for k in config if state["config"].get(k) != config[k])
        if differs:
            raise ValueError(
                f"{out_dir / STATE_FILE}: cannot resume, the configuration differs in {differs} "
                f"(saved: { {k: state['config'].get(k) for k in differs} }, given: { {k: config[k] for k in differs} })"
            )
        if state["classes"] != classes:
            raise ValueError(
                f"{out_dir / STATE_FILE}: cannot resume, the tag vocabulary of this catalog's train split "
                "differs from the saved one (was the catalog changed?)"
            )
        with scope:
            model = _load_model(out_dir / state["checkpoint"])
        history: dict[str, list[float]] = {k: list(v) for k, v in state["history"].items()}
        start, total_seconds = int(state["epoch"]), float(state.get("seconds", 0.0))
    else:
        with scope:
            model = build_multilabel_classifier(
                len(classes), backbone=backbone, image_size=input_size, weights=weights,
                dropout=dropout, learning_rate=learning_rate, bn_momentum=bn_momentum,
            )
        history, start, total_seconds = {}, 0, 0.0

    val_ds = None
    if val is not None:
        val_ds = images.dataset(val.paths, input_size, batch_size, labels=val.labels)
    seconds = 0.0
    for epoch in range(start, int(epochs)):
        seed_epoch(int(seed), epoch, model)
        train_ds = images.dataset(train.paths, input_size, batch_size, augment=augment, seed=int(seed) + epoch,
                                  labels=train.labels, shuffle=True)
        tic = time.perf_counter()
        fit = model.fit(train_ds, validation_data=val_ds, initial_epoch=epoch, epochs=epoch + 1,
                        shuffle=False,  # the dataset shuffles itself, seeded per epoch
                        verbose=1 if progress else 0)
        seconds += time.perf_counter() - tic
        for key, values in fit.history.items():
            history.setdefault(key, []).extend(float(v) for v in values)
        _save_checkpoint(model, out_dir, epoch + 1, history, classes, config, extractor, total_seconds + seconds)

    model_path = _finish(out_dir, extractor)
    return MultilabelRun(model=model, extractor=extractor, classes=classes, history=history,
                         epoch=max(int(epochs), start), epochs_run=max(0, int(epochs) - start), seconds=seconds,
                         out_dir=out_dir, model_path=model_path)


def _save_checkpoint(model, out_dir: Path, epoch: int, history: dict, classes: list[str], config: dict,
                     extractor, seconds: float) -> None:
    """Write ``checkpoint-<epoch>.keras``, then ``state.json`` pointing at it, then drop older checkpoints."""
    name = f"checkpoint-{epoch:04d}.keras"
    with atomic_path(out_dir / name) as tmp:
        model.save(tmp)
    state = {"version": _STATE_VERSION, "epoch": epoch, "checkpoint": name, "history": history,
             "classes": classes, "config": config, "vocabulary": extractor.vocabulary(), "seconds": seconds}
    write_text_atomic(out_dir / STATE_FILE, json.dumps(state, indent=1, sort_keys=True))
    for old in out_dir.glob("checkpoint-*.keras"):
        if old.name != name:
            old.unlink()


def _finish(out_dir: Path, extractor) -> Path:
    """Copy the last checkpoint to ``model.keras``, write ``tags.json``, and mark the state finished."""
    state = _read_state(out_dir)
    model_path = out_dir / MODEL_FILE
    with atomic_path(model_path) as tmp:
        shutil.copyfile(out_dir / state["checkpoint"], tmp)
    write_text_atomic(out_dir / TAGS_FILE, json.dumps(extractor.vocabulary(), indent=1, sort_keys=True))
    state["model"] = MODEL_FILE
    write_text_atomic(out_dir / STATE_FILE, json.dumps(state, indent=1, sort_keys=True))
    return model_path


def load_multilabel(out_dir: str | os.PathLike) -> tuple[Any, list[str], dict]:
    """Load what :func:`train_multilabel` saved: ``(model, classes, state)``.

    Takes ``model.keras`` when training finished, else the last checkpoint ``state.json`` names.
    """
    out_dir = Path(out_dir)
    state = _read_state(out_dir)
    if state is None:
        raise FileNotFoundError(f"no {STATE_FILE} in {out_dir}: train with train_multilabel(cat, {str(out_dir)!r})")
    return _load_model(out_dir / state.get("model", state["checkpoint"])), list(state["classes"]), state


# --------------------------------------------------------------------------- prediction and vectors
def predict_proba(model, paths: Sequence[str | os.PathLike], size: int, *, batch_size: int = 64,
                  progress: bool = True) -> np.ndarray:
    """Tag probabilities (n, n_tags) float32 of the images at ``paths``, streamed in batches."""
    from fashionsim.embed import embed_images

    return embed_images(model, paths, size, batch_size=batch_size, progress=progress)


def predict_tags(model, paths: Sequence[str | os.PathLike], size: int, classes: Sequence[str], *,
                 top_k: int | None = 3, threshold: float | None = None, batch_size: int = 64,
                 progress: bool = True) -> list[list[str]]:
    """Each image's tags, most probable first (see :func:`fashionsim.tags.decode_tags`)."""
    from fashionsim.tags import decode_tags

    proba = predict_proba(model, paths, size, batch_size=batch_size, progress=progress)
    return decode_tags(proba, classes, top_k=top_k, threshold=threshold)


def image_vectors(model, cat: Catalog, size: int, *, image_ids: Sequence | None = None, batch_size: int = 64,
                  out: str | os.PathLike | None = None, progress: bool = True) -> np.ndarray:
    """The backbone's pooled vector (n, d) float32 of every image of ``cat`` (or of ``image_ids``), streamed.

    ``model`` is a classifier from :func:`build_multilabel_classifier` (cut
    before its head) or any model whose output is already a vector. With
    ``out`` (a ``.npy`` path) the vectors are written incrementally to disk.
    """
    from fashionsim.embed import embed_images
    from fashionsim.models.multilabel import FEATURES_LAYER

    names = {layer.name for layer in model.layers}
    vector_model = image_vector_model(model) if FEATURES_LAYER in names else model
    return embed_images(vector_model, cat.image_paths(image_ids), size, batch_size=batch_size, out=out,
                        progress=progress)


def cosine_top_k(queries: np.ndarray, vectors: np.ndarray, k: int, *, exclude: Sequence[int] | None = None,
                 chunk_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``vectors`` most cosine-similar to each query, best first.

    ``queries`` (q, d), ``vectors`` (n, d); ``exclude`` (q,) optional row of
    ``vectors`` to leave out per query (e.g. the query itself; -1 for none).
    Returns ``(indices (q, k) int64, similarities (q, k) float32)``. Queries are
    processed ``chunk_size`` at a time: memory is O(chunk_size × n).

    >>> idx, sim = cosine_top_k(v[:5], v, k=3, exclude=np.arange(5))   # doctest: +SKIP
    """
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

    def unit(x: np.ndarray) -> np.ndarray:
        norm = np.linalg.norm(x, axis=1, keepdims=True)
        return x / np.where(norm > 0, norm, 1.0)

    qn, vn = unit(q), unit(v)
    indices = np.empty((len(q), k), dtype=np.int64)
    sims = np.empty((len(q), k), dtype=np.float32)
    for start in range(0, len(q), chunk_size):
        stop = min(start + chunk_size, len(q))
        s = qn[start:stop] @ vn.T
        if exclude is not None:
            rows = np.flatnonzero(exclude[start:stop] >= 0)
            s[rows, exclude[start:stop][rows]] = -np.inf
        part = np.argpartition(-s, k - 1, axis=1)[:, :k]
        part_s = np.take_along_axis(s, part, axis=1)
        order = np.argsort(-part_s, axis=1, kind="stable")  # best first
        indices[start:stop] = np.take_along_axis(part, order, axis=1)
        sims[start:stop] = np.take_along_axis(part_s, order, axis=1)
    return indices, sims
