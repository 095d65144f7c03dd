"""fashionsim: visual fashion similarity and recommendation.

The companion module of the fashionsim notebooks. Submodules are imported
lazily, so ``import fashionsim`` is cheap and pure-data code never pulls in
TensorFlow::

    from fashionsim import data, images, tags, triplets, mining, losses
    from fashionsim import models, index, metrics, recommend

Load any model fashionsim saved (custom layers and losses included) with
:func:`load_model`; plain ``keras.saving.load_model`` works too once
``fashionsim.models`` has been imported::

    model = fashionsim.load_model("runs/siamese/model.keras")
"""

from __future__ import annotations

import importlib
import os
from importlib.metadata import PackageNotFoundError, version
from typing import Any

try:  # the one place the version is written is pyproject.toml
    __version__ = version("fashionsim")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that was never installed
    __version__ = "0+unknown"

_SUBMODULES = (
    "data", "images", "tags", "multilabel", "triplets", "mining", "losses",
    "models", "training", "index", "metrics", "recommend", "plots", "bench",
    "embed", "evaluation", "artifacts", "cli",
)

__all__ = ["__version__", "load_model", *_SUBMODULES]


def load_model(path: str | os.PathLike, *, compile: bool = False):
    """Load a model fashionsim saved: a ``.keras`` file, or a folder holding ``model.keras``.

    Registers fashionsim's custom layers, losses and metrics first, so this
    works in a fresh interpreter (plain ``keras.saving.load_model`` does not,
    unless ``fashionsim.models`` was imported before). For example
    ``fashionsim.load_model("runs/siamese")`` loads ``runs/siamese/model.keras``.
    Taught in notebook 03.
    """
    from fashionsim.models.io import load_model as _load

    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, "model.keras")
    return _load(path, compile=compile)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'fashionsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
