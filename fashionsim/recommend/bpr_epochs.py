"""What BPR-MF and DVBPR share: the result, the epoch size, the validation items, and one epoch on the harness.

Every epoch draws fresh triples (u, i, j) with :class:`BPRSampler` from a generator seeded by
``(seed, epoch)`` — so a resumed run samples exactly what an uninterrupted one would — trains on
them, and, every ``eval_every`` epochs, measures the validation AUC over *all* items. The model
of the best validation epoch is kept; without validation interactions, the last. Each epoch
logs a line (loss, validation AUC, seconds) to the ``fashionsim.recommend.training`` logger.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fashionsim import harness
from fashionsim.metrics.ranking import auc
from fashionsim.recommend.interactions import BPRSampler, Interactions
from fashionsim.recommend.scoring import FactorScores

__all__ = ["BPRResult", "BPREpochs", "val_positives", "epoch_size", "selection", "plain_history", "VARIANTS",
           "CATALOG_PASS_MAX_ITEMS"]

VARIANTS = ("cnn", "autoencoder", "pretrained")
#: ``item_pass="auto"`` encodes the whole catalog per step up to this many items.
CATALOG_PASS_MAX_ITEMS = 2048

#: The recommenders' training log.
logger = logging.getLogger("fashionsim.recommend.training")


@dataclasses.dataclass
class BPRResult:
    """A trained BPR model and what it was trained on.

    ``model`` takes (user, item i, item j) and returns x_uij (for DVBPR the items
    are images); ``item_vectors`` (n_items, K) and ``item_bias`` (or None) are the
    item side of the scores of the best epoch; ``history`` has per-epoch
    ``loss``, ``pairwise_accuracy`` (in-batch, one sampled negative), ``val_auc``
    (all items; NaN in epochs it was not measured) and ``seconds``. ``selection``
    says which epoch was kept: ``"best_val_auc"``, or ``"last_epoch"`` when
    there were no validation interactions (``best_epoch`` is then the last).
    ``best_epoch`` counts from 0 (the first epoch is 0).
    """

    model: object
    interactions: Interactions
    item_vectors: np.ndarray
    history: dict[str, list[float]]
    best_epoch: int
    train_seconds: float
    variant: str
    image_size: int | None = None
    item_bias: np.ndarray | None = None
    out_dir: Path | None = None
    selection: str = "best_val_auc"

    @property
    def user_vectors(self) -> np.ndarray:
        from fashionsim.recommend.scoring import user_vectors

        return user_vectors(self.model)

    def scores(self) -> FactorScores:
        """The (n_users, n_items) score matrix of the best model, computed rows at a time."""
        return FactorScores(self.user_vectors, self.item_vectors, self.item_bias)


def val_positives(inter: Interactions) -> np.ndarray:
    """One validation item per user (the first by code), −1 for users without one."""
    val = inter.val
    first = np.full(inter.n_users, -1, dtype=np.int64)
    has = np.diff(val.indptr) > 0
    first[has] = val.indices[val.indptr[:-1][has]]
    return first


def epoch_size(triples_per_epoch: int | None, n_train: int, batch_size: int) -> int:
    """Default epoch: the number of training interactions, and at least 8 batches."""
    if triples_per_epoch is not None:
        if triples_per_epoch < 1:
            raise ValueError(f"triples_per_epoch must be >= 1, got {triples_per_epoch}")
        return int(triples_per_epoch)
    return max(int(n_train), 8 * int(batch_size))


def selection(has_val: bool) -> str:
    return "best_val_auc" if has_val else "last_epoch"


def plain_history(history: dict[str, list]) -> dict[str, list[float]]:
    """The harness's history with NaN where it says None (an epoch without validation)."""
    return {k: [float("nan") if v is None else v for v in values] for k, values in history.items()}


class BPREpochs(harness.EpochTask):
    """Epochs of a BPR model: ``step(u, i, j, epoch) -> {"loss", "pairwise_accuracy"}`` on freshly drawn triples.

    ``scores()`` gives the current :class:`FactorScores` for the validation AUC.
    """

    logger = logger
    eval_keys = ("val_auc",)

    def __init__(self, name: str, inter: Interactions, *, n_triples: int, seed: int,
                 step: Callable[[np.ndarray, np.ndarray, np.ndarray, int], dict[str, float]],
                 scores: Callable[[], FactorScores], users: str = "uniform", seed_model: Any = None) -> None:
        self.name, self.inter, self.n_triples, self.seed = name, inter, n_triples, seed
        self.step, self.scores, self.seed_model = step, scores, seed_model
        self.sampler = BPRSampler(inter.train, users=users)
        self.val_positives = val_positives(inter)
        self.evaluates = bool((self.val_positives >= 0).any())

    def train_epoch(self, epoch: int) -> dict[str, Any]:
        u, i, j = self.sampler.sample(self.n_triples, seed=np.random.default_rng([self.seed, epoch]))
        logs = self.step(u, i, j, epoch)
        return {"loss": float(logs["loss"]), "pairwise_accuracy": float(logs["pairwise_accuracy"])}

    def evaluate(self, epoch: int) -> dict[str, Any]:
        return {"val_auc": float(auc(self.scores(), self.val_positives, self.inter.train))}

    def describe(self, entry: dict[str, Any], epoch: int, epochs: int) -> str:
        shown = "" if entry["val_auc"] is None else f", val AUC {entry['val_auc']:.4f}"
        return f"{self.name} epoch {epoch}/{epochs}: loss {entry['loss']:.4f}{shown}, {entry['seconds']:.2f} s"
