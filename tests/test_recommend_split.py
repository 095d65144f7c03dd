"""leave_last_out, training without validation, validation every N epochs, the NumPy BPR-MF."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from fashionsim.recommend import interactions_from_frame, leave_last_out


def test_leave_last_out_by_time_and_by_row_order():
    log = pd.DataFrame({"user_id": ["a"] * 4 + ["b"] * 2 + ["c"],
                        "product_id": ["p1", "p2", "p3", "p4", "p1", "p2", "p3"],
                        "t": [4, 1, 3, 2, 7, 9, 1]})
    split = leave_last_out(log, time="t")
    assert split["split"].tolist() == ["test", "train", "val", "train", "train", "test", "train"]
    assert split.attrs["leave_last_out"] == {"users": 3, "train": 4, "val": 1, "test": 2, "users_without_test": 1}
    assert list(split.columns) == ["user_id", "product_id", "t", "split"] and "split" not in log.columns
    by_rows = leave_last_out(log)  # a later row is a later interaction
    assert by_rows["split"].tolist() == ["train", "train", "val", "test", "train", "test", "train"]
    two = leave_last_out(log, time="t", n_test=2, n_val=0)
    assert two["split"].tolist() == ["test", "train", "test", "train", "train", "test", "train"]
    assert (two["split"] != "val").all()


def test_leave_last_out_ties_dates_and_errors():
    log = pd.DataFrame({"user_id": [1, 1, 1], "product_id": [1, 2, 3],
                        "when": pd.to_datetime(["2024-01-02", "2024-01-02", "2024-01-01"])})
    assert leave_last_out(log, time="when")["split"].tolist() == ["val", "test", "train"]  # ties: row order
    with pytest.raises(ValueError, match="n_val"):
        leave_last_out(log, n_val=-1)
    with pytest.raises(ValueError, match="missing column"):
        leave_last_out(log, time="date")
    with pytest.raises(ValueError, match="missing at row"):
        leave_last_out(log.assign(when=[pd.NaT, log["when"][1], log["when"][2]]), time="when")


def test_leave_last_out_is_vectorised_at_scale():
    rng = np.random.default_rng(0)
    n = 200_000
    log = pd.DataFrame({"user_id": rng.integers(0, 20_000, n), "product_id": rng.integers(0, 5_000, n),
                        "t": rng.random(n)})
    split = leave_last_out(log, time="t")
    latest = log.assign(split=split["split"]).sort_values("t").groupby("user_id").tail(1)
    many = latest["user_id"].map(log["user_id"].value_counts()) > 1
    assert (latest.loc[many, "split"] == "test").all() and (latest.loc[~many, "split"] == "train").all()


def _log(n_users=40, n_items=30, per_user=8, seed=0):
    rng = np.random.default_rng(seed)
    rows = [(u, int(i)) for u in range(n_users) for i in rng.choice(n_items, per_user, replace=False)]
    return pd.DataFrame(rows, columns=["user_id", "product_id"])


def test_bpr_mf_trains_without_validation_and_says_so(caplog):
    from fashionsim.recommend import train_bpr_mf

    inter = interactions_from_frame(leave_last_out(_log(), n_val=0), item_ids=range(30))
    assert inter.val.nnz == 0
    with caplog.at_level(logging.INFO, logger="fashionsim.recommend.training"):
        mf = train_bpr_mf(inter, latent_dim=4, epochs=3, batch_size=64, progress=False)
    assert mf.selection == "last_epoch" and mf.best_epoch == 2
    assert np.isnan(mf.history["val_auc"]).all() and len(mf.history["loss"]) == 3
    assert "no validation interactions" in caplog.text and "epoch 3/3" in caplog.text
    np.testing.assert_allclose(mf.scores().dense(), mf.scores().dense())
    assert mf.scores().shape == (40, 30) and np.isfinite(mf.scores().dense()).all()


def test_bpr_mf_validates_every_n_epochs_and_learns():
    from fashionsim.recommend import evaluate_split, train_bpr_mf

    inter = interactions_from_frame(leave_last_out(_log(per_user=10)), item_ids=range(30))
    mf = train_bpr_mf(inter, latent_dim=4, epochs=5, batch_size=64, eval_every=2, progress=False)
    measured = ~np.isnan(mf.history["val_auc"])
    assert measured.tolist() == [False, True, False, True, True]  # every 2nd epoch and the last
    assert mf.selection == "best_val_auc" and mf.best_epoch in (1, 3, 4)
    assert len(mf.history["loss"]) == 5 and mf.history["loss"][-1] < mf.history["loss"][0]
    # the Keras model holds the returned weights
    from fashionsim.recommend import model_scores

    np.testing.assert_allclose(model_scores(mf.model).dense(), mf.scores().dense(), rtol=1e-5, atol=1e-6)
    assert 0.0 <= evaluate_split(mf.scores(), inter, "test", n_candidates=None)["auc"] <= 1.0
    with pytest.raises(ValueError, match="eval_every"):
        train_bpr_mf(inter, epochs=1, eval_every=0, progress=False)


def test_numpy_bpr_step_matches_the_keras_gradient():
    """One hand-written step equals one Keras Adam step on the Keras BPR-MF model (same loss, same update)."""
    keras = pytest.importorskip("keras")
    from fashionsim.recommend import mf as MF
    from fashionsim.recommend.models import BPRLoss, build_bpr_mf
    from fashionsim.recommend.training import _keras_bpr_mf

    rng = np.random.default_rng(0)
    params = MF.init_params(5, 7, 3, rng, stddev=0.5)
    params.bias[:] = rng.normal(size=7).astype(np.float32)
    u, i, j = rng.integers(0, 5, 6), rng.integers(0, 7, 6), rng.integers(0, 7, 6)
    model = _keras_bpr_mf(params, lambda_u=0.1, lambda_i=0.05)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=BPRLoss())
    keras_loss = model.train_on_batch([u, i, j], np.zeros(6, np.float32))
    loss, _ = MF.step(params, MF.Adam(0.01), u, i, j, lambda_u=0.1, lambda_i=0.05)
    assert loss == pytest.approx(float(keras_loss), rel=1e-4)
    np.testing.assert_allclose(params.user, model.get_layer("user_embedding").embeddings.numpy(), atol=1e-6)
    np.testing.assert_allclose(params.item, model.get_layer("item_embedding").embeddings.numpy(), atol=1e-6)
    np.testing.assert_allclose(params.bias, model.get_layer("item_bias").embeddings.numpy()[:, 0], atol=1e-6)
    assert build_bpr_mf  # the Keras model the NumPy trainer mirrors


def test_dvbpr_streamed_epoch_without_validation_logs_and_saves_without_decoding(tiny_catalog, tmp_path, caplog,
                                                                                 monkeypatch):
    pytest.importorskip("keras")
    from fashionsim import images
    from fashionsim.data import Catalog
    from fashionsim.recommend import load_dvbpr, train_dvbpr

    frame = tiny_catalog.interactions.assign(split=lambda f: f["split"].replace({"val": "train"}))
    cat = Catalog(tiny_catalog.products, tiny_catalog.images, frame, root=tiny_catalog.root)
    decoded = []
    real = images.dataset

    def counting(paths, *args, **kwargs):
        decoded.append(len(paths))
        return real(paths, *args, **kwargs)

    monkeypatch.setattr(images, "dataset", counting)
    small = dict(image_size=16, widths=(4, 8), latent_dim=4, batch_size=4, progress=False, seed=0)
    with caplog.at_level(logging.INFO, logger="fashionsim.recommend.training"):
        result = train_dvbpr(cat, variant="cnn", epochs=2, item_pass="pairs", out_dir=tmp_path / "run",
                             cache_dir=tmp_path / "cache", **small)
    assert decoded == [6]  # every item picture decoded once, for the whole run (not per triple, nor per epoch)
    assert result.selection == "last_epoch" and result.best_epoch == 1 and np.isnan(result.history["val_auc"]).all()
    assert "no validation interactions" in caplog.text
    assert caplog.text.count("epoch 1/2: loss") == 1 and caplog.text.count("epoch 2/2: loss") == 1
    loaded = load_dvbpr(tmp_path / "run")  # save_dvbpr reused the item vectors: no further decoding
    np.testing.assert_allclose(loaded.item_vectors, result.item_vectors)


def test_sgd_step_is_gradient_descent_on_the_same_loss():
    """The SGD path (L2 summed from occurrence counts) moves every table by −lr × the Adam path's gradient."""
    from fashionsim.recommend import mf as MF

    rng = np.random.default_rng(3)
    start = MF.init_params(6, 9, 3, rng, stddev=0.5)
    start.bias[:] = rng.normal(size=9).astype(np.float32)
    u, i, j = rng.integers(0, 6, 20), rng.integers(0, 9, 20), rng.integers(0, 9, 20)

    class Record(MF.Adam):  # keeps the gradient instead of applying it
        def apply(self, params, grads, squares=None):
            self.grads = [g.copy() for g in grads]

    record = Record(0.1)
    copy = MF.MFParams(start.user.copy(), start.item.copy(), start.bias.copy())
    loss_adam, _ = MF.step(copy, record, u, i, j, lambda_u=0.3, lambda_i=0.2)
    sgd = MF.MFParams(start.user.copy(), start.item.copy(), start.bias.copy())
    loss_sgd, _ = MF.step(sgd, MF.SGD(0.5), u, i, j, lambda_u=0.3, lambda_i=0.2)
    assert loss_sgd == pytest.approx(loss_adam, rel=1e-6)
    for before, after, grad in zip(start.arrays(), sgd.arrays(), record.grads):
        np.testing.assert_allclose(after, before - 0.5 * grad, rtol=1e-5, atol=1e-6)


def test_sgd_epoch_refills_its_step_matrix_exactly():
    """run_epoch's steps (one matrix per batch size, refilled in place, kept across epochs) equal fresh steps."""
    from fashionsim.recommend import mf as MF

    rng = np.random.default_rng(5)
    start = MF.init_params(7, 11, 3, rng, stddev=0.5)
    u, i, j = rng.integers(0, 7, 70), rng.integers(0, 11, 70), rng.integers(0, 11, 70)  # batches 32, 32, 6
    kept, fresh = (MF.MFParams(*(a.copy() for a in start.arrays())) for _ in range(2))
    optimizer = MF.SGD(2.0)
    for _ in range(2):
        MF.run_epoch(kept, optimizer, u, i, j, batch_size=32, lambda_u=0.1, lambda_i=0.05)
        for k in range(0, 70, 32):
            MF.step(fresh, MF.SGD(2.0), u[k:k + 32], i[k:k + 32], j[k:k + 32], lambda_u=0.1, lambda_i=0.05)
    assert optimizer.iterations == 6 and len(optimizer._work) == 2
    for a, b, s in zip(kept.arrays(), fresh.arrays(), start.arrays()):
        np.testing.assert_array_equal(a, b)
        assert not np.allclose(a, s)


def test_sgd_refuses_codes_outside_the_tables_and_keeps_the_tables():
    from fashionsim.recommend import mf as MF

    params = MF.init_params(4, 6, 2, np.random.default_rng(0))
    before = [a.copy() for a in params.arrays()]
    u, i, j = np.array([0, 3]), np.array([1, 2]), np.array([4, 5])
    with pytest.raises(IndexError, match=r"j holds codes up to 6, outside the table's \[0, 6\)"):
        MF.run_epoch(params, MF.SGD(1.0), u, i, np.array([4, 6]), batch_size=1, lambda_u=0.1, lambda_i=0.1)
    with pytest.raises(IndexError, match="u holds codes up to 4"):
        MF.step(params, MF.SGD(1.0), np.array([0, 4]), i, j, lambda_u=0.1, lambda_i=0.1)
    with pytest.raises(IndexError, match="must be >= 0"):
        MF.step(params, MF.SGD(1.0), u, np.array([1, -1]), j, lambda_u=0.1, lambda_i=0.1)
    for a, b in zip(params.arrays(), before):
        np.testing.assert_array_equal(a, b)


def test_bpr_mf_sgd_learns_and_rejects_unknown_optimizers():
    from fashionsim.recommend import train_bpr_mf

    inter = interactions_from_frame(leave_last_out(_log(per_user=10)), item_ids=range(30))
    mf = train_bpr_mf(inter, latent_dim=4, epochs=4, batch_size=64, optimizer="sgd", learning_rate=20.0,
                      progress=False)
    assert mf.history["loss"][-1] < mf.history["loss"][0]
    with pytest.raises(ValueError, match="optimizer"):
        train_bpr_mf(inter, epochs=1, optimizer="rmsprop", progress=False)
