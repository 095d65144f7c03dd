"""``train_multilabel``: tags from the training descriptions, then the tag classifier, on the training harness."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fashionsim import harness
from fashionsim._compat import renamed
from fashionsim._io import atomic_path, write_text_atomic
from fashionsim.data.catalog import Catalog
from fashionsim.multilabel.labels import LabelledImages, check_sources, labelled_images

__all__ = ["MultilabelRun", "train_multilabel", "load_multilabel", "STATE_FILE", "MODEL_FILE", "TAGS_FILE"]

STATE_FILE = harness.STATE_FILE
MODEL_FILE = harness.MODEL_FILE
TAGS_FILE = "tags.json"
#: Epoch checkpoints, ``checkpoint-0003.keras``: only the last one is kept.
_CHECKPOINTS = "checkpoint-*.keras"

logger = logging.getLogger("fashionsim.multilabel")


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


class _MultilabelEpochs(harness.EpochTask):
    """One epoch: the training images shuffled and augmented afresh from ``seed + epoch``, one Keras ``fit``."""

    timed = False
    logger = logger

    def __init__(self, model, train: LabelledImages, val_ds, state: harness.TrainingState, *, image_size: int,
                 batch_size: int, augment: bool, seed: int, progress: bool) -> None:
        self.model = self.seed_model = model
        self.train, self.val_ds, self.state = train, val_ds, state
        self.image_size, self.batch_size, self.augment, self.seed = image_size, batch_size, augment, seed
        self.progress = progress
        self.fit_seconds = 0.0

    def train_epoch(self, epoch: int) -> dict[str, Any]:
        from fashionsim import images

        train_ds = images.dataset(self.train.paths, self.image_size, self.batch_size, augment=self.augment,
                                  seed=self.seed + epoch, labels=self.train.labels, shuffle=True)
        tic = time.perf_counter()
        fit = self.model.fit(train_ds, validation_data=self.val_ds, initial_epoch=epoch, epochs=epoch + 1,
                             shuffle=False,  # the dataset shuffles itself, seeded per epoch
                             verbose=1 if self.progress else 0)
        self.fit_seconds += time.perf_counter() - tic
        return {key: float(values[-1]) for key, values in fit.history.items()}

    def describe(self, entry: dict[str, Any], epoch: int, epochs: int) -> str:
        return "multilabel " + super().describe(entry, epoch, epochs)

    def write_checkpoint(self, folder: Path, previous: Path | None, best, improved: bool) -> list[str]:
        name = f"checkpoint-{self.state.epoch:04d}.keras"
        with atomic_path(folder / name) as tmp:
            self.model.save(tmp)
        self.state.extra["checkpoint"] = name
        return [name]


def _load_model(path: Path):
    import keras

    import fashionsim.models.backbones  # noqa: F401 - registers ImagenetPreprocess for deserialisation

    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return keras.saving.load_model(path)


@renamed(input_size="image_size")
def train_multilabel(
    cat: Catalog,
    out_dir: str | os.PathLike,
    *,
    backbone: str = "inception_v3",
    image_size: int = 299,
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
        (the harness's training state: epoch, history, configuration, plus the vocabulary) and, at the
        end, ``model.keras`` and ``tags.json``. Without ``resume`` an existing state there is overwritten.
    backbone, image_size, weights, dropout, learning_rate, bn_momentum: see
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
    written after it, so an interrupted run resumes from its last full epoch. The epochs run on
    :mod:`fashionsim.harness`; each logs a line to the ``fashionsim.multilabel`` logger.
    """
    from fashionsim import images
    from fashionsim.models.multilabel import build_multilabel_classifier
    from fashionsim.tags import TagExtractor

    epochs = harness.check_positive("epochs", epochs)
    seed = harness.check_seed(seed)
    sources = check_sources(sources)
    out_dir = Path(out_dir)
    config = {"backbone": backbone, "image_size": int(image_size), "weights": None if weights is None else str(weights),
              "batch_size": int(batch_size), "learning_rate": float(learning_rate), "dropout": float(dropout),
              "bn_momentum": None if bn_momentum is None else float(bn_momentum), "top_k": int(top_k),
              "n_nouns": int(n_nouns), "n_adjectives": int(n_adjectives), "tagger": tagger, "sources": list(sources),
              "augment": bool(augment), "validation": bool(validation), "seed": seed}

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

    checkpoints = harness.Checkpoints(out_dir, "multilabel", folder=None, stale=_CHECKPOINTS)
    harness.begin(seed)
    state = checkpoints.read(config) if resume else None
    if state is not None:
        if state.extra.get("classes") != classes:
            raise ValueError(
                f"{checkpoints.state_path}: cannot resume, the tag vocabulary of this catalog's train split "
                "differs from the saved one (was the catalog changed?)"
            )
        with harness.strategy_scope(strategy):
            model = _load_model(out_dir / state.extra["checkpoint"])
    else:
        state = harness.TrainingState("multilabel", config, extra={"classes": classes,
                                                                   "vocabulary": extractor.vocabulary()})
        with harness.strategy_scope(strategy):
            model = build_multilabel_classifier(
                len(classes), backbone=backbone, image_size=image_size, weights=weights,
                dropout=dropout, learning_rate=learning_rate, bn_momentum=bn_momentum,
            )
    start = state.epoch
    val_ds = None
    if val is not None:
        val_ds = images.dataset(val.paths, image_size, batch_size, labels=val.labels)
    task = _MultilabelEpochs(model, train, val_ds, state, image_size=int(image_size), batch_size=batch_size,
                             augment=augment, seed=seed, progress=progress)
    harness.run_epochs(task, state, epochs=epochs, seed=seed, best=harness.BestEpoch(None), checkpoints=checkpoints,
                       progress=False)
    model_path = _finish(out_dir, state, extractor)
    return MultilabelRun(model=model, extractor=extractor, classes=classes, history=state.history,
                         epoch=max(epochs, start), epochs_run=max(0, epochs - start), seconds=task.fit_seconds,
                         out_dir=out_dir, model_path=model_path)


def _finish(out_dir: Path, state: harness.TrainingState, extractor) -> Path:
    """Copy the last checkpoint to ``model.keras``, write ``tags.json``, and mark the state finished."""
    model_path = out_dir / MODEL_FILE
    with atomic_path(model_path) as tmp:
        shutil.copyfile(out_dir / state.extra["checkpoint"], tmp)
    write_text_atomic(out_dir / TAGS_FILE, json.dumps(extractor.vocabulary(), indent=1, sort_keys=True))
    state.extra["model"] = MODEL_FILE
    harness.write_state(out_dir / STATE_FILE, state)
    return model_path


def load_multilabel(out_dir: str | os.PathLike) -> tuple[Any, list[str], dict]:
    """Load what :func:`train_multilabel` saved: ``(model, classes, state)`` (``state``: ``state.json`` as a dict).

    Takes ``model.keras`` when training finished, else the last checkpoint ``state.json`` names.
    """
    out_dir = Path(out_dir)
    state = harness.read_state(out_dir / STATE_FILE, "multilabel")
    if state is None:
        raise FileNotFoundError(f"no {STATE_FILE} in {out_dir}: train with train_multilabel(cat, {str(out_dir)!r})")
    name = state.extra.get("model", state.extra["checkpoint"])
    return _load_model(out_dir / name), list(state.extra["classes"]), state.to_dict()
