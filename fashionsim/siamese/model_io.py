"""The siamese model on disk: a bare ``.keras`` file, and the trainer's checkpoint read back."""

from __future__ import annotations

import os
from pathlib import Path

from fashionsim._io import atomic_path
from fashionsim.harness import CHECKPOINT_DIR, MODEL_FILE, STATE_FILE, Checkpoints

__all__ = ["save_model", "load_checkpoint", "BEST_FILE", "save_weights", "load_weights"]

#: The best epoch's weights in the checkpoint (with ``select_by``).
BEST_FILE = "best.weights.h5"


def save_model(model, path: str | os.PathLike) -> Path:
    """Save ``model`` to ``path`` (``.keras``) atomically, without its optimizer or training configuration."""
    import keras

    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"model path must end in .keras, got {path}")
    bare = model
    if getattr(model, "optimizer", None) is not None:  # a fresh, uncompiled copy: no optimizer state in the file
        bare = keras.models.clone_model(model)
        bare.set_weights(model.get_weights())
    with atomic_path(path) as tmp:
        bare.save(tmp)
    return path


def load_checkpoint(out_dir: str | os.PathLike, *, compile: bool = True):
    """``(model, state)`` from ``out_dir/checkpoint/`` (written by :func:`~fashionsim.training.train_siamese`).

    ``state`` is the checkpoint's ``state.json`` as a dict (:mod:`fashionsim.harness.state`).
    """
    import keras

    import fashionsim.losses  # noqa: F401 - registers the losses and metrics a compiled model names
    import fashionsim.models.embedding  # noqa: F401 - registers L2Normalize

    folder = Path(out_dir) / CHECKPOINT_DIR
    if not (folder / MODEL_FILE).is_file() or not (folder / STATE_FILE).is_file():
        raise FileNotFoundError(f"no checkpoint in {folder}: {MODEL_FILE} and {STATE_FILE} are both needed")
    state = Checkpoints(out_dir, "siamese").read()
    return keras.models.load_model(folder / MODEL_FILE, compile=compile), state.to_dict()


def save_weights(model, weights: list, path: Path) -> None:
    """Write ``weights`` (a ``get_weights()`` list of ``model``) to ``path``, leaving ``model`` as it was."""
    current = model.get_weights()
    model.set_weights(weights)
    try:
        model.save_weights(path)
    finally:
        model.set_weights(current)


def load_weights(model, path: Path) -> list:
    """The weights saved at ``path`` as a ``get_weights()`` list, leaving ``model`` as it was."""
    current = model.get_weights()
    model.load_weights(path)
    weights = model.get_weights()
    model.set_weights(current)
    return weights
