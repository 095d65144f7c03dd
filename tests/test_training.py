"""The siamese training loop on the tiny catalog: mining, batches, logs, collapse, checkpoints, resume."""

from __future__ import annotations

import json
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from fashionsim import images, training
from fashionsim.models.embedding import build_embedding_model

pytestmark = pytest.mark.slow
SIZE = 32


def tiny_model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return build_embedding_model(backbone="small_cnn", input_size=SIZE, hidden=16, embedding_dim=8)


def run(cat, **kwargs):
    options = dict(input_size=SIZE, epochs=2, triplets_per_epoch=12, batch_triplets=3, learning_rate=1e-3,
                   ks=(1, 2), progress=False, verbose=0, seed=0)
    options.update(kwargs)
    if "model" not in options and not options.get("resume"):
        options["model"] = tiny_model()
    return training.train_siamese(cat, **options)


def test_mine_triplets_rules(tiny_catalog):
    train = tiny_catalog.split("train")
    mined = training.mine_triplets(tiny_model(), train, 40, input_size=SIZE, seed=0)
    t = mined.triplets
    img = train.images.set_index("image_id")
    assert len(t) == 40 and mined.n_images <= len(img)
    assert (img.loc[t.anchor, "source"] == "street").all() and (img.loc[t.positive, "source"] == "shop").all()
    assert (img.loc[t.negative, "source"] == "shop").all()
    assert (img.loc[t.anchor, "product_id"].to_numpy() == t.product_id.to_numpy()).all()
    assert (img.loc[t.positive, "product_id"].to_numpy() == t.product_id.to_numpy()).all()
    assert (img.loc[t.negative, "product_id"].to_numpy() == t.negative_product_id.to_numpy()).all()
    assert (t.negative_product_id != t.product_id).all()
    np.testing.assert_allclose(t.margin, t.d_an - t.d_ap, atol=1e-9)
    assert mined.spread > 0
    again = training.mine_triplets(tiny_model(), train, 40, input_size=SIZE, seed=0)
    assert again.triplets[["anchor", "positive", "negative"]].equals(t[["anchor", "positive", "negative"]])


def test_triplet_batches_are_ordered_anchor_positive_negative(tiny_catalog):
    triplets = training.mine_triplets(tiny_model(), tiny_catalog.split("train"), 7, input_size=SIZE, seed=1).triplets
    ds = training.triplet_dataset(tiny_catalog, triplets, input_size=SIZE, batch_triplets=3, seed=0, augment=False)
    batches = list(ds)
    assert len(batches) == 2                          # 7 triplets -> 2 whole batches of 3 (remainder dropped)
    x, y = batches[1]
    assert x.shape == (9, SIZE, SIZE, 3) and y.shape == (9,)
    ids = triplets.iloc[3:6][["anchor", "positive", "negative"]].to_numpy().ravel()
    expected = np.stack([images.load_image(p, SIZE) for p in tiny_catalog.image_paths(ids)])
    np.testing.assert_array_equal(x.numpy(), expected)
    with pytest.raises(ValueError, match="cannot fill one batch"):
        training.triplet_dataset(tiny_catalog, triplets.iloc[:2], input_size=SIZE, batch_triplets=3, seed=0)


def test_training_logs_and_evaluates(tiny_catalog, tmp_path):
    result = run(tiny_catalog, epochs=3, eval_every=2, out_dir=tmp_path)
    h = result.history
    assert h["epoch"] == [1, 2, 3]
    for key in ("loss", "d_ap", "d_an", "active_fraction", "mined_d_ap", "mined_d_an", "spread",
                "mined_semihard_fraction"):
        assert len(h[key]) == 3 and all(np.isfinite(h[key])), key
    assert all(0.0 <= v <= 1.0 for v in h["active_fraction"])
    assert h["collapsed"] == [False, False, False] and not result.collapsed
    # evaluated at epoch 2 (eval_every) and at the last epoch only
    assert h["val_recall@1"][0] is None and h["val_recall@1"][1] is not None and h["val_recall@1"][2] is not None
    assert len(result.margins) == 4                    # before epoch 1, then after every epoch
    state = json.loads((tmp_path / "checkpoint" / "state.json").read_text())
    assert state["epoch"] == 3 and state["history"]["epoch"] == [1, 2, 3]
    model, _ = training.load_checkpoint(tmp_path)
    x = np.random.default_rng(0).random((2, SIZE, SIZE, 3), dtype=np.float32)
    np.testing.assert_allclose(model.predict_on_batch(x), result.model.predict_on_batch(x), rtol=1e-5, atol=1e-6)


def test_resume_continues_where_the_checkpoint_stopped(tiny_catalog, tmp_path):
    options = dict(eval_split="test", select_by="val_recall@1", min_selection_queries=1)
    full = run(tiny_catalog, epochs=2, out_dir=tmp_path / "full", **options)
    run(tiny_catalog, epochs=1, out_dir=tmp_path / "parts", **options)
    resumed = run(tiny_catalog, epochs=2, out_dir=tmp_path / "parts", resume=True, **options)
    assert resumed.history["epoch"] == [1, 2] and resumed.best_epoch == full.best_epoch
    np.testing.assert_allclose(resumed.history["loss"], full.history["loss"], rtol=1e-4, atol=1e-6)
    for a, b in zip(resumed.model.get_weights(), full.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="do not pass model"):
        run(tiny_catalog, model=tiny_model(), out_dir=tmp_path / "parts", resume=True)
    with pytest.raises(ValueError, match="margin"):
        run(tiny_catalog, epochs=3, out_dir=tmp_path / "parts", resume=True, margin=0.5)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        run(tiny_catalog, out_dir=tmp_path / "empty", resume=True)
    with pytest.raises(ValueError, match="needs out_dir"):
        run(tiny_catalog, resume=True)


def test_select_by_keeps_the_best_validation_epoch(tiny_catalog, tmp_path):
    result = run(tiny_catalog, epochs=3, eval_every=1, eval_split="test", select_by="val_recall@1",
                 out_dir=tmp_path, learning_rate=0.01, min_selection_queries=1)  # 4 queries: selection on request
    scores = result.history["val_recall@1"]
    best = int(np.argmax(scores)) + 1                     # first epoch reaching the maximum
    assert result.best_epoch == best
    state = json.loads((tmp_path / "checkpoint" / "state.json").read_text())
    assert state["best_epoch"] == best and state["best_value"] == max(scores)
    check = tiny_model()
    check.load_weights(tmp_path / "checkpoint" / "best.weights.h5")
    for a, b in zip(check.get_weights(), result.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="select_by must be one of"):
        run(tiny_catalog, select_by="loss")


def constant_model() -> keras.Model:
    """A model whose output ignores its input: every image gets the same unit vector."""
    model = tiny_model()
    fc2 = model.get_layer("fc2")
    kernel, bias = fc2.get_weights()
    fc2.set_weights([np.zeros_like(kernel), np.linspace(-1.0, 1.0, len(bias)).astype(bias.dtype)])
    fc2.trainable = False
    return model


def test_collapse_is_detected_and_reported(tiny_catalog):
    with pytest.warns(training.CollapseWarning, match="collapsed at epoch 1"):
        result = run(tiny_catalog, model=constant_model(), epochs=2, stop_on_collapse=True)
    h = result.history
    assert result.collapsed and h["collapsed"] == [True] and h["epoch"] == [1]   # stopped at once
    assert h["d_ap"][0] < 1e-6 and h["d_an"][0] < 1e-6 and h["spread"][0] < 1e-6
    assert h["loss"][0] == pytest.approx(0.3, abs=1e-5)      # stuck at the margin
    assert h["active_fraction"][0] == 1.0


def test_distribution_strategy_and_argument_checks(tiny_catalog):
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    with strategy.scope():
        model = tiny_model()
    with warnings.catch_warnings():
        warnings.simplefilter("error", training.CollapseWarning)
        result = run(tiny_catalog, model=model, epochs=1, strategy=strategy)
    assert result.history["epoch"] == [1] and np.isfinite(result.history["loss"][0])
    built = run(tiny_catalog, model=None, backbone="small_cnn", epochs=1, strategy=tf.distribute.get_strategy())
    assert built.model.output_shape == (None, 128)
    with pytest.raises(ValueError, match="must be >= batch_triplets"):
        run(tiny_catalog, triplets_per_epoch=2, batch_triplets=3)
    with pytest.raises(ValueError, match="input_size"):
        run(tiny_catalog, input_size=0)
    with pytest.raises(ValueError, match="takes inputs"):
        run(tiny_catalog, input_size=48)


def test_save_model_takes_an_uncompiled_model(tmp_path):
    model = tiny_model()
    path = training.save_model(model, tmp_path / "bare.keras")
    reloaded = keras.models.load_model(path, compile=False)
    x = np.random.default_rng(0).random((2, SIZE, SIZE, 3), dtype=np.float32)
    np.testing.assert_allclose(reloaded.predict_on_batch(x), model.predict_on_batch(x), atol=1e-6)
