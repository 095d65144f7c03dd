"""fashionsim: visual fashion similarity and recommendation.

The companion module of the fashionsim notebooks. Submodules are imported
lazily, so ``import fashionsim`` is cheap and pure-data code never pulls in
TensorFlow::

    from fashionsim import data, images, tags, triplets, mining, losses
    from fashionsim import models, index, metrics, recommend
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = (
    "data", "images", "tags", "multilabel", "triplets", "mining", "losses",
    "models", "training", "index", "metrics", "recommend", "plots", "bench",
    "embed", "evaluation", "artifacts", "cli",
)

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'fashionsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
