"""Triplet losses for metric learning, as functions and as serializable Keras classes.

Two ways to feed a triplet loss:

* :func:`margin_triplet_loss` / :class:`MarginTripletLoss`: the batch is a flat
  list of embeddings ordered (anchor, positive, negative, anchor, positive,
  negative, ...), the triplets having been chosen beforehand (offline mining,
  :mod:`fashionsim.mining`). Loss per triplet ``max(d(a, p) − d(a, n) + margin, 0)``
  with squared L2 distances, averaged over the triplets.
* :func:`semihard_triplet_loss` / :class:`SemiHardTripletLoss`: the batch is a
  set of labelled embeddings and the triplets are chosen inside it (FaceNet's
  online semi-hard mining): every (anchor, positive) pair of the same label
  takes the closest negative that is farther than the positive, else the
  farthest negative.

The batch statistics :func:`triplet_ap_distance`, :func:`triplet_an_distance`
and :func:`triplet_active_fraction` are Keras metric functions for the
(a, p, n) layout: they are what shows a collapse (every distance → 0, the loss
stuck at the margin). Taught in notebook 03.

>>> import numpy as np
>>> batch = np.array([[0.0, 0.0], [0.5, 0.0], [0.6, 0.0]], np.float32)   # one (anchor, positive, negative)
>>> [round(float(d[0]), 3) for d in triplet_distances(batch)]          # ||a - p||², ||a - n||²
[0.25, 0.36]
>>> round(float(MarginTripletLoss(margin=0.3)(np.zeros(3), batch)), 3)  # max(0.25 - 0.36 + 0.3, 0)
0.19
>>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
>>> model.compile(optimizer="adam", loss=MarginTripletLoss(margin=0.3), metrics=[triplet_active_fraction])
"""

from __future__ import annotations

import keras
from keras import ops

__all__ = [
    "margin_triplet_loss", "MarginTripletLoss", "semihard_triplet_loss", "SemiHardTripletLoss",
    "triplet_distances", "triplet_ap_distance", "triplet_an_distance", "triplet_active_fraction",
]

DEFAULT_MARGIN = 0.3


def _check_margin(margin: float) -> float:
    margin = float(margin)
    if not margin >= 0.0:  # also refuses NaN
        raise ValueError(f"margin must be a non-negative number, got {margin}")
    return margin


def _check_triplet_batch(y_pred) -> None:
    """Refuse a batch whose (static) size is not a multiple of 3, or that is not (batch, d)."""
    shape = tuple(y_pred.shape)
    if len(shape) != 2:
        raise ValueError(f"triplet embeddings must be a (3 * n_triplets, d) batch, got shape {shape}")
    if shape[0] is not None and shape[0] % 3 != 0:
        raise ValueError(
            f"a triplet batch is ordered (anchor, positive, negative, ...): its size must be a multiple of 3, "
            f"got {shape[0]}"
        )


def triplet_distances(y_pred):
    """Squared L2 distances ``(d(a, p), d(a, n))``, each of shape (n_triplets,), of an (a, p, n, ...) batch."""
    _check_triplet_batch(y_pred)
    triplets = ops.reshape(y_pred, (-1, 3, ops.shape(y_pred)[-1]))
    anchor, positive, negative = triplets[:, 0], triplets[:, 1], triplets[:, 2]
    d_ap = ops.sum(ops.square(anchor - positive), axis=-1)
    d_an = ops.sum(ops.square(anchor - negative), axis=-1)
    return d_ap, d_an


def _per_triplet_margin_loss(y_pred, margin: float):
    d_ap, d_an = triplet_distances(y_pred)
    return ops.maximum(d_ap - d_an + margin, 0.0)


def margin_triplet_loss(y_true, y_pred, margin: float = DEFAULT_MARGIN):
    """Mean margin triplet loss of a flat (a, p, n, a, p, n, ...) batch of embeddings.

    ``y_pred``: (3 * n_triplets, d) embeddings; ``y_true`` is ignored (Keras
    passes dummy targets). Returns a scalar: the mean over triplets of
    ``max(||a − p||² − ||a − n||² + margin, 0)``.

    >>> float(margin_triplet_loss(None, [[0., 0.], [0., 0.], [1., 0.]], margin=0.3))   # n is 1 away, p 0
    0.0
    """
    del y_true
    margin = _check_margin(margin)
    y_pred = ops.convert_to_tensor(y_pred)
    return ops.mean(_per_triplet_margin_loss(y_pred, margin))


@keras.saving.register_keras_serializable(package="fashionsim")
class MarginTripletLoss(keras.losses.Loss):
    """Keras loss for flat (a, p, n, ...) batches; see :func:`margin_triplet_loss`.

    ``model.compile(optimizer="adam", loss=MarginTripletLoss(margin=0.3))`` (an example runs in the
    module docstring).
    """

    def __init__(self, margin: float = DEFAULT_MARGIN, name: str = "margin_triplet_loss", **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.margin = _check_margin(margin)

    def call(self, y_true, y_pred):
        # One loss value per triplet; the base class averages them ("sum_over_batch_size").
        return _per_triplet_margin_loss(y_pred, self.margin)

    def get_config(self) -> dict:
        return {**super().get_config(), "margin": self.margin}


def _pairwise_squared_distances(embeddings):
    squared = ops.sum(ops.square(embeddings), axis=1)
    dist = ops.expand_dims(squared, 1) + ops.expand_dims(squared, 0) - 2.0 * ops.matmul(
        embeddings, ops.transpose(embeddings)
    )
    dist = ops.maximum(dist, 0.0)
    # Exact zeros on the diagonal (no round-off), so an embedding is at distance 0 from itself.
    n = ops.shape(embeddings)[0]
    return dist * (1.0 - ops.eye(n, dtype=dist.dtype))


def semihard_triplet_loss(labels, embeddings, margin: float = DEFAULT_MARGIN):
    """FaceNet's in-batch semi-hard triplet loss over a labelled batch (squared L2).

    ``labels``: (batch,) integer class ids; ``embeddings``: (batch, d). Every
    ordered pair (a, p) of distinct rows with the same label is a positive pair;
    its negative is the row of another label closest to ``a`` among those
    farther than ``p`` (semi-hard), else the farthest row of another label.
    Returns the mean of ``max(d(a, p) − d(a, n) + margin, 0)`` over positive
    pairs (0 when the batch has no positive pair or no negative).

    >>> # pair (0, 1): row 2 is semi-hard (0.36 > 0.25); pair (1, 0): none is, so the farthest (0.01)
    >>> round(float(semihard_triplet_loss([0, 0, 1], [[0., 0.], [0.5, 0.], [0.6, 0.]], margin=0.3)), 3)
    0.365
    """
    margin = _check_margin(margin)
    embeddings = ops.convert_to_tensor(embeddings)
    if len(embeddings.shape) != 2:
        raise ValueError(f"embeddings must be (batch, d), got shape {tuple(embeddings.shape)}")
    labels = ops.reshape(ops.convert_to_tensor(labels), (-1,))
    if embeddings.shape[0] is not None and labels.shape[0] is not None and labels.shape[0] != embeddings.shape[0]:
        raise ValueError(f"labels has {labels.shape[0]} entries but embeddings has {embeddings.shape[0]} rows")
    dtype = embeddings.dtype
    dist = _pairwise_squared_distances(embeddings)                       # (b, b): d(a, j)
    n = ops.shape(embeddings)[0]
    same = ops.equal(ops.expand_dims(labels, 1), ops.expand_dims(labels, 0))
    positive_pair = ops.logical_and(same, ops.logical_not(ops.cast(ops.eye(n), "bool")))
    negative = ops.logical_not(same)                                      # (b, b): j is a negative of a

    # For every (a, p): the candidates n with d(a, n) > d(a, p), as a (b, b, b) mask over [a, p, n].
    d_an = ops.expand_dims(dist, 1)                                       # [a, 1, n]
    d_ap = ops.expand_dims(dist, 2)                                       # [a, p, 1]
    semihard = ops.logical_and(ops.expand_dims(negative, 1), d_an > d_ap)  # [a, p, n]
    big = ops.max(dist) + 1.0
    closest_semihard = ops.min(ops.where(semihard, d_an, big), axis=2)     # [a, p]
    has_semihard = ops.any(semihard, axis=2)
    farthest = ops.max(ops.where(negative, dist, -1.0), axis=1)           # [a]
    chosen = ops.where(has_semihard, closest_semihard, ops.expand_dims(farthest, 1))

    has_negative = ops.any(negative, axis=1, keepdims=True)               # anchors with a negative at all
    valid = ops.cast(ops.logical_and(positive_pair, has_negative), dtype)
    loss = ops.maximum(dist - chosen + margin, 0.0) * valid
    count = ops.sum(valid)
    return ops.sum(loss) / ops.maximum(count, ops.cast(1.0, dtype))


@keras.saving.register_keras_serializable(package="fashionsim")
class SemiHardTripletLoss(keras.losses.Loss):
    """Keras loss over labelled batches (``y_true`` = class ids); see :func:`semihard_triplet_loss`."""

    def __init__(self, margin: float = DEFAULT_MARGIN, name: str = "semihard_triplet_loss", **kwargs) -> None:
        super().__init__(name=name, **kwargs)
        self.margin = _check_margin(margin)

    def call(self, y_true, y_pred):
        return semihard_triplet_loss(y_true, y_pred, self.margin)

    def get_config(self) -> dict:
        return {**super().get_config(), "margin": self.margin}


# --------------------------------------------------------------------- metrics
@keras.saving.register_keras_serializable(package="fashionsim")
def triplet_ap_distance(y_true, y_pred):
    """Per-triplet squared distance anchor–positive of an (a, p, n, ...) batch (a Keras metric function)."""
    del y_true
    return triplet_distances(y_pred)[0]


@keras.saving.register_keras_serializable(package="fashionsim")
def triplet_an_distance(y_true, y_pred):
    """Per-triplet squared distance anchor–negative of an (a, p, n, ...) batch (a Keras metric function)."""
    del y_true
    return triplet_distances(y_pred)[1]


@keras.saving.register_keras_serializable(package="fashionsim")
def triplet_active_fraction(y_true, y_pred, margin: float = DEFAULT_MARGIN):
    """1.0 for each triplet whose margin loss is non-zero, else 0.0 (its mean is the active fraction)."""
    del y_true
    d_ap, d_an = triplet_distances(y_pred)
    return ops.cast(d_ap - d_an + margin > 0.0, y_pred.dtype)
