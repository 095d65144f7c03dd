"""VAL/FAR, the best threshold under a FAR bound, pair ROC, medoids and the matching test."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from fashionsim.metrics import verification as v


def test_pair_distances_all_pairs_by_hand():
    x = np.array([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])
    d, same = v.pair_distances(x, ["a", "b", "a"])
    np.testing.assert_allclose(d, [5.0, 1.0, np.sqrt(9 + 9)])
    np.testing.assert_array_equal(same, [False, True, False])


def test_pair_distances_sampled_are_real_pairs():
    rng = np.random.default_rng(0)
    x, labels = rng.normal(size=(50, 3)), rng.integers(0, 5, 50)
    d, same = v.pair_distances(x, labels, max_pairs=100, random_state=1)
    assert d.shape == (100,) and (d > 0).all()
    d2, _ = v.pair_distances(x, labels, max_pairs=100, random_state=1)
    np.testing.assert_array_equal(d, d2)


def test_val_far_by_hand():
    d = np.array([0.1, 0.2, 0.5, 0.3, 0.6, 0.9])
    same = np.array([True, True, True, False, False, False])
    val, far = v.val_far(d, same, [0.0, 0.25, 0.5, 1.0])
    np.testing.assert_allclose(val, [0, 2 / 3, 1, 1])
    np.testing.assert_allclose(far, [0, 0, 1 / 3, 1])


def test_best_threshold_respects_bound_and_maximises_val():
    rng = np.random.default_rng(0)
    d = np.concatenate([rng.normal(0.5, 0.2, 300), rng.normal(1.2, 0.2, 700)])
    same = np.arange(1000) < 300
    best = v.best_threshold(d, same, far_bound=0.2)
    assert best["far"] <= 0.2
    grid = np.linspace(0, 2, 2001)
    val, far = v.val_far(d, same, grid)
    assert best["val"] >= val[far <= 0.2].max() - 1e-12
    assert best["val"] == pytest.approx((d[same] <= best["threshold"]).mean())
    with pytest.raises(ValueError, match="far_bound"):
        v.best_threshold(d, same, far_bound=1.5)


def test_pair_roc_auc_matches_sklearn():
    rng = np.random.default_rng(1)
    d = rng.random(200)
    same = rng.random(200) < 0.4
    roc = v.pair_roc(d, same)
    assert roc["auc"] == pytest.approx(roc_auc_score(same, -d))
    assert roc["far"][0] == 0 and roc["val"][-1] == 1


def test_product_medoids_by_hand():
    x = np.array([[0.0], [1.0], [10.0], [5.0], [5.5], [100.0]])
    labels = ["a", "a", "a", "b", "b", "c"]
    uniq, rows = v.product_medoids(x, labels, chunk=2)
    assert list(uniq) == ["a", "b", "c"]
    assert list(rows) == [1, 3, 5]   # a: 1 is closest to 0 and 10 in sum; b: tie -> first; c: alone


def test_matching_test_by_hand():
    gallery = np.array([[0.0, 0.0], [0.0, 0.2], [5.0, 5.0], [5.0, 5.2], [9.0, 0.0]])
    g_labels = ["p", "p", "q", "q", "r"]
    queries = np.array([[0.0, 0.1], [5.0, 4.0], [20.0, 20.0]])
    result = v.matching_test(queries, ["p", "q", "r"], gallery, g_labels, threshold=1.5, k=2)
    assert result.products[0, 0] == "p" and result.correct[0, 0]
    assert result.products[1, 0] == "q" and result.correct[1, 0]    # distance 1.0 to q's medoid
    assert result.products[2, 0] is None and not result.correct[2].any()
    assert result.representatives == {"p": 0, "q": 2, "r": 4}
    s = result.summary()
    assert s["accuracy@1"] == pytest.approx(2 / 3) and s["no_match"] == pytest.approx(1 / 3)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="labels"):
        v.pair_distances(np.zeros((3, 2)), [1, 2])
    with pytest.raises(ValueError, match="NaN"):
        v.pair_distances(np.array([[np.nan, 0.0], [0.0, 0.0]]), [1, 2])
    with pytest.raises(ValueError, match="both"):
        v.val_far(np.array([0.1, 0.2]), np.array([True, True]), [0.5])
    with pytest.raises(ValueError, match="dimensions"):
        v.matching_test(np.zeros((1, 2)), ["a"], np.zeros((2, 3)), ["a", "b"], threshold=1.0)


def test_cross_pair_distances_by_hand():
    d, same = v.cross_pair_distances(np.array([[0.0, 0.0]]), ["a"], np.array([[3.0, 4.0], [0.0, 1.0]]), ["b", "a"])
    np.testing.assert_allclose(d, [5.0, 1.0])
    np.testing.assert_array_equal(same, [False, True])
