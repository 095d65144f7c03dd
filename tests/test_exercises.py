"""The notebooks' exercises cannot rot: every solution in notebooks/solutions/ runs at a small size and
shows the expected outcome its notebook states."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SOLUTIONS = Path(__file__).resolve().parent.parent / "notebooks" / "solutions"


def _solutions(name: str):
    spec = importlib.util.spec_from_file_location(f"solutions_{name}", SOLUTIONS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------------------------------- notebook 01
def test_01_tuned_threshold_beats_half():
    """Sigmoids that stay under 0.5 (a briefly trained network): 0.5 predicts little, the tuned threshold more."""
    ex = _solutions("exercises_01")
    rng = np.random.default_rng(0)

    def split(n):
        y = (rng.random((n, 12)) < 0.2).astype(int)
        p = np.where(y == 1, rng.uniform(0.15, 0.55, y.shape), rng.uniform(0.0, 0.3, y.shape))
        return y, p

    (y_val, p_val), (y_test, p_test) = split(200), split(200)
    table = ex.decoding_comparison(y_val, p_val, y_test, p_test, [f"t{k}" for k in range(12)])
    half, tuned, top = table.index
    assert float(tuned.split()[-1]) < 0.5
    assert table.loc[tuned, "micro F1"] > table.loc[half, "micro F1"]
    assert table.loc[half, "tags per photo"] < table.loc[tuned, "tags per photo"]
    assert table.loc[top, "tags per photo"] == 3


def test_01_pipeline_beats_plain_reading_on_the_gold_set():
    ex = _solutions("exercises_01")
    table = ex.plain_vs_pipeline()
    plain, ours = table.loc["plain NN*/JJ*"], table.loc["pipeline"]
    assert 0.35 < plain["labels right"] < 0.65 and ours["labels right"] > 0.9, table
    assert plain["titles with a brand word returned"] > 0.5, table
    assert ours["titles with a brand word returned"] == 0, table


# ------------------------------------------------------------------------------------------- notebook 04
def test_04_sampled_auc_noise_shrinks_without_bias():
    ex = _solutions("exercises_04")
    rng = np.random.default_rng(0)
    n_users, n_items = 300, 200
    scores = rng.normal(size=(n_users, n_items))
    positives = rng.integers(0, n_items, n_users)
    scores[np.arange(n_users), positives] += 0.8            # the held-out item tends to score higher
    exclude = [[(p + 1) % n_items] for p in positives]      # one training item per user
    table = ex.sampled_auc_spread(scores, positives, exclude, n_negatives=(1, 10, 100), seeds=range(20))
    assert table["std"].is_monotonic_decreasing, table
    assert table.loc[100, "std"] < table.loc[1, "std"] / 4, table     # ~ 1/sqrt(n): 10x fewer would be 1/10
    assert (table["|mean − full|"] < 0.02).all() and table.loc[100, "|mean − full|"] < 0.005, table


def test_04_summed_loss_grows_with_the_batch_mean_does_not():
    ex = _solutions("exercises_04")
    rng = np.random.default_rng(1)
    theta, f_i, f_j = (rng.normal(size=(32, 8)) for _ in range(3))
    ratios = ex.theta_gradients(theta, f_i, f_j, repeat=4)
    assert ratios["sum"] == pytest.approx(4.0)
    assert ratios["mean"] == pytest.approx(1.0)
    assert ratios["l2"] == pytest.approx(1.0)


def test_04_a_distance_cannot_rank():
    ex = _solutions("exercises_04")
    rng = np.random.default_rng(2)
    theta, f_j = rng.normal(size=(500, 8)), rng.normal(size=(500, 8))
    f_i = f_j + 0.5 * theta + 0.1 * rng.normal(size=(500, 8))    # i is what the user likes
    assert ex.ordered_accuracy(theta, f_i, f_j, absolute=True) == pytest.approx(0.5)
    assert ex.ordered_accuracy(theta, f_i, f_j, absolute=False) > 0.95


# ------------------------------------------------------------------------------------------- notebook 05
def _street_shop(noise: float, n_products: int = 40, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_products, 16))
    products = np.repeat(np.arange(n_products), 2)
    street = centres[products] + noise * rng.normal(size=(len(products), 16))
    shop = centres[products] + 0.3 * noise * rng.normal(size=(len(products), 16))
    return street, products, shop, products


def _pairs(noise: float):
    from fashionsim.evaluation import l2_normalize
    from fashionsim.metrics.verification import cross_pair_distances

    q, qp, g, gp = _street_shop(noise)
    d, same = cross_pair_distances(l2_normalize(q), qp, l2_normalize(g), gp)
    return {"distances": d, "same": same}


def test_05_tighter_far_bounds_cost_val():
    ex = _solutions("exercises_05")
    table = ex.val_at_far_bounds({"trained": _pairs(0.4), "untrained": _pairs(1.5)}, bounds=(0.2, 1e-2, 1e-3))
    for name in ("trained", "untrained"):
        rows = table.loc[name]
        assert rows["threshold"].is_monotonic_decreasing and rows["VAL"].is_monotonic_decreasing, rows
        assert (rows["FAR"] <= rows.index.to_numpy()).all(), rows
    assert (table.loc["trained", "VAL"].to_numpy() > table.loc["untrained", "VAL"].to_numpy()).all(), table


def test_05_larger_matching_threshold_only_adds_matches():
    ex = _solutions("exercises_05")
    q, qp, g, gp = _street_shop(0.8)
    table = ex.matching_by_threshold(q, qp, g, gp, [0.3, 0.5, 0.8])
    assert table["no_match"].is_monotonic_decreasing and table["accuracy@5"].is_monotonic_increasing, table
    assert table["no_match"].iloc[0] > table["no_match"].iloc[-1], table


# ------------------------------------------------------------------------------------------- notebook 02
def test_02_no_in_class_negatives(tiny_catalog):
    ex = _solutions("exercises_02")
    none = ex.kind_shares(tiny_catalog, 2000, p_in_class=0.0)
    half = ex.kind_shares(tiny_catalog, 2000, p_in_class=0.5)
    in_class = [k for k in none.index if k.endswith("/in_class")]
    assert none[in_class].sum() == 0
    assert abs(half[in_class].sum() - 0.5) < 0.05


def test_02_street_queries_shop_targets(tiny_catalog):
    table = _solutions("exercises_02").street_to_shop_sources(tiny_catalog, 500)
    assert table.loc["street", "query"] == 1.0
    assert table.loc["shop", "positive"] == 1.0 and table.loc["shop", "negative"] == 1.0


def test_02_one_photo_a_product_falls_back_to_same_colour(tmp_path):
    import pandas as pd

    from conftest import write_image
    from fashionsim.data import Catalog

    products, images = [], []
    for n in range(12):   # 3 categories × 2 colours × 2 products, two shop photos each
        pid, color = f"p{n}", ("red", "blue")[n % 2]
        products.append(dict(product_id=pid, category=("dress", "shirt", "shoe")[n // 4], color=color,
                             gender="women", description="", split="train"))
        for k in range(2):
            write_image(tmp_path / f"{pid}_{k}.png", (200, 30, 30) if color == "red" else (30, 30, 200))
            images.append(dict(image_id=f"{pid}_{k}", product_id=pid, path=f"{pid}_{k}.png", source="shop"))
    cat = Catalog(pd.DataFrame(products), pd.DataFrame(images), root=tmp_path)
    shares = _solutions("exercises_02").one_photo_fallbacks(cat, 4000)
    assert abs(shares["same_product->same_color"] - 0.9) < 0.03   # every same-product draw, 90% of the triplets


# ------------------------------------------------------------------------------------------- notebook 03
def test_03_hardest_negatives_are_hard():
    from fashionsim.mining import semihard_negatives

    ex = _solutions("exercises_03")
    rng = np.random.default_rng(0)
    a, p = rng.normal(size=(60, 8)), rng.normal(size=(60, 8))
    labels = rng.integers(0, 12, 60)
    hardest, hard_margins = ex.hardest_negatives(a, p, labels)
    _, semi_margins = semihard_negatives(a, p, labels, return_margins=True)
    assert (labels[hardest] != labels).all()
    assert (hard_margins <= semi_margins + 1e-9).all()               # never easier than semi-hard
    assert (hard_margins <= 0).mean() > (semi_margins <= 0).mean()   # far more of them are "hard" (≤ 0)


def test_03_more_trees_better_recall():
    vectors = np.random.default_rng(1).normal(size=(3000, 16)).astype(np.float32)
    recall = _solutions("exercises_03").annoy_recall_by_trees(vectors, trees=(1, 50))
    assert recall[1] < recall[50] and recall[50] >= 0.9
