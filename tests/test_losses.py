"""Triplet losses against plain NumPy references, values and gradients."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from fashionsim import losses


# ------------------------------------------------------------------ references
def np_margin_loss(batch: np.ndarray, margin: float) -> float:
    a, p, n = batch[0::3], batch[1::3], batch[2::3]
    d_ap = ((a - p) ** 2).sum(1)
    d_an = ((a - n) ** 2).sum(1)
    return float(np.maximum(d_ap - d_an + margin, 0).mean())


def np_margin_grad(batch: np.ndarray, margin: float) -> np.ndarray:
    """Analytic gradient of the mean margin loss with respect to every row of the batch."""
    a, p, n = batch[0::3], batch[1::3], batch[2::3]
    t = len(a)
    active = ((((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1) + margin) > 0)[:, None]
    grad = np.zeros_like(batch)
    grad[0::3] = active * 2 * (n - p) / t
    grad[1::3] = active * 2 * (p - a) / t
    grad[2::3] = active * 2 * (a - n) / t
    return grad


def np_semihard_loss(labels: np.ndarray, emb: np.ndarray, margin: float) -> float:
    """FaceNet semi-hard loss, one (anchor, positive) pair at a time."""
    b = len(emb)
    dist = ((emb[:, None, :] - emb[None, :, :]) ** 2).sum(-1)
    total, count = 0.0, 0
    for i, j in itertools.permutations(range(b), 2):
        if labels[i] != labels[j]:
            continue
        negs = [k for k in range(b) if labels[k] != labels[i]]
        if not negs:
            continue
        semihard = [k for k in negs if dist[i, k] > dist[i, j]]
        d_an = min(dist[i, k] for k in semihard) if semihard else max(dist[i, k] for k in negs)
        total += max(dist[i, j] - d_an + margin, 0.0)
        count += 1
    return total / max(count, 1)


def unit_rows(rng, n, d):
    x = rng.normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# ------------------------------------------------------------- margin triplet
@pytest.mark.parametrize("seed", range(5))
def test_margin_loss_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    batch = unit_rows(rng, 3 * 14, 16)
    got = float(losses.margin_triplet_loss(None, batch.astype("float32"), margin=0.3))
    assert got == pytest.approx(np_margin_loss(batch, 0.3), rel=1e-5, abs=1e-6)
    got_class = float(losses.MarginTripletLoss(margin=0.3)(np.zeros(len(batch)), batch.astype("float32")))
    assert got_class == pytest.approx(got, rel=1e-6)


def test_margin_loss_known_answers():
    perfect = np.array([[1, 0], [1, 0], [-1, 0]], dtype="float32")  # d(a,p)=0, d(a,n)=4
    assert float(losses.margin_triplet_loss(None, perfect)) == 0.0
    collapsed = np.ones((6, 4), dtype="float32")  # every distance 0: the loss is the margin
    assert float(losses.margin_triplet_loss(None, collapsed, margin=0.3)) == pytest.approx(0.3)


@pytest.mark.parametrize("seed", range(3))
def test_margin_loss_gradient_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    batch = unit_rows(rng, 3 * 10, 8)
    x = tf.Variable(batch)
    with tf.GradientTape() as tape:
        loss = losses.margin_triplet_loss(None, x, margin=0.5)
    grad = tape.gradient(loss, x).numpy()
    assert np.isfinite(grad).all()
    np.testing.assert_allclose(grad, np_margin_grad(batch, 0.5), rtol=1e-9, atol=1e-12)
    assert np.abs(grad).sum() > 0  # some triplets are active with random inputs


def test_margin_loss_gradient_finite_when_collapsed():
    x = tf.Variable(np.zeros((9, 4)))
    with tf.GradientTape() as tape:
        loss = losses.MarginTripletLoss(dtype="float64")(np.zeros(9), x)
    grad = tape.gradient(loss, x).numpy()
    assert np.isfinite(grad).all()


def test_margin_loss_refuses_bad_batches():
    with pytest.raises(ValueError, match="multiple of 3"):
        losses.margin_triplet_loss(None, np.zeros((4, 2), "float32"))
    with pytest.raises(ValueError, match=r"\(3 \* n_triplets, d\)"):
        losses.margin_triplet_loss(None, np.zeros((6,), "float32"))
    with pytest.raises(ValueError, match="margin"):
        losses.MarginTripletLoss(margin=-1.0)


def test_batch_statistics_metrics():
    rng = np.random.default_rng(0)
    batch = unit_rows(rng, 12, 5)
    a, p, n = batch[0::3], batch[1::3], batch[2::3]
    np.testing.assert_allclose(losses.triplet_ap_distance(None, batch), ((a - p) ** 2).sum(1), rtol=1e-9)
    np.testing.assert_allclose(losses.triplet_an_distance(None, batch), ((a - n) ** 2).sum(1), rtol=1e-9)
    active = (((a - p) ** 2).sum(1) - ((a - n) ** 2).sum(1) + 0.3 > 0).astype(float)
    np.testing.assert_array_equal(losses.triplet_active_fraction(None, batch, margin=0.3), active)


# ----------------------------------------------------------- semi-hard in batch
@pytest.mark.parametrize("seed", range(6))
def test_semihard_loss_matches_numpy(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=12)
    emb = unit_rows(rng, 12, 6)
    expected = np_semihard_loss(labels, emb, 0.3)
    got = float(losses.semihard_triplet_loss(labels, emb, margin=0.3))
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)
    got_class = float(losses.SemiHardTripletLoss(margin=0.3)(labels, emb))  # float32 by default
    assert got_class == pytest.approx(expected, rel=1e-5, abs=1e-6)
    got_64 = float(losses.SemiHardTripletLoss(margin=0.3, dtype="float64")(labels, emb))
    assert got_64 == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_semihard_loss_edge_cases():
    emb = unit_rows(np.random.default_rng(0), 4, 3)
    assert float(losses.semihard_triplet_loss([0, 1, 2, 3], emb)) == 0.0      # no positive pair
    assert float(losses.semihard_triplet_loss([5, 5, 5, 5], emb)) == 0.0      # no negative
    with pytest.raises(ValueError, match="labels has 3 entries"):
        losses.semihard_triplet_loss([0, 1, 2], emb)


@pytest.mark.parametrize("seed", range(3))
def test_semihard_loss_gradient_matches_finite_differences(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, size=9)
    emb = rng.normal(size=(9, 4))
    x = tf.Variable(emb)
    with tf.GradientTape() as tape:
        loss = losses.semihard_triplet_loss(labels, x, margin=1.0)
    grad = tape.gradient(loss, x).numpy()
    assert np.isfinite(grad).all()
    eps = 1e-6
    numeric = np.zeros_like(emb)
    for idx in np.ndindex(*emb.shape):
        up, down = emb.copy(), emb.copy()
        up[idx] += eps
        down[idx] -= eps
        numeric[idx] = (np_semihard_loss(labels, up, 1.0) - np_semihard_loss(labels, down, 1.0)) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-7)
    assert np.abs(grad).sum() > 0


# ---------------------------------------------------------------- serialisation
@pytest.mark.parametrize("cls", [losses.MarginTripletLoss, losses.SemiHardTripletLoss])
def test_losses_round_trip_through_keras_serialisation(cls):
    loss = cls(margin=0.7)
    config = keras.saving.serialize_keras_object(loss)
    again = keras.saving.deserialize_keras_object(config)
    assert type(again) is cls and again.margin == 0.7
