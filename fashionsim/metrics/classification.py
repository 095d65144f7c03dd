"""Multilabel classification metrics: F1 (micro / macro / samples), per-tag precision and recall, a baseline.

Scores are probabilities (n_items, n_tags) turned into decisions by a
threshold; F1 comes from scikit-learn. :class:`FrequencyBaseline` is what a
model must beat: it knows only how often each tag occurs in the training
labels. Always evaluate on a held-out split, never on the training images.
Taught in notebook 01.

>>> {name: float(v) for name, v in multilabel_f1([[1, 0], [0, 1]], [[0.9, 0.2], [0.4, 0.7]]).items()}
{'micro': 1.0, 'macro': 1.0, 'samples': 1.0}
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from fashionsim._random import RandomState, as_generator

__all__ = ["multilabel_f1", "best_f1_threshold", "per_tag_precision_recall", "FrequencyBaseline"]


def _labels(y_true, name: str = "y_true") -> np.ndarray:
    y = np.asarray(y_true)
    if y.ndim != 2:
        raise ValueError(f"{name} must be a 2-D 0/1 matrix (n_items, n_tags), got shape {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{name} must hold only 0 and 1")
    return y.astype(np.int8)


def _decisions(y_true: np.ndarray, y_score, threshold: float) -> np.ndarray:
    s = np.asarray(y_score, dtype=float)
    if s.shape != y_true.shape:
        raise ValueError(f"y_score shape {s.shape} differs from y_true shape {y_true.shape}")
    if np.isnan(s).any():
        raise ValueError("y_score contains NaN")
    return (s >= threshold).astype(np.int8)


def multilabel_f1(y_true, y_score, *, threshold: float = 0.5) -> dict[str, float]:
    """Micro, macro and samples F1 of ``y_score >= threshold`` against ``y_true``.

    ``y_true``: (n_items, n_tags) 0/1; ``y_score``: same shape, probabilities
    (or 0/1 decisions). micro pools every (item, tag) decision; macro averages
    the per-tag F1 (rare tags count as much as common ones); samples averages
    the per-item F1. An empty denominator counts as 0 (scikit-learn
    ``zero_division=0``).
    """
    from sklearn.metrics import f1_score

    y_true = _labels(y_true)
    y_pred = _decisions(y_true, y_score, threshold)
    return {
        average: float(f1_score(y_true, y_pred, average=average, zero_division=0))
        for average in ("micro", "macro", "samples")
    }


def best_f1_threshold(y_true, y_score, *, thresholds: Sequence[float] | None = None,
                   average: str = "micro") -> tuple[float, float]:
    """The threshold (of ``thresholds``, default 0.05, 0.10, …, 0.95) with the best ``average`` F1, and that F1.

    Choose it on a validation split and apply it to the test split: a
    threshold picked on the test labels would flatter the model. Ties go to
    the higher threshold.
    """
    if average not in ("micro", "macro", "samples"):
        raise ValueError(f"average must be 'micro', 'macro' or 'samples', got {average!r}")
    grid = np.round(np.arange(0.05, 0.951, 0.05), 2) if thresholds is None else np.asarray(thresholds, dtype=float)
    if grid.ndim != 1 or len(grid) == 0:
        raise ValueError("thresholds must be a non-empty 1-D sequence")
    scores = [multilabel_f1(y_true, y_score, threshold=float(t))[average] for t in grid]
    best = len(scores) - 1 - int(np.argmax(scores[::-1]))
    return float(grid[best]), float(scores[best])


def per_tag_precision_recall(y_true, y_score, tags: Sequence[str], *, threshold: float = 0.5) -> pd.DataFrame:
    """One row per tag: ``tag, support, predicted, precision, recall, f1`` (sorted by support, descending)."""
    from sklearn.metrics import precision_recall_fscore_support

    y_true = _labels(y_true)
    y_pred = _decisions(y_true, y_score, threshold)
    tags = list(tags)
    if len(tags) != y_true.shape[1]:
        raise ValueError(f"{len(tags)} tag names for {y_true.shape[1]} columns")
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, average=None, zero_division=0
    )
    table = pd.DataFrame({
        "tag": tags, "support": support, "predicted": y_pred.sum(axis=0),
        "precision": precision, "recall": recall, "f1": f1,
    })
    return table.sort_values(["support", "tag"], ascending=[False, True], ignore_index=True)


class FrequencyBaseline:
    """A predictor that ignores the image and knows only each tag's training frequency (its prior).

    ``strategy="tuned"`` (default): every item gets the same tag set, the tags
    whose prior is at least a cut-off, the cut-off chosen on the *training*
    labels to maximise micro F1 there (closed form over the sorted priors). It
    is the strongest prior-only constant answer, so beating it means the model
    learned something from the pictures. ``"stratified"``: each tag drawn
    independently with probability equal to its prior (seeded; like
    scikit-learn's ``DummyClassifier(strategy="stratified")``). ``"prior"``:
    tags with prior ≥ 0.5 (scikit-learn's ``"prior"``/``"most_frequent"``).

    ``predict_proba(n)`` gives the priors for every item (n, n_tags);
    ``predict(n)`` the 0/1 decisions. Fitted: ``prior_``, ``cutoff_``.

    >>> FrequencyBaseline().fit([[1, 0, 1], [1, 1, 0], [1, 0, 0]]).predict(2).tolist()
    [[1, 0, 0], [1, 0, 0]]
    """

    STRATEGIES = ("tuned", "stratified", "prior")

    def __init__(self, strategy: str = "tuned", *, seed: RandomState = 0, random_state: RandomState = None) -> None:
        self.strategy = strategy
        self.seed = seed
        self.random_state = random_state   # deprecated old name of seed

    def fit(self, y_train) -> FrequencyBaseline:
        if self.strategy not in self.STRATEGIES:
            raise ValueError(f"strategy must be one of {self.STRATEGIES}, got {self.strategy!r}")
        y = _labels(y_train, "y_train")
        if len(y) == 0:
            raise ValueError("y_train has no rows")
        self.prior_ = y.mean(axis=0)
        self.cutoff_ = self._best_cutoff(y) if self.strategy == "tuned" else 0.5
        seed = self.seed
        if self.random_state is not None:
            warnings.warn("FrequencyBaseline(random_state=...) is deprecated: pass seed=...", DeprecationWarning,
                          stacklevel=2)
            seed = self.random_state
        self._rng = as_generator(seed, name="seed")
        return self

    @staticmethod
    def _best_cutoff(y: np.ndarray) -> float:
        """The prior cut-off maximising training micro F1 when every item gets {tags: prior >= cut-off}."""
        n, positives = y.shape[0], y.sum(axis=0).astype(float)
        if positives.sum() == 0:
            return float("inf")  # no tag ever present: predicting none is best
        order = np.argsort(-positives, kind="stable")
        tp = np.cumsum(positives[order])                   # predict the m most frequent tags, m = 1..n_tags
        fp = n * np.arange(1, len(order) + 1) - tp
        fn = positives.sum() - tp
        f1 = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros_like(tp), where=(2 * tp + fp + fn) > 0)
        # only cut between distinct priors: a cut-off keeps every tag tied with the last one kept
        prior_sorted = positives[order] / n
        distinct = np.append(prior_sorted[1:] < prior_sorted[:-1], True)
        f1 = np.where(distinct, f1, -1.0)
        return float(prior_sorted[int(np.argmax(f1))])

    def _check(self, n: int) -> None:
        if not hasattr(self, "prior_"):
            raise RuntimeError("FrequencyBaseline is not fitted: call fit(y_train) first")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")

    def predict_proba(self, n: int) -> np.ndarray:
        """The training prior of every tag, repeated for ``n`` items: (n, n_tags) float."""
        self._check(n)
        return np.tile(self.prior_, (n, 1))

    def predict(self, n: int) -> np.ndarray:
        """0/1 decisions (n, n_tags) int8 for ``n`` items by the chosen strategy."""
        self._check(n)
        if self.strategy == "stratified":
            return (self._rng.random((n, len(self.prior_))) < self.prior_).astype(np.int8)
        return np.tile(self.prior_ >= self.cutoff_, (n, 1)).astype(np.int8)
