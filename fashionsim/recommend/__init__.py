"""Visually-aware recommendation with BPR: interactions, the sampler, DVBPR and baselines, scoring.

* :mod:`~fashionsim.recommend.interactions` — sparse user × item matrices, the exact vectorised BPR sampler,
  ``leave_last_out`` (per-user time split);
* :mod:`~fashionsim.recommend.models` — Keras DVBPR (CNN / autoencoder / pretrained encoders), BPR-MF, the loss;
* :mod:`~fashionsim.recommend.training` — ``train_dvbpr`` (checkpoints, resume), ``train_bpr_mf``;
* :mod:`~fashionsim.recommend.mf` — BPR-MF's NumPy steps (Adam equal to Keras', or SGD);
* :mod:`~fashionsim.recommend.scoring` — item vectors once, top-N, cold start;
* :mod:`~fashionsim.recommend.baselines` — popularity;
* :mod:`~fashionsim.recommend.evaluation` — AUC / Recall@K / NDCG@K of a split, full and sampled;
* :mod:`~fashionsim.recommend.items` — one picture per item.

Keras is imported only when a model is built or trained (models, training). Taught in notebook 04.

With a catalog, ``recommend.interactions_from_catalog(cat)`` gives the matrices and
``recommend.train_dvbpr(cat, variant="cnn", epochs=5)`` trains DVBPR (notebook 04). From a table:

>>> import pandas as pd
>>> from fashionsim import recommend
>>> log = pd.DataFrame({"user_id": ["u0", "u0", "u1", "u1"], "product_id": ["a", "b", "b", "c"],
...                     "split": ["train", "test", "train", "test"]})
>>> inter = recommend.interactions_from_frame(log)
>>> items, _ = recommend.top_n(recommend.popularity_scores(inter.train), users=[0, 1], n=1, exclude=inter.train)
>>> inter.item_ids[items].tolist()
[['b'], ['a']]
"""

from __future__ import annotations

import importlib
from typing import Any

from fashionsim.recommend.baselines import popularity_scores
from fashionsim.recommend.evaluation import evaluate_split
from fashionsim.recommend.interactions import (
    BPRSampler,
    Interactions,
    interactions_from_catalog,
    interactions_from_frame,
    leave_last_out,
    popularity,
)
from fashionsim.recommend.items import item_image_ids, item_image_paths, load_item_images
from fashionsim.recommend.scoring import (
    FactorScores,
    item_tower,
    item_vectors,
    model_scores,
    score_new_item,
    top_n,
    user_vectors,
    users_for_new_item,
)

_LAZY = {
    # training and models import Keras: loaded on first use
    "BPRResult": "training", "LoadedDVBPR": "training", "VARIANTS": "training", "train_dvbpr": "training",
    "train_bpr_mf": "training", "save_dvbpr": "training", "load_dvbpr": "training",
    "bpr_loss": "models", "BPRLoss": "models", "RegularizedEmbedding": "models", "pairwise_accuracy": "models",
    "build_cnn_encoder": "models", "build_conv_autoencoder": "models", "build_dense_head": "models",
    "build_item_tower": "models", "build_dvbpr": "models", "build_bpr_mf": "models", "compile_bpr": "models",
}

__all__ = [
    "BPRSampler", "Interactions", "interactions_from_catalog", "interactions_from_frame", "leave_last_out", "popularity",
    "popularity_scores", "evaluate_split", "item_image_ids", "item_image_paths", "load_item_images", "FactorScores", "top_n",
    "user_vectors", "item_vectors", "item_tower", "model_scores", "score_new_item", "users_for_new_item", *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
