"""fashionsim.multilabel: the classifier, checkpoint + resume on a tiny catalog, image vectors, cosine top-k."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fashionsim import multilabel

TINY = dict(backbone="mobilenet_v2", input_size=32, weights=None, batch_size=6, sources=("shop", "street"),
            validation=False, progress=False)


def test_labelled_images_gather_product_labels(tiny_catalog):
    from fashionsim.tags import TagExtractor

    ex = TagExtractor(n_nouns=3, n_adjectives=3).fit(tiny_catalog.products.description)
    shop = multilabel.labelled_images(tiny_catalog, ex, sources=["shop"])
    assert len(shop) == 12 and shop.labels.shape == (12, len(ex.classes_))
    assert shop.labels.dtype == np.float32
    red = list(ex.classes_).index("red")
    colours = tiny_catalog.image_table().set_index("image_id").loc[shop.image_ids, "color"].to_numpy()
    np.testing.assert_array_equal(shop.labels[:, red] == 1, colours == "red")
    assert shop.paths == tiny_catalog.image_paths(shop.image_ids)
    with pytest.raises(ValueError, match="sources"):
        multilabel.labelled_images(tiny_catalog, ex, sources=["catwalk"])


def test_build_classifier_shapes_and_errors():
    from fashionsim.models.multilabel import build_multilabel_classifier, image_vector_model

    model = build_multilabel_classifier(5, backbone="mobilenet_v2", input_size=32, weights=None)
    assert model.output_shape == (None, 5)
    assert model.layers[-1].activation.__name__ == "sigmoid"
    assert model.get_layer("tags_dropout").rate == pytest.approx(0.2)
    assert model.loss.__class__.__name__ == "BinaryCrossentropy"
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    assert image_vector_model(model).output_shape == (None, 1280)
    with pytest.raises(ValueError, match="n_tags"):
        build_multilabel_classifier(0, backbone="mobilenet_v2", input_size=32, weights=None)
    with pytest.raises(FileNotFoundError, match="weights file"):
        build_multilabel_classifier(3, backbone="mobilenet_v2", input_size=32, weights="missing.weights.h5")


@pytest.fixture
def eager():
    """Run Keras steps eagerly: tracing MobileNetV2's train step costs ~15 s of CPU per model, twice here.

    The code under test is the same; the notebook runs it in graph mode under nbval.
    """
    import tensorflow as tf

    before = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(True)
    yield
    tf.config.run_functions_eagerly(before)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Even though the `tf.config.experimental_run_functions_eagerly`:UserWarning")
def test_train_checkpoint_resume_and_vectors(tiny_catalog, tmp_path, eager):
    out = tmp_path / "run"
    first = multilabel.train_multilabel(tiny_catalog, out, epochs=1, **TINY)
    assert first.epoch == 1 and first.epochs_run == 1 and len(first.history["loss"]) == 1
    files = sorted(p.name for p in out.iterdir())
    assert files == ["checkpoint-0001.keras", "model.keras", "state.json", "tags.json"]  # no temp files left
    state = json.loads((out / "state.json").read_text())
    assert state["epoch"] == 1 and state["checkpoint"] == "checkpoint-0001.keras"
    assert state["classes"] == first.classes and "red" in first.classes
    assert json.loads((out / "tags.json").read_text())["classes"] == first.classes
    steps = int(first.model.optimizer.iterations.numpy())
    assert steps == 2  # 12 train images (3 products x 4) in batches of 6, one epoch
    before = [w.copy() for w in first.model.get_layer("tags").get_weights()]

    # a different configuration cannot resume
    with pytest.raises(ValueError, match="learning_rate"):
        multilabel.train_multilabel(tiny_catalog, out, epochs=2, resume=True, learning_rate=0.1, **TINY)

    second = multilabel.train_multilabel(tiny_catalog, out, epochs=2, resume=True, **TINY)
    assert second.epoch == 2 and second.epochs_run == 1
    assert second.history["loss"][0] == pytest.approx(first.history["loss"][0]) and len(second.history["loss"]) == 2
    # the optimizer state came back with the checkpoint: its step counter continues
    assert int(second.model.optimizer.iterations.numpy()) == 2 * steps
    assert not np.allclose(before[0], second.model.get_layer("tags").get_weights()[0])
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint-0002.keras", "model.keras", "state.json",
                                                       "tags.json"]
    # resuming a finished run trains nothing
    again = multilabel.train_multilabel(tiny_catalog, out, epochs=2, resume=True, **TINY)
    assert again.epochs_run == 0 and again.history == second.history

    model, classes, state = multilabel.load_multilabel(out)
    assert classes == first.classes and state["epoch"] == 2
    for saved, trained in zip(model.weights, second.model.weights, strict=True):  # model.keras = the trained model
        np.testing.assert_array_equal(saved.numpy(), trained.numpy())
    paths = tiny_catalog.image_paths()
    tags3 = multilabel.predict_tags(model, paths[:2], 32, classes, top_k=3, progress=False)
    assert all(len(t) == 3 and set(t) <= set(classes) for t in tags3)

    vectors = multilabel.image_vectors(model, tiny_catalog, 32, progress=False)
    assert vectors.shape == (len(tiny_catalog.images), 1280) and vectors.dtype == np.float32
    some = multilabel.image_vectors(model, tiny_catalog, 32, image_ids=["p1_0", "p0_3"], progress=False)
    np.testing.assert_allclose(some, vectors[[4, 3]], atol=1e-5)


def test_cosine_top_k_matches_brute_force():
    from sklearn.metrics.pairwise import cosine_similarity

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(50, 8)).astype(np.float32)
    vectors[20] = 0.0  # a zero vector in the gallery must not produce NaN
    queries = vectors[:12]
    idx, sim = multilabel.cosine_top_k(queries, vectors, 4, exclude=np.arange(12), chunk_size=5)
    full = cosine_similarity(queries, vectors)
    full[np.arange(12), np.arange(12)] = -np.inf
    expected = np.argsort(-full, axis=1, kind="stable")[:, :4]
    np.testing.assert_array_equal(idx, expected)
    np.testing.assert_allclose(sim, np.take_along_axis(full, expected, axis=1), atol=1e-5)
    assert (idx != np.arange(12)[:, None]).all() and np.isfinite(sim).all()  # never the query itself
    same, _ = multilabel.cosine_top_k(vectors[:3], vectors, 1)
    np.testing.assert_array_equal(same[:, 0], [0, 1, 2])  # without exclude, a vector's best match is itself
    with pytest.raises(ValueError, match="k must be"):
        multilabel.cosine_top_k(queries, vectors, 50, exclude=np.arange(12))
    with pytest.raises(ValueError, match="share d"):
        multilabel.cosine_top_k(queries[:, :3], vectors, 2)
