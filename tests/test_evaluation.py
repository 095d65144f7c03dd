"""Side-by-side evaluation of representations on the street-to-shop task."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from fashionsim import evaluation, plots  # noqa: E402


def _vectors(cat, noise: float, seed: int = 0):
    """One direction per product plus noise: noise 0 is a perfect representation."""
    rng = np.random.default_rng(seed)
    codes = cat.images["product_id"].factorize()[0]
    vectors = np.eye(len(cat.products))[codes] + noise * rng.normal(size=(len(codes), len(cat.products)))
    return vectors, cat.images["image_id"].to_numpy()


def test_perfect_representation_scores_perfectly(tiny_catalog):
    vectors, ids = _vectors(tiny_catalog, noise=0.0)
    r = evaluation.evaluate_representation(vectors, ids, tiny_catalog, split=None, ks=(1, 3))
    assert r["retrieval"]["recall"] == {1: 1.0, 3: 1.0}
    assert r["verification"]["val"] == 1.0 and r["verification"]["far"] == 0.0
    assert r["verification"]["pair_auc"] == 1.0
    assert r["matching"]["accuracy@1"] == 1.0
    assert set(r["medoid_images"]) == set(tiny_catalog.products["product_id"])


def test_noise_lowers_scores_and_table_has_one_row_per_representation(tiny_catalog):
    reports = {name: evaluation.evaluate_representation(*_vectors(tiny_catalog, noise), tiny_catalog, split=None,
                                                        ks=(1, 3))
               for name, noise in (("clean", 0.0), ("noisy", 3.0))}
    table = evaluation.summary_table(reports, ks=(1, 3))
    assert list(table.index) == ["clean", "noisy"]
    assert table.loc["clean", "pair AUC"] > table.loc["noisy", "pair AUC"]
    assert (table.filter(like="FAR").to_numpy() <= 0.2).all()
    worst = evaluation.worst_queries(reports["noisy"], n=3)
    assert len(worst) == 3 and worst["first_correct_rank"].is_monotonic_decreasing


def test_figures(tiny_catalog):
    vectors, ids = _vectors(tiny_catalog, noise=0.5)
    report = evaluation.evaluate_representation(vectors, ids, tiny_catalog, split=None, ks=(1, 3))
    ax = plots.recall_curves({"a": report})
    assert len(ax.lines) == 2  # the representation and chance
    ax = plots.val_far(report)
    assert len(ax.lines) == 4
    table = tiny_catalog.image_table()
    ax = plots.projection(vectors, table["category"], sources=table["source"])
    assert len(ax.collections) == 6   # 3 categories × (shop dots, street crosses)


def test_missing_vectors_are_named(tiny_catalog):
    vectors, ids = _vectors(tiny_catalog, noise=0.0)
    with pytest.raises(ValueError):
        evaluation.evaluate_representation(vectors[:-1], ids[:-1], tiny_catalog, split=None, ks=(1,))
