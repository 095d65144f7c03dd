"""Training DVBPR / BPR-MF end to end on a tiny catalog: artifacts, resume, scoring, cold start."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")

from fashionsim.data import Catalog  # noqa: E402
from fashionsim.recommend import (  # noqa: E402
    FactorScores,
    interactions_from_catalog,
    item_image_ids,
    load_dvbpr,
    load_item_images,
    model_scores,
    score_new_item,
    top_n,
    train_bpr_mf,
    train_dvbpr,
    user_vectors,
    users_for_new_item,
)
from fashionsim.recommend.scoring import embed_array, item_tower  # noqa: E402

SMALL = dict(image_size=16, widths=(4, 8), dense_units=0, latent_dim=4, batch_size=8, progress=False, seed=0)


def test_item_image_is_the_first_shop_image(tiny_catalog):
    ids = item_image_ids(tiny_catalog, ["p2", "p0"])
    assert list(ids) == ["p2_0", "p0_0"]
    images = tiny_catalog.images
    no_shop = images[~((images.product_id == "p1") & (images.source == "shop"))]
    cat = Catalog(tiny_catalog.products, no_shop, tiny_catalog.interactions, root=tiny_catalog.root)
    assert list(item_image_ids(cat, ["p1", "p0"])) == ["p1_2", "p0_0"]  # no shop photo: first image of any source
    with pytest.raises(KeyError, match="nope"):
        item_image_ids(cat, ["nope"])


def test_load_item_images(tiny_catalog):
    from fashionsim import images

    arr = load_item_images(tiny_catalog, ["p0", "p3"], 16)
    assert arr.shape == (2, 16, 16, 3) and arr.dtype == np.float32
    np.testing.assert_allclose(arr[1], images.load_image(tiny_catalog.image_path("p3_0"), 16), atol=1e-6)


def test_factor_scores_and_top_n():
    rng = np.random.default_rng(0)
    users, items, bias = rng.normal(size=(5, 3)), rng.normal(size=(9, 3)), rng.normal(size=9)
    scores = FactorScores(users, items, bias)
    dense = users @ items.T + bias
    np.testing.assert_allclose(scores.dense(), dense, rtol=1e-5)
    np.testing.assert_allclose(scores[np.array([4, 1])], dense[[4, 1]], rtol=1e-5)
    import scipy.sparse as sp

    exclude = sp.csr_matrix(rng.random((5, 9)) < 0.3)
    got, values = top_n(scores, [0, 2, 4], n=4, exclude=exclude)
    for row, u in enumerate([0, 2, 4]):
        masked = np.where(exclude[u].toarray()[0], -np.inf, dense[u])
        np.testing.assert_array_equal(got[row], np.argsort(-masked, kind="stable")[:4])
        assert (np.diff(values[row]) <= 0).all()
    with pytest.raises(ValueError, match="n must"):
        top_n(scores, [0], n=0)
    with pytest.raises(ValueError, match="user codes"):
        top_n(scores, [7], n=2)
    with pytest.raises(ValueError, match="share d"):
        FactorScores(users, items[:, :2])


def test_train_dvbpr_cnn_writes_artifacts_and_scores(tiny_catalog, tmp_path):
    result = train_dvbpr(tiny_catalog, variant="cnn", epochs=2, out_dir=tmp_path / "run", **SMALL)
    assert len(result.history["val_auc"]) == 2 and result.best_epoch in (0, 1)
    assert np.isfinite(result.history["loss"]).all()
    for name in ("model.keras", "meta.json", "item_embeddings.npy", "item_embeddings.json",
                 "checkpoint/train.keras", "checkpoint/best.keras", "checkpoint/state.json"):
        assert (tmp_path / "run" / name).is_file(), name
    loaded = load_dvbpr(tmp_path / "run")
    assert list(loaded.item_ids) == list(tiny_catalog.products.product_id)
    assert loaded.meta["variant"] == "cnn" and loaded.image_size == 16
    # item vectors streamed from the files equal those from the in-memory pictures
    np.testing.assert_allclose(loaded.item_vectors, result.item_vectors, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(loaded.scores().dense(), result.scores().dense(), rtol=1e-4, atol=1e-5)
    pictures = load_item_images(tiny_catalog, loaded.item_ids, 16)
    np.testing.assert_allclose(model_scores(loaded.model, pictures).dense(), result.scores().dense(),
                               rtol=1e-4, atol=1e-5)


def test_load_dvbpr_refuses_missing_or_mismatched_files(tiny_catalog, tmp_path):
    with pytest.raises(FileNotFoundError, match="model.keras"):
        load_dvbpr(tmp_path)
    train_dvbpr(tiny_catalog, variant="cnn", epochs=1, out_dir=tmp_path / "a", **SMALL)
    meta = json.loads((tmp_path / "a" / "meta.json").read_text())
    meta["fingerprint"] = "0" * 16
    (tmp_path / "a" / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="does not match"):
        load_dvbpr(tmp_path / "a")


def test_resume_continues_like_an_uninterrupted_run(tiny_catalog, tmp_path):
    straight = train_dvbpr(tiny_catalog, variant="cnn", epochs=3, out_dir=tmp_path / "straight", **SMALL)
    train_dvbpr(tiny_catalog, variant="cnn", epochs=1, out_dir=tmp_path / "resumed", **SMALL)
    state = json.loads((tmp_path / "resumed" / "checkpoint" / "state.json").read_text())
    assert len(state["history"]["val_auc"]) == 1
    resumed = train_dvbpr(tiny_catalog, variant="cnn", epochs=3, out_dir=tmp_path / "resumed", resume=True, **SMALL)
    assert len(resumed.history["val_auc"]) == 3
    np.testing.assert_allclose(resumed.history["loss"], straight.history["loss"], rtol=1e-4)
    np.testing.assert_allclose(user_vectors(resumed.model), user_vectors(straight.model), rtol=1e-3, atol=1e-5)
    with pytest.raises(ValueError, match="other settings"):
        train_dvbpr(tiny_catalog, variant="cnn", epochs=3, out_dir=tmp_path / "resumed", resume=True,
                    **{**SMALL, "latent_dim": 5})


def test_catalog_step_computes_the_siamese_loss(tiny_catalog):
    import tensorflow as tf

    from fashionsim.recommend import models as M
    from fashionsim.recommend.steps import catalog_step as _catalog_step

    inter = interactions_from_catalog(tiny_catalog)
    pictures = load_item_images(tiny_catalog, inter.item_ids, 16)
    keras.utils.set_random_seed(0)
    tower = M.build_cnn_encoder(16, 4, widths=(4, 8), batch_norm=False, dense_units=0, lambda_cnn=1e-2,
                                lambda_fc=1e-2)
    model = M.compile_bpr(M.build_dvbpr(tower, inter.n_users, lambda_u=0.1))
    u, i, j = np.array([0, 1, 3, 2]), np.array([0, 1, 2, 3]), np.array([5, 4, 0, 1])
    x = np.asarray(model((u, pictures[i], pictures[j]), training=False))
    theta = user_vectors(model)[u]
    expected = np.mean(np.logaddexp(0, -x)) + 0.1 * np.mean(np.sum(theta ** 2, 1)) + float(sum(tower.losses))
    step = _catalog_step(model, tower, pictures)
    loss, accuracy = step(tf.constant(u, tf.int32), tf.constant(i, tf.int32), tf.constant(j, tf.int32))
    assert float(loss) == pytest.approx(expected, rel=1e-4)
    assert float(accuracy) == pytest.approx(np.mean(x > 0))


def test_cold_start_scores_a_new_item_from_its_picture(tiny_catalog, tmp_path):
    from fashionsim import images

    result = train_dvbpr(tiny_catalog, variant="cnn", epochs=1, **SMALL)
    path = tiny_catalog.image_path("p4_1")  # any picture, as if of a brand-new product
    picture = images.load_image(path, 16)
    scores = score_new_item(result.model, picture)
    assert scores.shape == (result.interactions.n_users,)
    f = embed_array(item_tower(result.model), picture[None])[0]
    np.testing.assert_allclose(scores, user_vectors(result.model) @ f, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(score_new_item(result.model, path), scores, rtol=1e-6)
    users, best = users_for_new_item(result.model, picture, n=3)
    assert len(users) == 3 and (np.diff(best) <= 0).all()
    np.testing.assert_array_equal(users, np.argsort(-scores, kind="stable")[:3])
    # an existing item's picture scores exactly like that item in the catalog-wide score matrix
    own = score_new_item(result.model, load_item_images(tiny_catalog, ["p2"], 16)[0])
    np.testing.assert_allclose(own, result.scores().dense()[:, 2], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="image must be"):
        score_new_item(result.model, np.zeros((8, 8, 3), np.float32))


def test_frozen_encoder_variants(tiny_catalog, tmp_path):
    ae = train_dvbpr(tiny_catalog, variant="autoencoder", epochs=1, ae_epochs=1, code_dim=8,
                     out_dir=tmp_path / "ae", **SMALL)
    assert len(ae.history["autoencoder_loss"]) == 1
    loaded = load_dvbpr(tmp_path / "ae")
    np.testing.assert_allclose(loaded.scores().dense(), ae.scores().dense(), rtol=1e-4, atol=1e-5)
    resumed = train_dvbpr(tiny_catalog, variant="autoencoder", epochs=2, ae_epochs=1, code_dim=8,
                          out_dir=tmp_path / "ae", resume=True, **SMALL)
    assert len(resumed.history["val_auc"]) == 2
    pre = train_dvbpr(tiny_catalog, variant="pretrained", backbone="mobilenet_v2", weights=None, epochs=1,
                      **{**SMALL, "image_size": 32})
    assert pre.item_vectors.shape == (6, 4)
    assert not pre.model.get_layer("item_tower").get_layer("mobilenet_v2_backbone").trainable


def test_pairs_item_pass_trains_the_siamese_model(tiny_catalog, tmp_path):
    result = train_dvbpr(tiny_catalog, variant="cnn", epochs=2, item_pass="pairs", out_dir=tmp_path / "pairs",
                         **SMALL)
    assert len(result.history["loss"]) == 2 and np.isfinite(result.history["loss"]).all()
    assert load_dvbpr(tmp_path / "pairs").meta["config"]["item_pass"] == "pairs"
    # pictures streamed from the files: the item vectors equal those of the decoded-once pictures
    pictures = load_item_images(tiny_catalog, result.interactions.item_ids, 16)
    np.testing.assert_allclose(result.item_vectors, embed_array(item_tower(result.model), pictures),
                               rtol=1e-4, atol=1e-5)
    ae = train_dvbpr(tiny_catalog, variant="autoencoder", epochs=1, ae_epochs=1, code_dim=8, item_pass="pairs",
                     **SMALL)
    assert len(ae.history["autoencoder_loss"]) == 1 and np.isfinite(ae.history["loss"]).all()


def test_train_bpr_mf_and_bad_arguments(tiny_catalog):
    inter = interactions_from_catalog(tiny_catalog)
    mf = train_bpr_mf(inter, latent_dim=3, epochs=2, batch_size=4, progress=False)
    assert mf.scores().shape == (4, 6) and mf.item_bias is not None and len(mf.history["val_auc"]) == 2
    with pytest.raises(ValueError, match="variant"):
        train_dvbpr(tiny_catalog, variant="vgg")
    with pytest.raises(ValueError, match="out_dir"):
        train_dvbpr(tiny_catalog, resume=True)
    with pytest.raises(ValueError, match="item_images"):
        train_dvbpr(tiny_catalog, item_images=np.zeros((6, 8, 8, 3), np.float32), **SMALL)
    frame = pd.DataFrame({"user_id": ["u"], "product_id": ["p0"], "split": ["train"]})
    empty = Catalog(tiny_catalog.products, tiny_catalog.images, frame.iloc[:0], root=tiny_catalog.root)
    with pytest.raises(ValueError, match="no interactions"):
        train_dvbpr(empty, **SMALL)


def test_evaluate_split_and_id_check(tiny_catalog, tmp_path):
    from fashionsim.recommend import evaluate_split

    result = train_dvbpr(tiny_catalog, variant="cnn", epochs=1, out_dir=tmp_path / "e", **SMALL)
    report = evaluate_split(result.scores(), result.interactions, "test", ks=(1, 3), n_candidates=2)
    assert report["users"] == 4 and 0 <= report["auc"] <= 1
    assert set(report) >= {"recall@1", "ndcg@3", "sampled_1/auc", "sampled_2/auc", "sampled_2/recall@3"}
    with pytest.raises(ValueError, match="split"):
        evaluate_split(result.scores(), result.interactions, "train")
    loaded = load_dvbpr(tmp_path / "e").check_ids(result.interactions)
    other = interactions_from_catalog(tiny_catalog.subset(["p0", "p1", "p2", "p3", "p4"]))
    with pytest.raises(ValueError, match="other users or items"):
        loaded.check_ids(other)
