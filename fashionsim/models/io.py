"""Load any fashionsim Keras model from a ``.keras`` file, custom layers included."""

from __future__ import annotations

import importlib
import os
import zipfile
from pathlib import Path

# Modules whose import registers fashionsim's serializable layers, losses and metrics.
_REGISTERING_MODULES = (
    "fashionsim.models.backbones", "fashionsim.models.embedding", "fashionsim.losses",
    "fashionsim.models.multilabel", "fashionsim.recommend.models",
)


def load_model(path: str | os.PathLike, *, compile: bool = False):
    """Load a ``.keras`` model saved by fashionsim; a clear error when the file is missing or not a model."""
    import keras

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    if path.suffix != ".keras":
        raise ValueError(f"{path}: expected a .keras model file")
    if not zipfile.is_zipfile(path):  # Keras would call a truncated file "not found"
        raise ValueError(f"{path} is not a complete .keras file (truncated or corrupt: {path.stat().st_size} bytes); "
                         "save or train the model again")
    for name in _REGISTERING_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a module not present in this install registers nothing
            if exc.name != name:
                raise
    try:
        return keras.saving.load_model(path, compile=compile)
    except (ValueError, OSError, TypeError) as exc:
        raise ValueError(f"{path} is not a readable fashionsim model: {exc}") from exc
