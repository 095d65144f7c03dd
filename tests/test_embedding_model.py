"""The siamese embedding model: architecture, L2 normalisation, .keras save/load (also in a fresh process)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from fashionsim import losses
from fashionsim.models.embedding import L2Normalize, build_embedding_model, build_small_cnn, load_embedding_model


def test_l2_normalize_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0], [-1e-3, 0.0]], dtype="float32")
    out = np.asarray(L2Normalize()(x))
    np.testing.assert_allclose(out[0], [0.6, 0.8], rtol=1e-6)
    assert np.isfinite(out).all() and (out[1] == 0).all()      # a zero row stays zero, no NaN
    np.testing.assert_allclose(np.linalg.norm(out[2]), 1.0, rtol=1e-6)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(L2Normalize(epsilon=1e-6)))
    assert isinstance(again, L2Normalize) and again.epsilon == 1e-6


@pytest.mark.slow
def test_default_architecture_is_the_reference_one():
    model = build_embedding_model(input_size=75)           # InceptionV3, random weights
    assert model.input_shape == (None, 75, 75, 3) and model.output_shape == (None, 128)
    backbone = model.layers[1]
    assert backbone.name == "inception_v3_backbone" and backbone.output_shape == (None, 2048)
    fc1, fc2, norm = model.get_layer("fc1"), model.get_layer("fc2"), model.get_layer("l2_norm")
    assert fc1.units == 512 and fc1.activation.__name__ == "elu"
    assert fc2.units == 128 and fc2.activation.__name__ == "linear"
    assert isinstance(norm, L2Normalize)
    assert not any(isinstance(layer, keras.layers.Lambda) for layer in model._flatten_layers())
    out = model.predict_on_batch(np.random.default_rng(0).random((2, 75, 75, 3), dtype=np.float32))
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)


def test_options_and_bad_arguments():
    model = build_embedding_model(backbone="small_cnn", input_size=32, embedding_dim=16, hidden=0, bn_momentum=0.9)
    assert model.output_shape == (None, 16)
    assert "fc1" not in [layer.name for layer in model.layers]
    bns = [la for la in model._flatten_layers() if isinstance(la, keras.layers.BatchNormalization)]
    assert bns and all(la.momentum == 0.9 for la in bns)
    with pytest.raises(ValueError, match="unknown backbone"):
        build_embedding_model(backbone="vgg1", input_size=32)
    with pytest.raises(ValueError, match="at least 75"):
        build_embedding_model(backbone="inception_v3", input_size=64)
    with pytest.raises(FileNotFoundError, match="weights file not found"):
        build_embedding_model(backbone="mobilenet_v2", input_size=32, weights="/nonexistent/w.weights.h5")
    with pytest.raises(ValueError, match="no pretrained weights"):
        build_embedding_model(backbone="small_cnn", input_size=32, weights="imagenet")
    with pytest.raises(ValueError, match="does not match input_size"):
        build_embedding_model(backbone=build_small_cnn(32), input_size=48)
    with pytest.raises(ValueError, match="bn_momentum"):
        build_embedding_model(backbone="small_cnn", input_size=32, bn_momentum=1.5)
    with pytest.raises(ValueError, match="embedding_dim"):
        build_embedding_model(backbone="small_cnn", input_size=32, embedding_dim=0)


def _compiled_model():
    keras.utils.set_random_seed(1)
    # mobilenet_v2 brings the registered ImagenetPreprocess layer of the backbones module along.
    model = build_embedding_model(backbone="mobilenet_v2", input_size=32, hidden=32, embedding_dim=8)
    model.compile(optimizer="adam", loss=losses.MarginTripletLoss(margin=0.25),
                  metrics=[keras.metrics.MeanMetricWrapper(losses.triplet_active_fraction, name="active",
                                                           margin=0.25)])
    return model


@pytest.mark.slow
def test_save_and_load_in_a_fresh_process(tmp_path):
    model = _compiled_model()
    x = np.random.default_rng(0).random((3, 32, 32, 3), dtype=np.float32)
    # (optimizer state through save / load is covered by the resume test of test_training.py)
    expected = model.predict_on_batch(x)
    model.save(tmp_path / "model.keras")
    np.save(tmp_path / "x.npy", x)
    np.testing.assert_allclose(load_embedding_model(tmp_path / "model.keras").predict_on_batch(x), expected,
                               rtol=1e-5, atol=1e-6)
    script = textwrap.dedent(f"""
        import numpy as np, keras
        import fashionsim.losses, fashionsim.models.embedding   # registration only
        model = keras.models.load_model({str(tmp_path / "model.keras")!r})
        assert type(model.loss).__name__ == "MarginTripletLoss" and model.loss.margin == 0.25, model.loss
        np.save({str(tmp_path / "out.npy")!r}, model.predict_on_batch(np.load({str(tmp_path / "x.npy")!r})))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=dict(os.environ),
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, rtol=1e-5, atol=1e-6)


def test_load_embedding_model_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="embedding model not found"):
        load_embedding_model(tmp_path / "nope.keras")


def test_image_size_is_the_name_and_input_size_still_works_with_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = build_embedding_model(backbone="small_cnn", image_size=32, hidden=0, embedding_dim=4)
        assert build_small_cnn(32).input_shape == build_small_cnn(image_size=32).input_shape == (None, 32, 32, 3)
    assert model.input_shape == (None, 32, 32, 3)
    with pytest.warns(FutureWarning, match=r"build_embedding_model\(input_size=\.\.\.\) is deprecated"):
        old = build_embedding_model(backbone="small_cnn", input_size=32, hidden=0, embedding_dim=4)
    assert old.input_shape == model.input_shape and old.output_shape == model.output_shape
    with pytest.warns(FutureWarning, match=r"build_small_cnn\(input_size="):
        build_small_cnn(input_size=32)
    with pytest.raises(ValueError, match="image_size must be at least 32 for 4 blocks, got 16"):
        build_small_cnn(16)
    with pytest.raises(ValueError, match=r"\(image_size=48\)"):
        build_embedding_model(backbone=build_small_cnn(32), image_size=48)
