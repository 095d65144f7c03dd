"""Keras BPR models: the loss against NumPy, the siamese score, regularisation, save / load."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from fashionsim.recommend import models as M  # noqa: E402


def numpy_bpr(x: np.ndarray) -> float:
    return float(np.mean(np.logaddexp(0.0, -x)))  # −log σ(x) = log(1 + e^−x), stable


def test_bpr_loss_matches_numpy_and_stays_finite():
    x = np.array([-1000.0, -30.0, -1.5, 0.0, 0.3, 4.0, 200.0], dtype=np.float32)
    expected = numpy_bpr(x.astype(np.float64))
    assert float(M.bpr_loss(None, x)) == pytest.approx(expected, rel=1e-6)
    assert float(M.BPRLoss()(np.zeros_like(x), x)) == pytest.approx(expected, rel=1e-6)
    # the reference's log(sigmoid(x)) underflows to −inf for very negative x (NaN gradients follow)
    with np.errstate(divide="ignore", over="ignore"):
        assert np.isinf(np.log(1.0 / (1.0 + np.exp(-x.astype(np.float32))))).any()


def test_bpr_loss_is_a_mean_not_a_sum():
    rng = np.random.default_rng(0)
    x = rng.normal(size=256).astype(np.float32)
    assert float(M.bpr_loss(None, x)) == pytest.approx(float(M.bpr_loss(None, np.tile(x, 4))), rel=1e-6)


def test_bpr_loss_gradient_matches_numpy():
    import tensorflow as tf

    x = tf.Variable(np.array([-3.0, -0.5, 0.0, 2.0], dtype=np.float32))
    with tf.GradientTape() as tape:
        loss = M.bpr_loss(None, x)
    grad = tape.gradient(loss, x).numpy()
    expected = -1.0 / (1.0 + np.exp(x.numpy())) / 4  # d/dx mean log(1+e^−x) = −σ(−x) / n
    np.testing.assert_allclose(grad, expected, rtol=1e-5)


def test_regularized_embedding_penalises_only_the_batch_rows():
    layer = M.RegularizedEmbedding(10, 3, l2=0.5)
    ids = keras.Input((), dtype="int32")
    model = keras.Model(ids, layer(ids))
    model(np.array([1, 2], dtype=np.int32))
    table = layer.embeddings.numpy()
    expected = 0.5 * np.mean(np.sum(table[[1, 2]] ** 2, axis=1))
    assert float(sum(model.losses)) == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="l2"):
        M.RegularizedEmbedding(3, 2, l2=-1.0)


def tiny_dvbpr(n_users: int = 5, size: int = 16):
    keras.utils.set_random_seed(0)
    tower = M.build_cnn_encoder(size, 4, widths=(4, 8), dense_units=8)
    return M.compile_bpr(M.build_dvbpr(tower, n_users)), tower


def test_dvbpr_score_is_theta_dot_difference():
    model, tower = tiny_dvbpr()
    rng = np.random.default_rng(1)
    images = rng.random((6, 16, 16, 3)).astype(np.float32)
    users = np.array([0, 3, 4], dtype=np.int32)
    x = np.asarray(model((users, images[:3], images[3:]), training=False))
    theta = model.get_layer("user_embedding").embeddings.numpy()[users]
    f = np.asarray(tower(images, training=False))
    np.testing.assert_allclose(x, np.sum(theta * (f[:3] - f[3:]), axis=1), rtol=1e-4, atol=1e-6)
    assert model.get_layer("item_difference").__class__.__name__ == "Subtract"  # a difference, not an L1 distance


def test_encoders_and_builders_validate_their_arguments():
    with pytest.raises(ValueError, match="too small"):
        M.build_cnn_encoder(8, 4, widths=(4, 8, 16))
    with pytest.raises(ValueError, match="multiple"):
        M.build_conv_autoencoder(30, widths=(4, 8))
    tower = M.build_cnn_encoder(16, 4, widths=(4,), dense_units=0)
    with pytest.raises(ValueError, match="n_users"):
        M.build_dvbpr(tower)


def roundtrip(model, path, inputs):
    before = np.asarray(model.predict(inputs, verbose=0))
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded.predict(inputs, verbose=0)), before, rtol=1e-5, atol=1e-6)
    return loaded


def test_save_and_load_cnn_dvbpr(tmp_path):
    model, _ = tiny_dvbpr()
    rng = np.random.default_rng(2)
    images = rng.random((8, 16, 16, 3)).astype(np.float32)
    users = np.arange(4, dtype=np.int32)
    model.fit((users, images[:4], images[4:]), np.zeros(4), epochs=1, verbose=0)
    loaded = roundtrip(model, tmp_path / "dvbpr.keras", (users, images[:4], images[4:]))
    assert isinstance(loaded.get_layer("user_embedding"), M.RegularizedEmbedding)
    assert isinstance(loaded.loss, M.BPRLoss)


def test_save_and_load_frozen_encoder_model(tmp_path):
    keras.utils.set_random_seed(0)
    autoencoder, encoder = M.build_conv_autoencoder(16, widths=(4, 8), code_dim=6)
    rng = np.random.default_rng(3)
    images = rng.random((6, 16, 16, 3)).astype(np.float32)
    assert autoencoder.output_shape == (None, 16, 16, 3)
    features = np.asarray(encoder(images))
    head = M.build_dense_head(6, 4, mean=features.mean(0), variance=features.var(0) + 1e-6)
    feature_model = M.build_dvbpr(head, 3)
    image_model = M.build_dvbpr(M.build_item_tower(encoder, head), user_embedding=feature_model.get_layer(
        "user_embedding"))
    assert not encoder.trainable and len(image_model.trainable_weights) == len(feature_model.trainable_weights)
    users = np.array([0, 1, 2], dtype=np.int32)
    # the image model and the feature model share θ and the head: same x_uij
    np.testing.assert_allclose(np.asarray(image_model((users, images[:3], images[3:]))),
                               np.asarray(feature_model((users, features[:3], features[3:]))), rtol=1e-5, atol=1e-6)
    roundtrip(image_model, tmp_path / "frozen.keras", (users, images[:3], images[3:]))


def test_save_and_load_bpr_mf(tmp_path):
    keras.utils.set_random_seed(0)
    model = M.compile_bpr(M.build_bpr_mf(4, 7, latent_dim=3))
    users, i, j = np.array([0, 1, 3]), np.array([1, 2, 6]), np.array([0, 5, 4])
    model.fit((users, i, j), np.zeros(3), epochs=2, verbose=0)
    roundtrip(model, tmp_path / "mf.keras", (users, i, j))
