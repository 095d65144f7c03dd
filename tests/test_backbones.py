"""Backbones take [0, 1] images; weights None | file; preprocessing inside the model."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from fashionsim.models.backbones import ImagenetPreprocess, build_backbone  # noqa: E402


@pytest.mark.parametrize("mode,pixel,expected", [
    ("tf", [1.0, 0.5, 0.0], [1.0, 0.0, -1.0]),
    ("raw", [1.0, 0.5, 0.0], [255.0, 127.5, 0.0]),
    ("caffe", [1.0, 0.5, 0.0], [0.0 - 103.939, 127.5 - 116.779, 255.0 - 123.68]),
    ("torch", [0.485, 0.456, 0.406], [0.0, 0.0, 0.0]),
])
def test_preprocess_modes(mode, pixel, expected):
    out = ImagenetPreprocess(mode)(np.array([[[pixel]]], dtype="float32"))
    np.testing.assert_allclose(np.asarray(out)[0, 0, 0], expected, atol=1e-4)


def test_preprocess_rejects_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        ImagenetPreprocess("bgr")


def test_backbone_from_weights_file_reproduces_outputs(tmp_path):
    keras.utils.set_random_seed(0)
    net = build_backbone("mobilenet_v2", input_size=32, weights=None)
    x = np.random.default_rng(0).random((2, 32, 32, 3), dtype=np.float32)
    path = tmp_path / "mnv2.weights.h5"
    net.layers[-1].save_weights(path)
    again = build_backbone("mobilenet_v2", input_size=32, weights=path)
    np.testing.assert_allclose(net.predict_on_batch(x), again.predict_on_batch(x), atol=1e-5)
    assert net.output_shape == (None, 1280)


def test_backbone_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown backbone"):
        build_backbone("vgg99", input_size=75)
    with pytest.raises(ValueError, match="at least 75"):
        build_backbone("inception_v3", input_size=64)
    with pytest.raises(FileNotFoundError, match="weights file not found"):
        build_backbone("mobilenet_v2", input_size=32, weights=tmp_path / "missing.h5")
    with pytest.raises(ValueError, match="pooling"):
        build_backbone("mobilenet_v2", input_size=32, pooling="none")


def test_image_size_is_the_name_and_input_size_still_works_with_a_warning():
    import warnings

    from fashionsim.models.multilabel import build_multilabel_classifier

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = build_backbone("mobilenet_v2", image_size=32, weights=None)
        classifier = build_multilabel_classifier(3, backbone="mobilenet_v2", image_size=32, weights=None,
                                                 compile=False)
    assert net.input_shape == classifier.input_shape == (None, 32, 32, 3)
    with pytest.warns(FutureWarning, match=r"build_backbone\(input_size=\.\.\.\) is deprecated: pass image_size="):
        assert build_backbone("mobilenet_v2", input_size=32, weights=None).input_shape == (None, 32, 32, 3)
    with pytest.warns(FutureWarning, match=r"build_multilabel_classifier\(input_size="):
        build_multilabel_classifier(3, backbone="mobilenet_v2", input_size=32, weights=None, compile=False)
    with pytest.raises(ValueError, match="image_size for inception_v3 must be at least 75, got 64"):
        build_backbone("inception_v3", image_size=64)
    with pytest.raises(TypeError, match="both input_size="):
        build_backbone("mobilenet_v2", input_size=32, image_size=32)
